import type { SkippedPath } from '../tree/types.js';

/**
 * The paths below which a scan of either side does not know what there is: folders it could
 * not read, and entries it skipped (a symlink where a synced file was, say). What is missing
 * there is not a deletion.
 */
export function unknownOf(scan: { readonly unknown: readonly string[]; readonly skipped: readonly SkippedPath[] }): string[] {
  return [...scan.unknown, ...scan.skipped.map((s) => s.path)];
}
