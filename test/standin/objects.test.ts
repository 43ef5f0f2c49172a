import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandin } from './index.js';
import type { Standin } from './index.js';
import { type Client, find, type ListedObject, signUp } from './test-client.js';

let standin: Standin;
let users = 0;

beforeAll(async () => {
  standin = await startStandin({ chunkSize: 4 });
});
afterAll(() => standin.close());

/** A fresh user per test keeps the trees apart. */
const freshUser = (): Promise<Client> => signUp(standin, `objects${++users}@example.com`);

async function entry(c: Client, dir: string, name: string, type: 'dir' | 'file' = 'file'): Promise<ListedObject> {
  const found = find(await c.list(dir), name, type);
  if (found === undefined) throw new Error(`${dir} has no ${type} ${name}`);
  return found;
}

async function used(c: Client): Promise<number> {
  return ((await c.api('GET', '/user/storage')).data as { used: number }).used;
}

const later = (): void => standin.control.advanceClock(5000);

describe('DELETE /object', () => {
  it('deletes folders recursively, gives the quota back and ignores ids it cannot use', async () => {
    const c = await freshUser();
    await c.uploadLocal('/d/e', 'f.bin', Buffer.from('123456'));
    await c.uploadLocal('/', 'keep.bin', Buffer.from('12'));
    expect(await used(c)).toBe(8);
    const d = await entry(c, '/', 'd', 'dir');
    const keep = await entry(c, '/', 'keep.bin');
    expect(await c.api('DELETE', '/object', { dirs: [d.id, 'garbage', keep.id], items: ['x', d.id] })).toEqual({ code: 0, msg: '' });
    expect((await c.list('/')).map((o) => o.name)).toEqual(['keep.bin']);
    expect(await used(c)).toBe(2);
  });

  it('spares the root itself and the files directly in it when given the root id', async () => {
    const c = await freshUser();
    await c.api('PUT', '/directory', { path: '/sub/deeper' });
    await c.api('POST', '/file/create', { path: '/top.txt' });
    const root = (await c.api('GET', '/directory/')).data as { parent: string };
    expect((await c.api('DELETE', '/object', { dirs: [root.parent] })).code).toBe(0);
    expect((await c.list('/')).map((o) => o.name)).toEqual(['top.txt']);
  });

  it('fails with 50001 when a file is named both directly and through its folder', async () => {
    const c = await freshUser();
    await c.api('POST', '/file/create', { path: '/box/inner.txt' });
    const box = await entry(c, '/', 'box', 'dir');
    const inner = await entry(c, '/box', 'inner.txt');
    expect(await c.api('DELETE', '/object', { dirs: [box.id], items: [inner.id] })).toEqual({ code: 50001, msg: 'Failed to delete object records' });
    expect((await c.list('/box')).map((o) => o.name)).toEqual(['inner.txt']);
  });

  it('needs a JSON body', async () => {
    const c = await freshUser();
    expect((await c.raw('DELETE', '/api/v3/object')).body).toEqual({ code: 40001, msg: 'Parameter error' });
  });
});

