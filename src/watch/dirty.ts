import { liesInAny, topmost } from '../tree/paths.js';
import type { LocalWrite, RelPath } from '../tree/types.js';

/**
 * Paths the watcher reported since the last pass, coalesced: a path inside one already pending
 * adds nothing (the pass rescans that whole subtree), and a folder's path replaces the pending
 * ones inside it when they are taken. A create followed by a delete, or a burst of writes, is
 * one entry. Each report costs a lookup per folder above it, never a look at every pending path.
 */
export class DirtySet {
  readonly #paths = new Set<RelPath>();

  add(path: RelPath): void {
    if (!liesInAny(path, this.#paths)) this.#paths.add(path);
  }

  /** Pending paths, counting those a folder reported later will take in. */
  get size(): number {
    return this.#paths.size;
  }

  /** The pending paths, which are cleared. */
  take(): RelPath[] {
    const paths = topmost(this.#paths);
    this.#paths.clear();
    return paths;
  }

  /** Puts paths back after a pass that could not finish. */
  restore(paths: readonly RelPath[]): void {
    for (const path of paths) this.add(path);
  }
}

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
