import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudreveV3 } from '../../src/cloudreve/index.js';
import { failure, fixedMtime, payload, sourceOf } from './helpers.js';
import { openTarget, type Target } from './target.js';

let target: Target;
let client: CloudreveV3;
beforeAll(async () => {
  target = await openTarget();
  client = target.client();
});
afterAll(async () => {
  await target.close();
});

describe('list', () => {
  it('lists an empty folder with its own ID and the upload policy', async () => {
    const dir = target.path('empty');
    await client.mkdir(dir);
    const listing = await client.list(dir);
    expect(listing.path).toBe(dir);
    expect(listing.entries).toEqual([]);
    expect(listing.folderId).not.toBe('');
    expect(listing.policy.id).not.toBe('');
    expect(listing.policy.maxSize).toBeGreaterThanOrEqual(0);
    const parent = await client.list(target.root);
    expect(parent.entries.find((entry) => entry.name === 'empty')?.id).toBe(listing.folderId);
  });

  it('lists folders and files with kind, ID, size and times as instants', async () => {
    const dir = target.path('mixed');
    const before = Date.now();
    await client.mkdir(`${dir}/sub`);
    await client.upload(dir, 'data.bin', sourceOf(payload(1000)));
    const { entries } = await client.list(dir);
    expect(entries.map((entry) => [entry.kind, entry.name, entry.size])).toEqual([
      ['dir', 'sub', 0],
      ['file', 'data.bin', 1000],
    ]);
    const [sub, file] = entries;
    expect(sub?.id).not.toBe(file?.id);
    // The upload's last_modified becomes the file's date; MySQL keeps whole seconds only.
    expect(Math.abs((file?.modifiedMs ?? 0) - fixedMtime)).toBeLessThan(1000);
    expect(sub?.createdMs).toBeGreaterThan(before - 60_000);
  });

  it('reports a missing folder, or a path through a file, as not-found', async () => {
    const missing = await failure(client.list(target.path('no such folder')));
    expect(missing.kind).toBe('not-found');
    expect(missing.code).toBe(40016);
    await client.upload(target.root, 'plain.txt', sourceOf(payload(3)));
    expect((await failure(client.list(target.path('plain.txt')))).kind).toBe('not-found');
  });

  it('fingerprints a listing, says "unchanged" while the folder lists the same, and lists anew once it changed', async () => {
    const dir = target.path('fingerprinted');
    await client.mkdir(`${dir}/sub`);
    await client.upload(dir, 'a.txt', sourceOf(payload(10)));
    const first = await client.list(dir);
    expect(first.fingerprint).toEqual(expect.any(String));
    expect((await client.list(dir)).fingerprint).toBe(first.fingerprint);
    expect(await client.listUnlessUnchanged(dir, first.fingerprint ?? '')).toBe('unchanged');

    await client.upload(dir, 'b.txt', sourceOf(payload(20)));
    const second = await client.listUnlessUnchanged(dir, first.fingerprint ?? '');
    if (second === 'unchanged') throw new Error('a folder with a new file listed as unchanged');
    expect(second.entries.map((entry) => entry.name).sort()).toEqual(['a.txt', 'b.txt', 'sub']);
    expect(second.fingerprint).not.toBe(first.fingerprint);

    const entry = second.entries.find((e) => e.name === 'a.txt');
    if (!entry) throw new Error('a.txt is not listed');
    await client.rename({ kind: 'file', id: entry.id }, 'c.txt');
    const third = await client.listUnlessUnchanged(dir, second.fingerprint ?? '');
    expect(third).not.toBe('unchanged');
  });

  it('refuses paths that are not canonical before asking the server', async () => {
    for (const path of ['relative', '/trailing/', '//double', '/a/../b']) {
      expect((await failure(client.list(path))).kind).toBe('bad-request');
    }
  });
});

