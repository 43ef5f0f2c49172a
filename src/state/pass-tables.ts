import type { Statement } from 'better-sqlite3';
import { localFromSynced, remoteFromSynced } from '../tree/from-synced.js';
import { baseName, foldKey, isWithin, parentOf, pathKey } from '../tree/paths.js';
import type { LocalNode, RelPath, RemoteNode, Side, SyncedNode } from '../tree/types.js';
import type { Db } from './database.js';
import { toNodes, type RowRecord } from './synced.js';

export interface RelevantTrees {
  readonly local: LocalNode[];
  readonly remote: RemoteNode[];
  readonly synced: SyncedNode[];
  /** Paths that differ from the Synced tree on a side, or are tied to one that does. */
  readonly changed: number;
}

let instances = 0;
const batchSize = 2000;

/**
 * One pass's scans, compared with the Synced tree in SQL so that a large folder is never held
 * in memory. Scans stream in; what comes out is what the planner needs: every folder, every
 * path that differs from the Synced tree on either side, and what the planner must see next to
 * such a path to decide it. An unchanged file never leaves SQLite, so a pass over 100,000
 * unchanged files plans over the folders alone.
 *
 * A path ties in the entries that pair with it: its Synced row and that row's path on the other
 * side, the same path on the other side, and the Synced row an inode or object ID points to (a
 * move). Its siblings whose case-folded name starts with its stem tie in too, and, for a synced
 * entry, those in the folder of its other side: a collision, a conflict copy name or a name
 * moved aside can only involve those.
 *
 * A side may be scanned only in part (`cover`): what lies outside its scanned roots counts as
 * the Synced tree remembers it. The tables are temporary (on disk, not in memory) and private
 * to this pass; `drop()` removes them.
 */
export class PassTables {
  readonly #db: Db;
  readonly #folder: number;
  readonly #n: number;
  readonly #pending = { local: [] as LocalNode[], remote: [] as RemoteNode[] };
  readonly #cover = { local: [] as RelPath[], remote: [] as RelPath[] };
  readonly #insert: { local: Statement<unknown[]>; remote: Statement<unknown[]> };

