import type { Logger } from '../log/logger.js';
import type { FolderState } from '../state/folder-state.js';
import type { RelPath } from '../tree/types.js';

/**
 * How long a session whose ID never arrived may keep its name reserved: Cloudreve's default
 * session lifetime (a day), then up to its cleanup job's interval (an hour and a half).
 */
export const unnamedSessionLifetimeMs = 26 * 3_600_000;

/**
 * The upload sessions of a pass, written down so that one a crash leaves open can be cancelled by
 * the next run (it would keep its name reserved on the server for a day).
 *
 * A session whose ID never arrived can only be freed by cancelling all of the account's
 * unfinished uploads, another device's included. So the first time a pass asks for a session it
 * writes one note that sessions are being opened, and the note stays until the pass is over: a
 * run killed anywhere in between leaves it for the next ones. They cancel the account's uploads
 * only when one of their own uploads finds its name held by an upload in progress, and then
 * once; the note goes when that is done or when such a session would have expired anyway. One
 * commit per pass, where a note per session cost a commit per small file, more than sending its
 * bytes. Sessions that may outlive their upload (streamed files, or any where the server cannot
 * cancel them all) are also written down by ID, and cancelled one by one by the next run.
 */
export class UploadSessions {
  #noted = false;
  /** A session may be open that no ID names; see `unanswered`. */
  #unnamed = false;
  /** Since when an earlier run's unnamed sessions may hold names, or undefined. */
  #earlierSince: number | undefined;
  #freeing: Promise<void> | undefined;
  #closed: string[] = [];

  constructor(
    private readonly state: FolderState,
    private readonly now: () => number,
    /** The folder's server path, what the note names. */
    private readonly root: string,
    private readonly logger?: Logger,
  ) {
    const since = state.uploadNotesSince();
    if (since !== undefined && this.#expired(since)) state.removeUploadNotes();
    else this.#earlierSince = since;
  }

  /** Whether a session opened at `since` would have expired by now and been cleaned up. */
  #expired(since: number): boolean {
    return this.now() - since > unnamedSessionLifetimeMs;
  }

  /** A session is about to be asked for (its ID is not known yet). */
  opening(): void {
    if (this.#noted) return;
    // An earlier run's note stands for this pass's sessions too, and keeps its age.
    if (this.#earlierSince === undefined) this.state.addTempFile('upload', this.root, this.now());
    this.#noted = true;
  }

  /**
   * A request for a session got no answer, and the server may have opened one: the note stays
   * when the pass is over, so that a later run can free the name (see `freeEarlierNames`).
   */
  unanswered(): void {
    this.#unnamed = true;
  }

  /** Whether an upload that finds its name held by one in progress may be meeting an earlier run's session. */
  get earlierMayHoldNames(): boolean {
    return this.#earlierSince !== undefined;
  }

  /**
   * Cancels the account's unfinished uploads (`cancelAll`), once a pass, to free the names an
   * earlier run's unnamed sessions hold. The client lets its uploads under way end first (see
   * Remote.cancelAllUploads), so this pass's own are not cancelled.
   */
  freeEarlierNames(cancelAll: () => Promise<void>): Promise<void> {
    this.#freeing ??= cancelAll().then(() => {
      this.#earlierSince = undefined;
      this.state.removeUploadNotes();
      if (this.#noted) this.state.addTempFile('upload', this.root, this.now());
      this.logger?.warn(
        "an upload found its name held by an upload in progress, and an earlier run may have left a session open unnamed (it was killed or got no answer while opening one): the account's unfinished uploads were cancelled to free the names they reserve",
      );
    });
    return this.#freeing;
  }

  /** The server answered with the ID of a session for `path`. */
  opened(sessionId: string, path: RelPath): void {
    this.state.openUploadSession(sessionId, path, this.now());
  }

  /** The session ended (completed or cancelled); written with the next `writeClosed`. */
  closed(sessionId: string): void {
    this.#closed.push(sessionId);
  }

  /** Writes the closes noted so far; inside the caller's transaction when it has one. */
  writeClosed(): void {
    for (const sessionId of this.#closed.splice(0)) this.state.closeUploadSession(sessionId);
  }

  /**
   * The pass is over: every session it opened was closed, or is written down by ID. The closes
   * are written and the note removed, unless a session may be open unnamed: this pass's, or an
   * earlier run's that has not expired yet.
   */
  over(): void {
    this.writeClosed();
    const earlier = this.#earlierSince;
    if (this.#unnamed) {
      // An earlier note's age would let this pass's unnamed session outlive it.
      if (earlier !== undefined) {
        this.state.removeUploadNotes();
        this.state.addTempFile('upload', this.root, this.now());
      }
      return;
    }
    if (earlier !== undefined && !this.#expired(earlier)) return;
    if (!this.#noted && earlier === undefined) return;
    this.state.removeUploadNotes();
    this.#noted = false;
    this.#earlierSince = undefined;
  }
}
