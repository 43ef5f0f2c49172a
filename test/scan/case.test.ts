import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectCaseInsensitive } from '../../src/scan/case.js';
import { put, useTempDirs } from './fixture.js';

const tempDir = useTempDirs();

describe('detectCaseInsensitive', () => {
  it('finds the temporary folder of this Linux machine case-sensitive and leaves nothing behind', async () => {
    const dir = await tempDir();
    await put(dir, { 'existing.txt': 'x' });
    expect(await detectCaseInsensitive(dir)).toBe(false);
    expect(await readdir(dir)).toEqual(['existing.txt']);
  });

  it('fails for a folder that does not exist', async () => {
    const dir = await tempDir();
    await expect(detectCaseInsensitive(join(dir, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readdir(dir)).toEqual([]);
  });
});
