import type { BigIntStats } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { sameFacts } from '../exec/local-facts.js';
import { factsOf } from '../scan/facts.js';
import type { SyncedTree } from '../state/synced.js';
import { liesInAny } from '../tree/paths.js';
import type { RelPath } from '../tree/types.js';
import type { DirtyPaths, EchoFilter } from '../watch/dirty.js';

/**
 * The paths the watcher reported under `root` that a pass must look at: those that are not the
 * echo of this daemon's own writes. A path this daemon wrote lately is its echo while it is as
 * the Synced tree has it, which holds the pass's writes by now; a user's change since is not
 * (a pass would find nothing to do where it is).
 *
 * A folder that is an echo (one this daemon created, say) says nothing of its entries, and
 * what was reported inside it may be a user's change: each is looked at the same way. Were
 * there too many to keep, the folders are scanned again.
 */
export async function userChanges(root: string, taken: DirtyPaths, echo: EchoFilter, tree: SyncedTree): Promise<RelPath[]> {
  const statsOf = async (path: RelPath): Promise<BigIntStats | undefined> => {
    try {
      return await lstat(join(root, ...path.split('/')), { bigint: true });
    } catch {
      return undefined;
    }
  };
  const kept: RelPath[] = [];
  const echoes = new Set<RelPath>();
  for (const path of taken.paths) {
    if (echo.wrote(path) && asSynced(tree, path, await statsOf(path))) echoes.add(path);
    else kept.push(path);
  }
  if (echoes.size === 0) return kept;
  if (taken.inside === undefined) return [...kept, ...echoes];
  for (const path of taken.inside) if (liesInAny(path, echoes) && !asSynced(tree, path, await statsOf(path))) kept.push(path);
  return kept;
}

/**
 * Whether a local path is as the Synced tree has it (absent where it has nothing). A folder's
 * modification time is its entries' (added, removed, renamed), which the watcher may not have
 * reported one by one: one taken out, changed and put back is reported as the folder alone.
 */
function asSynced(tree: SyncedTree, path: RelPath, stats: BigIntStats | undefined): boolean {
  const row = tree.atLocalPath(path);
  if (row === undefined || stats === undefined) return row === undefined && stats === undefined;
  const kind = stats.isDirectory() ? 'dir' : stats.isFile() ? 'file' : undefined;
  const facts = factsOf(stats);
  return row.kind === kind && sameFacts(facts, { size: kind === 'dir' ? facts.size : row.size, mtimeMs: row.localMtimeMs, inode: row.inode });
}
