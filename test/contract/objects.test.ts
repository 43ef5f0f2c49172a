import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudreveV3 } from '../../src/cloudreve/index.js';
import type { RemoteEntry } from '../../src/remote/types.js';
import { failure, payload, sourceOf } from './helpers.js';
import { onRealServer, openTarget, standinOf, type Target } from './target.js';

let target: Target;
let client: CloudreveV3;
beforeAll(async () => {
  target = await openTarget();
  client = target.client();
});
afterAll(async () => {
  await target.close();
});

async function entry(path: string, kind?: 'file' | 'dir'): Promise<RemoteEntry> {
  const found = await client.stat(path, kind);
  if (found === undefined) throw new Error(`${path} is missing`);
  return found;
}

async function names(dir: string): Promise<string[]> {
  return (await client.list(dir)).entries.map((each) => `${each.kind}:${each.name}`).sort();
}

describe('mkdir', () => {
  it('creates missing ancestors and succeeds when the folder exists', async () => {
    const deep = target.path('m', 'a b', 'c');
    await client.mkdir(deep);
    await client.mkdir(deep);
    expect((await entry(deep)).kind).toBe('dir');
    expect(await names(target.path('m'))).toEqual(['dir:a b']);
  });

  it('reports a file in the way as exists', async () => {
    await client.upload(target.path('m2'), 'taken', sourceOf(payload(1)));
    const error = await failure(client.mkdir(target.path('m2', 'taken')));
    expect(error.kind).toBe('exists');
    expect(error.code).toBe(40004);
  });
});

describe('createEmptyFile', () => {
  it('creates an empty file, with its missing parents', async () => {
    const path = target.path('e', 'f', 'empty.txt');
    await client.createEmptyFile(path);
    expect(await entry(path)).toMatchObject({ kind: 'file', size: 0 });
  });

  it('reports an existing file as exists, but not a folder of that name', async () => {
    const path = target.path('e', 'twice.txt');
    await client.createEmptyFile(path);
    expect((await failure(client.createEmptyFile(path))).kind).toBe('exists');
    await client.mkdir(target.path('e', 'folder'));
    await client.createEmptyFile(target.path('e', 'folder'));
    expect(await names(target.path('e'))).toEqual(['dir:f', 'dir:folder', 'file:folder', 'file:twice.txt']);
  });
});

describe('delete', () => {
  it('deletes files and non-empty folders in one call, ignoring missing ones', async () => {
    const dir = target.path('d');
    await client.upload(`${dir}/full/deeper`, 'x.bin', sourceOf(payload(10)));
    await client.upload(dir, 'y.bin', sourceOf(payload(10)));
    const folder = await entry(`${dir}/full`);
    const file = await entry(`${dir}/y.bin`);
    await client.delete([folder, file]);
    expect(await names(dir)).toEqual([]);
    await client.delete([folder, file]);
    await client.delete([]);
  });

  it.skipIf(onRealServer)('is not sent again after an error: what the folder holds by then is for the caller to look at first', async () => {
    const dir = target.path('d2');
    await client.upload(dir, 'z.bin', sourceOf(payload(10)));
    const folder = await entry(dir);
    standinOf(target).control.failNext('DELETE /api/v3/object', 1, 'code50001');
    const before = standinOf(target).control.requestCounts()['DELETE /api/v3/object'] ?? 0;
    expect((await failure(client.delete([folder]))).code).toBe(50001);
    expect(standinOf(target).control.requestCounts()['DELETE /api/v3/object']).toBe(before + 1);
    expect(await names(dir)).toEqual(['file:z.bin']);
  });
});

