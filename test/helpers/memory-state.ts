import Database from 'better-sqlite3';
import { migrations } from '../../src/state/migrations.js';
import { folderId, SyncedTree } from '../../src/state/synced.js';

/** A real SQLite state database in memory, migrated like a file one, with one folder's tree. */
export function openMemoryState(): { tree: SyncedTree; close(): void } {
  const db = new Database(':memory:');
  for (const migration of migrations) db.exec(migration);
  const tree = new SyncedTree(db, folderId(db, 'test'));
  return { tree, close: () => db.close() };
}
