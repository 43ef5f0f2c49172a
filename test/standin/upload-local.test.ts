import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandin } from './index.js';
import type { Standin } from './index.js';
import { type Client, find, rawRequest, signUp } from './test-client.js';

let standin: Standin;
let users = 0;

beforeAll(async () => {
  standin = await startStandin({ chunkSize: 4, uploadSessionTtlSeconds: 3600 });
});
afterAll(() => standin.close());

/** A fresh user per test keeps the trees apart. */
const freshUser = (): Promise<Client> => signUp(standin, `upload${++users}@example.com`);

interface Credential {
  sessionID: string;
  chunkSize: number;
  expires: number;
}

async function session(c: Client, body: Record<string, unknown>): Promise<Credential> {
  const answer = await c.api('PUT', '/file/upload', { path: '/', policy_id: await c.policyId(), ...body });
  if (answer.code !== 0) throw new Error(JSON.stringify(answer));
  return answer.data as Credential;
}

async function chunk(c: Client, id: string, index: number, content: string | Buffer): Promise<{ code: number; msg: string }> {
  return (await c.raw('POST', `/api/v3/file/upload/${id}/${index}`, { body: content })).body;
}

describe('PUT /file/upload', () => {
  it('answers a local credential: uuid v4 session id, chunk size, expiry in seconds', async () => {
    const c = await freshUser();
    const before = Math.floor(Date.now() / 1000);
    const answer = await c.api('PUT', '/file/upload', { path: '/', size: 10, name: 'a.bin', policy_id: await c.policyId() });
    const data = answer.data as Credential;
    expect(Object.keys(data)).toEqual(['sessionID', 'chunkSize', 'expires']);
    expect(data.sessionID).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(data.chunkSize).toBe(4);
    expect(data.expires).toBeGreaterThanOrEqual(before + 3600);
    expect(data.expires).toBeLessThan(before + 3700);
  });

  it('checks the policy id first: undecodable 40035, stale 40006', async () => {
    const c = await freshUser();
    const stale = await c.policyId();
    expect((await c.api('PUT', '/file/upload', { path: '/', size: 1, name: 'a', policy_id: 'garbage' })).code).toBe(40035);
    standin.control.setPolicy({ type: 's3' });
    standin.control.setPolicy({ type: 'local' });
    expect(await c.api('PUT', '/file/upload', { path: '/', size: 1, name: 'bad|name', policy_id: stale })).toEqual({
      code: 40006,
      msg: '存储策略发生变化，请刷新文件列表并重新添加此任务',
    });
    expect((await c.api('PUT', '/file/upload', { path: '/', size: 1, name: 'a', policy_id: await c.policyId() })).code).toBe(0);
  });

  it('then size, name, extension and quota, in that order', async () => {
    const c = await freshUser();
    const policy_id = await c.policyId();
    const attempt = async (body: Record<string, unknown>): Promise<number> => (await c.api('PUT', '/file/upload', { path: '/', policy_id, ...body })).code;
    standin.control.setPolicy({ maxSize: 10, fileTypes: ['txt'] });
    try {
      expect(await attempt({ size: 11, name: 'bad|name.md' })).toBe(40049);
      expect(await attempt({ size: 10, name: 'bad|name.md' })).toBe(40052);
      expect(await attempt({ size: 1, name: 'trailing.txt ' })).toBe(40052);
      expect(await attempt({ size: 1, name: 'notes.md' })).toBe(40050);
      expect(await attempt({ size: 1, name: 'README' })).toBe(40050);
      expect(await attempt({ size: 1, name: 'UPPER.TXT' })).toBe(0);
    } finally {
      standin.control.setPolicy({ maxSize: 0, fileTypes: [] });
    }
    standin.control.setQuota(5);
    try {
      expect(await c.api('PUT', '/file/upload', { path: '/', policy_id, size: 6, name: 'big.bin' })).toEqual({ code: 40051, msg: 'Insufficient capacity' });
    } finally {
      standin.control.setQuota(1024 ** 3);
    }
  });

  it("refuses a name the local storage's file name rule makes too long for its disk, as util.Exists takes ENAMETOOLONG for taken", async () => {
    const c = await freshUser();
    const policy_id = await c.policyId();
    const fits = `${'a'.repeat(240)}.txt`;
    const tooLong = `${'a'.repeat(250)}.txt`;
    expect((await c.api('PUT', '/file/upload', { path: '/', policy_id, size: 1, name: fits })).code).toBe(0);
    expect(await c.api('PUT', '/file/upload', { path: '/', policy_id, size: 1, name: tooLong })).toEqual({ code: -1, msg: 'placeholder file already exist' });
  });

  it('creates the parent folders, and reserves the name with a hidden placeholder', async () => {
    const c = await freshUser();
    await c.api('PUT', '/directory', { path: '/here/same.bin' });
    await session(c, { path: '/here', size: 3, name: 'same.bin' });
    await session(c, { path: '/new/deep', size: 3, name: 'x.bin' });
    expect((await c.list('/new')).map((o) => o.name)).toEqual(['deep']);
    expect(await c.list('/new/deep')).toEqual([]);
    const again = await c.api('PUT', '/file/upload', { path: '/new/deep', size: 3, name: 'x.bin', policy_id: await c.policyId() });
    expect(again).toEqual({ code: 40054, msg: 'Upload session existed' });
    expect(await c.api('PUT', '/directory', { path: '/new/deep/x.bin' })).toEqual({ code: 40004, msg: 'Object existed' });
    await c.api('POST', '/file/create', { path: '/new/done.txt' });
    expect((await c.api('PUT', '/file/upload', { path: '/new', size: 3, name: 'done.txt', policy_id: await c.policyId() })).code).toBe(40004);
    expect((await c.api('PUT', '/file/upload', { path: 'rel', size: 3, name: 'x', policy_id: await c.policyId() })).code).toBe(40053);
    expect(standin.control.openUploadSessions().filter((s) => s.user === `upload${users}@example.com`).map((s) => [s.path, s.name])).toEqual([
      ['/here', 'same.bin'],
      ['/new/deep', 'x.bin'],
    ]);
  });
});

