import { lstat, rename, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createIgnoreRules } from '../../src/scan/ignore.js';
import { scanLocal, type RawRead } from '../../src/scan/local.js';
import { rawFolderReader, type RawFolderReader } from '../../src/scan/raw-folder.js';
import { StatPace } from '../../src/scan/stat-pace.js';
import type { LocalNode } from '../../src/tree/types.js';
import { put, useTempDirs } from './fixture.js';

const tempDir = useTempDirs();

/** The reader `npm run build` compiled; the tests run after a build, on Linux with a C compiler. */
function reader(): RawFolderReader {
  const found = rawFolderReader();
  if (found === undefined) throw new Error('the native folder reader was not built (npm run build)');
  return found;
}

function digestOf(absolute: string): string | undefined {
  return reader().read(absolute)?.digest;
}

describe('the native folder reader (src/scan/raw-folder.c)', () => {
  afterEach(() => {
    delete process.env.CLOUDREVE_SYNC_RAW_READS;
  });

  it('gives the same digest for a folder as it was, and another once an entry changed in name, size, time or number', async () => {
    const root = await tempDir();
    await put(root, { 'a.txt': 'one', 'b.txt': 'two', 'sub/c.txt': 'three' });
    const first = digestOf(root);
    expect(first).toMatch(/^[0-9a-f]{32}$/);
    expect(digestOf(root)).toBe(first);
    const seen = new Set([first]);
    const changes: (() => Promise<void>)[] = [
      () => writeFile(join(root, 'a.txt'), 'one, longer'),
      () => utimes(join(root, 'a.txt'), 1_700_000_000, 1_700_000_000.5),
      () => rename(join(root, 'b.txt'), join(root, 'B.txt')),
      () => writeFile(join(root, 'new.txt'), ''),
      () => rm(join(root, 'B.txt')),
    ];
    for (const change of changes) {
      await change();
      const digest = digestOf(root);
      expect(seen.has(digest)).toBe(false);
      seen.add(digest);
    }
  });

  it('changes with a subfolder\'s times too: what it holds, or a rename away and back', async () => {
    const root = await tempDir();
    await put(root, { 'sub/c.txt': 'three' });
    const before = digestOf(root);
    await writeFile(join(root, 'sub/d.txt'), 'four');
    const after = digestOf(root);
    expect(after).not.toBe(before);
    await rename(join(root, 'sub'), join(root, 'away'));
    await rename(join(root, 'away'), join(root, 'sub'));
    expect(digestOf(root)).not.toBe(after);
  });

  it('reads nothing of a folder holding a name that is not UTF-8, or taking longer than its budget', async () => {
    const root = await tempDir();
    await put(root, { 'plain.txt': 'p' });
    expect(digestOf(root)).toBeDefined();
    await writeFile(Buffer.concat([Buffer.from(`${root}/`), Buffer.from([0x62, 0xff])]), 'not UTF-8');
    expect(digestOf(root)).toBeUndefined();
    const many = await tempDir();
    for (let i = 0; i < 200; i++) await writeFile(join(many, `f${i}`), '');
    expect(reader().read(many)?.entries).toBe(200);
    expect(reader().read(many, -1)).toBeUndefined();
  });

  it('reports the subfolders with the facts the walk gives them, and its own inode and entries', async () => {
    const root = await tempDir();
    await put(root, { 'x.txt': 'x', 'one/': '', 'two/': '' });
    const scanned = await scanLocal(root, { rules: await createIgnoreRules([], root), pace: new StatPace('adaptive') });
    const read = reader().read(root);
    expect(read?.entries).toBe(3);
    expect(read?.inode).toBe((await lstat(root, { bigint: true })).ino.toString());
    const byPath = (a: LocalNode, b: LocalNode): number => a.path.localeCompare(b.path);
    expect(read?.subfolders('here').sort(byPath)).toEqual(scanned.nodes.filter((node) => node.kind === 'dir').map((node) => ({ ...node, path: `here/${node.path}` })));
  });

  it('reads nothing where there is no folder to read, a link to one included', async () => {
    const root = await tempDir();
    await put(root, { 'file.txt': 'f', 'dir/': '' });
    await symlink(join(root, 'dir'), join(root, 'link'));
    for (const path of ['missing', 'file.txt', 'link']) expect(reader().read(join(root, path))).toBeUndefined();
  });

  it('is left unused with CLOUDREVE_SYNC_RAW_READS=off', () => {
    process.env.CLOUDREVE_SYNC_RAW_READS = 'off';
    expect(rawFolderReader()).toBeUndefined();
  });
});

describe('a walk with the native reader', () => {
  /**
   * A walk that hands folders to the callbacks the pass gives it; `asBefore` says which folders
   * to take as before, with the names the rules left out in them.
   */
  async function walk(root: string, asBefore: (path: string) => readonly string[] | undefined = () => undefined) {
    const folders = new Map<string, { files: string[]; raw: RawRead | undefined }>();
    const offered = new Map<string, string>();
    const nodes: string[] = [];
    const scan = await scanLocal(root, {
      rules: await createIgnoreRules(['*.log', 'cache/'], root),
      pace: new StatPace('adaptive'),
      onNode: (node) => nodes.push(node.path),
      onFolder: (path, found, raw) => folders.set(path, { files: found.filter((node) => node.kind === 'file').map((node) => node.path), raw }),
      asBefore: (path, digest) => {
        offered.set(path, digest);
        return asBefore(path);
      },
    });
    return { folders, offered, nodes, ignored: [...scan.ignored].sort() };
  }

  it('hands over the digest of a folder it read, with the names the rules left out, and offers it as such next time', async () => {
    const root = await tempDir();
    await put(root, { 'clean/a.txt': 'a', 'clean/inner/b.txt': 'b', 'noisy/c.txt': 'c', 'noisy/debug.log': 'left out', 'noisy/cache/d.txt': 'left out' });
    await put(root, { 'linked/e.txt': 'e' });
    await symlink(join(root, 'clean'), join(root, 'linked/link'));
    const first = await walk(root);
    const clean = first.folders.get('clean')?.raw;
    expect(clean?.digest).toMatch(/^[0-9a-f]{32}$/);
    expect(clean?.ignored).toEqual([]);
    expect([...(first.folders.get('noisy')?.raw?.ignored ?? [])].sort()).toEqual(['cache', 'debug.log']);
    // A folder holding what the walk skips (a link) never goes by its digest.
    expect(first.folders.get('linked')?.raw).toBeUndefined();
    // The root is read through its own handle, never by the reader.
    expect(first.folders.get('')?.raw).toBeUndefined();
    expect(first.offered.get('clean')).toBe(clean?.digest);

    const second = await walk(root, (path) => (path === 'clean' ? [] : path === 'noisy' ? ['cache', 'debug.log'] : undefined));
    expect([...second.folders.keys()].sort()).toEqual(['', 'clean/inner', 'linked']);
    expect(second.nodes).toEqual(['clean/inner']);
    expect(second.folders.get('clean/inner')?.files).toEqual(['clean/inner/b.txt']);
    expect(second.ignored).toEqual(first.ignored);
  });
});
