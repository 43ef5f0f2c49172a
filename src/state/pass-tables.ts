import type { Statement } from 'better-sqlite3';
import { localFromSynced, remoteFromSynced } from '../tree/from-synced.js';
import { baseName, foldKey, isWithin, joinPath, parentOf, pathKey } from '../tree/paths.js';
import { rootRow, type EntryKind, type LocalNode, type RelPath, type RemoteNode, type Side, type SyncedNode } from '../tree/types.js';
import { prepared, type Db } from './database.js';
import { FolderDigests, localDigest, remoteDigest } from './folder-digests.js';
import { flushGroup, recordsLostMark, throwIfRecordsLostSince } from './group-commit.js';
import { dirPathsOf, toNodes, type DirPaths, type RowRecord } from './synced.js';

export interface RelevantTrees {
  readonly local: LocalNode[];
  readonly remote: RemoteNode[];
  readonly synced: SyncedNode[];
  /** Paths that differ from the Synced tree on a side, or are tied to one that does. */
  readonly changed: number;
}

export interface PassTablesOptions {
  /** Whether the digests of folders found as remembered are written down (not in a dry run). */
  readonly keepDigests: boolean;
  /**
   * What turns a server listing into scanned entries besides the listing itself (the ignore
   * rules, the local path length, the version): a listing's digest holds only under the same.
   * Without it, server folders get digests of their entries, as local ones do.
   */
  readonly listingContext?: string;
}

let instances = 0;
const sides = ['local', 'remote'] as const;
const batchSize = 2000;

/**
 * One pass's scans, compared with the Synced tree so that a large folder is never held in
 * memory. Scans stream in; what comes out is what the planner needs: every folder, every path
 * that differs from the Synced tree on either side, and what the planner must see next to such
 * a path to decide it. A pass over 100,000 unchanged files plans over the folders alone.
 *
 * A whole listed folder (`addLocalFolder`, `addRemoteFolder`) is compared with its Synced rows
 * as it arrives, and a file found exactly as remembered, spelling included, is only counted:
 * should the planner need it, its Synced row tells it. Everything else is stored in temporary
 * tables and compared there. Storing every unchanged file cost a no-op pass a fifth of its
 * time, and SQLite's caches and index sorts most of the memory it grew by per file. A folder
 * whose entries hash as they did when they last matched its rows exactly, rows that have not
 * changed since (`FolderDigests`), is counted without reading its rows at all.
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
 *
 * The daemon's folders share the connection, so the scan's rows may be written into a commit
 * group another folder's run has open: if that group is lost, so are they, and what the pass
 * reads back would show entries missing as if deleted. The tables are created outside any group
 * (a lost one would take them with it), and reading the scans back throws once a group was lost.
 */
export class PassTables {
  readonly #db: Db;
  readonly #folder: number;
  readonly #n: number;
  readonly #pending = { local: [] as LocalNode[], remote: [] as RemoteNode[] };
  readonly #cover = { local: [] as RelPath[], remote: [] as RelPath[] };
  readonly #insert: { local: Statement<unknown[]>; remote: Statement<unknown[]> };
  /** What each side's listed folders showed; see `FolderScan`. */
  readonly #listings = { local: new FolderScan(), remote: new FolderScan() };
  #dirs: SyncedDirs | undefined;
  readonly #digests: FolderDigests;
  /** Whether the digests of folders found as remembered are written down (not in a dry run). */
  readonly #keepDigests: boolean;
  readonly #listingContext: string | undefined;
  readonly #lostMark: number;

