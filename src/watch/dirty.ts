import { liesInAny, topmost } from '../tree/paths.js';
import type { LocalWrite, RelPath } from '../tree/types.js';

/**
 * Paths the watcher reported since the last pass, coalesced: a path inside one already pending
 * adds nothing (the pass rescans that whole subtree), and a folder's path replaces the pending
 * ones inside it when they are taken. A create followed by a delete, or a burst of writes, is
 * one entry. Each report costs a lookup per folder above it, never a look at every pending path.
 *
 * The paths coalesced that way are kept aside too (up to `insideKept`): should the folder's own
 * report turn out to be an echo of this daemon's write (a folder it moved into place), what was
 * reported inside it may still be a user's change.
 */
export class DirtySet {
  readonly #paths = new Set<RelPath>();
  /** Undefined once more than `insideKept` were reported. */
  #inside: Set<RelPath> | undefined = new Set();

  add(path: RelPath): void {
    if (liesInAny(path, this.#paths)) this.#keepInside(path);
    else this.#paths.add(path);
  }

  /** Pending paths, counting those a folder reported later will take in. */
  get size(): number {
    return this.#paths.size;
  }

  /** The pending paths, which are cleared, with the reported paths that lie inside them. */
  take(): DirtyPaths {
    const paths = topmost(this.#paths);
    if (paths.length < this.#paths.size) {
      const kept = new Set(paths);
      for (const path of this.#paths) if (!kept.has(path)) this.#keepInside(path);
    }
    const inside = this.#inside === undefined ? undefined : [...this.#inside].sort();
    this.#paths.clear();
    this.#inside = new Set();
    return { paths, inside };
  }

  /** Puts paths back after a pass that could not finish. */
  restore(paths: readonly RelPath[]): void {
    for (const path of paths) this.add(path);
  }

  #keepInside(path: RelPath): void {
    if (this.#inside !== undefined && this.#inside.add(path).size > insideKept) this.#inside = undefined;
  }
}

export interface DirtyPaths {
  /** The paths to look at, none inside another. */
  readonly paths: RelPath[];
  /** Reported paths inside those; undefined when there were too many to keep. */
  readonly inside: RelPath[] | undefined;
}

const insideKept = 10_000;

/**
 * Changes cloudreve-sync makes itself (a download landing, a local rename) must not come back
 * from the watcher as user changes. The executor announces each local write before it starts;
 * a reported path announced within `ttlMs` may be its echo, which the caller confirms by finding
 * the path as the pass recorded it (`userChanges`). Modification times cannot tell the two
 * apart: a file's time lags the clock by a few milliseconds, so a user's edit made right after
 * the write can carry a time from before it was announced.
 */
export class EchoFilter {
  /** When each path was announced, on the monotonic clock, which a wall clock set back does not move. */
  readonly #announced = new Map<RelPath, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly monotonicNow: () => number = () => performance.now(),
  ) {}

  announce({ path }: LocalWrite): void {
    this.#announced.set(path, this.monotonicNow());
  }

  /** The write announced did not happen (or not all of it): what is found there is not its echo. */
  withdraw({ path }: LocalWrite): void {
    this.#announced.delete(path);
  }

  /** Whether this daemon wrote `path` lately, so that a report of it may be the write's echo. */
  wrote(path: RelPath): boolean {
    const at = this.#announced.get(path);
    if (at === undefined) return false;
    if (this.monotonicNow() - at > this.ttlMs) {
      this.#announced.delete(path);
      return false;
    }
    return true;
  }

  /** Forgets old announcements, so the map does not grow over months. */
  prune(): void {
    const tick = this.monotonicNow();
    for (const [path, at] of this.#announced) if (tick - at > this.ttlMs) this.#announced.delete(path);
  }
}
