import type { BigIntStats } from 'node:fs';
import type { LocalFacts } from '../plan/types.js';

/**
 * What the scan records of a local entry and the executor checks before touching it: one
 * conversion, so that both read the same size, whole milliseconds (truncated by the BigInt
 * division) and inode from the same stats.
 */
export function factsOf(stats: BigIntStats): LocalFacts {
  return { size: stats.isFile() ? Number(stats.size) : 0, mtimeMs: Number(stats.mtimeNs / 1_000_000n), inode: stats.ino.toString() };
}
