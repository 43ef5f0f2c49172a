import type { LocalNode, RemoteNode, SyncedNode } from './types.js';

/** The local entry as the Synced tree remembers it, for parts of a side not looked at. */
export function localFromSynced(base: SyncedNode): LocalNode {
  return { path: base.localPath, kind: base.kind, size: base.size, mtimeMs: base.localMtimeMs, inode: base.inode };
}

/** The remote entry as the Synced tree remembers it. */
export function remoteFromSynced(base: SyncedNode): RemoteNode {
  return { path: base.remotePath, kind: base.kind, id: base.remote?.id ?? '', size: base.size, modifiedMs: base.remote?.modifiedMs ?? base.sentModifiedMs ?? 0 };
}