describe('POST /file/upload/:sessionId/:index', () => {
  it('promotes the placeholder on the last chunk, dated last_modified, charging quota chunk by chunk', async () => {
    const c = await freshUser();
    const { sessionID } = await session(c, { size: 10, name: 'ten.bin', last_modified: 1_600_000_000_123 });
    expect(await chunk(c, sessionID, 0, 'abcd')).toEqual({ code: 0, msg: '' });
    expect((await c.api('GET', '/user/storage')).data).toMatchObject({ used: 4 });
    expect(await c.list('/')).toEqual([]);
    await chunk(c, sessionID, 1, 'efgh');
    await chunk(c, sessionID, 2, 'ij');
    const file = find(await c.list('/'), 'ten.bin');
    expect(file?.size).toBe(10);
    expect(file?.date).toMatch(/\.123(Z|[+-]\d{2}:\d{2})$/);
    expect(Date.parse(file?.date ?? '')).toBe(1_600_000_000_123);
    expect((await c.download(file?.id ?? '')).text).toBe('abcdefghij');
    expect(await chunk(c, sessionID, 3, '')).toEqual({ code: 40011, msg: '' });
  });

  it('dates an upload without last_modified at its completion, created at the session start', async () => {
    const c = await freshUser();
    const { sessionID } = await session(c, { size: 2, name: 'late.bin' });
    standin.control.advanceClock(60_000);
    await chunk(c, sessionID, 0, 'ab');
    const file = find(await c.list('/'), 'late.bin');
    expect(Date.parse(file?.date ?? '') - Date.parse(file?.create_date ?? '')).toBeGreaterThanOrEqual(60_000);
  });

  it('needs chunks in order, with the exact Content-Length', async () => {
    const c = await freshUser();
    const { sessionID } = await session(c, { size: 10, name: 'order.bin' });
    expect(await chunk(c, sessionID, 1, 'efgh')).toEqual({ code: 40012, msg: 'Chunk must be uploaded in order' });
    expect(await chunk(c, sessionID, 0, 'abc')).toEqual({ code: 40013, msg: 'Invalid Content-Length (expected: 4)' });
    const chunked = await rawRequest(standin.url, `/api/v3/file/upload/${sessionID}/0`, {
      method: 'POST',
      headers: { cookie: c.cookie ?? '', 'transfer-encoding': 'chunked' },
      body: Buffer.from('abcd'),
    });
    expect(chunked !== 'aborted' && JSON.parse(chunked.text)).toEqual({ code: 40013, msg: 'Invalid Content-Length (expected: 4)' });
    expect(await chunk(c, sessionID, 0, 'abcd')).toEqual({ code: 0, msg: '' });
    expect(await chunk(c, sessionID, 2, 'ij')).toEqual({ code: 40012, msg: 'Chunk must be uploaded in order' });
    expect(await chunk(c, sessionID, 1, 'efg')).toEqual({ code: 40013, msg: 'Invalid Content-Length (expected: 4)' });
    // A rejected chunk's body is drained before the answer, however large.
    expect(await chunk(c, sessionID, 5, Buffer.alloc(4 << 20))).toEqual({ code: 40012, msg: 'Chunk must be uploaded in order' });
  });

  it('overwrites from a re-sent later chunk, but refuses chunk 0 once its object exists', async () => {
    const c = await freshUser();
    const { sessionID } = await session(c, { size: 10, name: 'resend.bin' });
    await chunk(c, sessionID, 0, 'abcd');
    await chunk(c, sessionID, 1, 'efgh');
    expect(await chunk(c, sessionID, 0, 'ABCD')).toEqual({ code: 40002, msg: 'file with the same name existed or unavailable' });
    expect(await chunk(c, sessionID, 1, 'EFGH')).toEqual({ code: 0, msg: '' });
    expect((await c.api('GET', '/user/storage')).data).toMatchObject({ used: 8 });
    await chunk(c, sessionID, 2, 'ij');
    const file = find(await c.list('/'), 'resend.bin');
    expect((await c.download(file?.id ?? '')).text).toBe('abcdEFGHij');
  });

  it('refuses chunk 0 after an aborted chunk-0 request created the object', async () => {
    const c = await freshUser();
    const { sessionID } = await session(c, { size: 8, name: 'broken.bin' });
    const aborted = await rawRequest(standin.url, `/api/v3/file/upload/${sessionID}/0`, {
      method: 'POST',
      headers: { cookie: c.cookie ?? '', 'content-length': '4' },
      body: Buffer.from('ab'),
      abortAfter: 2,
    });
    expect(aborted).toBe('aborted');
    expect(await chunk(c, sessionID, 0, 'abcd')).toEqual({ code: 40002, msg: 'file with the same name existed or unavailable' });
    expect(await chunk(c, sessionID, 1, 'efgh')).toEqual({ code: 40012, msg: 'Chunk must be uploaded in order' });
  });

  it('cuts a chunk\'s file back to its start when the client goes before the answer, though the last one still completes the file', async () => {
    const c = await freshUser();
    const { sessionID } = await session(c, { size: 10, name: 'cut.bin' });
    await chunk(c, sessionID, 0, 'abcd');
    await chunk(c, sessionID, 1, 'efgh');
    standin.control.failNext('POST /api/v3/file/upload/:sessionId/:index', 1, 'clientGone');
    await expect(chunk(c, sessionID, 2, 'ij')).rejects.toThrow();
    const file = find(await c.list('/'), 'cut.bin');
    expect(file?.size).toBe(10);
    expect((await c.download(file?.id ?? '')).text).toBe('abcdefgh');
  });

  it('takes an empty file as one chunk 0 with Content-Length 0', async () => {
    const c = await freshUser();
    const { sessionID } = await session(c, { size: 0, name: 'empty.bin' });
    expect(await chunk(c, sessionID, 0, '')).toEqual({ code: 0, msg: '' });
    expect(find(await c.list('/'), 'empty.bin')?.size).toBe(0);
  });

  it('allows only chunk 0 when the policy chunk size is 0', async () => {
    const c = await freshUser();
    standin.control.setPolicy({ chunkSize: 0 });
    let id: string;
    try {
      id = (await session(c, { size: 6, name: 'whole.bin' })).sessionID;
    } finally {
      standin.control.setPolicy({ chunkSize: 4 });
    }
    expect(await chunk(c, id, 1, 'abcdef')).toEqual({ code: 40012, msg: 'Chunk index cannot be greater than 0' });
    expect(await chunk(c, id, 0, 'abcdef')).toEqual({ code: 0, msg: '' });
  });

  it('checks the quota chunk by chunk', async () => {
    const c = await freshUser();
    const { sessionID } = await session(c, { size: 8, name: 'quota.bin' });
    await chunk(c, sessionID, 0, 'abcd');
    standin.control.setQuota(6);
    try {
      expect(await chunk(c, sessionID, 1, 'efgh')).toEqual({ code: 40051, msg: 'Insufficient capacity' });
    } finally {
      standin.control.setQuota(1024 ** 3);
    }
  });

  it('belongs to the user who created the session', async () => {
    const owner = await freshUser();
    const other = await freshUser();
    const { sessionID } = await session(owner, { size: 4, name: 'mine.bin' });
    expect(await chunk(other, sessionID, 0, 'abcd')).toEqual({ code: 40011, msg: '' });
    expect(await chunk(owner, 'no-such-session', 0, 'abcd')).toEqual({ code: 40011, msg: '' });
    expect(await chunk(owner, sessionID, -1, 'abcd')).toEqual({ code: 40001, msg: 'Index too short' });
    expect(await chunk(owner, sessionID, 0, 'abcd')).toEqual({ code: 0, msg: '' });
  });
});

