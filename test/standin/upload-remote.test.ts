import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandin } from './index.js';
import type { Standin } from './index.js';
import { type Client, find, signUp } from './test-client.js';

let standin: Standin;
let users = 0;

beforeAll(async () => {
  standin = await startStandin({ policy: 'remote', chunkSize: 4 });
});
afterAll(() => standin.close());

/** A fresh user per test keeps the trees apart. */
const freshUser = (): Promise<Client> => signUp(standin, `remote${++users}@example.com`);

interface Credential {
  sessionID: string;
  uploadURLs: string[];
  credential: string;
}

async function start(c: Client, name: string, size: number, extra: Record<string, unknown> = {}): Promise<Credential> {
  const answer = await c.api('PUT', '/file/upload', { path: '/', size, name, policy_id: await c.policyId(), ...extra });
  return answer.data as Credential;
}

async function slaveChunk(credential: Credential, index: number, body: string, headers: Record<string, string> = {}): Promise<unknown> {
  const response = await fetch(`${credential.uploadURLs[0]}?chunk=${index}`, {
    method: 'POST',
    headers: { authorization: credential.credential, ...headers },
    body,
  });
  return response.json();
}

describe('remote (slave) policy', () => {
  it('hands out a slave URL and a signed credential, charging the quota at once', async () => {
    const c = await freshUser();
    const answer = await c.api('PUT', '/file/upload', { path: '/', size: 10, name: 'r.bin', policy_id: await c.policyId() });
    const data = answer.data as Credential;
    expect(Object.keys(data)).toEqual(['sessionID', 'chunkSize', 'expires', 'uploadURLs', 'credential']);
    expect(data.uploadURLs).toEqual([`${standin.url}/api/v3/slave/upload/${data.sessionID}`]);
    expect(data.credential).toMatch(/^Bearer [\w-]+=*:\d+$/);
    expect((await c.api('GET', '/user/storage')).data).toMatchObject({ used: 10 });
    expect(await c.list('/')).toEqual([]);
  });

  it('takes chunks with the Authorization header and promotes after the last one', async () => {
    const c = await freshUser();
    const credential = await start(c, 'up.bin', 10, { last_modified: 1_500_000_000_000 });
    for (const [index, body] of ['abcd', 'efgh', 'ij'].entries()) {
      expect(await slaveChunk(credential, index, body)).toEqual({ code: 0, msg: '' });
    }
    const file = find(await c.list('/'), 'up.bin');
    expect(file?.size).toBe(10);
    expect(Date.parse(file?.date ?? '')).toBe(1_500_000_000_000);
    const url = (await c.api('PUT', `/file/download/${file?.id}`)).data as string;
    expect(url.startsWith(`${standin.url}/__storage/download/`)).toBe(true);
    expect(await (await fetch(url)).text()).toBe('abcdefghij');
  });

  it('cuts the last chunk\'s bytes when the client goes before the answer, completing the file all the same', async () => {
    const c = await freshUser();
    const credential = await start(c, 'cut.bin', 10);
    await slaveChunk(credential, 0, 'abcd');
    await slaveChunk(credential, 1, 'efgh');
    standin.control.failNext('POST /api/v3/slave/upload/:sessionId', 1, 'clientGone');
    await expect(slaveChunk(credential, 2, 'ij')).rejects.toThrow();
    const file = find(await c.list('/'), 'cut.bin');
    expect(file?.size).toBe(10);
    const url = (await c.api('PUT', `/file/download/${file?.id}`)).data as string;
    expect(await (await fetch(url)).text()).toBe('abcdefgh');
  });

  it('keeps the session-creation time as date without last_modified', async () => {
    const c = await freshUser();
    const credential = await start(c, 'dated.bin', 2);
    standin.control.advanceClock(60_000);
    await slaveChunk(credential, 0, 'ab');
    const file = find(await c.list('/'), 'dated.bin');
    expect(file?.date).toBe(file?.create_date);
  });

  it('checks the signature, which also covers X-Cr-* headers', async () => {
    const c = await freshUser();
    const credential = await start(c, 'sig.bin', 4);
    const missing = await fetch(`${credential.uploadURLs[0]}?chunk=0`, { method: 'POST', body: 'abcd' });
    expect(await missing.json()).toEqual({ code: 403, msg: 'authorization header is missing' });
    expect(await slaveChunk({ ...credential, credential: 'Bearer abc:0' }, 0, 'abcd')).toEqual({ code: 40071, msg: 'invalid sign' });
    expect(await slaveChunk(credential, 0, 'abcd', { 'x-cr-overwrite': 'true' })).toEqual({ code: 40071, msg: 'invalid sign' });
    expect(await slaveChunk(credential, 0, 'abc')).toEqual({ code: 40013, msg: 'Invalid Content-Length (expected: 4)' });
    expect(await slaveChunk(credential, 0, 'abcd')).toEqual({ code: 0, msg: '' });
  });

  it('refuses a gap and a second chunk 0 in its writer', async () => {
    const c = await freshUser();
    const credential = await start(c, 'gap.bin', 12);
    expect(await slaveChunk(credential, 0, 'abcd')).toEqual({ code: 0, msg: '' });
    expect(await slaveChunk(credential, 2, 'ijkl')).toEqual({ code: 40002, msg: 'size of unfinished uploaded chunks is not as expected' });
    expect(await slaveChunk(credential, 0, 'abcd')).toEqual({ code: 40002, msg: 'file with the same name existed or unavailable' });
    expect(await slaveChunk(credential, 1, 'efgh')).toEqual({ code: 0, msg: '' });
    expect(await slaveChunk(credential, 2, 'ijkl')).toEqual({ code: 0, msg: '' });
    expect(find(await c.list('/'), 'gap.bin')?.size).toBe(12);
  });

  it('answers 40011 once the session is gone, and gives the quota back on delete', async () => {
    const c = await freshUser();
    const credential = await start(c, 'gone.bin', 4);
    expect(await c.api('DELETE', `/file/upload/${credential.sessionID}`)).toEqual({ code: 0, msg: '' });
    expect((await c.api('GET', '/user/storage')).data).toMatchObject({ used: 0 });
    expect(await slaveChunk(credential, 0, 'abcd')).toEqual({ code: 40011, msg: '' });
  });
});
