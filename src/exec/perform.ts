import { rename, rm } from 'node:fs/promises';
import { basename } from 'node:path';
import { isRemoteError } from '../remote/errors.js';
import { isDroppingName, isOwnTempFileName } from '../scan/ignore.js';
import type { LocalScan } from '../scan/local.js';
import { unknownOf } from '../scan/unknown.js';
import type { RemoteEntry, TransferOptions } from '../remote/types.js';
import { isUploadDate, uploadDateOf } from '../remote/upload-date.js';
import type { Action, ConflictAction, DeleteAction, DownloadAction, LocalFacts, RemoteFacts, ScannedLocal, ScannedRemote, UploadAction } from '../plan/types.js';
import { baseName, isWithin, joinPath, parentOf } from '../tree/paths.js';
import type { LocalNode, RelPath } from '../tree/types.js';
import { crashPoint } from './crash.js';
import { LocalChangedError, sameFacts } from './local-facts.js';
import { beginsWith, sameContent, type LocalTree } from './local-fs.js';
import type { RemoteTree } from './remote-tree.js';
import type { ConflictOutcome, Outcome, RemoteAfterConflict } from './rows.js';
import type { LocalTrash } from './trash.js';
import type { UploadSource } from './upload-source.js';
import type { UploadSessions } from './upload-sessions.js';

/** What carrying out actions needs; one per synced folder and run. */
export interface Workspace {
  readonly local: LocalTree;
  readonly remote: RemoteTree;
  readonly trash: LocalTrash;
  /** Server folder this run moves remote deletes into, if deletes go to a trash. */
  readonly remoteTrash: string | undefined;
  /** Files at most this large are replaced in one request; larger ones by upload and swap. */
  readonly replaceMaxSize: number;
  /** Told of upload sessions, so that one left open by a crash can be cancelled later. */
  readonly sessions: UploadSessions;
  readonly transfer: TransferOptions;
  /** A scan of a local folder as it is now, with the run's ignore rules: what a folder delete looks at first. */
  readonly rescan?: (path: RelPath) => Promise<LocalScan>;
}

/** The action could not run now, for a reason that is not a failure: the next run re-plans it. */
export class DeferredError extends Error {
  override readonly name: string = 'DeferredError';
}

/** A download that brought fewer bytes than the file is listed at. */
class ShortDownloadError extends DeferredError {
  override readonly name = 'ShortDownloadError';
}

/** The server's copy came short, and what it holds is the beginning of the local file. */
class CutServerCopy extends DeferredError {
  override readonly name = 'CutServerCopy';
}

/** Deferred because the server changed where the action was to write since the scan. */
export class ServerChangedError extends DeferredError {
  override readonly name = 'ServerChangedError';
}

/** Carries out one action on the disk and the server; the caller records the outcome. */
export async function perform(action: Exclude<Action, ConflictAction>, ws: Workspace): Promise<Outcome> {
  switch (action.type) {
    case 'mkdir':
      if (action.side === 'local') return { local: await ws.local.mkdir(action.path) };
      await freeingEarlierNames(ws, () => ws.remote.remote.mkdir(ws.remote.abs(action.path)), heldUnseen(ws, action.path));
      return {};
    case 'upload':
      return upload(action, ws);
    case 'download':
      return download(action, ws);
    case 'move':
      if (action.side === 'local') await ws.local.move(action.from, action.to);
      else await freeingEarlierNames(ws, () => ws.remote.move({ kind: action.kind, id: action.remoteId ?? missing('remote ID') }, action.from, action.to), heldUnseen(ws, action.to));
      return {};
    case 'delete':
      await remove(action, ws);
      return {};
    case 'record':
    case 'forget':
      return {};
  }
}

async function remove(action: DeleteAction, ws: Workspace): Promise<void> {
  if (action.side === 'remote') {
    // A delete into a trash folder loses nothing, so only a real one is looked at again first.
    if (ws.remoteTrash === undefined && action.remote) await expectOnlyScanned(ws, action.path, action.remote);
    await ws.remote.delete({ kind: action.kind, id: action.remoteId ?? missing('remote ID') }, action.path, ws.remoteTrash);
    return;
  }
  if (!action.local && (await ws.local.facts(action.path)) === undefined) return;
  await ws.trash.put(ws.local.abs(action.path), action.path, async () => {
    if (action.local) await ws.local.expect(action.path, action.local);
    if (action.kind === 'dir' && ws.rescan) expectLocalOnlyScanned(action.path, action.localTree ?? [], await ws.rescan(action.path));
  });
}

