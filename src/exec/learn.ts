import type { SyncedTree } from '../state/synced.js';
import { baseName, parentOf } from '../tree/paths.js';
import type { EntryKind, RelPath } from '../tree/types.js';

export interface ListedEntry {
  readonly kind: EntryKind;
  readonly name: string;
  readonly id: string;
  readonly modifiedMs: number;
}

/**
 * Fills in what the server did not say when we wrote: new files' IDs (no upload returns one)
 * and the dates our moves bumped. One listing per folder involved, however many entries.
 * Returns the number of listings made.
 */
export async function learnRemoteFacts(tree: SyncedTree, list: (dir: RelPath) => Promise<readonly ListedEntry[] | undefined>): Promise<number> {
  const pending = new Map<RelPath, { id: number; kind: EntryKind; name: string }[]>();
  for (const node of tree.load()) {
    if (node.remote?.modifiedMs !== undefined) continue;
    const dir = parentOf(node.remotePath);
    const entries = pending.get(dir) ?? [];
    entries.push({ id: node.id, kind: node.kind, name: baseName(node.remotePath) });
    pending.set(dir, entries);
  }
  for (const [dir, rows] of pending) {
    const listed = await list(dir);
    if (!listed) continue;
    const byName = new Map(listed.map((entry) => [`${entry.kind}:${entry.name}`, entry]));
    for (const row of rows) {
      const entry = byName.get(`${row.kind}:${row.name}`);
      if (entry) tree.setRemoteFacts(row.id, entry.id, entry.modifiedMs);
    }
  }
  return pending.size;
}
