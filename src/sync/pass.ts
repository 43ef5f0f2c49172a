import { hash } from 'node:crypto';
import { join } from 'node:path';
import type PQueue from 'p-queue';
import type { Config, FolderConfig } from '../config/load.js';
import { actionPath, executePlan, type ActionResult, type ExecEvents, type ExecReport } from '../exec/executor.js';
import { LocalTree } from '../exec/local-fs.js';
import { UploadSessions } from '../exec/upload-sessions.js';
import { RemoteTree } from '../exec/remote-tree.js';
import { removeLeftovers, removeMovedRemoteTempFiles } from '../exec/temp-files.js';
import { LocalTrash } from '../exec/trash.js';
import type { Logger } from '../log/logger.js';
import { answerTo, overrides, plan, sourceOf, utcConflictStamp, type Action, type Force, type GuardTrip, type Plan, type PlanTotals } from '../plan/index.js';
import { isRemoteError } from '../remote/errors.js';
import type { Remote } from '../remote/types.js';
import { rootFoldsCase } from '../scan/case.js';
import { messageOf } from '../scan/errors.js';
import { createIgnoreRules, isDroppingName, type IgnoreRules } from '../scan/ignore.js';
import { countEntries, scanLocal, scanLocalPaths, type LocalScan, type RawRead } from '../scan/local.js';
import { listingRevision, scanRemote, type RemoteScan } from '../scan/remote.js';
import { unknownOf } from '../scan/unknown.js';
import { PassTables } from '../state/pass-tables.js';
import type { Db } from '../state/database.js';
import { FolderState } from '../state/folder-state.js';
import { folderId, SyncedTree } from '../state/synced.js';
import { maxNameBytes, pathKey } from '../tree/paths.js';
import { version } from '../version.js';
import { otherSide, type LocalNode, type RelPath, type Side, type SkippedPath } from '../tree/types.js';
import { bindingGuard, bindingOf, howToGoPast } from './binding.js';
import { copiesFoundOnServer, forgetGoneConflicts } from './conflicts.js';
import { markerGuard, markFolder, readFolderMarker } from './folder-marker.js';
import { tuneV8ForScan } from './scan-v8.js';
import { remoteFoldersUnchanged, type PassScope } from './scope.js';

export interface PassContext {
  readonly config: Config;
  readonly remote: Remote;
  readonly db: Db;
  readonly queue: PQueue;
  readonly logger: Logger;
  readonly now: () => number;
  readonly signal?: AbortSignal;
  readonly events?: ExecEvents;
}

export interface PassOptions {
  readonly dryRun: boolean;
  /**
   * Run even when a guard would stop it (`--force`). A pending `resume` of the folder counts the
   * same for the stop it answered, and is used up by the pass that gets past that guard.
   */
  readonly force: boolean;
  /** What to look at; everything by default. */
  readonly scope?: PassScope;
}

export interface PassResult {
  readonly folder: FolderConfig;
  readonly plan: Plan;
  /** Skipped by the scanners and by the planner. */
  readonly skipped: readonly SkippedPath[];
  /** Undefined for a dry run or a run stopped by a guard. */
  readonly report?: ExecReport;
}

/**
 * One full pass over one synced folder: scan both sides, plan against the Synced tree, and
 * (unless it is a dry run or a guard stopped it) carry the plan out.
 */
