import { liesInAny } from '../tree/paths.js';
import type { GuardAnswer, RelPath, Side, SkippedPath } from '../tree/types.js';
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
  /** The side the copy is on. */
  readonly side: Side;
  readonly createdMs: number;
}

/** How old the record of a run may grow before a run that ended the same way writes it anew. */
export const unchangedRunRewriteMs = 3_600_000;

/** Whether two runs ended the same way, whenever they finished. */
function sameOutcome(a: RunSummary, b: RunSummary): boolean {
  return JSON.stringify({ ...a, finishedMs: 0 }) === JSON.stringify({ ...b, finishedMs: 0 });
}

export interface RunSummary {
  readonly finishedMs: number;
  readonly ok: boolean;
  readonly counts: Readonly<Record<string, number>>;
  /** Why a safety guard stopped the run, and what a `resume` of it agrees to. */
  readonly stopped?: string;
  /** Why the run ended before it was done: the server unreachable, the login refused. */
  readonly error?: string;
  readonly answer?: GuardAnswer;
}

/** A stored (or sent) GuardAnswer, or undefined for anything else (written by another version, say). */
export function guardAnswerOf(value: unknown): GuardAnswer | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { guard, side, count, to } = value as Record<string, unknown>;
  if (side !== 'local' && side !== 'remote') return undefined;
  if (guard === 'root') return { guard, side };
  if (guard === 'mass-delete' && typeof count === 'number') return { guard, side, count };
  if (guard === 'binding' && typeof to === 'string') return { guard, side, to };
  return undefined;
}

/** Backoff per failing path: 1 min, doubling per attempt, at most 6 h. */
export function failureBackoffMs(attempts: number): number {
  return Math.min(60_000 * 2 ** Math.max(0, attempts - 1), 6 * 3_600_000);
}

/**
 * Whether `failure` is to wait still at `nowMs`. A retry time further ahead than its backoff
 * was set by a clock that has since gone back (a NAS without a clock battery, set right by NTP
 * later): waited for, it would hold the path back for as long as the clock was wrong.
 */
