import { setMaxListeners } from 'node:events';
import { statSync } from 'node:fs';
import type PQueue from 'p-queue';
import type { Config, FolderConfig } from '../config/load.js';
import { blockedUntil, pathsToLookAgain, type ActionResult, type ExecEvents } from '../exec/executor.js';
import type { Logger } from '../log/logger.js';
import type { Action } from '../plan/types.js';
import { isRemoteError } from '../remote/errors.js';
import type { Remote } from '../remote/types.js';
import { messageOf } from '../scan/errors.js';
import { createIgnoreRules } from '../scan/ignore.js';
import { stateFailure, StateMovedError, type Db } from '../state/database.js';
import { FolderState } from '../state/folder-state.js';
import { folderId, SyncedTree } from '../state/synced.js';
import { syncFolder, type PassResult } from '../sync/pass.js';
import type { PassScope } from '../sync/scope.js';
import { topmost } from '../tree/paths.js';
import type { RelPath } from '../tree/types.js';
import { DirtySet, EchoFilter } from '../watch/dirty.js';
import { LocalWatcher } from '../watch/watcher.js';
import type { Metrics } from './metrics.js';
import type { Resumed } from './status-server.js';
import { userChanges } from './user-changes.js';

/** What a folder is doing, as /status and /healthz tell it. */
export type Phase = 'starting' | 'syncing' | 'idle' | 'paused' | 'offline' | 'auth-failed' | 'error' | 'stopped';

export interface RunnerShared {
  readonly config: Config;
  readonly remote: Remote;
  readonly db: Db;
  readonly queue: PQueue;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The wall clock, for records and for comparing with files' modification times. */
  readonly now: () => number;
  /** A clock that never steps, for waits: a wall clock set back an hour must not hold a pass back an hour. */
  readonly monotonicNow: () => number;
  /** Throws a StateMovedError when the state database or the lock no longer lies at its path. */
  readonly checkState: () => void;
  /** Ends the daemon: it cannot go on (its state files gone from their paths). */
  readonly fatal: (error: Error) => void;
}

export interface FolderStatus {
  readonly folder: string;
  readonly phase: Phase;
  readonly reason: string | undefined;
  readonly watching: 'events' | 'polling' | 'periodic scans' | 'starting';
  readonly pendingLocalChanges: number;
  readonly lastSuccess: string | null;
  readonly lastPass: { readonly kind: string; readonly finished: string; readonly summary: Readonly<Record<string, number>> } | null;
}

const authRetryMs = 5 * 60_000;
const maxOfflineBackoffMs = 5 * 60_000;

/**
 * Keeps one folder in sync: a full pass at start, then passes for what the watcher reports
 * (debounced), a walk of the server every `remoteInterval` (jittered), and a full pass every
 * `fullRescanInterval`. One pass at a time; a server that cannot be reached is retried with
 * backoff while local changes keep collecting; a safety guard pauses the folder until
 * `cloudreve-sync resume`.
 */
export class FolderRunner {
  phase: Phase = 'starting';
  reason: string | undefined;
  lastSuccessMs: number | undefined;
  lastPass: FolderStatus['lastPass'] = null;

  readonly #folder: FolderConfig;
  readonly #shared: RunnerShared;
  readonly #state: FolderState;
  readonly #tree: SyncedTree;
  readonly #log: Logger;
  readonly #dirty = new DirtySet();
  readonly #echo: EchoFilter;
  readonly #abort = new AbortController();
  readonly #timers = new Set<NodeJS.Timeout>();
  #watcher: LocalWatcher | undefined;
  /** The watcher lost the root (see WatcherOptions.onRootLost). */
  #rootLost = false;
  /** The root folder the watcher watches, as `dev:ino`, to tell another one put in its place. */
  #watchedRoot: string | undefined;
  /** A restart of the watcher under way (see #restartWatcher); the next, and the stop, wait for it. */
  #watcherTurn: Promise<void> = Promise.resolve();
  #restartQueued = false;
  /** Folders a pass moved into place, looked at by the next (see LocalWrite). */
  readonly #movedIn = new Set<RelPath>();
  #polling = false;
  /** A pass ran before the watcher was ready: what changed meanwhile may have gone unreported. */
  #passedUnwatched = false;
  #needFull = true;
  #needWalk = false;
  /**
   * The pending local changes, once due, are to be looked at with a walk of the server: an action
   * found the server changed where a pass that trusts its memory of the server would not look
   * (a file edited inside a folder the user deleted, whose listing stays the same).
   */
  #walkWhenDue = false;
  /** The `#retryAt` a wake-up is set for. */
  #retryWakeAt: number | undefined;
  /** On `monotonicNow`, as is `#retryAt`. */
  #dirtyDueAt: number | undefined;
  /** When the oldest of the pending local changes was reported (monotonic). */
  #dirtySince: number | undefined;
  #debouncing = false;
  #retryAt = 0;
  #offlineBackoffMs = 0;
  #stopped = false;
  #wake: (() => void) | undefined;
  #poked = false;
  #loop: Promise<void> | undefined;

