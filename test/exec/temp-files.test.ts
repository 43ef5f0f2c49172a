import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RemoteTree } from '../../src/exec/remote-tree.js';
import { sweepTempFiles } from '../../src/exec/temp-files.js';
import { silentLogger } from '../../src/log/logger.js';
import { FolderState } from '../../src/state/folder-state.js';
import { folderId } from '../../src/state/synced.js';
import { Scene } from '../e2e/harness.js';
import { openMemoryState } from '../helpers/memory-state.js';

let scene: Scene | undefined;
afterEach(async () => {
  await scene?.close();
  scene = undefined;
});

describe('the sweep of noted temporary files (src/exec/temp-files.ts)', () => {
  it('crosses out a note whose path is too long to name, which was never created, and sweeps the notes after it', async () => {
    // A download beside a file whose path nearly fills the system's limit noted a temporary
    // name beyond it; the sweep stopped at that note at every run, and the notes after it stayed.
    scene = await Scene.start();
    const memory = openMemoryState();
    try {
      const state = new FolderState(memory.db, folderId(memory.db, 'test'));
      const tooLong = join(scene.local, `${'d/'.repeat(2100)}.cloudreve-sync-0123456789abcdef.tmp`);
      const leftover = join(scene.local, '.cloudreve-sync-fedcba9876543210.tmp');
      await writeFile(leftover, 'left by a crash');
      state.addTempFile('local', tooLong, 1);
      state.addTempFile('local', leftover, 2);
      await sweepTempFiles(state, new RemoteTree(scene.server, scene.remoteRoot), true, silentLogger);
      expect(state.tempFiles()).toEqual([]);
      expect(await scene.exists('.cloudreve-sync-fedcba9876543210.tmp')).toBe(false);
    } finally {
      memory.close();
    }
  });
});
