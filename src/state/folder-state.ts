import type { Side, SkippedPath } from '../tree/types.js';
import { prepared, type Db } from './database.js';
import { durably } from './group-commit.js';

/** Where a temporary file is, or 'upload' for an upload session being opened. */
export type TempSide = Side | 'upload';

export interface Failure {
  readonly path: string;
  readonly action: string;
  readonly kind: string;
  readonly message: string;
  readonly attempts: number;
  readonly nextRetryMs: number;
}

export interface Conflict {
  readonly path: string;
  readonly copyPath: string;
  readonly createdMs: number;
}

export interface RunSummary {
  readonly finishedMs: number;
  readonly ok: boolean;
  readonly counts: Readonly<Record<string, number>>;
  readonly stopped?: string;
}

/** Backoff per failing path: 1 min, doubling per attempt, at most 6 h. */
export function failureBackoffMs(attempts: number): number {
  return Math.min(60_000 * 2 ** Math.max(0, attempts - 1), 6 * 3_600_000);
}

/**
 * Everything the state database remembers about one folder besides its Synced tree: paths that
 * keep failing (with their backoff), conflict copies made, skipped paths, upload sessions still
 * open on the server, and the last run.
 */
export class FolderState {
  readonly #db: Db;
  readonly #folder: number;

  constructor(db: Db, folder: number) {
    this.#db = db;
    this.#folder = folder;
  }