  /** `lastSuccessMs`: what the runner this one replaces (at a reload) knew of its last pass. */
  constructor(folder: FolderConfig, shared: RunnerShared, lastSuccessMs?: number) {
    this.#folder = folder;
    this.#shared = shared;
    // Every request in flight listens for the stop: with `concurrency` above ten, more than
    // node's default of ten listeners, which is no leak.
    setMaxListeners(0, this.#abort.signal);
    const id = folderId(shared.db, folder.name);
    this.#state = new FolderState(shared.db, id);
    this.#tree = new SyncedTree(shared.db, id);
    this.#log = shared.logger.child({ folder: folder.name });
    this.#echo = new EchoFilter(Math.max(30_000, shared.config.daemon.debounce * 10), shared.monotonicNow);
    const paused = this.#state.pausedReason();
    if (paused !== undefined) {
      this.#pause(paused);
      this.#log.error(`paused since an earlier run: ${paused}`);
    }
    this.lastSuccessMs = lastSuccessMs ?? this.#state.lastRun().lastSyncMs;
  }

  get name(): string {
    return this.#folder.name;
  }

  start(): void {
    this.#loop = this.#run();
    // On the watcher's turn: a restart (.cloudreveignore changed during the first crawl) waits for
    // it, and so does the stop, which would otherwise miss the watcher the first start sets.
    this.#watcherTurn = this.#startWatcher().then(
      () => {
        // The watcher reports nothing of what changed where the pass had looked before it watched there.
        if (this.#passedUnwatched) {
          this.#needFull = true;
          this.#poke();
        }
      },
      (error: unknown) => {
        this.#log.warn({ err: (error as Error).message }, 'cannot watch the local folder; falling back to periodic full scans');
        this.#polling = true;
      },
    );
    this.#scheduleWalk();
    this.#every(this.#shared.config.daemon.fullRescanInterval, () => {
      this.#needFull = true;
    });
  }

  /**
   * Ends the runner after the pass in flight: `abandon` cuts that pass short (transfers in
   * progress are cancelled, actions not started are left for the next run), for a stop of the
   * process; a reload lets it finish.
   */
  async stop(abandon: boolean): Promise<void> {
    this.#stopped = true;
    if (abandon) this.abandon();
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#poke();
    await Promise.all([this.#watcherTurn.then(() => this.#watcher?.close()), this.#loop]);
    this.phase = 'stopped';
  }

  /** Cuts the pass in flight short (see `stop`), also while a reload waits for it. */
  abandon(): void {
    this.#abort.abort(new Error('cloudreve-sync is stopping'));
  }

  /** The user agreed to what a guard stopped: run the next pass past it. */
  resume(): Resumed {
    const resumed = this.#state.resumeStopped();
    if (resumed === undefined) return { resumed: false };
    this.#unpause();
    return { resumed: true, answer: resumed.answer };
  }

  #unpause(): void {
    if (this.phase === 'paused') {
      this.#log.info('resumed');
      this.phase = 'idle';
      this.reason = undefined;
      this.#shared.metrics.paused.set({ folder: this.name }, 0);
    }
    this.#needFull = true;
    this.#poke();
  }

  status(): FolderStatus {
    return {
      folder: this.name,
      phase: this.phase,
      reason: this.reason,
      watching: this.#polling ? 'periodic scans' : this.#watcher && !this.#rootLost ? (this.#watcher.polls ? 'polling' : 'events') : 'starting',
      pendingLocalChanges: this.#dirty.size,
      lastSuccess: this.lastSuccessMs === undefined ? null : new Date(this.lastSuccessMs).toISOString(),
      lastPass: this.lastPass,
    };
  }

  async #startWatcher(): Promise<void> {
    const root = folderIdentity(this.#folder.localPath);
    const rules = await createIgnoreRules(this.#folder.ignore, this.#folder.localPath, this.#folder.stateDirWithin);
    const watcher = await LocalWatcher.start({
      root: this.#folder.localPath,
      rules,
      logger: this.#log,
      onChange: (path) => this.#changed(path),
      onRulesChanged: () => this.#restartWatcher(),
      onRootLost: () => {
        this.#rootLost = true;
      },
      onOverflow: () => {
        if (this.#polling) return;
        this.#polling = true;
        this.#log.error(
          'the system ran out of file watches (inotify); raise the limit with "sysctl fs.inotify.max_user_watches=524288" (persist it in /etc/sysctl.d/). Until then the local folder is scanned in full at every server walk',
        );
      },
    });
    if (this.#stopped) await watcher.close();
    else {
      this.#watcher = watcher;
      this.#watchedRoot = root;
    }
  }

  /**
   * A new watcher, then a full pass once it watches: after `.cloudreveignore` changed, the new
   * watcher watches the folders its rules no longer leave out and the pass applies them to both
   * sides; after the root came back, the new watcher watches it again and the pass catches up.
   */
  #restartWatcher(): void {
    // One save of `.cloudreveignore` comes as several reports: one restart to come is enough.
    if (this.#restartQueued) return;
    this.#restartQueued = true;
    this.#watcherTurn = this.#watcherTurn
      .then(async () => {
        this.#restartQueued = false;
        const old = this.#watcher;
        this.#watcher = undefined;
        await old?.close();
        if (!this.#stopped) await this.#startWatcher();
      })
      .catch((error: unknown) => {
        this.#log.warn({ err: (error as Error).message }, 'cannot watch the local folder; falling back to periodic full scans');
        this.#polling = true;
      })
      .then(() => {
        this.#needFull = true;
        this.#poke();
      });
  }

  #changed(path: RelPath): void {
    // A resume starts with a full pass: a paused folder need not pile up what changed meanwhile.
    if (this.phase === 'paused') return;
    this.#dirty.add(path);
    this.#dirtySince ??= this.#shared.monotonicNow();
    // Debounce: the pass waits until changes stop coming for a moment.
    this.#dirtyDueAt = this.#shared.monotonicNow() + this.#shared.config.daemon.debounce;
    if (!this.#debouncing) {
      this.#debouncing = true;
      this.#wakeWhenDue();
    }
  }

  #wakeWhenDue(): void {
    const wait = (this.#dirtyDueAt ?? 0) - this.#shared.monotonicNow();
    this.#after(Math.max(wait, 0), () => {
      if ((this.#dirtyDueAt ?? 0) > this.#shared.monotonicNow()) this.#wakeWhenDue();
      else this.#debouncing = false;
    });
  }

  #scheduleWalk(): void {
    const interval = this.#shared.config.daemon.remoteInterval;
    // Jitter keeps several clients (or folders) from walking the server in lockstep.
    this.#after(interval * (0.9 + Math.random() * 0.2), () => {
      if (this.#polling) this.#needFull = true;
      else this.#needWalk = true;
      this.#scheduleWalk();
    });
  }

  #after(ms: number, then: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      then();
      this.#poke();
    }, ms);
    timer.unref();
    this.#timers.add(timer);
  }

  #every(ms: number, then: () => void): void {
    this.#after(ms, () => {
      then();
      this.#every(ms, then);
    });
  }

  /** Something changed that the loop should look at (a timer fired, a resume, a stop). */
  #poke(): void {
    this.#poked = true;
    this.#wake?.();
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      this.#poked = false;
      try {
        const scope = await this.#nextScope();
        if (scope === undefined) {
          // What came while the scope was worked out (which may wait for the disk) is looked at now.
          if (!this.#poked) {
            await new Promise<void>((resolve) => {
              this.#wake = resolve;
            });
            this.#wake = undefined;
          }
          continue;
        }
        await this.#pass(scope);
      } catch (error) {
        // What failed around a pass rather than in it (the state database writing its outcome, a
        // disk error): the folder backs off as after a failed pass, and the daemon lives on.
        this.#failed({ kind: 'full' }, error);
      }
    }
  }

  /** What to do now, or undefined to wait for a timer or a change. */
  async #nextScope(): Promise<PassScope | undefined> {
    const now = this.#shared.monotonicNow();
    // The root was renamed away and back, say: watched again from the next walk time on.
    if (this.#rootLost && (this.#needWalk || this.#needFull) && isDirectory(this.#folder.localPath)) {
      this.#rootLost = false;
      this.#restartWatcher();
    }
    // Another folder at the root's path (a disk mounted on it after the start, a restore that
    // put a new folder there) is one the watcher does not watch, and the watcher cannot tell:
    // watched anew from the next walk time on.
    if ((this.#needWalk || this.#needFull) && this.#watcher !== undefined && !this.#rootLost && this.#watchedRoot !== undefined) {
      const now = folderIdentity(this.#folder.localPath);
      if (now !== undefined && now !== this.#watchedRoot) {
        this.#log.info('another folder stands at the local folder\'s path (a disk mounted on it, say); watching it from now on');
        this.#watchedRoot = now;
        this.#restartWatcher();
      }
    }
    if (this.phase === 'paused') {
      // A paused folder makes no passes, which is where the state files are checked otherwise:
      // its walk times check them instead. Resumed from another process while the status server
      // was off, the flag is gone. (A folder scanned instead of watched has its walks come as
      // full passes.)
      if ((this.#needWalk || this.#needFull) && this.#stateInPlace() && this.#state.pausedReason() === undefined) this.#unpause();
      this.#needWalk = false;
      return undefined;
    }
    if (now < this.#retryAt) {
      // One wake-up for the retry, not one more for every change reported meanwhile. A timer
      // may fire a fraction of a millisecond early: the wake-up then asks for the next one.
      if (this.#retryWakeAt !== this.#retryAt) {
        this.#retryWakeAt = this.#retryAt;
        this.#after(this.#retryAt - now, () => {
          this.#retryWakeAt = undefined;
        });
      }
      return undefined;
    }
    // A folder that never goes quiet (a log written every second) would hold its other changes
    // back for good: once they have waited a whole walk interval, the walk scans the folder
    // whole, which also sees a rename whose new name the watcher has yet to report.
    if (this.#needWalk && this.#dirtySince !== undefined && now - this.#dirtySince >= this.#shared.config.daemon.remoteInterval) this.#needFull = true;
    if (this.#needFull) {
      this.#needFull = false;
      this.#needWalk = false;
      this.#walkWhenDue = false;
      this.#dirtySince = undefined;
      this.#dirty.take();
      this.#movedIn.clear();
      return { kind: 'full' };
    }
    // Local changes still settling wait for their due time, also when a walk comes first: the
    // watcher may report a rename's two paths a moment apart, and the old path alone would be
    // planned as a delete.
    const due = this.#dirty.size > 0 && this.#dirtyDueAt !== undefined && now >= this.#dirtyDueAt;
    if (this.#needWalk || (due && this.#walkWhenDue)) {
      this.#needWalk = false;
      if (due) this.#walkWhenDue = false;
      return { kind: 'remote-walk', paths: due ? await this.#takeDirty() : [] };
    }
    if (due) {
      const paths = await this.#takeDirty();
      return paths.length > 0 ? { kind: 'local-changes', paths } : undefined;
    }
    return undefined;
  }

  /** The pending local changes, without the echoes of this daemon's own writes. */
  async #takeDirty(): Promise<RelPath[]> {
    this.#echo.prune();
    this.#dirtySince = undefined;
    const changed = await userChanges(this.#folder.localPath, this.#dirty.take(), this.#echo, this.#tree);
    // Whatever the reports inside a folder this daemon moved into place said: they may have named
    // the old path, or lain in a folder it created, taken for its own.
    const movedIn = [...this.#movedIn];
    this.#movedIn.clear();
    return movedIn.length === 0 ? changed : topmost([...changed, ...movedIn]);
  }

  /** False, having ended the daemon, when the state database or the lock left its path. */
  #stateInPlace(): boolean {
    try {
      this.#shared.checkState();
      return true;
    } catch (error) {
      if (!(error instanceof StateMovedError)) throw error;
      this.#shared.fatal(error);
      return false;
    }
  }

  async #pass(scope: PassScope): Promise<void> {
    const { metrics, now } = this.#shared;
    if (this.#watcher === undefined) this.#passedUnwatched = true;
    this.phase = 'syncing';
    let result: PassResult;
    try {
      if (!this.#stateInPlace()) return;
      result = await syncFolder(
        this.#folder,
        {
          config: this.#shared.config,
          remote: this.#shared.remote,
          db: this.#shared.db,
          queue: this.#shared.queue,
          logger: this.#shared.logger,
          now,
          signal: this.#abort.signal,
          events: this.#events(),
        },
        { dryRun: false, force: false, scope },
      );
    } catch (error) {
      this.#failed(scope, error);
      return;
    }
    if (this.#abort.signal.aborted) return;
    metrics.skipped.set({ folder: this.name }, this.#state.skipped().length);
    if (result.plan.stopped) {
      this.#pause(result.plan.stopped.reason);
      this.#state.pause(result.plan.stopped.reason);
      this.#log.error({ guard: result.plan.stopped.guard }, `paused: ${result.plan.stopped.reason}`);
      return;
    }
    if (result.report?.fatal) {
      this.#failed(scope, result.report.fatal);
      return;
    }
    this.#lookAgain(result.report?.results ?? new Map());
    this.lastSuccessMs = now();
    this.lastPass = { kind: scope.kind, finished: new Date(this.lastSuccessMs).toISOString(), summary: result.report?.counts ?? {} };
    metrics.lastSuccess.set({ folder: this.name }, this.lastSuccessMs / 1000);
    this.#offlineBackoffMs = 0;
    this.phase = 'idle';
    this.reason = undefined;
  }

  /**
   * Has the paths a pass left undone looked at again: what waited (a file still being written, a
   * change during the pass) soon, what backs off after a failure (its own, or a dependency's)
   * when that ends, to the second, so that a failing file neither waits for the hourly rescan
   * nor has a pass walk the server every few seconds until its backoff is over.
   */
  #lookAgain(results: ReadonlyMap<Action, ActionResult>): void {
    const soon = this.#shared.now() + this.#shared.config.sync.settleTime + this.#shared.config.daemon.debounce;
    const byTime = new Map<number, { paths: RelPath[]; serverChanged: boolean }>();
    for (const [action, result] of results) {
      if (result.status === 'done') continue;
      const until = blockedUntil(result) ?? soon;
      const at = Math.ceil(until / 1000) * 1000;
      const group = byTime.get(at) ?? { paths: [], serverChanged: false };
      group.paths.push(...pathsToLookAgain(action));
      if (result.status === 'deferred' && result.serverChanged === true) group.serverChanged = true;
      byTime.set(at, group);
    }
    for (const [at, { paths, serverChanged }] of byTime) {
      this.#after(Math.max(at - this.#shared.now(), 0), () => {
        if (serverChanged) this.#walkWhenDue = true;
        for (const path of paths) this.#changed(path);
      });
    }
  }

  #failed(scope: PassScope, error: unknown): void {
    if (this.#stopped) return;
    // What this pass was to look at is still to be looked at.
    if (scope.kind !== 'full') this.#dirty.restore(scope.paths);
    this.#needFull = true;
    const described = stateFailure(error, this.#shared.config.stateDir) ?? error;
    const message = messageOf(described);
    this.reason = message;
    this.#shared.metrics.errors.inc({ class: isRemoteError(error) ? error.kind : 'local' });
    if (isRemoteError(error, 'auth')) {
      this.phase = 'auth-failed';
      this.#retryAt = this.#shared.monotonicNow() + authRetryMs;
      this.#log.error({ retryInMs: authRetryMs }, `the server refused the login: ${message}`);
      return;
    }
    this.#offlineBackoffMs = Math.min(Math.max(this.#offlineBackoffMs * 2, 5000), maxOfflineBackoffMs);
    this.#retryAt = this.#shared.monotonicNow() + this.#offlineBackoffMs;
    this.phase = isRemoteError(error) && (error.kind === 'network' || error.kind === 'tls' || error.kind === 'protocol' || error.retryable) ? 'offline' : 'error';
    this.#log.error({ retryInMs: this.#offlineBackoffMs }, `pass failed: ${message}`);
  }

  #pause(reason: string): void {
    this.phase = 'paused';
    this.reason = reason;
    this.#shared.metrics.paused.set({ folder: this.name }, 1);
  }

  #events(): ExecEvents {
    const { metrics } = this.#shared;
    return {
      onLocalWrite: (writes) => {
        for (const write of writes) {
          if (!write.movedIn) this.#echo.announce(write);
          else {
            this.#movedIn.add(write.path);
            this.#changed(write.path);
          }
        }
      },
      onLocalWriteUndone: (writes) => {
        for (const write of writes) this.#echo.withdraw(write);
      },
      onActionDone: (action, counted) => {
        metrics.actions.inc({ type: action.type, result: 'done' });
        if (action.type === 'upload') {
          metrics.files.inc({ direction: 'up' });
          metrics.bytes.inc({ direction: 'up' }, action.local.size);
        } else if (action.type === 'download') {
          metrics.files.inc({ direction: 'down' });
          metrics.bytes.inc({ direction: 'down' }, action.remote.size);
        }
        if (counted === 'conflicts') metrics.conflicts.inc({ folder: this.name });
      },
      onActionFailed: (action, error) => {
        metrics.actions.inc({ type: action.type, result: 'failed' });
        metrics.errors.inc({ class: isRemoteError(error) ? error.kind : 'local' });
      },
    };
  }
}

function isDirectory(path: string): boolean {
  return folderIdentity(path) !== undefined;
}

/** The folder at `path` as `dev:ino`, or undefined when there is none (or it cannot be told). */
function folderIdentity(path: string): string | undefined {
  let stats;
  try {
    stats = statSync(path, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
  return stats?.isDirectory() === true ? `${stats.dev}:${stats.ino}` : undefined;
}
