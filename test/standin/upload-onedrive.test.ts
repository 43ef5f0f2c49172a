import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandin } from './index.js';
import type { Standin } from './index.js';
import { type Client, find, signUp } from './test-client.js';

let standin: Standin;
let users = 0;

beforeAll(async () => {
  standin = await startStandin({ policy: 'onedrive', chunkSize: 4 });
});
afterAll(() => standin.close());

/** A fresh user per test keeps the trees apart. */
const freshUser = (): Promise<Client> => signUp(standin, `onedrive${++users}@example.com`);

interface Credential {
  sessionID: string;
  uploadURLs: string[];
}

async function start(c: Client, name: string, size: number): Promise<Credential> {
  return (await c.api('PUT', '/file/upload', { path: '/', size, name, policy_id: await c.policyId() })).data as Credential;
}

async function fragment(url: string, body: string, range: string | null): Promise<{ status: number; json: unknown }> {
  const response = await fetch(url, { method: 'PUT', body, headers: range === null ? {} : { 'content-range': range } });
  return { status: response.status, json: await response.json() };
}

async function finish(c: Client, sessionId: string): Promise<{ status: number; body: unknown }> {
  const answer = await c.raw('POST', `/api/v3/callback/onedrive/finish/${sessionId}`, { body: '{}' });
  return { status: answer.status, body: answer.body };
}

describe('onedrive policy', () => {
  it('uploads through a Graph upload session, then the finish callback promotes the file once', async () => {
    const c = await freshUser();
    const answer = await c.api('PUT', '/file/upload', { path: '/', size: 6, name: 'od.bin', policy_id: await c.policyId() });
    const credential = answer.data as Credential;
    expect(Object.keys(credential)).toEqual(['sessionID', 'chunkSize', 'expires', 'uploadURLs']);
    const [url = ''] = credential.uploadURLs;
    expect(url.startsWith(`${standin.url}/__storage/onedrive/upload/`)).toBe(true);
    const first = await fragment(url, 'abcd', 'bytes 0-3/6');
    expect(first.status).toBe(202);
    expect(first.json).toMatchObject({ nextExpectedRanges: ['4-'] });
    expect(await (await fetch(url)).json()).toMatchObject({ nextExpectedRanges: ['4-'] });
    const last = await fragment(url, 'ef', 'bytes 4-5/6');
    expect(last.status).toBe(201);
    expect(last.json).toMatchObject({ name: 'od.bin', size: 6 });
    expect((await c.api('GET', '/user/storage')).data).toMatchObject({ used: 0 });
    expect(await finish(c, credential.sessionID)).toEqual({ status: 200, body: { code: 0, msg: '' } });
    const file = find(await c.list('/'), 'od.bin');
    expect(file?.size).toBe(6);
    expect((await c.api('GET', '/user/storage')).data).toMatchObject({ used: 6 });
    const again = await finish(c, credential.sessionID);
    expect(again.status).toBe(401);
    expect(again.body).toMatchObject({ code: 40011 });
    const url2 = (await c.api('PUT', `/file/download/${file?.id}`)).data as string;
    expect(await (await fetch(url2)).text()).toBe('abcdef');
  });

  it('validates Content-Range like Graph', async () => {
    const c = await freshUser();
    const [url = ''] = (await start(c, 'range.bin', 8)).uploadURLs;
    expect((await fragment(url, 'abcd', null)).status).toBe(400);
    expect((await fragment(url, 'abcd', 'bytes 4-7/8')).status).toBe(416);
    expect((await fragment(url, 'abc', 'bytes 0-3/8')).status).toBe(400);
    expect((await fragment(url, 'abcd', 'bytes 0-3/8')).status).toBe(202);
    expect(await fragment(url, 'abcd', 'bytes 0-3/8')).toMatchObject({ status: 416, json: { error: { code: 'invalidRange' } } });
    expect((await fragment(url, 'efgh', 'bytes 4-7/9')).status).toBe(400);
  });

  it('consumes the session even when the size does not match (40055), leaving the name reserved', async () => {
    const c = await freshUser();
    const credential = await start(c, 'short.bin', 8);
    const [url = ''] = credential.uploadURLs;
    expect((await fragment(url, 'abcdef', 'bytes 0-5/6')).status).toBe(201);
    expect(await finish(c, credential.sessionID)).toEqual({ status: 200, body: { code: 40055, msg: '' } });
    expect((await finish(c, credential.sessionID)).status).toBe(401);
    expect(standin.control.openUploadSessions().some((s) => s.sessionId === credential.sessionID)).toBe(true);
    expect((await c.api('PUT', '/file/upload', { path: '/', size: 8, name: 'short.bin', policy_id: await c.policyId() })).code).toBe(40054);
  });

  it('answers 50011 when the object was never completed', async () => {
    const c = await freshUser();
    const credential = await start(c, 'never.bin', 8);
    expect(await finish(c, credential.sessionID)).toEqual({ status: 200, body: { code: 50011, msg: '' } });
  });

  it('drops the Graph session when the upload session is deleted', async () => {
    const c = await freshUser();
    const credential = await start(c, 'cancel.bin', 8);
    await c.api('DELETE', `/file/upload/${credential.sessionID}`);
    expect((await fragment(credential.uploadURLs[0] ?? '', 'abcd', 'bytes 0-3/8')).status).toBe(404);
  });
});
