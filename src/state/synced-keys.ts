import type Database from 'better-sqlite3';
import { joinPath, pathKey } from '../tree/paths.js';
import { rootRow } from '../tree/types.js';

/** Key of something below no known folder: no scan ever has it, so it counts as unknown. */
export const orphanKey = '\0orphan';

/**
 * More folders than any path holds (a local path has at most 4,096 bytes): a chain of parents
 * this long is a loop, which ends here as an orphan rather than in a stack overflow.
 */
export const maxFolderDepth = 2_048;

interface KeyRow {
  id: number;
  local_parent: number;
  local_name: string;
  remote_parent: number;
  remote_name: string;
}

/** Computes local_key and remote_key of every Synced row from the parent chains. */
export function backfillSyncedKeys(db: Database.Database): void {
  const rows = db.prepare<[], KeyRow>('SELECT id, local_parent, local_name, remote_parent, remote_name FROM synced').all();
  const byId = new Map(rows.map((row) => [row.id, row]));
  const keys = { local: new Map<number, string>([[rootRow, '']]), remote: new Map<number, string>([[rootRow, '']]) };
  const keyOf = (side: 'local' | 'remote', id: number, depth = 0): string => {
    const known = keys[side].get(id);
    if (known !== undefined) return known;
    const row = byId.get(id);
    // An orphan (or a loop) gets a key no scan can match; the next pass treats it as unknown.
    if (!row || depth > maxFolderDepth) return orphanKey;
    const parent = keyOf(side, side === 'local' ? row.local_parent : row.remote_parent, depth + 1);
    const key = parent === orphanKey ? parent : joinPath(parent, pathKey(side === 'local' ? row.local_name : row.remote_name));
    keys[side].set(id, key);
    return key;
  };
  const update = db.prepare<[string, string, number]>('UPDATE synced SET local_key = ?, remote_key = ? WHERE id = ?');
  for (const row of rows) update.run(keyOf('local', row.id), keyOf('remote', row.id), row.id);
}
