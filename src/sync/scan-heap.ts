import { setFlagsFromString } from 'node:v8';

/**
 * While a pass scans and plans, V8 may grow its old generation by at most half of what survived
 * the last full collection, instead of up to four times as much.
 *
 * A scan keeps little alive (some 15 MB with 100,000 files), but what a listing or a folder's
 * read allocates often outlives the small young generation (src/cli/heap.ts) and dies in the
 * old one, where V8 would let 45 MB of it pile up before collecting. Full collections over so
 * small a heap are cheap; with this limit a no-op pass over 100,000 files peaks 40 MB lower in
 * the same time. Transfers go back to V8's own limits: they keep 64 KiB buffers alive, and full
 * collections would come so often that a large file took 1.5 times as long.
 *
 * The limit is process-wide, so it holds while any pass is scanning. A limit the user gave node
 * (`--heap-growing-percent=N`) is left alone.
 */
const scanGrowingPercent = 50;
const userSet = process.execArgv.some((arg) => /^--heap[-_]growing[-_]percent=/.test(arg));
let scanning = 0;

/** Applies the scan's limit until the returned function is called. */
export function tightenHeapForScan(): () => void {
  if (userSet) return () => undefined;
  if (scanning++ === 0) setFlagsFromString(`--heap-growing-percent=${scanGrowingPercent}`);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    // 0 is V8's default: a factor of its own choosing.
    if (--scanning === 0) setFlagsFromString('--heap-growing-percent=0');
  };
}
