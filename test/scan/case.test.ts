import { link, readdir, symlink, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectCaseInsensitive, rootFoldsCase } from '../../src/scan/case.js';
import { put, useTempDirs } from './fixture.js';

const tempDir = useTempDirs();

describe('detectCaseInsensitive', () => {
  it('finds the temporary folder of this Linux machine case-sensitive by a name it holds, writing nothing', async () => {
    const dir = await tempDir();
    await put(dir, { '2024/ß.txt': 'x', 'Existing.txt': 'x', 'EXISTING.TXT': 'another file' });
    expect(await detectCaseInsensitive(dir, false)).toBe(false);
    expect((await readdir(dir)).sort()).toEqual(['2024', 'EXISTING.TXT', 'Existing.txt']);
    expect(await detectCaseInsensitive(join(dir, '2024'), false)).toBe(false);
  });

  it('asks through a probe file in a folder without a name to go by, only when it may write, and leaves nothing behind', async () => {
    const dir = await tempDir();
    await put(dir, { '2024/': '' });
    expect(await detectCaseInsensitive(dir, false)).toBeUndefined();
    expect(await detectCaseInsensitive(dir, true)).toBe(false);
    expect(await readdir(dir)).toEqual(['2024']);
  });

  it('fails for a folder that does not exist', async () => {
    const dir = await tempDir();
    await expect(detectCaseInsensitive(join(dir, 'missing'), true)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('rootFoldsCase', () => {
  it('asks again once the root leads to another folder (another disk mounted there, a link pointed elsewhere)', async () => {
    const dir = await tempDir();
    // A name and its case-swapped twin as one file (a hard link) is what a folding disk shows.
    await put(dir, { 'folding/Note.txt': 'x', 'plain/Note.txt': 'x' });
    await link(join(dir, 'folding/Note.txt'), join(dir, 'folding/nOTE.TXT'));
    const root = join(dir, 'root');
    await symlink(join(dir, 'folding'), root);
    expect(await rootFoldsCase(root, false)).toBe(true);
    await unlink(root);
    await symlink(join(dir, 'plain'), root);
    expect(await rootFoldsCase(root, false)).toBe(false);
  });
});
