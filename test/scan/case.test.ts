import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectCaseInsensitive } from '../../src/scan/case.js';
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
