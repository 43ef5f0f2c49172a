import Database from 'better-sqlite3';
import { applyMigrations } from '../../src/state/database.js';
import { folderId, SyncedTree } from '../../src/state/synced.js';

/** A real SQLite state database in memory, migrated like a file one, with one folder's tree. */
export function openMemoryState(): { db: Database.Database; tree: SyncedTree; close(): void } {
  const db = new Database(':memory:');
  applyMigrations(db);
  const tree = new SyncedTree(db, folderId(db, 'test'));
  return { db, tree, close: () => db.close() };
}
