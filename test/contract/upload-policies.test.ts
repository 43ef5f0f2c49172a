import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudreveV3 } from '../../src/cloudreve/index.js';
import { expectSameBytes, hookedSource, payload, requestLog, routes, scratchDir, sourceOf } from './helpers.js';
import { onRealServer, openTarget, standinOf, type Target } from './target.js';
import type { PolicyType } from '../standin/index.js';

/*
 * The storage policies whose bytes do not go to the Cloudreve server itself. A real server has
 * one policy, exercised by upload.test.ts; here the stand-in plays each of them.
 */

const chunkSize = 64 * 1024;

interface PolicyCase {
  /** The client's route label of a chunk request. */
  readonly chunkRoute: string;
  /** The stand-in's route key of the same request, for fault injection. */
  readonly standinRoute: string;
  /** Whether a failed chunk 0 is sent again in the same session (else the session starts over). */
  readonly chunkZeroResendable: boolean;
}

const cases: Record<Exclude<PolicyType, 'local'>, PolicyCase> = {
  remote: { chunkRoute: 'POST /api/v3/slave/upload/:sessionId', standinRoute: 'POST /api/v3/slave/upload/:sessionId', chunkZeroResendable: false },
  onedrive: { chunkRoute: 'PUT <onedrive upload session>', standinRoute: 'PUT /__storage/onedrive/upload/:token', chunkZeroResendable: true },
  s3: { chunkRoute: 'PUT <s3 part>', standinRoute: 'PUT /__storage/s3/*key', chunkZeroResendable: true },
};

describe.skipIf(onRealServer).each(Object.entries(cases))('the %s policy', (policy, { chunkRoute, standinRoute, chunkZeroResendable }) => {
  let target: Target;
  let client: CloudreveV3;
  let log: ReturnType<typeof requestLog>;
  let downloads: Awaited<ReturnType<typeof scratchDir>>;
  beforeAll(async () => {
    target = await openTarget({ policy: policy as PolicyType, chunkSize });
    log = requestLog();
    client = target.client({ onRequest: log.onRequest });
    downloads = await scratchDir();
  });
  afterAll(async () => {
    await downloads.remove();
    await target.close();
  });

  it('uploads a file over several chunks', async () => {
    const data = payload(chunkSize * 2 + 7);
    log.events.length = 0;
    await client.upload(target.root, 'three chunks.bin', sourceOf(data));
    expect(log.count(chunkRoute)).toBe(3);
    expect(log.count(routes.chunk)).toBe(0);
    const file = await client.stat(target.path('three chunks.bin'), 'file');
    expect(file?.size).toBe(data.length);
    await client.download(file?.id ?? '', downloads.path('three.bin'));
    expectSameBytes(await downloads.read('three.bin'), data);
    expect(standinOf(target).control.openUploadSessions()).toEqual([]);
  });

  it(`recovers from a dropped chunk 0 ${chunkZeroResendable ? 'in the same session' : 'with a new session'}`, async () => {
    const data = payload(chunkSize * 2);
    log.events.length = 0;
    standinOf(target).control.dropNextChunk(10);
    await client.upload(target.root, 'dropped first.bin', sourceOf(data));
    expect(log.count(routes.createSession)).toBe(chunkZeroResendable ? 1 : 2);
    await client.download((await client.stat(target.path('dropped first.bin'), 'file'))?.id ?? '', downloads.path('first.bin'));
    expectSameBytes(await downloads.read('first.bin'), data);
    expect(standinOf(target).control.openUploadSessions()).toEqual([]);
  });

  it('re-sends a later chunk that met a storage error', async () => {
    const data = payload(chunkSize * 2);
    log.events.length = 0;
    const source = hookedSource(data, ({ start, opened }) => {
      if (start === chunkSize && opened === 0) standinOf(target).control.failNext(standinRoute, 1, 'http502');
    });
    await client.upload(target.root, 'failed second.bin', source);
    expect(log.count(routes.createSession)).toBe(1);
    expect(log.count(chunkRoute)).toBe(3);
    expect((await client.stat(target.path('failed second.bin'), 'file'))?.size).toBe(data.length);
  });

  it('uploads an empty file', async () => {
    log.events.length = 0;
    await client.upload(target.root, 'empty.txt', sourceOf(Buffer.alloc(0)));
    expect(await client.stat(target.path('empty.txt'))).toMatchObject({ kind: 'file', size: 0 });
    // Graph refuses empty upload sessions: the file is created directly.
    if (policy === 'onedrive') expect(log.count(routes.createFile)).toBe(1);
    expect(standinOf(target).control.openUploadSessions()).toEqual([]);
  });
});
