import { unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Logger } from '../log/logger.js';
import { isRemoteError } from '../remote/errors.js';
import { errnoCode } from '../scan/errors.js';
import { isOwnTempName } from '../scan/ignore.js';
import type { FolderState } from '../state/folder-state.js';
import type { RelPath } from '../tree/types.js';
import type { TempJournal } from './local-fs.js';
import type { RemoteTree } from './remote-tree.js';
import type { Remote } from '../remote/types.js';
import type { RemoteLeftover } from '../scan/remote.js';

const removedLeftover = 'removed a temporary file left by an interrupted run';

/** A journal of temporary files kept in the folder's state, in the database. */
export function stateJournal(state: FolderState, now: () => number): TempJournal {
  return {
    created: (side, path) => state.addTempFile(side, path, now()),
    removed: (side, path) => state.removeTempFile(side, path),
  };
}

/**
 * Removes the temporary files an earlier run wrote down and never crossed out: it was killed
 * between creating one and renaming or removing it (a crash during a download leaves a partial
 * file beside its target). Only names of cloudreve-sync's own pattern are ever removed.
 *
 * A server file missing from its noted path may have been carried away by a folder renamed on
 * the server, where only a walk of the whole server side finds it (`removeMovedRemoteTempFiles`):
 * its note is crossed out only when this pass made such a walk (`serverWalked`).
 */
export async function sweepTempFiles(state: FolderState, remote: RemoteTree, serverWalked: boolean, logger: Logger): Promise<void> {
  const entries = state.tempFiles();
  for (const { side, path } of entries) {
    // Sessions being opened are UploadSessions' to look after.
    if (side === 'upload') continue;
    if (!isOwnTempName(basename(path))) {
      state.removeTempFile(side, path);
      continue;
    }
    // Found by this pass's walk, a local one may be gone already (see removeLeftovers).
    const removed = side === 'local' ? await removeLocal(path) : await removeAtNotedPath(remote.remote, path);
    if (side === 'remote' && !removed && !serverWalked) continue;
    state.removeTempFile(side, path);
    if (removed) logger.info({ side, path }, removedLeftover);
  }
}

/** Removes a server file at `path`; whether one was there. */
async function removeAtNotedPath(remote: Remote, path: string): Promise<boolean> {
  try {
    const entry = await remote.stat(path, 'file');
    if (entry) await remote.delete([{ kind: 'file', id: entry.id }]);
    return entry !== undefined;
  } catch (error) {
    // Its folder is not there either; anything else is tried again next run.
    if (!isRemoteError(error, 'not-found')) throw error;
    return false;
  }
}

/**
 * Removes the server's temporary files that a folder renamed on the server carried away from
 * their noted path: the new version of a large file, uploaded beside its target before the
 * swap (the note stays until the swap is done). Only a file whose random name a note holds is
 * removed; the same pattern elsewhere may be another device's upload about to be swapped.
 */
export async function removeMovedRemoteTempFiles(state: FolderState, remote: Remote, found: readonly RemoteLeftover[], logger: Logger): Promise<void> {
  if (found.length === 0) return;
  const noted = new Map(state.tempFiles().flatMap(({ side, path }) => (side === 'remote' ? [[basename(path), path] as const] : [])));
  for (const leftover of found) {
    const note = noted.get(basename(leftover.path));
    if (note === undefined) continue;
    try {
      await remote.delete([{ kind: 'file', id: leftover.id }]);
    } catch (error) {
      if (!isRemoteError(error, 'not-found')) {
        logger.warn({ side: 'remote', path: leftover.path, err: error }, 'cannot remove a temporary file left by an interrupted run');
        continue;
      }
    }
    state.removeTempFile('remote', note);
    logger.info({ side: 'remote', path: leftover.path }, removedLeftover);
  }
}

/**
 * Removes the temporary files a walk found in the local folder (`LocalScan.leftovers`). Most
 * are also noted and swept above; a folder renamed while a download wrote beside its target
 * carries the file away from the noted path, and the download's failure crossed the note out,
 * so only a walk still finds it. What cannot be removed now is tried again by the next walk.
 */
export async function removeLeftovers(root: string, paths: readonly RelPath[], logger: Logger): Promise<void> {
  for (const path of paths) {
    try {
      if (await removeLocal(join(root, path))) logger.info({ side: 'local', path }, removedLeftover);
    } catch (error) {
      logger.warn({ side: 'local', path, err: error }, 'cannot remove a temporary file left by an interrupted run');
    }
  }
}

/** Removes a local file; whether it was there. */
async function removeLocal(path: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (error) {
    // A path too long to name was never created either: its note is all there is.
    const code = errnoCode(error);
    if (code === 'ENOENT' || code === 'ENAMETOOLONG') return false;
    throw error;
  }
}
