import { afterEach, describe, expect, it } from 'vitest';
import type { SyncedRow } from '../../src/state/synced.js';
import { openMemoryState } from '../helpers/memory-state.js';
import { backfillSyncedKeys, orphanKey } from '../../src/state/synced-keys.js';

let close: (() => void) | undefined;
afterEach(() => {
  close?.();
  close = undefined;
});

const row = (kind: 'file' | 'dir', parent: number, name: string): SyncedRow => ({
  kind,
  localParent: parent,
  localName: name,
  remoteParent: parent,
  remoteName: name,
  size: 0,
  localMtimeMs: 1,
  inode: `i-${name}`,
  remoteId: `r-${name}`,
  remoteModifiedMs: 1,
});

describe('SyncedTree keys (src/state/synced.ts)', () => {
  it.each(['📁', 'ünï', 'docs'])('follow a folder renamed from %s down to its files', (name) => {
    const state = openMemoryState();
    close = () => state.close();
    const { tree, db } = state;
    const top = tree.put(row('dir', 0, 'top'));
    const folder = tree.put(row('dir', top, name));
    tree.put(row('file', folder, 'a.txt'));
    tree.place(folder, 'local', top, 'new');
    tree.place(folder, 'remote', top, 'new');
    const keys = db.prepare<[], { local_key: string; remote_key: string }>('SELECT local_key, remote_key FROM synced ORDER BY id').all();
    expect(keys).toEqual([
      { local_key: 'top', remote_key: 'top' },
      { local_key: 'top/new', remote_key: 'top/new' },
      { local_key: 'top/new/a.txt', remote_key: 'top/new/a.txt' },
    ]);
  });
});

describe('folder rows that lead round in a loop (never written by a sync, but a state file may hold anything)', () => {
  it('leave their rows out as orphans instead of overflowing the stack', () => {
    const state = openMemoryState();
    close = () => state.close();
    state.db.exec(`INSERT INTO synced (id, folder, kind, local_parent, local_name, remote_parent, remote_name, size, local_mtime_ms, inode, remote_id, remote_modified_ms, local_key, remote_key) VALUES
      (1, ${state.tree.folder}, 'dir', 2, 'a', 2, 'a', 0, 1, '1', '10', 5, 'x', 'x'), (2, ${state.tree.folder}, 'dir', 1, 'b', 1, 'b', 0, 1, '2', '11', 5, 'y', 'y')`);
    expect(state.tree.load()).toEqual([]);
    backfillSyncedKeys(state.db);
    expect(state.db.prepare('SELECT local_key FROM synced ORDER BY id').pluck().all()).toEqual([orphanKey, orphanKey]);
  });
});
