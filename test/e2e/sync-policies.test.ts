import { rm } from 'node:fs/promises';
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
async function conflicted(folder: FolderOptions, serverEdit = 'server edit'): Promise<Scene> {
  const s = await Scene.start({ folder });
  scene = s;
  await s.write('doc.txt', 'base');
  await s.sync();
  await editBoth(s, 'doc.txt', 'local edit', serverEdit);
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

  it('local, without a remote trash: the server version is downloaded into the local trash', async () => {
    const s = await conflicted({ conflict: 'local' }, 'server edit, longer');
    expect(await s.fetch('doc.txt')).toBe('local edit');
    const trash = await s.localTree(`${s.stateDir}/trash/main`);
    expect(Object.values(trash).filter((content) => content !== '/')).toEqual(['server edit, longer']);
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
});
