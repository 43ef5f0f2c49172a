import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandin } from './index.js';
import type { Standin } from './index.js';
import { Client, find, rawRequest, type ListedObject, signUp } from './test-client.js';

let standin: Standin;
let users = 0;

beforeAll(async () => {
  standin = await startStandin({ downloadTtlSeconds: 60 });
});
afterAll(() => standin.close());

/** A fresh user per test keeps the trees apart. */
const freshUser = (): Promise<Client> => signUp(standin, `download${++users}@example.com`);

async function uploaded(c: Client, name: string, content: string): Promise<ListedObject> {
  await c.uploadLocal('/', name, Buffer.from(content));
  const file = find(await c.list('/'), name);
  if (file === undefined) throw new Error(`upload of ${name} failed`);
  return file;
}

async function anonymousGet(url: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(standin.url + url, { headers, redirect: 'manual' });
}

describe('download URLs', () => {
  it('are relative, signed, reusable and need no cookie', async () => {
    const c = await freshUser();
    const file = await uploaded(c, 'report 100%.txt', 'hello world');
    const url = (await c.api('PUT', `/file/download/${file.id}`)).data as string;
    expect(url).toMatch(/^\/api\/v3\/file\/download\/[0-9a-zA-Z]{16}\?sign=[\w-]+%3D%3A\d+$/);
    for (let i = 0; i < 2; i++) {
      const response = await anonymousGet(url);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-disposition')).toBe('attachment; filename="report%20100%25.txt"');
      expect(response.headers.get('accept-ranges')).toBe('bytes');
      expect(response.headers.get('content-length')).toBe('11');
      expect(response.headers.get('cache-control')).toBe('public, max-age=86400');
      expect(Date.parse(response.headers.get('last-modified') ?? '')).toBe(Math.floor(Date.parse(file.date) / 1000) * 1000);
      expect(await response.text()).toBe('hello world');
    }
  });

  it('serve byte ranges', async () => {
    const c = await freshUser();
    const file = await uploaded(c, 'range.bin', '0123456789');
    const url = (await c.api('PUT', `/file/download/${file.id}`)).data as string;
    const partial = await anonymousGet(url, { range: 'bytes=2-5' });
    expect(partial.status).toBe(206);
    expect(partial.headers.get('content-range')).toBe('bytes 2-5/10');
    expect(await partial.text()).toBe('2345');
    const suffix = await anonymousGet(url, { range: 'bytes=-3' });
    expect(await suffix.text()).toBe('789');
    const beyond = await anonymousGet(url, { range: 'bytes=10-' });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe('bytes */10');
    expect((await anonymousGet(url, { range: 'bytes=2-5', 'if-range': '"etag"' })).status).toBe(200);
    const notModified = await anonymousGet(url, { 'if-modified-since': new Date(Date.now() + 60_000).toUTCString() });
    expect(notModified.status).toBe(304);
  });

  it('check the signature: 403 without, 40071 when wrong, 40005 after expiry', async () => {
    const c = await freshUser();
    const file = await uploaded(c, 'sig.txt', 'x');
    const url = (await c.api('PUT', `/file/download/${file.id}`)).data as string;
    const bare = url.slice(0, url.indexOf('?'));
    expect(await (await anonymousGet(bare)).json()).toEqual({ code: 403, msg: 'expire timestamp is missing' });
    expect(await (await anonymousGet(`${bare}?sign=AAAA%3A0`)).json()).toEqual({ code: 40071, msg: 'invalid sign' });
    standin.control.advanceClock(61_000);
    expect(await (await anonymousGet(url)).json()).toEqual({ code: 40005, msg: 'signature expired' });
  });

  it('refuse folder ids and unknown files', async () => {
    const c = await freshUser();
    await c.api('PUT', '/directory', { path: '/folder' });
    const folder = find(await c.list('/'), 'folder', 'dir');
    expect(await c.api('PUT', `/file/download/${folder?.id}`)).toEqual({ code: 40001, msg: 'Failed to parse object ID' });
    const file = await uploaded(c, 'gone.txt', 'x');
    await c.api('DELETE', '/object', { items: [file.id] });
    expect(await c.api('PUT', `/file/download/${file.id}`)).toEqual({ code: 40016, msg: 'Object not exist' });
  });
});

