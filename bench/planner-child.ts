/**
 * The planner benchmark's child process:
 * `node --import tsx bench/planner-child.ts write|plan <entries> <stateDir> [folders|entries]`.
 * `write` stores a synthetic Synced tree of about `entries` rows in SQLite, as a finished sync
 * leaves it. `plan` streams Local and Remote scans equal to it but for 1% changes into a pass's
 * tables (a folder's listing at a time, as the scanners do, or entry by entry), compares them
 * in SQLite and plans over the folders that changed, timing each phase. Each prints one JSON
 * line; the parent measures the `plan` process's peak RSS.
 */
import { invalidNameReason } from '../src/cloudreve/names.js';
import { plan, utcConflictStamp } from '../src/plan/index.js';
import { openDatabase } from '../src/state/database.js';
import { PassTables } from '../src/state/pass-tables.js';
import { folderId, SyncedTree } from '../src/state/synced.js';
import type { LocalNode, RemoteNode } from '../src/tree/types.js';

const mode = process.argv[2];
const entries = Number(process.argv[3] ?? '1000000');
const stateDir = process.argv[4] ?? '';
const handover = process.argv[5] ?? 'folders';
if ((mode !== 'write' && mode !== 'plan') || !Number.isSafeInteger(entries) || entries < 100 || stateDir === '' || (handover !== 'folders' && handover !== 'entries')) {
  console.error('usage: planner-child.ts write|plan <entries> <stateDir> [folders|entries]');
  process.exit(2);
}

const memory = (): { rssMiB: number; heapMiB: number } => {
  const m = process.memoryUsage();
  return { rssMiB: Math.round(m.rss / 1048576), heapMiB: Math.round(m.heapUsed / 1048576) };
};
const phases: Record<string, { ms: number; rssMiB: number; heapMiB: number }> = {};
const phase = <T>(name: string, run: () => T): T => {
  const started = performance.now();
  const result = run();
  phases[name] = { ms: Math.round(performance.now() - started), ...memory() };
  return result;
};
const baseline = memory();

// The shape: folders of 100 files, 100 folders per top-level folder.
const filesPerFolder = 99;
const folders = Math.round(entries / (filesPerFolder + 1));
const topLevel = Math.max(1, Math.round(folders / 100));
const dirPath = (d: number): string => `t${String(d % topLevel).padStart(3, '0')}/d${String(d).padStart(5, '0')}`;
const epoch = Date.UTC(2026, 0, 1);

const db = openDatabase(stateDir);
const tree = new SyncedTree(db, folderId(db, 'bench'));

// 1. The Synced tree, as a finished sync leaves it.
if (mode === 'write') {
  phase('write synced rows', () => {
    db.transaction(() => {
      const topRows: number[] = [];
      for (let t = 0; t < topLevel; t++) {
        const name = `t${String(t).padStart(3, '0')}`;
        topRows.push(tree.put(row('dir', 0, name, 0, 1000 + t, `T${t}`)));
      }
      for (let d = 0; d < folders; d++) {
        const parent = topRows[d % topLevel] ?? 0;
        const dir = tree.put(row('dir', parent, `d${String(d).padStart(5, '0')}`, 0, 100_000 + d, `D${d}`));
        for (let f = 0; f < filesPerFolder; f++) {
          const n = d * filesPerFolder + f;
          tree.put(row('file', dir, `f${String(f).padStart(3, '0')}.txt`, 1000 + (n % 5000), 10_000_000 + n, `F${n}`));
        }
      }
    })();
  });
  db.close();
  console.log(JSON.stringify({ phases }));
  process.exit(0);
}

function row(kind: 'file' | 'dir', parent: number, name: string, size: number, inode: number, remoteId: string) {
  return {
    kind,
    localParent: parent,
    localName: name,
    remoteParent: parent,
    remoteName: name,
    size,
    localMtimeMs: epoch + inode,
    inode: String(inode),
    remoteId,
    remoteModifiedMs: epoch + inode + 7,
  };
}

