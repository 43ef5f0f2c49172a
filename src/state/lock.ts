import Database from 'better-sqlite3';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { FileAtPath, makeStateDir, StateError } from './database.js';

interface LockOwner {
  readonly pid: number;
  readonly host: string;
  readonly command: string;
  readonly sinceMs: number;
}

export interface StateLock {
  release(): void;
  /** Throws a StateMovedError when the lock file was deleted or replaced: another process could lock it now. */
  check(): void;
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
    if ((error as { code?: string }).code === 'SQLITE_BUSY') throw new StateError(busyMessage(stateDir, readOwner(stateDir)));
    // Not the state database's failure: the lock file holds nothing worth keeping.
    throw new StateError(`cannot lock ${lockFile}: ${(error as Error).message}; with no cloudreve-sync running, it can be removed`, { cause: error });
  }
  const owner: LockOwner = { pid: process.pid, host: hostname(), command, sinceMs: Date.now() };
  const ownerFile = join(stateDir, ownerFileName);
  try {
    writeFileSync(ownerFile, JSON.stringify(owner), { mode: 0o600 });
  } catch (error) {
    lockDb.close();
    throw new StateError(`cannot write the lock's side file ${ownerFile}: ${(error as Error).message}`, { cause: error });
  }
  const file = new FileAtPath(lockFile, 'the lock file');
  return {
    release: () => {
      if (lockDb.open) lockDb.close();
    },
    check: () => file.check('another cloudreve-sync could now run on this state directory beside this one; restart cloudreve-sync'),
  };
}

function readOwner(stateDir: string): LockOwner | undefined {
  try {
    return JSON.parse(readFileSync(join(stateDir, ownerFileName), 'utf8')) as LockOwner;
  } catch {
    return undefined;
  }
}

/**
 * Why the lock is taken. A filesystem without working locks (a network share without its lock
 * service) answers "taken" too, for good: said so when the holder named is a process of this
 * machine that has ended, or none is named.
 */
function busyMessage(stateDir: string, owner: LockOwner | undefined): string {
  const noLocks = 'its filesystem may not support file locks (a network share), and stateDir belongs on a local disk';
  if (owner === undefined) return `the state directory ${stateDir} cannot be locked and no cloudreve-sync is named as holding it: another one may be starting, or ${noLocks}`;
  const holder = `PID ${owner.pid} on ${owner.host}, running "${owner.command}" since ${new Date(owner.sinceMs).toISOString()}`;
  // This very process named (a container's PID 1, restarted) is no other holder either.
  if (owner.host === hostname() && (owner.pid === process.pid || !isAlive(owner.pid))) return `the state directory ${stateDir} cannot be locked, yet the cloudreve-sync that last held it (${holder}) has ended: ${noLocks}`;
  return `the state directory ${stateDir} is in use by another cloudreve-sync (${holder}); stop it first or use another state directory`;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, but another user's.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
