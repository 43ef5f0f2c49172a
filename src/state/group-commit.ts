import { databaseFailure, prepared, StateError, type Db } from './database.js';

/**
 * How long the records of finished actions may wait to be committed together. A commit costs
 * more than uploading a small file (it writes every page the record touched to the WAL), and
 * within this time a busy run finishes dozens of files. A crash loses at most this much of the
 * record: what was done but not recorded is found again by the next run, as after a crash
 * between an action and its record.
 */
const groupDelayMs = 50;

/**
 * A group's commit failed (a full disk, an I/O error) and its records are lost, as in a crash.
 * What the run holds in memory about them (the rows it made, to be the parents of the next) is
 * now wrong, so the run must stop; the next one finds what those actions did, by its names.
 */
export class RecordsLostError extends StateError {
  constructor(file: string, cause: unknown) {
    super(`${databaseFailure(cause, file)}. The records of the actions finished just before are lost, as in a crash: the run stops, and the next one finds what they did`, { cause });
  }
}

/**
 * Writes committed in groups: each write is atomic (a savepoint of the group's transaction),
 * and the group commits at most `groupDelayMs` after its first write, or when flushed. Anything
 * else written meanwhile on the same connection joins the group; writes that must be on disk
 * before what they announce happens (notes of temporary files and upload sessions) flush it
 * first (`durably`).
 */
class GroupCommit {
  #timer: NodeJS.Timeout | undefined;
  /** A commit the timer ran that failed, for the next caller to report. */
  #failure: RecordsLostError | undefined;
  /** Every group lost so far, the last one's error: see `throwIfRecordsLostSince`. */
  losses = 0;
  lastLoss: RecordsLostError | undefined;
  /** One wrapper for every write: better-sqlite3 builds five functions for each it makes. */
  readonly #atomic: (write: () => unknown) => unknown;

  constructor(private readonly db: Db) {
    this.#atomic = db.transaction((write: () => unknown) => write());
  }

  run<T>(write: () => T): T {
    this.#reportFailure();
    if (this.#timer === undefined) {
      prepared(this.db, 'BEGIN').run();
      this.#timer = setTimeout(() => {
        try {
          this.flush();
        } catch (error) {
          this.#failure = error instanceof RecordsLostError ? error : this.#lost(error);
        }
      }, groupDelayMs);
    }
    try {
      return this.#atomic(write) as T;
    } catch (error) {
      // After some failures (a full disk, an I/O error) SQLite rolls the whole transaction back
      // by itself: the group is lost as if its commit had failed.
      if (this.#timer === undefined || this.db.inTransaction) throw error;
      clearTimeout(this.#timer);
      this.#timer = undefined;
      throw this.#lost(error);
    }
  }

  flush(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      try {
        prepared(this.db, 'COMMIT').run();
      } catch (error) {
        const lost = this.#lost(error);
        // The connection must not stay in the lost group.
        if (this.db.inTransaction) prepared(this.db, 'ROLLBACK').run();
        throw lost;
      }
    }
    this.#reportFailure();
  }

  #lost(cause: unknown): RecordsLostError {
    this.losses++;
    return (this.lastLoss = new RecordsLostError(this.db.name, cause));
  }

  #reportFailure(): void {
    const failure = this.#failure;
    if (failure === undefined) return;
    this.#failure = undefined;
    throw failure;
  }
}

const groups = new WeakMap<Db, GroupCommit>();

function group(db: Db): GroupCommit {
  let found = groups.get(db);
  if (!found) groups.set(db, (found = new GroupCommit(db)));
  return found;
}

/** Runs `write` atomically in the connection's commit group (see GroupCommit). */
export function inGroup<T>(db: Db, write: () => T): T {
  return group(db).run(write);
}

/** Commits the connection's group now, if one is open. */
export function flushGroup(db: Db): void {
  group(db).flush();
}

/** A mark for `throwIfRecordsLostSince`: taken when a run starts. */
export function recordsLostMark(db: Db): number {
  return group(db).losses;
}

/**
 * Throws the RecordsLostError of a group lost since `mark`. The daemon's folders share the
 * connection and its groups, and a lost group is reported to one caller only: every run that
 * wrote into it must stop, whichever folder met the failure.
 */
export function throwIfRecordsLostSince(db: Db, mark: number): void {
  const commits = group(db);
  if (commits.losses !== mark && commits.lastLoss !== undefined) throw commits.lastLoss;
}

/** Commits the group, then `write` on its own: for what must be on disk before it is acted on. */
export function durably<T>(db: Db, write: () => T): T {
  flushGroup(db);
  return write();
}
