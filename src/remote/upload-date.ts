/**
 * The date a new upload of a file modified at `mtimeMs` takes on the server: Cloudreve dates it
 * with the `last_modified` sent, in whole milliseconds; none is sent for a time at or before
 * 1970, and the server then picks one.
 */
export function uploadDateOf(mtimeMs: number): number | undefined {
  const ms = Math.trunc(mtimeMs);
  return ms > 0 ? ms : undefined;
}

/**
 * Whether a listed date is the one an upload sent: exactly, or within the second when the
 * server keeps whole seconds (Cloudreve on MySQL).
 */
export function isUploadDate(listedMs: number, sentMs: number): boolean {
  return listedMs === sentMs || (listedMs % 1000 === 0 && Math.abs(listedMs - sentMs) < 1000);
}
