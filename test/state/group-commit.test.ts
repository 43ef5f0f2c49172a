import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { databaseFileName, openDatabase, type Db } from '../../src/state/database.js';
import { FolderState } from '../../src/state/folder-state.js';
import { durably, flushGroup, inGroup, RecordsLostError, recordsLostMark, throwIfRecordsLostSince } from '../../src/state/group-commit.js';
import { folderId } from '../../src/state/synced.js';

let dir: string;
let db: Db;
let other: Db;
let state: FolderState;

beforeEach(async () => {
  vi.useFakeTimers();
  dir = await mkdtemp(join(tmpdir(), 'cloudreve-sync-group-'));
  db = openDatabase(dir);
  state = new FolderState(db, folderId(db, 'main'));
  // Another connection sees only what is committed, as another process or a crash would.
  other = new Database(join(dir, databaseFileName), { readonly: true });
});

afterEach(async () => {
  // A test that failed may leave a group that cannot be committed: the folder goes all the same.
  try {
    flushGroup(db);
  } finally {
    other.close();
    db.close();
    vi.useRealTimers();
    await rm(dir, { recursive: true, force: true });
  }
});

const committed = (): unknown[] => other.prepare('SELECT path FROM conflicts ORDER BY path').pluck().all();
const conflict = (path: string): void => state.addConflict({ path, copyPath: `${path}.copy`, side: 'local' }, 1);

describe('commit groups (src/state/group-commit.ts)', () => {
  it('commits the writes of a group together, within its delay', () => {
    inGroup(db, () => conflict('a'));
    inGroup(db, () => conflict('b'));
    expect(state.conflicts().map((c) => c.path)).toEqual(['a', 'b']);
    expect(committed()).toEqual([]);
    vi.advanceTimersByTime(60);
    expect(committed()).toEqual(['a', 'b']);
    inGroup(db, () => conflict('c'));
    flushGroup(db);
    expect(committed()).toEqual(['a', 'b', 'c']);
  });

  it('takes back only the part of a write that failed', () => {
    inGroup(db, () => conflict('a'));
    expect(() =>
      inGroup(db, () => {
        conflict('b');
        throw new Error('the record could not be written');
      }),
    ).toThrow('could not be written');
    flushGroup(db);
    expect(committed()).toEqual(['a']);
  });

  it('loses a group whose commit fails, as a crash would, and says so to the next write, naming the database', () => {
    // A constraint checked only at COMMIT stands in for a full disk or an I/O error there.
    db.exec('CREATE TABLE parents (id INTEGER PRIMARY KEY); CREATE TABLE children (parent INTEGER REFERENCES parents(id) DEFERRABLE INITIALLY DEFERRED)');
    const mark = recordsLostMark(db);
    inGroup(db, () => conflict('a'));
    inGroup(db, () => db.prepare('INSERT INTO children VALUES (1)').run());
    vi.advanceTimersByTime(60);
    expect(committed()).toEqual([]);
    expect(db.inTransaction).toBe(false);
    expect(() => inGroup(db, () => conflict('b'))).toThrow(RecordsLostError);
    // Every run that wrote into the group learns of it, not only the one the failure met.
    expect(() => throwIfRecordsLostSince(db, mark)).toThrow(RecordsLostError);
    expect(() => throwIfRecordsLostSince(db, recordsLostMark(db))).not.toThrow();
    expect(() => inGroup(db, () => conflict('b'))).not.toThrow();
    flushGroup(db);
    expect(committed()).toEqual(['b']);
    inGroup(db, () => db.prepare('INSERT INTO children VALUES (2)').run());
    expect(() => flushGroup(db)).toThrow(`the state database ${join(dir, databaseFileName)} failed: FOREIGN KEY constraint failed`);
  });

  it('loses a group that SQLite rolled back by itself after a failed write, as one whose commit failed', () => {
    // SQLite takes a whole transaction back after a full disk or an I/O error; a trigger raising
    // ROLLBACK stands in for one.
    db.exec("CREATE TABLE other (v INTEGER); CREATE TRIGGER full_disk BEFORE INSERT ON other WHEN NEW.v = 2 BEGIN SELECT RAISE(ROLLBACK, 'database or disk is full'); END;");
    const mark = recordsLostMark(db);
    inGroup(db, () => conflict('a'));
    expect(() => inGroup(db, () => db.prepare('INSERT INTO other VALUES (2)').run())).toThrow(RecordsLostError);
    expect(() => throwIfRecordsLostSince(db, mark)).toThrow(RecordsLostError);
    expect(db.inTransaction).toBe(false);
    inGroup(db, () => conflict('b'));
    flushGroup(db);
    expect(committed()).toEqual(['b']);
  });

  it('puts a write-ahead note on disk at once, with the group before it', () => {
    inGroup(db, () => conflict('a'));
    state.addTempFile('local', '/tmp/x.cloudreve-sync-tmp', 1);
    expect(committed()).toEqual(['a']);
    expect(other.prepare('SELECT path FROM temp_files').pluck().all()).toEqual(['/tmp/x.cloudreve-sync-tmp']);
    expect(durably(db, () => 7)).toBe(7);
  });
});
