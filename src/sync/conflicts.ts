import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import type { FolderConfig } from '../config/load.js';
import { remotePath } from '../exec/remote-tree.js';
import type { Logger } from '../log/logger.js';
import type { Remote } from '../remote/types.js';
import { errnoCode } from '../scan/errors.js';
import type { Conflict, FolderState } from '../state/folder-state.js';

/**
 * Forgets the conflict copies the user has removed or renamed since, which settled them: a
 * full pass looks at each (a request for a copy on the server), so that `status` lists what is
 * still open and the list does not grow for good. A copy that cannot be looked at stays listed.
 */
export async function forgetGoneConflicts(state: FolderState, folder: FolderConfig, remote: Remote, log: Logger): Promise<void> {
  const gone: Conflict[] = [];
  for (const conflict of state.conflicts()) {
    try {
      if (!(await stillThere(conflict, folder, remote))) gone.push(conflict);
    } catch (error) {
      log.debug({ path: conflict.copyPath, side: conflict.side, err: (error as Error).message }, 'cannot look at a conflict copy; it stays listed');
    }
  }
  state.forgetConflicts(gone);
}

async function stillThere(conflict: Conflict, folder: FolderConfig, remote: Remote): Promise<boolean> {
  if (conflict.side === 'remote') return (await remote.stat(remotePath(folder.remotePath, conflict.copyPath), 'file')) !== undefined;
  try {
    await lstat(join(folder.localPath, ...conflict.copyPath.split('/')));
    return true;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return false;
    throw error;
  }
}