// 2. The scans: the same tree with 1% of the entries changed, one folder's listing at a time,
// handed to the pass's tables as the scanners do (each folder listed whole) or entry by entry
// (as a scan of single paths does): nothing is held in a JavaScript array beyond one folder.
const changes = { localEdits: 0, remoteEdits: 0, localNew: 0, remoteNew: 0, localDeletes: 0, remoteDeletes: 0 };
const tables = new PassTables(db, tree.folder);
interface Listing {
  readonly path: string;
  readonly local: LocalNode[];
  readonly remote: RemoteNode[];
}
/** A folder as both scans see it, matching its row (`row` in step 1). */
const dirNodes = (path: string, inode: number, id: string): { local: LocalNode; remote: RemoteNode } => ({
  local: { path, kind: 'dir', size: 0, mtimeMs: epoch + inode, inode: String(inode) },
  remote: { path, kind: 'dir', id, size: 0, modifiedMs: epoch + inode + 7 },
});
function* listings(): Generator<Listing> {
  const root: Listing = { path: '', local: [], remote: [] };
  for (let t = 0; t < topLevel; t++) {
    const { local, remote } = dirNodes(`t${String(t).padStart(3, '0')}`, 1000 + t, `T${t}`);
    root.local.push(local);
    root.remote.push(remote);
  }
  yield root;
  for (let t = 0; t < topLevel; t++) {
    const top: Listing = { path: `t${String(t).padStart(3, '0')}`, local: [], remote: [] };
    for (let d = t; d < folders; d += topLevel) {
      const { local, remote } = dirNodes(dirPath(d), 100_000 + d, `D${d}`);
      top.local.push(local);
      top.remote.push(remote);
    }
    yield top;
  }
  // Per 1,000 files: 3 local edits, 3 remote edits, 2 local new files, 1 remote new file,
  // 0.5 local deletes and 0.5 remote deletes: 1% of the entries.
  for (let d = 0; d < folders; d++) {
    const dir: Listing = { path: dirPath(d), local: [], remote: [] };
    for (let f = 0; f < filesPerFolder; f++) {
      const n = d * filesPerFolder + f;
      const path = `${dir.path}/f${String(f).padStart(3, '0')}.txt`;
      const size = 1000 + (n % 5000);
      const slot = n % 1000;
      const inode = 10_000_000 + n;
      if (slot === 500 && n % 2000 === 500) changes.localDeletes++;
      else if (slot < 3) {
        changes.localEdits++;
        dir.local.push({ path, kind: 'file', size: size + 1, mtimeMs: epoch + inode + 60_000, inode: String(inode) });
      } else dir.local.push({ path, kind: 'file', size, mtimeMs: epoch + inode, inode: String(inode) });
      if (slot === 600 && n % 2000 === 600) changes.remoteDeletes++;
      else if (slot >= 3 && slot < 6) {
        changes.remoteEdits++;
        dir.remote.push({ path, kind: 'file', id: `F${n}`, size: size + 2, modifiedMs: epoch + inode + 120_000 });
      } else dir.remote.push({ path, kind: 'file', id: `F${n}`, size, modifiedMs: epoch + inode + 7 });
      if (slot === 10 || slot === 11) {
        changes.localNew++;
        dir.local.push({ path: `${dir.path}/new-local-${f}.txt`, kind: 'file', size: 10, mtimeMs: epoch, inode: String(50_000_000 + n) });
      }
      if (slot === 20) {
        changes.remoteNew++;
        dir.remote.push({ path: `${dir.path}/new-remote-${f}.txt`, kind: 'file', id: `N${n}`, size: 10, modifiedMs: epoch });
      }
    }
    yield dir;
  }
}
phase('scan into SQLite', () => {
  for (const { path, local, remote } of listings()) {
    if (handover === 'folders') {
      tables.addLocalFolder(path, local);
      tables.addRemoteFolder(path, remote);
      continue;
    }
    // Entry by entry, the root is no entry of its own.
    for (const node of local) tables.addLocal(node);
    for (const node of remote) tables.addRemote(node);
  }
  tables.cover('local', '');
  tables.cover('remote', '');
});

// 3. What a pass does between the scans and the executor: cut out the folders that changed,
// then plan over them with the whole folder's totals for the guards.
const scanned = tables.scanned();
const counts = tree.counts();
const relevant = phase('compare in SQLite', () => tables.relevant());
const planned = phase('plan', () =>
  plan(
    {
      local: { rootExists: true, nodes: relevant.local, ignored: [], unknown: [] },
      remote: { rootExists: true, nodes: relevant.remote, ignored: [], unknown: [] },
      synced: relevant.synced,
      totals: { localEntries: scanned.local, remoteEntries: scanned.remote, syncedEntries: counts.entries, syncedFiles: counts.files },
    },
    {
      mode: 'two-way',
      conflictPolicy: 'keep-both',
      massDelete: { maxPercent: 50, minCount: 10, maxCount: 1000 },
      force: false,
      localCaseInsensitive: false,
      remoteTrash: false,
      remoteNameProblem: invalidNameReason,
      localNameProblem: (name) => (Buffer.byteLength(name) > 255 ? 'longer than 255 bytes' : undefined),
      conflictStamp: utcConflictStamp,
    },
  ),
);
tables.drop();
db.close();

const byType: Record<string, number> = {};
for (const action of planned.actions) byType[action.type] = (byType[action.type] ?? 0) + 1;
console.log(
  JSON.stringify({
    entries: counts.entries,
    localNodes: scanned.local,
    remoteNodes: scanned.remote,
    planned: { local: relevant.local.length, remote: relevant.remote.length, synced: relevant.synced.length },
    changed: relevant.changed,
    changes,
    actions: planned.actions.length,
    byType,
    stopped: planned.stopped?.reason,
    baseline,
    phases,
  }),
);