describe('cancelling and expiry', () => {
  it('keeps an expired session\'s name reserved until the session is deleted', async () => {
    const c = await freshUser();
    const first = await session(c, { size: 8, name: 'exp.bin' });
    await chunk(c, first.sessionID, 0, 'abcd');
    standin.control.expireUploadSessions();
    expect(await chunk(c, first.sessionID, 1, 'efgh')).toEqual({ code: 40011, msg: '' });
    expect((await c.api('PUT', '/file/upload', { path: '/', size: 8, name: 'exp.bin', policy_id: await c.policyId() })).code).toBe(40054);
    expect(await c.api('DELETE', `/file/upload/${first.sessionID}`)).toEqual({ code: 0, msg: '' });
    expect((await c.api('GET', '/user/storage')).data).toMatchObject({ used: 0 });
    expect(await c.api('DELETE', `/file/upload/${first.sessionID}`)).toEqual({ code: 40011, msg: '' });
    const second = await session(c, { size: 4, name: 'exp.bin' });
    expect(await chunk(c, second.sessionID, 0, 'abcd')).toEqual({ code: 0, msg: '' });
  });

  it('expires sessions after the TTL on the stand-in clock', async () => {
    const c = await freshUser();
    const { sessionID } = await session(c, { size: 4, name: 'ttl.bin' });
    standin.control.advanceClock(3_601_000);
    expect(await chunk(c, sessionID, 0, 'abcd')).toEqual({ code: 40011, msg: '' });
  });

  it('frees the name of an expired session once the recycling job has run (every 1 h 30 min)', async () => {
    const c = await freshUser();
    // The job runs now, as this session is asked for: its next run is 1 h 30 min away.
    standin.control.advanceClock(90 * 60_000);
    await session(c, { size: 4, name: 'cron.bin' });
    standin.control.advanceClock(3_601_000);
    // The session is gone, its placeholder not until the job's next run.
    expect((await c.api('PUT', '/file/upload', { path: '/', size: 4, name: 'cron.bin', policy_id: await c.policyId() })).code).toBe(40054);
    standin.control.advanceClock(30 * 60_000);
    const again = await session(c, { size: 4, name: 'cron.bin' });
    expect(await chunk(c, again.sessionID, 0, 'abcd')).toEqual({ code: 0, msg: '' });
  });

  it('deletes all of the user\'s sessions at once', async () => {
    const c = await freshUser();
    await session(c, { size: 4, name: 'one.bin' });
    await session(c, { path: '/sub', size: 4, name: 'two.bin' });
    expect(await c.api('DELETE', '/file/upload')).toEqual({ code: 0, msg: '' });
    expect((await c.api('PUT', '/file/upload', { path: '/sub', size: 4, name: 'two.bin', policy_id: await c.policyId() })).code).toBe(0);
  });

  it('deletes the file of an upload that completes while the cancel of all runs, as Cloudreve does', async () => {
    const c = await freshUser();
    const { sessionID } = await session(c, { size: 4, name: 'landing.bin' });
    standin.control.pauseCancelAll(300);
    try {
      const cancelling = c.api('DELETE', '/file/upload');
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await chunk(c, sessionID, 0, 'abcd')).toEqual({ code: 0, msg: '' });
      expect(find(await c.list('/'), 'landing.bin')).toBeDefined();
      expect(await cancelling).toEqual({ code: 0, msg: '' });
      expect(find(await c.list('/'), 'landing.bin')).toBeUndefined();
    } finally {
      standin.control.pauseCancelAll(0);
    }
  });
});
