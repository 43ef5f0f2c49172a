import type Database from 'better-sqlite3';
import { backfillSyncedKeys } from './synced-keys.js';

/**
 * Schema migrations, applied in order, each in a transaction; `PRAGMA user_version` records how
 * many have run. Never edit a migration that has shipped: add a new one. A migration is SQL, or
 * a function for what SQL alone cannot compute.
 */
export const migrations: readonly (string | ((db: Database.Database) => void))[] = [
  `CREATE TABLE sessions (
     key TEXT PRIMARY KEY,
     value TEXT NOT NULL,
     updated_ms INTEGER NOT NULL
   ) STRICT;`,
  `CREATE TABLE folders (
     id INTEGER PRIMARY KEY,
     name TEXT NOT NULL UNIQUE,
     last_sync_ms INTEGER,
     last_result TEXT
   ) STRICT;
   CREATE TABLE synced (
     id INTEGER PRIMARY KEY,
     folder INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
     kind TEXT NOT NULL CHECK (kind IN ('file', 'dir')),
     local_parent INTEGER NOT NULL,
     local_name TEXT NOT NULL,
     remote_parent INTEGER NOT NULL,
     remote_name TEXT NOT NULL,
     size INTEGER NOT NULL,
     local_mtime_ms INTEGER NOT NULL,
     inode TEXT NOT NULL,
     remote_id TEXT,
     remote_modified_ms INTEGER
   ) STRICT;
   CREATE INDEX synced_by_local_parent ON synced (local_parent);
   CREATE INDEX synced_by_remote_parent ON synced (remote_parent);
   CREATE INDEX synced_by_folder ON synced (folder);`,
  `CREATE TABLE failures (
     folder INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
     path TEXT NOT NULL,
     action TEXT NOT NULL,
     kind TEXT NOT NULL,
     message TEXT NOT NULL,
     attempts INTEGER NOT NULL,
     next_retry_ms INTEGER NOT NULL,
     updated_ms INTEGER NOT NULL,
     PRIMARY KEY (folder, path)
   ) STRICT;
   CREATE TABLE conflicts (
     folder INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
     path TEXT NOT NULL,
     copy_path TEXT NOT NULL,
     created_ms INTEGER NOT NULL,
     PRIMARY KEY (folder, copy_path)
   ) STRICT;
   CREATE TABLE upload_sessions (
     session_id TEXT PRIMARY KEY,
     folder INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
     path TEXT NOT NULL,
     created_ms INTEGER NOT NULL
   ) STRICT;
   CREATE TABLE skipped (
     folder INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
     side TEXT NOT NULL,
     path TEXT NOT NULL,
     reason TEXT NOT NULL,
     PRIMARY KEY (folder, side, path)
   ) STRICT;`,
  `ALTER TABLE folders ADD COLUMN paused_reason TEXT;
   ALTER TABLE folders ADD COLUMN force_next INTEGER NOT NULL DEFAULT 0;`,
  // Temporary files a run creates (downloads in progress, the server-side half of an
  // upload-and-swap), so that the next run removes what a crash left: the scanners never show
  // them, so nothing else ever would.
  `CREATE TABLE temp_files (
     folder INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
     side TEXT NOT NULL CHECK (side IN ('local', 'remote')),
     path TEXT NOT NULL,
     created_ms INTEGER NOT NULL,
     PRIMARY KEY (folder, side, path)
   ) STRICT;`,
  // Upload sessions being opened, whose ID (and so the name they reserve on the server for a
  // day) a crash before the answer would lose: the next run cancels them. SQLite cannot widen a
  // CHECK constraint in place, so the table is rebuilt.
  `CREATE TABLE temp_files_new (
     folder INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
     side TEXT NOT NULL CHECK (side IN ('local', 'remote', 'upload')),
     path TEXT NOT NULL,
     created_ms INTEGER NOT NULL,
     PRIMARY KEY (folder, side, path)
   ) STRICT;
   INSERT INTO temp_files_new (folder, side, path, created_ms) SELECT folder, side, path, created_ms FROM temp_files;
   DROP TABLE temp_files;
   ALTER TABLE temp_files_new RENAME TO temp_files;`,
  // Each Synced row's full path on each side, in Unicode NFC, so that a pass compares its
  // scans with the Synced tree in SQL (a join on the keys) instead of in memory.
  `ALTER TABLE synced ADD COLUMN local_key TEXT NOT NULL DEFAULT '';
   ALTER TABLE synced ADD COLUMN remote_key TEXT NOT NULL DEFAULT '';`,
  backfillSyncedKeys,
  `CREATE INDEX synced_by_local_key ON synced (folder, local_key);
   CREATE INDEX synced_by_remote_key ON synced (folder, remote_key);
   CREATE INDEX synced_by_inode ON synced (folder, inode);
   CREATE INDEX synced_by_remote_id ON synced (folder, remote_id);`,
  // Every pass counts its folder's files and looks for rows still waiting for their server facts;
  // without these, both read the whole table (0.2 s of a no-op pass over 100,000 files). Partial
  // indexes, because an index on (folder, kind) looks as good to SQLite as (folder, local_key)
  // for the comparison's lookups, which then walk every file of the folder per row.
  `CREATE INDEX synced_files ON synced (folder) WHERE kind = 'file';
   CREATE INDEX synced_awaiting_remote_facts ON synced (folder) WHERE remote_id IS NULL OR remote_modified_ms IS NULL;`,
  // Every pass reads its folder's folder rows first; without this, that read walks every file
  // of the folder (0.1 s at 100,000 files). Keyed like synced_by_local_key, so that SQLite has
  // no worse index to pick for a folder's lookup by key.
  `CREATE INDEX synced_dirs ON synced (folder, local_key) WHERE kind = 'dir';`,
  // A folder renamed from a name holding a character beyond the BMP (an emoji) left the keys
  // below it cut one place off per such character; they are computed again from the parents.
  backfillSyncedKeys,
  // A digest of each folder's entries as they last matched its Synced rows (FolderDigests). The
  // triggers drop a folder's digests whenever a row in it is written, whatever the statement.
  `CREATE TABLE folder_digests (
     folder INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
     side TEXT NOT NULL CHECK (side IN ('local', 'remote')),
     dir INTEGER NOT NULL,
     digest TEXT NOT NULL,
     files INTEGER NOT NULL,
     PRIMARY KEY (folder, side, dir)
   ) STRICT, WITHOUT ROWID;
   CREATE TRIGGER synced_insert_drops_digests AFTER INSERT ON synced BEGIN
     DELETE FROM folder_digests WHERE folder = NEW.folder AND side = 'local' AND dir = NEW.local_parent;
     DELETE FROM folder_digests WHERE folder = NEW.folder AND side = 'remote' AND dir = NEW.remote_parent;
   END;
   CREATE TRIGGER synced_update_drops_digests AFTER UPDATE ON synced BEGIN
     DELETE FROM folder_digests WHERE folder = OLD.folder AND side = 'local' AND dir = OLD.local_parent;
     DELETE FROM folder_digests WHERE folder = OLD.folder AND side = 'remote' AND dir = OLD.remote_parent;
     DELETE FROM folder_digests WHERE folder = NEW.folder AND side = 'local' AND dir = NEW.local_parent;
     DELETE FROM folder_digests WHERE folder = NEW.folder AND side = 'remote' AND dir = NEW.remote_parent;
   END;
   CREATE TRIGGER synced_delete_drops_digests AFTER DELETE ON synced BEGIN
     DELETE FROM folder_digests WHERE folder = OLD.folder AND side = 'local' AND dir IN (OLD.local_parent, OLD.id);
     DELETE FROM folder_digests WHERE folder = OLD.folder AND side = 'remote' AND dir IN (OLD.remote_parent, OLD.id);
   END;`,
  // What a folder's Synced tree was recorded between (FolderState.binding); unknown until the next pass.
  `ALTER TABLE folders ADD COLUMN binding TEXT;`,
  // A `resume` answers the stop it was given (FolderState.answer), not every guard of the next
  // pass. A resume still waiting from before does not say which stop it answered: it is not
  // carried over, and the folder stops again until it is given anew. force_next is read no more,
  // but stays for a daemon of the version before, should it still run while this one migrates.
  `ALTER TABLE folders ADD COLUMN answer TEXT;`,
  // The source of the one-way mode the Synced tree was written in (FolderState.oneWaySource).
  // Unknown for a folder synced before: taken as two-way.
  `ALTER TABLE folders ADD COLUMN one_way_source TEXT CHECK (one_way_source IN ('local', 'remote'));`,
  // The ID in the local folder's marker file (FolderState.localMarker); a folder synced before
  // gets one at its next pass.
  `ALTER TABLE folders ADD COLUMN local_marker TEXT;`,
  // Sessions were stored under the server URL as configured, a proxy's user and password
  // included, which the stored session names again: such a one goes (the next run logs in).
  forgetSessionsNamingCredentials,
  // Which state database this is (stateIdentity): `status` and `resume` ask the daemon on the
  // configured status address, which may be another install's (two users, two accounts).
  `CREATE TABLE identity (id TEXT NOT NULL) STRICT;
   INSERT INTO identity VALUES (lower(hex(randomblob(16))));`,
  // Where a conflict copy is (FolderState.addConflict): upload-only keeps the server's version
  // as the copy, on the server alone. Those recorded before are all local ones.
  `ALTER TABLE conflicts ADD COLUMN side TEXT NOT NULL DEFAULT 'local' CHECK (side IN ('local', 'remote'));`,
  // Files each pass deleted, per side (FolderState.noteDeletes): the mass-delete guard counts
  // those of the window before a pass with its own, so deletes spread over passes add up.
  `CREATE TABLE deletes (
     folder INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
     at_ms INTEGER NOT NULL,
     side TEXT NOT NULL CHECK (side IN ('local', 'remote')),
     files INTEGER NOT NULL
   ) STRICT;
   CREATE INDEX deletes_by_folder ON deletes (folder, at_ms);`,
];

/** Deletes the sessions whose key's URL holds user info, their bytes overwritten rather than left in free pages. */
export function forgetSessionsNamingCredentials(db: Database.Database): void {
  const keys = (db.prepare('SELECT key FROM sessions').all() as { key: string }[]).map((row) => row.key).filter((key) => /^[a-z][a-z0-9+.-]*:\/\/[^/\s]*@/i.test(key));
  if (keys.length === 0) return;
  const before = db.pragma('secure_delete', { simple: true }) as number;
  db.pragma('secure_delete = ON');
  try {
    const remove = db.prepare('DELETE FROM sessions WHERE key = ?');
    for (const key of keys) remove.run(key);
  } finally {
    db.pragma(`secure_delete = ${before}`);
  }
}
