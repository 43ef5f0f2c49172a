import { joinPath } from '../tree/paths.js';
import { rootRow, type EntryKind, type Side, type SyncedNode } from '../tree/types.js';
import type { Db } from './database.js';

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

interface RowRecord {
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
}

/**
 * The Synced tree of one folder. Each write touches one row, so a crash between two actions
 * leaves a tree from which the next run plans correctly.
 */
export class SyncedTree {
  readonly #db: Db;
  readonly #folder: number;

  constructor(db: Db, folder: number) {
    this.#db = db;
    this.#folder = folder;
  }

  /**
   * All entries with their paths. Rows whose parent is gone (which only an interrupted write
   * could leave) are left out, with everything below them: unknown is safer than misplaced.
   */
  load(): SyncedNode[] {
    const rows = this.#db.prepare<[number], RowRecord>('SELECT * FROM synced WHERE folder = ?').all(this.#folder);
    const byId = new Map<number, RowRecord>(rows.map((row) => [row.id, row]));
    const paths = { local: new Map<number, string | null>([[rootRow, '']]), remote: new Map<number, string | null>([[rootRow, '']]) };
    const pathOf = (side: Side, id: number, seen: Set<number>): string | null => {
      const known = paths[side].get(id);
      if (known !== undefined) return known;
      const row = byId.get(id);
      let result: string | null = null;
      if (row && !seen.has(id)) {
        seen.add(id);
        const parent = pathOf(side, side === 'local' ? row.local_parent : row.remote_parent, seen);
        if (parent !== null) result = joinPath(parent, side === 'local' ? row.local_name : row.remote_name);
      }
      paths[side].set(id, result);
      return result;
    };
    const nodes: SyncedNode[] = [];
    for (const row of rows) {
      const localPath = pathOf('local', row.id, new Set());
      const remotePath = pathOf('remote', row.id, new Set());
      if (localPath === null || remotePath === null) continue;
      nodes.push({
        id: row.id,
        kind: row.kind,
        localParent: row.local_parent,
        localPath,
        remoteParent: row.remote_parent,
        remotePath,
        size: row.size,
        localMtimeMs: row.local_mtime_ms,
        inode: row.inode,
        remote: row.remote_id === null ? undefined : { id: row.remote_id, modifiedMs: row.remote_modified_ms ?? undefined },
      });
    }
    return nodes;
  }

  /** Writes a row: replaces row `id` when given (re-creating it if it was dropped), else inserts. */
  put(row: SyncedRow, id?: number): number {
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
    ] as const;
    const columns = 'folder, kind, local_parent, local_name, remote_parent, remote_name, size, local_mtime_ms, inode, remote_id, remote_modified_ms';
    if (id === undefined) {
      return Number(this.#db.prepare(`INSERT INTO synced (${columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(...values).lastInsertRowid);
    }
    this.#db.prepare(`INSERT OR REPLACE INTO synced (id, ${columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(id, ...values);
    return id;
  }

  /** Moves a row on one side; everything below follows, since children point at their parent. */
  place(id: number, side: Side, parent: number, name: string): void {
    const sql = side === 'local' ? 'UPDATE synced SET local_parent = ?, local_name = ? WHERE id = ?' : 'UPDATE synced SET remote_parent = ?, remote_name = ? WHERE id = ?';
    this.#db.prepare(sql).run(parent, name, id);
  }

  setRemoteFacts(id: number, remoteId: string, modifiedMs: number | undefined): void {
    this.#db.prepare('UPDATE synced SET remote_id = ?, remote_modified_ms = ? WHERE id = ?').run(remoteId, modifiedMs ?? null, id);
  }

  drop(ids: readonly number[]): void {
    const remove = this.#db.prepare<[number, number]>('DELETE FROM synced WHERE id = ? AND folder = ?');
    for (const id of ids) remove.run(id, this.#folder);
  }

  get(id: number): SyncedRow | undefined {
    const row = this.#db.prepare<[number, number], RowRecord>('SELECT * FROM synced WHERE id = ? AND folder = ?').get(id, this.#folder);
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

  clear(): void {
    this.#db.prepare('DELETE FROM synced WHERE folder = ?').run(this.#folder);
  }
}

/** The ID of a configured folder's row, created on first use. */
export function folderId(db: Db, name: string): number {
  db.prepare('INSERT INTO folders (name) VALUES (?) ON CONFLICT(name) DO NOTHING').run(name);
  return db.prepare<[string], { id: number }>('SELECT id FROM folders WHERE name = ?').get(name)?.id ?? 0;
}
