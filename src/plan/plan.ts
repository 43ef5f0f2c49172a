import { analyze } from './analyze.js';
import { emitActions } from './emit.js';
import { massDeleteGuard, rootGuard } from './guards.js';
import { matchItems } from './items.js';
import { decideTarget } from './target.js';
import { isWithin, pathKey } from '../tree/paths.js';
import { localFromSynced, remoteFromSynced } from '../tree/from-synced.js';
import type { LocalNode, RemoteNode } from '../tree/types.js';
import type { Plan, PlanInput, PlanOptions } from './types.js';

/**
 * The planner: a pure function of the Local, Remote and Synced trees and the options. It never
 * reads the disk, the clock or the network, and never changes its inputs.
 */
export function plan(given: PlanInput, options: PlanOptions): Plan {
  const root = rootGuard(given, options);
  if (root) return { actions: [], skipped: [], stopped: root, deletes: { local: 0, remote: 0 } };
  const input = assumeUnchangedWhereUnknown(given);
  const matched = matchItems(input, options.mode);
  const views = analyze(matched);
  const target = decideTarget(input, matched, views, options);
  const { actions, deletes } = emitActions(matched, views, target, options);
  const mass = massDeleteGuard(input, options, deletes);
  if (mass) return { actions: [], skipped: target.skipped, stopped: mass, deletes };
  return { actions, skipped: target.skipped, deletes };
}

/**
 * What a side could not show (an unreadable folder, a listing that failed) is taken to be as
 * the Synced tree remembers it, so nothing there is copied or deleted.
 */
function assumeUnchangedWhereUnknown(input: PlanInput): PlanInput {
  const { local, remote, synced } = input;
  if (local.unknown.length === 0 && remote.unknown.length === 0) return input;
  const below = (unknown: readonly string[], path: string): boolean => unknown.some((dir) => isWithin(pathKey(path), pathKey(dir)));
  const seenLocal = new Set(local.nodes.map((node) => pathKey(node.path)));
  const seenRemote = new Set(remote.nodes.map((node) => pathKey(node.path)));
  const localNodes: LocalNode[] = [...local.nodes];
  const remoteNodes: RemoteNode[] = [...remote.nodes];
  for (const base of synced) {
    if (below(local.unknown, base.localPath) && !seenLocal.has(pathKey(base.localPath))) localNodes.push(localFromSynced(base));
    if (below(remote.unknown, base.remotePath) && !seenRemote.has(pathKey(base.remotePath))) remoteNodes.push(remoteFromSynced(base));
  }
  return { local: { ...local, nodes: localNodes }, remote: { ...remote, nodes: remoteNodes }, synced };
}
