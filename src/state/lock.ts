import Database from 'better-sqlite3';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { StateError } from './database.js';

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
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const lockFile = join(stateDir, lockFileName);
  closeSync(openSync(lockFile, 'a', 0o600));
  const lockDb = new Database(lockFile, { timeout: 0 });
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