describe('PATCH /object (move)', () => {
  it('moves only direct children of src_dir and bumps their date', async () => {
    const c = await freshUser();
    await c.api('PUT', '/directory', { path: '/src/nested' });
    await c.api('PUT', '/directory', { path: '/dst' });
    await c.api('POST', '/file/create', { path: '/src/a.txt' });
    await c.api('POST', '/file/create', { path: '/src/nested/deep.txt' });
    const a = await entry(c, '/src', 'a.txt');
    const nested = await entry(c, '/src', 'nested', 'dir');
    const deep = await entry(c, '/src/nested', 'deep.txt');
    later();
    const answer = await c.api('PATCH', '/object', { src_dir: '/src', src: { items: [a.id, deep.id], dirs: [nested.id] }, dst: '/dst' });
    expect(answer).toEqual({ code: 0, msg: '' });
    const moved = await c.list('/dst');
    expect(moved.map((o) => o.name)).toEqual(['nested', 'a.txt']);
    expect(find(moved, 'a.txt')?.id).toBe(a.id);
    expect(Date.parse(find(moved, 'a.txt')?.date ?? '')).toBeGreaterThan(Date.parse(a.date));
    expect(Date.parse(find(moved, 'nested', 'dir')?.date ?? '')).toBeGreaterThan(Date.parse(nested.date));
    expect((await c.list('/dst/nested')).map((o) => o.name)).toEqual(['deep.txt']);
  });

  it('moves folders before failing on a file clash, and lets kinds coexist', async () => {
    const c = await freshUser();
    await c.api('PUT', '/directory', { path: '/from/folder' });
    await c.api('POST', '/file/create', { path: '/from/clash.txt' });
    await c.api('POST', '/file/create', { path: '/from/folder2' });
    await c.api('POST', '/file/create', { path: '/to/clash.txt' });
    await c.api('PUT', '/directory', { path: '/to/folder2' });
    const folder = await entry(c, '/from', 'folder', 'dir');
    const clash = await entry(c, '/from', 'clash.txt');
    const answer = await c.api('PATCH', '/object', { src_dir: '/from', src: { items: [clash.id], dirs: [folder.id] }, dst: '/to' });
    expect(answer).toEqual({ code: 40004, msg: 'Object existed' });
    // Listing order is creation order: the moved folder is older than /to/folder2.
    expect((await c.list('/to')).map((o) => o.name)).toEqual(['folder', 'folder2', 'clash.txt']);
    expect((await c.list('/from')).map((o) => o.name)).toEqual(['clash.txt', 'folder2']);
    const file2 = await entry(c, '/from', 'folder2');
    expect((await c.api('PATCH', '/object', { src_dir: '/from', src: { items: [file2.id] }, dst: '/to' })).code).toBe(0);
    const to = await c.list('/to');
    expect(find(to, 'folder2', 'dir')).toBeDefined();
    expect(find(to, 'folder2', 'file')).toBeDefined();
  });

  it('refuses a folder into itself and unknown paths', async () => {
    const c = await freshUser();
    await c.api('PUT', '/directory', { path: '/me' });
    const me = await entry(c, '/', 'me', 'dir');
    expect(await c.api('PATCH', '/object', { src_dir: '/', src: { dirs: [me.id] }, dst: '/me' })).toEqual({ code: 40004, msg: 'Object existed' });
    expect(await c.api('PATCH', '/object', { src_dir: '/', src: { dirs: [me.id] }, dst: '/me/' })).toEqual({ code: 40016, msg: 'Path not exist' });
    expect(await c.api('PATCH', '/object', { src_dir: '/', src: {}, dst: '' })).toEqual({ code: 40001, msg: 'Dst cannot be empty' });
  });
});

describe('POST /object/rename', () => {
  it('renames one object; a file gets a new date, a folder keeps its date', async () => {
    const c = await freshUser();
    await c.api('PUT', '/directory', { path: '/folder' });
    await c.api('POST', '/file/create', { path: '/file.txt' });
    const folder = await entry(c, '/', 'folder', 'dir');
    const file = await entry(c, '/', 'file.txt');
    later();
    expect(await c.api('POST', '/object/rename', { src: { items: [file.id] }, new_name: 'renamed.txt' })).toEqual({ code: 0, msg: '' });
    expect(await c.api('POST', '/object/rename', { src: { dirs: [folder.id] }, new_name: 'renamed' })).toEqual({ code: 0, msg: '' });
    const renamedFile = await entry(c, '/', 'renamed.txt');
    const renamedFolder = await entry(c, '/', 'renamed', 'dir');
    expect(renamedFile.id).toBe(file.id);
    expect(Date.parse(renamedFile.date)).toBeGreaterThan(Date.parse(file.date));
    expect(renamedFolder.date).toBe(folder.date);
  });

  it('applies the one-object, existence, name and clash rules', async () => {
    const c = await freshUser();
    await c.api('POST', '/file/create', { path: '/one.txt' });
    await c.api('POST', '/file/create', { path: '/two.txt' });
    await c.api('PUT', '/directory', { path: '/dir' });
    const one = await entry(c, '/', 'one.txt');
    const two = await entry(c, '/', 'two.txt');
    expect(await c.api('POST', '/object/rename', { src: { items: [one.id, two.id] }, new_name: 'x' })).toEqual({
      code: 40001,
      msg: 'You can only copy one object at the same time',
    });
    expect(await c.api('POST', '/object/rename', { src: { items: ['nope'] }, new_name: 'x' })).toEqual({ code: 40016, msg: 'Path not exist' });
    expect(await c.api('POST', '/object/rename', { src: { items: [one.id] }, new_name: 'bad|name' })).toEqual({ code: 40052, msg: 'Invalid object name' });
    expect(await c.api('POST', '/object/rename', { src: { items: [one.id] }, new_name: 'two.txt' })).toEqual({ code: 40004, msg: 'Object existed' });
    expect((await c.api('POST', '/object/rename', { src: { items: [one.id] }, new_name: 'one.txt' })).code).toBe(0);
    expect((await c.api('POST', '/object/rename', { src: { items: [one.id] }, new_name: 'dir' })).code).toBe(0);
    standin.control.setPolicy({ fileTypes: ['txt'] });
    try {
      expect((await c.api('POST', '/object/rename', { src: { items: [two.id] }, new_name: 'two.md' })).code).toBe(40052);
      const dir = await entry(c, '/', 'dir', 'dir');
      expect((await c.api('POST', '/object/rename', { src: { dirs: [dir.id] }, new_name: 'dir.md' })).code).toBe(0);
    } finally {
      standin.control.setPolicy({ fileTypes: [] });
    }
  });
});