/**
 * Throws unless the local folder `path` holds nothing but what `scanned` has, as it was. It goes
 * to the trash whole: what was written into it since the scan would be on neither side, and
 * what the scan could not see (an ignored entry, an unreadable one) on neither side ever. The
 * plan of a pass that did not read the folder (the daemon's server walk) has it as the Synced
 * tree remembers it, which this looks at too.
 */
function expectLocalOnlyScanned(path: RelPath, scanned: readonly ScannedLocal[], now: LocalScan): void {
  const below = (p: RelPath): boolean => isWithin(p, path);
  if (unknownOf(now).some(below) || now.ignored.some((p) => below(p) && !isDroppingName(baseName(p)))) {
    throw new DeferredError(`${path} holds entries the ignore rules leave out or that cannot be read; a pass that reads it keeps them`);
  }
  const seen = new Map(scanned.map((entry) => [entry.path, entry]));
  const asSeen = (node: LocalNode): boolean => {
    const entry = seen.get(node.path);
    return entry?.kind === node.kind && (node.kind === 'dir' ? entry.inode === node.inode : sameFacts(node, entry));
  };
  const changed = now.nodes.find((node) => below(node.path) && !asSeen(node));
  if (changed) {
    throw new LocalChangedError(`${changed.path} ${seen.has(changed.path) ? 'changed' : 'appeared'} since the scan, so ${path}, which the server deleted, stays; it will be looked at again next run`);
  }
}

/**
 * Uploads a new file to `path` with its upload sessions written down (see UploadSessions).
 *
 * A file read whole before it is sent (`snapshot`, at most 256 KiB) takes a short session, which
 * is not written down by ID when the server can cancel all sessions: the pass's note covers it
 * (a later upload of that name finding it held frees it), and a commit per small file is saved.
 * A temporary name is never uploaded again, so its session is always written down. Such a
 * session that outlives its upload (its cancel failed) is written down by ID after all, before
 * the pass can remove the note.
 */
async function uploadNew(ws: Workspace, path: RelPath, { source, snapshot }: UploadSource, withProgress: boolean): Promise<void> {
  const briefly = snapshot && ws.remote.remote.cancelAllUploads !== undefined && !isOwnTempFileName(baseName(path));
  const open = new Set<string>();
  const options = {
    ...ws.transfer,
    onProgress: (bytes: number) => {
      ws.transfer.onProgress?.(bytes);
      if (withProgress && bytes > 0) crashPoint('upload:mid-transfer');
    },
    onSessionOpening: () => ws.sessions.opening(),
    onSessionUnanswered: () => ws.sessions.unanswered(),
    onSessionOpened: (id: string) => {
      if (briefly) open.add(id);
      else ws.sessions.opened(id, path);
    },
    onSessionClosed: (id: string) => {
      if (briefly) open.delete(id);
      else ws.sessions.closed(id);
    },
  };
  const send = (): Promise<void> => ws.remote.remote.upload(ws.remote.abs(parentOf(path)), baseName(path), source, options);
  try {
    await freeingEarlierNames(ws, send, (error) => isRemoteError(error, 'upload-in-progress'));
  } finally {
    for (const id of open) ws.sessions.opened(id, path);
  }
}

/**
 * Runs a server write; when it fails at a name an upload in progress holds (`held` tells), which
 * may be a session an earlier run opened but could not name, the names such sessions hold are
 * freed (see UploadSessions.freeEarlierNames) and the write is tried again.
 */
async function freeingEarlierNames(ws: Workspace, write: () => Promise<void>, held: (error: unknown) => boolean | Promise<boolean>): Promise<void> {
  try {
    await write();
  } catch (error) {
    const { remote } = ws.remote;
    const cancelAll = remote.cancelAllUploads?.bind(remote);
    if (cancelAll === undefined || !ws.sessions.earlierMayHoldNames || !(await held(error))) throw error;
    await ws.sessions.freeEarlierNames(cancelAll);
    await write();
  }
}

/**
 * For a folder made, or an entry moved or renamed, at `path`: Cloudreve answers "exists" for a
 * name an upload in progress holds, unseen until done, which its folder then lists no entry under.
 */
