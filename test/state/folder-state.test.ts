import { afterEach, describe, expect, it } from 'vitest';
import { FolderState } from '../../src/state/folder-state.js';
import { folderId } from '../../src/state/synced.js';
import { openMemoryState } from '../helpers/memory-state.js';

let close: (() => void) | undefined;
afterEach(() => {
  close?.();
  close = undefined;
});

function folderState(): FolderState {
  const state = openMemoryState();
  close = () => state.close();
  return new FolderState(state.db, folderId(state.db, 'test'));
}

const emptied = { guard: 'root', side: 'local' } as const;

describe('FolderState resume', () => {
  it('answers the stop the last run recorded, until a pass spends it', () => {
    const state = folderState();
    expect(state.resumeStopped()).toBeUndefined();
    state.recordRun({ finishedMs: 1, ok: false, counts: {}, stopped: 'the local folder is empty', answer: emptied });
    expect(state.resumeStopped()).toEqual({ answer: emptied });
    expect(state.answer()).toEqual(emptied);
    state.spendAnswer();
    expect(state.answer()).toBeUndefined();
  });

  it('answers nothing when the pause was for another stop than the last run met', () => {
    // A run by cron while the daemon was down stopped at another guard than the daemon's pause.
    const state = folderState();
    state.pause('the run would delete 8 of 12 synced files on the server');
    state.recordRun({ finishedMs: 1, ok: false, counts: {}, stopped: 'the local folder is empty', answer: emptied });
    expect(state.resumeStopped()).toEqual({ answer: undefined });
    expect(state.pausedReason()).toBeUndefined();
    expect(state.answer()).toBeUndefined();
  });

  it('lifts a pause recorded with its stop, answering that stop', () => {
    const state = folderState();
    state.recordRun({ finishedMs: 1, ok: false, counts: {}, stopped: 'the local folder is empty', answer: emptied });
    state.pause('the local folder is empty');
    expect(state.resumeStopped()).toEqual({ answer: emptied });
  });
});

describe('FolderState skipped paths', () => {
  it('are replaced whole by a full pass, and only where it looked by a pass over some paths', () => {
    const state = folderState();
    const skip = (side: 'local' | 'remote', path: string): { side: 'local' | 'remote'; path: string; kind: 'file'; reason: string } => ({ side, path, kind: 'file', reason: 'illegal name' });
    state.replaceSkipped([skip('local', 'a/bad:1'), skip('remote', 'b/bad:2'), skip('local', 'c:3')]);
    state.replaceSkipped([skip('local', 'a/bad:4')], ['a', 'c:3']);
    expect(state.skipped().map((s) => `${s.side} ${s.path}`)).toEqual(['local a/bad:4', 'remote b/bad:2']);
    state.replaceSkipped([]);
    expect(state.skipped()).toEqual([]);
  });
});
