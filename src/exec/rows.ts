import type { Action, ConflictAction, LocalFacts, NodeRef, RemoteFacts, RowWrite } from '../plan/types.js';
import { uploadDateOf } from '../remote/upload-date.js';
import type { SyncedTree } from '../state/synced.js';
import { otherSide } from '../tree/types.js';

/**
 * Turns the plan's node references into Synced row IDs: existing rows by ID, entries new in
 * this plan by the row their first write created.
 */
export class RowRefs {
  readonly #fresh = new Map<number, number>();

  resolve(ref: NodeRef): number | undefined {
    return 'row' in ref ? ref.row : this.#fresh.get(ref.fresh);
  }

  bind(ref: NodeRef, id: number): void {
    if ('fresh' in ref) this.#fresh.set(ref.fresh, id);
  }
}

/** Stands in when nothing is known locally; the next scan then records the real facts. */
const noLocalFacts: LocalFacts = { size: 0, mtimeMs: 0, inode: '' };

/** What an action learned while running, beyond what the plan already knew. */
export interface Outcome {
  /** The local entry as it is now (after a download, a mkdir, an upload's final stat). */
  readonly local?: LocalFacts;
  /** Remote facts when the action learned them. */
  readonly remote?: RemoteFacts;
  /** The upload created a new server object in place of the old one (its ID is not known yet). */
  readonly newRemoteObject?: boolean;
  /** The file changed while it was uploaded; its row keeps the facts from before. */
  readonly changedDuringUpload?: boolean;
}

/**
 * Records in the Synced tree what a successful action changed, in one transaction with
 * anything else the caller does. Returns false when a row the action refers to is unknown (its
 * creator failed); the caller then leaves the entry for the next run to re-plan.
 */
export function recordOutcome(tree: SyncedTree, refs: RowRefs, action: Action, outcome: Outcome): boolean {
  switch (action.type) {
    case 'mkdir':
      return action.row === undefined || writeRow(tree, refs, action.row, outcome.local ?? action.local ?? noLocalFacts, outcome.remote ?? action.row.remoteFacts, 0);
    case 'upload': {
      const { remoteId, ...withoutId } = action.row;
      const row: RowWrite = outcome.newRemoteObject || remoteId === undefined ? withoutId : { ...withoutId, remoteId };
      // A new file is dated as the upload said; a swap renames its upload, which dates it anew.
      // An empty one may be created directly, undated, and holds nothing another version could lose.
      const sent = action.replace || remoteId !== undefined || action.local.size === 0 ? undefined : uploadDateOf(action.local.mtimeMs);
      return writeRow(tree, refs, row, outcome.local ?? action.local, outcome.remote, outcome.local?.size ?? action.local.size, sent);
    }
    case 'download':
      return writeRow(tree, refs, action.row, outcome.local ?? noLocalFacts, outcome.remote ?? action.row.remoteFacts, action.remote.size);
    case 'record':
      return writeRow(tree, refs, action.row, outcome.local ?? action.local, action.row.remoteFacts, action.row.kind === 'file' ? action.local.size : 0);
    case 'conflict':
      // The executor records conflicts itself: what happened depends on what it found.
      return true;
    case 'move': {
      if (action.row) return writeRow(tree, refs, action.row, outcome.local ?? action.local ?? noLocalFacts, action.row.remoteFacts, 0);
      const id = refs.resolve(action.node);
      if (id === undefined) return true;
      const parent = refs.resolve(action.placement.parent);
      if (parent === undefined) return false;
      tree.place(id, action.side, parent, action.placement.name);
      if (action.other) {
        const otherParent = refs.resolve(action.other.parent);
        if (otherParent === undefined) return false;
        tree.place(id, otherSide(action.side), otherParent, action.other.name);
      }
      const row = tree.get(id);
      // Our own move bumps the server's date (learnt from a listing at the end of the run), and
      // the object we moved is the one the row now stands for, unless the row knows another file:
      // the one moved replaced it on the server since, and is no version both sides agreed on.
      // A folder holds no version of its own (its entries have their rows), so it is the one moved.
      if (action.side === 'remote' && action.remoteId !== undefined) {
        if (row?.remoteId === undefined || row.remoteId === action.remoteId || row.kind === 'dir') tree.setRemoteFacts(id, action.remoteId, undefined);
      }
      // The scan's date is stale when a move of ours on the server already bumped it: the two
      // moves of one entry (a rename on each side) run side by side, in either order. A date
      // left unknown is learnt from the listing at the end of the run.
      else if (row?.remoteId !== undefined && action.remoteFacts && row.remoteModifiedMs !== undefined) {
        tree.setRemoteFacts(id, action.remoteFacts.id, action.remoteFacts.modifiedMs);
      }
      return true;
    }
    case 'delete':
    case 'forget':
      tree.drop(action.rows);
      return true;
  }
}