function heldUnseen(ws: Workspace, path: RelPath): (error: unknown) => Promise<boolean> {
  return async (error) => {
    if (!isRemoteError(error, 'exists')) return false;
    const { entries } = await ws.remote.remote.list(ws.remote.abs(parentOf(path)));
    return !entries.some((entry) => entry.name === baseName(path));
  };
}

async function upload(action: UploadAction, ws: Workspace): Promise<Outcome> {
  return withLocalFile(ws, action.localPath, action.local, async (read) => {
    try {
      return await sendVersion(action, ws, read);
    } catch (error) {
      // A file truncated or replaced under the stream fails the request: a change, not a failure.
      if (!read.snapshot && !(await ws.local.unchanged(action.localPath, action.local))) {
        throw new LocalChangedError(`${action.localPath} changed while it was uploaded; it will be looked at again next run`, { cause: error });
      }
      throw error;
    }
  });
}

async function sendVersion(action: UploadAction, ws: Workspace, read: UploadSource): Promise<Outcome> {
  const { source, snapshot } = read;
  let newObject = false;
  if (!action.replace) {
    await uploadNew(ws, action.remotePath, read, true);
  } else if (source.size <= ws.replaceMaxSize) {
    await expectOnServer(ws, action.remotePath, action.replace, replacesSent.has(action) ? source.size : undefined);
    replacesSent.add(action);
    await ws.remote.remote.replace(action.replace.id, source, ws.transfer);
  } else {
    await swapIn(ws, action, action.replace, read);
    newObject = true;
  }
  // A file that changed while it was streamed may have sent a mix of versions; recording the
  // facts from before makes the next run send it again.
  const stable = snapshot || (await ws.local.unchanged(action.localPath, action.local));
  return { local: action.local, ...(newObject ? { newRemoteObject: true } : {}), ...(stable ? {} : { changedDuringUpload: true }) };
}

/**
 * Sends a version too large for one request: uploads it beside the server's file, then swaps,
 * so the old version stays whole until the new one is complete. The old version goes as a delete
 * does (into the remote trash when there is one), and the file gets a new ID. Once the old
 * version is gone, a retry of `action` only renames the new one into place: starting over would
 * find the file missing and leave the name empty, the new version in a temporary file.
 */
async function swapIn(ws: Workspace, action: UploadAction | ConflictAction, old: RemoteFacts, read: UploadSource): Promise<void> {
  const { localPath, remotePath } = action;
  let temp = swapsUnderway.get(action);
  if (temp === undefined) {
    const localName = ws.local.tempBeside(localPath);
    ws.local.journal?.removed('local', localName);
    temp = joinPath(parentOf(remotePath), basename(localName));
    await expectOnServer(ws, remotePath, old);
    // Written down first: a crash before the rename would leave it on the server for good.
    ws.local.journal?.created('remote', ws.remote.abs(temp));
    await uploadNew(ws, temp, read, true);
    crashPoint('upload:before-swap');
    await expectOnServer(ws, remotePath, old);
    await ws.remote.delete({ kind: 'file', id: old.id }, remotePath, ws.remoteTrash);
    swapsUnderway.set(action, temp);
  }
  const uploaded = await ws.remote.remote.stat(ws.remote.abs(temp), 'file');
  if (!uploaded) throw new DeferredError(`${remotePath}: the new version vanished before it could be renamed into place`);
  await ws.remote.remote.rename({ kind: 'file', id: uploaded.id }, baseName(remotePath));
  swapsUnderway.delete(action);
  ws.local.journal?.removed('remote', ws.remote.abs(temp));
}

/** Replaces this run already sent at least once; see `expectOnServer`. */
const replacesSent = new WeakSet<UploadAction>();

/** Swaps whose old version this run already removed, with the new version's temporary path. */
const swapsUnderway = new WeakMap<UploadAction | ConflictAction, RelPath>();

/**
 * Cloudreve v3 replaces a file unconditionally: an edit made on the server since the scan (a web
 * upload during a long pass, or while a failed request waits for its retry) would be overwritten
 * unseen. The file is looked at again just before; what remains is the moment in between.
 *
 * After an attempt of our own (`sentSize`, the size it sends), the file may hold what that
 * attempt left: an update cut off mid-body leaves a file listed as before (the bytes that
 * arrived under its old size and date), or empty if it shared its content with a copy, and an
 * update whose answer was lost may have landed whole. Each is ours, and is sent again.
 */
