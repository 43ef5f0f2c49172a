import { afterEach, describe, expect, it } from 'vitest';
import { PassTables } from '../../src/state/pass-tables.js';
import type { LocalNode, RemoteNode } from '../../src/tree/types.js';
import { openMemoryState } from '../helpers/memory-state.js';

/**
 * What a pass brings back into memory from its scans: the folders, the paths that changed, and
 * what they can touch; never an unchanged file that nothing points at.
 */

const states: { close(): void }[] = [];
afterEach(() => {
  for (const state of states.splice(0)) state.close();
});

const names = ['report.txt', 'Report (draft).txt', 'notes.md', 'photo.jpg', 'report'];

/** Folders a, b and c, each holding `names`, synced; the scans return them unchanged. */
function syncedScene() {
  const state = openMemoryState();
  states.push(state);
  const local: LocalNode[] = [];
  const remote: RemoteNode[] = [];
  let n = 0;
  for (const dir of ['a', 'b', 'c']) {
    n++;
    const parent = state.tree.put({ kind: 'dir', localParent: 0, localName: dir, remoteParent: 0, remoteName: dir, size: 0, localMtimeMs: 1, inode: `i${n}`, remoteId: `d${n}`, remoteModifiedMs: 1 });
    local.push({ path: dir, kind: 'dir', size: 0, mtimeMs: 1, inode: `i${n}` });
    remote.push({ path: dir, kind: 'dir', id: `d${n}`, size: 0, modifiedMs: 1 });
    for (const name of names) {
      n++;
      state.tree.put({ kind: 'file', localParent: parent, localName: name, remoteParent: parent, remoteName: name, size: 10, localMtimeMs: 5, inode: `i${n}`, remoteId: `f${n}`, remoteModifiedMs: 7 });
      local.push({ path: `${dir}/${name}`, kind: 'file', size: 10, mtimeMs: 5, inode: `i${n}` });
      remote.push({ path: `${dir}/${name}`, kind: 'file', id: `f${n}`, size: 10, modifiedMs: 7 });
    }
  }
  return { state, local, remote };
}

function relevantOf(scene: ReturnType<typeof syncedScene>) {
  const tables = new PassTables(scene.state.db, scene.state.tree.folder);
  try {
    for (const node of scene.local) tables.addLocal(node);
    for (const node of scene.remote) tables.addRemote(node);
    tables.cover('local', '');
    tables.cover('remote', '');
    const relevant = tables.relevant();
    return {
      local: relevant.local.filter((node) => node.kind === 'file').map((node) => node.path).sort(),
      remote: relevant.remote.filter((node) => node.kind === 'file').map((node) => node.path).sort(),
      synced: relevant.synced.filter((node) => node.kind === 'file').map((node) => node.localPath).sort(),
      dirs: relevant.local.filter((node) => node.kind === 'dir').length,
    };
  } finally {
    tables.drop();
  }
}

describe('a pass over its scans', () => {
  it('brings back the folders and no file when nothing changed', () => {
    expect(relevantOf(syncedScene())).toEqual({ local: [], remote: [], synced: [], dirs: 3 });
  });

  it('brings back an edited file with its counterparts and the siblings its name could collide with', () => {
    const scene = syncedScene();
    const edited = scene.local.findIndex((node) => node.path === 'b/report.txt');
    scene.local[edited] = { ...(scene.local[edited] as LocalNode), size: 11, mtimeMs: 9 };
    const siblings = ['b/Report (draft).txt', 'b/report', 'b/report.txt'];
    expect(relevantOf(scene)).toEqual({ local: siblings, remote: siblings, synced: siblings, dirs: 3 });
  });

  it('brings back both ends of a move found by inode, its counterpart on the server, and the siblings at its new place', () => {
    const scene = syncedScene();
    const moved = scene.local.findIndex((node) => node.path === 'a/notes.md');
    scene.local[moved] = { ...(scene.local[moved] as LocalNode), path: 'c/notes-moved.md' };
    const result = relevantOf(scene);
    expect(result.local).toEqual(['c/notes-moved.md', 'c/notes.md']);
    expect(result.synced).toEqual(['a/notes.md', 'c/notes.md']);
    expect(result.remote).toEqual(['a/notes.md', 'c/notes.md']);
  });

  it('takes what lies outside a partial scan as the Synced tree remembers it', () => {
    const scene = syncedScene();
    const tables = new PassTables(scene.state.db, scene.state.tree.folder);
    try {
      for (const node of scene.local.filter((n) => n.path === 'a' || n.path.startsWith('a/'))) tables.addLocal(node);
      tables.addLocal({ path: 'a/new.txt', kind: 'file', size: 1, mtimeMs: 1, inode: 'new' });
      for (const node of scene.remote) tables.addRemote(node);
      tables.cover('local', 'a');
      tables.cover('remote', '');
      const relevant = tables.relevant();
      // Folders b and c were not scanned locally: they are as synced, not deleted.
      expect(relevant.local.filter((n) => n.kind === 'dir').map((n) => n.path).sort()).toEqual(['a', 'b', 'c']);
      expect(relevant.local.filter((n) => n.kind === 'file').map((n) => n.path)).toEqual(['a/new.txt']);
    } finally {
      tables.drop();
    }
  });
});
