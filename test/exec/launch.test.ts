import { describe, expect, it } from 'vitest';
import { launchInOrder } from '../../src/exec/launch.js';

/** A promise settled from outside, for driving the launcher step by step. */
function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}

const turns = async (n = 5): Promise<void> => {
  for (let i = 0; i < n; i++) await Promise.resolve();
};

describe('launchInOrder', () => {
  it('starts items in order and never has more than the limit unsettled', async () => {
    const gates = Array.from({ length: 10 }, deferred);
    const started: number[] = [];
    let active = 0;
    let most = 0;
    const done = launchInOrder([...gates.keys()], 3, async (i) => {
      started.push(i);
      most = Math.max(most, ++active);
      await gates[i]?.promise;
      active--;
    });
    await turns();
    expect(started).toEqual([0, 1, 2]);
    gates[1]?.resolve();
    await turns();
    expect(started).toEqual([0, 1, 2, 3]);
    for (const gate of gates) gate.resolve();
    await done;
    expect(started).toEqual([...gates.keys()]);
    expect(most).toBe(3);
  });

  it('moves on when the window is full of items waiting for an earlier one', async () => {
    // Item 0 is slow; 1..9 each wait for 0, as a plan's files wait for their folder.
    const first = deferred();
    const finished: number[] = [];
    const done = launchInOrder([...Array(10).keys()], 2, async (i) => {
      if (i > 0) await first.promise;
      else await new Promise((resolve) => setTimeout(resolve, 5)).then(first.resolve);
      finished.push(i);
    });
    await done;
    expect(finished.sort((a, b) => a - b)).toEqual([...Array(10).keys()]);
  });

  it('starts nothing more after a rejection, lets the running ones settle, then throws the first error', async () => {
    const gates = Array.from({ length: 6 }, deferred);
    const started: number[] = [];
    let settled = 0;
    const done = launchInOrder([...gates.keys()], 2, async (i) => {
      started.push(i);
      try {
        await gates[i]?.promise;
      } finally {
        settled++;
      }
    });
    const outcome = done.then(
      () => undefined,
      (error: unknown) => error,
    );
    await turns();
    gates[0]?.reject(new Error('first'));
    await turns();
    expect(started).toEqual([0, 1]);
    gates[1]?.resolve();
    const error = await outcome;
    expect((error as Error).message).toBe('first');
    expect(started).toEqual([0, 1]);
    expect(settled).toBe(2);
  });

  it('resolves at once for no items', async () => {
    await expect(launchInOrder([], 4, () => Promise.reject(new Error('never')))).resolves.toBeUndefined();
  });
});
