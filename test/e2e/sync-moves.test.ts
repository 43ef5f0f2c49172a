import { existsSync } from 'node:fs';
import { mkdir, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Scene } from './harness.js';

let scene: Scene | undefined;
afterEach(async () => {
  await scene?.close();
  scene = undefined;
});

/** Transfers and moves the last run made, from the stand-in's request counts. */
function calls(s: Scene): { uploads: number; downloads: number; moves: number; renames: number; deletes: number } {
  const { counts } = s.requests();
  const n = (route: string): number => counts[route] ?? 0;
  return {
    uploads: n('PUT /api/v3/file/upload') + n('PUT /api/v3/file/update/:id'),
    downloads: n('PUT /api/v3/file/download/:id'),
    moves: n('PATCH /api/v3/object'),
    renames: n('POST /api/v3/object/rename'),
    deletes: n('DELETE /api/v3/object'),
  };
}

async function seeded(): Promise<Scene> {
  const s = await Scene.start();
  await s.write('album/one.jpg', '1');
  await s.write('album/two.jpg', '2');
  await s.write('album/inner/three.jpg', '3');
  await s.write('notes.txt', 'n');
  await mkdir(s.localPath('archive'));
  await s.sync();
  s.standin.control.resetCounts();
  return s;
}

describe('moves and renames', () => {
  it('a local folder rename is one rename call on the server, with no transfer', async () => {
    scene = await seeded();
    await rename(scene.localPath('album'), scene.localPath('photos'));
    await scene.sync();
    expect(calls(scene)).toEqual({ uploads: 0, downloads: 0, moves: 0, renames: 1, deletes: 0 });
    expect(await scene.fetch('photos/inner/three.jpg')).toBe('3');
  });

  it('a local move into another folder is one move call', async () => {
    scene = await seeded();
    await rename(scene.localPath('album'), scene.localPath('archive/album'));
    await scene.sync();
    expect(calls(scene)).toEqual({ uploads: 0, downloads: 0, moves: 1, renames: 0, deletes: 0 });
    expect(Object.keys(await scene.remoteTree())).toContain('archive/album/inner/three.jpg');
  });

  it('a local file moved and renamed is one move and one rename', async () => {
    scene = await seeded();
    await rename(scene.localPath('notes.txt'), scene.localPath('archive/old-notes.txt'));
    await scene.sync();
    expect(calls(scene)).toEqual({ uploads: 0, downloads: 0, moves: 1, renames: 1, deletes: 0 });
  });

  it('a local file moved and renamed where both steps meet a name taken passes through an aside name', async () => {
    // The new folder holds the old name and the old folder the new one: neither a move first
    // nor a rename first can be done.
    scene = await seeded();
    await scene.write('archive/notes.txt', 'other notes');
    await scene.write('summary.txt', 'summary');
    await scene.sync();
    scene.standin.control.resetCounts();
    await rename(scene.localPath('notes.txt'), scene.localPath('archive/summary.txt'));
    await scene.sync();
    expect(calls(scene)).toMatchObject({ uploads: 0, downloads: 0, deletes: 0 });
    expect(await scene.remoteTree()).toMatchObject({ 'archive/summary.txt': 'n', 'archive/notes.txt': 'other notes', 'summary.txt': 'summary' });
    expect(Object.keys(await scene.remoteTree())).not.toContain('notes.txt');
  });

  it('a server-side folder rename and file move become local renames; the moved file alone is fetched again', async () => {
    // Cloudreve dates a moved file anew, as it does an edit, so its bytes are looked at; the
    // same bytes leave the local file as it is, with no copy in the trash.
    scene = await seeded();
    const album = await scene.entry('album', 'dir');
    await scene.server.rename({ kind: 'dir', id: album?.id ?? '' }, 'pictures');
    const notes = await scene.entry('notes.txt', 'file');
    await scene.server.move(scene.remotePath(''), [{ kind: 'file', id: notes?.id ?? '' }], scene.remotePath('archive'));
    scene.standin.control.resetCounts();
    await scene.sync();
    expect(calls(scene)).toEqual({ uploads: 0, downloads: 1, moves: 0, renames: 0, deletes: 0 });
    expect(existsSync(join(scene.stateDir, 'trash'))).toBe(false);
    expect(await scene.localTree()).toEqual({
      archive: '/',
      'archive/notes.txt': 'n',
      pictures: '/',
      'pictures/one.jpg': '1',
      'pictures/two.jpg': '2',
      'pictures/inner': '/',
      'pictures/inner/three.jpg': '3',
    });
    scene.standin.control.resetCounts();
    await scene.sync();
    expect(scene.requests().writes).toBe(0);
  });

  it('a local folder merged into another that then takes its name keeps every file on the server, moved, not sent again', async () => {
    // With a server trash, a server delete is not looked at again first: nothing else would stop it.
    scene = await Scene.start({ folder: { trash: { remote: '/.trash' } } });
    for (const name of ['a1', 'a2', 'a3']) await scene.write(`Taxes/${name}`, name);
    await scene.write('Taxes-new/b1', 'b1');
    await scene.sync();
    scene.standin.control.resetCounts();
    for (const name of ['a1', 'a2', 'a3']) await rename(scene.localPath(`Taxes/${name}`), scene.localPath(`Taxes-new/${name}`));
    await rm(scene.localPath('Taxes'), { recursive: true });
    await rename(scene.localPath('Taxes-new'), scene.localPath('Taxes'));
    await scene.sync();
    expect(calls(scene).uploads).toBe(0);
    const local = await scene.localTree();
    expect(Object.keys(local).sort()).toEqual(['Taxes', 'Taxes/a1', 'Taxes/a2', 'Taxes/a3', 'Taxes/b1']);
    expect(await scene.remoteTree()).toEqual(local);
    expect((await scene.sync()).stdout).toContain('0 uploaded, 0 downloaded, 0 moved, 0 deleted');
  });

  it('a case-only rename is a rename', async () => {
    scene = await seeded();
    await rename(scene.localPath('notes.txt'), scene.localPath('NOTES.txt'));
    await scene.sync();
    expect(calls(scene)).toEqual({ uploads: 0, downloads: 0, moves: 0, renames: 1, deletes: 0 });
    expect(Object.keys(await scene.remoteTree())).toContain('NOTES.txt');
  });
});