describe('PUT /file/update/:id', () => {
  it('cuts off a download that the update shrank under it, as Go does a response short of its Content-Length', async () => {
    // Ended as if whole, it left the client waiting on a kept-alive connection for bytes that never came.
    const c = await freshUser();
    await c.uploadLocal('/', 'big.bin', Buffer.alloc(8 * 1024 * 1024, 'b'));
    const file = find(await c.list('/'), 'big.bin');
    const url = (await c.api('PUT', `/file/download/${file?.id}`)).data as string;
    const response = await anonymousGet(url);
    const reader = response.body?.getReader();
    await reader?.read();
    expect((await c.raw('PUT', `/api/v3/file/update/${file?.id}`, { body: 'small now' })).body).toEqual({ code: 0, msg: '' });
    const rest = async (): Promise<void> => {
      for (;;) if ((await reader?.read())?.done !== false) return;
    };
    const outcome = await Promise.race([rest().then(() => 'ended whole', () => 'cut off'), new Promise((resolve) => setTimeout(() => resolve('still waiting'), 5000))]);
    expect(outcome).toBe('cut off');
  });

  it('replaces the content in place: same id, date now, quota follows the size', async () => {
    const c = await freshUser();
    const file = await uploaded(c, 'edit.txt', 'short');
    standin.control.advanceClock(5000);
    expect((await c.raw('PUT', `/api/v3/file/update/${file.id}`, { body: 'a longer text' })).body).toEqual({ code: 0, msg: '' });
    const updated = find(await c.list('/'), 'edit.txt');
    expect(updated?.id).toBe(file.id);
    expect(updated?.size).toBe(13);
    expect(Date.parse(updated?.date ?? '')).toBeGreaterThan(Date.parse(file.date));
    expect((await c.api('GET', '/user/storage')).data).toMatchObject({ used: 13 });
    expect((await c.download(file.id)).text).toBe('a longer text');
  });

  it('needs a Content-Length and a known file', async () => {
    const c = await freshUser();
    const file = await uploaded(c, 'cl.txt', 'x');
    const chunked = await rawRequest(standin.url, `/api/v3/file/update/${file.id}`, {
      method: 'PUT',
      headers: { cookie: c.cookie ?? '', 'transfer-encoding': 'chunked' },
      body: Buffer.from('data'),
    });
    expect(chunked !== 'aborted' && JSON.parse(chunked.text)).toEqual({ code: 40001, msg: 'Invalid content-length value' });
    await c.api('DELETE', '/object', { items: [file.id] });
    expect((await c.raw('PUT', `/api/v3/file/update/${file.id}`, { body: 'x' })).body).toEqual({ code: 40044, msg: '' });
    expect((await c.raw('PUT', '/api/v3/file/update/nope', { body: 'x' })).body).toEqual({ code: 40001, msg: 'Failed to parse object ID' });
  });

  it('leaves what arrived under the old size and date when the client goes away mid-body, and empties a copy', async () => {
    const c = await freshUser();
    const file = await uploaded(c, 'abort.txt', 'precious');
    const cutOff = (id: string): Promise<unknown> =>
      rawRequest(standin.url, `/api/v3/file/update/${id}`, {
        method: 'PUT',
        headers: { cookie: c.cookie ?? '', 'content-length': '100' },
        body: Buffer.alloc(100, 'z'),
        abortAfter: 10,
      });
    expect(await cutOff(file.id)).toBe('aborted');
    // Written in place: the start of the new version is all there is, and the listing does not know.
    await expect.poll(async () => (await c.download(file.id)).text).toBe('zzzzzzzzzz');
    expect(find(await c.list('/'), 'abort.txt')).toMatchObject({ size: 8, date: file.date });
    // A file that shares its content with a copy gets a fork of its own, which a cut off emptied.
    await c.api('PUT', '/directory', { path: '/copies' });
    const shared = await uploaded(c, 'shared.txt', 'precious');
    await c.api('POST', '/object/copy', { src_dir: '/', src: { items: [shared.id] }, dst: '/copies' });
    expect(await cutOff(shared.id)).toBe('aborted');
    await expect.poll(async () => find(await c.list('/'), 'shared.txt')?.size).toBe(0);
    expect((await c.download(shared.id)).text).toBe('');
    expect((await c.download(find(await c.list('/copies'), 'shared.txt')?.id ?? '')).text).toBe('precious');
  });
});

