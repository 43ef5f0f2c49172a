import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode } from '../scan/errors.js';
import type { Conflict, FolderState } from '../state/folder-state.js';
import { pathKey } from '../tree/paths.js';
import type { RelPath, RemoteNode } from '../tree/types.js';

/**
 * Of the conflict copies on the server alone (upload-only), those among `changed`: the server
 * entries a pass found not as the Synced tree has them, where a copy, which has no row, is.
 * Kept apart from the walk's entries, which a pass lets go before it carries its plan out.
 */
export function copiesFoundOnServer(state: FolderState, changed: readonly RemoteNode[]): ReadonlySet<string> {
  const copies = new Set(state.conflicts().flatMap((c) => (c.side === 'remote' ? [pathKey(c.copyPath)] : [])));
  if (copies.size === 0) return copies;
  return new Set(changed.flatMap((node) => (node.kind === 'file' && copies.has(pathKey(node.path)) ? [pathKey(node.path)] : [])));
}

/**
 * Forgets the conflict copies the user has removed or renamed since, which settled them, so
 * that the list holds what is still open and does not grow for good. A local copy is looked at
 * on the disk; a copy on the server alone is judged by the pass's walk of the server, without a
 * request of its own, and only after a walk of all of it (`onServer`: found there, or recorded
 * in the Synced tree). Copies this pass made (at `passStartedMs` or later) are new, not gone.
 */
export async function forgetGoneConflicts(state: FolderState, localRoot: string, passStartedMs: number, onServer: ((path: RelPath) => boolean) | undefined): Promise<void> {
  const gone: Conflict[] = [];
  for (const conflict of state.conflicts()) {
    if (conflict.createdMs >= passStartedMs) continue;
    const there = conflict.side === 'local' ? await existsLocally(join(localRoot, ...conflict.copyPath.split('/'))) : onServer?.(conflict.copyPath) ?? true;
    if (!there) gone.push(conflict);
  }
  state.forgetConflicts(gone);
}

/** Whether a local copy is there; one that cannot be looked at (a folder above it unreadable) stays listed. */
async function existsLocally(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    return errnoCode(error) !== 'ENOENT';
  }
}
