import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, StateError } from '../../src/state/database.js';
import { acquireLock } from '../../src/state/lock.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cloudreve-sync-statedir-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a state directory that cannot be made', () => {
  it('is refused with a StateError (exit code 2) that names it and says why', async () => {
    await writeFile(join(dir, 'file'), 'not a directory');
    const stateDir = join(dir, 'file', 'state');
    for (const open of [() => openDatabase(stateDir), () => acquireLock(stateDir, 'sync')]) {
      expect(open).toThrow(StateError);
      expect(open).toThrow(`cannot create the state directory ${stateDir}: a file is in the way`);
    }
  });
});