describe('move', () => {
  it('moves files and folders keeping their IDs', async () => {
    const from = target.path('mv', 'from');
    const to = target.path('mv', 'to');
    await client.upload(`${from}/folder`, 'inner.txt', sourceOf(payload(4)));
    await client.upload(from, 'file.txt', sourceOf(payload(4)));
    await client.mkdir(to);
    const objects = [await entry(`${from}/folder`), await entry(`${from}/file.txt`)];
    await client.move(from, objects, to);
    expect(await names(from)).toEqual([]);
    expect((await entry(`${to}/folder`)).id).toBe(objects[0]?.id);
    expect((await entry(`${to}/file.txt`)).id).toBe(objects[1]?.id);
    expect(await names(`${to}/folder`)).toEqual(['file:inner.txt']);
  });

  it('reports objects that are not direct children of fromDir as not-found', async () => {
    const dir = target.path('mv2');
    await client.upload(`${dir}/deep`, 'child.txt', sourceOf(payload(1)));
    await client.mkdir(`${dir}/to`);
    const child = await entry(`${dir}/deep/child.txt`);
    const error = await failure(client.move(dir, [child], `${dir}/to`));
    expect(error.kind).toBe('not-found');
    expect(await names(`${dir}/deep`)).toEqual(['file:child.txt']);
  });

  it('reports a same-kind clash as exists, and lets a file join a same-named folder', async () => {
    const dir = target.path('mv3');
    await client.upload(`${dir}/a`, 'clash.txt', sourceOf(payload(1)));
    await client.upload(`${dir}/b`, 'clash.txt', sourceOf(payload(2)));
    await client.mkdir(`${dir}/b/name`);
    await client.upload(`${dir}/a`, 'name', sourceOf(payload(3)));
    const error = await failure(client.move(`${dir}/a`, [await entry(`${dir}/a/clash.txt`)], `${dir}/b`));
    expect(error.kind).toBe('exists');
    await client.move(`${dir}/a`, [await entry(`${dir}/a/name`, 'file')], `${dir}/b`);
    expect(await names(`${dir}/b`)).toEqual(['dir:name', 'file:clash.txt', 'file:name']);
  });
});

describe('rename', () => {
  it('renames files and folders keeping their IDs', async () => {
    const dir = target.path('rn');
    await client.upload(`${dir}/folder`, 'old.txt', sourceOf(payload(1)));
    const file = await entry(`${dir}/folder/old.txt`);
    const folder = await entry(`${dir}/folder`);
    await client.rename(file, 'new name #1.txt');
    await client.rename(folder, '新しいフォルダ');
    expect((await entry(`${dir}/新しいフォルダ/new name #1.txt`)).id).toBe(file.id);
    expect((await entry(`${dir}/新しいフォルダ`)).id).toBe(folder.id);
    await client.rename(folder, '新しいフォルダ');
  });

  it('reports a clash as exists and an illegal name as invalid-name', async () => {
    const dir = target.path('rn2');
    await client.upload(dir, 'one.txt', sourceOf(payload(1)));
    await client.upload(dir, 'two.txt', sourceOf(payload(1)));
    const one = await entry(`${dir}/one.txt`);
    expect((await failure(client.rename(one, 'two.txt'))).kind).toBe('exists');
    expect((await failure(client.rename(one, 'why?.txt'))).kind).toBe('invalid-name');
  });
});

describe('copy', () => {
  it('copies a file or a folder tree under new IDs', async () => {
    const dir = target.path('cp');
    await client.upload(`${dir}/src/tree`, 'leaf.txt', sourceOf(payload(8)));
    await client.upload(`${dir}/src`, 'file.txt', sourceOf(payload(8)));
    await client.mkdir(`${dir}/dst`);
    const file = await entry(`${dir}/src/file.txt`);
    const tree = await entry(`${dir}/src/tree`);
    await client.copy(`${dir}/src`, file, `${dir}/dst`);
    await client.copy(`${dir}/src`, tree, `${dir}/dst`);
    expect((await entry(`${dir}/dst/file.txt`)).id).not.toBe(file.id);
    expect(await entry(`${dir}/dst/tree/leaf.txt`)).toMatchObject({ size: 8 });
    expect(await names(`${dir}/src`)).toEqual(['dir:tree', 'file:file.txt']);
  });

  it('reports an object that is not a direct child of fromDir as not-found', async () => {
    const dir = target.path('cp3');
    await client.upload(`${dir}/src/deep`, 'nested.txt', sourceOf(payload(1)));
    await client.mkdir(`${dir}/dst`);
    const error = await failure(client.copy(`${dir}/src`, await entry(`${dir}/src/deep/nested.txt`), `${dir}/dst`));
    expect(error.kind).toBe('not-found');
    expect(await names(`${dir}/dst`)).toEqual([]);
  });

  it('reports a clash at the destination as exists', async () => {
    const dir = target.path('cp2');
    await client.upload(`${dir}/src`, 'same.txt', sourceOf(payload(1)));
    await client.upload(`${dir}/dst`, 'same.txt', sourceOf(payload(2)));
    const error = await failure(client.copy(`${dir}/src`, await entry(`${dir}/src/same.txt`), `${dir}/dst`));
    expect(error.kind).toBe('exists');
  });
});
