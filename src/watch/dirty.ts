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
 * from the watcher as user changes. The executor announces each local write before it starts,
 * with whether the path is left present or absent; a reported path announced within `ttlMs`
 * that is as the write left it (absent, or present with a modification time not later than the
 * announcement) is its echo. A user edit after that has a later mtime and still counts, and so
 * does a user's delete of what a download just brought.
 */
export class EchoFilter {
  /** `at` on the wall clock, to compare with modification times; `atTick` on the monotonic one, for the age. */
  readonly #announced = new Map<RelPath, { readonly at: number; readonly atTick: number; readonly leaves: LocalWrite['leaves'] }>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
    private readonly monotonicNow: () => number = () => performance.now(),
  ) {}

  announce({ path, leaves }: LocalWrite): void {
    this.#announced.set(path, { at: this.now(), atTick: this.monotonicNow(), leaves });
  }

  /** The write announced did not happen (or not all of it): what is found there is not its echo. */
  withdraw({ path }: LocalWrite): void {
    this.#announced.delete(path);
  }

  /** `mtimeMs` is undefined for a path that no longer exists. */
  isEcho(path: RelPath, mtimeMs: number | undefined): boolean {
    const announced = this.#announced.get(path);
    if (announced === undefined) return false;
    if (this.monotonicNow() - announced.atTick > this.ttlMs) {
      this.#announced.delete(path);
      return false;
    }
    return announced.leaves === 'absent' ? mtimeMs === undefined : mtimeMs !== undefined && mtimeMs <= announced.at;
  }

  /** Forgets old announcements, so the map does not grow over months. */
  prune(): void {
    const tick = this.monotonicNow();
    for (const [path, { atTick }] of this.#announced) if (tick - atTick > this.ttlMs) this.#announced.delete(path);
  }
}
