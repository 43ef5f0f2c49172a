import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { flushGroup, inGroup, RecordsLostError } from '../../src/state/group-commit.js';
import type { Db } from '../../src/state/database.js';
import { PassTables } from '../../src/state/pass-tables.js';
import type { RawRead } from '../../src/scan/local.js';
import { baseName } from '../../src/tree/paths.js';
import type { LocalNode, RemoteNode } from '../../src/tree/types.js';
import { byFolder } from '../helpers/by-folder.js';
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

/** Folders a, b and c (or `dirs`, parents first), each holding `names`, synced; the scans return them unchanged. */
function syncedScene(dirs = ['a', 'b', 'c']) {
  const state = openMemoryState();
  states.push(state);
  const local: LocalNode[] = [];
  const remote: RemoteNode[] = [];
  const ids = new Map([['', 0]]);
  let n = 0;
  for (const dir of dirs) {
    n++;
    const up = ids.get(dir.slice(0, Math.max(0, dir.lastIndexOf('/')))) ?? 0;
    const name = dir.slice(dir.lastIndexOf('/') + 1);
    const parent = state.tree.put({ kind: 'dir', localParent: up, localName: name, remoteParent: up, remoteName: name, size: 0, localMtimeMs: 1, inode: `i${n}`, remoteId: `d${n}`, remoteModifiedMs: 1 });
    ids.set(dir, parent);
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

type Feed = 'entry by entry' | 'folder by folder';

/** Hands the scans over as a scan of the watcher's paths does, or as a full scan lists them. */
function feed(tables: PassTables, scene: { local: LocalNode[]; remote: RemoteNode[] }, how: Feed): void {
  if (how === 'entry by entry') {
    for (const node of scene.local) tables.addLocal(node);
    for (const node of scene.remote) tables.addRemote(node);
    return;
  }
  for (const [path, nodes] of byFolder(scene.local).folders) tables.addLocalFolder(path, nodes);
  for (const [path, nodes] of byFolder(scene.remote).folders) tables.addRemoteFolder(path, nodes);
}

function relevantOf(scene: ReturnType<typeof syncedScene>, how: Feed = 'entry by entry') {
  const tables = new PassTables(scene.state.db, scene.state.tree.folder);
  try {
    feed(tables, scene, how);
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

describe.each(['entry by entry', 'folder by folder'] as const)('a pass over its scans, handed over %s', (how) => {
  it('brings back the folders and no file when nothing changed', () => {
    expect(relevantOf(syncedScene(), how)).toEqual({ local: [], remote: [], synced: [], dirs: 3 });
  });

  it('brings back an edited file with its counterparts and the siblings its name could collide with', () => {
    const scene = syncedScene();
    const edited = scene.local.findIndex((node) => node.path === 'b/report.txt');
    scene.local[edited] = { ...(scene.local[edited] as LocalNode), size: 11, mtimeMs: 9 };
    const siblings = ['b/Report (draft).txt', 'b/report', 'b/report.txt'];
    expect(relevantOf(scene, how)).toEqual({ local: siblings, remote: siblings, synced: siblings, dirs: 3 });
  });

  it('brings back both ends of a move found by inode, its counterpart on the server, and the siblings at its new place', () => {
    const scene = syncedScene();
    const moved = scene.local.findIndex((node) => node.path === 'a/notes.md');
    scene.local[moved] = { ...(scene.local[moved] as LocalNode), path: 'c/notes-moved.md' };
    const result = relevantOf(scene, how);
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

  it.each([
    // A constraint checked only at COMMIT stands in for a full disk or an I/O error there.
    ['its commit fails', (db: Db) => {
      inGroup(db, () => db.prepare('INSERT INTO children VALUES (99)').run());
      expect(() => flushGroup(db)).toThrow(RecordsLostError);
    }],
    // SQLite takes a whole transaction back after a failed write on a full disk; a trigger raising ROLLBACK stands in for one.
    ['SQLite rolls it back after a failed write', (db: Db) => {
      expect(() => inGroup(db, () => db.prepare('INSERT INTO full VALUES (1)').run())).toThrow(RecordsLostError);
    }],
  ])('keeps its tables through another run\'s lost commit group, and is not read back once its rows went with it (%s)', (_how, lose) => {
    const scene = syncedScene();
    const { db } = scene.state;
    db.exec(`
      CREATE TABLE parents (id INTEGER PRIMARY KEY);
      CREATE TABLE children (parent INTEGER REFERENCES parents(id) DEFERRABLE INITIALLY DEFERRED);
      CREATE TABLE full (v INTEGER);
      CREATE TRIGGER full_disk BEFORE INSERT ON full BEGIN SELECT RAISE(ROLLBACK, 'database or disk is full'); END;
    `);
    // Another folder's run has a group open as this pass starts (created in it, the tables would
    // go with it), and opens the next one as the local scan comes in.
    inGroup(db, () => db.prepare('INSERT INTO parents VALUES (1)').run());
    const tables = new PassTables(db, scene.state.tree.folder);
    try {
      inGroup(db, () => db.prepare('INSERT INTO parents VALUES (2)').run());
      for (const node of scene.local) tables.addLocal(node);
      expect(tables.scanned().local).toBe(scene.local.length);
      lose(db);
      for (const node of scene.remote) tables.addRemote(node);
      tables.cover('local', '');
      tables.cover('remote', '');
      expect(tables.scanned()).toEqual({ local: 0, remote: scene.remote.length });
      // Read back, the local files would look deleted.
      expect(() => tables.relevant()).toThrow(RecordsLostError);
    } finally {
      tables.drop();
    }
  });
});

describe('a folder listed whole', () => {
  function relevantAfter(state: ReturnType<typeof openMemoryState>, change: (tables: PassTables) => void) {
    const tables = new PassTables(state.db, state.tree.folder);
    try {
      change(tables);
      tables.cover('local', '');
      tables.cover('remote', '');
      return { scanned: tables.scanned(), ...tables.relevant() };
    } finally {
      tables.drop();
    }
  }

  it('counts the files found as remembered without storing them, and brings one back as scanned when a neighbour changes', () => {
    const scene = syncedScene();
    const edited = scene.remote.findIndex((node) => node.path === 'a/report.txt');
    scene.remote[edited] = { ...(scene.remote[edited] as RemoteNode), size: 12, modifiedMs: 99 };
    const result = relevantAfter(scene.state, (tables) => feed(tables, scene, 'folder by folder'));
    expect(result.scanned).toEqual({ local: 18, remote: 18 });
    const sibling = (nodes: readonly { path: string }[]) => nodes.find((node) => node.path === 'a/report');
    expect(sibling(result.local)).toEqual(scene.local.find((node) => node.path === 'a/report'));
    expect(sibling(result.remote)).toEqual(scene.remote.find((node) => node.path === 'a/report'));
  });

  it('forgets what a remote walk that starts over had listed', () => {
    const scene = syncedScene();
    const edited = scene.remote.findIndex((node) => node.path === 'a/report.txt');
    const before = [...scene.remote];
    scene.remote[edited] = { ...(scene.remote[edited] as RemoteNode), size: 12, modifiedMs: 99 };
    const once = relevantAfter(scene.state, (tables) => feed(tables, { local: scene.local, remote: before }, 'folder by folder'));
    const again = relevantAfter(scene.state, (tables) => {
      feed(tables, scene, 'folder by folder');
      tables.resetRemote();
      for (const [path, nodes] of byFolder(before).folders) tables.addRemoteFolder(path, nodes);
    });
    expect(again.scanned).toEqual(once.scanned);
    expect(again.changed).toBe(once.changed);
    expect(again.remote).toEqual(once.remote);
  });

  it('takes a file missing from its listing as gone, on that side only', () => {
    const scene = syncedScene();
    scene.local = scene.local.filter((node) => node.path !== 'c/photo.jpg');
    const result = relevantAfter(scene.state, (tables) => feed(tables, scene, 'folder by folder'));
    expect(result.local.some((node) => node.path === 'c/photo.jpg')).toBe(false);
    expect(result.remote.some((node) => node.path === 'c/photo.jpg')).toBe(true);
    expect(result.synced.some((node) => node.localPath === 'c/photo.jpg')).toBe(true);
  });

  it('takes everything in a folder that could not be listed as unseen, not as remembered', () => {
    const scene = syncedScene();
    const result = relevantAfter(scene.state, (tables) => {
      // Folder b was found but never listed (it could not be opened, say).
      for (const [path, nodes] of byFolder(scene.local).folders) if (path !== 'b') tables.addLocalFolder(path, nodes);
      for (const [path, nodes] of byFolder(scene.remote).folders) tables.addRemoteFolder(path, nodes);
    });
    expect(result.local.filter((node) => node.path.startsWith('b/'))).toEqual([]);
    expect(result.synced.filter((node) => node.localPath.startsWith('b/')).map((node) => node.localPath).sort()).toEqual(names.map((name) => `b/${name}`).sort());
  });

  it('keeps the spelling the disk has: an entry spelled otherwise than synced is stored as scanned, and a remembered one takes its folder\'s spelling', () => {
    const state = openMemoryState();
    states.push(state);
    const nfc = 'caf\u00e9';
    const nfd = 'cafe\u0301';
    const dir = state.tree.put({ kind: 'dir', localParent: 0, localName: nfc, remoteParent: 0, remoteName: nfc, size: 0, localMtimeMs: 1, inode: 'i1', remoteId: 'd1', remoteModifiedMs: 1 });
    for (const [n, name] of ['a.txt', 'a.md'].entries()) {
      state.tree.put({ kind: 'file', localParent: dir, localName: name, remoteParent: dir, remoteName: name, size: 1, localMtimeMs: 5, inode: `i${n + 2}`, remoteId: `f${n + 2}`, remoteModifiedMs: 7 });
    }
    const scene = {
      local: [
        { path: nfd, kind: 'dir', size: 0, mtimeMs: 1, inode: 'i1' },
        { path: `${nfd}/a.txt`, kind: 'file', size: 2, mtimeMs: 6, inode: 'i2' },
        { path: `${nfd}/a.md`, kind: 'file', size: 1, mtimeMs: 5, inode: 'i3' },
      ] satisfies LocalNode[],
      remote: [
        { path: nfc, kind: 'dir', id: 'd1', size: 0, modifiedMs: 1 },
        { path: `${nfc}/a.txt`, kind: 'file', id: 'f2', size: 1, modifiedMs: 7 },
        { path: `${nfc}/a.md`, kind: 'file', id: 'f3', size: 1, modifiedMs: 7 },
      ] satisfies RemoteNode[],
    };
    const result = relevantAfter(state, (tables) => feed(tables, scene, 'folder by folder'));
    expect(result.local.map((node) => node.path).sort()).toEqual([nfd, `${nfd}/a.md`, `${nfd}/a.txt`]);
    expect(result.local.find((node) => node.path === `${nfd}/a.md`)).toEqual(scene.local[2]);
  });

  it('brings back an entry whose Synced row has lost its parent on the other side, as the comparison by key did', () => {
    const state = openMemoryState();
    states.push(state);
    const put = (localParent: number, localName: string, remoteParent: number, remoteName: string, kind: 'file' | 'dir', n: number) =>
      state.tree.put({ kind, localParent, localName, remoteParent, remoteName, size: kind === 'file' ? 10 : 0, localMtimeMs: 5, inode: `i${n}`, remoteId: `r${n}`, remoteModifiedMs: 7 });
    const dir = put(0, 'dir', 0, 'dir', 'dir', 1);
    put(dir, 'f', dir, 'f', 'file', 2);
    const gone = put(0, 'x', 0, 'x', 'dir', 3);
    // Half a move: local x/o, remote dir/o; then the local folder's row went.
    put(gone, 'o', dir, 'o', 'file', 4);
    state.tree.drop([gone]);
    const remote: RemoteNode[] = [
      { path: 'dir', kind: 'dir', id: 'r1', size: 0, modifiedMs: 7 },
      { path: 'dir/f', kind: 'file', id: 'r2', size: 10, modifiedMs: 7 },
      { path: 'dir/o', kind: 'file', id: 'r4', size: 10, modifiedMs: 7 },
    ];
    // The user deleted the local folder dir.
    const result = relevantAfter(state, (tables) => feed(tables, { local: [], remote }, 'folder by folder'));
    expect(result.remote.map((node) => node.path).sort()).toEqual(['dir', 'dir/f', 'dir/o']);
  });

  it('leaves Synced rows that share a name, or differ only in its spelling, to the comparison by key', () => {
    const state = openMemoryState();
    states.push(state);
    const nfc = 'b\u00e9';
    for (const [n, name] of [nfc, nfc.normalize('NFD')].entries()) {
      state.tree.put({ kind: 'file', localParent: 0, localName: name, remoteParent: 0, remoteName: name, size: 1, localMtimeMs: 5, inode: `i${n}`, remoteId: `r${n}`, remoteModifiedMs: 7 });
    }
    const local: LocalNode[] = [{ path: nfc, kind: 'file', size: 1, mtimeMs: 5, inode: 'i1' }];
    const remote: RemoteNode[] = [{ path: nfc, kind: 'file', id: 'r0', size: 1, modifiedMs: 7 }];
    const result = relevantAfter(state, (tables) => feed(tables, { local, remote }, 'folder by folder'));
    expect(result.changed).toBe(0);
    expect(result.scanned).toEqual({ local: 1, remote: 1 });
  });
});

describe('a folder found as it last matched its Synced rows', () => {
  /**
   * A pass handed whole folders; the server's listings come with a fingerprint (their entries,
   * spelled out, as a server's answer would be), and a listing that may be taken as before is.
   */
  function pass(state: ReturnType<typeof openMemoryState>, scene: { local: LocalNode[]; remote: RemoteNode[] }, keepDigests = true, rawRead?: (path: string) => RawRead) {
    const tables = new PassTables(state.db, state.tree.folder, { keepDigests, listingContext: 'rules' });
    const leftOut = new Map<string, readonly string[]>();
    try {
      for (const [path, nodes] of byFolder(scene.local).folders) {
        // As the walk does with the native reader's read of each folder.
        const raw = rawRead?.(path);
        const ignored = raw === undefined ? undefined : tables.localFolderAsBefore(path, raw.digest);
        if (ignored !== undefined) {
          leftOut.set(path, ignored);
          for (const node of nodes) if (node.kind === 'dir') tables.addLocal(node);
        } else tables.addLocalFolder(path, nodes, raw);
      }
      for (const [path, nodes] of byFolder(scene.remote).folders) {
        const fingerprint = JSON.stringify(nodes);
        if (tables.listingAsBefore(path) === fingerprint) {
          const subfolders = tables.takeListingAsBefore(path);
          expect(sortedByPath(subfolders)).toEqual(sortedByPath(nodes.filter((node) => node.kind === 'dir')));
        } else tables.addRemoteFolder(path, nodes, fingerprint);
      }
      tables.cover('local', '');
      tables.cover('remote', '');
      const scanned = tables.scanned();
      const relevant = tables.relevant();
      const sorted = <T extends object>(nodes: readonly T[]): T[] => [...nodes].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
      return {
        result: { scanned, changed: relevant.changed, local: sorted(relevant.local), remote: sorted(relevant.remote), synced: sorted(relevant.synced) },
        asBefore: tables.foldersAsBefore(),
        leftOut,
      };
    } finally {
      tables.drop();
    }
  }

  /** The same pass once more with no digest to go by. */
  function passWithoutDigests(state: ReturnType<typeof openMemoryState>, scene: { local: LocalNode[]; remote: RemoteNode[] }) {
    state.db.exec('DELETE FROM folder_digests');
    return pass(state, scene, false).result;
  }

  it('is not read again, and the pass comes out as one that read it', () => {
    const scene = syncedScene();
    const first = pass(scene.state, scene);
    expect(first.asBefore).toEqual({ local: 0, remote: 0 });
    const second = pass(scene.state, scene);
    expect(second.asBefore).toEqual({ local: 4, remote: 4 });
    expect(second.result).toEqual(first.result);
    expect(passWithoutDigests(scene.state, scene)).toEqual(second.result);
  });

  it('is read again once an entry in it differs in kind, name, size, time or identity, or once a row in it changed', () => {
    const scene = syncedScene();
    pass(scene.state, scene);
    const at = (nodes: (LocalNode | RemoteNode)[], path: string) => nodes.findIndex((node) => node.path === path);
    const local = [...scene.local];
    local[at(local, 'a/notes.md')] = { ...(local[at(local, 'a/notes.md')] as LocalNode), inode: 'moved in' };
    local[at(local, 'b/notes.md')] = { ...(local[at(local, 'b/notes.md')] as LocalNode), mtimeMs: 6 };
    local[at(local, 'c/notes.md')] = { ...(local[at(local, 'c/notes.md')] as LocalNode), path: 'c/Notes.md' };
    const remote = [...scene.remote];
    remote[at(remote, 'c/report')] = { path: 'c/report', kind: 'dir', id: 'x', size: 0, modifiedMs: 1 };
    remote[at(remote, 'a/photo.jpg')] = { ...(remote[at(remote, 'a/photo.jpg')] as RemoteNode), size: 11 };
    const changed = { local, remote };
    const second = pass(scene.state, changed);
    expect(second.asBefore).toEqual({ local: 1, remote: 2 });
    expect(second.result).toEqual(passWithoutDigests(scene.state, changed));

    pass(scene.state, scene);
    const aRow = scene.state.tree.load().find((node) => node.localPath === 'a/report.txt');
    scene.state.tree.setRemoteFacts(aRow?.id ?? -1, 'replaced', 7);
    const third = pass(scene.state, scene);
    expect(third.asBefore).toEqual({ local: 3, remote: 3 });
    expect(third.result).toEqual(passWithoutDigests(scene.state, scene));
  });

  it('keeps the digest of its entries when a subfolder\'s row holds another date than the listing', () => {
    const scene = syncedScene();
    const remote = scene.remote.map((node) => (node.path === 'a' ? { ...node, modifiedMs: 2 } : node));
    pass(scene.state, { ...scene, remote });
    const stored = scene.state.db.prepare<[], string>("SELECT digest FROM folder_digests WHERE side = 'remote' AND dir = 0").pluck().get();
    expect(stored).toMatch(/^[0-9a-f]{32}$/);
    expect(pass(scene.state, { ...scene, remote }).asBefore).toEqual({ local: 4, remote: 4 });
  });

  it('is taken as before by the digest of a native read, which another read\'s digest is not', () => {
    const scene = syncedScene();
    const raw = (path: string): RawRead => ({ digest: `read of ${path}`, ignored: path === 'a' ? ['z.log', 'cache'] : [] });
    const first = pass(scene.state, scene, true, raw);
    expect(first.asBefore).toEqual({ local: 0, remote: 0 });
    const second = pass(scene.state, scene, true, raw);
    expect(second.asBefore).toEqual({ local: 4, remote: 4 });
    expect(second.result).toEqual(first.result);
    expect(second.leftOut.get('a')).toEqual(['cache', 'z.log']);
    expect(second.leftOut.get('b')).toEqual([]);
    // Another read of one folder (a file's change time, say): its rows are read, and it matches.
    const another = (path: string): RawRead => (path === 'a' ? { digest: 'another read of a', ignored: [] } : raw(path));
    const third = pass(scene.state, scene, true, another);
    expect(third.result).toEqual(first.result);
    expect(pass(scene.state, scene, true, another).asBefore).toEqual({ local: 4, remote: 4 });
    const aRow = scene.state.tree.load().find((node) => node.localPath === 'a/report.txt');
    scene.state.tree.setRemoteFacts(aRow?.id ?? -1, 'replaced', 7);
    const afterRowChange = pass(scene.state, scene, true, raw);
    expect(afterRowChange.asBefore.local).toBe(3);
    expect(afterRowChange.result).toEqual(passWithoutDigests(scene.state, scene));
  });

  it('goes by the native read\'s digest from the pass after one that found it as before by its entries', () => {
    const scene = syncedScene();
    pass(scene.state, scene);
    const raw = (path: string): RawRead => ({ digest: `read of ${path}`, ignored: [] });
    expect(pass(scene.state, scene, true, raw).leftOut.size).toBe(0);
    const third = pass(scene.state, scene, true, raw);
    expect(third.asBefore.local).toBe(4);
    expect(third.leftOut.size).toBe(4);
  });

  it('is not remembered by a dry run', () => {
    const scene = syncedScene();
    pass(scene.state, scene, false);
    expect(pass(scene.state, scene).asBefore).toEqual({ local: 0, remote: 0 });
  });

  // A pass that goes by the digests must come out as one that reads every folder's rows,
  // whatever changed in the scans and in the Synced tree since the digests were taken.
  it('gives what reading it gives, whatever changed since (property)', () => {
    const seed = process.env.SEED === 'random' ? undefined : Number(process.env.SEED ?? 20261201);
    const change = fc.oneof(
      fc.record({ on: fc.constant('scan' as const), side: fc.constantFrom('local' as const, 'remote' as const), pick: fc.nat(), how: fc.constantFrom('size', 'time', 'identity', 'rename', 'remove', 'add') }),
      fc.record({ on: fc.constant('rows' as const), pick: fc.nat(), how: fc.constantFrom('facts', 'move local', 'move remote', 'drop', 'put over', 'add') }),
    );
    let hits = 0;
    fc.assert(
      fc.property(fc.array(change, { maxLength: 6 }), fc.array(change, { maxLength: 6 }), (before, after) => {
        const scene = syncedScene(['a', 'a/sub', 'a/sub/deep', 'b']);
        let current = { local: [...scene.local], remote: [...scene.remote] };
        for (const [round, changes] of [before, after].entries()) {
          for (const c of changes) current = applyChange(scene.state, current, c);
          const withDigests = pass(scene.state, current);
          if (round === 1) hits += withDigests.asBefore.local + withDigests.asBefore.remote;
          expect(withDigests.result).toEqual(passWithoutDigests(scene.state, current));
          pass(scene.state, current);
        }
      }),
      { numRuns: 150, ...(seed === undefined ? {} : { seed }) },
    );
    expect(hits).toBeGreaterThan(0);
  });
});

type Change =
  | { on: 'scan'; side: 'local' | 'remote'; pick: number; how: 'size' | 'time' | 'identity' | 'rename' | 'remove' | 'add' }
  | { on: 'rows'; pick: number; how: 'facts' | 'move local' | 'move remote' | 'drop' | 'put over' | 'add' };

function applyChange(state: ReturnType<typeof openMemoryState>, scene: { local: LocalNode[]; remote: RemoteNode[] }, change: Change) {
  if (change.on === 'rows') {
    const rows = state.tree.load();
    const row = rows[change.pick % rows.length];
    const dirs = rows.filter((node) => node.kind === 'dir');
    const dir = dirs[change.pick % dirs.length];
    if (!row || !dir) return scene;
    const base = { kind: 'file' as const, localParent: dir.id, localName: 'new.txt', remoteParent: dir.id, remoteName: 'new.txt', size: 3, localMtimeMs: 5, inode: 'new', remoteId: 'new', remoteModifiedMs: 7 };
    if (change.how === 'facts') state.tree.setRemoteFacts(row.id, `${row.remote?.id ?? ''}+`, 8);
    // A folder moves to the root, never into itself.
    else if (change.how === 'move local' || change.how === 'move remote') {
      state.tree.place(row.id, change.how === 'move local' ? 'local' : 'remote', row.kind === 'dir' ? 0 : dir.id, row.kind === 'dir' ? `moved-${row.id}` : 'moved.txt');
    }
    else if (change.how === 'drop') state.tree.drop([row.id]);
    else if (change.how === 'put over' && row.kind === 'file') state.tree.put({ ...base, localName: baseName(row.localPath), remoteName: baseName(row.remotePath) }, row.id);
    else if (change.how === 'add') state.tree.put(base);
    return scene;
  }
  const nodes: (LocalNode | RemoteNode)[] = scene[change.side];
  const files = nodes.filter((node) => node.kind === 'file');
  const dirs = nodes.filter((node) => node.kind === 'dir');
  const file = files[change.pick % Math.max(1, files.length)];
  const replace = (next: (node: LocalNode | RemoteNode) => LocalNode | RemoteNode | undefined) => {
    const out = nodes.flatMap((node) => {
      if (node !== file) return [node];
      const changed = next(node);
      return changed ? [changed] : [];
    });
    return { ...scene, [change.side]: out };
  };
  if (change.how === 'add') {
    const dir = dirs[change.pick % Math.max(1, dirs.length)];
    const path = `${dir ? `${dir.path}/` : ''}added-${change.pick}.txt`;
    if (nodes.some((node) => node.path === path)) return scene;
    const added = change.side === 'local' ? { path, kind: 'file' as const, size: 1, mtimeMs: 1, inode: `n${change.pick}` } : { path, kind: 'file' as const, id: `n${change.pick}`, size: 1, modifiedMs: 1 };
    return { ...scene, [change.side]: [...nodes, added] };
  }
  if (!file) return scene;
  switch (change.how) {
    case 'size':
      return replace((node) => ({ ...node, size: node.size + 1 }));
    case 'time':
      return replace((node) => ('mtimeMs' in node ? { ...node, mtimeMs: node.mtimeMs + 1 } : { ...node, modifiedMs: node.modifiedMs + 1 }));
    case 'identity':
      return replace((node) => ('inode' in node ? { ...node, inode: `${node.inode}'` } : { ...node, id: `${node.id}'` }));
    case 'rename':
      return nodes.some((node) => node.path === `${file.path}~`) ? scene : replace((node) => ({ ...node, path: `${node.path}~` }));
    case 'remove':
      return replace(() => undefined);
  }
}

function sortedByPath<N extends { path: string }>(nodes: readonly N[]): N[] {
  return [...nodes].sort((a, b) => a.path.localeCompare(b.path));
}

