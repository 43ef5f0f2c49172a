import { afterEach, describe, expect, it } from 'vitest';
import { recordConflict, RowRefs } from '../../src/exec/rows.js';
import type { ConflictAction } from '../../src/plan/types.js';
import type { SyncedRow } from '../../src/state/synced.js';
import { rootRow } from '../../src/tree/types.js';
import { openMemoryState } from '../helpers/memory-state.js';

let close: (() => void) | undefined;
afterEach(() => {
  close?.();
  close = undefined;
});

const fileRow = (name: string, remoteId: string): SyncedRow => ({
  kind: 'file',
  localParent: rootRow,
  localName: name,
  remoteParent: rootRow,
  remoteName: name,
  size: 1,
  localMtimeMs: 1,
  inode: `i-${name}`,
  remoteId,
  remoteModifiedMs: 1,
});

describe('recordConflict', () => {
  it('writes a conflict whose row was set aside as a new row, never over the row that took its ID since', () => {
    // Upload-only keeps both by dropping the row before the server's version is renamed aside;
    // SQLite gives the highest ID out again, here to an upload recorded meanwhile, which the
    // conflict's record then overwrote.
    const state = openMemoryState();
    close = () => state.close();
    const { tree } = state;
    const conflicted = tree.put(fileRow('report.txt', 'r1'));
    tree.drop([conflicted]);
    const other = tree.put(fileRow('other.txt', 'r2'));
    expect(other).toBe(conflicted);
    const placement = { parent: { row: rootRow }, name: 'report.txt' };
    const action: ConflictAction = {
      id: 0,
      stage: 4,
      after: [],
      type: 'conflict',
      resolution: 'keep-both',
      mode: 'upload-only',
      localPath: 'report.txt',
      remotePath: 'report.txt',
      local: { size: 5, mtimeMs: 2, inode: 'i-report.txt' },
      remote: { id: 'r1', size: 3, modifiedMs: 3 },
      conflictPath: 'report (conflict).txt',
      row: { node: { row: conflicted }, kind: 'file', local: placement, remote: placement, remoteId: 'r1' },
    };
    expect(recordConflict(tree, new RowRefs(), action, { kind: 'settled', local: action.local, remote: 'set-aside' })).toBe(true);
    const rows = tree.load().map((node) => [node.localPath, node.remote?.id, node.size]);
    expect(rows.sort()).toEqual([
      ['other.txt', 'r2', 1],
      ['report.txt', undefined, 5],
    ]);
  });
});