async function expectOnServer(ws: Workspace, path: RelPath, expected: RemoteFacts, sentSize?: number): Promise<void> {
  const current = await ws.remote.remote.stat(ws.remote.abs(path), 'file');
  if (current?.id === expected.id) {
    const asScanned = current.size === expected.size && current.modifiedMs === expected.modifiedMs;
    const leftByUs = sentSize !== undefined && (current.size === 0 || current.size === sentSize);
    if (asScanned || leftByUs) return;
  }
  throw changedOnServer(path);
}

function changedOnServer(path: RelPath): ServerChangedError {
  return new ServerChangedError(`${path} changed on the server since the scan; it will be looked at again next run`);
}

/**
 * Cloudreve v3 deletes unconditionally, a folder with everything in it: a server edit or a new
 * file made since the scan would go with it unseen. What the delete takes is looked at again
 * just before, and anything the scan did not see (`scanned`: the entry, then all below it)
 * defers it to the next run, which sees the change. What remains is the moment in between.
 */
async function expectOnlyScanned(ws: Workspace, path: RelPath, scanned: readonly ScannedRemote[]): Promise<void> {
  const [entry] = scanned;
  if (entry === undefined || (await holdsOnly(ws, path, entry, new Map(scanned.map((seen) => [seen.id, seen]))))) return;
  throw changedOnServer(path);
}

/**
 * How old another device's temporary file on the server (a large file's new version, uploaded
 * beside it before its swap) must be for a folder delete to take it along. The swap follows the
 * upload at once, and a crash in between has that device's next run remove the file; one a day
 * old was left by a device that is not coming back, and would hold the folder for good. That
 * device still has the file it was sending, should it come back after all.
 */
const abandonedAfterMs = 24 * 60 * 60 * 1000;

/** Whether `path` on the server is still `entry`, holding nothing but what `scanned` has, as it was. */
async function holdsOnly(ws: Workspace, path: RelPath, entry: ScannedRemote, scanned: ReadonlyMap<string, ScannedRemote>): Promise<boolean> {
  const asScanned = (found: RemoteEntry): boolean => {
    const seen = scanned.get(found.id);
    return seen?.kind === found.kind && (found.kind === 'dir' || (seen.size === found.size && seen.modifiedMs === found.modifiedMs));
  };
  const abandoned = (found: RemoteEntry): boolean => found.kind === 'file' && isOwnTempFileName(found.name) && Date.now() - found.modifiedMs > abandonedAfterMs;
  const { remote } = ws.remote;
  try {
    if (entry.kind === 'file') {
      const current = await remote.stat(ws.remote.abs(path), 'file');
      return current !== undefined && asScanned(current);
    }
    const folders = [path];
    for (let folder = folders.pop(); folder !== undefined; folder = folders.pop()) {
      const listing = await remote.list(ws.remote.abs(folder));
      if ((folder === path && listing.folderId !== entry.id) || !listing.entries.every((found) => asScanned(found) || abandoned(found))) return false;
      for (const found of listing.entries) if (found.kind === 'dir') folders.push(joinPath(folder, found.name));
    }
    return true;
  } catch (error) {
    // Gone, or its folder is: whatever happened, the next scan sees it.
    if (isRemoteError(error, 'not-found')) return false;
    throw error;
  }
}

async function download(action: DownloadAction, ws: Workspace): Promise<Outcome> {
  // Looked at before the transfer too: what took the file's place since the scan (a link the
  // scan skips, say) would have it fetched whole only to be left for the next run, every run.
  await ws.local.expect(action.localPath, action.existing);
  const local = await ws.local.writeAtomically(
    action.localPath,
    action.remote.modifiedMs,
    action.existing,
    async (temp) => {
      await downloadWhole(action.localPath, action.remote, temp, ws);
    },
    ws.trash,
  );
  return { local };
}

/**
 * Downloads a server file into `temp`, refusing bytes of another size than listed. Cloudreve
 * writes an update in place and gives the file its new size and date only once it is whole:
 * until then, or for good when the update broke off, the listing's size tells the difference.
 */
async function downloadWhole(path: RelPath, remote: RemoteFacts, temp: string, ws: Workspace): Promise<void> {
  const bytes = await ws.remote.remote.download(remote.id, temp, ws.transfer);
  if (bytes !== remote.size) {
    throw new (bytes < remote.size ? ShortDownloadError : DeferredError)(
      `${path}: the server sent ${bytes} bytes of a file listed at ${remote.size}; it may be being written, and will be looked at again next run (if it stays so, the server's copy is broken: replace or delete it there)`,
    );
  }
}

