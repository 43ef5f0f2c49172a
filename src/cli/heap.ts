import { setFlagsFromString } from 'node:v8';

/**
 * V8 lets the young generation double up to 32 MB under a high allocation rate, and a transfer
 * or a scan allocates fast. For a sync client on a small NAS that is some 30 MB of garbage, and
 * worse: the young generation also holds the wrappers of every 64 KiB buffer a transfer reads,
 * whose memory outside the heap is freed only when a young collection finds them dead. Kept at
 * its initial 1 MB, it costs a few percent of CPU time.
 *
 * The setting is read whenever V8 resizes the young generation, so setting it at run time takes
 * effect; the entry point sets it before it loads the program. A value the user gave node on
 * its command line wins.
 *
 * Not set: a smaller old-generation growth factor (`--heap-growing-percent`). It halves the peak
 * of a no-op pass over 100,000 files, but full collections then come so often during a large
 * transfer that it runs 1.5 times as long.
 */
const flag = 'semi-space-growth-factor';

const given = process.execArgv.some((arg) => arg.replaceAll('_', '-').startsWith(`--${flag}`));
if (!given) setFlagsFromString(`--${flag}=1`);
