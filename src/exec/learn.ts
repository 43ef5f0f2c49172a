import { isUploadDate } from '../remote/upload-date.js';
import type { PendingRemoteFacts, SyncedTree } from '../state/synced.js';
import type { EntryKind, RelPath } from '../tree/types.js';

export interface ListedEntry {
  readonly kind: EntryKind;
  readonly name: string;
  readonly id: string;
  readonly size: number;
  readonly modifiedMs: number;
}

/**
 * Fills in what the server did not say when we wrote: new files' IDs (no upload returns one)
 * and the dates our moves bumped. One listing per folder involved, however many entries, and
 * none when nothing is pending; they are all asked for at once, and `list` decides how many run
 * together. Returns the number of listings made.
 */
export async function learnRemoteFacts(tree: SyncedTree, list: (dir: RelPath) => Promise<readonly ListedEntry[] | undefined>): Promise<number> {
  const pending = new Map<RelPath, PendingRemoteFacts[]>();
  for (const row of tree.pendingRemoteFacts()) {
    const entries = pending.get(row.dir);
    if (entries) entries.push(row);
    else pending.set(row.dir, [row]);
  }
  const listed = await Promise.allSettled(
    [...pending].map(async ([dir, rows]) => {
      const entries = await list(dir);
      if (!entries) return;
      const byName = new Map(entries.map((entry) => [`${entry.kind}:${entry.name}`, entry]));
      const learnt: { id: number; remoteId: string; modifiedMs: number }[] = [];
      for (const row of rows) {
        const entry = byName.get(`${row.kind}:${row.name}`);
        if (entry && isOurs(row, entry)) learnt.push({ id: row.id, remoteId: entry.id, modifiedMs: entry.modifiedMs });
      }
      tree.setRemoteFactsOf(learnt);
    }),
  );
  // Every listing has ended before the first failure is reported: none writes after the caller
  // moved on.
  const failed = listed.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
  return pending.size;
}

/**
 * Whether the listed entry is still what we wrote: another client may have replaced it or
 * written it anew since, and taking its facts would pass its content off as the synced one
 * (a later local edit would then overwrite it unseen). A known object must be the one there,
 * a file must have the size we wrote, and a new upload the date it was sent with.
 */
function isOurs(row: PendingRemoteFacts, entry: ListedEntry): boolean {
  if (row.remoteId !== undefined && row.remoteId !== entry.id) return false;
  if (row.kind === 'file' && entry.size !== row.size) return false;
  return row.sentModifiedMs === undefined || isUploadDate(entry.modifiedMs, row.sentModifiedMs);
}
