import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { databaseFileName, openDatabase, type Db } from '../../src/state/database.js';
import { forgetSessionsNamingCredentials, migrations } from '../../src/state/migrations.js';
import { stateIdentity } from '../../src/state/identity.js';
import { SyncedTree } from '../../src/state/synced.js';
import { backfillSyncedKeys } from '../../src/state/synced-keys.js';
import { databaseAtSchema } from '../helpers/old-schema.js';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

/** A state database at schema `version` holding the rows `sql` writes, then opened (and so migrated) as cloudreve-sync opens it. */
async function upgraded(sql: string, version: number): Promise<Db> {
  dir = await mkdtemp(join(tmpdir(), 'cloudreve-sync-migrate-'));
  const old = databaseAtSchema(join(dir, databaseFileName), version);
  old.exec(sql);
  old.close();
  return openDatabase(dir);
}

describe('the migrations', () => {
  it("forget a session stored under a URL with a proxy's user and password, leaving its bytes nowhere in the file", async () => {
    const secret = 'Pr0xy-S3cret-Value';
    const db = await upgraded(`INSERT INTO sessions (key, value, updated_ms) VALUES
        ('https://proxyuser:${secret}@cloud.example.com me@example.com', '{"account":"https://proxyuser:${secret}@cloud.example.com"}', 1),
        ('https://cloud.example.com me@example.com', '{"cookies":[]}', 1);`,
      migrations.lastIndexOf(forgetSessionsNamingCredentials),
    );
    try {
      expect(db.prepare('SELECT key FROM sessions').all()).toEqual([{ key: 'https://cloud.example.com me@example.com' }]);
      db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      db.close();
    }
    expect((await readFile(join(dir ?? '', databaseFileName))).includes(secret)).toBe(false);
  });

  it('compute again the keys a rename from a name with an emoji cut wrongly', async () => {
    const db = await upgraded(
      `INSERT INTO folders (id, name) VALUES (1, 'docs');
      INSERT INTO synced (id, folder, kind, local_parent, local_name, remote_parent, remote_name, size, local_mtime_ms, inode, remote_id, remote_modified_ms, local_key, remote_key) VALUES
        (1, 1, 'dir', 0, 'new', 0, 'new', 0, 1, '1', '10', 5, 'new', 'new'),
        (2, 1, 'file', 1, 'a.txt', 1, 'a.txt', 3, 1, '2', '11', 5, 'newa.txt', 'new/a.txt');`,
      migrations.lastIndexOf(backfillSyncedKeys),
    );
    try {
      expect(db.prepare('SELECT local_key, remote_key FROM synced WHERE id = 2').get()).toEqual({ local_key: 'new/a.txt', remote_key: 'new/a.txt' });
    } finally {
      db.close();
    }
  });

  it('counts a folder\'s files, reads its folder rows and finds rows awaiting server facts through indexes, and the lookups by key keep theirs', async () => {
    const db = await upgraded(`INSERT INTO folders (id, name) VALUES (1, 'docs'), (2, 'other');
      INSERT INTO synced (id, folder, kind, local_parent, local_name, remote_parent, remote_name, size, local_mtime_ms, inode, remote_id, remote_modified_ms, local_key, remote_key) VALUES
        (1, 1, 'dir', 0, 'a', 0, 'a', 0, 1, '1', '10', 5, 'a', 'a'),
        (2, 1, 'file', 1, 'x.txt', 1, 'x.txt', 3, 1, '2', '11', 5, 'a/x.txt', 'a/x.txt'),
        (3, 1, 'file', 1, 'y.txt', 1, 'y.txt', 3, 1, '3', NULL, NULL, 'a/y.txt', 'a/y.txt'),
        (4, 2, 'file', 0, 'z.txt', 0, 'z.txt', 3, 1, '4', NULL, NULL, 'z.txt', 'z.txt');`,
      migrations.length - 1,
    );
    try {
      const tree = new SyncedTree(db, 1);
      expect(tree.counts()).toEqual({ entries: 3, files: 2 });
      expect(tree.pendingRemoteFacts()).toEqual([{ id: 3, kind: 'file', name: 'y.txt', dir: 'a', size: 3, remoteId: undefined, sentModifiedMs: undefined }]);
      const plan = (sql: string): string => db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all().map((row) => (row as { detail: string }).detail).join('; ');
      expect(plan("SELECT count(*) FROM synced WHERE folder = 1 AND kind = 'file'")).toContain('COVERING INDEX synced_files');
      expect(plan('SELECT * FROM synced WHERE folder = 1 AND (remote_id IS NULL OR remote_modified_ms IS NULL)')).toContain('synced_awaiting_remote_facts');
      expect(plan("SELECT * FROM synced WHERE folder = 1 AND kind = 'dir'")).toContain('INDEX synced_dirs');
      expect(plan("SELECT id FROM synced WHERE folder = 1 AND kind = 'dir' AND remote_key = 'a'")).toContain('INDEX synced_by_remote_key');
      // The comparison's lookups must keep their key or inode indexes (one on the kind made each
      // lookup walk every file of the folder).
      expect(plan("SELECT 1 FROM synced s WHERE s.folder = 1 AND s.local_key = 'a' AND s.kind = 'file' AND s.inode = '2'")).toMatch(/synced_by_(local_key|inode) /);
      expect(plan("SELECT 1 FROM synced s WHERE s.folder = 1 AND s.remote_key = 'a' AND s.kind = 'file' AND s.remote_id = '11'")).toMatch(/synced_by_remote_(key|id) /);
    } finally {
      db.close();
    }
  });
});

