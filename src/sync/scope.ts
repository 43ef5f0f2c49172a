import { isRemoteError } from '../remote/errors.js';
import type { Remote } from '../remote/types.js';
import type { IgnoreRules } from '../scan/ignore.js';
import { unusableServerNameReason } from '../scan/names.js';
import type { SyncedTree } from '../state/synced.js';
import { baseName, joinPath } from '../tree/paths.js';
import type { RelPath } from '../tree/types.js';

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

/**
 * Whether the server folders holding `paths` still hold what the Synced tree remembers: one
 * listing per folder. Any difference (or a folder that vanished) means the server changed
 * too, and the pass must walk it instead of trusting memory.
 */
export async function remoteFoldersUnchanged(
  remote: Remote,
  remoteRoot: string,
  paths: readonly RelPath[],
  tree: SyncedTree,
  rules: IgnoreRules,
): Promise<{ unchanged: boolean; listings: number }> {
  let listings = 0;
  for (const { remotePath, children } of tree.foldersHolding(paths)) {
    listings++;
    let entries;
    try {
      entries = (await remote.list(remotePath === '' ? remoteRoot : `${remoteRoot === '/' ? '' : remoteRoot}/${remotePath}`)).entries;
    } catch (error) {
      if (isRemoteError(error, 'not-found')) return { unchanged: false, listings };
      throw error;
    }
    const listed = entries.filter((entry) => unusableServerNameReason(entry.name) === undefined && !rules.ignores(joinPath(remotePath, entry.name), entry.kind));
    const remembered = new Map(children.map((node) => [`${node.kind}:${baseName(node.remotePath)}`, node]));
    const same = listed.every((entry) => {
      const node = remembered.get(`${entry.kind}:${entry.name}`);
      const known = node?.remote;
      return node !== undefined && known?.id === entry.id && node.size === entry.size && (known.modifiedMs === undefined || known.modifiedMs === entry.modifiedMs);
    });
    if (!same || listed.length !== remembered.size) return { unchanged: false, listings };
  }
  return { unchanged: true, listings };
}
