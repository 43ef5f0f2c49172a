/**
 * The randomized suite for as long as you like: `npm run soak -- --minutes 30 [--seed N] [--rounds R]`.
 * Runs case after case (seeds N, N+1, ...; odd seeds crash the CLI too) until the time is up,
 * and stops at the first failure, printing its seed: `SEED=<n> npm run test:random` replays it.
 * With `--daemon`, the cases run the daemon under the activity instead (`daemon-case.ts`).
 */
import { parseArgs } from 'node:util';
import { runDaemonCase, type DaemonCaseResult } from './daemon-case.js';
import { isCrashSeed, runCase } from './random.js';
import { capturedOutput, secretLeaks } from './rig.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    seed: { type: 'string' },
    rounds: { type: 'string', default: '12' },
    daemon: { type: 'boolean', default: false },
  },
});
const minutes = Number(values.minutes);
const rounds = Number(values.rounds);
if (!(minutes > 0) || !(rounds > 0)) {
  console.error('usage: npm run soak -- --minutes N [--seed N] [--rounds R] [--daemon]');
  process.exit(2);
}
const first = values.seed === undefined ? 1000 + (Date.now() % 1_000_000) : Number(values.seed);
const deadline = Date.now() + minutes * 60_000;
let cases = 0;
for (let seed = first; Date.now() < deadline; seed++) {
  const started = Date.now();
  let daemonCase: DaemonCaseResult | undefined;
  try {
    if (values.daemon) daemonCase = await runDaemonCase(seed, { rounds });
    else await runCase(seed, { rounds, crashes: isCrashSeed(seed) });
  } catch (error) {
    console.error(`\nFAILED at seed ${seed} after ${cases} passing cases:\n${error instanceof Error ? error.message : String(error)}`);
    if (!values.daemon) console.error(`\nreplay: SEED=${seed} RANDOM_ROUNDS=${rounds} npm run test:random`);
    process.exit(1);
  }
  cases++;
  const kind = daemonCase ? `daemon, ${daemonOutcome(daemonCase)}, ` : isCrashSeed(seed) ? 'with crashes, ' : '';
  console.log(`seed ${seed} passed (${kind}${rounds} rounds, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  const leaks = secretLeaks();
  if (leaks.length > 0) {
    console.error(`secrets in the CLI's output of seed ${seed}:\n${leaks.join('\n')}`);
    process.exit(1);
  }
  // Scanned: what a long soak prints is not kept.
  capturedOutput.length = 0;
}
console.log(`${cases} cases passed in ${minutes} minutes (seeds ${first}..${first + cases - 1})`);

function daemonOutcome({ faulted, failures, raced }: DaemonCaseResult): string {
  const parts = [`faults in ${faulted} rounds (failed: ${failures.requests} requests, ${failures.actions} actions, ${failures.passes} passes)`];
  if (raced > 0) parts.push(`${raced} server edit(s) met the look-replace moment`);
  return parts.join(', ');
}
