import type { PlanInput } from '../../src/plan/types.js';
import { PassTables } from '../../src/state/pass-tables.js';
import type { openMemoryState } from '../helpers/memory-state.js';
import type { LocalWorld, RemoteWorld } from './world.js';

/**
 * What a pass hands the planner: the part of the trees that changed, cut out in SQL by the
 * same code as in production (src/state/pass-tables.ts), with the counts for the guards. The
 * planner must reach the same end over it as over the complete trees.
 */
export function relevantInput(state: ReturnType<typeof openMemoryState>, local: LocalWorld, remote: RemoteWorld): PlanInput {
  const tables = new PassTables(state.db, state.tree.folder);
  try {
    const localSnapshot = local.snapshot();
    const remoteSnapshot = remote.snapshot();
    for (const node of localSnapshot.nodes) tables.addLocal(node);
    for (const node of remoteSnapshot.nodes) tables.addRemote(node);
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

export function completeInput(state: ReturnType<typeof openMemoryState>, local: LocalWorld, remote: RemoteWorld): PlanInput {
  return { local: local.snapshot(), remote: remote.snapshot(), synced: state.tree.load() };
}
