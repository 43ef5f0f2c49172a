import type { SyncedTree } from '../state/synced.js';
import type { EntryKind, RelPath } from '../tree/types.js';

export interface ListedEntry {
  readonly kind: EntryKind;
  readonly name: string;
  readonly id: string;
  readonly modifiedMs: number;
}

/**
 * Fills in what the server did not say when we wrote: new files' IDs (no upload returns one)
 * and the dates our moves bumped. One listing per folder involved, however many entries, and
 * none when nothing is pending. Returns the number of listings made.
 */
export async function learnRemoteFacts(tree: SyncedTree, list: (dir: RelPath) => Promise<readonly ListedEntry[] | undefined>): Promise<number> {
  const pending = new Map<RelPath, { id: number; kind: EntryKind; name: string; remoteId: string | undefined }[]>();
  for (const row of tree.pendingRemoteFacts()) {
    const entries = pending.get(row.dir);
    if (entries) entries.push(row);
    else pending.set(row.dir, [row]);
  }
  for (const [dir, rows] of pending) {
    const listed = await list(dir);
    if (!listed) continue;
    const byName = new Map(listed.map((entry) => [`${entry.kind}:${entry.name}`, entry]));
    const learnt: { id: number; remoteId: string; modifiedMs: number }[] = [];
    for (const row of rows) {
      const entry = byName.get(`${row.kind}:${row.name}`);
      // A known object must still be the one there: another client may have replaced it, and
      // taking the newcomer's facts would pass its content off as the synced one.
      if (entry && (row.remoteId === undefined || row.remoteId === entry.id)) learnt.push({ id: row.id, remoteId: entry.id, modifiedMs: entry.modifiedMs });
    }
    tree.setRemoteFactsOf(learnt);
  }
  return pending.size;
}
