import type { LocalFacts } from '../plan/types.js';

/** A local file or folder that is no longer what the plan saw; the action waits for the next run. */
export class LocalChangedError extends Error {
  override readonly name = 'LocalChangedError';
}

export function sameFacts(a: LocalFacts | undefined, b: LocalFacts): boolean {
  return a !== undefined && a.size === b.size && a.mtimeMs === b.mtimeMs && a.inode === b.inode;
}
