import { utcConflictStamp } from '../../src/plan/names.js';
import type { PlanInput, PlanOptions } from '../../src/plan/types.js';
import { PassTables } from '../../src/state/pass-tables.js';
import type { EntryKind, RelPath } from '../../src/tree/types.js';
import { byFolder } from '../helpers/by-folder.js';
import type { openMemoryState } from '../helpers/memory-state.js';
import type { LocalWorld, RemoteWorld } from './world.js';

/** Two-way, keep-both, a mass-delete guard of 50% above 3 files: the examples' options. */
export const examplePlanOptions: PlanOptions = {
  mode: 'two-way',
  conflictPolicy: 'keep-both',
  massDelete: { maxPercent: 50, minCount: 3, maxCount: 1000 },
  force: false,
  localCaseInsensitive: false,
  remoteTrash: false,
  remoteNameProblem: (name) => (/[\\?*<":>|]/.test(name) ? 'forbidden character' : undefined),
  localNameProblem: () => undefined,
  conflictStamp: utcConflictStamp,
};

/**
 * What a pass hands the planner: the part of the trees that changed, cut out by the same code
 * as in production (src/state/pass-tables.ts), with the counts for the guards. The planner must
 * reach the same end over it as over the complete trees. Folders at even depths (the root is
 * 0) arrive listed whole, as a full scan gives them; the others entry by entry, as a scan of
 * the watcher's paths gives the folders above them.
 */
export function relevantInput(state: ReturnType<typeof openMemoryState>, local: LocalWorld, remote: RemoteWorld): PlanInput {
  const tables = new PassTables(state.db, state.tree.folder);
  try {
    const localSnapshot = local.snapshot();
    const remoteSnapshot = remote.snapshot();
    feed(localSnapshot.nodes, (path, nodes) => tables.addLocalFolder(path, nodes), (node) => tables.addLocal(node));
    feed(remoteSnapshot.nodes, (path, nodes) => tables.addRemoteFolder(path, nodes), (node) => tables.addRemote(node));
    tables.cover('local', '');
    tables.cover('remote', '');
    const relevant = tables.relevant();
    const counts = state.tree.counts();
    return {
      local: { ...localSnapshot, nodes: relevant.local },
      remote: { ...remoteSnapshot, nodes: relevant.remote },
      synced: relevant.synced,
      totals: { localEntries: localSnapshot.nodes.length, remoteEntries: remoteSnapshot.nodes.length, syncedEntries: counts.entries, syncedFiles: counts.files },
    };
  } finally {
    tables.drop();
  }
}

function feed<N extends { path: RelPath; kind: EntryKind }>(nodes: readonly N[], whole: (path: RelPath, nodes: N[]) => void, one: (node: N) => void): void {
  const { folders, loose } = byFolder(nodes);
  loose.forEach(one);
  for (const [path, children] of folders) {
    const depth = path === '' ? 0 : path.split('/').length;
    if (depth % 2 === 0) whole(path, children);
    else children.forEach(one);
  }
}

export function completeInput(state: ReturnType<typeof openMemoryState>, local: LocalWorld, remote: RemoteWorld): PlanInput {
  return { local: local.snapshot(), remote: remote.snapshot(), synced: state.tree.load() };
}
