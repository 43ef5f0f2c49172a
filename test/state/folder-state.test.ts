import { afterEach, describe, expect, it } from 'vitest';
import { FolderState, unchangedRunRewriteMs } from '../../src/state/folder-state.js';
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

describe('FolderState run records', () => {
  const idle = (finishedMs: number): { finishedMs: number; ok: true; counts: Record<string, number> } => ({ finishedMs, ok: true, counts: { uploaded: 0 } });

  it("writes a run that ended as the last one did only once that record is an hour old, so an idle daemon's disk can spin down", () => {
    const state = folderState();
    state.recordRun(idle(1_000));
    state.recordRun(idle(61_000));
    expect(state.lastRun().lastSyncMs).toBe(1_000);
    state.recordRun(idle(1_000 + unchangedRunRewriteMs));
    expect(state.lastRun().lastSyncMs).toBe(1_000 + unchangedRunRewriteMs);
  });

  it('writes a run that ended otherwise at once', () => {
    const state = folderState();
    state.recordRun(idle(1_000));
    state.recordRun({ finishedMs: 2_000, ok: true, counts: { uploaded: 1 } });
    expect(state.lastRun()).toEqual({ lastSyncMs: 2_000, last: { finishedMs: 2_000, ok: true, counts: { uploaded: 1 } } });
    state.recordRun({ finishedMs: 3_000, ok: false, counts: {}, error: 'server down' });
    state.recordRun(idle(4_000));
    expect(state.lastRun()).toEqual({ lastSyncMs: 4_000, last: idle(4_000) });
  });
});
