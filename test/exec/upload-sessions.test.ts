import { afterEach, describe, expect, it } from 'vitest';
import { unnamedSessionLifetimeMs, UploadSessions } from '../../src/exec/upload-sessions.js';
import { FolderState } from '../../src/state/folder-state.js';
import { folderId } from '../../src/state/synced.js';
import { openMemoryState } from '../helpers/memory-state.js';

let close: (() => void) | undefined;
afterEach(() => {
  close?.();
  close = undefined;
});

function sessions(earlierNoteMs?: number, nowMs = 1): { sessions: UploadSessions; state: FolderState } {
  const memory = openMemoryState();
  close = () => memory.close();
  const state = new FolderState(memory.db, folderId(memory.db, 'test'));
  if (earlierNoteMs !== undefined) state.addTempFile('upload', '/sync', earlierNoteMs);
  return { sessions: new UploadSessions(state, () => nowMs, '/sync'), state };
}

describe('UploadSessions', () => {
  it('writes one note for all the sessions a pass opens, and removes it when the pass is over', () => {
    const { sessions: s, state } = sessions();
    s.opening();
    s.opening();
    expect(state.tempFiles()).toEqual([{ side: 'upload', path: '/sync' }]);
    // A record's transaction writes the closes but leaves the note: other sessions may be opening.
    s.writeClosed();
    expect(state.tempFiles()).toEqual([{ side: 'upload', path: '/sync' }]);
    s.over();
    expect(state.tempFiles()).toEqual([]);
    s.opening();
    expect(state.tempFiles()).toEqual([{ side: 'upload', path: '/sync' }]);
  });

  it('writes a session down by ID, and forgets it once closed', () => {
    const { sessions: s, state } = sessions();
    s.opening();
    s.opened('s1', 'a.txt');
    expect(state.uploadSessions()).toEqual([{ sessionId: 's1', path: 'a.txt' }]);
    s.closed('s1');
    expect(state.uploadSessions()).toEqual([{ sessionId: 's1', path: 'a.txt' }]);
    s.writeClosed();
    expect(state.uploadSessions()).toEqual([]);
  });

  it('keeps a session that is still open when the pass is over', () => {
    const { sessions: s, state } = sessions();
    s.opening();
    s.opened('s1', 'a.txt');
    s.over();
    expect(state.tempFiles()).toEqual([]);
    expect(state.uploadSessions()).toEqual([{ sessionId: 's1', path: 'a.txt' }]);
  });

  it("keeps an earlier run's note, standing for its own sessions too, until the names it may hold are freed, once", async () => {
    const { sessions: s, state } = sessions(1, 1 + 3_600_000);
    expect(s.earlierMayHoldNames).toBe(true);
    s.opening();
    s.over();
    expect(state.tempFiles()).toEqual([{ side: 'upload', path: '/sync' }]);
    let cancels = 0;
    const cancelAll = (): Promise<void> => {
      cancels++;
      return Promise.resolve();
    };
    await Promise.all([s.freeEarlierNames(cancelAll), s.freeEarlierNames(cancelAll)]);
    expect(cancels).toBe(1);
    expect(s.earlierMayHoldNames).toBe(false);
    s.over();
    expect(state.tempFiles()).toEqual([]);
  });

  it('forgets a note older than an unnamed session can live', () => {
    const { sessions: s, state } = sessions(1, 1 + unnamedSessionLifetimeMs + 1);
    expect(s.earlierMayHoldNames).toBe(false);
    expect(state.tempFiles()).toEqual([]);
  });

  it("dates an earlier run's note anew when this pass too may have left a session unnamed", () => {
    const { sessions: s, state } = sessions(1, 1 + 3_600_000);
    s.opening();
    s.unanswered();
    s.over();
    expect(state.uploadNotesSince()).toBe(1 + 3_600_000);
  });
});