describe('stat', () => {
  it('finds files and folders, and lets a file and a folder share a name', async () => {
    const dir = target.path('same-name');
    await client.mkdir(`${dir}/twin`);
    await client.upload(dir, 'twin', sourceOf(payload(5)));
    const { entries } = await client.list(dir);
    expect(entries.filter((entry) => entry.name === 'twin').map((entry) => entry.kind)).toEqual(['dir', 'file']);
    expect((await client.stat(`${dir}/twin`))?.kind).toBe('dir');
    expect((await client.stat(`${dir}/twin`, 'file'))?.size).toBe(5);
    expect((await client.stat(`${dir}/twin`, 'dir'))?.size).toBe(0);
  });

  it('returns undefined for a missing entry or a missing parent', async () => {
    expect(await client.stat(target.path('nothing here'))).toBeUndefined();
    expect(await client.stat(target.path('no parent', 'child'))).toBeUndefined();
    expect(await client.stat('/', 'file')).toBeUndefined();
  });

  it('describes the root folder', async () => {
    const root = await client.stat('/');
    expect(root?.kind).toBe('dir');
    expect(root?.id).toBe((await client.list('/')).folderId);
  });
});

describe('names', () => {
  const nfc = 'Caf\u00e9 r\u00e9sum\u00e9.txt';
  const nfd = nfc.normalize('NFD');
  const hostile = [
    '中文 文件名.txt',
    '😀 emoji 🎉.bin',
    'with  two  spaces.txt',
    ' leading space.txt',
    'hash #1.txt',
    'percent %20 %.txt',
    "quote's & (round) [square] {curly} ~!@$^+=,;.txt",
    'trailing.dot.',
    nfc,
    nfd,
  ];

  it('keeps hostile names byte for byte, in folders with hostile names too', async () => {
    const dir = target.path('目录 #1 %25 😀');
    const contents = new Map(hostile.map((name) => [name, payload(17)]));
    for (const [name, data] of contents) await client.upload(dir, name, sourceOf(data));
    const listed = (await client.list(dir)).entries.map((entry) => entry.name);
    expect([...listed].sort()).toEqual([...hostile].sort());
    expect(new Set(listed).size).toBe(hostile.length);
    for (const name of hostile) expect((await client.stat(`${dir}/${name}`, 'file'))?.size).toBe(17);
  });

  it('keeps NFC and NFD spellings apart', async () => {
    const dir = target.path('normal forms');
    await client.upload(dir, nfc, sourceOf(payload(1)));
    await client.upload(dir, nfd, sourceOf(payload(2)));
    expect((await client.stat(`${dir}/${nfc}`))?.size).toBe(1);
    expect((await client.stat(`${dir}/${nfd}`))?.size).toBe(2);
  });

  it('accepts a name of exactly 255 UTF-8 bytes', async () => {
    // A folder's: the local storage keeps a file under a longer name of its own (see upload).
    const name = `${'é'.repeat(127)}a`;
    expect(Buffer.byteLength(name)).toBe(255);
    await client.mkdir(target.path(name));
    expect(await client.stat(target.path(name))).toBeDefined();
  });

  it('rejects names Cloudreve refuses as invalid-name', async () => {
    const invalid = ['what?.txt', 'star*.txt', 'a<b', 'a>b', 'a:b', 'a|b', 'quote".txt', 'back\\slash', 'trailing space ', '', `${'é'.repeat(128)}`];
    for (const name of invalid) {
      expect(client.info.invalidNameReason(name)).toBeDefined();
      const error = await failure(client.upload(target.root, name, sourceOf(payload(1))));
      expect(error.kind).toBe('invalid-name');
    }
    expect((await failure(client.mkdir(target.path('bad?folder')))).kind).toBe('invalid-name');
    expect((await failure(client.createEmptyFile(target.path('bad|file')))).kind).toBe('invalid-name');
    expect(client.info.invalidNameReason('fine name.txt')).toBeUndefined();
  });
});
