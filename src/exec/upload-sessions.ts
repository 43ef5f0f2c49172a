import type { FolderState } from '../state/folder-state.js';
import type { RelPath } from '../tree/types.js';

/**
 * The upload sessions of a pass, written down so that one a crash leaves open can be cancelled by
 * the next run (it would keep its name reserved on the server for a day).
 *
 * A session whose ID never arrived can only be freed by cancelling all of the account's
 * unfinished uploads. So the first time a pass asks for a session it writes one note that
 * sessions are being opened, and the note stays until the pass is over: a run killed anywhere
 * in between has the next one cancel the account's uploads (see sweepTempFiles). One commit per
 * pass, where a note per session cost a commit per small file, more than sending its bytes.
 * Sessions that may outlive their upload (streamed files, or any where the server cannot cancel
 * them all) are also written down by ID, and cancelled one by one by the next run.
 */
export class UploadSessions {
  #noted = false;
  /** A session may be open that no ID names; see `unanswered`. */
  #unnamed = false;
  #closed: string[] = [];

  constructor(
    private readonly state: FolderState,
    private readonly now: () => number,
    /** The folder's server path, what the note names. */
    private readonly root: string,
  ) {}

  /** A session is about to be asked for (its ID is not known yet). */
  opening(): void {
    if (this.#noted) return;
    this.state.addTempFile('upload', this.root, this.now());
    this.#noted = true;
  }

  /**
   * A request for a session got no answer, and the server may have opened one: the note stays
   * when the pass is over, so that the next run cancels it (with all of the account's unfinished
   * uploads) and the name is free again, instead of reserved for a day.
   */
  unanswered(): void {
    this.#unnamed = true;
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
   * are written and the note removed, unless a session may be open unnamed.
   */
  over(): void {
    this.writeClosed();
    if (!this.#noted || this.#unnamed) return;
    this.state.removeTempFile('upload', this.root);
    this.#noted = false;
  }
}