  constructor(db: Db, folder: number) {
    this.#db = db;
    this.#folder = folder;
    this.#n = ++instances;
    db.pragma('temp_store = FILE');
    // Helper threads for the sorts that build the scan tables' indexes: a fifth less time for a
    // million rows on two cores.
    db.pragma('threads = 2');
    const n = this.#n;
    db.exec(`
      CREATE TEMP TABLE scan_local_${n} (key TEXT NOT NULL, parent TEXT NOT NULL, path TEXT NOT NULL, kind TEXT NOT NULL, size INTEGER NOT NULL, mtime INTEGER NOT NULL, inode TEXT NOT NULL);
      CREATE TEMP TABLE scan_remote_${n} (key TEXT NOT NULL, parent TEXT NOT NULL, path TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL, size INTEGER NOT NULL, modified INTEGER NOT NULL);
      CREATE TEMP TABLE changed_${n} (key TEXT PRIMARY KEY);
      CREATE TEMP TABLE cover_${n} (side TEXT NOT NULL, root TEXT NOT NULL);
    `);
    this.#insert = {
      local: db.prepare(`INSERT INTO scan_local_${n} VALUES (?, ?, ?, ?, ?, ?, ?)`),
      remote: db.prepare(`INSERT INTO scan_remote_${n} VALUES (?, ?, ?, ?, ?, ?, ?)`),
    };
  }

  addLocal(node: LocalNode): void {
    this.#pending.local.push(node);
    if (this.#pending.local.length >= batchSize) this.#flush();
  }

  addRemote(node: RemoteNode): void {
    this.#pending.remote.push(node);
    if (this.#pending.remote.length >= batchSize) this.#flush();
  }

  /** The remote walk starts over: what it gave so far is forgotten. */
  resetRemote(): void {
    this.#pending.remote.length = 0;
    this.#db.exec(`DELETE FROM scan_remote_${this.#n}`);
  }

  /** `root` (and everything below it) was scanned on `side`; '' is the whole folder. */
  cover(side: Side, root: RelPath): void {
    this.#cover[side].push(pathKey(root));
  }

  /** The part of the trees the planner needs; see the class comment. */
  relevant(): RelevantTrees {
    this.#flush();
    const db = this.#db;
    const n = this.#n;
    const f = this.#folder;
    // Indexed once the scans are in: cheaper than keeping an index up to date row by row.
    db.exec(`
      CREATE INDEX IF NOT EXISTS scan_local_${n}_key ON scan_local_${n} (key, kind);
      CREATE INDEX IF NOT EXISTS scan_local_${n}_parent ON scan_local_${n} (parent);
      CREATE INDEX IF NOT EXISTS scan_remote_${n}_key ON scan_remote_${n} (key, kind);
      CREATE INDEX IF NOT EXISTS scan_remote_${n}_parent ON scan_remote_${n} (parent);
    `);
    const insertCover = db.prepare(`INSERT INTO cover_${n} VALUES (?, ?)`);
    for (const side of ['local', 'remote'] as const) for (const root of this.#cover[side]) insertCover.run(side, root);
    const covered = (side: Side, column: string): string =>
      this.#cover[side].includes('')
        ? '1'
        : `EXISTS (SELECT 1 FROM cover_${n} c WHERE c.side = '${side}' AND (${column} = c.root OR (${column} > c.root || '/' AND ${column} < c.root || '0')))`;

    db.transaction(() => {
      // Scanned entries that are not exactly as the Synced tree has them.
      db.prepare(
        `INSERT OR IGNORE INTO changed_${n} SELECT l.key FROM scan_local_${n} l
         WHERE NOT EXISTS (SELECT 1 FROM synced s WHERE s.folder = ? AND s.local_key = l.key AND s.kind = l.kind AND s.inode = l.inode
           AND (l.kind = 'dir' OR (s.size = l.size AND s.local_mtime_ms = l.mtime)))`,
      ).run(f);
      db.prepare(
        `INSERT OR IGNORE INTO changed_${n} SELECT r.key FROM scan_remote_${n} r
         WHERE NOT EXISTS (SELECT 1 FROM synced s WHERE s.folder = ? AND s.remote_key = r.key AND s.kind = r.kind AND s.remote_id = r.id
           AND (r.kind = 'dir' OR (s.size = r.size AND s.remote_modified_ms = r.modified)))`,
      ).run(f);
      // Synced entries that a scan should have seen and did not: gone or moved.
      db.prepare(
        `INSERT OR IGNORE INTO changed_${n} SELECT s.local_key FROM synced s
         WHERE s.folder = ? AND ${covered('local', 's.local_key')}
           AND NOT EXISTS (SELECT 1 FROM scan_local_${n} l WHERE l.key = s.local_key AND l.kind = s.kind)`,
      ).run(f);
      db.prepare(
        `INSERT OR IGNORE INTO changed_${n} SELECT s.remote_key FROM synced s
         WHERE s.folder = ? AND ${covered('remote', 's.remote_key')}
           AND NOT EXISTS (SELECT 1 FROM scan_remote_${n} r WHERE r.key = s.remote_key AND r.kind = s.kind)`,
      ).run(f);
      this.#tieIn();
      this.#tieInNeighbours();
      this.#tieIn();
    })();

    const syncedRows = db
      .prepare<[number], RowRecord>(
        `SELECT * FROM synced WHERE folder = ? AND (kind = 'dir' OR local_key IN (SELECT key FROM changed_${n}) OR remote_key IN (SELECT key FROM changed_${n}))`,
      )
      .all(f);
    const synced = toNodes(syncedRows);

    const local = db
      .prepare<[], ScannedLocal>(`SELECT * FROM scan_local_${n} WHERE kind = 'dir' OR key IN (SELECT key FROM changed_${n})`)
      .all()
      .map((row): LocalNode => ({ path: row.path, kind: row.kind, size: row.size, mtimeMs: row.mtime, inode: row.inode }));
    const remote = db
      .prepare<[], ScannedRemote>(`SELECT * FROM scan_remote_${n} WHERE kind = 'dir' OR key IN (SELECT key FROM changed_${n})`)
      .all()
      .map((row): RemoteNode => ({ path: row.path, kind: row.kind, id: row.id, size: row.size, modifiedMs: row.modified }));

    // Outside what was scanned, a side is as the Synced tree remembers it.
    const seenLocal = new Set(local.map((node) => `${node.kind}:${pathKey(node.path)}`));
    const seenRemote = new Set(remote.map((node) => `${node.kind}:${pathKey(node.path)}`));
    const inCover = (side: Side, path: RelPath): boolean => {
      const key = pathKey(path);
      return this.#cover[side].some((root) => isWithin(key, root));
    };
    for (const node of synced) {
      if (!inCover('local', node.localPath) && !seenLocal.has(`${node.kind}:${pathKey(node.localPath)}`)) local.push(localFromSynced(node));
      if (!inCover('remote', node.remotePath) && !seenRemote.has(`${node.kind}:${pathKey(node.remotePath)}`)) remote.push(remoteFromSynced(node));
    }
    return { local, remote, synced, changed: this.#count(`changed_${n}`) };
  }

  /** Adds the paths tied to a changed one (see the class comment) until there are no more. */
  #tieIn(): void {
    const n = this.#n;
    const steps = [
      `SELECT s.remote_key FROM changed_${n} c CROSS JOIN synced s ON s.folder = ? AND s.local_key = c.key`,
      `SELECT s.local_key FROM changed_${n} c CROSS JOIN synced s ON s.folder = ? AND s.remote_key = c.key`,
      `SELECT s.local_key FROM changed_${n} c CROSS JOIN scan_local_${n} l ON l.key = c.key CROSS JOIN synced s ON s.folder = ? AND s.inode = l.inode AND s.kind = l.kind`,
      `SELECT s.remote_key FROM changed_${n} c CROSS JOIN scan_remote_${n} r ON r.key = c.key CROSS JOIN synced s ON s.folder = ? AND s.remote_id = r.id`,
    ].map((select) => this.#db.prepare(`INSERT OR IGNORE INTO changed_${n} ${select}`));
    // CROSS JOIN keeps SQLite from walking a whole table: the changed paths are the few.
    for (let added = 1; added > 0; ) {
      added = 0;
      for (const step of steps) added += step.run(this.#folder).changes;
    }
  }

  /** Adds the siblings a changed path could collide with under a case-folded name. */
  #tieInNeighbours(): void {
    const db = this.#db;
    const n = this.#n;
    const f = this.#folder;
    const stems = new Map<string, Set<string>>();
    const want = (dir: string, name: string): void => {
      let set = stems.get(dir);
      if (!set) stems.set(dir, (set = new Set()));
      set.add(stemOf(name));
    };
    for (const key of db.prepare<[], string>(`SELECT key FROM changed_${n}`).pluck().iterate()) want(parentOf(key), baseName(key));
    // A synced entry's target can take its folder from one side and its name from the other,
    // each where the Synced tree has it or where the entry is now (an inode or ID found it).
    const places = new Map<number, { local: Set<string>; remote: Set<string> }>();
    const placesOf = (id: number): { local: Set<string>; remote: Set<string> } => {
      let entry = places.get(id);
      if (!entry) places.set(id, (entry = { local: new Set(), remote: new Set() }));
      return entry;
    };
    const rows = db.prepare<[], { id: number; local: string; remote: string }>(
      `SELECT s.id, s.local_key AS local, s.remote_key AS remote FROM changed_${n} c CROSS JOIN synced s ON s.folder = ${f} AND s.local_key = c.key
       UNION SELECT s.id, s.local_key, s.remote_key FROM changed_${n} c CROSS JOIN synced s ON s.folder = ${f} AND s.remote_key = c.key`,
    );
    for (const row of rows.iterate()) {
      const entry = placesOf(row.id);
      entry.local.add(row.local);
      entry.remote.add(row.remote);
    }
    const movedLocally = db.prepare<[], { id: number; key: string }>(
      `SELECT s.id, l.key FROM changed_${n} c CROSS JOIN scan_local_${n} l ON l.key = c.key CROSS JOIN synced s ON s.folder = ${f} AND s.inode = l.inode AND s.kind = l.kind`,
    );
    for (const { id, key } of movedLocally.iterate()) placesOf(id).local.add(key);
    const movedRemotely = db.prepare<[], { id: number; key: string }>(
      `SELECT s.id, r.key FROM changed_${n} c CROSS JOIN scan_remote_${n} r ON r.key = c.key CROSS JOIN synced s ON s.folder = ${f} AND s.remote_id = r.id`,
    );
    for (const { id, key } of movedRemotely.iterate()) placesOf(id).remote.add(key);
    for (const { local, remote } of places.values()) {
      for (const l of local) {
        for (const r of remote) {
          want(parentOf(l), baseName(r));
          want(parentOf(r), baseName(l));
        }
      }
    }
    const inFolder = [
      db.prepare<[string], string>(`SELECT key FROM scan_local_${n} WHERE parent = ?`).pluck(),
      db.prepare<[string], string>(`SELECT key FROM scan_remote_${n} WHERE parent = ?`).pluck(),
      db.prepare<[string], string>(
        `SELECT s.local_key FROM synced s WHERE s.local_parent = (SELECT p.id FROM synced p WHERE p.folder = ${f} AND p.kind = 'dir' AND p.local_key = ?)`,
      ).pluck(),
      db.prepare<[string], string>(
        `SELECT s.remote_key FROM synced s WHERE s.remote_parent = (SELECT p.id FROM synced p WHERE p.folder = ${f} AND p.kind = 'dir' AND p.remote_key = ?)`,
      ).pluck(),
    ];
    const atRoot = [
      db.prepare<[], string>(`SELECT local_key FROM synced WHERE local_parent = 0 AND +folder = ${f}`).pluck(),
      db.prepare<[], string>(`SELECT remote_key FROM synced WHERE remote_parent = 0 AND +folder = ${f}`).pluck(),
    ];
    const found: string[] = [];
    const consider = (key: string, wanted: ReadonlySet<string>): void => {
      const name = foldKey(baseName(key));
      for (const stem of wanted) if (name.startsWith(stem)) return void found.push(key);
    };
    // One folder's keys at a time, fetched whole: a third cheaper than stepping row by row.
    for (const [dir, wanted] of stems) {
      const fetches = dir === '' ? [...inFolder.slice(0, 2).map((query) => () => query.all(dir)), ...atRoot.map((query) => () => query.all())] : inFolder.map((query) => () => query.all(dir));
      for (const fetch of fetches) for (const key of fetch()) consider(key, wanted);
    }
    const insert = db.prepare(`INSERT OR IGNORE INTO changed_${n} VALUES (?)`);
    for (const key of found) insert.run(key);
  }

  /** How many entries each scan saw. */
  scanned(): { local: number; remote: number } {
    this.#flush();
    return { local: this.#count(`scan_local_${this.#n}`), remote: this.#count(`scan_remote_${this.#n}`) };
  }

  drop(): void {
    const n = this.#n;
    this.#db.exec(
      `DROP TABLE IF EXISTS scan_local_${n}; DROP TABLE IF EXISTS scan_remote_${n}; DROP TABLE IF EXISTS changed_${n}; DROP TABLE IF EXISTS cover_${n};`,
    );
  }

  #count(table: string): number {
    return this.#db.prepare<[], number>(`SELECT count(*) FROM ${table}`).pluck().get() ?? 0;
  }

  #flush(): void {
    const { local, remote } = this.#pending;
    if (local.length === 0 && remote.length === 0) return;
    this.#db.transaction(() => {
      for (const node of local) {
        const key = pathKey(node.path);
        this.#insert.local.run(key, parentOf(key), node.path, node.kind, node.size, node.mtimeMs, node.inode);
      }
      for (const node of remote) {
        const key = pathKey(node.path);
        this.#insert.remote.run(key, parentOf(key), node.path, node.kind, node.id, node.size, node.modifiedMs);
      }
    })();
    local.length = 0;
    remote.length = 0;
  }
}

/**
 * The case-folded part of a name that its conflict copies and aside names keep: up to the
 * first dot that is not the leading one.
 */
function stemOf(name: string): string {
  const folded = foldKey(name);
  const dot = folded.indexOf('.', 1);
  return dot > 0 ? folded.slice(0, dot) : folded;
}

interface ScannedLocal {
  path: string;
  kind: 'file' | 'dir';
  size: number;
  mtime: number;
  inode: string;
}

interface ScannedRemote {
  path: string;
  kind: 'file' | 'dir';
  id: string;
  size: number;
  modified: number;
}
