import { rm, utimes } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { FolderState } from '../../src/state/folder-state.js';
import { folderId } from '../../src/state/synced.js';
import { Scene } from './harness.js';

let scene: Scene | undefined;
afterEach(async () => {
  await scene?.close();
  scene = undefined;
});

describe('sync --once', () => {
  it('fills an empty server folder, then a second run makes no write and one listing per folder', async () => {
    scene = await Scene.start();
    await scene.write('a.txt', 'alpha');
    await scene.write('docs/b.txt', 'beta');
    await scene.write('docs/deep/c.txt', 'gamma');
    await scene.write('empty.txt', '');
    await scene.sync();
    expect(await scene.remoteTree()).toEqual({ 'a.txt': 'alpha', docs: '/', 'docs/b.txt': 'beta', 'docs/deep': '/', 'docs/deep/c.txt': 'gamma', 'empty.txt': '' });

    scene.standin.control.resetCounts();
    const again = await scene.sync();
    expect(again.stdout).toContain('0 uploaded, 0 downloaded');
    const { writes, listings } = scene.requests();
    expect(writes).toBe(0);
    // The synced folder, docs and docs/deep.
    expect(listings).toBe(3);
  });

  it('with one transfer slot, carries out a plan far larger than its window of started actions', async () => {
    // Window: eight started actions per slot. Twelve nested new folders each wait for their
    // parent, and 30 files for their folders: both run past the window's edge.
    scene = await Scene.start({ config: { sync: { settleTime: 0, retries: 1, concurrency: 1 } } });
    const deep = Array.from({ length: 12 }, (_, i) => `d${i}`).join('/');
    const expected: Record<string, string> = {};
    for (let i = 0; i < 12; i++) expected[deep.split('/').slice(0, i + 1).join('/')] = '/';
    for (let i = 0; i < 30; i++) {
      await scene.write(`${deep}/f${i}.txt`, `file ${i}`);
      expected[`${deep}/f${i}.txt`] = `file ${i}`;
    }
    const result = await scene.sync();
    expect(result.stdout).toContain('30 uploaded');
    expect(await scene.remoteTree()).toEqual(expected);
  });

  it('fills an empty local folder from the server', async () => {
    scene = await Scene.start();
    await scene.put('x/y.txt', 'why');
    await scene.put('z.txt', 'zed');
    await scene.sync();
    expect(await scene.localTree()).toEqual({ x: '/', 'x/y.txt': 'why', 'z.txt': 'zed' });
  });

  it('pairs identical files without a conflict and keeps both versions of different ones', async () => {
    scene = await Scene.start();
    await scene.write('same.txt', 'identical');
    await scene.write('differs.txt', 'local version');
    await scene.put('same.txt', 'identical');
    await scene.put('differs.txt', 'server version');
    const result = await scene.sync(1);
    expect(result.stdout).toContain('1 conflicts');
    const local = await scene.localTree();
    expect(local['same.txt']).toBe('identical');
    expect(local['differs.txt']).toBe('server version');
    const copies = Object.keys(local).filter((p) => p.startsWith('differs (conflict '));
    expect(copies).toHaveLength(1);
    expect(local[copies[0] ?? '']).toBe('local version');
    expect(await scene.remoteTree()).toEqual(local);
    const status = await scene.cli('status', '--json');
    expect(JSON.parse(status.stdout)).toMatchObject([{ tracked: { files: 3, folders: 0, bytes: 36 }, conflicts: [{ path: 'differs.txt', copy: copies[0], on: 'local' }] }]);
    await scene.sync();
    // Removing the copy settles the conflict for good: a later file of that name is none.
    await rm(scene.localPath(copies[0] ?? ''));
    await scene.sync();
    await scene.write(copies[0] ?? '', 'a new file under that name');
    expect(JSON.parse((await scene.cli('status', '--json')).stdout)).toMatchObject([{ conflicts: [] }]);
  });

  it('carries edits both ways and keeps modification times', async () => {
    scene = await Scene.start();
    await scene.write('mine.txt', 'v1');
    await scene.write('theirs.txt', 'v1');
    await scene.sync();
    await scene.write('mine.txt', 'v2 local');
    const theirs = await scene.entry('theirs.txt', 'file');
    await scene.server.replace(theirs?.id ?? '', (await import('../../src/remote/sources.js')).bufferSource(Buffer.from('v2 remote'), Date.now()));
    await scene.sync();
    expect(await scene.fetch('mine.txt')).toBe('v2 local');
    expect(await scene.read('theirs.txt')).toBe('v2 remote');
  });

  it.each(['local', 'onedrive', 's3', 'remote'] as const)('uploads an empty and a full file under the %s policy, and a second run makes no write', async (policy) => {
    // OneDrive takes no empty upload: the file is created directly, dated by the server.
    scene = await Scene.start({ standin: { policy } });
    await scene.write('empty.txt', '');
    await scene.write('full.txt', 'full');
    await scene.sync();
    scene.standin.control.resetCounts();
    await scene.sync();
    expect(scene.requests().writes).toBe(0);
    expect(scene.standin.control.requestCounts()['PUT /api/v3/file/download/:id'] ?? 0).toBe(0);
  });

  it('uploads a file whose modification time is ahead of the clock at once, with that time', async () => {
    // Holding it back as "still being written" would hold it until the clock caught up.
    scene = await Scene.start({ config: { sync: { settleTime: 2000, retries: 1 } } });
    await scene.write('photo.jpg', 'from a camera with a fast clock');
    const tomorrow = Math.floor(Date.now() / 1000) + 86_400;
    await utimes(scene.localPath('photo.jpg'), tomorrow, tomorrow);
    await scene.sync();
    expect(await scene.fetch('photo.jpg')).toBe('from a camera with a fast clock');
    expect((await scene.server.stat(scene.remotePath('photo.jpg'), 'file'))?.modifiedMs).toBe(tomorrow * 1000);
  });

  it('forgets a failing path once there is nothing left to do there', async () => {
    scene = await Scene.start();
    const s = scene;
    await s.write('kept.txt', 'k');
    await s.write('dropped.txt', 'd');
    s.standin.control.failNext('PUT /api/v3/file/upload', 20, 'code50001');
    await s.sync(1);
    s.standin.control.failNext('PUT /api/v3/file/upload', 0, 'code50001');
    const failing = async (): Promise<string[]> => (JSON.parse((await s.cli('status', '--json')).stdout) as { failing: { path: string }[] }[])[0]?.failing.map((f) => f.path) ?? [];
    expect(await failing()).toEqual(['dropped.txt', 'kept.txt']);
    // The user gave up on one of them; the other still waits for its retry.
    await rm(s.localPath('dropped.txt'));
    expect((await s.sync(1)).stdout).toBe('main: 0 uploaded, 0 downloaded, 0 moved, 0 deleted, 0 conflicts, 0 skipped, 1 deferred, 0 failed\n');
    expect(await failing()).toEqual(['kept.txt']);
  });

  it('deletes on the other side into a trash, and a modified file beats a delete', async () => {
    scene = await Scene.start();
    await scene.write('gone-locally.txt', 'l');
    await scene.write('gone-remotely.txt', 'r');
    await scene.write('edited-remotely.txt', 'e1');
    await scene.write('keep.txt', 'k');
    await scene.sync();
    await rm(scene.localPath('gone-locally.txt'));
    await rm(scene.localPath('edited-remotely.txt'));
    const gone = await scene.entry('gone-remotely.txt', 'file');
    await scene.server.delete([{ kind: 'file', id: gone?.id ?? '' }]);
    const edited = await scene.entry('edited-remotely.txt', 'file');
    await scene.server.replace(edited?.id ?? '', (await import('../../src/remote/sources.js')).bufferSource(Buffer.from('e2 longer'), Date.now()));
    const result = await scene.cli('--log-level', 'info', 'sync', '--once');
    expect(result.code).toBe(0);
    expect(await scene.localTree()).toEqual({ 'edited-remotely.txt': 'e2 longer', 'keep.txt': 'k' });
    expect(await scene.remoteTree()).toEqual({ 'edited-remotely.txt': 'e2 longer', 'keep.txt': 'k' });
    // The log says what changed where, one line each.
    const done = result.stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { msg: string; path?: string; side?: string })
      .flatMap(({ msg, path, side }) => (path === undefined ? [] : [{ msg, path, side }]))
      .sort((a, b) => a.path.localeCompare(b.path));
    expect(done).toEqual([
      { msg: 'downloaded', path: 'edited-remotely.txt', side: undefined },
      { msg: 'deleted on server', path: 'gone-locally.txt', side: 'remote' },
      { msg: 'deleted locally', path: 'gone-remotely.txt', side: 'local' },
    ]);
    const trash = await scene.localTree(`${scene.stateDir}/trash/main`);
    expect(Object.entries(trash).filter(([p]) => p.endsWith('gone-remotely.txt')).map(([, c]) => c)).toEqual(['r']);
  });

  it('tries another action at a path whose last action failed at once, not after that failure\'s backoff', async () => {
    // A daemon's pass created a folder where the user had just renamed one (EEXIST); the rename,
    // carried over at the same path, waited out the failed mkdir's backoff.
    scene = await Scene.start();
    await scene.sync();
    scene.withStateDatabase((db) => new FolderState(db, folderId(db, 'main')).recordFailure('sub', 'mkdir', 'local', 'EEXIST: file already exists', Date.now()));
    await scene.write('sub', 'a file where a folder could not be made');
    await scene.sync();
    expect(await scene.remoteTree()).toEqual({ sub: 'a file where a folder could not be made' });
  });
});
