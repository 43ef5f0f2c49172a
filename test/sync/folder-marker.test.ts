import { lstat, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { folderMarkerName, markFolder, readFolderMarker } from '../../src/sync/folder-marker.js';
import { useTempDirs } from '../scan/fixture.js';

const log = pino({ level: 'silent' });
const idOf = '3f1c2b4a-0000-4000-8000-000000000001';
const tempDir = useTempDirs();

describe('markFolder', () => {
  it('adopts the ID of a copied synced folder only when no other folder recorded it', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, folderMarkerName), `copied along\n${idOf}\n`);
    const found = await readFolderMarker(dir, log);
    expect(found).toEqual({ id: idOf });
    if (found === 'unreadable') throw new Error('unreadable');
    expect(await markFolder(dir, undefined, found, true, () => false, log)).toBe(idOf);
    const own = await markFolder(dir, undefined, found, true, (id) => id === idOf, log);
    expect(own).toMatch(/^[0-9a-f-]{36}$/);
    expect(own).not.toBe(idOf);
    expect(await readFolderMarker(dir, log)).toEqual({ id: own });
    // A folder that may not be written keeps no ID of another's: it is not checked.
    expect(await markFolder(dir, undefined, { id: idOf }, false, (id) => id === idOf, log)).toBeUndefined();
  });

  it('replaces a symbolic link of its name instead of writing through it', async () => {
    const dir = await tempDir();
    const elsewhere = join(dir, 'elsewhere.txt');
    await writeFile(elsewhere, 'not ours');
    const root = join(dir, 'root');
    await mkdir(root);
    await symlink(elsewhere, join(root, folderMarkerName));
    const marked = await markFolder(root, idOf, 'none', true, () => false, log);
    expect(marked).toBe(idOf);
    expect(await readFile(elsewhere, 'utf8')).toBe('not ours');
    expect((await lstat(join(root, folderMarkerName))).isFile()).toBe(true);
  });
});
