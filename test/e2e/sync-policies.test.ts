import { rename, rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { bufferSource } from '../../src/remote/sources.js';
import { Scene, type FolderOptions } from './harness.js';

let scene: Scene | undefined;
afterEach(async () => {
  await scene?.close();
  scene = undefined;
});

async function editBoth(s: Scene, path: string, local: string, remote: string): Promise<void> {
  await s.write(path, local);
  const entry = await s.entry(path, 'file');
  await s.server.replace(entry?.id ?? '', bufferSource(Buffer.from(remote), Date.now()));
}

/** doc.txt synced, then edited on both sides (the server's edit is `serverEdit`) and synced again under `folder`. */
async function conflicted(folder: FolderOptions, serverEdit = 'server edit', sync: Record<string, unknown> = {}): Promise<Scene> {
  const s = await Scene.start({ folder, config: { sync: { settleTime: 0, retries: 1, ...sync } } });
  scene = s;
  await s.write('doc.txt', 'base');
  await s.sync();
  await editBoth(s, 'doc.txt', 'local edit', serverEdit);
  s.standin.control.resetCounts();
  await s.sync(1);
  return s;
}

describe('conflict policies', () => {
  it('local: the local version wins and the server version goes to the remote trash', async () => {
    const s = await conflicted({ conflict: 'local', trash: { remote: '/.trash' } });
    expect(await s.fetch('doc.txt')).toBe('local edit');
    expect(await s.read('doc.txt')).toBe('local edit');
    const [run] = (await s.server.list('/.trash')).entries;
    const trashed = await s.server.list(`/.trash/${run?.name ?? ''}`);
    expect(trashed.entries.map((e) => e.name)).toEqual(['doc.txt']);
  });

  it('local: a server version moved away before it could be kept in the remote trash is not replaced', async () => {
    const s = await Scene.start({ folder: { conflict: 'local', trash: { remote: '/.trash' } }, config: { sync: { settleTime: 0, retries: 1 } } });
    scene = s;
    await s.write('doc.txt', 'base');
    await s.write('sub/keep.txt', 'keep');
    await s.sync();
    await editBoth(s, 'doc.txt', 'local edit', 'server edit');
    const doc = await s.entry('doc.txt', 'file');
    // Another device moves the server's version away after the run looked for it in its folder
    // (the third listing, after the server walk's two) and before the copy into the trash that
    // relied on that look, held 0.5 s. Cloudreve then copies nothing, and says nothing of it.
    s.standin.control.resetCounts();
    s.standin.control.delayNext('POST /api/v3/object/copy', 500);
    const run = s.cli('sync', '--once');
    while ((s.standin.control.requestCounts()['GET /api/v3/directory/*path'] ?? 0) < 3) await sleep(2);
    await sleep(20);
    await s.server.move(s.remoteRoot, [{ kind: 'file', id: doc?.id ?? '' }], `${s.remoteRoot}/sub`);
    expect((await run).code).toBe(1);
    expect(await s.fetch('sub/doc.txt')).toBe('server edit');
    // The next run sees the move, and the conflict is settled as usual.
    await s.sync(1);
    expect(await s.fetch('sub/doc.txt')).toBe('local edit');
    const kept = [];
    for (const pass of (await s.server.list('/.trash')).entries) kept.push(...(await s.server.list(`/.trash/${pass.name}/sub`).catch(() => ({ entries: [] }))).entries);
    expect(kept).toMatchObject([{ name: 'doc.txt', size: 'server edit'.length }]);
  });

  it('local, without a remote trash: the server version is downloaded into the local trash', async () => {
    const s = await conflicted({ conflict: 'local' }, 'server edit, longer');
    expect(await s.fetch('doc.txt')).toBe('local edit');
    const trash = await s.localTree(`${s.stateDir}/trash/main`);
    expect(Object.values(trash).filter((content) => content !== '/')).toEqual(['server edit, longer']);
  });

  describe('local, with a local version above replaceMaxSize', () => {
    // One request would carry the whole file, which a proxy's body limit refuses.
    const large = { replaceMaxSize: 4 };
    const updates = (s: Scene): number => s.standin.control.requestCounts()['PUT /api/v3/file/update/:id'] ?? 0;

    it('uploads it beside the server version and swaps, which goes to the remote trash', async () => {
      const s = await conflicted({ conflict: 'local', trash: { remote: '/.trash' } }, 'server edit', large);
      expect(await s.fetch('doc.txt')).toBe('local edit');
      expect(Object.keys(await s.remoteTree())).toEqual(['doc.txt']);
      const [run] = (await s.server.list('/.trash')).entries;
      const [trashed] = (await s.server.list(`/.trash/${run?.name ?? ''}`)).entries;
      expect(trashed).toMatchObject({ name: 'doc.txt', size: 'server edit'.length });
      expect(updates(s)).toBe(0);
      await s.sync(0);
    });

    it('without a remote trash, keeps the server version in the local trash first', async () => {
      const s = await conflicted({ conflict: 'local' }, 'server edit, longer', large);
      expect(await s.fetch('doc.txt')).toBe('local edit');
      const trash = await s.localTree(`${s.stateDir}/trash/main`);
      expect(Object.values(trash).filter((content) => content !== '/')).toEqual(['server edit, longer']);
      expect(updates(s)).toBe(0);
      await s.sync(0);
    });

    // Sizes that differ, and the same size, which has the versions compared first; a retry
    // after the old version is gone, and one before (the upload failed), which keeps no second copy.
    it.each([
      ['server edit', 'POST /api/v3/object/rename'],
      ['remote one', 'POST /api/v3/object/rename'],
      ['remote one', 'PUT /api/v3/file/upload'],
    ])('finishes the swap on a retry (server edit "%s", %s failing)', async (serverEdit, failing) => {
      const s = await Scene.start({ folder: { conflict: 'local' }, config: { sync: { settleTime: 0, retries: 1, ...large } } });
      scene = s;
      await s.write('doc.txt', 'base');
      await s.sync();
      await editBoth(s, 'doc.txt', 'local edit', serverEdit);
      s.standin.control.resetCounts();
      s.standin.control.failNext(failing, 3, 'http502');
      await s.sync(1);
      expect(await s.fetch('doc.txt')).toBe('local edit');
      expect(Object.keys(await s.remoteTree())).toEqual(['doc.txt']);
      expect(updates(s)).toBe(0);
      const trash = await s.localTree(`${s.stateDir}/trash/main`);
      expect(Object.values(trash).filter((content) => content !== '/')).toEqual([serverEdit]);
      await s.sync(0);
    });
  });

  it.each(['newer', 'remote'] as const)('%s: a server rename (which dates the file anew) does not win over a local edit; both are kept', async (conflict) => {
    const s = await Scene.start({ folder: { conflict }, config: { sync: { settleTime: 0 } } });
    scene = s;
    await s.write('doc.txt', 'base');
    await s.sync();
    await s.write('doc.txt', 'local edit');
    const entry = await s.entry('doc.txt', 'file');
    await s.server.rename({ kind: 'file', id: entry?.id ?? '' }, 'renamed.txt');
    // A conflict kept as two files exits 1.
    await s.sync(1);
    expect(Object.values(await s.localTree()).sort()).toEqual(['base', 'local edit']);
    expect(await s.remoteTree()).toEqual(await s.localTree());
  });

  it('remote: the server version wins and the local version goes to the local trash', async () => {
    const s = await conflicted({ conflict: 'remote' });
    expect(await s.read('doc.txt')).toBe('server edit');
    const trash = await s.localTree(`${s.stateDir}/trash/main`);
    expect(Object.values(trash)).toContain('local edit');
  });
});

describe('remote trash', () => {
  it('moves server deletes into a dated folder of the trash instead of deleting them', async () => {
    scene = await Scene.start({ folder: { trash: { remote: '/.trash' } } });
    await scene.write('keep.txt', 'k');
    await scene.write('sub/old.txt', 'old');
    await scene.sync();
    await rm(scene.localPath('sub'), { recursive: true });
    await scene.sync();
    expect(await scene.entry('sub')).toBeUndefined();
    const runs = await scene.server.list('/.trash');
    expect(runs.entries).toHaveLength(1);
    const run = runs.entries[0]?.name ?? '';
    const inside = await scene.server.list(`/.trash/${run}/sub`);
    expect(inside.entries.map((e) => e.name)).toEqual(['old.txt']);
  });

  it('takes a deleted folder whole, after moving out what was moved out of it, in one run', async () => {
    scene = await Scene.start({ folder: { trash: { remote: '/.trash' } } });
    await scene.write('deep/a.txt', 'a');
    await scene.write('deep/b.txt', 'b');
    await scene.write('deep/c.txt', 'c');
    await scene.write('keep/k.txt', 'k');
    await scene.sync();
    await rename(scene.localPath('deep/a.txt'), scene.localPath('keep/a.txt'));
    await rm(scene.localPath('deep'), { recursive: true });
    await scene.sync();
    expect(await scene.entry('deep')).toBeUndefined();
    expect((await scene.server.list(scene.remotePath('keep'))).entries.map((e) => e.name).sort()).toEqual(['a.txt', 'k.txt']);
    const run = (await scene.server.list('/.trash')).entries[0]?.name ?? '';
    const inside = await scene.server.list(`/.trash/${run}/deep`);
    expect(inside.entries.map((e) => e.name).sort()).toEqual(['b.txt', 'c.txt']);
  });
});
