import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { expect } from 'vitest';
import type { RequestEvent, SessionStore } from '../../src/cloudreve/index.js';
import { createLogger, type Logger } from '../../src/log/logger.js';
import { RemoteError } from '../../src/remote/errors.js';
import { bufferSource } from '../../src/remote/sources.js';
import type { ByteSource } from '../../src/remote/types.js';

/** A trace-level logger whose output is kept in a string, to check what reaches the logs. */
export function capturedLogger(): { logger: Logger; text: () => string } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  return { logger: createLogger({ level: 'trace', destination, pretty: false }), text: () => chunks.join('') };
}

/** Collects the client's request events, e.g. to count logins. */
export function requestLog(): { onRequest: (event: RequestEvent) => void; events: RequestEvent[]; count: (route: string) => number } {
  const events: RequestEvent[] = [];
  return {
    onRequest: (event) => events.push(event),
    events,
    count: (route) => events.filter((event) => event.route === route).length,
  };
}

export const routes = {
  login: 'POST /api/v3/user/session',
  twoFactor: 'POST /api/v3/user/2fa',
  siteConfig: 'GET /api/v3/site/config',
  createSession: 'PUT /api/v3/file/upload',
  chunk: 'POST /api/v3/file/upload/:sessionId/:index',
  deleteSession: 'DELETE /api/v3/file/upload/:sessionId',
  createFile: 'POST /api/v3/file/create',
  downloadUrl: 'PUT /api/v3/file/download/:id',
  download: 'GET /api/v3/file/download/:sessionId',
  list: 'GET /api/v3/directory/*path',
} as const;

/** The RemoteError that `promise` rejects with. */
export async function failure(promise: Promise<unknown>): Promise<RemoteError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(RemoteError);
  return error as RemoteError;
}

/**
 * Asserts that two byte strings are equal. Deep equality walks megabytes element by element, which
 * takes seconds; this compares natively and reports where they part.
 */
export function expectSameBytes(actual: Buffer, expected: Buffer): void {
  if (actual.equals(expected)) return;
  let offset = 0;
  while (offset < Math.min(actual.length, expected.length) && actual[offset] === expected[offset]) offset++;
  expect.fail(`${actual.length} bytes differ from the expected ${expected.length} bytes from offset ${offset} on`);
}

/** Random bytes: content mix-ups between chunks cannot go unnoticed. */
export function payload(size: number): Buffer {
  return randomBytes(size);
}

export const fixedMtime = Date.UTC(2024, 2, 1, 12, 34, 56, 789);

export function sourceOf(data: Buffer, mtimeMs = fixedMtime): ByteSource {
  return bufferSource(data, mtimeMs);
}

/**
 * A source that lets a test act when a byte range is opened, i.e. just before a chunk is sent:
 * the hook sees the range and how many times it was opened before.
 */
export function hookedSource(data: Buffer, hook: (range: { start: number; end: number; opened: number }) => void): ByteSource {
  const inner = sourceOf(data);
  const opened = new Map<number, number>();
  return {
    size: inner.size,
    mtimeMs: inner.mtimeMs,
    open: (start, end) => {
      const count = opened.get(start) ?? 0;
      opened.set(start, count + 1);
      hook({ start, end, opened: count });
      return inner.open(start, end);
    },
  };
}

/** A source whose bytes flow only once `release()` is called: keeps an upload session open. */
export function gatedSource(data: Buffer): { source: ByteSource; release: () => void; opened: Promise<void> } {
  let release!: () => void;
  let markOpened!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const opened = new Promise<void>((resolve) => (markOpened = resolve));
  const source: ByteSource = {
    size: data.length,
    mtimeMs: fixedMtime,
    open: (start, end) => {
      markOpened();
      return Readable.from(
        (async function* () {
          await gate;
          yield data.subarray(start, end);
        })(),
      );
    },
  };
  return { source, release, opened };
}

/** A session store in memory, as the state DB would keep it. */
export function memoryStore(): SessionStore & { value: string | undefined } {
  const store = {
    value: undefined as string | undefined,
    load: () => store.value,
    save: (serialized: string | undefined) => {
      store.value = serialized;
    },
  };
  return store;
}

/** A temp folder for downloads, removed by `remove()`. */
export async function scratchDir(): Promise<{ path: (name: string) => string; read: (name: string) => Promise<Buffer>; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'cloudreve-contract-'));
  return {
    path: (name) => join(dir, name),
    read: (name) => readFile(join(dir, name)),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
