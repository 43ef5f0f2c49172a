import Database from 'better-sqlite3';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { makeStateDir, StateError } from './database.js';

interface LockOwner {
  readonly pid: number;
  readonly host: string;
  readonly command: string;
  readonly sinceMs: number;
}

export interface StateLock {
  release(): void;
}

export const lockFileName = 'cloudreve-sync.lock';
const ownerFileName = 'cloudreve-sync.lock.json';

/**
 * Keeps a second cloudreve-sync process off the same state directory. The lock is a write
 * transaction held open on a small SQLite file: the operating system drops it when the holder
 * exits, however it exits, so a crash or a recreated container never leaves a stale lock. A
 * side file names the holder for the error message.
 */
export function acquireLock(stateDir: string, command: string): StateLock {
  makeStateDir(stateDir);
  const lockFile = join(stateDir, lockFileName);
  let lockDb: Database.Database;
  try {
    closeSync(openSync(lockFile, 'a', 0o600));
    lockDb = new Database(lockFile, { timeout: 0 });
  } catch (error) {
    throw new StateError(`cannot open the lock file ${lockFile}: ${(error as Error).message}`, { cause: error });
  }
  try {
    lockDb.pragma('journal_mode = DELETE');
    lockDb.exec('BEGIN IMMEDIATE');
  } catch (error) {
    lockDb.close();
    if ((error as { code?: string }).code !== 'SQLITE_BUSY') throw error;
    throw new StateError(`the state directory ${stateDir} is in use by another cloudreve-sync${describeOwner(stateDir)}; stop it first or use another state directory`);
  }
  const owner: LockOwner = { pid: process.pid, host: hostname(), command, sinceMs: Date.now() };
  writeFileSync(join(stateDir, ownerFileName), JSON.stringify(owner), { mode: 0o600 });
  return {
    release: () => {
      if (lockDb.open) lockDb.close();
    },
  };
}

function describeOwner(stateDir: string): string {
  try {
    const owner = JSON.parse(readFileSync(join(stateDir, ownerFileName), 'utf8')) as LockOwner;
    return ` (PID ${owner.pid} on ${owner.host}, running "${owner.command}" since ${new Date(owner.sinceMs).toISOString()})`;
  } catch {
    return '';
  }
}
