import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandin } from './index.js';
import type { Standin } from './index.js';
import { type Client, find, rawRequest, signUp } from './test-client.js';

let standin: Standin;
let users = 0;

beforeAll(async () => {
  standin = await startStandin({ policy: 's3', chunkSize: 4, uploadSessionTtlSeconds: 600 });
});
afterAll(() => standin.close());

/** A fresh user per test keeps the trees apart. */
const freshUser = (): Promise<Client> => signUp(standin, `s3${++users}@example.com`);

interface Credential {
  sessionID: string;
  uploadURLs: string[];
  uploadID: string;
  completeURL: string;
}

async function start(c: Client, name: string, size: number): Promise<Credential> {
  return (await c.api('PUT', '/file/upload', { path: '/', size, name, policy_id: await c.policyId() })).data as Credential;
}

async function putPart(url: string, body: string): Promise<Response> {
  return fetch(url, { method: 'PUT', body });
}

const completion = (parts: Array<[number, string]>): string =>
  `<CompleteMultipartUpload>${parts.map(([n, etag]) => `<Part><PartNumber>${n}</PartNumber><ETag>${etag}</ETag></Part>`).join('')}</CompleteMultipartUpload>`;

async function complete(credential: Credential, parts: Array<[number, string]>): Promise<{ status: number; text: string }> {
  const response = await fetch(credential.completeURL, { method: 'POST', body: completion(parts) });
  return { status: response.status, text: await response.text() };
}

async function callback(c: Client, sessionId: string): Promise<{ status: number; body: unknown }> {
  const answer = await c.raw('GET', `/api/v3/callback/s3/${sessionId}`);
  return { status: answer.status, body: answer.body };
}

describe('s3 policy', () => {
  it('uploads parts to pre-signed URLs, completes, and promotes on the callback', async () => {
    const c = await freshUser();
    const answer = await c.api('PUT', '/file/upload', { path: '/', size: 10, name: 's3.bin', policy_id: await c.policyId() });
    const credential = answer.data as Credential;
    expect(Object.keys(credential)).toEqual(['sessionID', 'chunkSize', 'expires', 'uploadURLs', 'uploadID', 'completeURL']);
    expect(credential.uploadURLs).toHaveLength(3);
    const etags: Array<[number, string]> = [];
    for (const [i, body] of ['abcd', 'efgh', 'ij'].entries()) {
      const response = await putPart(credential.uploadURLs[i] ?? '', body);
      expect(response.status).toBe(200);
      const etag = response.headers.get('etag') ?? '';
      expect(etag).toBe(`"${createHash('md5').update(body).digest('hex')}"`);
      etags.push([i + 1, etag]);
    }
    const done = await complete(credential, etags);
    expect(done.status).toBe(200);
    expect(done.text).toContain('<CompleteMultipartUploadResult>');
    expect(await callback(c, credential.sessionID)).toEqual({ status: 200, body: { code: 0, msg: '' } });
    const file = find(await c.list('/'), 's3.bin');
    expect(file?.size).toBe(10);
    expect((await c.download(file?.id ?? '')).text).toBe('abcdefghij');
    expect((await callback(c, credential.sessionID)).status).toBe(401);
  });

  it('checks part order and ETags in the completion, as S3 does', async () => {
    const c = await freshUser();
    const credential = await start(c, 'order.bin', 8);
    const first = (await putPart(credential.uploadURLs[0] ?? '', 'abcd')).headers.get('etag') ?? '';
    const second = (await putPart(credential.uploadURLs[1] ?? '', 'efgh')).headers.get('etag') ?? '';
    expect(await complete(credential, [[2, second], [1, first]])).toMatchObject({ status: 400, text: expect.stringContaining('InvalidPartOrder') as string });
    expect(await complete(credential, [[1, first], [2, first]])).toMatchObject({ status: 400, text: expect.stringContaining('InvalidPart') as string });
    expect(await complete(credential, [])).toMatchObject({ status: 400, text: expect.stringContaining('MalformedXML') as string });
    expect((await complete(credential, [[1, first], [2, second]])).status).toBe(200);
    expect(await callback(c, credential.sessionID)).toEqual({ status: 200, body: { code: 0, msg: '' } });
  });

  it('reports a size mismatch with 40055 on the callback', async () => {
    const c = await freshUser();
    const credential = await start(c, 'short.bin', 8);
    const first = (await putPart(credential.uploadURLs[0] ?? '', 'abcd')).headers.get('etag') ?? '';
    expect((await complete(credential, [[1, first]])).status).toBe(200);
    expect(await callback(c, credential.sessionID)).toEqual({ status: 200, body: { code: 40055, msg: '' } });
  });

  it('checks the signature, its expiry and the Content-Length of parts', async () => {
    const c = await freshUser();
    const credential = await start(c, 'sig.bin', 4);
    const url = credential.uploadURLs[0] ?? '';
    const tampered = await putPart(url.replace('partNumber=1', 'partNumber=2'), 'abcd');
    expect(tampered.status).toBe(403);
    expect(await tampered.text()).toContain('SignatureDoesNotMatch');
    const path = url.slice(standin.url.length);
    const noLength = await rawRequest(standin.url, path, { method: 'PUT', headers: { 'transfer-encoding': 'chunked' }, body: Buffer.from('abcd') });
    expect(noLength !== 'aborted' && noLength.status).toBe(411);
    standin.control.advanceClock(601_000);
    const expired = await putPart(url, 'abcd');
    expect(expired.status).toBe(403);
    expect(await expired.text()).toContain('AccessDenied');
  });

  it('aborts the multipart upload when the session is deleted', async () => {
    const c = await freshUser();
    const credential = await start(c, 'abort.bin', 4);
    await c.api('DELETE', `/file/upload/${credential.sessionID}`);
    const response = await putPart(credential.uploadURLs[0] ?? '', 'abcd');
    expect(response.status).toBe(404);
    expect(await response.text()).toContain('NoSuchUpload');
  });
});