describe('shares, source links and WebDAV accounts', () => {
  it('creates share links whose expiry needs a download limit', async () => {
    const c = await freshUser();
    const file = await uploaded(c, 'shared.txt', 'abc');
    const link = (await c.api('POST', '/share', { id: file.id, is_dir: false, password: '', downloads: -1, expire: 1, preview: true })).data as string;
    expect(link).toMatch(new RegExp(`^${standin.url}/s/\\w+$`));
    const key = link.slice(link.lastIndexOf('/') + 1);
    standin.control.advanceClock(10_000);
    const info = await new Client(standin.url).api('GET', `/share/info/${key}`);
    expect(info.data).toMatchObject({ key, locked: false, is_dir: false, expire: 0, source: { name: 'shared.txt', size: 3 } });
    const limited = (await c.api('POST', '/share', { id: file.id, downloads: 2, expire: 1, password: 'pw' })).data as string;
    const limitedKey = limited.slice(limited.lastIndexOf('/') + 1);
    const locked = await new Client(standin.url).api('GET', `/share/info/${limitedKey}`);
    expect(locked.data).toMatchObject({ locked: true, views: 0 });
    expect((locked.data as Record<string, unknown>).source).toBeUndefined();
    standin.control.advanceClock(2000);
    expect(await new Client(standin.url).api('GET', `/share/info/${limitedKey}`)).toEqual({ code: 40058, msg: '' });
    expect(await c.api('POST', '/share', { id: 'nope' })).toEqual({ code: 404, msg: '' });
  });

  it('makes source links that redirect to a signed URL', async () => {
    const c = await freshUser();
    const file = await uploaded(c, 'src file.txt', 'source!');
    const answer = await c.api('POST', '/file/source', { items: [file.id, 'garbage'] });
    const [item] = answer.data as Array<{ url: string; name: string; parent: number }>;
    expect(item?.url).toMatch(new RegExp(`^${standin.url}/f/\\w+/src%20file\\.txt$`));
    expect(item?.name).toBe('src file.txt');
    expect(typeof item?.parent).toBe('number');
    const redirect = await fetch(item?.url ?? '', { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    const location = redirect.headers.get('location') ?? '';
    expect(location).toMatch(/^\/api\/v3\/file\/get\/\d+\/src%20file\.txt\?sign=/);
    expect(await (await anonymousGet(location)).text()).toBe('source!');
    expect(await (await fetch(`${item?.url ?? ''}x`)).json()).toEqual({ code: 40044, msg: '' });
    expect(await c.api('POST', '/file/source', { items: ['garbage'] })).toEqual({ code: 40044, msg: '' });
  });

  it('lists and creates WebDAV accounts with Go field names', async () => {
    const c = await freshUser();
    const created = await c.api('POST', '/webdav/accounts', { path: '/', name: 'sync' });
    expect(Object.keys(created.data as object)).toEqual(['created_at', 'id', 'password']);
    expect((created.data as { password: string }).password).toMatch(/^[0-9a-zA-Z]{32}$/);
    await c.api('POST', '/webdav/accounts', { path: '/', name: 'second' });
    const listed = (await c.api('GET', '/webdav/accounts')).data as { accounts: Array<Record<string, unknown>> };
    expect(listed.accounts.map((a) => a.Name)).toEqual(['second', 'sync']);
    expect(Object.keys(listed.accounts[0] ?? {})).toEqual(['ID', 'CreatedAt', 'UpdatedAt', 'DeletedAt', 'Name', 'Password', 'UserID', 'Root', 'Readonly', 'UseProxy']);
  });
});
