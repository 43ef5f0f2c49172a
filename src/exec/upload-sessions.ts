import type { FolderState } from '../state/folder-state.js';
import type { RelPath } from '../tree/types.js';

/**
 * The upload sessions of a run, written down so that one a crash leaves open can be cancelled by
 * the next run (it would keep its name reserved on the server for a day). A commit costs more
 * than sending a small file's bytes, so a session takes two: a note before it is asked for, and
 * its ID in place of the note. Its close waits for the transaction that records the upload: a
 * close lost to a crash only makes the next run cancel a finished session, which the server
 * refuses (40011) and the sweep accepts. The session of a small file takes only the note, which
 * goes in that transaction too (see uploadNew).
 */
export class UploadSessions {
  #closed: string[] = [];
  readonly #finished = new Set<string>();

  constructor(
    private readonly state: FolderState,
    private readonly now: () => number,
  ) {}

  /** Asking the server for a session on `target` (its ID is not known yet). */
  opening(target: string): void {
    // A retry of an upload whose note was to go: the note now stands for this session.
    this.#finished.delete(target);
    this.state.addTempFile('upload', target, this.now());
  }

  /** The server answered: the session's ID replaces the note that one was being opened. */
  opened(sessionId: string, path: RelPath, target: string): void {
    this.state.swapOpeningForSession(target, sessionId, path, this.now());
  }

  /** Asking for a session failed, so there is none to cancel. */
  notOpened(target: string): void {
    this.state.removeTempFile('upload', target);
  }

  /** The session ended (completed or cancelled); written with the next `writeClosed`. */
  closed(sessionId: string): void {
    this.#closed.push(sessionId);
  }

  /**
   * An upload to `target` whose sessions were never written down by ID is over, none left open:
   * its "being opened" note goes with the next `writeClosed`.
   */
  finished(target: string): void {
    this.#finished.add(target);
  }

  /** Writes the closes noted so far; inside the caller's transaction when it has one. */
  writeClosed(): void {
    for (const sessionId of this.#closed.splice(0)) this.state.closeUploadSession(sessionId);
    for (const target of this.#finished) this.state.removeTempFile('upload', target);
    this.#finished.clear();
  }
}