  constructor(db: Db, folder: number, options: PassTablesOptions = { keepDigests: true }) {
    flushGroup(db);
    this.#lostMark = recordsLostMark(db);
    this.#db = db;
    this.#folder = folder;
    this.#digests = new FolderDigests(db, folder);
    this.#keepDigests = options.keepDigests;
    this.#listingContext = options.listingContext;
    this.#n = ++instances;
    // Helper threads for the sorts that build the scan tables' indexes: a fifth less time for a
    // million rows on two cores.
    db.pragma('threads = 2');
    const n = this.#n;
    db.exec(`
      CREATE TEMP TABLE scan_local_${n} (key TEXT NOT NULL, parent TEXT NOT NULL, path TEXT NOT NULL, kind TEXT NOT NULL, size INTEGER NOT NULL, mtime INTEGER NOT NULL, inode TEXT NOT NULL);
      CREATE TEMP TABLE scan_remote_${n} (key TEXT NOT NULL, parent TEXT NOT NULL, path TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL, size INTEGER NOT NULL, modified INTEGER NOT NULL);
      CREATE TEMP TABLE changed_${n} (key TEXT PRIMARY KEY);
      CREATE TEMP TABLE cover_${n} (side TEXT NOT NULL, root TEXT NOT NULL);
      CREATE TEMP TABLE unlisted_${n} (side TEXT NOT NULL, id INTEGER NOT NULL);
    `);
    this.#insert = {
      local: db.prepare(`INSERT INTO scan_local_${n} VALUES (?, ?, ?, ?, ?, ?, ?)`),
      remote: db.prepare(`INSERT INTO scan_remote_${n} VALUES (?, ?, ?, ?, ?, ?, ?)`),
    };
  }

  /** One entry whose folder is not listed whole. */
  addLocal(node: LocalNode): void {
    this.#pending.local.push(node);
    if (this.#pending.local.length >= batchSize) this.#flush();
  }

  addRemote(node: RemoteNode): void {
    this.#pending.remote.push(node);
    if (this.#pending.remote.length >= batchSize) this.#flush();
  }

  /**
   * Everything the folder at `path` holds (as far as it could be read), listed once. `raw`: the
   * native reader's digest of the folder as the walk read it, and the names in it the rules left
   * out (see `LocalScanOptions.onFolder`); remembered for the folder when its entries match their
   * rows exactly, so that the next pass finding that digest takes the folder as before
   * (`localFolderAsBefore`).
   */
  addLocalFolder(path: RelPath, nodes: readonly LocalNode[], raw?: { readonly digest: string; readonly ignored: readonly string[] }): void {
    const key = raw && this.#rawKey(path, raw.digest);
    const ofRead = raw && key !== undefined ? `${key}${JSON.stringify([...raw.ignored].sort())}` : undefined;
    this.#addFolder('local', path, nodes, () => localDigest(path, nodes), ofRead, (row, node) => row[col.time] === node.mtimeMs && row[col.identity] === node.inode, (node) => this.addLocal(node));
  }

  /**
   * Takes the local folder at `path` as before when `rawDigest` is the one it had when its
   * entries last matched its rows exactly, the rows being unchanged since and the folder placed
   * on both sides: its files count as found as remembered, and the names in it the rules left
   * out then are given back (the walk reports them, and its other subfolders as it reads them).
   * Undefined, and nothing taken, otherwise.
   */
  localFolderAsBefore(path: RelPath, rawDigest: string): readonly string[] | undefined {
    const dir = this.#syncedDirs().byKey.local.get(pathKey(path));
    const stored = dir === undefined ? undefined : this.#digests.get('local', dir);
    const key = this.#rawKey(path, rawDigest);
    if (dir === undefined || stored === undefined || key === undefined || !stored.digest.startsWith(key) || !this.#placedOnBothSides(dir)) return undefined;
    const listing = this.#listings.local;
    listing.listed.set(dir, path);
    listing.asBefore++;
    listing.matched += stored.files;
    return JSON.parse(stored.digest.slice(key.length)) as string[];
  }

  /**
   * A native read's digest as stored, before the names the rules left out: under the rules and
   * limits it was taken with (as a listing's fingerprint is), and at the folder's path, which
   * rules anchored to a path and the limit on a path's length judge the names by (a renamed
   * folder keeps its row, and so its digests).
   */
  #rawKey(path: RelPath, rawDigest: string): string | undefined {
    // Quoted, the path ends where the names begin, whatever characters it holds.
    return this.#listingContext === undefined ? undefined : `${this.#listingContext}|raw:${rawDigest}|${JSON.stringify(path)}`;
  }

  /**
   * `addLocalFolder` for the server, with the listing's fingerprint when every entry it listed is
   * among `nodes`: then the folder's digest can be the listing's, which a later walk gives the
   * server instead of reading the listing again (`listingAsBefore`).
   */
  addRemoteFolder(path: RelPath, nodes: readonly RemoteNode[], fingerprint?: string): void {
    const context = this.#listingContext;
    const ofListing = fingerprint === undefined || context === undefined ? undefined : `${context}|${fingerprint}`;
    this.#addFolder('remote', path, nodes, () => remoteDigest(path, nodes), ofListing, (row, node) => row[col.time] === node.modifiedMs && row[col.identity] === node.id, (node) => this.addRemote(node));
  }

  #addFolder<N extends LocalNode | RemoteNode>(
    side: Side,
    path: RelPath,
    nodes: readonly N[],
    digestOfNodes: () => string,
    ofRead: string | undefined,
    sameFacts: (row: ChildRow, node: N) => boolean,
    store: (node: N) => void,
  ): void {
    const listing = this.#listings[side];
    // A folder whose entries and rows are both as they were when they last matched matches now.
    const dir = nodes.length > 0 ? this.#syncedDirs().byKey[side].get(pathKey(path)) : undefined;
    const stored = dir === undefined ? undefined : this.#digests.get(side, dir)?.digest;
    let nodeDigest: string | undefined;
    const ofNodes = (): string => (nodeDigest ??= digestOfNodes());
    if (dir !== undefined && stored !== undefined && (stored === ofRead || stored === ofNodes()) && this.#placedOnBothSides(dir)) {
      listing.listed.set(dir, path);
      listing.asBefore++;
      let files = 0;
      for (const node of nodes) {
        if (node.kind === 'file') files++;
        else store(node);
      }
      listing.matched += files;
      // A local folder found as before by its entries' digest (one a pass without the native
      // reader left) goes by the read's from now on.
      if (side === 'local' && ofRead !== undefined && stored !== ofRead) this.#digests.remember(side, dir, { digest: ofRead, files });
      return;
    }
    const rows = this.#syncedChildren(side, path);
    // Every entry took a row of its own, placed on both sides in this very folder, and every
    // row was taken by one; folders aside, as remembered. The listing's digest also needs each
    // subfolder as its row has it, since `takeListingAsBefore` gives the subfolders from the rows.
    let exact = rows !== undefined;
    let subfoldersAsRows = true;
    let files = 0;
    for (const node of nodes) {
      const row = rows && this.#placed(side, rows, node);
      if (!row || row[col.localParent] !== dir || row[col.remoteParent] !== dir) exact = false;
      if (row && node.kind === 'file' && row[col.size] === node.size && sameFacts(row, node)) {
        listing.matched++;
        files++;
      } else {
        if (node.kind === 'file') exact = false;
        else if (!row || !sameFacts(row, node)) subfoldersAsRows = false;
        store(node);
      }
    }
    const left = rows ? rows.left() : [];
    if (left.length > 0) exact = false;
    for (const row of left) listing.gone.add(row[col.id]);
    // A server folder taken as before by its listing gets its subfolders from their rows; a local
    // one, from the read itself.
    const readStands = ofRead !== undefined && (side === 'local' || subfoldersAsRows);
    if (exact && dir !== undefined) this.#digests.remember(side, dir, { digest: readStands ? ofRead : ofNodes(), files });
  }

  /**
   * The fingerprint of the listing the server folder at `path` gave when it last matched its
   * rows exactly, if that listing may stand for the folder again: the rows are unchanged, the
   * folder is placed on both sides, and the listing was taken under the same rules.
   */
  listingAsBefore(path: RelPath): string | undefined {
    return this.#listingToTake(path)?.fingerprint;
  }

  /**
   * The server folder at `path` listed as `listingAsBefore` said: its files count as found as
   * remembered, and its subfolders, as their rows have them, are stored and given back.
   */
  takeListingAsBefore(path: RelPath): RemoteNode[] {
    const taken = this.#listingToTake(path);
    if (taken === undefined) throw new Error(`no listing of ${path} to take as before`);
    const listing = this.#listings.remote;
    listing.listed.set(taken.dir, path);
    listing.asBefore++;
    listing.matched += taken.files;
    for (const node of taken.subfolders) this.addRemote(node);
    return taken.subfolders;
  }

  #listingToTake(path: RelPath): { dir: number; fingerprint: string; files: number; subfolders: RemoteNode[] } | undefined {
    const dir = this.#syncedDirs().byKey.remote.get(pathKey(path));
    const stored = dir === undefined ? undefined : this.#digests.get('remote', dir);
    const prefix = `${this.#listingContext ?? ''}|`;
    if (dir === undefined || !stored?.digest.startsWith(prefix) || !this.#placedOnBothSides(dir)) return undefined;
    const subfolders: RemoteNode[] = [];
    for (const row of this.#syncedDirs().byRemoteParent.get(dir) ?? []) {
      if (row.remote_id === null || row.remote_modified_ms === null) return undefined;
      subfolders.push({ path: joinPath(path, row.remote_name), kind: 'dir', id: row.remote_id, size: 0, modifiedMs: row.remote_modified_ms });
    }
    return { dir, fingerprint: stored.digest.slice(prefix.length), files: stored.files, subfolders };
  }

  #placedOnBothSides(dir: number): boolean {
    const { placed } = this.#syncedDirs();
    return placed.local.has(dir) && placed.remote.has(dir);
  }

  /** The row `node` takes, if the Synced tree places it on both sides (as the planner will see it). */
  #placed(side: Side, rows: FolderRows, node: LocalNode | RemoteNode): ChildRow | undefined {
    const row = rows.take(node);
    if (!row) return undefined;
    const { placed } = this.#syncedDirs();
    if (placed.local.has(row[col.localParent]) && placed.remote.has(row[col.remoteParent])) return row;
    this.#listings[side].unplaceable.add(pathKey(node.path));
    return undefined;
  }

  /**
   * The folder's Synced folder rows, which of them lead to the root on each side, and their IDs
   * by key on each side (a key two rows share is left out); read once.
   */
  #syncedDirs(): SyncedDirs {
    if (!this.#dirs) {
      const rows = this.#db.prepare<[number], RowRecord>(`SELECT * FROM synced WHERE folder = ? AND kind = 'dir'`).all(this.#folder);
      const byKey = { local: new Map([['', rootRow]]), remote: new Map([['', rootRow]]) };
      const shared = { local: new Set<string>(), remote: new Set<string>() };
      for (const row of rows) {
        for (const [side, key] of [['local', row.local_key], ['remote', row.remote_key]] as const) {
          if (byKey[side].has(key)) shared[side].add(key);
          byKey[side].set(key, row.id);
        }
      }
      for (const side of sides) for (const key of shared[side]) byKey[side].delete(key);
      const byRemoteParent = new Map<number, RowRecord[]>();
      for (const row of rows) {
        const siblings = byRemoteParent.get(row.remote_parent);
        if (siblings) siblings.push(row);
        else byRemoteParent.set(row.remote_parent, [row]);
      }
      this.#dirs = { rows, placed: dirPathsOf(rows), byKey, byRemoteParent };
    }
    return this.#dirs;
  }

  /** The remote walk starts over: what it gave so far is forgotten. */
  resetRemote(): void {
    this.#pending.remote.length = 0;
    this.#listings.remote = new FolderScan();
    this.#db.exec(`DELETE FROM scan_remote_${this.#n}`);
  }

  /**
   * The Synced rows of the folder at `path` on `side`, for its scanned entries to take;
   * undefined when the Synced tree has no such folder or nothing in it.
   */
  #syncedChildren(side: Side, path: RelPath): FolderRows | undefined {
    const key = pathKey(path);
    const [facts, within] = side === 'local' ? ['local_mtime_ms, inode', 'local_parent'] : ['remote_modified_ms, remote_id', 'remote_parent'];
    const columns = `id, local_parent, remote_parent, kind, ${side}_name, size, ${facts}`;
    // Rows as arrays: a third cheaper than objects, for every file of the tree.
    const rows =
      key === ''
        ? prepared<[number], ChildRow>(this.#db, `SELECT ${columns} FROM synced WHERE ${within} = 0 AND +folder = ?`)
            .raw()
            .all(this.#folder)
        : prepared<[number, string, number], ChildRow>(
            this.#db,
            `SELECT ${columns} FROM synced
             WHERE ${within} = (SELECT id FROM synced WHERE folder = ? AND kind = 'dir' AND ${side}_key = ?) AND +folder = ?`,
          )
            .raw()
            .all(this.#folder, key, this.#folder);
    const first = rows[0];
    if (first === undefined) return undefined;
    this.#listings[side].listed.set(side === 'local' ? first[col.localParent] : first[col.remoteParent], path);
    return new FolderRows(rows);
  }

  /** `root` (and everything below it) was scanned on `side`; '' is the whole folder. */
  cover(side: Side, root: RelPath): void {
    this.#cover[side].push(pathKey(root));
  }

  /** The part of the trees the planner needs; see the class comment. */
  relevant(): RelevantTrees {
    this.#flush();
    throwIfRecordsLostSince(this.#db, this.#lostMark);
    if (this.#keepDigests) this.#digests.save();
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
    const insertUnlisted = db.prepare(`INSERT INTO unlisted_${n} VALUES (?, ?)`);
    const insertChanged = db.prepare(`INSERT OR IGNORE INTO changed_${n} VALUES (?)`);
    const { rows: dirRows, placed } = this.#syncedDirs();
    for (const side of sides) {
      for (const root of this.#cover[side]) insertCover.run(side, root);
      for (const id of [rootRow, ...dirRows.map((row) => row.id)]) if (!this.#listings[side].listed.has(id)) insertUnlisted.run(side, id);
    }
    const covered = (side: Side, column: string): string =>
      this.#cover[side].includes('')
        ? '1'
        : `EXISTS (SELECT 1 FROM cover_${n} c WHERE c.side = '${side}' AND (${column} = c.root OR (${column} > c.root || '/' AND ${column} < c.root || '0')))`;
    const inCover = (side: Side, path: RelPath): boolean => {
      const key = pathKey(path);
      return this.#cover[side].some((root) => isWithin(key, root));
    };

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
      for (const side of sides) for (const key of this.#listings[side].unplaceable) insertChanged.run(key);
      // Synced entries that a scan should have seen and did not: gone from a folder listed
      // whole, or in a folder that was not, unless it was seen on its own.
      for (const side of sides) {
        if (this.#cover[side].length === 0) continue;
        const keyOf = db.prepare<[number], string>(`SELECT ${side}_key FROM synced WHERE id = ?`).pluck();
        for (const row of this.#listings[side].gone) {
          const key = keyOf.get(row);
          if (key !== undefined && inCover(side, key)) insertChanged.run(key);
        }
        db.prepare(
          `INSERT OR IGNORE INTO changed_${n} SELECT s.${side}_key FROM unlisted_${n} u CROSS JOIN synced s ON s.${side}_parent = u.id AND +s.folder = ?
           WHERE u.side = '${side}' AND ${covered(side, `s.${side}_key`)}
             AND NOT EXISTS (SELECT 1 FROM scan_${side}_${n} x WHERE x.key = s.${side}_key AND x.kind = s.kind)`,
        ).run(f);
      }
      this.#tieIn();
      this.#tieInNeighbours();
      this.#tieIn();
    })();

    const fileRows = db
      .prepare<[number, number], RowRecord>(
        `SELECT s.* FROM changed_${n} c CROSS JOIN synced s ON s.folder = ? AND s.local_key = c.key WHERE s.kind = 'file'
         UNION SELECT s.* FROM changed_${n} c CROSS JOIN synced s ON s.folder = ? AND s.remote_key = c.key WHERE s.kind = 'file'`,
      )
      .all(f, f);
    const synced = toNodes([...dirRows, ...fileRows].sort((a, b) => a.id - b.id), placed);

    const local = db
      .prepare<[], ScannedLocal>(`SELECT * FROM scan_local_${n} WHERE kind = 'dir' OR key IN (SELECT key FROM changed_${n})`)
      .all()
      .map((row): LocalNode => ({ path: row.path, kind: row.kind, size: row.size, mtimeMs: row.mtime, inode: row.inode }));
    const remote = db
      .prepare<[], ScannedRemote>(`SELECT * FROM scan_remote_${n} WHERE kind = 'dir' OR key IN (SELECT key FROM changed_${n})`)
      .all()
      .map((row): RemoteNode => ({ path: row.path, kind: row.kind, id: row.id, size: row.size, modifiedMs: row.modified }));

    // A file a listed folder held as remembered is its Synced row, under the folder's spelling;
    // outside what was scanned, a side is as the Synced tree remembers it.
    const seenLocal = new Set(local.map((node) => `${node.kind}:${pathKey(node.path)}`));
    const seenRemote = new Set(remote.map((node) => `${node.kind}:${pathKey(node.path)}`));
    for (const node of synced) {
      if (!seenLocal.has(`${node.kind}:${pathKey(node.localPath)}`)) {
        const folder = this.#listings.local.listed.get(node.localParent);
        if (folder !== undefined && node.kind === 'file' && !this.#listings.local.gone.has(node.id)) local.push({ ...localFromSynced(node), path: joinPath(folder, baseName(node.localPath)) });
        else if (!inCover('local', node.localPath)) local.push(localFromSynced(node));
      }
      if (!seenRemote.has(`${node.kind}:${pathKey(node.remotePath)}`)) {
        const folder = this.#listings.remote.listed.get(node.remoteParent);
        if (folder !== undefined && node.kind === 'file' && !this.#listings.remote.gone.has(node.id)) remote.push({ ...remoteFromSynced(node), path: joinPath(folder, baseName(node.remotePath)) });
        else if (!inCover('remote', node.remotePath)) remote.push(remoteFromSynced(node));
      }
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
      // The same for a file found as remembered, which was not stored: through its Synced row.
      `SELECT s.local_key FROM changed_${n} c CROSS JOIN synced t ON t.folder = ? AND t.local_key = c.key AND t.kind = 'file' CROSS JOIN synced s ON s.folder = t.folder AND s.inode = t.inode AND s.kind = 'file'`,
      `SELECT s.remote_key FROM changed_${n} c CROSS JOIN synced t ON t.folder = ? AND t.remote_key = c.key AND t.kind = 'file' CROSS JOIN synced s ON s.folder = t.folder AND s.remote_id = t.remote_id`,
      // What a synced folder held, when another folder now stands at its path (the user merged
      // A into B and renamed B to A): its files, found there as remembered and not stored, are
      // the other folder's now, and the synced one may go only without them.
      `SELECT s.local_key FROM changed_${n} c CROSS JOIN scan_local_${n} l ON l.key = c.key AND l.kind = 'dir' CROSS JOIN synced p ON p.folder = ? AND p.local_key = c.key AND p.kind = 'dir' AND p.inode <> l.inode CROSS JOIN synced s ON s.local_parent = p.id AND +s.folder = p.folder`,
      `SELECT s.remote_key FROM changed_${n} c CROSS JOIN scan_remote_${n} r ON r.key = c.key AND r.kind = 'dir' CROSS JOIN synced p ON p.folder = ? AND p.remote_key = c.key AND p.kind = 'dir' AND p.remote_id IS NOT r.id CROSS JOIN synced s ON s.remote_parent = p.id AND +s.folder = p.folder`,
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
      `SELECT s.id, l.key FROM changed_${n} c CROSS JOIN scan_local_${n} l ON l.key = c.key CROSS JOIN synced s ON s.folder = ${f} AND s.inode = l.inode AND s.kind = l.kind
       UNION SELECT s.id, t.local_key FROM changed_${n} c CROSS JOIN synced t ON t.folder = ${f} AND t.local_key = c.key AND t.kind = 'file' CROSS JOIN synced s ON s.folder = ${f} AND s.inode = t.inode AND s.kind = 'file'`,
    );
    for (const { id, key } of movedLocally.iterate()) placesOf(id).local.add(key);
    const movedRemotely = db.prepare<[], { id: number; key: string }>(
      `SELECT s.id, r.key FROM changed_${n} c CROSS JOIN scan_remote_${n} r ON r.key = c.key CROSS JOIN synced s ON s.folder = ${f} AND s.remote_id = r.id
       UNION SELECT s.id, t.remote_key FROM changed_${n} c CROSS JOIN synced t ON t.folder = ${f} AND t.remote_key = c.key AND t.kind = 'file' CROSS JOIN synced s ON s.folder = ${f} AND s.remote_id = t.remote_id`,
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
    // A name is wanted when a wanted stem begins it: looked up by the name's beginnings of the
    // stems' lengths, not stem by stem, which took a first sync of a folder of 80,000 new names
    // two minutes (every name against every stem).
    const consider = (key: string, wanted: ReadonlySet<string>, lengths: readonly number[]): void => {
      const name = foldKey(baseName(key));
      for (const length of lengths) if (length <= name.length && wanted.has(name.slice(0, length))) return void found.push(key);
    };
    // One folder's keys at a time, fetched whole: a third cheaper than stepping row by row.
    for (const [dir, wanted] of stems) {
      const lengths = [...new Set([...wanted].map((stem) => stem.length))];
      const fetches = dir === '' ? [...inFolder.slice(0, 2).map((query) => () => query.all(dir)), ...atRoot.map((query) => () => query.all())] : inFolder.map((query) => () => query.all(dir));
      for (const fetch of fetches) for (const key of fetch()) consider(key, wanted, lengths);
    }
    const insert = db.prepare(`INSERT OR IGNORE INTO changed_${n} VALUES (?)`);
    for (const key of found) insert.run(key);
  }

  /** How many entries each scan saw. */
  scanned(): { local: number; remote: number } {
    this.#flush();
    return { local: this.#count(`scan_local_${this.#n}`) + this.#listings.local.matched, remote: this.#count(`scan_remote_${this.#n}`) + this.#listings.remote.matched };
  }

  /** How many folders each scan found as they last matched their Synced rows (see `FolderDigests`). */
  foldersAsBefore(): { local: number; remote: number } {
    return { local: this.#listings.local.asBefore, remote: this.#listings.remote.asBefore };
  }

  drop(): void {
    const n = this.#n;
    this.#db.exec(
      `DROP TABLE IF EXISTS scan_local_${n}; DROP TABLE IF EXISTS scan_remote_${n}; DROP TABLE IF EXISTS changed_${n}; DROP TABLE IF EXISTS cover_${n}; DROP TABLE IF EXISTS unlisted_${n};`,
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

/** What one side's folders listed whole showed, next to what was stored of them. */
class FolderScan {
  /** The folders listed whole, by their Synced row ID (0 for the root), with the path as scanned. */
  readonly listed = new Map<number, RelPath>();
  /** IDs of the Synced rows missing from their listed folder. */
  readonly gone = new Set<number>();
  /** Files found exactly as their Synced row has them, and not stored. */
  matched = 0;
  /** Folders found as they last matched their rows, which were not read. */
  asBefore = 0;
  /**
   * Keys of entries whose Synced row the planner will not see (a parent on either side that
   * leads nowhere): changed, so that what pairs with them comes along as it did before.
   */
  readonly unplaceable = new Set<string>();
}

interface SyncedDirs {
  readonly rows: RowRecord[];
  readonly placed: DirPaths;
  readonly byKey: Readonly<Record<Side, ReadonlyMap<string, number>>>;
  readonly byRemoteParent: ReadonlyMap<number, readonly RowRecord[]>;
}

/**
 * A Synced row as a folder's comparison reads it: its ID, its parents on both sides, kind, and
 * the side's name, size, modification time and identity (inode or object ID).
 */
type ChildRow = [number, number, number, EntryKind, string, number, number | null, string | null];
const col = { id: 0, localParent: 1, remoteParent: 2, kind: 3, name: 4, size: 5, time: 6, identity: 7 } as const;

/**
 * One folder's Synced rows by kind and NFC name, as the old comparison matched them by key.
 * An entry takes every row of its slot, so none of them counts as gone; it is found as
 * remembered only through a slot of one row under its exact spelling.
 */
class FolderRows {
  readonly #rows = new Map<string, ChildRow[]>();

  constructor(rows: readonly ChildRow[]) {
    for (const row of rows) {
      const slot = slotOf(row[col.kind], row[col.name]);
      const same = this.#rows.get(slot);
      if (same) same.push(row);
      else this.#rows.set(slot, [row]);
    }
  }

  take(node: { path: RelPath; kind: EntryKind }): ChildRow | undefined {
    const name = baseName(node.path);
    const slot = slotOf(node.kind, name);
    const rows = this.#rows.get(slot);
    if (!rows) return undefined;
    this.#rows.delete(slot);
    const [row] = rows;
    return rows.length === 1 && row?.[col.name] === name ? row : undefined;
  }

  /** The rows no entry took: gone from the folder. */
  left(): ChildRow[] {
    return [...this.#rows.values()].flat();
  }
}

/** No name holds a '/', so a folder's slot cannot be a file's. */
function slotOf(entryKind: EntryKind, entryName: string): string {
  const key = pathKey(entryName);
  return entryKind === 'dir' ? `/${key}` : key;
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
