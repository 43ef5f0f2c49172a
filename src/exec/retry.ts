import { setTimeout as sleep } from 'node:timers/promises';
import { isRemoteError } from '../remote/errors.js';

export interface RetryOptions {
  /** Further attempts after the first. */
  readonly retries: number;
  /** Delay before the first retry; it doubles each time. */
  readonly baseDelayMs: number;
  readonly signal?: AbortSignal;
  readonly onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

/** Exponential backoff with ±25 % jitter, capped at 30 s; `random` is in [0, 1). */
export function retryDelayMs(attempt: number, baseDelayMs: number, random: number): number {
  const exponential = Math.min(baseDelayMs * 2 ** (attempt - 1), 30_000);
  return Math.round(exponential * (0.75 + random / 2));
}

/** Runs `task`, retrying it while it fails with a transient server or network error. */
export async function withRetries<T>(task: () => Promise<T>, options: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await task();
    } catch (error) {
      if (attempt > options.retries || !isRemoteError(error) || !error.retryable) throw error;
      const delay = retryDelayMs(attempt, options.baseDelayMs, Math.random());
      options.onRetry?.(error, attempt, delay);
      await sleep(delay, undefined, options.signal ? { signal: options.signal } : undefined);
    }
  }
}
