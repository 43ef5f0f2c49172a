import Database, { type Statement } from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { migrations } from './migrations.js';

export type Db = Database.Database;

export const databaseFileName = 'cloudreve-sync.db';

const statements = new WeakMap<Db, Map<string, Statement>>();

/** `db.prepare(sql)`, compiled once per database: an upload runs a few statements, and
 * compiling one costs more than running it. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- the parameter types of better-sqlite3's own Statement
export function prepared<P extends unknown[] | {} = unknown[], R = unknown>(db: Db, sql: string): Statement<P, R> {
  let cache = statements.get(db);
  if (!cache) statements.set(db, (cache = new Map<string, Statement>()));
  let statement = cache.get(sql);
  if (!statement) cache.set(sql, (statement = db.prepare(sql)));
  return statement as unknown as Statement<P, R>;
}

export class StateError extends Error {
  override readonly name = 'StateError';
}

/** A file a running process holds open (its database, its lock) no longer lies at its path. */
export class StateMovedError extends StateError {}

/**
 * A file as opened, to tell whether its path still names it: a state directory deleted while
 * the daemon runs leaves it writing into a file no other process finds.
 */
export class FileAtPath {
  readonly #opened: Stats;

  constructor(
    readonly path: string,
    readonly what: string,
  ) {
    this.#opened = statSync(path);
  }