export async function syncFolder(folder: FolderConfig, context: PassContext, options: PassOptions): Promise<PassResult> {
  const { db, remote, logger, now } = context;
  const startedMs = now();
  const id = folderId(db, folder.name);
  const tree = new SyncedTree(db, id);
  const state = new FolderState(db, id);
  const log = logger.child({ folder: folder.name });

  const rules = await createIgnoreRules(folder.ignore, folder.localPath, folder.stateDirWithin);
  const counts = tree.counts();
  const noteStop = (trip: GuardTrip): void => {
    log.error({ guard: trip.guard, side: trip.side }, trip.reason);
    const answer = answerTo(trip);
    state.recordRun({ finishedMs: now(), ok: false, counts: {}, stopped: trip.reason, ...(answer ? { answer } : {}) });
  };
  const binding = bindingOf(folder, context.config.server);
  const recorded = state.binding();
  const rebound = counts.entries > 0 ? bindingGuard(folder.name, recorded, binding) : undefined;
  // What a `resume` agreed to counts as a --force of that stop; a dry run shows the pass it lets
  // through, and leaves the answer for that pass.
  const answer = state.answer();
  const force: Force = options.force || (answer ?? false);
  if (rebound && !overrides(force, rebound)) {
    if (!options.dryRun) noteStop(rebound);
    return { folder, plan: stoppedBy(rebound), skipped: [] };
  }
  if (!options.dryRun && recorded !== binding) {
    // Answered with the new pair written down: a pass that then fails does not leave it to
    // answer anything else.
    db.transaction(() => {
      state.bind(binding);
      if (rebound) state.spendAnswer();
    })();
  }
  // Sessions recorded for the server the folder was bound to: not asked of another before the
  // binding guard let the pass through.
  if (!options.dryRun) await cancelLeftoverUploads(state, remote, log);
  // What a one-way mode left unmirrored stays protected until a full pass in the new mode is clean.
  const source = sourceOf(folder.mode);
  const recordedSource = state.oneWaySource();
  const formerSource = recordedSource === source ? undefined : recordedSource;
  if (!options.dryRun && recordedSource === undefined && source !== undefined) state.setOneWaySource(source);
  const recordedMarker = state.localMarker();
  const marker = await readFolderMarker(folder.localPath, log);
  const scope = options.scope ?? { kind: 'full' };
  const listingContext = hash('sha256', JSON.stringify([version, listingRevision, rules.fingerprint, maxRelativePathBytes(folder.localPath)]), 'base64');
  const tables = new PassTables(db, id, { keepDigests: !options.dryRun, listingContext });
  const restoreV8 = tuneV8ForScan();
  let planned: Plan;
  let markerTrip: GuardTrip | undefined;
  let forceGuards: Force = false;
  let local: LocalScan;
  let remoteScan: RemoteSide;
  let copiesOnServer: ReadonlySet<string> = new Set();
  try {
    const scanOptions = {
      rules,
      onNode: (node: LocalNode) => tables.addLocal(node),
      onFolder: (path: string, nodes: readonly LocalNode[], raw?: RawRead) => tables.addLocalFolder(path, nodes, raw),
      asBefore: (path: string, rawDigest: string) => tables.localFolderAsBefore(path, rawDigest),
      recorded: (path: RelPath) => tree.recordedAt('local', path),
      ...(context.signal ? { signal: context.signal } : {}),
    };
    const walkRemote = async (): Promise<RemoteScan> => {
      const scan = await scanRemoteCreatingRoot(folder, context, rules, counts.entries === 0, options.dryRun, tables, tree);
      tables.cover('remote', '');
      return scan;
    };
    [local, remoteScan] = await Promise.all([
      scope.kind === 'full'
        ? scanLocal(folder.localPath, scanOptions).then((scan) => (tables.cover('local', ''), scan))
        : scanLocalPaths(folder.localPath, scope.paths, scanOptions).then((scan) => {
            for (const path of scan.reached) tables.cover('local', path);
            return scan;
          }),
      scope.kind === 'local-changes' && counts.entries > 0 ? rememberedUnlessChanged(folder, context, scope.paths, tree, rules, walkRemote) : walkRemote(),
    ]);
    // A folder that could not tell (empty, and not to be written) counts as case-sensitive, as
    // most local disks are, and is asked again next pass.
    const localCaseInsensitive = local.rootExists && ((await rootFoldsCase(folder.localPath, !options.dryRun && source !== 'local')) ?? false);
    const scanned = tables.scanned();
    const relevant = tables.relevant();
    // Only a full pass forgets copies that are gone (below).
    if (scope.kind === 'full') copiesOnServer = copiesFoundOnServer(state, relevant.remote);
    const totals: PlanTotals = {
      // Entries it skipped are there all the same: a folder holding only those is not empty
      // (but the root itself, reported when reading it failed midway, is no entry in it).
      localEntries: scope.kind === 'full' ? scanned.local + local.skipped.filter((entry) => entry.path !== '').length : await countEntries(folder.localPath, rules),
      remoteEntries: remoteScan.remembered ? counts.entries : scanned.remote + remoteScan.skipped.length,
      syncedEntries: counts.entries,
      syncedFiles: counts.files,
    };
    log.debug({ scope: scope.kind, ...scanned, foldersAsBefore: tables.foldersAsBefore(), listings: remoteScan.requests, synced: counts.entries, planned: relevant.synced.length, changed: relevant.changed }, 'scanned');

    // A folder that holds nothing is the root guard's to judge.
    markerTrip = local.rootExists && totals.localEntries > 0 && counts.entries > 0 ? markerGuard(folder.name, folder.localPath, recordedMarker, marker) : undefined;
    // A force that answers the binding guard answers only that one: the new pair is still judged
    // by the others (a drive not mounted yet at its new place is an empty folder).
    forceGuards = rebound === undefined && markerTrip === undefined ? force : false;
    // An entry renamed on either side to a name that is skipped is left where it was synced, on
    // both sides, as if unseen: else its old place would count as a delete.
    const renamedAway = [...tree.placesOf('local', local.skippedIds), ...tree.placesOf('remote', remoteScan.skippedIds)];
    planned = markerTrip && !overrides(force, markerTrip) ? stoppedBy(markerTrip) : plan(
      {
        local: { rootExists: local.rootExists, nodes: relevant.local, ignored: local.ignored, unknown: [...unknownOf(local), ...renamedAway.map((place) => place.localPath)] },
        remote: { rootExists: remoteScan.rootExists, nodes: relevant.remote, ignored: remoteScan.ignored, unknown: [...unknownOf(remoteScan), ...renamedAway.map((place) => place.remotePath)] },
        synced: relevant.synced,
        totals,
        ...(folder.massDelete.window > 0 ? { recentDeletes: state.deletesBetween(now() - folder.massDelete.window, now()) } : {}),
      },
      {
        mode: folder.mode,
        formerSource,
        conflictPolicy: folder.conflict,
        massDelete: folder.massDelete,
        force: forceGuards,
        localCaseInsensitive,
        remoteTrash: folder.remoteTrash !== undefined,
        localStateDir: folder.stateDirWithin,
        localDropping: isDroppingName,
        remoteNameProblem: (name) => remote.info.invalidNameReason(name),
        localNameProblem: (name) => (Buffer.byteLength(name) > maxNameBytes ? `longer than ${maxNameBytes} bytes` : undefined),
        conflictStamp: utcConflictStamp,
      },
    );
  } finally {
    restoreV8();
    // Whatever stopped the pass is the error to report, not a failed clean-up after it; the
    // tables of a connection in trouble go when it closes.
    try {
      tables.drop();
    } catch (error) {
      log.warn({ err: error }, 'could not drop the scan tables');
    }
  }
  if (planned.stopped) planned = { ...planned, stopped: explained(planned.stopped, folder) };
  const skipped = [...local.skipped, ...remoteScan.skipped, ...planned.skipped];
  for (const s of skipped) log.warn({ side: s.side, path: s.path, reason: s.reason }, 'skipped');
  if (options.dryRun) return { folder, plan: planned, skipped };
  if (answer !== undefined) state.spendAnswer();
  state.replaceSkipped(skipped, scope.kind === 'full' ? undefined : scope.paths);
  const markHere = async (): Promise<void> => {
    if (marker === 'unreadable' || !local.rootExists) return;
    const marked = await markFolder(folder.localPath, recordedMarker, marker, source !== 'local', (id) => state.markerRecordedElsewhere(id), log);
    if (marked !== recordedMarker) state.setLocalMarker(marked);
  };
  if (planned.stopped) {
    noteStop(planned.stopped);
    // A marker stop that was answered is answered for good, as a changed pair is: marked now,
    // the next pass does not stop at it again before the other guard's answer.
    if (markerTrip !== undefined && planned.stopped !== markerTrip) await markHere();
    return { folder, plan: planned, skipped };
  }
  // The daemon's pause (from a stop a `sync --once` has now got past) no longer holds.
  state.liftPause();
  // Only now: a folder a guard stopped at may not be ours, nor its temporary files.
  await removeLeftovers(folder.localPath, local.leftovers, log);
  await removeMovedRemoteTempFiles(state, remote, remoteScan.leftovers, log);
  // Deletes the user agreed to count no more, neither those before nor this pass's.
  const agreed = sidesAgreedToDelete(forceGuards);
  for (const side of agreed) state.forgetDeletes(side);

  const trash = new LocalTrash(join(context.config.stateDir, 'trash', folder.name), now);
  for (const failed of await trash.purge(folder.trashDays)) {
    log.warn({ path: failed.path, err: messageOf(failed.error) }, 'cannot empty an old day of the local trash; it stays, and syncing goes on');
  }
  const runStamp = utcConflictStamp(now());
  const report = await executePlan(planned, {
    ws: {
      local: new LocalTree(folder.localPath),
      remote: new RemoteTree(remote, folder.remotePath),
      trash,
      remoteTrash: folder.remoteTrash === undefined ? undefined : `${folder.remoteTrash}/${runStamp}`,
      replaceMaxSize: context.config.sync.replaceMaxSize,
      sessions: new UploadSessions(state, now, folder.remotePath, log),
      transfer: context.signal ? { signal: context.signal } : {},
      rescan: (path) => scanLocalPaths(folder.localPath, [path], { rules }),
    },
    db,
    tree,
    state,
    queue: context.queue,
    options: { retries: context.config.sync.retries, retryBaseDelayMs: 1000, settleTimeMs: context.config.sync.settleTime },
    serverWalked: remoteScan.remembered !== true && remoteScan.rootExists && remoteScan.unknown.length === 0,
    logger: log,
    now,
    ...(context.signal ? { signal: context.signal } : {}),
    ...(context.events ? { events: context.events } : {}),
  });
  if (folder.massDelete.window > 0) {
    const deleted = filesDeleted(report.results);
    for (const side of ['local', 'remote'] as const) if (!agreed.includes(side)) state.noteDeletes(side, deleted[side], now(), folder.massDelete.window);
  }
  const failed = [...report.results.values()].filter((r) => r.status === 'failed').length;
  // A pass a stop cut short left actions for the next one.
  const ok = !report.fatal && failed === 0 && context.signal?.aborted !== true;
  state.recordRun({ finishedMs: now(), ok, counts: report.counts, ...(report.fatal ? { error: report.fatal.message } : {}) });
  // A full pass lifts the former mode's protection once it has nothing left to keep: it found
  // nothing, or carried out its whole plan (whatever it left undone, the next full pass finds)
  // and skipped nothing (a kept entry the rules then skipped was not brought back), having seen
  // everything (an unreadable folder shows the Synced tree, hiding a delete in it).
  const allDone = [...report.results.values()].every((r) => r.status === 'done');
  const sawAll = local.unknown.length === 0 && remoteScan.unknown.length === 0;
  const keptAll = planned.heldBack === 0 || (ok && allDone && planned.skipped.length === 0);
  if (formerSource !== undefined && scope.kind === 'full' && sawAll && keptAll) state.setOneWaySource(source);
  // A path failing before that this pass, which saw everything, planned nothing for is over: the
  // file deleted since, say, or a mode that no longer sends it. Its record would be shown as
  // failing, and hold back the path's next action, for good.
  if (scope.kind === 'full' && sawAll) state.clearFailuresBut(new Set(planned.actions.map(actionPath)));
  if (scope.kind === 'full' && !report.fatal && context.signal?.aborted !== true) {
    const walkedAll = !remoteScan.remembered && remoteScan.rootExists && remoteScan.unknown.length === 0;
    const onServer = (path: RelPath): boolean => copiesOnServer.has(pathKey(path)) || tree.recordedAt('remote', path) !== undefined;
    await forgetGoneConflicts(state, folder.localPath, startedMs, walkedAll ? onServer : undefined);
  }
  await markHere();
  return { folder, plan: planned, skipped, report };
}

