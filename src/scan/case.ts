import { randomUUID } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { lstat, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode } from './errors.js';
import { tempPrefix } from './ignore.js';

/**
 * Whether the filesystem holding the existing folder `dir` folds case, so that `A.txt` and
 * `a.txt` are one file. Asks the filesystem itself, since the answer differs per mount (APFS,
 * ext4 with casefold, SMB shares, USB sticks) rather than per operating system.
 */
export async function detectCaseInsensitive(dir: string): Promise<boolean> {
  // The prefix keeps the probe out of any scan that runs meanwhile.
  const name = `${tempPrefix}Case-Probe-${randomUUID()}.tmp`;
  const probe = join(dir, name);
  await writeFile(probe, '', { flag: 'wx' });
  try {
    const original = await lstat(probe, { bigint: true });
    const swapped = await lstatIfExists(join(dir, swapCase(name)));
    return swapped !== undefined && swapped.ino === original.ino && swapped.dev === original.dev;
  } finally {
    await rm(probe, { force: true });
  }
}

async function lstatIfExists(path: string): Promise<BigIntStats | undefined> {
  try {
    return await lstat(path, { bigint: true });
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

function swapCase(text: string): string {
  return Array.from(text, (char) => (char === char.toLowerCase() ? char.toUpperCase() : char.toLowerCase())).join('');
}
