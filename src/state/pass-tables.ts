import type { Statement } from 'better-sqlite3';
import { localFromSynced, remoteFromSynced } from '../tree/from-synced.js';
import { parentOf, pathKey } from '../tree/paths.js';
import type { LocalNode, RelPath, RemoteNode, Side, SyncedNode } from '../tree/types.js';
import type { Db } from './database.js';
import { toNodes, type RowRecord } from './synced.js';

/** Counts over the whole folder, for the planner's guards, when it sees only part of it. */
export interface Totals {
  readonly localEntries: number;
  readonly remoteEntries: number;
  readonly syncedEntries: number;
  readonly syncedFiles: number;
}

export interface RelevantTrees {
  readonly local: LocalNode[];
  readonly remote: RemoteNode[];
  readonly synced: SyncedNode[];
  /** Folders where something changed, on each side (keys). */
  readonly dirtyFolders: { readonly local: number; readonly remote: number };
}

let instances = 0;
const batchSize = 2000;

/**
 * One pass's scans, compared with the Synced tree in SQL so that a large folder is never held
 * in memory. Scans stream in; what comes out is what the planner needs: every folder, and the
 * entries (on both sides, and in the Synced tree) of each folder where something differs from
 * the Synced tree on either side. An unchanged folder's files never leave SQLite, so a pass
 * over 100,000 unchanged files plans over the folders alone.
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
    const n = this.#n;
    db.exec(`
      CREATE TEMP TABLE scan_local_${n} (key TEXT NOT NULL, parent TEXT NOT NULL, path TEXT NOT NULL, kind TEXT NOT NULL, size INTEGER NOT NULL, mtime INTEGER NOT NULL, inode TEXT NOT NULL);
      CREATE TEMP TABLE scan_remote_${n} (key TEXT NOT NULL, parent TEXT NOT NULL, path TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL, size INTEGER NOT NULL, modified INTEGER NOT NULL);
      CREATE TEMP TABLE dirty_local_${n} (key TEXT PRIMARY KEY);
      CREATE TEMP TABLE dirty_remote_${n} (key TEXT PRIMARY KEY);
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
    const insertCover = db.prepare(`INSERT INTO cover_${n} VALUES (?, ?)`);
    for (const side of ['local', 'remote'] as const) for (const root of this.#cover[side]) insertCover.run(side, root);
    const covered = (side: Side, column: string): string =>
      this.#cover[side].includes('')
        ? '1'
        : `EXISTS (SELECT 1 FROM cover_${n} c WHERE c.side = '${side}' AND (${column} = c.root OR (${column} > c.root || '/' AND ${column} < c.root || '0')))`;

    db.transaction(() => {
      // Scanned entries that are not exactly as the Synced tree has them: their folder changed.
      db.prepare(
        `INSERT OR IGNORE INTO dirty_local_${n} SELECT l.parent FROM scan_local_${n} l
         WHERE NOT EXISTS (SELECT 1 FROM synced s WHERE s.folder = ? AND s.local_key = l.key AND s.kind = l.kind AND s.inode = l.inode
           AND (l.kind = 'dir' OR (s.size = l.size AND s.local_mtime_ms = l.mtime)))`,
      ).run(f);
      db.prepare(
        `INSERT OR IGNORE INTO dirty_remote_${n} SELECT r.parent FROM scan_remote_${n} r
         WHERE NOT EXISTS (SELECT 1 FROM synced s WHERE s.folder = ? AND s.remote_key = r.key AND s.kind = r.kind AND s.remote_id = r.id
           AND (r.kind = 'dir' OR (s.size = r.size AND s.remote_modified_ms = r.modified)))`,
      ).run(f);
      // Synced entries that a scan should have seen and did not: gone or moved.
      db.prepare(
        `INSERT OR IGNORE INTO dirty_local_${n} SELECT coalesce(p.local_key, '') FROM synced s LEFT JOIN synced p ON p.id = s.local_parent
         WHERE s.folder = ? AND ${covered('local', 's.local_key')}
           AND NOT EXISTS (SELECT 1 FROM scan_local_${n} l WHERE l.key = s.local_key AND l.kind = s.kind)`,
      ).run(f);
      db.prepare(
        `INSERT OR IGNORE INTO dirty_remote_${n} SELECT coalesce(p.remote_key, '') FROM synced s LEFT JOIN synced p ON p.id = s.remote_parent
         WHERE s.folder = ? AND ${covered('remote', 's.remote_key')}
           AND NOT EXISTS (SELECT 1 FROM scan_remote_${n} r WHERE r.key = s.remote_key AND r.kind = s.kind)`,
      ).run(f);
      // A folder that changed on one side is looked at on both: its Synced counterpart, or the
      // same path when it is new.
      db.prepare(
        `INSERT OR IGNORE INTO dirty_remote_${n}
           SELECT coalesce(s.remote_key, d.key) FROM dirty_local_${n} d LEFT JOIN synced s ON s.folder = ? AND s.kind = 'dir' AND s.local_key = d.key AND d.key != ''`,
      ).run(f);
      db.prepare(
        `INSERT OR IGNORE INTO dirty_local_${n}
           SELECT coalesce(s.local_key, d.key) FROM dirty_remote_${n} d LEFT JOIN synced s ON s.folder = ? AND s.kind = 'dir' AND s.remote_key = d.key AND d.key != ''`,
      ).run(f);
    })();

    const dirtyDirIds = (side: Side): string => {
      const key = side === 'local' ? 'local_key' : 'remote_key';
      return `(SELECT s.id FROM synced s JOIN dirty_${side}_${n} d ON d.key = s.${key} WHERE s.folder = ${f} AND s.kind = 'dir'
               UNION ALL SELECT 0 WHERE EXISTS (SELECT 1 FROM dirty_${side}_${n} WHERE key = ''))`;
    };
    const syncedRows = db
      .prepare<[number], RowRecord>(
        `SELECT * FROM synced WHERE folder = ? AND (kind = 'dir' OR local_parent IN ${dirtyDirIds('local')} OR remote_parent IN ${dirtyDirIds('remote')})`,
      )
      .all(f);
    const dirs = syncedRows.filter((row) => row.kind === 'dir');
    const synced = toNodes(syncedRows, dirs);

    const local = db
      .prepare<[], ScannedLocal>(`SELECT * FROM scan_local_${n} WHERE kind = 'dir' OR parent IN (SELECT key FROM dirty_local_${n})`)
      .all()
      .map((row): LocalNode => ({ path: row.path, kind: row.kind, size: row.size, mtimeMs: row.mtime, inode: row.inode }));
    const remote = db
      .prepare<[], ScannedRemote>(`SELECT * FROM scan_remote_${n} WHERE kind = 'dir' OR parent IN (SELECT key FROM dirty_remote_${n})`)
      .all()
      .map((row): RemoteNode => ({ path: row.path, kind: row.kind, id: row.id, size: row.size, modifiedMs: row.modified }));

    // Outside what was scanned, a side is as the Synced tree remembers it.
    const seenLocal = new Set(local.map((node) => `${node.kind}:${pathKey(node.path)}`));
    const seenRemote = new Set(remote.map((node) => `${node.kind}:${pathKey(node.path)}`));
    const inCover = (side: Side, path: RelPath): boolean => {
      const key = pathKey(path);
      return this.#cover[side].some((root) => root === '' || key === root || key.startsWith(`${root}/`));
    };
    for (const node of synced) {
      if (!inCover('local', node.localPath) && !seenLocal.has(`${node.kind}:${pathKey(node.localPath)}`)) local.push(localFromSynced(node));
      if (!inCover('remote', node.remotePath) && !seenRemote.has(`${node.kind}:${pathKey(node.remotePath)}`)) remote.push(remoteFromSynced(node));
    }
    const count = (table: string): number => db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM ${table}`).get()?.n ?? 0;
    return { local, remote, synced, dirtyFolders: { local: count(`dirty_local_${n}`), remote: count(`dirty_remote_${n}`) } };
  }

  /** How many entries each scan saw. */
  scanned(): { local: number; remote: number } {
    this.#flush();
    const count = (table: string): number => this.#db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM ${table}`).get()?.n ?? 0;
    return { local: count(`scan_local_${this.#n}`), remote: count(`scan_remote_${this.#n}`) };
  }

  drop(): void {
    const n = this.#n;
    this.#db.exec(
      `DROP TABLE IF EXISTS scan_local_${n}; DROP TABLE IF EXISTS scan_remote_${n}; DROP TABLE IF EXISTS dirty_local_${n}; DROP TABLE IF EXISTS dirty_remote_${n}; DROP TABLE IF EXISTS cover_${n};`,
    );
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
