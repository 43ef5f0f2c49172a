import { setFlagsFromString } from 'node:v8';

/**
 * V8 settings for the time a pass scans and plans; transfers run with V8's own.
 *
 * The old generation may grow by at most half of what survived the last full collection,
 * instead of up to four times as much. A scan keeps little alive (some 15 MB with 100,000
 * files), but what a listing or a folder's read allocates often outlives the small young
 * generation (src/cli/heap.ts) and dies in the old one, where V8 would let 45 MB of it pile up
 * before collecting. Full collections over so small a heap are cheap; with this limit a no-op
 * pass over 100,000 files peaks 40 MB lower in the same time. Transfers go back to V8's own
 * limits: they keep 64 KiB buffers alive, and full collections would come so often that a large
 * file took 1.5 times as long.
 *
 * Functions are optimized (TurboFan) only after eight times the usual work. A scan runs many
 * functions a few thousand times each, enough for V8 to optimize them on its helper threads,
 * never enough for that to pay: a no-op pass over 100,000 files spent 0.25 s of CPU compiling
 * beside its 0.8 s of work, on cores the server walk waits for. The loops that do run long (a
 * walk of a million entries, the planner's) still get optimized, a little later. Transfers keep
 * V8's threshold: eight times it for the whole of an initial upload of 10,000 small files cost
 * 40% more CPU time. Only V8 before 12 (Node 20) has this budget; Node 22's V8 counts calls
 * instead, and is left alone (it is not measured here, and it would print an error for the flag).
 *
 * Both are process-wide, so they hold while any pass is scanning. A setting the user gave node
 * (`--heap-growing-percent=N`, `--interrupt-budget=N`) is left alone.
 */
const scanSettings = [
  { flag: 'heap-growing-percent', scan: 50, usual: 0 /* V8's default: a factor of its own choosing */ },
  ...(Number(process.versions.v8.split('.')[0]) < 12 ? [{ flag: 'interrupt-budget', scan: 8 * 66 * 1024, usual: 66 * 1024 }] : []),
].filter(({ flag }) => !process.execArgv.some((arg) => arg.replaceAll('_', '-').startsWith(`--${flag}=`)));
let scanning = 0;

/** Applies the scan's settings until the returned function is called. */
export function tuneV8ForScan(): () => void {
  if (scanning++ === 0) for (const { flag, scan } of scanSettings) setFlagsFromString(`--${flag}=${scan}`);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--scanning === 0) for (const { flag, usual } of scanSettings) setFlagsFromString(`--${flag}=${usual}`);
  };
}
