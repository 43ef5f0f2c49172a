import { maxNameBytes } from '../tree/paths.js';

/**
 * Why cloudreve-sync cannot address a name at all, or undefined. A backslash is a path separator
 * to Windows and an escape to ignore patterns, and Cloudreve refuses it; control characters break
 * log lines, listings and HTTP headers. Unlike names the server merely refuses (which the planner
 * reports), such entries are not even looked into.
 */
export function unaddressableNameReason(name: string): string | undefined {
  if (name.includes('\\')) return 'the name contains a backslash, which cloudreve-sync cannot handle';
  const control = /\p{Cc}/u.exec(name);
  if (control) return `the name contains the control character ${codePoint(control[0])}, which cloudreve-sync cannot handle`;
  return undefined;
}

function codePoint(char: string): string {
  return `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/** An entry as its NFC twin is chosen: its name and its inode or object ID. */
export interface TwinCandidate {
  readonly name: string;
  readonly identity: string;
}

/** What the Synced tree records at a path: the entry's inode or object ID, and its spelling. */
export interface RecordedEntry {
  readonly identity: string | undefined;
  readonly name: string;
}

/**
 * Of two entries of one folder whose names are equal in Unicode NFC (`pathKey`), the one that is
 * synced: the one the Synced tree records there (`recorded`), by its inode or object ID, else by
 * its spelling (an editor's save gives the file a new inode), so that a newcomer spelled the
 * other way never takes a synced file's place; else the first in code-unit order, so that every
 * scan, on every machine, picks the same one whatever order the directory lists them in.
 */
export function preferredTwin<T extends TwinCandidate>(a: T, b: T, recorded: RecordedEntry | undefined): T {
  if (recorded !== undefined) {
    const sameIdentity = (twin: T): boolean => recorded.identity !== undefined && twin.identity === recorded.identity;
    if (sameIdentity(a) !== sameIdentity(b)) return sameIdentity(a) ? a : b;
    if ((a.name === recorded.name) !== (b.name === recorded.name)) return a.name === recorded.name ? a : b;
  }
  return a.name < b.name ? a : b;
}

export function nfcTwinReason(kept: string): string {
  return `the name differs from "${kept}" only by Unicode normalization; only "${kept}" is synced (rename one of them to sync both)`;
}

/**
 * Why a name listed by the server must never become a local path, or undefined: on top of what
 * cloudreve-sync cannot address at all, names that would climb out of the synced folder or that
 * no local filesystem takes.
 */
export function unusableServerNameReason(name: string): string | undefined {
  if (name === '' || name === '.' || name === '..' || name.includes('/')) return `"${name}" cannot be a file name on this computer`;
  if (Buffer.byteLength(name) > maxNameBytes) return `the name is longer than the ${maxNameBytes} bytes a local filesystem takes`;
  return unaddressableNameReason(name);
}