export function backingOff(failure: Failure, nowMs: number): boolean {
  const wait = failure.nextRetryMs - nowMs;
  return wait > 0 && wait <= failureBackoffMs(failure.attempts);
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

  /** Forgets the failures of every path but `planned`: a pass that saw everything has nothing left to do there. */
  clearFailuresBut(planned: ReadonlySet<string>): void {
    this.#db.transaction(() => {
      for (const { path } of this.failures()) if (!planned.has(path)) this.clearFailure(path);
    })();
  }

  /** Lists a conflict copy (at `copyPath`, on `side`) until the user removes or renames it. */
  addConflict(conflict: Omit<Conflict, 'createdMs'>, nowMs: number): void {
    prepared(this.#db, 'INSERT OR REPLACE INTO conflicts (folder, path, copy_path, side, created_ms) VALUES (?, ?, ?, ?, ?)').run(
      this.#folder,
      conflict.path,
      conflict.copyPath,
      conflict.side,
      nowMs,
    );
  }

  conflicts(): Conflict[] {
    return prepared<[number], Conflict>(
      this.#db,
      'SELECT path, copy_path AS copyPath, side, created_ms AS createdMs FROM conflicts WHERE folder = ? ORDER BY created_ms',
    ).all(this.#folder);
  }

  /** Forgets conflict copies that are gone: the user removed or renamed them, settling the conflict. */
  forgetConflicts(gone: readonly Conflict[]): void {
    const remove = prepared(this.#db, 'DELETE FROM conflicts WHERE folder = ? AND copy_path = ?');
    this.#db.transaction(() => {
      for (const conflict of gone) remove.run(this.#folder, conflict.copyPath);
    })();
  }

  /**
   * Replaces the skipped paths with what a pass found; a pass that looked at some paths only (and
   * what lies below them) replaces those alone, the rest being as the last pass found it.
   */
  replaceSkipped(skipped: readonly SkippedPath[], within?: readonly RelPath[]): void {
    this.#db.transaction(() => {
      if (within === undefined) prepared(this.#db, 'DELETE FROM skipped WHERE folder = ?').run(this.#folder);
      else {
        const looked = new Set(within);
        const remove = prepared(this.#db, 'DELETE FROM skipped WHERE folder = ? AND side = ? AND path = ?');
        for (const s of this.skipped()) if (looked.has(s.path) || liesInAny(s.path, looked)) remove.run(this.#folder, s.side, s.path);
      }
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

  /** When the oldest note that upload sessions were being opened was written, if there is one. */
  uploadNotesSince(): number | undefined {
    return prepared<[number], { since: number | null }>(this.#db, "SELECT min(created_ms) AS since FROM temp_files WHERE folder = ? AND side = 'upload'").get(this.#folder)?.since ?? undefined;
  }

  /** Forgets every note that upload sessions were being opened (earlier versions wrote one per file). */
  removeUploadNotes(): void {
    prepared(this.#db, "DELETE FROM temp_files WHERE folder = ? AND side = 'upload'").run(this.#folder);
  }

  /** Temporary files recorded and not yet forgotten: what an earlier run left when it crashed. */
  tempFiles(): { side: TempSide; path: string }[] {
    return prepared<[number], { side: TempSide; path: string }>(this.#db, 'SELECT side, path FROM temp_files WHERE folder = ?').all(this.#folder);
  }

  recordRun(summary: RunSummary): void {
    // A daemon's idle passes end alike every minute: written each time, the database would keep
    // the disk under the state directory from ever spinning down.
    const { lastSyncMs, last } = this.lastRun();
    if (summary.ok && last?.ok === true && lastSyncMs !== undefined && summary.finishedMs - lastSyncMs < unchangedRunRewriteMs && sameOutcome(last, summary)) return;
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

  /**
   * The source side of the one-way mode the Synced tree holds divergences of: set when a pass in
   * a one-way mode starts, kept after the mode changes until a full pass in the new mode leaves
   * nothing of it held back (see PlanOptions.formerSource); undefined for two-way.
   */
  oneWaySource(): Side | undefined {
    return prepared<[number], { one_way_source: Side | null }>(this.#db, 'SELECT one_way_source FROM folders WHERE id = ?').get(this.#folder)?.one_way_source ?? undefined;
  }

  setOneWaySource(side: Side | undefined): void {
    prepared(this.#db, 'UPDATE folders SET one_way_source = ? WHERE id = ?').run(side ?? null, this.#folder);
  }

  /** The ID the local folder's marker file held or was given at the last pass (see sync/folder-marker.ts). */
  localMarker(): string | undefined {
    return prepared<[number], { local_marker: string | null }>(this.#db, 'SELECT local_marker FROM folders WHERE id = ?').get(this.#folder)?.local_marker ?? undefined;
  }

  /** Whether another folder recorded the marker ID `id`: a copy of that synced folder, which needs an ID of its own. */
  markerRecordedElsewhere(id: string): boolean {
    return prepared<[string, number], { one: number }>(this.#db, 'SELECT 1 AS one FROM folders WHERE local_marker = ? AND id <> ?').get(id, this.#folder) !== undefined;
  }

  setLocalMarker(id: string | undefined): void {
    prepared(this.#db, 'UPDATE folders SET local_marker = ? WHERE id = ?').run(id ?? null, this.#folder);
  }

  pausedReason(): string | undefined {
    return prepared<[number], { paused_reason: string | null }>(this.#db, 'SELECT paused_reason FROM folders WHERE id = ?').get(this.#folder)?.paused_reason ?? undefined;
  }

  /**
   * Lifts a pause. `answer`: the user looked and agreed, so the passes run past that stop (see
   * `answer`); without it (a resume of a missing folder) the guards judge the next pass afresh.
   */
  resume(answer: GuardAnswer | undefined): void {
    prepared(this.#db, 'UPDATE folders SET paused_reason = NULL, answer = ? WHERE id = ?').run(answer === undefined ? null : JSON.stringify(answer), this.#folder);
  }

  /** Files a pass deleted on `side`; what is older than `windowMs` is forgotten meanwhile. */
  noteDeletes(side: Side, files: number, atMs: number, windowMs: number): void {
    if (files === 0) return;
    prepared(this.#db, 'DELETE FROM deletes WHERE folder = ? AND at_ms < ?').run(this.#folder, atMs - windowMs);
    prepared(this.#db, 'INSERT INTO deletes (folder, at_ms, side, files) VALUES (?, ?, ?, ?)').run(this.#folder, atMs, side, files);
  }

  /** Files deleted on each side from `sinceMs` to `untilMs` (a clock set back leaves later notes aside). */
  deletesBetween(sinceMs: number, untilMs: number): Record<Side, number> {
    const rows = prepared<[number, number, number], { side: Side; files: number }>(
      this.#db,
      'SELECT side, SUM(files) AS files FROM deletes WHERE folder = ? AND at_ms BETWEEN ? AND ? GROUP BY side',
    ).all(this.#folder, sinceMs, untilMs);
    const counted = { local: 0, remote: 0 };
    for (const row of rows) counted[row.side] = row.files;
    return counted;
  }

  /** The user agreed to the deletes on `side` so far: the guard counts from nothing again. */
  forgetDeletes(side: Side): void {
    prepared(this.#db, 'DELETE FROM deletes WHERE folder = ? AND side = ?').run(this.#folder, side);
  }

  /**
   * Lifts a pause still in place, for a changed config: the guards judge the next pass afresh.
   * One a `resume` lifted meanwhile (while a reload waited for the passes in flight) keeps the
   * answer that resume gave.
   */
  liftPause(): void {
    prepared(this.#db, 'UPDATE folders SET paused_reason = NULL, answer = NULL WHERE id = ? AND paused_reason IS NOT NULL').run(this.#folder);
  }

  /**
   * The user agreed to what a guard stopped: lifts the pause, and the passes run past that stop.
   * Only where a guard did stop the folder (the daemon paused it, or the last run was stopped): a
   * force nobody saw a reason for would wait for whatever pass comes next, which may be one that
   * meets an emptied folder. Says whether there was such a stop.
   */
  resumeStopped(): { readonly answer: GuardAnswer | undefined } | undefined {
    const { last } = this.lastRun();
    const paused = this.pausedReason();
    if (paused === undefined && last?.stopped === undefined) return undefined;
    // The last run's stop is the one the user was shown, unless it is not what the pause says
    // (a run by cron while the daemon was down met another).
    const answer = paused === undefined || paused === last?.stopped ? guardAnswerOf(last?.answer) : undefined;
    this.resume(answer);
    return { answer };
  }

  /**
   * The stop a `resume` agreed to, until a pass reaches the guards (`spendAnswer`). It answers
   * that stop only (a mass delete no larger): a pass that failed before the guards (the server
   * down) leaves it for the next one, which cannot be forced past anything else meanwhile.
   */
  answer(): GuardAnswer | undefined {
    const text = prepared<[number], { answer: string | null }>(this.#db, 'SELECT answer FROM folders WHERE id = ?').get(this.#folder)?.answer;
    return text ? guardAnswerOf(JSON.parse(text)) : undefined;
  }

  spendAnswer(): void {
    prepared(this.#db, 'UPDATE folders SET answer = NULL WHERE id = ? AND answer IS NOT NULL').run(this.#folder);
  }

  lastRun(): { lastSyncMs: number | undefined; last: RunSummary | undefined } {
    const row = prepared<[number], { last_sync_ms: number | null; last_result: string | null }>(this.#db, 'SELECT last_sync_ms, last_result FROM folders WHERE id = ?').get(this.#folder);
    return {
      lastSyncMs: row?.last_sync_ms ?? undefined,
      last: row?.last_result ? (JSON.parse(row.last_result) as RunSummary) : undefined,
    };
  }
}