/**
 * Writes (or rewrites) the row an action settled, binding a fresh reference to its new ID.
 * `sentModifiedMs`: the date a new upload gave the file, kept until a listing tells its ID.
 * `newRow`: write a new row even where the entry had one (dropped since).
 */
export function writeRow(
  tree: SyncedTree,
  refs: RowRefs,
  row: RowWrite,
  local: LocalFacts,
  remote: RemoteFacts | undefined,
  size: number,
  sentModifiedMs?: number,
  newRow = false,
): boolean {
  const localParent = refs.resolve(row.local.parent);
  const remoteParent = refs.resolve(row.remote.parent);
  if (localParent === undefined || remoteParent === undefined) return false;
  const existing = newRow ? undefined : refs.resolve(row.node);
  const id = tree.put(
    {
      kind: row.kind,
      localParent,
      localName: row.local.name,
      remoteParent,
      remoteName: row.remote.name,
      size,
      localMtimeMs: local.mtimeMs,
      inode: local.inode,
      remoteId: remote?.id ?? row.remoteId,
      remoteModifiedMs: remote?.modifiedMs ?? sentModifiedMs,
    },
    existing,
  );
  refs.bind(row.node, id);
  return true;
}

/** Drops the row an upload-only conflict sets aside (see `settleConflict`), if it has one. */
export function setRowAside(tree: SyncedTree, refs: RowRefs, action: ConflictAction): void {
  const row = refs.resolve(action.row.node);
  if (row !== undefined) tree.drop([row]);
}

/**
 * How the executor settled a conflict. The remote file is as the plan saw it, or its content
 * was replaced in place, or it is a new upload whose ID a listing will tell; `set-aside`: a new
 * upload too, whose row was dropped before (`settleConflict`'s `setAside`), so that the record
 * writes a new row rather than one under the dropped row's ID, which SQLite may have given to
 * a row inserted since.
 */
export type RemoteAfterConflict = 'as-planned' | 'replaced' | 'new' | 'set-aside';

export type ConflictOutcome =
  /** Same content on both sides: nothing moved. */
  | { readonly kind: 'identical'; readonly local: LocalFacts }
  /** The file now holds one version on both sides (`local` after any download). */
  | { readonly kind: 'settled'; readonly local: LocalFacts; readonly remote: RemoteAfterConflict }
  /** The server's copy held the beginning of the local file (an upload cut short): the local version was sent over it. */
  | { readonly kind: 'repaired'; readonly local: LocalFacts; readonly remote: RemoteAfterConflict }
  /** As settled, plus a conflict copy of the local version that exists on both sides. */
  | { readonly kind: 'copied'; readonly local: LocalFacts; readonly copyName: string; readonly copyLocal: LocalFacts };

export function recordConflict(tree: SyncedTree, refs: RowRefs, action: ConflictAction, outcome: ConflictOutcome): boolean {
  const { row } = action;
  const remote = outcome.kind === 'settled' || outcome.kind === 'repaired' ? outcome.remote : 'as-planned';
  const facts = remote === 'as-planned' ? row.remoteFacts : undefined;
  const { remoteId, ...withoutId } = row;
  const uploaded = remote === 'new' || remote === 'set-aside';
  const written: RowWrite = uploaded || remoteId === undefined ? withoutId : { ...withoutId, remoteId };
  if (!writeRow(tree, refs, written, outcome.local, facts, outcome.local.size, undefined, remote === 'set-aside')) return false;
  if (outcome.kind !== 'copied') return true;
  const localParent = refs.resolve(row.local.parent);
  const remoteParent = refs.resolve(row.remote.parent);
  if (localParent === undefined || remoteParent === undefined) return false;
  tree.put({
    kind: 'file',
    localParent,
    localName: outcome.copyName,
    remoteParent,
    remoteName: outcome.copyName,
    size: outcome.copyLocal.size,
    localMtimeMs: outcome.copyLocal.mtimeMs,
    inode: outcome.copyLocal.inode,
    remoteId: undefined,
    remoteModifiedMs: undefined,
  });
  return true;
}
