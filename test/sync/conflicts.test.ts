import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FolderState } from '../../src/state/folder-state.js';
import { folderId } from '../../src/state/synced.js';
import { forgetGoneConflicts } from '../../src/sync/conflicts.js';
import { openMemoryState } from '../helpers/memory-state.js';
import { useTempDirs } from '../scan/fixture.js';

const tempDir = useTempDirs();

describe('forgetting settled conflicts (src/sync/conflicts.ts)', () => {
  it('forgets a local copy that is gone, keeps one that is there or cannot be looked at, and leaves server copies to a full walk', async () => {
    const local = await tempDir();
    await writeFile(join(local, 'kept (conflict).txt'), 'still there');
    const memory = openMemoryState();
    try {
      const state = new FolderState(memory.db, folderId(memory.db, 'test'));
      const unnameable = `${'d/'.repeat(2100)}deep (conflict).txt`;
      for (const copyPath of ['kept (conflict).txt', 'gone (conflict).txt', unnameable]) state.addConflict({ path: 'f.txt', copyPath, side: 'local' }, 1);
      state.addConflict({ path: 'g.txt', copyPath: 'on server (conflict).txt', side: 'remote' }, 1);
      await forgetGoneConflicts(state, local, 10, undefined);
      expect(state.conflicts().map((c) => c.copyPath).sort()).toEqual(['kept (conflict).txt', 'on server (conflict).txt', unnameable].sort());
      await forgetGoneConflicts(state, local, 10, () => false);
      expect(state.conflicts().map((c) => c.copyPath).sort()).toEqual(['kept (conflict).txt', unnameable].sort());
    } finally {
      memory.close();
    }
  });
});
