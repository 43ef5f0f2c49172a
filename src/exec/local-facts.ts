import type { BigIntStats } from 'node:fs';
import type { LocalFacts } from '../plan/types.js';

/** A local file or folder that is no longer what the plan saw; the action waits for the next run. */
export class LocalChangedError extends Error {
  override readonly name = 'LocalChangedError';
}

export function factsOf(stats: BigIntStats): LocalFacts {
  return { size: stats.isFile() ? Number(stats.size) : 0, mtimeMs: Number(stats.mtimeNs / 1_000_000n), inode: stats.ino.toString() };
}

export function sameFacts(a: LocalFacts | undefined, b: LocalFacts): boolean {
  return a !== undefined && a.size === b.size && a.mtimeMs === b.mtimeMs && a.inode === b.inode;
}
