import { randomUUID } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { lstat, readdir, rm, stat, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode, isPermissionDenied } from './errors.js';
import { tempPrefix } from './ignore.js';

/**
 * Whether the filesystem holding the existing folder `dir` folds case, so that `A.txt` and
 * `a.txt` are one file. Asks the filesystem itself, since the answer differs per mount (APFS,
 * ext4 with casefold, SMB shares, USB sticks) rather than per operating system.
 *
 * A name already in the folder answers without writing: with its letters' case swapped it
 * names the same file, or none (or another one). Only a folder without such a name is asked
 * through a probe file, and only when `mayWrite` (an upload-only folder, perhaps a read-only
 * mount, and a dry run write nothing). Undefined when it could not be told.
 */
export async function detectCaseInsensitive(dir: string, mayWrite: boolean): Promise<boolean | undefined> {
  for (const name of await readdir(dir)) {
    const answer = await sameFileBothCases(dir, name);
    if (answer !== undefined) return answer;
  }
  if (!mayWrite) return undefined;
  // The prefix keeps the probe out of any scan that runs meanwhile.
  const name = `${tempPrefix}Case-Probe-${randomUUID()}.tmp`;
  const probe = join(dir, name);
  try {
    await writeFile(probe, '', { flag: 'wx' });
  } catch (error) {
    if (isPermissionDenied(error) || errnoCode(error) === 'EROFS') return undefined;
    throw error;
  }
  try {
    return await sameFileBothCases(dir, name);
  } finally {
    await rm(probe, { force: true });
  }
}

/** `rootFoldsCase`'s answers, by the folder a root led to (see there). */
const answers = new Map<string, Promise<boolean | undefined>>();

/**
 * `detectCaseInsensitive` for a synced folder's root, asked once per process for each folder a
 * root leads to: a filesystem never changes its mind, but a root path can come to lead to
 * another one (a disk mounted there in place of another, a link to it pointed elsewhere), which
 * is then asked anew. A folder is told by its filesystem's kind, device number, inode and birth
 * time: a disk mounted in place of another may get the same device number, and the root folder
 * of every disk of one kind the same inode, but a stick of another kind (FAT, exFAT) differs in
 * kind, and where the kernel keeps birth times (ext4, btrfs, XFS) two disks' root folders differ
 * in theirs. Two disks alike in all four are taken for one. An answer it could not give, or a
 * failure, is asked for again next time.
 */
export async function rootFoldsCase(root: string, mayWrite: boolean): Promise<boolean | undefined> {
  const [{ dev, ino, birthtimeNs }, { type }] = await Promise.all([stat(root, { bigint: true }), statfs(root)]);
  const key = `${type}:${dev}:${ino}:${birthtimeNs}`;
  const known = answers.get(key) ?? detectCaseInsensitive(root, mayWrite);
  answers.set(key, known);
  try {
    const folds = await known;
    if (folds === undefined) answers.delete(key);
    return folds;
  } catch (error) {
    answers.delete(key);
    throw error;
  }
}

/** Undefined for a name without ASCII letters, or one gone meanwhile. */
async function sameFileBothCases(dir: string, name: string): Promise<boolean | undefined> {
  const swapped = swapCase(name);
  if (swapped === name) return undefined;
  const original = await lstatIfExists(join(dir, name));
  if (original === undefined) return undefined;
  const other = await lstatIfExists(join(dir, swapped));
  return other !== undefined && other.ino === original.ino && other.dev === original.dev;
}

async function lstatIfExists(path: string): Promise<BigIntStats | undefined> {
  try {
    return await lstat(path, { bigint: true });
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/** ASCII letters only: folding beyond them differs between filesystems (`ß` and `SS`). */
function swapCase(text: string): string {
  return text.replace(/[a-z]+|[A-Z]+/g, (run) => (run === run.toLowerCase() ? run.toUpperCase() : run.toLowerCase()));
}
