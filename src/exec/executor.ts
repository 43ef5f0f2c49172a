import { setMaxListeners } from 'node:events';
import type PQueue from 'p-queue';
import type { Logger } from '../log/logger.js';
import type { Action, ConflictAction, Plan } from '../plan/types.js';
import { isRemoteError, type RemoteError } from '../remote/errors.js';
import { messageOf } from '../scan/errors.js';
import type { Db } from '../state/database.js';
import { backingOff, type FolderState } from '../state/folder-state.js';
import { durably, flushGroup, inGroup, RecordsLostError, recordsLostMark, throwIfRecordsLostSince } from '../state/group-commit.js';
import type { SyncedTree } from '../state/synced.js';
import type { LocalWrite, RelPath, Side } from '../tree/types.js';
import { crashPoint } from './crash.js';
import { launchInOrder } from './launch.js';
import { learnRemoteFacts } from './learn.js';
import { DeferredError, isDeferral, perform, ServerChangedError, serverCopyPath, settleConflict, type Workspace } from './perform.js';
import { withRetries } from './retry.js';
import { recordConflict, recordOutcome, RowRefs, setRowAside, type ConflictOutcome } from './rows.js';
import { stateJournal, sweepTempFiles } from './temp-files.js';

export interface ExecOptions {
  readonly retries: number;
  readonly retryBaseDelayMs: number;
  /** Files modified more recently than this are still being written and wait for a later run. */
  readonly settleTimeMs: number;
}

export interface ExecContext {
  readonly ws: Workspace;
  readonly db: Db;
  readonly tree: SyncedTree;
  readonly state: FolderState;
  /** Shared by every folder: the concurrency and rate limits apply to all of them together. */
  readonly queue: PQueue;
  readonly options: ExecOptions;
  /** Whether the pass listed every server folder; see `sweepTempFiles`. */
  readonly serverWalked: boolean;
  readonly logger: Logger;
  readonly now: () => number;
  readonly signal?: AbortSignal;
  readonly events?: ExecEvents;
}

export interface ExecEvents {
  /** Paths of the local folder an action is about to change (announced before it starts). */
  readonly onLocalWrite?: (writes: readonly LocalWrite[]) => void;
  /**
   * The same paths, when the action did not complete (deferred, failed): a change found there is
   * not its echo, and may be the very user change that stopped it.
   */
  readonly onLocalWriteUndone?: (writes: readonly LocalWrite[]) => void;
  readonly onActionDone?: (action: Action, counted: string) => void;
  readonly onActionFailed?: (action: Action, error: Error) => void;
}

/** The local paths an action writes, so the watcher's echo of them can be recognised. */
export function localPathsWritten(action: Action): LocalWrite[] {
  switch (action.type) {
    case 'mkdir':
    case 'delete':
      return action.side === 'local' ? [{ path: action.path, movedIn: false }] : [];
    case 'move':
      if (action.side === 'remote') return [];
      // A folder moved into place is looked at again: the watcher may report an edit in it under
      // the old path (its watch follows the folder) until it watches the new one.
      return [
        { path: action.from, movedIn: false },
        { path: action.to, movedIn: action.kind === 'dir' },
      ];
    case 'download':
      return [{ path: action.localPath, movedIn: false }];
    case 'conflict':
      return [
        { path: action.localPath, movedIn: false },
        { path: action.conflictPath, movedIn: false },
      ];
    case 'upload':
    case 'record':
    case 'forget':
      return [];
  }
}

export type ActionResult =
  /** `counted` is what the summary counts it as: "uploaded", "conflicts"... */
  | { readonly status: 'done'; readonly counted: string }
  /**
   * Not carried out now, without being a failure: it changed, waits, or its dependency did not
   * run. `notBeforeMs`: it cannot run before then (its path, or a dependency's, is backing off
   * after a failure); without it, it can run again as soon as its path has settled.
   * `serverChanged`: the server changed there since the scan, perhaps deeper down than a pass
   * that trusts its memory of the server would look.
   */
  | { readonly status: 'deferred'; readonly reason: string; readonly notBeforeMs?: number; readonly serverChanged?: true }
  /** `retryAtMs`: when its backoff ends. */
  | { readonly status: 'failed'; readonly error: Error; readonly retryAtMs: number };

/** When a result that is not done lets its path, and what depends on it, be tried again; undefined: as soon as it settles. */
export function blockedUntil(result: Exclude<ActionResult, { status: 'done' }>): number | undefined {
  return result.status === 'failed' ? result.retryAtMs : result.notBeforeMs;
}

