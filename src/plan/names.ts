/**
 * The name a conflict copy gets: `report (conflict 2026-11-29 204512).docx`. The extension stays
 * last so the copy still opens with the right program; a leading dot (`.bashrc`) is not an
 * extension. `taken` tells whether a candidate is already used; a counter makes it unique.
 */
export function conflictName(name: string, stamp: string, taken: (candidate: string) => boolean): string {
  const dot = name.lastIndexOf('.');
  const [stem, extension] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  for (let n = 1; ; n++) {
    const candidate = `${stem} (conflict ${stamp}${n === 1 ? '' : ` ${n}`})${extension}`;
    if (!taken(candidate)) return candidate;
  }
}

/** Conflict stamp in UTC, so that the same file gets the same name on every machine. */
export function utcConflictStamp(mtimeMs: number): string {
  const iso = new Date(mtimeMs).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
}
