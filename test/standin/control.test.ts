import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandin } from './index.js';
import type { Standin } from './index.js';
import { Client, find, rawRequest, signUp } from './test-client.js';

let standin: Standin;
let users = 0;

beforeAll(async () => {
  standin = await startStandin({ chunkSize: 4, controls: true });
});
afterAll(() => standin.close());

/** A fresh user per test keeps the trees apart. */
const freshUser = (): Promise<Client> => signUp(standin, `control${++users}@example.com`);

async function sessionId(c: Client, name: string, size: number): Promise<string> {
  const answer = await c.api('PUT', '/file/upload', { path: '/', size, name, policy_id: await c.policyId() });
  return (answer.data as { sessionID: string }).sessionID;
}

async function chunk(c: Client, id: string, index: number, body: string): Promise<unknown> {
  return (await c.raw('POST', `/api/v3/file/upload/${id}/${index}`, { body })).body;
}

async function control(op: string, ...args: unknown[]): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${standin.url}/__standin/control`, { method: 'POST', body: JSON.stringify({ op, args }) });
  return { status: response.status, json: await response.json() };
}

describe('faults', () => {
  it('fails the next requests of a route with each kind of fault, without running the handler; a new plan replaces the old', async () => {
    const c = await freshUser();
    standin.control.failNext('PUT /api/v3/directory', 2, 'http502');
    expect(await control('pendingFaults')).toEqual({ status: 200, json: { ok: true, result: 2 } });
    const bad = await c.raw('PUT', '/api/v3/directory', { body: JSON.stringify({ path: '/one' }) });
    expect(bad.status).toBe(502);
    expect(bad.text).toContain('502 Bad Gateway');
    standin.control.failNext('PUT /api/v3/directory', 1, 'code50001');
    expect(await c.api('PUT', '/directory', { path: '/two' })).toEqual({ code: 50001, msg: 'Database operation failed.' });
    standin.control.failNext('PUT /api/v3/directory', 1, 'reset');
    await expect(c.api('PUT', '/directory', { path: '/three' })).rejects.toThrow();
    standin.control.failNext('PUT /api/v3/directory', 5, 'reset');
    expect(standin.control.pendingFaults()).toBe(5);
    standin.control.failNext('PUT /api/v3/directory', 0, 'reset');
    expect(standin.control.pendingFaults()).toBe(0);
    expect(await c.api('PUT', '/directory', { path: '/four' })).toEqual({ code: 0, msg: '' });
    expect((await c.list('/')).map((o) => o.name)).toEqual(['four']);
  });

  it('accepts route keys with any parameter names and refuses unknown ones', () => {
    expect(() => standin.control.failNext('GET /api/v3/file/download/:sessionId', 0, 'reset')).not.toThrow();
    expect(() => standin.control.failNext('GET /api/v3/nope', 1, 'reset')).toThrow(/unknown route key/);
    expect(() => standin.control.failNext('PUT /api/v3/directory', 1, 'boom' as 'reset')).toThrow(/unknown fault/);
  });

  it('adds latency to every request', async () => {
    standin.control.setLatency(150);
    try {
      const started = performance.now();
      await fetch(`${standin.url}/api/v3/site/ping`);
      expect(performance.now() - started).toBeGreaterThanOrEqual(145);
    } finally {
      standin.control.setLatency(0);
    }
  });
});

describe('dropNextChunk', () => {
  it('cuts a chunk-0 request after its object exists, so re-sending chunk 0 fails', async () => {
    const c = await freshUser();
    const id = await sessionId(c, 'drop0.bin', 8);
    standin.control.dropNextChunk(2);
    await expect(c.raw('POST', `/api/v3/file/upload/${id}/0`, { body: 'abcd' })).rejects.toThrow();
    expect(await chunk(c, id, 0, 'abcd')).toEqual({ code: 40002, msg: 'file with the same name existed or unavailable' });
  });

  it('cuts a later chunk without advancing the upload, so it can be re-sent', async () => {
    const c = await freshUser();
    const id = await sessionId(c, 'drop1.bin', 8);
    expect(await chunk(c, id, 0, 'abcd')).toEqual({ code: 0, msg: '' });
    standin.control.dropNextChunk(0);
    expect(standin.control.pendingFaults()).toBe(1);
    await expect(c.raw('POST', `/api/v3/file/upload/${id}/1`, { body: 'efgh' })).rejects.toThrow();
    expect(standin.control.pendingFaults()).toBe(0);
    expect((await c.api('GET', '/user/storage')).data).toMatchObject({ used: 4 });
    expect(await chunk(c, id, 1, 'efgh')).toEqual({ code: 0, msg: '' });
    expect((await c.download(find(await c.list('/'), 'drop1.bin')?.id ?? '')).text).toBe('abcdefgh');
  });

  it('applies to the storage endpoints of other policies', async () => {
    const c = await freshUser();
    standin.control.setPolicy({ type: 's3' });
    try {
      const answer = await c.api('PUT', '/file/upload', { path: '/', size: 4, name: 's3.bin', policy_id: await c.policyId() });
      const { uploadURLs } = answer.data as { uploadURLs: string[] };
      const url = uploadURLs[0] ?? '';
      standin.control.dropNextChunk(1);
      await expect(fetch(url, { method: 'PUT', body: 'abcd' })).rejects.toThrow();
      expect((await fetch(url, { method: 'PUT', body: 'abcd' })).status).toBe(200);
    } finally {
      standin.control.setPolicy({ type: 'local' });
    }
  });
});

describe('request counts', () => {
  it('counts real requests per route key, not control calls or unknown routes', async () => {
    const c = await freshUser();
    standin.control.resetCounts();
    await c.api('GET', '/directory/');
    await c.api('GET', '/directory/nope');
    await c.raw('GET', '/api/v3/unknown');
    await control('setLatency', 0);
    standin.control.failNext('GET /api/v3/site/ping', 1, 'http502');
    await c.raw('GET', '/api/v3/site/ping');
    expect(standin.control.requestCounts()).toEqual({ 'GET /api/v3/directory/*path': 2, 'GET /api/v3/site/ping': 1 });
    standin.control.resetCounts();
    expect(standin.control.requestCounts()).toEqual({});
  });

  it('keeps, per route key, when the first request arrived and the last one ended', async () => {
    const c = await freshUser();
    standin.control.resetCounts();
    standin.control.setLatency(0);
    const before = performance.now();
    await c.api('GET', '/directory/');
    await c.api('PUT', '/directory', { path: '/windowed' });
    await c.api('GET', '/directory/windowed');
    const windows = standin.control.requestWindows();
    expect(Object.keys(windows).sort()).toEqual(['GET /api/v3/directory/*path', 'PUT /api/v3/directory']);
    const listing = windows['GET /api/v3/directory/*path'];
    const mkdir = windows['PUT /api/v3/directory'];
    // The stand-in runs in this process, so its clock is this one.
    expect(listing?.firstStartMs).toBeGreaterThanOrEqual(before);
    expect(listing?.firstStartMs).toBeLessThan(mkdir?.firstStartMs ?? 0);
    expect(mkdir?.lastEndMs).toBeLessThan(listing?.lastEndMs ?? 0);
    expect(listing?.lastEndMs).toBeLessThanOrEqual(performance.now());
    standin.control.resetCounts();
    expect(standin.control.requestWindows()).toEqual({});
  });
});

describe('HTTP control routes', () => {
  it('run the control operations for another process', async () => {
    const c = await freshUser();
    expect(await control('failNext', 'GET /api/v3/user/me', 1, 'code50001')).toEqual({ status: 200, json: { ok: true, result: null } });
    expect(await c.api('GET', '/user/me')).toEqual({ code: 50001, msg: 'Database operation failed.' });
    await sessionId(c, 'open.bin', 4);
    const open = await control('openUploadSessions');
    expect((open.json as { result: Array<{ name: string }> }).result.map((s) => s.name)).toContain('open.bin');
    const added = await control('addUser', 'http@example.com', 'password', { group: 1 });
    expect(added.json).toEqual({ ok: true, result: { email: 'http@example.com', password: 'password' } });
    expect(await control('nope')).toMatchObject({ status: 400, json: { ok: false } });
    expect(await control('setQuota', 'lots')).toMatchObject({ status: 400, json: { ok: false, error: 'bytes expects a number' } });
  });

  it('are an ordinary 404 when controls are off', async () => {
    const plain = await startStandin();
    try {
      const response = await fetch(`${plain.url}/__standin/control`, { method: 'POST', body: '{"op":"resetCounts"}' });
      expect(response.status).toBe(404);
      expect(await response.text()).toBe('404 page not found');
    } finally {
      await plain.close();
    }
  });
});

describe('streaming', () => {
  it('takes a large upload and download without holding them in memory', async () => {
    const big = await startStandin({ chunkSize: 8 << 20 });
    try {
      const admin = new Client(big.url);
      await admin.login(big.admin.email, big.admin.password);
      const content = Buffer.alloc(20 << 20, 'x');
      const answers = await admin.uploadLocal('/', 'big.bin', content);
      expect(answers.every((a) => a.code === 0)).toBe(true);
      const file = find(await admin.list('/'), 'big.bin');
      const url = (await admin.api('PUT', `/file/download/${file?.id}`)).data as string;
      const response = await rawRequest(big.url, url, { method: 'GET' });
      expect(response !== 'aborted' && response.text.length).toBe(20 << 20);
    } finally {
      await big.close();
    }
  });
});