export interface ExecReport {
  readonly results: ReadonlyMap<Action, ActionResult>;
  /** An error that stopped the run (the server is unreachable, or refused the login). */
  readonly fatal?: RemoteError;
  /** Files (and folders) each side received, by action type. */
  readonly counts: Readonly<Record<string, number>>;
}

/** Failures that make every further request pointless, so the run stops instead. */
function isFatal(error: unknown): error is RemoteError {
  return isRemoteError(error) && (error.kind === 'auth' || error.kind === 'network' || error.kind === 'tls' || error.kind === 'protocol');
}

/** The path a failure is filed under, as the user knows it. */
export function actionPath(action: Action): string {
  switch (action.type) {
    case 'mkdir':
    case 'delete':
      return action.path;
    case 'move':
      return action.to;
    case 'upload':
    case 'download':
    case 'conflict':
    case 'record':
      return action.localPath;
    case 'forget':
      return '';
  }
}

/**
 * The local paths a pass over changed paths must look at to plan `action` again: a move's both
 * ends, since a scan of its new path alone takes the old one as the Synced tree remembers it,
 * still there, and the entry at the new path for a new one.
 */
export function pathsToLookAgain(action: Action): RelPath[] {
  return action.type === 'move' ? [action.from, action.to] : [actionPath(action)];
}

/**
 * Runs a plan stage by stage; within a stage actions run concurrently on the shared queue as
 * soon as the actions they depend on have succeeded. Every success is recorded in the Synced
 * tree atomically (committed in groups, see group-commit.ts); every failure is recorded per path
 * with a backoff, and never stops the other paths. Afterwards one listing per touched server
 * folder fills in what uploads and moves did not report.
 */
export async function executePlan(plan: Plan, context: ExecContext): Promise<ExecReport> {
  // Stops with the run, and once the run finds the server gone. A listener rather than
  // AbortSignal.any, which on Node 20 leaves a reference on the daemon's lasting signal per pass.
  const stop = new AbortController();
  // Every request in flight listens to it, as many as the queue runs at once.
  setMaxListeners(0, stop.signal);
  const relay = (): void => stop.abort(context.signal?.reason);
  if (context.signal?.aborted === true) relay();
  else context.signal?.addEventListener('abort', relay, { once: true });
  try {
    return await execute(plan, context, stop);
  } finally {
    context.signal?.removeEventListener('abort', relay);
  }
}

