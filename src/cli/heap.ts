import { setFlagsFromString } from 'node:v8';

/**
 * V8 lets the young generation double up to 32 MB under a high allocation rate, and a transfer
 * or a scan allocates fast. For a sync client on a small NAS that is some 30 MB of garbage, and
 * worse: the young generation also holds the wrappers of every 64 KiB buffer a transfer reads,
 * whose memory outside the heap is freed only when a young collection finds them dead. Kept at
 * its initial 1 MB, it costs 10 to 15% more CPU time on the busiest runs (many small uploads).
 *
 * Only a growth factor set at run time can do this: V8 reads it whenever it resizes the young
 * generation, while a factor below 2 on node's command line is raised to 2 when the heap is set
 * up. So the entry point sets it before it loads the program, and a factor the user gave node
 * (`--semi-space-growth-factor=N`) is applied here too, as they asked.
 *
 * Not set here, for the whole run: a smaller old-generation growth factor
 * (`--heap-growing-percent`). It halves the peak of a no-op pass over 100,000 files, but full
 * collections then come so often during a large transfer that it runs 1.5 times as long; it is
 * set while a pass scans and plans only (src/sync/scan-v8.ts).
 */
// 0 would crash V8 at its next young collection.
const flag = /^--semi[-_]space[-_]growth[-_]factor=([1-9]\d*)$/;

const given = process.execArgv.map((arg) => flag.exec(arg)?.[1]).findLast((value) => value !== undefined);
setFlagsFromString(`--semi-space-growth-factor=${given ?? 1}`);