/**
 * The sides whose deletes a --force or a `resume` let through: of a mass delete, that side; of
 * an emptied folder, the other side, where its emptying is carried over.
 */
function sidesAgreedToDelete(force: Force): Side[] {
  if (force === true) return ['local', 'remote'];
  if (force === false || force.guard === 'binding') return [];
  return force.guard === 'mass-delete' ? [force.side] : [otherSide(force.side)];
}

/** Files the deletes carried out took away on each side, a folder counting the files in it. */
function filesDeleted(results: ReadonlyMap<Action, ActionResult>): Record<Side, number> {
  const deleted = { local: 0, remote: 0 };
  for (const [action, result] of results) {
    if (action.type !== 'delete' || result.status !== 'done') continue;
    const entries = action.side === 'local' ? action.localTree : action.remote;
    deleted[action.side] += action.kind === 'file' ? 1 : (entries?.filter((entry) => entry.kind === 'file').length ?? 0);
  }
  return deleted;
}

/**
 * The planner's reason for a stop, with what the user needs to act on it: the planner knows the
 * roots as '' only, and a daemon's user cannot run with --force. (The binding guards' reasons
 * say both already.)
 */
function explained(trip: GuardTrip, folder: FolderConfig): GuardTrip {
  switch (trip.guard) {
    case 'binding':
      return trip;
    case 'root': {
      const reason = `${trip.reason} [${trip.side === 'local' ? `local folder: ${folder.localPath}` : `server folder: ${folder.remotePath}`}]`;
      // The daemon stays paused when the folder comes back, until it is resumed.
      return { ...trip, reason: trip.missing ? `${reason}; once it is back, a daemon goes on after "cloudreve-sync resume ${folder.name}"` : `${reason}; if it was really emptied, ${howToGoPast(folder.name)}` };
    }
    case 'mass-delete':
      return { ...trip, reason: `${trip.reason}; if that is intended, ${howToGoPast(folder.name)}` };
  }
}

