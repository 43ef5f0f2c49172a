import PQueue from 'p-queue';
import type { Config } from '../config/load.js';

/**
 * The job queue every transfer and server write of a process goes through: `sync.concurrency`
 * at a time, and at most `sync.requestsPerSecond` started per second when that is set. One start
 * per 1/rate seconds keeps a rate below one (0.2: one every 5 s) and spaces the starts evenly.
 */
export function createJobQueue(sync: Config['sync']): PQueue {
  return new PQueue({
    concurrency: sync.concurrency,
    ...(sync.requestsPerSecond > 0 ? { intervalCap: 1, interval: 1000 / sync.requestsPerSecond } : {}),
  });
}
