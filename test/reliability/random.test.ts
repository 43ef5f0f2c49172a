import { describe, it } from 'vitest';
import { useReliabilityHooks } from './hooks.js';
import { isCrashSeed, runCase } from './random.js';
import { caseSeeds, roundsPerCase } from './seeds.js';

/**
 * Randomized end-to-end runs with injected faults (issue #5). Each seed is one case; a failure
 * prints the seed and what happened, and `SEED=<n> npm run test:random` replays it. Crash cases
 * (odd seeds) are in random-crash.test.ts.
 */

const seeds = caseSeeds().filter((seed) => !isCrashSeed(seed));

useReliabilityHooks();

describe('random activity on both sides, with faults', () => {
  (seeds.length === 0 ? it.skip.each([0]) : it.each(seeds))('seed %i converges, loses nothing, and a further sync is a no-op', async (seed) => {
    await runCase(seed, { rounds: roundsPerCase(), crashes: false });
  }, 600_000);
});
