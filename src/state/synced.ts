import { joinPath, parentOf as parentKeyOf, pathKey } from '../tree/paths.js';
import { rootRow, type EntryKind, type RelPath, type Side, type SyncedNode } from '../tree/types.js';
import { prepared, type Db } from './database.js';
import { maxFolderDepth, orphanKey } from './synced-keys.js';

/** A Synced row as written: where the entry sits on each side, and the facts both agreed on. */
export interface SyncedRow {
  readonly kind: EntryKind;
  readonly localParent: number;
  readonly localName: string;
  readonly remoteParent: number;
  readonly remoteName: string;
  readonly size: number;
  readonly localMtimeMs: number;
  readonly inode: string;
  readonly remoteId: string | undefined;
  readonly remoteModifiedMs: number | undefined;
}

/** A row still waiting for its server ID or date; see `SyncedTree.pendingRemoteFacts`. */
export interface PendingRemoteFacts {
  readonly id: number;
  readonly kind: EntryKind;
  readonly name: string;
  /** The server folder, spelled as there. */
  readonly dir: string;
  readonly size: number;
  readonly remoteId: string | undefined;
  /** For a new upload: the date it gave the file (`SyncedNode.sentModifiedMs`). */
  readonly sentModifiedMs: number | undefined;
}

/** The columns of a synced row, as better-sqlite3 returns them. */
export interface RowRecord {
  id: number;
  kind: EntryKind;
  local_parent: number;
  local_name: string;
  remote_parent: number;
  remote_name: string;
  size: number;
  local_mtime_ms: number;
  inode: string;
  remote_id: string | null;
  remote_modified_ms: number | null;
  local_key: string;
  remote_key: string;
}

/**
 * The Synced tree of one folder. Rows point at their parent on each side, and also carry their
 * full path on each side in Unicode NFC (their keys), so that scans are compared with the tree
 * in SQL. Each write is one statement or one transaction, so a crash between two actions leaves
 * a tree from which the next run plans correctly.
 */
export class SyncedTree {
  readonly #db: Db;
  readonly #folder: number;
  readonly #statements: ReturnType<typeof prepare>;

  constructor(db: Db, folder: number) {
    this.#db = db;
    this.#folder = folder;
    this.#statements = prepare(db);
  }

  get folder(): number {
    return this.#folder;
  }

