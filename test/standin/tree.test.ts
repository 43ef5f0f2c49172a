import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandin } from './index.js';
import type { Standin } from './index.js';
import { type Client, find, signUp } from './test-client.js';

let standin: Standin;
let users = 0;

beforeAll(async () => {
  standin = await startStandin({ chunkSize: 1024 });
});
afterAll(() => standin.close());

/** A fresh user per test keeps the trees apart. */
const freshUser = (): Promise<Client> => signUp(standin, `tree${++users}@example.com`);

describe('listing', () => {
  it('returns the listed folder as parent, folders first, creation order, the listed path', async () => {
    const c = await freshUser();
    await c.api('PUT', '/directory', { path: '/docs/zeta' });
    await c.api('POST', '/file/create', { path: '/docs/b.txt' });
    await c.api('PUT', '/directory', { path: '/docs/alpha' });
    await c.api('POST', '/file/create', { path: '/docs/a.txt' });
    const answer = await c.api('GET', '/directory/docs');
    const data = answer.data as { parent: string; objects: Array<Record<string, unknown>>; policy: Record<string, unknown> };
    expect(data.objects.map((o) => [o.type, o.name])).toEqual([['dir', 'zeta'], ['dir', 'alpha'], ['file', 'b.txt'], ['file', 'a.txt']]);
    expect(data.objects.every((o) => o.path === '/docs')).toBe(true);
    const root = (await c.api('GET', '/directory/')).data as { objects: Array<{ id: string; name: string }> };
    expect(data.parent).toBe(root.objects.find((o) => o.name === 'docs')?.id);
    expect(Object.keys(data.objects[0] ?? {})).toEqual(['id', 'name', 'path', 'thumb', 'size', 'type', 'date', 'create_date', 'source_enabled']);
    expect(data.objects[0]).toMatchObject({ thumb: false, size: 0, source_enabled: false });
    expect(data.objects[2]).toMatchObject({ thumb: true, size: 0 });
    expect(data.policy).toEqual({ id: expect.any(String) as string, name: 'Default storage policy', type: 'local', max_size: 0, file_type: null });
    expect(String(data.objects[0]?.date)).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:\d{2})$/);
  });

  it('matches the path literally: no trailing slash, no empty, dot or dot-dot segments', async () => {
    const c = await freshUser();
    await c.api('PUT', '/directory', { path: '/a/b' });
    expect((await c.api('GET', '/directory/a/b')).code).toBe(0);
    for (const path of ['/a/', '//a', '/a/./b', '/a/b/..', '/a/%2E', '/nope']) {
      expect(await c.verbatim('GET', `/api/v3/directory${path}`), path).toEqual({ code: 40016, msg: 'Path not exist' });
    }
  });

  it('decodes percent-encoded names and keeps them as they are', async () => {
    const c = await freshUser();
    const nfc = 'caf\u00e9';
    const nfd = 'cafe\u0301';
    for (const name of ['100% #1', nfc, nfd, 'Report', 'report']) await c.api('PUT', '/directory', { path: `/${name}` });
    const names = (await c.list('/')).map((o) => o.name);
    expect(names).toEqual(['100% #1', nfc, nfd, 'Report', 'report']);
    expect(await c.list('/100% #1')).toEqual([]);
  });

  it('hides upload placeholders', async () => {
    const c = await freshUser();
    await c.api('PUT', '/file/upload', { path: '/', size: 5, name: 'pending.bin', policy_id: await c.policyId() });
    expect(await c.list('/')).toEqual([]);
  });
});

