import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, mkdir, open, rename, rm, utimes } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { LocalFacts } from '../plan/types.js';
import { errnoCode } from '../scan/errors.js';
import { factsOf } from '../scan/facts.js';
import { tempPrefix } from '../scan/ignore.js';
import { StatPace } from '../scan/stat-pace.js';
import type { RelPath } from '../tree/types.js';
import { crashPoint } from './crash.js';
import { LocalChangedError, sameFacts } from './local-facts.js';
import type { LocalTrash } from './trash.js';
import { openForUpload, type UploadSource } from './upload-source.js';

/**
 * Where temporary files are written down before they exist and crossed out once gone, so that a
 * run killed in between leaves nothing behind for good: the scanners skip such files, so only
 * this record leads the next run to them (see sweepTempFiles).
 */
export interface TempJournal {
  created(side: 'local' | 'remote', path: string): void;
  removed(side: 'local' | 'remote', path: string): void;
}

/** The local side of one synced folder. */
export class LocalTree {
  /** Set by the executor for the duration of a run. */
  journal: TempJournal | undefined;
  /** Reads start synchronous each run, as a scan does: the cache may have warmed since. */
  readonly #pace = new StatPace('adaptive');

  constructor(readonly root: string) {}

  abs(path: RelPath): string {
    return path === '' ? this.root : join(this.root, ...path.split('/'));
  }

  async facts(path: RelPath): Promise<LocalFacts | undefined> {
    try {
      return factsOf(await lstat(this.abs(path), { bigint: true }));
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return undefined;
      throw error;
    }
  }

  /** Whether `path` still has the facts the plan saw. */
  async unchanged(path: RelPath, expected: LocalFacts): Promise<boolean> {
    return sameFacts(await this.facts(path), expected);
  }

  /** Throws LocalChangedError unless `path` still has the facts the plan saw (or is absent when none). */
  async expect(path: RelPath, expected: LocalFacts | undefined): Promise<void> {
    if (expected === undefined ? (await this.facts(path)) !== undefined : !(await this.unchanged(path, expected))) {
      throw new LocalChangedError(`${path} changed since the scan; it will be looked at again next run`);
    }
  }

