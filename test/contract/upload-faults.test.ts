import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudreveV3 } from '../../src/cloudreve/index.js';
import type { ByteSource } from '../../src/remote/types.js';
import { expectSameBytes, failure, gatedSource, hookedSource, payload, requestLog, routes, scratchDir, sourceOf } from './helpers.js';
import { onRealServer, openTarget, standinOf, type Target } from './target.js';

/* Faults injected by the stand-in: none of this can be provoked on a real server. */

const chunkSize = 64 * 1024;

let target: Target;
let client: CloudreveV3;
let log: ReturnType<typeof requestLog>;
let downloads: Awaited<ReturnType<typeof scratchDir>>;
beforeAll(async () => {
  target = await openTarget({ chunkSize });
  log = requestLog();
  client = target.client({ onRequest: log.onRequest, chunkRetries: 2 });
  downloads = await scratchDir();
});
afterAll(async () => {
  await downloads.remove();
  await target.close();
});

function control(): ReturnType<typeof standinOf>['control'] {
  return standinOf(target).control;
}

/** Runs an upload of `data` as `name`, then checks the content and that no session is left. */
async function uploadAndCheck(name: string, data: Buffer, source: ByteSource = sourceOf(data)): Promise<void> {
  log.events.length = 0;
  const sessions = { opened: [] as string[], closed: [] as string[] };
  await client.upload(target.root, name, source, {
    onSessionOpened: (id) => sessions.opened.push(id),
    onSessionClosed: (id) => sessions.closed.push(id),
  });
  const file = await client.stat(target.path(name), 'file');
  expect(file?.size).toBe(data.length);
  await client.download(file?.id ?? '', downloads.path(name));
  expectSameBytes(await downloads.read(name), data);
  expect(sessions.closed.sort()).toEqual(sessions.opened.sort());
  expect(control().openUploadSessions()).toEqual([]);
}

/** Fires `act` just before chunk `index` is sent for the first time. */
function beforeChunk(data: Buffer, index: number, act: () => void): ByteSource {
  return hookedSource(data, ({ start, opened }) => {
    if (start === index * chunkSize && opened === 0) act();
  });
}

