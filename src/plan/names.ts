import { fitBytes, maxNameBytes } from '../tree/paths.js';

/**
 * The name a conflict copy gets: `report (conflict 2026-11-29 204512).docx`. The extension stays
 * last so the copy still opens with the right program; a leading dot (`.bashrc`) is not an
 * extension. `taken` tells whether a candidate is already used; a counter makes it unique.
 */
export function conflictName(name: string, stamp: string, taken: (candidate: string) => boolean): string {
  const dot = name.lastIndexOf('.');
  const [stem, extension] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  for (let n = 1; ; n++) {
    // A long stem gives way, so that the name stays one the disk and the server take.
    const suffix = ` (conflict ${stamp}${n === 1 ? '' : ` ${n}`})${extension}`;
    const candidate = `${fitBytes(stem, maxNameBytes - Buffer.byteLength(suffix))}${suffix}`;
    if (!taken(candidate)) return candidate;
  }
}

/** Conflict stamp in UTC, so that the same file gets the same name on every machine. */
export function utcConflictStamp(mtimeMs: number): string {
  const iso = new Date(mtimeMs).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
}

/**
 * A temporary name for an entry that must make room for another within one plan: unique per
 * item, legal on the server, and recognisable, so that an entry a crash left under it (the run
 * was killed between moving it aside and moving it on) gets its own name back instead of the
 * next run taking the aside name for a user's rename.
 */
export function asideName(name: string, index: number): string {
  const suffix = `${asideMarker}${index}`;
  return `${fitBytes(name, maxNameBytes - Buffer.byteLength(suffix))}${suffix}`;
}

const asideMarker = '.cloudreve-sync-aside-';
const asidePattern = /\.cloudreve-sync-aside-\d+$/;

export function isAsideName(name: string): boolean {
  return asidePattern.test(name);
}
