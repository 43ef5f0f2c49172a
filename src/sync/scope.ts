import type { Remote } from '../remote/types.js';
import { isRemoteError } from '../remote/errors.js';
import type { IgnoreRules } from '../scan/ignore.js';
import type { LocalScan } from '../scan/local.js';
import { unusableServerNameReason } from '../scan/names.js';
import { localFromSynced } from '../tree/from-synced.js';
import { isWithin, joinPath, parentOf, pathKey } from '../tree/paths.js';
import { rootRow, type RelPath, type SyncedNode } from '../tree/types.js';

/**
 * What a pass looks at. A full pass scans both sides; a pass for local changes the watcher
 * reported scans just those paths and checks the server folders around them; a periodic walk
 * lists the whole server side and scans just the pending local paths. Whatever is not looked
 * at counts as the Synced tree remembers it.
 */
export type PassScope =
  | { readonly kind: 'full' }
  | { readonly kind: 'local-changes'; readonly paths: readonly RelPath[] }
  | { readonly kind: 'remote-walk'; readonly paths: readonly RelPath[] };

/** A scan of `paths` completed with the Synced tree's memory of everything else. */
export function completeLocalScan(scan: LocalScan, paths: readonly RelPath[], synced: readonly SyncedNode[]): LocalScan {
  if (!scan.rootExists) return scan;
  const seen = new Set(scan.nodes.map((node) => pathKey(node.path)));
  const roots = paths.map(pathKey);
  const remembered = synced.filter((base) => {
    const key = pathKey(base.localPath);
    return !seen.has(key) && !roots.some((root) => isWithin(key, root));
  });
  return { ...scan, nodes: [...scan.nodes, ...remembered.map(localFromSynced)] };
}

/**
 * Whether the server folders holding `paths` still hold what the Synced tree remembers: one
 * listing per folder. Any difference (or a folder that vanished) means the server changed
 * too, and the pass must walk it instead of trusting memory.
 */
export async function remoteFoldersUnchanged(
  remote: Remote,
  remoteRoot: string,
  paths: readonly RelPath[],
  synced: readonly SyncedNode[],
  rules: IgnoreRules,
): Promise<{ unchanged: boolean; listings: number }> {
  const byLocalPath = new Map(synced.map((node) => [pathKey(node.localPath), node]));
  const childrenOf = new Map<number, SyncedNode[]>();
  for (const node of synced) childrenOf.set(node.remoteParent, [...(childrenOf.get(node.remoteParent) ?? []), node]);
  const folders = new Map<number, RelPath>();
  for (const path of paths) {
    const parent = parentOf(path);
    if (parent === '') folders.set(rootRow, '');
    const dir = byLocalPath.get(pathKey(parent));
    if (dir?.kind === 'dir') folders.set(dir.id, dir.remotePath);
  }
  let listings = 0;
  for (const [row, remotePath] of folders) {
    listings++;
    let entries;
    try {
      entries = (await remote.list(remotePath === '' ? remoteRoot : `${remoteRoot === '/' ? '' : remoteRoot}/${remotePath}`)).entries;
    } catch (error) {
      if (isRemoteError(error, 'not-found')) return { unchanged: false, listings };
      throw error;
    }
    const listed = entries.filter((entry) => {
      const path = joinPath(remotePath, entry.name);
      return unusableServerNameReason(entry.name) === undefined && !rules.ignores(path, entry.kind);
    });
    const remembered = childrenOf.get(row) ?? [];
    const sameFacts = listed.every((entry) =>
      remembered.some((node) => {
        const known = node.remote;
        return (
          node.kind === entry.kind &&
          node.remotePath === joinPath(remotePath, entry.name) &&
          known?.id === entry.id &&
          node.size === entry.size &&
          (known.modifiedMs === undefined || known.modifiedMs === entry.modifiedMs)
        );
      }),
    );
    if (!sameFacts || listed.length !== remembered.length) return { unchanged: false, listings };
  }
  return { unchanged: true, listings };
}
