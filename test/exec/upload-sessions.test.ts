import { afterEach, describe, expect, it } from 'vitest';
import { UploadSessions } from '../../src/exec/upload-sessions.js';
import { FolderState } from '../../src/state/folder-state.js';
import { folderId } from '../../src/state/synced.js';
import { openMemoryState } from '../helpers/memory-state.js';

let close: (() => void) | undefined;
afterEach(() => {
  close?.();
  close = undefined;
});

function sessions(): { sessions: UploadSessions; state: FolderState } {
  const memory = openMemoryState();
  close = () => memory.close();
  const state = new FolderState(memory.db, folderId(memory.db, 'test'));
  return { sessions: new UploadSessions(state, () => 1), state };
}

describe('UploadSessions', () => {
  it("removes a finished upload's note with the next write of closes", () => {
    const { sessions: s, state } = sessions();
    s.opening('/sync/a.txt');
    expect(state.tempFiles()).toEqual([{ side: 'upload', path: '/sync/a.txt' }]);
    s.finished('/sync/a.txt');
    s.writeClosed();
    expect(state.tempFiles()).toEqual([]);
  });

  it('keeps the note of a name that is being uploaded again before the closes are written', () => {
    // A failed attempt queued its note for removal; the retry's session now stands behind it,
    // and another action's transaction writing the closes must leave it.
    const { sessions: s, state } = sessions();
    s.opening('/sync/a.txt');
    s.finished('/sync/a.txt');
    s.opening('/sync/a.txt');
    s.writeClosed();
    expect(state.tempFiles()).toEqual([{ side: 'upload', path: '/sync/a.txt' }]);
  });

  it('replaces the note by the session ID, and forgets the ID once closed', () => {
    const { sessions: s, state } = sessions();
    s.opening('/sync/a.txt');
    s.opened('s1', 'a.txt', '/sync/a.txt');
    expect(state.tempFiles()).toEqual([]);
    expect(state.uploadSessions()).toEqual([{ sessionId: 's1', path: 'a.txt' }]);
    s.closed('s1');
    s.writeClosed();
    expect(state.uploadSessions()).toEqual([]);
  });
});
