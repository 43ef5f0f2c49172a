import { setTimeout as sleep } from 'node:timers/promises';
import { RemoteError } from '../remote/errors.js';
import { abortedError } from './failures.js';

const baseDelayMs = 250;
const maxDelayMs = 8_000;

/** Exponential backoff with ±25 % jitter, so that many clients do not retry in lockstep. */
export function backoffMs(attempt: number): number {
  const nominal = Math.min(maxDelayMs, baseDelayMs * 2 ** attempt);
  return Math.round(nominal * (0.75 + Math.random() * 0.5));
}

/** Waits before retry number `attempt` (0-based); rejects with kind `aborted` when `signal` fires. */
export async function pause(attempt: number, signal?: AbortSignal): Promise<void> {
  try {
    await sleep(backoffMs(attempt), undefined, signal === undefined ? {} : { signal });
  } catch (error) {
    if (signal?.aborted === true) throw abortedError();
    throw error;
  }
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted === true) throw abortedError();
}

/** Whether `error` is a RemoteError that the same request might not hit again. */
export function isRetryable(error: unknown): error is RemoteError {
  return error instanceof RemoteError && error.retryable;
}