describe.skipIf(onRealServer)('upload faults', () => {
  it('re-sends a later chunk whose connection dropped', async () => {
    const data = payload(chunkSize * 3);
    await uploadAndCheck('dropped later chunk.bin', data, beforeChunk(data, 1, () => control().dropNextChunk(1000)));
    expect(log.count(routes.createSession)).toBe(1);
    expect(log.count(routes.chunk)).toBe(4);
  });

  it('re-sends a later chunk after a server error code', async () => {
    const data = payload(chunkSize * 2 + 5);
    await uploadAndCheck('code later chunk.bin', data, beforeChunk(data, 2, () => control().failNext(routes.chunk, 1, 'code50001')));
    expect(log.count(routes.createSession)).toBe(1);
  });

  it('deletes the session and starts over when chunk 0 failed', async () => {
    const data = payload(chunkSize * 2);
    control().dropNextChunk(10);
    await uploadAndCheck('dropped chunk 0.bin', data);
    expect(log.count(routes.createSession)).toBe(2);
    expect(log.count(routes.deleteSession)).toBe(1);
  });

  it('deletes the session and starts over when the session expired', async () => {
    const data = payload(chunkSize * 3);
    await uploadAndCheck('expired session.bin', data, beforeChunk(data, 2, () => control().expireUploadSessions()));
    expect(log.count(routes.createSession)).toBe(2);
    expect(log.events.filter((event) => event.code === 40011)).toHaveLength(1);
  });

  it.each([
    ['one chunk', 100, 0],
    ['the last of three', chunkSize * 2 + 5, 2],
  ])('starts over when it went before %s was answered and the server completed the file with only its start stored', async (_what, size, last) => {
    const data = payload(size);
    await uploadAndCheck(`cut ${size}.bin`, data, beforeChunk(data, last, () => control().failNext(routes.chunk, 1, 'clientGone')));
    expect(log.count(routes.createSession)).toBe(2);
    // The short file, asked for its stored size, then deleted.
    expect(log.count('DELETE /api/v3/object')).toBe(1);
  });

  it('takes an upload whose last answer was lost as done once the server stores all of it', async () => {
    const data = payload(chunkSize + 5);
    await uploadAndCheck('lost last answer.bin', data, beforeChunk(data, 1, () => control().failNext(routes.chunk, 1, 'lostAnswer')));
    expect(log.count(routes.createSession)).toBe(1);
    expect(log.count(routes.download)).toBe(2);
  });

  it('logs in again when the server turned a large chunk away unread and closed the connection while it was being sent', async () => {
    const big = 1 << 20;
    control().setPolicy({ chunkSize: big });
    try {
      const data = payload(big * 2 + 5);
      const inner = sourceOf(data);
      let stalled = false;
      // The second chunk stalls after its first bytes, as on a slow uplink, past the moment the
      // server closes the connection.
      const source: ByteSource = {
        size: inner.size,
        mtimeMs: inner.mtimeMs,
        open: (start, end) => {
          if (start !== big || stalled) return inner.open(start, end);
          stalled = true;
          control().expireLoginSessions();
          return Readable.from(
            (async function* () {
              yield data.subarray(start, start + 65536);
              await sleep(800);
              yield data.subarray(start + 65536, end);
            })(),
          );
        },
      };
      await uploadAndCheck('turned away.bin', data, source);
      // Answered before its body was read, the chunk is sent again once logged in.
      const turned = log.events.findIndex((event) => event.code === 401);
      expect(log.events[turned]?.route).toBe(routes.chunk);
      expect(log.events.slice(turned + 1, turned + 3).map((event) => event.route)).toEqual([routes.login, routes.chunk]);
    } finally {
      control().setPolicy({ chunkSize });
    }
  });

  it('retries a session creation that met a proxy error', async () => {
    control().failNext(routes.createSession, 1, 'http502');
    await uploadAndCheck('creation 502.bin', payload(10));
    expect(log.count(routes.createSession)).toBe(2);
  });

  it('logs in again in the middle of an upload, keeping the upload session', async () => {
    const data = payload(chunkSize * 2);
    await uploadAndCheck('relogin.bin', data, beforeChunk(data, 1, () => control().expireLoginSessions()));
    expect(log.count(routes.login)).toBe(1);
    expect(log.count(routes.createSession)).toBe(1);
  });

  it('gives up after bounded retries and deletes every session it opened', async () => {
    const data = payload(chunkSize * 2);
    const sessions = { opened: [] as string[], closed: [] as string[] };
    control().failNext(routes.chunk, 100, 'http502');
    try {
      const error = await failure(
        client.upload(target.root, 'hopeless.bin', sourceOf(data), {
          onSessionOpened: (id) => sessions.opened.push(id),
          onSessionClosed: (id) => sessions.closed.push(id),
        }),
      );
      expect(error.kind).toBe('network');
    } finally {
      control().failNext(routes.chunk, 0, 'http502');
    }
    // chunkRetries = 2: the first session and two restarts.
    expect(sessions.opened).toHaveLength(3);
    expect(sessions.closed.sort()).toEqual(sessions.opened.sort());
    expect(control().openUploadSessions()).toEqual([]);
    expect(await client.stat(target.path('hopeless.bin'))).toBeUndefined();
  });

  it('deletes the session when the caller aborts', async () => {
    const data = payload(chunkSize * 3);
    const abort = new AbortController();
    const error = await failure(client.upload(target.root, 'aborted.bin', beforeChunk(data, 1, () => abort.abort()), { signal: abort.signal }));
    expect(error.kind).toBe('aborted');
    expect(control().openUploadSessions()).toEqual([]);
    await uploadAndCheck('aborted.bin', data);
  });

  it('cancels a session by ID so that the name it reserves is free again', async () => {
    const gated = gatedSource(payload(100));
    let sessionId = '';
    const stuck = client.upload(target.root, 'cancelled.bin', gated.source, { onSessionOpened: (id) => (sessionId = id) });
    await gated.opened;
    await client.cancelUpload(sessionId);
    await client.cancelUpload(sessionId);
    await uploadAndCheck('cancelled.bin', payload(100));
    // The stuck upload finds its session gone, starts over, and meets the finished file.
    gated.release();
    expect((await failure(stuck)).kind).toBe('exists');
  });
});
