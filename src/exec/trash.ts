import { constants } from 'node:fs';
import { copyFile, link, lstat, mkdir, readdir, readlink, rename, rm, rmdir, symlink, unlink, utimes } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { BigIntStats } from 'node:fs';
import { errnoCode } from '../scan/errors.js';
import { baseName, fitBytes, joinPath, maxNameBytes, parentOf } from '../tree/paths.js';
import type { RelPath } from '../tree/types.js';
import { LocalChangedError } from './local-facts.js';

/**
 * Where local files go when a sync deletes or overwrites them: one folder per day under the
 * state directory, kept for a number of days, so yesterday's file can always be taken back.
 */
export class LocalTrash {
  /** The put before the next one; see `put`. */
  #last: Promise<unknown> = Promise.resolve();

  constructor(
    readonly dir: string,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Moves `absolute` (a file or folder) into today's trash as `path`, never overwriting. One
   * put at a time: two choosing a free name at once could choose the same, and a rename
   * replaces what it lands on. `check` runs once it is this put's turn, right before the move:
   * the wait behind a slow put (a folder copied to another filesystem) must not leave room for
   * an edit to be trashed unseen.
   */
  put(absolute: string, path: RelPath, check?: () => Promise<void>): Promise<string> {
    return this.#inTurn(async () => {
      await check?.();
      return this.#put(absolute, path);
    });
  }

  /**
   * Keeps a copy of the file `absolute` in today's trash as `path`, leaving the file where it
   * is, so that a new version can then be renamed over it at once: moved away first, the file
   * would be missing for a moment, and a crash in that moment would leave a next run taking it
   * for deleted. The copy is a hard link where the trash is on the same filesystem (an edit made
   * in place until the rename is kept with it), else a copy with the file's times.
   */
  keep(absolute: string, path: RelPath): Promise<string> {
    return this.#inTurn(async () => {
      const target = await this.#freeTarget(await this.#day(), path);
      try {
        await link(absolute, target);
      } catch (error) {
        if (!linkRefused.has(errnoCode(error) ?? '')) throw error;
        try {
          await copyWithTimes(absolute, target, await lstat(absolute));
        } catch (copyError) {
          // A partial copy (a full disk) is no version of anything.
          await rm(target, { force: true });
          throw copyError;
        }
      }
      return target;
    });
  }

  #inTurn<T>(task: () => Promise<T>): Promise<T> {
    const done = this.#last.then(task);
    this.#last = done.catch(() => undefined);
    return done;
  }

  /**
   * Today's folder by this machine's clock, or the newest day already there when the clock is
   * behind it (one that went back, or a NAS that boots in 1970 and asks the time later): a
   * version dated in the past would be purged by the first pass once the clock is right.
   */
  async #day(): Promise<string> {
    const today = new Date(this.now()).toISOString().slice(0, 10);
    return (await this.#days()).reduce((a, b) => (a > b ? a : b), today);
  }

  /** The day folders the trash holds. */
  async #days(): Promise<string[]> {
    try {
      return (await readdir(this.dir)).filter((name) => dayName.test(name));
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return [];
      throw error;
    }
  }

  async #put(absolute: string, path: RelPath): Promise<string> {
    const target = await this.#freeTarget(await this.#day(), path);
    try {
      await rename(absolute, target);
    } catch (error) {
      // The state directory may be on another filesystem (a Docker volume).
      if (errnoCode(error) !== 'EXDEV') throw error;
      const left: string[] = [];
      await moveAcross(absolute, target, left);
      if (left.length > 0) {
        throw new LocalChangedError(`${path} changed while it was moved to the trash (${left.length} entries stay where they are); it will be looked at again next run`);
      }
    }
    return target;
  }

  /**
   * `path` in the day's folder, or the first free numbered name: `notes (2)`. When a file
   * trashed earlier that day holds the name of one of its folders, the top folder is numbered
   * instead (`a (2)/b.txt` beside the file `a`).
   */
  async #freeTarget(day: string, path: RelPath): Promise<string> {
    const slash = path.indexOf('/');
    // A name near the 255-byte limit gives up its end for the number.
    const number = (name: string, n: number): string => `${fitBytes(name, maxNameBytes - Buffer.byteLength(` (${n})`))} (${n})`;
    let numbered = (n: number): RelPath => joinPath(parentOf(path), number(baseName(path), n));
    for (let n = 1; ; n++) {
      const target = join(this.dir, day, ...(n === 1 ? path : numbered(n)).split('/'));
      try {
        await mkdir(dirname(target), { recursive: true, mode: 0o700 });
      } catch (error) {
        const code = errnoCode(error);
        if (slash < 0 || (code !== 'EEXIST' && code !== 'ENOTDIR')) throw error;
        numbered = (m) => `${number(path.slice(0, slash), m)}${path.slice(slash)}`;
        continue;
      }
      if (!(await exists(target))) return target;
    }
  }

  /**
   * Removes the days older than `keepDays`. Says which it could not remove, and why: a day that
   * will not go (a path below it too long to name whole, say) is the trash's problem, not a
   * reason for the folder to stop syncing.
   */
  async purge(keepDays: number): Promise<{ readonly path: string; readonly error: unknown }[]> {
    const cutoff = new Date(this.now() - keepDays * 86_400_000).toISOString().slice(0, 10);
    let days: string[];
    try {
      days = await this.#days();
    } catch {
      return [];
    }
    const old = days.filter((day) => day < cutoff).map((day) => join(this.dir, day));
    const removed = await Promise.allSettled(old.map((path) => rm(path, { recursive: true, force: true })));
    return removed.flatMap((result, i) => (result.status === 'rejected' ? [{ path: old[i] ?? '', error: result.reason as unknown }] : []));
  }
}

const dayName = /^\d{4}-\d\d-\d\d$/;

/**
 * How a filesystem says no to a hard link into the trash: another filesystem (a Docker volume),
 * one without hard links (FAT, some network shares), a file with too many links already.
 */
const linkRefused = new Set(['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK', 'ENOSYS']);

/**
 * A move to another filesystem: each entry is copied, then removed only if it is still what was
 * copied. A copy-then-remove of the whole folder would destroy what was written into it while
 * it was being copied; such entries stay where they are, and their paths go to `left`.
 */
async function moveAcross(source: string, target: string, left: string[]): Promise<void> {
  const before = await lstat(source, { bigint: true });
  if (before.isDirectory()) {
    await mkdir(target, { mode: 0o700 });
    for (const name of await readdir(source)) await moveAcross(join(source, name), join(target, name), left);
    await utimes(target, before.atime, before.mtime);
    try {
      await rmdir(source);
    } catch (error) {
      if (errnoCode(error) !== 'ENOTEMPTY' && errnoCode(error) !== 'EEXIST') throw error;
      left.push(source);
    }
    return;
  }
  if (before.isSymbolicLink()) {
    await symlink(await readlink(source), target);
  } else if (before.isFile()) {
    await copyWithTimes(source, target, before);
  } else {
    // A socket or FIFO has nothing to copy; it stays.
    left.push(source);
    return;
  }
  if (unchanged(before, await lstat(source, { bigint: true }))) await unlink(source);
  else left.push(source);
}

/** A copy of the file `source`, never over an existing `target`, with the times `stats` gives. */
async function copyWithTimes(source: string, target: string, stats: { readonly atime: Date; readonly mtime: Date }): Promise<void> {
  await copyFile(source, target, constants.COPYFILE_EXCL);
  await utimes(target, stats.atime, stats.mtime);
}

function unchanged(a: BigIntStats, b: BigIntStats): boolean {
  return a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}