describe('POST /object/copy', () => {
  it('copies one object with new ids and shares content until an update', async () => {
    const c = await freshUser();
    await c.uploadLocal('/orig', 'data.bin', Buffer.from('original'));
    await c.api('PUT', '/directory', { path: '/copies' });
    const orig = await entry(c, '/', 'orig', 'dir');
    expect(await c.api('POST', '/object/copy', { src_dir: '/', src: { dirs: [orig.id] }, dst: '/copies' })).toEqual({ code: 0, msg: '' });
    const copied = await entry(c, '/copies/orig', 'data.bin');
    const source = await entry(c, '/orig', 'data.bin');
    expect(copied.id).not.toBe(source.id);
    expect(await used(c)).toBe(16);
    const update = await c.raw('PUT', `/api/v3/file/update/${source.id}`, { body: 'changed!' });
    expect(update.body).toEqual({ code: 0, msg: '' });
    expect((await c.download(copied.id)).text).toBe('original');
    expect((await c.download(source.id)).text).toBe('changed!');
  });

  it('reports a clash as 40016 "Object not exist" and refuses several objects', async () => {
    const c = await freshUser();
    await c.api('POST', '/file/create', { path: '/a.txt' });
    await c.api('POST', '/file/create', { path: '/b.txt' });
    const a = await entry(c, '/', 'a.txt');
    const b = await entry(c, '/', 'b.txt');
    expect(await c.api('POST', '/object/copy', { src_dir: '/', src: { items: [a.id] }, dst: '/' })).toEqual({ code: 40016, msg: 'Object not exist' });
    expect((await c.api('POST', '/object/copy', { src_dir: '/', src: { items: [a.id, b.id] }, dst: '/' })).code).toBe(40001);
    expect(await c.api('POST', '/object/copy', { src_dir: '/x', src: { items: [a.id] }, dst: '/' })).toEqual({ code: 40016, msg: 'Path not exist' });
  });
});

describe('GET /object/property/:id', () => {
  it('describes files and folders', async () => {
    const c = await freshUser();
    await c.uploadLocal('/p/q', 'one.bin', Buffer.from('12345'));
    await c.uploadLocal('/p', 'two.bin', Buffer.from('123'));
    const file = await entry(c, '/p/q', 'one.bin');
    const folder = await entry(c, '/', 'p', 'dir');
    const fileProps = await c.api('GET', `/object/property/${file.id}?trace_root=true`);
    expect(fileProps.data).toMatchObject({ policy: 'Default storage policy', size: 5, child_folder_num: 0, child_file_num: 0, path: '/p/q' });
    expect(Object.keys(fileProps.data as object)).toEqual([
      'created_at', 'updated_at', 'policy', 'size', 'child_folder_num', 'child_file_num', 'path', 'query_date',
    ]);
    const folderProps = await c.api('GET', `/object/property/${folder.id}?trace_root=true&is_folder=true`);
    expect(folderProps.data).toMatchObject({ policy: '', size: 8, child_folder_num: 1, child_file_num: 2, path: '/' });
  });

  it('answers 404 for an undecodable id and an empty HTTP 500 for a missing record', async () => {
    const c = await freshUser();
    await c.api('POST', '/file/create', { path: '/f.txt' });
    const file = await entry(c, '/', 'f.txt');
    expect(await c.api('GET', `/object/property/${file.id}?is_folder=true`)).toEqual({ code: 404, msg: '' });
    await c.api('DELETE', '/object', { items: [file.id] });
    const missing = await c.raw('GET', `/api/v3/object/property/${file.id}`);
    expect(missing.status).toBe(500);
    expect(missing.text).toBe('');
  });
});
