import { analyze } from './analyze.js';
import { emitActions } from './emit.js';
import { massDeleteGuard, rootGuard } from './guards.js';
import { matchItems } from './items.js';
import { decideTarget } from './target.js';
import { isWithin, parentOf, pathKey, rebase } from '../tree/paths.js';
import { localFromSynced, remoteFromSynced } from '../tree/from-synced.js';
import type { LocalNode, RelPath, RemoteNode, SyncedNode } from '../tree/types.js';
import type { Plan, PlanInput, PlanOptions } from './types.js';

/**
 * The planner: a pure function of the Local, Remote and Synced trees and the options. It never
 * reads the disk, the clock or the network, and never changes its inputs.
 */
export function plan(given: PlanInput, options: PlanOptions): Plan {
  const root = rootGuard(given, options);
  if (root) return { actions: [], skipped: [], stopped: root, deletes: { local: 0, remote: 0 }, heldBack: 0 };
  const input = assumeUnchangedWhereUnknown(given);
  const matched = matchItems(input, options.mode);
  const views = analyze(matched);
  const target = decideTarget(input, matched, views, options);
  const { actions, deletes } = emitActions(matched, views, target, options);
  const mass = massDeleteGuard(input, options, deletes);
  if (mass) return { actions: [], skipped: target.skipped, stopped: mass, deletes, heldBack: target.heldBack };
  return { actions, skipped: target.skipped, deletes, heldBack: target.heldBack };
}

/**
 * What a side could not show (an unreadable folder, a listing that failed) is taken to be as
 * the Synced tree remembers it, so nothing there is copied or deleted.
 */
function assumeUnchangedWhereUnknown(input: PlanInput): PlanInput {
  const { local, remote, synced } = input;
  if (local.unknown.length === 0 && remote.unknown.length === 0) return input;
  return {
    ...input,
    local: { ...local, nodes: [...local.nodes, ...remembered(local, synced, localSide)] },
    remote: { ...remote, nodes: [...remote.nodes, ...remembered(remote, synced, remoteSide)] },
  };
}

interface SideAccess<N extends LocalNode | RemoteNode> {
  path(base: SyncedNode): RelPath;
  identity(node: N): string;
  baseIdentity(base: SyncedNode): string | undefined;
  fromSynced(base: SyncedNode): N;
}

const localSide: SideAccess<LocalNode> = {
  path: (base) => base.localPath,
  identity: (node) => node.inode,
  baseIdentity: (base) => base.inode,
  fromSynced: localFromSynced,
};

const remoteSide: SideAccess<RemoteNode> = {
  path: (base) => base.remotePath,
  identity: (node) => node.id,
  baseIdentity: (base) => base.remote?.id,
  fromSynced: remoteFromSynced,
};

/**
 * The Synced entries below a side's unknown paths, as nodes at their place now. An unknown path
 * inside a folder that moved since the last sync (the nearest folder above it that the scan
 * saw, found by its inode or object ID) is looked up at that folder's old place, and what is
 * found there is placed below the folder's new one: else it would count as deleted.
 */
function remembered<N extends LocalNode | RemoteNode>(snapshot: { readonly nodes: readonly N[]; readonly unknown: readonly RelPath[] }, synced: readonly SyncedNode[], side: SideAccess<N>): N[] {
  if (snapshot.unknown.length === 0) return [];
  const seen = new Map(snapshot.nodes.map((node) => [pathKey(node.path), node]));
  const folders = new Map<string, SyncedNode>();
  for (const base of synced) {
    const identity = side.baseIdentity(base);
    if (base.kind === 'dir' && identity !== undefined) folders.set(identity, base);
  }
  // Each unknown path, as a place in the Synced tree (`then`) and the place it stands for now.
  const places = snapshot.unknown.map((path) => {
    for (let at = path; at !== ''; at = parentOf(at)) {
      const node = seen.get(pathKey(at));
      const folder = node?.kind === 'dir' ? folders.get(side.identity(node)) : undefined;
      if (folder && node) return { then: pathKey(rebase(path, at, side.path(folder))), from: side.path(folder), to: node.path };
    }
    return { then: pathKey(path), from: '', to: '' };
  });
  const found: N[] = [];
  for (const base of synced) {
    const key = pathKey(side.path(base));
    const place = places.find(({ then }) => isWithin(key, then));
    if (!place) continue;
    const path = rebase(side.path(base), place.from, place.to);
    if (!seen.has(pathKey(path))) found.push({ ...side.fromSynced(base), path, unseen: true });
  }
  return found;
}
