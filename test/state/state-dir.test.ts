import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
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

describe('a state directory locked by another process', () => {
  it('names the holder, or says that its filesystem may not lock when no live holder is named', async () => {
    const lock = acquireLock(dir, 'sync');
    try {
      const owner = (pid: number): Promise<void> => writeFile(join(dir, 'cloudreve-sync.lock.json'), JSON.stringify({ pid, host: hostname(), command: 'sync', sinceMs: 0 }));
      await owner(process.ppid);
      expect(() => acquireLock(dir, 'sync --once')).toThrow(`the state directory ${dir} is in use by another cloudreve-sync (PID ${process.ppid} on ${hostname()}, running "sync" since 1970-01-01T00:00:00.000Z); stop it first`);
      // A lock that stays taken after its holder ended: a network share without file locks.
      const ended = spawnSync(process.execPath, ['-e', '']).pid ?? 0;
      await owner(ended);
      expect(() => acquireLock(dir, 'sync --once')).toThrow(`cannot be locked, yet the cloudreve-sync that last held it (PID ${ended} on`);
      expect(() => acquireLock(dir, 'sync --once')).toThrow('has ended: its filesystem may not support file locks (a network share), and stateDir belongs on a local disk');
      await rm(join(dir, 'cloudreve-sync.lock.json'));
      expect(() => acquireLock(dir, 'sync --once')).toThrow('cannot be locked and no cloudreve-sync is named as holding it');
    } finally {
      lock.release();
    }
  });
});

describe('a damaged lock file', () => {
  it('is named, not taken for the state database, and said to be removable', async () => {
    await writeFile(join(dir, 'cloudreve-sync.lock'), Buffer.alloc(4096, 0xab));
    expect(() => acquireLock(dir, 'sync')).toThrow(StateError);
    expect(() => acquireLock(dir, 'sync')).toThrow(`cannot lock ${join(dir, 'cloudreve-sync.lock')}: file is not a database; with no cloudreve-sync running, it can be removed`);
  });
});

describe('a state database written by a newer cloudreve-sync', () => {
  it('is refused, and left closed', () => {
    const file = join(dir, 'cloudreve-sync.db');
    const newer = new Database(file);
    newer.pragma('user_version = 999');
    newer.close();
    expect(() => openDatabase(dir)).toThrow('was written by a newer cloudreve-sync');
    const open = readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`) === file;
      } catch {
        return false;
      }
    });
    expect(open).toEqual([]);
  });
});