describe('PUT /directory', () => {
  it('creates recursively, idempotently, on a cleaned path', async () => {
    const c = await freshUser();
    expect(await c.api('PUT', '/directory', { path: '/x/y/z/' })).toEqual({ code: 0, msg: '' });
    expect(await c.api('PUT', '/directory', { path: '/x//y/../y/z' })).toEqual({ code: 0, msg: '' });
    expect(await c.api('PUT', '/directory', { path: '/' })).toEqual({ code: 0, msg: '' });
    expect((await c.list('/x/y')).map((o) => o.name)).toEqual(['z']);
  });

  it('trims trailing spaces of created segments', async () => {
    const c = await freshUser();
    await c.api('PUT', '/directory', { path: '/foo /bar  ' });
    expect((await c.list('/')).map((o) => o.name)).toEqual(['foo']);
    expect((await c.list('/foo')).map((o) => o.name)).toEqual(['bar']);
  });

  it('refuses relative paths, illegal names and a file in the way', async () => {
    const c = await freshUser();
    expect(await c.api('PUT', '/directory', { path: 'relative/dir' })).toEqual({ code: 40053, msg: 'Root protected' });
    expect(await c.api('PUT', '/directory', { path: '/a:b' })).toEqual({ code: 40052, msg: 'Invalid object name' });
    expect(await c.api('PUT', '/directory', { path: `/${'x'.repeat(256)}` })).toEqual({ code: 40052, msg: 'Invalid object name' });
    expect((await c.api('PUT', '/directory', { path: `/${'é'.repeat(127)}` })).code).toBe(0);
    expect((await c.api('PUT', '/directory', { path: `/${'é'.repeat(128)}` })).code).toBe(40052);
    await c.api('POST', '/file/create', { path: '/taken' });
    expect(await c.api('PUT', '/directory', { path: '/taken' })).toEqual({ code: 40004, msg: 'Object existed' });
    expect(await c.api('PUT', '/directory', { path: '/taken/sub' })).toEqual({ code: 40004, msg: 'Object existed' });
  });
});

describe('names and clashes', () => {
  it('rejects each forbidden character and a trailing space, accepts the rest', async () => {
    const c = await freshUser();
    for (const bad of ['a\\b', 'a?b', 'a*b', 'a<b', 'a"b', 'a>b', 'a|b', 'trailing ']) {
      expect((await c.api('POST', '/file/create', { path: `/${bad}` })).code, bad).toBe(40052);
    }
    for (const good of [' leading', 'dots...', 'ctrl\u0001char', '..', "it's", '#hash%']) {
      expect((await c.api('POST', '/file/create', { path: `/${good}` })).code, good).toBe(0);
    }
  });

  it('lets a file and a folder share a name, except when mkdir meets a file', async () => {
    const c = await freshUser();
    await c.api('PUT', '/directory', { path: '/same' });
    expect((await c.api('POST', '/file/create', { path: '/same' })).code).toBe(0);
    const listed = await c.list('/');
    expect(find(listed, 'same', 'dir')).toBeDefined();
    expect(find(listed, 'same', 'file')).toBeDefined();
    expect(await c.api('POST', '/file/create', { path: '/same' })).toEqual({ code: 40004, msg: 'Object existed' });
  });

  it('treats names case-sensitively', async () => {
    const c = await freshUser();
    expect((await c.api('POST', '/file/create', { path: '/A.txt' })).code).toBe(0);
    expect((await c.api('POST', '/file/create', { path: '/a.txt' })).code).toBe(0);
  });
});

describe('POST /file/create', () => {
  it('creates parents and refuses a placeholder name with 40054', async () => {
    const c = await freshUser();
    expect(await c.api('POST', '/file/create', { path: '/deep/er/empty.txt' })).toEqual({ code: 0, msg: '' });
    expect(find(await c.list('/deep/er'), 'empty.txt')?.size).toBe(0);
    await c.api('PUT', '/file/upload', { path: '/deep', size: 3, name: 'up.txt', policy_id: await c.policyId() });
    expect(await c.api('POST', '/file/create', { path: '/deep/up.txt' })).toEqual({ code: 40054, msg: 'Upload session existed' });
    expect(await c.api('POST', '/file/create', { path: 'rel.txt' })).toEqual({ code: 40053, msg: 'Root protected' });
  });
});
