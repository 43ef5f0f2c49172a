import { lstatSync, type BigIntStats } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { setImmediate as yieldToLoop } from 'node:timers/promises';

/** 'adaptive' starts synchronous and turns asynchronous on a slow disk (see StatPace); 'async' always is. */
export type StatReads = 'adaptive' | 'async';

/** An entry's lstat: its stats, or why they could not be read. */
export type Details = { readonly stats: BigIntStats } | { readonly error: unknown };

/**
 * Synchronous calls that take longer than this on average mean the disk, not the cache, answers.
 * The slowest call of each window is left out of the average: it may include a pause of the
 * garbage collector, which a call can trigger when it allocates its result.
 */
const defaultSlowMeanMs = 0.1;
const window = 256;
/**
 * The longest the event loop is held by synchronous calls before other work gets a turn. Short:
 * the server walk runs alongside, and each turn answers the listings that came in meanwhile and
 * sends the next ones, so the server is never left without a request for long (10 ms took a
 * no-op pass over 100,000 files a tenth longer than 2 ms, and 2 ms a twentieth longer than
 * 1 ms, once the walk had become quicker than the server's answers). A turn costs microseconds.
 */
export const sliceMs = 1;

/**
 * How a walk reads entries' details. From a warm cache an lstat takes microseconds, and a
 * synchronous call then costs a quarter of a trip through the thread pool and its promise,
 * which is most of a no-op scan's time. From a cold or remote disk it takes milliseconds, and
 * then only several calls in flight keep the disk busy. So a walk starts synchronous, yields to
 * the event loop every few milliseconds (the daemon's timers and status server keep running),
 * and goes asynchronous for good once the calls turn out slow. Each walk starts synchronous
 * again, since the cache may have warmed since the last one. The price: a call that never
 * returns (a dead network mount below the folder) holds the event loop, where an asynchronous
 * one held a thread of the pool.
 */
export class StatPace {
  #sync: boolean;
  #calls = 0;
  #spentMs = 0;
  #slowestMs = 0;
  #sliceStart = performance.now();

  constructor(
    reads: StatReads,
    private readonly slowMeanMs = defaultSlowMeanMs,
  ) {
    this.#sync = reads === 'adaptive';
  }

  /** Whether the walk still reads synchronously. */
  get sync(): boolean {
    return this.#sync;
  }

  /** A synchronous lstat, timed; only while `sync`. */
  lstatNow(absolute: string): Details {
    return this.timed((): Details => {
      try {
        return { stats: lstatSync(absolute, { bigint: true }) };
      } catch (error) {
        return { error };
      }
    });
  }

  /**
   * Runs a synchronous file system call and counts its time towards the decision; only while
   * `sync`. A call that reads a whole folder counts as a call per entry (`calls`).
   */
  timed<T>(call: () => T, calls: (result: T) => number = () => 1): T {
    const started = performance.now();
    let counted = 1;
    try {
      const result = call();
      counted = Math.max(1, calls(result));
      return result;
    } finally {
      this.#measure(performance.now() - started, counted);
    }
  }

  /** Whether the current slice of synchronous work is used up and the event loop is due a turn. */
  get due(): boolean {
    return performance.now() - this.#sliceStart >= sliceMs;
  }

  async pause(): Promise<void> {
    await yieldToLoop();
    this.#sliceStart = performance.now();
  }

  /** A call that read several entries counts as that many calls of its time's share each. */
  #measure(ms: number, calls: number): void {
    this.#spentMs += ms;
    this.#slowestMs = Math.max(this.#slowestMs, ms / calls);
    this.#calls += calls;
    if (this.#calls < window) return;
    if ((this.#spentMs - this.#slowestMs) / (this.#calls - 1) > this.slowMeanMs) this.#sync = false;
    this.#calls = 0;
    this.#spentMs = 0;
    this.#slowestMs = 0;
  }
}

/** An lstat through the thread pool, never rejecting. */
export function detailsLater(absolute: string): Promise<Details> {
  return lstat(absolute, { bigint: true }).then(
    (stats) => ({ stats }),
    (error: unknown) => ({ error }),
  );
}