function stoppedBy(trip: GuardTrip): Plan {
  return { actions: [], skipped: [], stopped: trip, deletes: { local: 0, remote: 0 }, heldBack: 0 };
}

/** A remote side taken from memory rather than a walk: the Synced tree stands in for it. */
type RemoteSide = RemoteScan & { readonly remembered?: boolean };

/**
 * The server side for a pass about local changes: as remembered, unless a listing of the
 * folders around the changes shows that the server changed too, in which case it is walked.
 */
async function rememberedUnlessChanged(
  folder: FolderConfig,
  context: PassContext,
  paths: readonly string[],
  tree: SyncedTree,
  rules: IgnoreRules,
  walk: () => Promise<RemoteScan>,
): Promise<RemoteSide> {
  const check = await remoteFoldersUnchanged(context.remote, folder.remotePath, paths, tree, rules);
  if (!check.unchanged) return walk();
  return { rootExists: true, nodes: [], ignored: [], unknown: [], skipped: [], skippedIds: [], leftovers: [], policy: undefined, requests: check.listings, remembered: true };
}

/** A first sync into a server folder that does not exist yet creates it. */
async function scanRemoteCreatingRoot(
  folder: FolderConfig,
  context: PassContext,
  rules: IgnoreRules,
  firstRun: boolean,
  dryRun: boolean,
  tables: PassTables,
  tree: SyncedTree,
): Promise<RemoteScan> {
  const scan = (): Promise<RemoteScan> =>
    scanRemote(context.remote, folder.remotePath, {
      rules,
      concurrency: context.config.sync.concurrency,
      maxLocalPathBytes: maxRelativePathBytes(folder.localPath),
      onFolder: (path, nodes, fingerprint) => tables.addRemoteFolder(path, nodes, fingerprint),
      recorded: (path) => tree.recordedAt('remote', path),
      asBefore: { fingerprint: (path) => tables.listingAsBefore(path), take: (path) => tables.takeListingAsBefore(path) },
      onRestart: () => tables.resetRemote(),
      ...(context.signal ? { signal: context.signal } : {}),
    });
  const first = await scan();
  if (first.rootExists || !firstRun || folder.mode === 'download-only') return first;
  const inTheWay = (cause?: unknown): Error => new Error(`cannot create the server folder ${folder.remotePath}: a file of that name is in the way`, { cause });
  // A dry run shows the plan as if the folder had been created, unless it could not be.
  if (dryRun) {
    if ((await context.remote.stat(folder.remotePath, 'file')) !== undefined) throw inTheWay();
    return { ...first, rootExists: true };
  }
  try {
    await context.remote.mkdir(folder.remotePath);
  } catch (error) {
    if (isRemoteError(error, 'exists')) throw inTheWay(error);
    throw error;
  }
  tables.resetRemote();
  return scan();
}

/** Upload sessions a crash left open keep their names reserved on the server: cancel them. */
async function cancelLeftoverUploads(state: FolderState, remote: Remote, log: Logger): Promise<void> {
  for (const session of state.uploadSessions()) {
    try {
      await remote.cancelUpload(session.sessionId);
    } catch (error) {
      if (!isRemoteError(error, 'upload-session-expired') && !isRemoteError(error, 'not-found')) throw error;
    }
    state.closeUploadSession(session.sessionId);
    // Also a session that completed: its close was still to be written when the run ended.
    log.info({ path: session.path }, 'cancelled an upload session an earlier run left open (if it was unfinished)');
  }
}

/**
 * The longest relative path a server entry may have and still be written locally: PATH_MAX
 * (4096 with its terminating NUL) less the local root, its separator, and room for the
 * temporary name a download is first written under.
 */
function maxRelativePathBytes(localRoot: string): number {
  return 4095 - Buffer.byteLength(localRoot) - 1 - 40;
}