  /**
   * All entries with their paths. Rows whose parent is gone (which only an interrupted write
   * could leave) are left out, with everything below them: unknown is safer than misplaced.
   */
  load(): SyncedNode[] {
    return toNodes(this.#statements.all.all(this.#folder));
  }

  /**
   * Writes a row: replaces row `id` when given, else inserts. An entry whose row was dropped is
   * written without `id`: SQLite gives the highest ID out again, maybe to another row since.
   */
  put(row: SyncedRow, id?: number): number {
    const s = this.#statements;
    const localKey = this.#childKey('local', row.localParent, row.localName);
    const remoteKey = this.#childKey('remote', row.remoteParent, row.remoteName);
    const values = [
      this.#folder,
      row.kind,
      row.localParent,
      row.localName,
      row.remoteParent,
      row.remoteName,
      row.size,
      Math.trunc(row.localMtimeMs),
      row.inode,
      row.remoteId ?? null,
      row.remoteModifiedMs ?? null,
      localKey,
      remoteKey,
    ] as const;
    if (id === undefined) return Number(s.insert.run(...values).lastInsertRowid);
    this.#db.transaction(() => {
      const before = s.keys.get(id);
      s.replace.run(id, ...values);
      if (before?.kind === 'dir' && row.kind === 'dir') {
        this.#rebase('local', before.local_key, localKey);
        this.#rebase('remote', before.remote_key, remoteKey);
      }
    })();
    return id;
  }

  /** Moves a row on one side; its children move with it. */
  place(id: number, side: Side, parent: number, name: string): void {
    const s = this.#statements;
    this.#db.transaction(() => {
      const before = s.keys.get(id);
      const key = this.#childKey(side, parent, name);
      (side === 'local' ? s.placeLocal : s.placeRemote).run(parent, name, key, id);
      // Only a folder has anything below it (a same-named file's key prefix means nothing).
      if (before?.kind === 'dir') this.#rebase(side, side === 'local' ? before.local_key : before.remote_key, key);
    })();
  }

  setRemoteFacts(id: number, remoteId: string, modifiedMs: number | undefined): void {
    this.#statements.setRemote.run(remoteId, modifiedMs ?? null, id);
  }

  /** `setRemoteFacts` for many rows, in one commit. */
  setRemoteFactsOf(facts: readonly { readonly id: number; readonly remoteId: string; readonly modifiedMs: number }[]): void {
    this.#db.transaction(() => {
      for (const { id, remoteId, modifiedMs } of facts) this.setRemoteFacts(id, remoteId, modifiedMs);
    })();
  }

  drop(ids: readonly number[]): void {
    const remove = this.#statements.remove;
    this.#db.transaction(() => {
      for (const id of ids) remove.run(id, this.#folder);
    })();
  }

  get(id: number): SyncedRow | undefined {
    const row = this.#statements.get.get(id, this.#folder);
    if (!row) return undefined;
    return {
      kind: row.kind,
      localParent: row.local_parent,
      localName: row.local_name,
      remoteParent: row.remote_parent,
      remoteName: row.remote_name,
      size: row.size,
      localMtimeMs: row.local_mtime_ms,
      inode: row.inode,
      remoteId: row.remote_id ?? undefined,
      remoteModifiedMs: row.remote_modified_ms ?? undefined,
    };
  }

  /** Where the rows of these inodes (`side` local) or server object IDs sit on both sides (spelled paths). */
  placesOf(side: Side, identities: readonly string[]): { readonly localPath: RelPath; readonly remotePath: RelPath }[] {
    const s = this.#statements;
    const pathOf = (row: RowRecord, side: Side): RelPath | undefined => {
      const names: string[] = [];
      for (let at: RowRecord | undefined = row; names.length <= maxFolderDepth; ) {
        names.push(side === 'local' ? at.local_name : at.remote_name);
        const parent = side === 'local' ? at.local_parent : at.remote_parent;
        if (parent === rootRow) return names.reverse().join('/');
        at = s.get.get(parent, this.#folder);
        if (!at) return undefined;
      }
      return undefined;
    };
    return identities.flatMap((identity) =>
      (side === 'local' ? s.byInode : s.byRemoteId).all(this.#folder, identity).flatMap((row) => {
        const localPath = pathOf(row, 'local');
        const remotePath = pathOf(row, 'remote');
        return localPath === undefined || remotePath === undefined ? [] : [{ localPath, remotePath }];
      }),
    );
  }

  /** Rows whose server facts a listing still has to tell, with their server folder's path. */
  pendingRemoteFacts(): PendingRemoteFacts[] {
    const pending = this.#statements.pending.all(this.#folder);
    if (pending.length === 0) return [];
    const dirs = this.#spelledDirs('remote');
    return pending.flatMap((row) => {
      const dir = dirs.get(row.remote_parent);
      return dir === undefined
        ? []
        : [{ id: row.id, kind: row.kind, name: row.remote_name, dir, size: row.size, remoteId: row.remote_id ?? undefined, sentModifiedMs: sentModifiedMsOf(row) }];
    });
  }

  /**
   * The Synced folders holding the given local paths, with their server path (spelled) and
   * the rows directly inside them on the server side; the root folder is row 0.
   */
  foldersHolding(localPaths: readonly string[]): { remotePath: string; children: SyncedNode[] }[] {
    const s = this.#statements;
    const dirs = dirPathsOf(s.dirs.all(this.#folder));
    const ids = new Set<number>();
    for (const path of localPaths) {
      const parent = parentKeyOf(pathKey(path));
      const id = parent === '' ? rootRow : s.dirByLocalKey.get(this.#folder, parent)?.id;
      if (id !== undefined) ids.add(id);
    }
    return [...ids].flatMap((id) => {
      const remotePath = dirs.remote.get(id);
      if (remotePath === undefined) return [];
      return [{ remotePath, children: toNodes(s.remoteChildren.all(this.#folder, id), dirs) }];
    });
  }

  /** How many rows, and how many of them are files. */
  counts(): { entries: number; files: number } {
    const row = this.#statements.counts.get(this.#folder, this.#folder);
    return { entries: row?.entries ?? 0, files: row?.files ?? 0 };
  }

  /** What `status` shows: files, folders and file bytes, of the rows `load()` would give. */
  tracked(): { files: number; folders: number; bytes: number } {
    const row = this.#statements.tracked.get(this.#folder, orphanKey, orphanKey);
    return { files: row?.files ?? 0, folders: row?.folders ?? 0, bytes: row?.bytes ?? 0 };
  }

  /** The row synced at a local path (spelled in any Unicode form): its server object, and the local file as synced. */
  atLocalPath(path: RelPath): Pick<SyncedRow, 'kind' | 'remoteId' | 'size' | 'localMtimeMs' | 'inode'> | undefined {
    const row = this.#statements.atLocalKey.get(this.#folder, pathKey(path));
    return row && { kind: row.kind, remoteId: row.remote_id ?? undefined, size: row.size, localMtimeMs: row.local_mtime_ms, inode: row.inode };
  }

  /** The entry recorded at a path spelled in any Unicode form: its inode (`side` local) or object ID, and its spelling there. */
  recordedAt(side: Side, path: RelPath): { identity: string | undefined; name: string } | undefined {
    const row = this.#statements[side === 'local' ? 'atLocalKey' : 'atRemoteKey'].get(this.#folder, pathKey(path));
    if (!row) return undefined;
    return side === 'local' ? { identity: row.inode, name: row.local_name } : { identity: row.remote_id ?? undefined, name: row.remote_name };
  }

  clear(): void {
    this.#statements.clear.run(this.#folder);
  }

  /** Spelled paths of every folder row on one side, by row ID (the root is ''). */
  #spelledDirs(side: Side): Map<number, string> {
    return spelledDirPaths(this.#statements.dirs.all(this.#folder), side);
  }

  #childKey(side: Side, parent: number, name: string): string {
    if (parent === rootRow) return pathKey(name);
    const row = this.#statements.keys.get(parent);
    const parentKey = side === 'local' ? row?.local_key : row?.remote_key;
    return parentKey === undefined || parentKey === orphanKey ? orphanKey : joinPath(parentKey, pathKey(name));
  }

  /** Rewrites the keys below a folder whose key changed from `from` to `to`. */
  #rebase(side: Side, from: string, to: string): void {
    if (from === to || from === '' || from === orphanKey) return;
    const s = this.#statements;
    // SQLite's substr counts characters, not UTF-16 units: an emoji is one, not two.
    (side === 'local' ? s.rebaseLocal : s.rebaseRemote).run(to, [...from].length + 1, this.#folder, `${from}/`, `${from}0`);
  }
}

/** A row looked up by its key on one side. */
type KeyedRow = Pick<RowRecord, 'kind' | 'remote_id' | 'size' | 'local_mtime_ms' | 'inode' | 'local_name' | 'remote_name'>;

function prepare(db: Db) {
  const columns = 'folder, kind, local_parent, local_name, remote_parent, remote_name, size, local_mtime_ms, inode, remote_id, remote_modified_ms, local_key, remote_key';
  type Values = [number, EntryKind, number, string, number, string, number, number, string, string | null, number | null, string, string];
  return {
    all: prepared<[number], RowRecord>(db, 'SELECT * FROM synced WHERE folder = ?'),
    dirs: prepared<[number], RowRecord>(db, "SELECT * FROM synced WHERE folder = ? AND kind = 'dir'"),
    get: prepared<[number, number], RowRecord>(db, 'SELECT * FROM synced WHERE id = ? AND folder = ?'),
    keys: prepared<[number], { kind: EntryKind; local_key: string; remote_key: string }>(db, 'SELECT kind, local_key, remote_key FROM synced WHERE id = ?'),
    insert: prepared<Values>(db, `INSERT INTO synced (${columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    // An upsert, not INSERT OR REPLACE: a replaced row must fire the update triggers (with its old
    // parents), and SQLite fires no delete trigger for a row REPLACE removes.
    replace: prepared<[number, ...Values]>(
      db,
      `INSERT INTO synced (id, ${columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET ${columns.split(', ').map((column) => `${column} = excluded.${column}`).join(', ')}`,
    ),
    placeLocal: prepared<[number, string, string, number]>(db, 'UPDATE synced SET local_parent = ?, local_name = ?, local_key = ? WHERE id = ?'),
    placeRemote: prepared<[number, string, string, number]>(db, 'UPDATE synced SET remote_parent = ?, remote_name = ?, remote_key = ? WHERE id = ?'),
    // Keys below "a" lie between "a/" and "a0" ('0' follows '/'): an index range, no LIKE escaping.
    rebaseLocal: prepared<[string, number, number, string, string]>(
      db,
      'UPDATE synced SET local_key = ? || substr(local_key, ?) WHERE folder = ? AND local_key > ? AND local_key < ?',
    ),
    rebaseRemote: prepared<[string, number, number, string, string]>(
      db,
      'UPDATE synced SET remote_key = ? || substr(remote_key, ?) WHERE folder = ? AND remote_key > ? AND remote_key < ?',
    ),
    setRemote: prepared<[string, number | null, number]>(db, 'UPDATE synced SET remote_id = ?, remote_modified_ms = ? WHERE id = ?'),
    remove: prepared<[number, number]>(db, 'DELETE FROM synced WHERE id = ? AND folder = ?'),
    pending: prepared<[number], RowRecord>(db, 'SELECT * FROM synced WHERE folder = ? AND (remote_id IS NULL OR remote_modified_ms IS NULL)'),
    counts: prepared<[number, number], { entries: number; files: number }>(
      db,
      "SELECT (SELECT count(*) FROM synced WHERE folder = ?) AS entries, (SELECT count(*) FROM synced WHERE folder = ? AND kind = 'file') AS files",
    ),
    tracked: prepared<[number, string, string], { files: number; folders: number; bytes: number }>(
      db,
      `SELECT coalesce(sum(kind = 'file'), 0) AS files, coalesce(sum(kind = 'dir'), 0) AS folders, coalesce(sum(CASE WHEN kind = 'file' THEN size END), 0) AS bytes
       FROM synced WHERE folder = ? AND local_key != ? AND remote_key != ?`,
    ),
    atLocalKey: prepared<[number, string], KeyedRow>(db, 'SELECT kind, remote_id, size, local_mtime_ms, inode, local_name, remote_name FROM synced WHERE folder = ? AND local_key = ?'),
    atRemoteKey: prepared<[number, string], KeyedRow>(db, 'SELECT kind, remote_id, size, local_mtime_ms, inode, local_name, remote_name FROM synced WHERE folder = ? AND remote_key = ?'),
    clear: prepared<[number]>(db, 'DELETE FROM synced WHERE folder = ?'),
    dirByLocalKey: prepared<[number, string], { id: number }>(db, "SELECT id FROM synced WHERE folder = ? AND kind = 'dir' AND local_key = ?"),
    remoteChildren: prepared<[number, number], RowRecord>(db, 'SELECT * FROM synced WHERE folder = ? AND remote_parent = ?'),
    byInode: prepared<[number, string], RowRecord>(db, 'SELECT * FROM synced WHERE folder = ? AND inode = ?'),
    byRemoteId: prepared<[number, string], RowRecord>(db, 'SELECT * FROM synced WHERE folder = ? AND remote_id = ?'),
  };
}

/** Spelled paths of folder rows on one side, by ID, from their parent chains; '' for the root. */
function spelledDirPaths(dirs: readonly RowRecord[], side: Side): Map<number, string> {
  const byId = new Map(dirs.map((row) => [row.id, row]));
  const paths = new Map<number, string>([[rootRow, '']]);
  const pathOf = (id: number, depth: number): string | undefined => {
    const known = paths.get(id);
    if (known !== undefined) return known;
    const row = byId.get(id);
    if (!row || depth > maxFolderDepth) return undefined;
    const parent = pathOf(side === 'local' ? row.local_parent : row.remote_parent, depth + 1);
    if (parent === undefined) return undefined;
    const path = joinPath(parent, side === 'local' ? row.local_name : row.remote_name);
    paths.set(id, path);
    return path;
  };
  for (const row of dirs) pathOf(row.id, 0);
  return paths;
}

/** The spelled paths of a folder's Synced folders on both sides, by row ID; '' for the root. */
export type DirPaths = Readonly<Record<Side, ReadonlyMap<number, string>>>;

/** `DirPaths` from every folder row of the folder. */
export function dirPathsOf(dirs: readonly RowRecord[]): DirPaths {
  return { local: spelledDirPaths(dirs, 'local'), remote: spelledDirPaths(dirs, 'remote') };
}

/**
 * Rows as the planner's Synced nodes, with spelled paths. `dirs` must come from every folder
 * row of the folder (by default, those among `rows`); rows under a missing folder are left out.
 */
export function toNodes(rows: readonly RowRecord[], dirs: DirPaths = dirPathsOf(rows.filter((row) => row.kind === 'dir'))): SyncedNode[] {
  const { local, remote } = dirs;
  const nodes: SyncedNode[] = [];
  for (const row of rows) {
    const localDir = local.get(row.local_parent);
    const remoteDir = remote.get(row.remote_parent);
    if (localDir === undefined || remoteDir === undefined) continue;
    const localPath = joinPath(localDir, row.local_name);
    const remotePath = joinPath(remoteDir, row.remote_name);
    const sent = sentModifiedMsOf(row);
    nodes.push({
      id: row.id,
      kind: row.kind,
      localParent: row.local_parent,
      localPath,
      remoteParent: row.remote_parent,
      // One string when both sides agree, as they nearly always do.
      remotePath: remotePath === localPath ? localPath : remotePath,
      size: row.size,
      localMtimeMs: row.local_mtime_ms,
      inode: row.inode,
      remote: row.remote_id === null ? undefined : { id: row.remote_id, modifiedMs: row.remote_modified_ms ?? undefined },
      ...(sent === undefined ? {} : { sentModifiedMs: sent }),
    });
  }
  return nodes;
}

/** A new upload's row keeps the date the upload sent until a listing tells the file's ID. */
function sentModifiedMsOf(row: RowRecord): number | undefined {
  return row.remote_id === null ? (row.remote_modified_ms ?? undefined) : undefined;
}

/** The ID of a configured folder's row, created on first use. */
export function folderId(db: Db, name: string): number {
  prepared(db, 'INSERT INTO folders (name) VALUES (?) ON CONFLICT(name) DO NOTHING').run(name);
  return prepared<[string], { id: number }>(db, 'SELECT id FROM folders WHERE name = ?').get(name)?.id ?? 0;
}