describe('the identity', () => {
  it('is given to a database at its upgrade and differs between databases', async () => {
    const db = await upgraded('', migrations.length - 1);
    const other = await mkdtemp(join(tmpdir(), 'cloudreve-sync-identity-'));
    const fresh = openDatabase(other);
    try {
      expect(stateIdentity(db)).toMatch(/^[0-9a-f]{32}$/);
      expect(stateIdentity(fresh)).toMatch(/^[0-9a-f]{32}$/);
      expect(stateIdentity(fresh)).not.toBe(stateIdentity(db));
    } finally {
      db.close();
      fresh.close();
      await rm(other, { recursive: true, force: true });
    }
  });
});

describe('the folder digests migration', () => {
  it('keeps folder digests only while no Synced row in the folder changes, on the side the row is in', async () => {
    const db = await upgraded(`INSERT INTO folders (id, name) VALUES (1, 'docs'), (2, 'other');
      INSERT INTO synced (id, folder, kind, local_parent, local_name, remote_parent, remote_name, size, local_mtime_ms, inode, remote_id, remote_modified_ms, local_key, remote_key) VALUES
        (1, 1, 'dir', 0, 'a', 0, 'a', 0, 1, '1', '10', 5, 'a', 'a'),
        (2, 1, 'dir', 0, 'b', 0, 'b', 0, 1, '2', '11', 5, 'b', 'b'),
        (3, 1, 'file', 1, 'x.txt', 1, 'x.txt', 3, 1, '3', '12', 5, 'a/x.txt', 'a/x.txt');`,
      migrations.length - 1,
    );
    try {
      const all = `INSERT OR REPLACE INTO folder_digests (folder, side, dir, digest, files) VALUES
        (1, 'local', 0, 'r', 1), (1, 'remote', 0, 'r', 1), (1, 'local', 1, 'a', 1), (1, 'remote', 1, 'a', 1), (1, 'local', 2, 'b', 0), (1, 'remote', 2, 'b', 0), (2, 'local', 1, 'other', 0)`;
      const left = (): string[] => db.prepare<[], string>("SELECT folder || ':' || side || ':' || dir FROM folder_digests ORDER BY 1").pluck().all();
      db.exec(all);
      db.exec(`UPDATE synced SET local_mtime_ms = 2 WHERE id = 3`);
      expect(left()).toEqual(['1:local:0', '1:local:2', '1:remote:0', '1:remote:2', '2:local:1']);
      db.exec(all);
      // A file moved from a to b on the server only: its row is still in a locally, where the
      // comparison reads its server parent too, so a's digests go on both sides, and b's remote one.
      db.exec(`UPDATE synced SET remote_parent = 2, remote_key = 'b/x.txt' WHERE id = 3`);
      expect(left()).toEqual(['1:local:0', '1:local:2', '1:remote:0', '2:local:1']);
      db.exec(all);
      db.exec(`INSERT INTO synced (id, folder, kind, local_parent, local_name, remote_parent, remote_name, size, local_mtime_ms, inode, remote_id, remote_modified_ms, local_key, remote_key)
        VALUES (4, 1, 'file', 0, 'y.txt', 0, 'y.txt', 3, 1, '4', '13', 5, 'y.txt', 'y.txt')`);
      expect(left()).toEqual(['1:local:1', '1:local:2', '1:remote:1', '1:remote:2', '2:local:1']);
      db.exec(all);
      // A folder row deleted takes its own digests with it.
      db.exec(`DELETE FROM synced WHERE id = 2`);
      expect(left()).toEqual(['1:local:1', '1:remote:1', '2:local:1']);
      db.exec(`DELETE FROM folders WHERE id = 2`);
      expect(left()).toEqual(['1:local:1', '1:remote:1']);
    } finally {
      db.close();
    }
  });
});

describe('openDatabase', () => {
  it('lets the WAL grow to 4,000 pages before a checkpoint, and cuts it back to about that size', async () => {
    dir = await mkdtemp(join(tmpdir(), 'cloudreve-sync-open-'));
    const db = openDatabase(dir);
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(4000);
      expect(db.pragma('journal_size_limit', { simple: true })).toBe(20 * 1024 * 1024);
    } finally {
      db.close();
    }
  });
});
