import { describe, it } from 'vitest';
import { useReliabilityHooks } from './hooks.js';
import { isCrashSeed, runCase } from './random.js';
import { caseSeeds, roundsPerCase } from './seeds.js';

/**
 * Randomized end-to-end runs whose syncs are also killed with SIGKILL, at random moments and at
 * the executor's crash points; after every crash the CLI is restarted until it converges and the
 * four checks must hold. Odd seeds; `SEED=<n> npm run test:random` replays one.
 */

const seeds = caseSeeds().filter(isCrashSeed);

useReliabilityHooks();

describe('random activity with faults and crashes', () => {
  (seeds.length === 0 ? it.skip.each([0]) : it.each(seeds))('seed %i converges after every crash, loses nothing, and a further sync is a no-op', async (seed) => {
    await runCase(seed, { rounds: roundsPerCase(), crashes: true });
  }, 600_000);
});