  /** Throws a StateMovedError, saying `consequence`, once the path names another file or none. */
  check(consequence: string): void {
    let now: Stats | undefined;
    try {
      now = statSync(this.path);
    } catch {
      now = undefined;
    }
    if (now?.ino === this.#opened.ino && now.dev === this.#opened.dev) return;
    throw new StateMovedError(`${this.what} ${this.path} was ${now ? 'replaced' : 'deleted'} while this cloudreve-sync ran: ${consequence}`);
  }
}

const databaseFiles = new WeakMap<Db, FileAtPath>();

/** Throws a StateMovedError when the state database `db` was opened from no longer lies at its path. */
export function checkDatabaseFile(db: Db): void {
  databaseFiles
    .get(db)
    ?.check('what it records would be lost with it; restart cloudreve-sync, which opens the database now at that path (or a new one, whose first sync merges both sides and deletes nothing)');
}

/**
 * The StateError for an SQLite failure while the database was in use (a damaged page, a full
 * disk), naming the file and what to do, which SQLite's message does not; undefined for any
 * other error.
 */
export function stateFailure(error: unknown, stateDir: string): StateError | undefined {
  if (!(error instanceof Database.SqliteError)) return undefined;
  return new StateError(databaseFailure(error, join(stateDir, databaseFileName)), { cause: error });
}

/** What a failure of the state database `file` was, and what to do about it. */
export function databaseFailure(error: unknown, file: string): string {
  if (!(error instanceof Database.SqliteError)) return `the state database ${file} failed: ${error instanceof Error ? error.message : String(error)}`;
  const code = error.code;
  const hint =
    code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB'
      ? `move it aside with its -wal and -shm files: the next run starts a new one and merges both sides, deleting nothing`
      : code.startsWith('SQLITE_FULL')
        ? 'free space on its disk, or on the one holding temporary files ($TMPDIR), where a pass keeps its scan tables'
        : code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')
          ? 'another process holds it'
          : 'check its disk and its permissions';
  return `the state database ${file} failed: ${error.message} (${code}); ${hint}`;
}

/** Negative: a size in KiB, as PRAGMA cache_size takes it. */
const pageCacheKib = -2000;

/**
 * Pages the WAL may hold before a commit copies them into the database file. Each such
 * checkpoint syncs both files to disk; at SQLite's 1,000 pages, an initial upload of 10,000
 * small files (a few commits each) ran a hundred of them, and four times as many pages cut
 * its CPU time by 7%. The WAL file is cut back to about that size after a larger transaction.
 */
const walCheckpointPages = 4000;
/** A little over what those pages take in the WAL (each with a frame header). */
const walFileLimitBytes = 20 * 1024 * 1024;

/**
 * Opens (creating when needed) the state database in `stateDir`: WAL mode, migrations applied,
 * readable by its owner only since it holds the session cookie.
 */
export function openDatabase(stateDir: string): Db {
  makeStateDir(stateDir);
  const file = join(stateDir, databaseFileName);
  // A new database beside another one's write-ahead log would take that log for its own.
  refuseOrphanLog(file);
  let db: Db | undefined;
  try {
    // Created here so that it never exists with wider permissions than 0600.
    closeSync(openSync(file, 'a', 0o600));
    chmodSync(file, 0o600);
    db = new Database(file, { timeout: 5000 });
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma(`wal_autocheckpoint = ${walCheckpointPages}`);
    db.pragma(`journal_size_limit = ${walFileLimitBytes}`);
    db.pragma('foreign_keys = ON');
    // better-sqlite3 raises SQLite's page cache to 16 MB per database, for the state file and
    // again for a pass's temporary tables; a pass reads them mostly in index order, and the
    // kernel's file cache holds the rest, so SQLite's stock 2 MB keeps a small NAS's memory.
    db.pragma(`cache_size = ${pageCacheKib}`);
    db.pragma(`temp.cache_size = ${pageCacheKib}`);
    // A pass's scan tables go to a temporary file, not to memory. Set once here: SQLite refuses
    // the change inside a transaction, and another folder's records may hold one open.
    db.pragma('temp_store = FILE');
    migrate(db, file);
    databaseFiles.set(db, new FileAtPath(file, 'the state database'));
  } catch (error) {
    // Not left holding the file and its write-ahead log until the process ends.
    db?.close();
    if (error instanceof StateError) throw error;
    throw stateFailure(error, stateDir) ?? new StateError(`cannot open the state database ${file}: ${(error as Error).message}`, { cause: error });
  }
  return db;
}

/**
 * The state database for a command that only looks (`status`): the one in `stateDir` when there
 * is one, else an empty one in memory. Looking creates nothing: a state directory deleted under
 * a running daemon stays gone for that daemon to notice, rather than made anew beside it.
 */
export function openDatabaseToRead(stateDir: string): Db {
  const file = join(stateDir, databaseFileName);
  if (existsSync(file)) return openDatabase(stateDir);
  // Said here too: what it looks at is in use, deleted, by a process still running.
  refuseOrphanLog(file);
  const db = new Database(':memory:');
  applyMigrations(db);
  return db;
}

/** Throws a StateError when the database `file` is missing but its write-ahead log is there. */
function refuseOrphanLog(file: string): void {
  if (existsSync(file)) return;
  const orphans = ['-wal', '-shm'].map((suffix) => `${file}${suffix}`).filter((path) => existsSync(path));
  if (orphans.length === 0) return;
  throw new StateError(
    `the state database ${file} is missing but ${orphans.join(' and ')} ${orphans.length > 1 ? 'are' : 'is'} there: a cloudreve-sync still running may be using it deleted; stop it, then remove ${orphans.length > 1 ? 'them' : 'it'} (the next run merges both sides and deletes nothing)`,
  );
}

/** Creates the state directory (owner only) if it is missing; a StateError says why it cannot. */
export function makeStateDir(stateDir: string): void {
  try {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    const why = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'ENOTDIR' || code === 'EEXIST' ? 'a file is in the way' : message;
    throw new StateError(`cannot create the state directory ${stateDir}: ${why}; set stateDir (or CLOUDREVE_SYNC_STATE_DIR) to a directory this user can write`, { cause: error });
  }
}

/** How long a process waits for another one that is upgrading the database (a large one takes a while). */
const migrationWaitMs = 120_000;

function migrate(db: Db, file: string): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length) {
    throw new StateError(
      `the state database ${file} was written by a newer cloudreve-sync (schema ${current}, this version knows ${migrations.length}); upgrade cloudreve-sync`,
    );
  }
  if (current === migrations.length) return;
  const busyTimeout = db.pragma('busy_timeout', { simple: true }) as number;
  db.pragma(`busy_timeout = ${migrationWaitMs}`);
  try {
    applyMigrations(db, current);
  } catch (error) {
    if (error instanceof Database.SqliteError && error.code.startsWith('SQLITE_BUSY')) {
      throw new StateError(`the state database ${file} is being upgraded or used by another cloudreve-sync; try again once it is done`, { cause: error });
    }
    throw error;
  } finally {
    db.pragma(`busy_timeout = ${busyTimeout}`);
  }
}

/**
 * Brings a database from schema `from` to the latest, one migration per transaction. Each
 * takes the write lock first and asks the schema again: a `status` and a starting daemon may
 * both find the database of an older version.
 */
export function applyMigrations(db: Db, from = 0): void {
  for (let version = from; version < migrations.length; version++) {
    const migration = migrations[version];
    db.transaction(() => {
      if ((db.pragma('user_version', { simple: true }) as number) !== version) return;
      if (typeof migration === 'string') db.exec(migration);
      else migration?.(db);
      db.pragma(`user_version = ${version + 1}`);
    }).immediate();
  }
}
