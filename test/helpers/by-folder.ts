import { parentOf } from '../../src/tree/paths.js';
import type { EntryKind, RelPath } from '../../src/tree/types.js';

/**
 * Scanned entries as a full scan hands them over: every folder (the root first) with what it
 * holds. Entries whose parent is not among them come back apart, in `loose`.
 */
export function byFolder<N extends { path: RelPath; kind: EntryKind }>(nodes: readonly N[]): { folders: Map<RelPath, N[]>; loose: N[] } {
  const folders = new Map<RelPath, N[]>([['', []]]);
  const loose: N[] = [];
  for (const node of nodes) if (node.kind === 'dir') folders.set(node.path, []);
  for (const node of nodes) {
    const folder = folders.get(parentOf(node.path));
    if (folder) folder.push(node);
    else loose.push(node);
  }
  return { folders, loose };
}
