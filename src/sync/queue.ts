import PQueue from 'p-queue';
import type { Config } from '../config/load.js';

/**
 * The job queue every transfer and server write of a process goes through: `sync.concurrency`
 * at a time, and at most `sync.requestsPerSecond` started per second when that is set.
 */
export function createJobQueue(sync: Config['sync']): PQueue {
  return new PQueue({
    concurrency: sync.concurrency,
    ...(sync.requestsPerSecond > 0 ? { intervalCap: Math.max(1, Math.round(sync.requestsPerSecond)), interval: 1000 } : {}),
  });
}