  failures(): Failure[] {
    return prepared<[number], Failure>(
      this.#db,
      'SELECT path, action, kind, message, attempts, next_retry_ms AS nextRetryMs FROM failures WHERE folder = ? ORDER BY path',
    ).all(this.#folder);
  }

  /** Records one more failure of `path` and returns when it may be tried again. */
  recordFailure(path: string, action: string, kind: string, message: string, nowMs: number): number {
    const previous = prepared<[number, string], { attempts: number }>(this.#db, 'SELECT attempts FROM failures WHERE folder = ? AND path = ?').get(this.#folder, path);
    const attempts = (previous?.attempts ?? 0) + 1;
    const next = nowMs + failureBackoffMs(attempts);
    prepared(
      this.#db,
      `INSERT INTO failures (folder, path, action, kind, message, attempts, next_retry_ms, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(folder, path) DO UPDATE SET action = excluded.action, kind = excluded.kind, message = excluded.message,
         attempts = excluded.attempts, next_retry_ms = excluded.next_retry_ms, updated_ms = excluded.updated_ms`,
    ).run(this.#folder, path, action, kind, message, attempts, next, nowMs);
    return next;
  }

  clearFailure(path: string): void {
    prepared(this.#db, 'DELETE FROM failures WHERE folder = ? AND path = ?').run(this.#folder, path);
  }

  clearBackoff(): void {
    prepared(this.#db, 'UPDATE failures SET next_retry_ms = 0 WHERE folder = ?').run(this.#folder);
  }

  addConflict(path: string, copyPath: string, nowMs: number): void {
    prepared(this.#db, 'INSERT OR REPLACE INTO conflicts (folder, path, copy_path, created_ms) VALUES (?, ?, ?, ?)').run(this.#folder, path, copyPath, nowMs);
  }

  conflicts(): Conflict[] {
    return prepared<[number], Conflict>(
      this.#db,
      'SELECT path, copy_path AS copyPath, created_ms AS createdMs FROM conflicts WHERE folder = ? ORDER BY created_ms',
    ).all(this.#folder);
  }

  /** Forgets conflict copies that no longer exist (the user dealt with them). */
  pruneConflicts(exists: (copyPath: string) => boolean): void {
    for (const conflict of this.conflicts()) {
      if (!exists(conflict.copyPath)) prepared(this.#db, 'DELETE FROM conflicts WHERE folder = ? AND copy_path = ?').run(this.#folder, conflict.copyPath);
    }
  }

  replaceSkipped(skipped: readonly SkippedPath[]): void {
    this.#db.transaction(() => {
      prepared(this.#db, 'DELETE FROM skipped WHERE folder = ?').run(this.#folder);
      const insert = prepared(this.#db, 'INSERT OR REPLACE INTO skipped (folder, side, path, reason) VALUES (?, ?, ?, ?)');
      for (const s of skipped) insert.run(this.#folder, s.side, s.path, s.reason);
    })();
  }

  skipped(): { side: Side; path: string; reason: string }[] {
    return prepared<[number], { side: Side; path: string; reason: string }>(this.#db, 'SELECT side, path, reason FROM skipped WHERE folder = ? ORDER BY path').all(this.#folder);
  }

  /** Written down at once (not in a commit group): a crash must not lose it once it is open. */
  openUploadSession(sessionId: string, path: string, nowMs: number): void {
    durably(this.#db, () =>
      prepared(this.#db, 'INSERT OR REPLACE INTO upload_sessions (session_id, folder, path, created_ms) VALUES (?, ?, ?, ?)').run(sessionId, this.#folder, path, nowMs),
    );
  }

  closeUploadSession(sessionId: string): void {
    prepared(this.#db, 'DELETE FROM upload_sessions WHERE session_id = ?').run(sessionId);
  }

  uploadSessions(): { sessionId: string; path: string }[] {
    return prepared<[number], { sessionId: string; path: string }>(this.#db, 'SELECT session_id AS sessionId, path FROM upload_sessions WHERE folder = ?').all(this.#folder);
  }

  /**
   * Records a temporary file (an absolute local or server path) before it is created, or
   * ('upload') a server path for which upload sessions are being opened. Written at once (not
   * in a commit group): it must be on disk before the file or session exists.
   */
  addTempFile(side: TempSide, path: string, nowMs: number): void {
    durably(this.#db, () =>
      prepared(this.#db, 'INSERT OR REPLACE INTO temp_files (folder, side, path, created_ms) VALUES (?, ?, ?, ?)').run(this.#folder, side, path, nowMs),
    );
  }

  /** Forgets a temporary file once it was renamed into place or removed. */
  removeTempFile(side: TempSide, path: string): void {
    prepared(this.#db, 'DELETE FROM temp_files WHERE folder = ? AND side = ? AND path = ?').run(this.#folder, side, path);
  }

  /** Temporary files recorded and not yet forgotten: what an earlier run left when it crashed. */
  tempFiles(): { side: TempSide; path: string }[] {
    return prepared<[number], { side: TempSide; path: string }>(this.#db, 'SELECT side, path FROM temp_files WHERE folder = ?').all(this.#folder);
  }

  recordRun(summary: RunSummary): void {
    const column = summary.ok ? 'last_sync_ms = ?, ' : '';
    const values = summary.ok ? [summary.finishedMs, JSON.stringify(summary), this.#folder] : [JSON.stringify(summary), this.#folder];
    prepared(this.#db, `UPDATE folders SET ${column}last_result = ? WHERE id = ?`).run(...values);
  }

  /** A safety guard stopped the daemon's passes for this folder; it stays so across restarts. */
  pause(reason: string): void {
    prepared(this.#db, 'UPDATE folders SET paused_reason = ? WHERE id = ?').run(reason, this.#folder);
  }

  /**
   * What the folder's Synced tree was recorded between (server, account, local and server
   * folder), as `bind` last wrote it; undefined before the first pass that wrote it.
   */
  binding(): string | undefined {
    return prepared<[number], { binding: string | null }>(this.#db, 'SELECT binding FROM folders WHERE id = ?').get(this.#folder)?.binding ?? undefined;
  }

  bind(binding: string): void {
    prepared(this.#db, 'UPDATE folders SET binding = ? WHERE id = ?').run(binding, this.#folder);
  }

  pausedReason(): string | undefined {
    return prepared<[number], { paused_reason: string | null }>(this.#db, 'SELECT paused_reason FROM folders WHERE id = ?').get(this.#folder)?.paused_reason ?? undefined;
  }

  /**
   * Lifts a pause. `force`: the user looked and agreed, so the next pass runs past the guard
   * that paused it; without it (a changed config) the guards judge the next pass afresh.
   */
  resume(force: boolean): void {
    prepared(this.#db, 'UPDATE folders SET paused_reason = NULL, force_next = ? WHERE id = ?').run(force ? 1 : 0, this.#folder);
  }

  /**
   * The user agreed to what a guard stopped: lifts the pause, and the next pass runs past the
   * guard. Only where a guard did stop the folder (the daemon paused it, or the last run was
   * stopped): a force nobody saw a reason for would wait for whatever pass comes next, which
   * may be one that meets an emptied folder. Says whether there was such a stop.
   */
  resumeStopped(): boolean {
    const stopped = this.pausedReason() !== undefined || this.lastRun().last?.stopped !== undefined;
    if (stopped) this.resume(true);
    return stopped;
  }

  /** Whether a `resume` waits for the next pass that reaches the guards (see `spendForce`). */
  forceNext(): boolean {
    return prepared<[number], { force_next: number }>(this.#db, 'SELECT force_next FROM folders WHERE id = ?').get(this.#folder)?.force_next === 1;
  }

  /**
   * A pass reached the guards with the `resume`: it is used up. A pass that failed before (the
   * server down, the local folder unreadable) leaves it for the next one, which the user meant.
   */
  spendForce(): void {
    prepared(this.#db, 'UPDATE folders SET force_next = 0 WHERE id = ? AND force_next = 1').run(this.#folder);
  }

  lastRun(): { lastSyncMs: number | undefined; last: RunSummary | undefined } {
    const row = prepared<[number], { last_sync_ms: number | null; last_result: string | null }>(this.#db, 'SELECT last_sync_ms, last_result FROM folders WHERE id = ?').get(this.#folder);
    return {
      lastSyncMs: row?.last_sync_ms ?? undefined,
      last: row?.last_result ? (JSON.parse(row.last_result) as RunSummary) : undefined,
    };
  }
}
