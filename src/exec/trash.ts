import { cp, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { RelPath } from '../tree/types.js';

/**
 * Where local files go when a sync deletes or overwrites them: one folder per day under the
 * state directory, kept for a number of days, so yesterday's file can always be taken back.
 */
export class LocalTrash {
  constructor(
    readonly dir: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Moves `absolute` (a file or folder) into today's trash as `path`, never overwriting. */
  async put(absolute: string, path: RelPath): Promise<string> {
    const day = new Date(this.now()).toISOString().slice(0, 10);
    let target = join(this.dir, day, ...path.split('/'));
    await mkdir(join(target, '..'), { recursive: true, mode: 0o700 });
    for (let n = 2; await exists(target); n++) target = join(this.dir, day, ...`${path} (${n})`.split('/'));
    try {
      await rename(absolute, target);
    } catch (error) {
      // The state directory may be on another filesystem (a Docker volume): copy, then remove.
      if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
      await cp(absolute, target, { recursive: true, preserveTimestamps: true, errorOnExist: true, force: false });
      await rm(absolute, { recursive: true, force: true });
    }
    return target;
  }

  /** Removes the days older than `keepDays`. */
  async purge(keepDays: number): Promise<void> {
    const cutoff = new Date(this.now() - keepDays * 86_400_000).toISOString().slice(0, 10);
    let days: string[];
    try {
      days = await readdir(this.dir);
    } catch {
      return;
    }
    await Promise.all(days.filter((day) => /^\d{4}-\d\d-\d\d$/.test(day) && day < cutoff).map((day) => rm(join(this.dir, day), { recursive: true, force: true })));
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