  /** The bytes of `path` to upload; throws LocalChangedError unless it still has the facts the plan saw. */
  readForUpload(path: RelPath, expected: LocalFacts): Promise<UploadSource> {
    return openForUpload(this.abs(path), expected, this.#pace, path);
  }

  async mkdir(path: RelPath): Promise<LocalFacts> {
    try {
      await mkdir(this.abs(path));
    } catch (error) {
      // The user made something of that name since the scan (a server walk takes local paths
      // whose changes are still settling as remembered): theirs to look at, not a failure.
      if (errnoCode(error) === 'EEXIST') throw new LocalChangedError(`${path} appeared since the scan; it will be looked at again next run`);
      throw error;
    }
    return (await this.facts(path)) ?? unreachable(path);
  }

  /**
   * Renames within the folder. The target must be free, except for a case-only rename on a
   * case-insensitive disk, where "the target" is the source itself.
   */
  async move(from: RelPath, to: RelPath): Promise<void> {
    const [source, target] = await Promise.all([this.facts(from), this.facts(to)]);
    if (!source) throw new LocalChangedError(`${from} is gone; it will be looked at again next run`);
    if (target && target.inode !== source.inode) throw new LocalChangedError(`${to} appeared since the scan; it will be looked at again next run`);
    await rename(this.abs(from), this.abs(to));
  }

  /**
   * Writes a file atomically: `write` fills a temporary file next to the target, which is
   * flushed to disk, given `mtimeMs`, and renamed over the target only if the target still is
   * what the plan saw (`expected`, or absent). What it replaces is kept in `trash` first.
   */
  async writeAtomically(
    path: RelPath,
    mtimeMs: number,
    expected: LocalFacts | undefined,
    write: (tempFile: string) => Promise<void>,
    trash: Pick<LocalTrash, 'keep'>,
  ): Promise<LocalFacts> {
    const target = this.abs(path);
    const temp = this.tempBeside(path);
    let written: LocalFacts;
    try {
      await write(temp);
      const handle = await open(temp, 'r+');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      const seconds = mtimeMs / 1000;
      await utimes(temp, seconds, seconds);
      // Read before the rename: an edit made right after it must not pass for what was written.
      written = factsOf(await lstat(temp, { bigint: true }));
      await this.expect(path, expected);
      crashPoint('download:before-rename');
      if (expected && (await sameContent(temp, target))) {
        // The same bytes (a file another device only renamed, fetched again to be sure): the
        // file stays, with the server's time, and no copy of it goes to the trash. Looked at
        // once more after the read: an edit made meanwhile must not be given the server's time.
        await this.expect(path, expected);
        await utimes(target, seconds, seconds);
        written = factsOf(await lstat(target, { bigint: true }));
        await rm(temp, { force: true });
      } else {
        const kept = expected ? await trash.keep(target, path) : undefined;
        if (kept !== undefined) crashPoint('download:kept');
        try {
          // Looked at again once the version is kept (the trash may have had others to take
          // first): an edit made meanwhile is the user's, not to be replaced unseen.
          if (kept !== undefined) await this.expect(path, expected);
          await rename(temp, target);
        } catch (error) {
          if (kept !== undefined) await rm(kept, { force: true });
          throw error;
        }
      }
    } catch (error) {
      await rm(temp, { force: true });
      this.journal?.removed('local', temp);
      throw error;
    }
    this.journal?.removed('local', temp);
    return written;
  }

  /** A path for a temporary file in the folder of `path`, written down in the journal. */
  tempBeside(path: RelPath): string {
    return this.#tempIn(dirname(this.abs(path)));
  }

  /**
   * A temporary file's path in `dir` (made if missing), outside the synced folder: for a folder
   * synced upload-only, which is never written (it may be read-only).
   */
  async tempOutside(dir: string): Promise<string> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return this.#tempIn(dir);
  }

  #tempIn(dir: string): string {
    const temp = join(dir, `${tempPrefix}${randomBytes(6).toString('hex')}.tmp`);
    this.journal?.created('local', temp);
    return temp;
  }
}

/** Whether two files hold the same bytes, reading both in step without loading either whole. */
export async function sameContent(a: string, b: string): Promise<boolean> {
  const [sa, sb] = await Promise.all([lstat(a), lstat(b)]);
  return sa.size === sb.size && sameBytes(a, b, sa.size);
}

/** Whether the file `whole` begins with the bytes of the file `start`. */
export async function beginsWith(whole: string, start: string): Promise<boolean> {
  const [sw, ss] = await Promise.all([lstat(whole), lstat(start)]);
  return ss.size <= sw.size && sameBytes(start, whole, ss.size);
}

/** Whether the first `length` bytes of two files agree. */
async function sameBytes(a: string, b: string, length: number): Promise<boolean> {
  if (length === 0) return true;
  const read = (path: string): AsyncIterator<Buffer> => createReadStream(path, { highWaterMark: 1 << 20, end: length - 1 })[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const left = read(a);
  const right = read(b);
  let l: Buffer = Buffer.alloc(0);
  let r: Buffer = Buffer.alloc(0);
  try {
    for (;;) {
      if (l.length === 0) {
        const next = await left.next();
        if (!next.done) l = next.value;
      }
      if (r.length === 0) {
        const next = await right.next();
        if (!next.done) r = next.value;
      }
      if (l.length === 0 || r.length === 0) return l.length === r.length;
      const n = Math.min(l.length, r.length);
      if (!l.subarray(0, n).equals(r.subarray(0, n))) return false;
      l = l.subarray(n);
      r = r.subarray(n);
    }
  } finally {
    await left.return?.();
    await right.return?.();
  }
}

function unreachable(path: string): never {
  throw new LocalChangedError(`${path} vanished right after it was written`);
}