async function execute(plan: Plan, context: ExecContext, stop: AbortController): Promise<ExecReport> {
  const { state, logger, now } = context;
  const refs = new RowRefs();
  const results = new Map<Action, ActionResult>();
  const settled = new Map<number, Promise<ActionResult>>();
  const failures = state.failures();
  const startedMs = now();
  const backoff = new Map(failures.filter((f) => backingOff(f, startedMs)).map((f) => [f.path, f]));
  // Paths with a failure on record: only their success needs a write to clear it.
  const failed = new Set(failures.map((f) => f.path));
  let fatal: RemoteError | undefined;
  const recordsSince = recordsLostMark(context.db);
  const stopped = stop.signal;
  // Transfers under way stop with the run, as their own retries do.
  const acting: ExecContext = { ...context, ws: { ...context.ws, transfer: { ...context.ws.transfer, signal: stopped } } };
  let quotaFull: { readonly error: RemoteError; readonly retryAtMs: number } | undefined;

  // Temporary files are written down while they exist, and what a killed run left is removed.
  context.ws.local.journal = stateJournal(state, now);
  try {
    await sweepTempFiles(state, context.ws.remote, context.serverWalked, logger);
  } catch (error) {
    logger.warn({ err: messageOf(error) }, 'could not remove temporary files left by an earlier run; trying again next run');
  }

  const run = async (action: Action): Promise<ActionResult> => {
    const waits = await Promise.all(action.after.map((id) => settled.get(id) ?? Promise.resolve<ActionResult>({ status: 'done', counted: '' })));
    const blocked = waits.flatMap((r) => (r.status === 'done' ? [] : [blockedUntil(r) ?? 0]));
    if (blocked.length > 0) {
      const until = Math.max(...blocked);
      return { status: 'deferred', reason: 'an action it depends on did not complete', ...(until > 0 ? { notBeforeMs: until } : {}) };
    }
    if (fatal || stopped.aborted) return { status: 'deferred', reason: 'the run stopped' };
    const path = actionPath(action);
    // The backoff holds the action that failed: a plan that now does something else at that
    // path (a rename where a folder could not be created, say) is tried at once.
    const failing = backoff.get(path);
    if (failing?.action === action.type) return { status: 'deferred', reason: `failed before (${failing.message}); tried again after ${new Date(failing.nextRetryMs).toISOString()}`, notBeforeMs: failing.nextRetryMs };
    if (action.type === 'upload' && quotaFull) return { status: 'failed', ...quotaFull };
    if (action.type === 'upload' && stillBeingWritten(now() - action.local.mtimeMs, context.options.settleTimeMs)) {
      return { status: 'deferred', reason: 'still being written' };
    }
    return context.queue.add(async (): Promise<ActionResult> => {
      // A stop while it waited for a slot: what is not started is left for the next run.
      if (fatal || stopped.aborted) return { status: 'deferred', reason: 'the run stopped' };
      const written = localPathsWritten(action);
      if (written.length > 0) context.events?.onLocalWrite?.(written);
      try {
        const counted = await withRetries(() => carryOut(action, acting, refs, recordsSince), {
          retries: context.options.retries,
          baseDelayMs: context.options.retryBaseDelayMs,
          signal: stopped,
          onRetry: (error, attempt, delay) => logger.warn({ path, action: action.type, attempt, delayMs: delay, err: messageOf(error) }, 'retrying after a transient error'),
        });
        if (failed.delete(path)) state.clearFailure(path);
        logDone(logger, action, path, counted);
        context.events?.onActionDone?.(action, counted);
        return { status: 'done', counted };
      } catch (error) {
        if (written.length > 0) context.events?.onLocalWriteUndone?.(written);
        if (error instanceof RecordsLostError) {
          // Nothing more starts, what runs stops, and the run fails with it.
          stop.abort(error);
          throw error;
        }
        // Cut short by a stop, or failing once the run knows the server is gone: not this
        // path's fault, and the next run does it.
        if (isDeferral(error) || stopped.aborted) {
          logger.info({ path, action: action.type, reason: messageOf(error) }, 'left for the next run');
          return { status: 'deferred', reason: messageOf(error), ...(error instanceof ServerChangedError ? { serverChanged: true } : {}) };
        }
        if (isFatal(error)) {
          fatal = error;
          // An answer that was not the protocol's may be this file's alone: what is under way goes on.
          if (error.kind !== 'protocol') stop.abort(error);
        }
        const failure = error instanceof Error ? error : new Error(String(error));
        context.events?.onActionFailed?.(action, failure);
        const retryAt = state.recordFailure(path, action.type, isRemoteError(error) ? error.kind : 'local', failure.message, now());
        if (isRemoteError(error, 'quota-exceeded')) quotaFull ??= { error, retryAtMs: retryAt };
        failed.add(path);
        logger.error({ path, action: action.type, err: failure.message, retryAt: new Date(retryAt).toISOString() }, 'action failed');
        return { status: 'failed', error: failure, retryAtMs: retryAt };
      }
    });
  };

  // Enough started actions per queue slot that the queue never idles while some of them wait
  // for their dependencies or are turned away without a request.
  const window = Number.isFinite(context.queue.concurrency) ? context.queue.concurrency * 8 : 1024;
  for (const stage of [1, 2, 3, 4, 5] as const) {
    const batch = plan.actions.filter((action) => action.stage === stage);
    await launchInOrder(batch, window, (action) => {
      const promise = run(action).then((result) => {
        results.set(action, result);
        return result;
      });
      settled.set(action.id, promise);
      return promise;
    });
    if (fatal || stopped.aborted) break;
  }
  // What the run did is on disk before it reports; then the closes no record carried (uploads
  // that failed after their session ended, or a conflict's).
  flushGroup(context.db);
  context.ws.sessions.over();

  if (!fatal && !stopped.aborted) {
    try {
      await learnRemoteFacts(context.tree, (dir) =>
        context.queue.add(async () => {
          try {
            const listing = await context.ws.remote.remote.list(context.ws.remote.abs(dir));
            return listing.entries.map((entry) => ({ kind: entry.kind, name: entry.name, id: entry.id, size: entry.size, modifiedMs: entry.modifiedMs }));
          } catch (error) {
            if (isRemoteError(error, 'not-found')) return undefined;
            throw error;
          }
        }),
      );
    } catch (error) {
      if (isFatal(error)) fatal = error;
      else throw error;
    }
  }

  const counts: Record<string, number> = {};
  for (const result of results.values()) {
    const key = result.status === 'done' ? result.counted : result.status;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return { results, counts, ...(fatal ? { fatal } : {}) };
}

/** Where a settled conflict left the version that lost its name, if it kept one. */
function keptCopy(action: ConflictAction, outcome: ConflictOutcome): { readonly copyPath: RelPath; readonly side: Side } | undefined {
  if (outcome.kind === 'copied') return { copyPath: action.conflictPath, side: 'local' };
  if (outcome.kind !== 'settled' || action.resolution !== 'keep-both') return undefined;
  if (action.mode === 'download-only') return { copyPath: action.conflictPath, side: 'local' };
  if (action.mode === 'upload-only') return { copyPath: serverCopyPath(action), side: 'remote' };
  return undefined;
}

/**
 * Writes an action's record in the commit group, unless a group was lost since the run began
 * (`since`): rows made now could take the IDs of the lost ones, which the run still holds as
 * the parents of the next.
 */
function record(db: Db, since: number, write: () => void): void {
  throwIfRecordsLostSince(db, since);
  inGroup(db, write);
}

/**
 * Performs one action and records its outcome atomically (in a commit group); says what to
 * count it as. `since`: the mark of lost groups taken when the run began (see `record`).
 */
async function carryOut(action: Action, context: ExecContext, refs: RowRefs, since: number): Promise<string> {
  const { ws, db, tree, state, now } = context;
  if (action.type === 'conflict') {
    const outcome = await settleConflict(action, ws, () => durably(db, () => setRowAside(tree, refs, action)));
    crashPoint('conflict:before-record');
    record(db, since, () => {
      recordConflict(tree, refs, action, outcome);
      ws.sessions.writeClosed();
      crashPoint('conflict:in-transaction');
      // A copy is listed until the user removes it: one on the local side (under download-only,
      // there alone), or under upload-only the server's version, kept on the server alone.
      const copy = keptCopy(action, outcome);
      if (copy) state.addConflict({ path: action.localPath, ...copy }, now());
    });
    // The same content on both sides was never a conflict, nor a cut copy of the local file.
    return outcome.kind === 'identical' ? 'recorded' : outcome.kind === 'repaired' ? 'uploaded' : 'conflicts';
  }
  const outcome = await perform(action, ws);
  crashPoint(`${action.type}:before-record`);
  record(db, since, () => {
    recordOutcome(tree, refs, action, outcome);
    ws.sessions.writeClosed();
    crashPoint(`${action.type}:in-transaction`);
  });
  // Not in sync, and the run must say so (exit code 1), not count it as uploaded: the row keeps
  // the facts from before the upload, so the next run sends the file again.
  if (outcome.changedDuringUpload) throw new DeferredError(`${actionPath(action)} changed while it was uploaded; it will be sent again next run`);
  return countKey(action);
}

/**
 * One line per change made, for the journal a user reads to learn why a file changed or went
 * (the counts alone do not tell); bookkeeping that changed nothing is for debugging only.
 */
function logDone(logger: Logger, action: Action, path: string, counted: string): void {
  if (counted === 'recorded') {
    logger.debug({ path, action: action.type }, counted);
    return;
  }
  const details =
    action.type === 'move'
      ? { side: action.side, from: action.from }
      : action.type === 'delete' || action.type === 'mkdir'
        ? { side: action.side }
        : action.type === 'conflict'
          ? { copy: action.conflictPath }
          : {};
  logger.info({ path, action: action.type, ...details }, counted);
}

function countKey(action: Action): string {
  switch (action.type) {
    case 'upload':
      return 'uploaded';
    case 'download':
      return 'downloaded';
    case 'move':
      return 'moved';
    case 'delete':
      return action.side === 'local' ? 'deleted locally' : 'deleted on server';
    case 'mkdir':
      return 'folders created';
    case 'conflict':
      return 'conflicts';
    case 'record':
    case 'forget':
      return 'recorded';
  }
}

/**
 * Whether a file `ageMs` after its last modification is still being written. A time ahead of
 * the clock (a camera's, a FAT volume written in another time zone) says nothing either way,
 * and would hold the file back until the clock caught up: such a file goes, and the look after
 * its upload catches a change.
 */
function stillBeingWritten(ageMs: number, settleTimeMs: number): boolean {
  return ageMs >= 0 && ageMs < settleTimeMs;
}