describe('a local folder restored from a backup', () => {
  it('keeps each server file at its path when the restore handed the inodes out in another order', async () => {
    scene = await Scene.start();
    const s = scene;
    // Files of one size and time, as an archive or a camera card leaves them.
    const archived = new Date('2024-01-01T00:00:00Z');
    const restore = async (): Promise<void> => {
      for (const [path, content] of [['a.txt', 'AAAA'], ['b.txt', 'BBBB']] as const) {
        await writeFile(s.localPath(path), content);
        await utimes(s.localPath(path), archived, archived);
      }
    };
    await restore();
    await s.sync();
    // What `rm -rf` and `cp -a` may do: each name back, with the other's freed inode.
    await rename(s.localPath('a.txt'), s.localPath('swap'));
    await rename(s.localPath('b.txt'), s.localPath('a.txt'));
    await rename(s.localPath('swap'), s.localPath('b.txt'));
    await restore();
    s.standin.control.resetCounts();
    await s.sync();
    // Which bytes are where cannot be told (names may have been swapped): both are sent again.
    expect(calls(s)).toEqual({ uploads: 2, downloads: 0, moves: 0, renames: 0, deletes: 0 });
    expect(await s.remoteTree()).toEqual({ 'a.txt': 'AAAA', 'b.txt': 'BBBB' });
  });
});

describe('names swapped between files of one size and time', () => {
  it('end with each name holding the same bytes on both sides, for files and for the files of swapped folders', async () => {
    scene = await Scene.start();
    const s = scene;
    const archived = new Date('2024-01-01T00:00:00Z');
    const files = { 'current.cfg': 'version one', 'backup.cfg': 'version two', 'A/settings.txt': 'config of A', 'B/settings.txt': 'config of B', 'A/a.txt': 'only A', 'B/b.txt': 'only B' };
    for (const [path, content] of Object.entries(files)) {
      await s.write(path, content);
      await utimes(s.localPath(path), archived, archived);
    }
    await s.sync();
    const swap = async (a: string, b: string): Promise<void> => {
      await rename(s.localPath(a), s.localPath('swap'));
      await rename(s.localPath(b), s.localPath(a));
      await rename(s.localPath('swap'), s.localPath(b));
    };
    await swap('current.cfg', 'backup.cfg');
    await swap('A', 'B');
    s.standin.control.resetCounts();
    await s.sync();
    // The folders swap through an aside name; of the files, only the two swapped alone are sent.
    expect(calls(s)).toEqual({ uploads: 2, downloads: 0, moves: 0, renames: 3, deletes: 0 });
    await s.sync();
    const swapped = { 'current.cfg': 'version two', 'backup.cfg': 'version one', A: '/', 'A/settings.txt': 'config of B', 'A/b.txt': 'only B', B: '/', 'B/settings.txt': 'config of A', 'B/a.txt': 'only A' };
    expect(await s.localTree()).toEqual(swapped);
    expect(await s.remoteTree()).toEqual(swapped);
  });
});

describe('a file becomes a folder and back', () => {
  it('locally: the server file goes, the folder comes', async () => {
    scene = await seeded();
    await rm(scene.localPath('notes.txt'));
    await scene.write('notes.txt/today.txt', 'today');
    await scene.sync();
    expect(await scene.entry('notes.txt', 'file')).toBeUndefined();
    expect(await scene.fetch('notes.txt/today.txt')).toBe('today');
  });

  it('on the server: the local file goes to the trash, the folder comes', async () => {
    scene = await seeded();
    const album = await scene.entry('album', 'dir');
    await scene.server.delete([{ kind: 'dir', id: album?.id ?? '' }]);
    await scene.put('album', 'now a file');
    await scene.sync();
    expect(await scene.read('album')).toBe('now a file');
    const trash = await scene.localTree(`${scene.stateDir}/trash/main`);
    expect(Object.keys(trash).some((p) => p.endsWith('album/inner/three.jpg'))).toBe(true);
  });
});

describe('files of several chunks', () => {
  it('round-trips a file larger than the chunk size both ways', async () => {
    scene = await Scene.start({ standin: { chunkSize: 1024 } });
    const big = Buffer.alloc(5000, 'x').toString() + 'end';
    await writeFile(scene.localPath('big.bin'), big);
    await scene.put('server-big.bin', big.replace('end', 'END'));
    await scene.sync();
    expect(await scene.fetch('big.bin')).toBe(big);
    expect(await scene.read('server-big.bin')).toBe(big.replace('end', 'END'));
  });
});