/** Where the copy of a conflict kept as two files is on the server: beside the file, under the copy's name. */
export function serverCopyPath(action: ConflictAction): RelPath {
  return joinPath(parentOf(action.remotePath), baseName(action.conflictPath));
}

/**
 * Settles a file that differs on both sides. Equal sizes first get a byte comparison, since
 * the same edit made on two machines is no conflict. Otherwise the policy decides; whatever
 * loses is kept as a conflict copy or in a trash. `setAside` durably forgets the entry's row,
 * before the server's version is renamed aside for good.
 */
export async function settleConflict(action: ConflictAction, ws: Workspace, setAside: () => void): Promise<ConflictOutcome> {
  await ws.local.expect(action.localPath, action.local);
  const fetchRemote = async (): Promise<string> => {
    // Upload-only never writes in the folder: the server's version waits beside the trash it may go to.
    const temp = action.mode === 'upload-only' ? await ws.local.tempOutside(ws.trash.dir) : ws.local.tempBeside(action.localPath);
    try {
      await downloadWhole(action.localPath, action.remote, temp, ws);
      return temp;
    } catch (error) {
      const cut = error instanceof ShortDownloadError && sentFromHere(action) && (await beginsWith(ws.local.abs(action.localPath), temp));
      await rm(temp, { force: true });
      ws.local.journal?.removed('local', temp);
      throw cut ? new CutServerCopy(error.message, { cause: error }) : error;
    }
  };
  let fetched: string | undefined;
  try {
    // A retry once the server's version is kept knows they differ, and may find it gone (swapped).
    if (action.local.size === action.remote.size && !losersKept.has(action)) {
      try {
        fetched = await fetchRemote();
      } catch (error) {
        // Cloudreve completes an upload whose client went before the last answer at its full
        // size with only the bytes before the last chunk stored (see storedSize in the client):
        // a run killed then leaves its own upload so, never to be downloaded whole. Those bytes
        // being the local file's beginning, the local file is sent over them.
        if (!(error instanceof CutServerCopy) || action.mode === 'download-only') throw error;
        // Keeping nothing of the server's: only while it is still as scanned (a whole version
        // written there since is another's).
        return { kind: 'repaired', local: action.local, remote: await sendOver(action, ws, {}) };
      }
      if (await sameContent(fetched, ws.local.abs(action.localPath))) return { kind: 'identical', local: action.local };
    }
    switch (action.resolution) {
      case 'local-wins': {
        const remote = await replaceRemote(action, ws, async () => fetched ?? (fetched = await fetchRemote()));
        return { kind: 'settled', local: action.local, remote };
      }
      case 'remote-wins': {
        const local = await placeRemoteVersion(action, ws, fetched ?? (fetched = await fetchRemote()), action.local);
        return { kind: 'settled', local, remote: 'as-planned' };
      }
      case 'keep-both': {
        if (action.mode === 'upload-only') {
          // The server's version becomes the copy; the local file takes the name there. The row
          // goes first: should the upload fail after the rename, the next run would take the
          // renamed file (of the same size, its date bumped by the rename) for the synced one
          // moved, and replace it. Without a row, both versions are new files to it.
          setAside();
          await ws.remote.remote.rename({ kind: 'file', id: action.remote.id }, baseName(action.conflictPath));
          await withLocalFile(ws, action.localPath, action.local, (read) => uploadNew(ws, action.remotePath, read, false));
          return { kind: 'settled', local: action.local, remote: 'set-aside' };
        }
        const temp = fetched ?? (fetched = await fetchRemote());
        await ws.local.move(action.localPath, action.conflictPath);
        const local = await placeRemoteVersion(action, ws, temp, undefined);
        const copyLocal = (await ws.local.facts(action.conflictPath)) ?? missing(action.conflictPath);
        if (action.mode === 'download-only') return { kind: 'settled', local, remote: 'as-planned' };
        // Sessions written down as for any upload (they were not: a crash left the copy's name reserved).
        await withLocalFile(ws, action.conflictPath, copyLocal, (read) => uploadNew(ws, serverCopyPath(action), read, false));
        return { kind: 'copied', local, copyName: baseName(action.conflictPath), copyLocal };
      }
      default:
        return action.resolution satisfies never;
    }
  } finally {
    if (fetched !== undefined) {
      await rm(fetched, { force: true });
      ws.local.journal?.removed('local', fetched);
    }
  }
}

