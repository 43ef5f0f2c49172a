import type { EntryKind } from '../remote/types.js';

export type { EntryKind };

export type Side = 'local' | 'remote';

export function otherSide(side: Side): Side {
  return side === 'local' ? 'remote' : 'local';
}

/**
 * A path inside a synced folder, relative to its root: names joined by '/', no leading or
 * trailing slash. The root itself is ''. Spelled as on the side it came from (on-disk or remote
 * spelling); compare paths through `pathKey`.
 */
export type RelPath = string;

/** What the local scanner saw. */
export interface LocalNode {
  readonly path: RelPath;
  readonly kind: EntryKind;
  /** Bytes; 0 for folders. */
  readonly size: number;
  readonly mtimeMs: number;
  /** The inode number as a decimal string; recognises renames on the same filesystem. */
  readonly inode: string;
  /** Not seen by the scan, and stood in by the planner as the Synced tree remembers it. */
  readonly unseen?: true;
}

/** What the remote scanner saw. */
export interface RemoteNode {
  readonly path: RelPath;
  readonly kind: EntryKind;
  readonly id: string;
  readonly size: number;
  readonly modifiedMs: number;
  /** Not seen by the scan, and stood in by the planner as the Synced tree remembers it. */
  readonly unseen?: true;
}

/**
 * The remote half of a Synced entry. The modification time is unknown after our own upload or
 * move until a listing tells it (the server bumps it on moves and renames).
 */
export interface SyncedRemote {
  readonly id: string;
  readonly modifiedMs: number | undefined;
}

/**
 * One entry of the Synced tree: what both sides held after the last successful action on it.
 * Entries form a tree on each side through parent row IDs (0 is the root), so moving a folder
 * rewrites one row. The two sides' positions differ only while a move made on one side has not
 * yet been mirrored on the other (for example after a crash between the two halves of a rename).
 * `localPath` and `remotePath` are derived from the parents when the tree is loaded.
 */
export interface SyncedNode {
  /** Row ID in the state database; stable while the entry exists. */
  readonly id: number;
  readonly kind: EntryKind;
  readonly localParent: number;
  readonly localPath: RelPath;
  readonly remoteParent: number;
  readonly remotePath: RelPath;
  /** Bytes both sides agreed on; 0 for folders. */
  readonly size: number;
  readonly localMtimeMs: number;
  readonly inode: string;
  /** Undefined right after an upload, until a listing tells the new file's ID. */
  readonly remote: SyncedRemote | undefined;
  /**
   * Meanwhile, the date that upload gave the file (see `uploadDateOf`): a file of another date
   * at its place is not the one we sent.
   */
  readonly sentModifiedMs?: number;
}

/** The root folder's row ID in parent references. */
export const rootRow = 0;

/**
 * What a safety guard stopped, as far as a user's agreement to it goes: a `resume` answers this
 * stop, and a later one only if it is the same (a mass delete no larger), not whatever comes next.
 */
export type GuardAnswer =
  | { readonly guard: 'root'; readonly side: Side }
  | { readonly guard: 'mass-delete'; readonly side: Side; readonly count: number }
  /** `to`: the pair of folders agreed to, as the binding guard spells it. */
  | { readonly guard: 'binding'; readonly side: Side; readonly to: string };

/** A path that was left alone, and why; shown in logs, `status` and the exit code. */
export interface SkippedPath {
  readonly side: Side;
  readonly path: RelPath;
  readonly kind: EntryKind;
  readonly reason: string;
}

/** A change cloudreve-sync is about to make to a local path. */
export interface LocalWrite {
  readonly path: RelPath;
  /** A folder moved into place, which the next pass looks at again whatever is reported. */
  readonly movedIn: boolean;
}
