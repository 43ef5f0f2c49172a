import { setFlagsFromString } from 'node:v8';

/**
 * V8 sizes its heap for throughput on the machine it finds: it lets the young generation grow to
 * 32 MB and, with several GiB of RAM, lets the old one grow to four times its live data before a
 * full collection. For a sync client that idles between passes on a small NAS that is tens of
 * MB of garbage; these two keep the heap near what is alive, for a few percent more CPU time.
 *
 * - `semi-space-growth-factor=1`: the young generation stays at its initial 1 MB. It also
 *   holds the wrappers of every 64 KiB buffer a transfer reads, and their memory outside the
 *   heap is freed only when a young collection finds them dead.
 * - `heap-growing-percent=50`: a full collection comes when the old generation has grown by half.
 *
 * Both are read whenever V8 resizes the heap, so setting them at run time takes effect; this
 * module is the entry point's first import so that they apply before the modules load. A flag
 * the user gave node on its command line or in NODE_OPTIONS wins.
 */
const tuned: readonly (readonly [name: string, value: number])[] = [
  ['semi-space-growth-factor', 1],
  ['heap-growing-percent', 50],
];

const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].map((arg) => arg.replaceAll('_', '-'));
for (const [name, value] of tuned) {
  if (!given.some((arg) => arg === `--${name}` || arg.startsWith(`--${name}=`))) setFlagsFromString(`--${name}=${value}`);
}