/** Puts an already fetched remote version in place of the local file (which goes to the trash). */
async function placeRemoteVersion(action: ConflictAction, ws: Workspace, fetched: string, expected: LocalFacts | undefined): Promise<LocalFacts> {
  return ws.local.writeAtomically(
    action.localPath,
    action.remote.modifiedMs,
    expected,
    async (temp) => {
      await rename(fetched, temp);
    },
    ws.trash,
  );
}

/**
 * Local wins: the server's version is kept first, in the remote trash when there is one, else
 * fetched (`fetch`, a local temporary file) into the local trash. A version too large for one
 * request is swapped in (see `swapIn`), which takes the old one to the remote trash itself.
 */
async function replaceRemote(action: ConflictAction, ws: Workspace, fetch: () => Promise<string>): Promise<RemoteAfterConflict> {
  const whole = action.local.size <= ws.replaceMaxSize;
  const retry = losersKept.has(action);
  if (!retry) {
    if (ws.remoteTrash === undefined) {
      await ws.trash.put(await fetch(), action.localPath);
    } else if (whole) {
      await keepInTrash(ws, ws.remoteTrash, action);
    }
    losersKept.add(action);
  }
  // What was kept is the version of the first attempt: one written on the server while the
  // retry waited is looked at first, as an upload's replace is.
  return sendOver(action, ws, retry ? { sentSize: action.local.size } : undefined);
}

/**
 * Copies the server's version into the remote trash before it is replaced. A copy that finds the
 * file gone from its folder (another device moved it since the scan) copies nothing: the replace
 * by ID would then leave that version nowhere, so the conflict waits for a pass that sees the move.
 */
async function keepInTrash(ws: Workspace, trash: string, action: ConflictAction): Promise<void> {
  const into = await ws.remote.trashFolder(trash, action.remotePath);
  try {
    await ws.remote.remote.copy(ws.remote.abs(parentOf(action.remotePath)), { kind: 'file', id: action.remote.id }, into);
  } catch (error) {
    if (!isRemoteError(error, 'not-found')) throw error;
    throw new ServerChangedError(`${action.remotePath} was moved or changed on the server before its version could be kept in the trash; left for the next run`);
  }
}

/**
 * Whether the server's file is dated as an upload of the local file would date it: Cloudreve
 * dates an upload with the modification time sent, so a cut copy of our own upload shows the
 * local file's; a version another device is writing in place (stored short until it is done)
 * shows its old date meanwhile.
 */
function sentFromHere(action: ConflictAction): boolean {
  const sent = uploadDateOf(action.local.mtimeMs);
  return sent !== undefined && isUploadDate(action.remote.modifiedMs, sent);
}

/**
 * Sends the local version of a conflict over the server's: swapped in when too large for one
 * request (which looks at the server's first), else replaced in place once the server's is found
 * as scanned when `recheck` asks (`sentSize`: what an attempt of ours sent, see expectOnServer).
 */
async function sendOver(action: ConflictAction, ws: Workspace, recheck: { readonly sentSize?: number } | undefined): Promise<RemoteAfterConflict> {
  return withLocalFile(ws, action.localPath, action.local, async (read) => {
    if (action.local.size > ws.replaceMaxSize) {
      await swapIn(ws, action, action.remote, read);
      return 'new';
    }
    if (recheck) await expectOnServer(ws, action.remotePath, action.remote, recheck.sentSize);
    await ws.remote.remote.replace(action.remote.id, read.source, ws.transfer);
    return 'replaced';
  });
}

/** Local-wins conflicts whose server version is kept already: a retry keeps no second copy. */
const losersKept = new WeakSet<ConflictAction>();

/** Uses a local file that must still be what the plan saw (see LocalTree.readForUpload). */
async function withLocalFile<T>(ws: Workspace, path: RelPath, expected: LocalFacts, use: (read: UploadSource) => Promise<T>): Promise<T> {
  const read = await ws.local.readForUpload(path, expected);
  try {
    return await use(read);
  } finally {
    await read.close();
  }
}

/** Errors that mean "look again next run" rather than "this path is failing". */
export function isDeferral(error: unknown): boolean {
  return error instanceof LocalChangedError || error instanceof DeferredError || isRemoteError(error, 'not-found') || isRemoteError(error, 'exists');
}

function missing(what: string): never {
  throw new DeferredError(`${what} is missing`);
}
