import type { RelPath } from './types.js';

/** The comparison key of a path: Unicode NFC, so that NFC and NFD spellings are one name. */
export function pathKey(path: RelPath): string {
  // ASCII is its own NFC form; the test is several times cheaper than normalizing.
  return ascii.test(path) ? path : path.normalize('NFC');
}

// eslint-disable-next-line no-control-regex -- every ASCII character, control characters included
const ascii = /^[\x00-\x7f]*$/;

/**
 * Case-folded NFC key: names that a case-insensitive disk may take for one. Folded through upper
 * case, so that all spellings with one upper-case form share a key (ſ and s, ß and ss), and with
 * the final sigma as σ: lower-casing picks ς or σ by the letter's place in the word, so a name
 * and its prefix (a conflict copy's stem) would fold apart. Disks fold differently (NTFS one
 * character at a time, ext4's casefold fully), and the errors are not equal: two names taken for
 * one where the disk keeps them apart cost a name reported as colliding, while the other way
 * round two files are written to one.
 */
export function foldKey(name: string): string {
  return ascii.test(name) ? name.toLowerCase() : name.normalize('NFC').toUpperCase().toLowerCase().replaceAll('ς', 'σ');
}

export function parentOf(path: RelPath): RelPath {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

export function baseName(path: RelPath): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function joinPath(parent: RelPath, name: string): RelPath {
  return parent === '' ? name : `${parent}/${name}`;
}

/** Whether `path` is `ancestor` or lies below it. */
export function isWithin(path: RelPath, ancestor: RelPath): boolean {
  return ancestor === '' || path === ancestor || path.startsWith(`${ancestor}/`);
}

/**
 * Whether a folder above `path` (not `path` itself) is in `paths`: a lookup per folder, so that a
 * burst of 50,000 paths does not cost 50,000 squared tests.
 */
export function liesInAny(path: RelPath, paths: ReadonlySet<RelPath>): boolean {
  if (path !== '' && paths.has('')) return true;
  for (let slash = path.lastIndexOf('/'); slash > 0; slash = path.lastIndexOf('/', slash - 1)) {
    if (paths.has(path.slice(0, slash))) return true;
  }
  return false;
}

/** The paths without those that lie inside another one of them, each once, sorted. */
export function topmost(paths: Iterable<RelPath>): RelPath[] {
  const all = new Set(paths);
  return [...all].filter((path) => !liesInAny(path, all)).sort();
}

/** Replaces the `from` prefix of `path` with `to`; `path` must lie within `from`. */
export function rebase(path: RelPath, from: RelPath, to: RelPath): RelPath {
  if (path === from) return to;
  const rest = from === '' ? path : path.slice(from.length + 1);
  return joinPath(to, rest);
}

/** The longest name, in UTF-8 bytes, that local filesystems and Cloudreve take. */
export const maxNameBytes = 255;

/** The longest start of `text` that takes at most `max` bytes in UTF-8, cut between characters. */
export function fitBytes(text: string, max: number): string {
  if (Buffer.byteLength(text) <= max) return text;
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    bytes += Buffer.byteLength(char);
    if (bytes > max) break;
    end += char.length;
  }
  return text.slice(0, end);
}
