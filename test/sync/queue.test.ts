import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Config } from '../../src/config/load.js';
import { createJobQueue } from '../../src/sync/queue.js';

beforeEach(() => {
  // p-queue takes a clock at 0 for an interval not yet begun.
  vi.useFakeTimers({ now: Date.UTC(2026, 0, 1) });
});
afterEach(() => {
  vi.useRealTimers();
});

/** When each of `jobs` jobs started, in ms of the fake clock after they were queued. */
async function starts(sync: Pick<Config['sync'], 'concurrency' | 'requestsPerSecond'>, jobs: number): Promise<number[]> {
  const queue = createJobQueue(sync as Config['sync']);
  const started: number[] = [];
  const t0 = Date.now();
  const all = Promise.all(Array.from({ length: jobs }, () => queue.add(() => void started.push(Date.now() - t0))));
  await vi.advanceTimersByTimeAsync(20_000);
  await all;
  return started;
}

describe('the job queue', () => {
  it('starts at most requestsPerSecond actions a second, a rate below one included', async () => {
    expect(await starts({ concurrency: 4, requestsPerSecond: 0.2 }, 3)).toEqual([0, 5000, 10_000]);
    expect(await starts({ concurrency: 4, requestsPerSecond: 4 }, 5)).toEqual([0, 250, 500, 750, 1000]);
  });

  it('starts everything at once without a rate', async () => {
    expect(await starts({ concurrency: 4, requestsPerSecond: 0 }, 3)).toEqual([0, 0, 0]);
  });
});
