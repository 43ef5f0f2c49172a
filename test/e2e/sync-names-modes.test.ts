import { lstat, mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { bufferSource } from '../../src/remote/sources.js';
import { folderMarkerName } from '../../src/sync/folder-marker.js';
import { Scene } from './harness.js';

let scene: Scene | undefined;
afterEach(async () => {
  await scene?.close();
  scene = undefined;
});

describe('names', () => {
  it('skips and reports names the server refuses, syncs the rest, and exits 1', async () => {
    scene = await Scene.start();
    await scene.write('fine.txt', 'ok');
    await scene.write('what?.txt', 'q');
    await scene.write('trailing .txt ', 't');
    const result = await scene.sync(1);
    expect(result.stdout).toContain('2 skipped');
    expect(Object.keys(await scene.remoteTree())).toEqual(['fine.txt']);
    const status = JSON.parse((await scene.cli('status', '--json')).stdout) as { skipped: { path: string; reason: string }[] }[];
    expect(status[0]?.skipped.map((s) => s.path).sort()).toEqual(['trailing .txt ', 'what?.txt']);
  });

  it('keeps a server folder deleted locally while it holds a name the scan skips', async () => {
    scene = await Scene.start();
    const s = scene;
    const odd = 'tab\there.txt';
    await s.write('dir/a.txt', 'a');
    await s.write('keep.txt', 'k');
    await s.sync();
    await s.put(`dir/${odd}`, 'only on the server');
    await rm(s.localPath('dir'), { recursive: true });
    const result = await s.sync(1);
    expect(result.stdout).toContain('1 skipped');
    // Deleting the folder would have taken the file the scan could only skip.
    expect(await s.fetch(`dir/${odd}`)).toBe('only on the server');
    expect(await s.entry('dir/a.txt')).toBeUndefined();
  });

  it('leaves a file and a folder where they were synced when the server renames them to names this side skips', async () => {
    const s = await syncedThree();
    await s.server.rename((await s.entry('a.txt', 'file')) ?? missing('a.txt'), 'a\n.txt');
    await s.server.rename((await s.entry('dir', 'dir')) ?? missing('dir'), 'dir\t');
    const result = await s.sync(1);
    expect(result.stdout).toContain('0 deleted');
    expect(result.stdout).toContain('2 skipped');
    expect(await s.localTree()).toEqual({ 'a.txt': 'a', dir: '/', 'dir/x.txt': 'x', 'keep.txt': 'k' });
    // An edit waits, with nothing tried, for a name it can take.
    await s.write('a.txt', 'edited');
    expect((await s.sync(1)).stdout).toContain('2 skipped, 0 deferred');
    expect(await s.fetch('a\n.txt')).toBe('a');
    await s.server.rename((await s.entry('a\n.txt', 'file')) ?? missing('a\n.txt'), 'b.txt');
    await s.server.rename((await s.entry('dir\t', 'dir')) ?? missing('dir\t'), 'dir2');
    // Renamed, the server file has a new date, which may as well be an edit of the same size:
    // both versions are kept.
    expect((await s.sync(1)).stdout).toContain('1 conflicts');
    const local = await s.localTree();
    const copy = Object.keys(local).find((path) => path.startsWith('b (conflict '));
    expect(local).toEqual({ 'b.txt': 'a', [copy ?? 'b (conflict)']: 'edited', dir2: '/', 'dir2/x.txt': 'x', 'keep.txt': 'k' });
    expect(await s.remoteTree()).toEqual(await s.localTree());
  });

  it('leaves a file and a folder where they were synced when they are renamed locally to names the scan skips, and does not take the folder for empty', async () => {
    const s = await syncedThree();
    const notUtf8 = Buffer.concat([Buffer.from(s.localPath('keep')), Buffer.from([0xe9]), Buffer.from('.txt')]);
    await rename(s.localPath('a.txt'), s.localPath('a\n.txt'));
    await rename(s.localPath('dir'), s.localPath('dir\\2'));
    await rename(s.localPath('keep.txt'), notUtf8);
    const result = await s.sync(1);
    expect(result.stdout).toContain('0 deleted');
    expect(result.stdout).toContain('3 skipped');
    expect((await s.cli('status')).stdout).toContain('the name is not valid UTF-8 ("keep\\xe9.txt")');
    expect(await s.remoteTree()).toEqual({ 'a.txt': 'a', dir: '/', 'dir/x.txt': 'x', 'keep.txt': 'k' });
    await rename(s.localPath('a\n.txt'), s.localPath('b.txt'));
    await rename(s.localPath('dir\\2'), s.localPath('dir2'));
    await rename(notUtf8, s.localPath('kept.txt'));
    s.standin.control.resetCounts();
    await s.sync(0);
    expect(await s.remoteTree()).toEqual({ 'b.txt': 'a', dir2: '/', 'dir2/x.txt': 'x', 'kept.txt': 'k' });
    expect(s.requests().counts['POST /api/v3/file/upload/:sessionId/:index']).toBeUndefined();
  });

  it('does not take a server folder holding only skipped names for empty, nor a rename to an NFC twin for a delete', async () => {
    scene = await Scene.start();
    const s = scene;
    await s.write('a.txt', 'a');
    await s.sync();
    await s.server.rename((await s.entry('a.txt', 'file')) ?? missing('a.txt'), 'a\n.txt');
    expect((await s.sync(1)).stdout).toContain('0 deleted');
    expect(await s.read('a.txt')).toBe('a');

    const composed = 'caf\u00e9.txt';
    const decomposed = 'cafe\u0301.txt';
    await s.write(decomposed, 'decomposed');
    await s.write('other.txt', 'other');
    await s.sync(1);
    await s.server.rename((await s.entry('other.txt', 'file')) ?? missing('other.txt'), composed);
    expect((await s.sync(1)).stdout).toContain('0 deleted');
    expect(await s.read('other.txt')).toBe('other');
  });

  it('keeps NFD spellings and Unicode names as they are on each side', async () => {
    scene = await Scene.start();
    const nfd = 'cafe\u0301.txt';
    await writeFile(scene.localPath(nfd), 'nfd');
    await scene.write('日本語 🎉 #1 %20.txt', 'unicode');
    await scene.put('Ångström.txt'.normalize('NFD'), 'server nfd');
    await scene.sync();
    const remote = await scene.remoteTree();
    expect(remote[nfd]).toBe('nfd');
    expect(remote['日本語 🎉 #1 %20.txt']).toBe('unicode');
    expect(await scene.read('Ångström.txt'.normalize('NFD'))).toBe('server nfd');
    scene.standin.control.resetCounts();
    await scene.sync();
    expect(scene.requests().writes).toBe(0);
  });

  it.each(['local', 'server'] as const)('keeps syncing a synced file when a %s newcomer spelled the other Unicode way appears beside it', async (side) => {
    scene = await Scene.start();
    const s = scene;
    const composed = 'caf\u00e9.txt';
    const decomposed = 'cafe\u0301.txt';
    await s.write(composed, 'original');
    await s.sync();
    // The decomposed spelling sorts first, and was taken over the synced one.
    if (side === 'local') await writeFile(s.localPath(decomposed), 'newcomer');
    else await s.put(decomposed, 'newcomer');
    const result = await s.sync(1);
    expect(result.stdout).toContain('1 skipped');
    expect(await s.read(composed)).toBe('original');
    expect(await s.fetch(composed)).toBe('original');
    // The synced one goes on syncing, also when saved the way editors save (a new inode).
    await s.write('.edit.tmp', 'edited');
    await rename(s.localPath('.edit.tmp'), s.localPath(composed));
    await s.sync(1);
    expect(await s.fetch(composed)).toBe('edited');
  });

  it('takes a local path too deep for a download as in sync once it was sent, not as skipped on the server side', async () => {
    scene = await Scene.start();
    const s = scene;
    // Within 20 bytes of PATH_MAX: a download there would need room for its temporary name.
    const room = 4095 - 20 - Buffer.byteLength(s.local) - 1 - '/f.txt'.length;
    const segments = Array.from({ length: Math.floor(room / 201) }, () => 'e'.repeat(200));
    const dir = [...segments, 'p'.repeat(room - segments.length * 201)].join('/');
    expect(Buffer.byteLength(`${s.local}/${dir}/f.txt`)).toBe(4075);
    await s.write(`${dir}/f.txt`, 'deep');
    await s.sync(0);
    expect((await s.sync(0)).stdout).toContain('0 skipped');
    // A new server file as deep is skipped: it could not be downloaded.
    await s.put(`${dir}/g.txt`, 'from the server');
    expect((await s.sync(1)).stdout).toContain('1 skipped');
  });

  it('ignores what the rules and .cloudreveignore say, on both sides', async () => {
    scene = await Scene.start({ folder: { ignore: ['*.log', 'build/'] } });
    await scene.write('.cloudreveignore', 'secret/\n');
    await scene.write('app.log', 'noise');
    await scene.write('build/out.o', 'obj');
    await scene.write('secret/key', 'k');
    await scene.write('src/main.c', 'int main;');
    await scene.put('server.log', 'remote noise');
    await scene.sync();
    expect(await scene.remoteTree()).toEqual({ 'server.log': 'remote noise', src: '/', 'src/main.c': 'int main;' });
    expect(await scene.exists('server.log')).toBe(false);
  });
});

describe('names held by ignored entries', () => {
  it('skips a server file whose local name an ignored folder holds, without downloading it', async () => {
    scene = await Scene.start({ folder: { ignore: ['build/'] } });
    await scene.write('build/out.o', 'obj');
    await scene.put('build', 'a server file named like the ignored folder');
    scene.standin.control.resetCounts();
    const result = await scene.sync(1);
    expect(result.stdout).toContain('1 skipped');
    expect(scene.requests().writes).toBe(0);
    expect(await scene.read('build/out.o')).toBe('obj');
    const status = JSON.parse((await scene.cli('status', '--json')).stdout) as { skipped: { path: string; reason: string }[] }[];
    expect(status[0]?.skipped).toEqual([{ side: 'remote', path: 'build', reason: expect.stringContaining('ignore rules') as string }]);
    expect(await scene.fetch('build')).toBe('a server file named like the ignored folder');
  });
});

describe('one-way modes', () => {
  it('upload-only never writes locally', async () => {
    scene = await Scene.start({ folder: { mode: 'upload-only' } });
    await scene.write('up.txt', 'up');
    await scene.write('other.txt', 'other');
    await scene.put('down.txt', 'down');
    await scene.sync();
    expect(await scene.localTree()).toEqual({ 'other.txt': 'other', 'up.txt': 'up' });
    expect(await scene.exists(folderMarkerName)).toBe(false);
    expect(await scene.fetch('up.txt')).toBe('up');
    const up = await scene.entry('up.txt', 'file');
    await scene.server.replace(up?.id ?? '', bufferSource(Buffer.from('changed on server'), Date.now()));
    await scene.sync();
    expect(await scene.read('up.txt')).toBe('up');
    // Deleted locally but changed on the server: the server's version stays.
    await rm(scene.localPath('up.txt'));
    await scene.sync();
    expect(await scene.fetch('up.txt')).toBe('changed on server');
  });

  it('upload-only keeps the server version of a conflict as a copy, even when the run fails between the two writes', async () => {
    scene = await Scene.start({ folder: { mode: 'upload-only' } });
    const s = scene;
    await s.write('plan.txt', 'version 1');
    await s.sync();
    // The same size on both sides: a renamed server file is told apart by its size alone.
    await s.write('plan.txt', 'local   2');
    const synced = await s.entry('plan.txt', 'file');
    await s.server.replace(synced?.id ?? '', bufferSource(Buffer.from('server  2'), Date.now()));
    // The server's version is renamed aside, then the connection breaks for good.
    s.standin.control.failNext('PUT /api/v3/file/upload', 100, 'reset');
    await s.sync(4);
    s.standin.control.failNext('PUT /api/v3/file/upload', 0, 'reset');
    const tree = await s.remoteTree();
    expect(Object.keys(tree)).toEqual([expect.stringMatching(/^plan \(conflict .*\)\.txt$/)]);
    expect(Object.values(tree)).toEqual(['server  2']);
    // The next run sends the local version as a new file, and leaves the copy alone.
    const next = JSON.parse((await s.cli('sync', '--once', '--dry-run', '--json')).stdout) as { actions: { type: string; remotePath?: string; replace?: unknown }[] }[];
    expect(next[0]?.actions.map((a) => `${a.type} ${a.remotePath ?? ''} ${a.replace === undefined || a.replace === false ? 'new' : 'replace'}`)).toEqual(['upload plan.txt new']);
    expect(await s.localTree()).toEqual({ 'plan.txt': 'local   2' });
  });

  it('download-only never writes to the server', async () => {
    scene = await Scene.start({ folder: { mode: 'download-only' } });
    await scene.write('mine.txt', 'mine');
    await scene.put('theirs.txt', 'theirs');
    await scene.sync();
    expect(await scene.read('theirs.txt')).toBe('theirs');
    expect(await scene.entry('mine.txt')).toBeUndefined();
    await rm(scene.localPath('theirs.txt'));
    scene.standin.control.resetCounts();
    await scene.sync();
    expect(scene.requests().writes).toBe(0);
    expect(await scene.fetch('theirs.txt')).toBe('theirs');
  });
});

describe('a conflict under a one-way mode', () => {
  /** `notes.txt` synced from the mode's source side, then edited on both sides; the run that meets it exits 1. */
  async function editedOnBothSides(mode: 'download-only' | 'upload-only'): Promise<Scene> {
    scene = await Scene.start({ folder: { mode } });
    const s = scene;
    await (mode === 'download-only' ? s.put('notes.txt', 'first') : s.write('notes.txt', 'first'));
    await s.sync();
    await s.write('notes.txt', 'edited here');
    const entry = await s.entry('notes.txt', 'file');
    await s.server.replace(entry?.id ?? '', bufferSource(Buffer.from('edited there, longer'), Date.now()));
    await s.sync(1);
    return s;
  }

  it('keeps the local version as a copy under download-only, which status lists as it does under two-way', async () => {
    const s = await editedOnBothSides('download-only');
    const tree = await s.localTree();
    const copy = Object.keys(tree).find((path) => path.startsWith('notes (conflict '));
    expect(tree).toEqual({ 'notes.txt': 'edited there, longer', [copy ?? '']: 'edited here' });
    expect((await s.cli('status')).stdout).toContain(`conflicts (1):\n    notes.txt: other version kept as ${copy ?? ''}`);
  });

  it('keeps the server version as a copy on the server under upload-only, which status lists until it is gone', async () => {
    const s = await editedOnBothSides('upload-only');
    const copy = Object.keys(await s.remoteTree()).find((path) => path.startsWith('notes (conflict '));
    expect((await s.cli('status')).stdout).toContain(`conflicts (1):\n    notes.txt: other version kept as ${copy ?? ''} on the server`);
    // Looking for it costs a pass no request of its own: one listing per server folder.
    s.standin.control.resetCounts();
    await s.sync();
    expect(s.requests()).toMatchObject({ listings: 1, writes: 0 });
    expect((await s.cli('status')).stdout).toContain('conflicts (1):');
    const kept = await s.entry(copy ?? '', 'file');
    await s.server.delete([kept ?? { id: '', kind: 'file' }]);
    await s.sync();
    expect((await s.cli('status')).stdout).not.toContain('conflicts (');
  });
});

describe('a one-way mode turned two-way', () => {
  async function deletedUnderDownloadOnly(): Promise<Scene> {
    const s = await Scene.start({ folder: { mode: 'download-only' } });
    await s.put('theirs.txt', 'theirs');
    await s.put('d/inside.txt', 'inside');
    await s.put('keep.txt', 'keep');
    await s.sync();
    await rm(s.localPath('theirs.txt'));
    await rm(s.localPath('d'), { recursive: true });
    await s.sync();
    await s.changeFolder({ mode: 'two-way' });
    return s;
  }

  it('brings back what was deleted locally meanwhile instead of deleting it from the server', async () => {
    scene = await deletedUnderDownloadOnly();
    const s = scene;
    await s.sync();
    const both = { d: '/', 'd/inside.txt': 'inside', 'keep.txt': 'keep', 'theirs.txt': 'theirs' };
    expect(await s.localTree()).toEqual(both);
    expect(await s.remoteTree()).toEqual(both);
    // That pass was clean: from now on a local delete is carried over like any other.
    await rm(s.localPath('keep.txt'));
    await s.sync();
    expect(await s.entry('keep.txt')).toBeUndefined();
  });

  it('keeps doing so while a path it could not bring back waits for its retry', async () => {
    scene = await deletedUnderDownloadOnly();
    const s = scene;
    s.standin.control.failNext('PUT /api/v3/file/download/:id', 100, 'code50001');
    await s.sync(1);
    s.standin.control.failNext('PUT /api/v3/file/download/:id', 0, 'code50001');
    await rm(s.localPath('keep.txt'));
    const next = JSON.parse((await s.sync(0, '--dry-run', '--json')).stdout) as { actions: { type: string; side?: string; localPath?: string }[] }[];
    expect(next[0]?.actions.map((a) => `${a.type} ${a.side ?? a.localPath ?? ''}`).sort()).toEqual(['download d/inside.txt', 'download keep.txt', 'download theirs.txt']);
  });

  it('keeps doing so while a path it could not bring back is skipped', async () => {
    scene = await deletedUnderDownloadOnly();
    const s = scene;
    // An ignored local folder holds the name, so the server's file cannot come back yet.
    await s.changeFolder({ mode: 'two-way', ignore: ['theirs.txt/'] });
    await mkdir(s.localPath('theirs.txt'));
    expect((await s.sync(1)).stdout).toContain('1 skipped');
    await rm(s.localPath('theirs.txt'), { recursive: true });
    await s.sync();
    expect(await s.read('theirs.txt')).toBe('theirs');
    expect((await s.remoteTree())['theirs.txt']).toBe('theirs');
  });
});

describe('a synced file replaced by a symbolic link', () => {
  it('is left as it is, and a server edit of the file waits until the link is gone', async () => {
    scene = await Scene.start();
    const s = scene;
    await s.write('f.txt', 'regular');
    await s.write('t.txt', 'target');
    await s.sync();
    await rm(s.localPath('f.txt'));
    await symlink('t.txt', s.localPath('f.txt'));
    await s.cli('sync', '--once');
    const entry = await s.entry('f.txt', 'file');
    await s.server.replace(entry?.id ?? '', bufferSource(Buffer.from('edited on the server'), Date.now()));
    s.standin.control.resetCounts();
    // Nothing to do, where a download would find the link in its way at every pass.
    for (let run = 0; run < 2; run++) expect((await s.cli('sync', '--once')).stdout).toContain(' 0 deferred');
    expect(s.standin.control.requestCounts()['PUT /api/v3/file/download/:id'] ?? 0).toBe(0);
    expect((await lstat(s.localPath('f.txt'))).isSymbolicLink()).toBe(true);
    expect(await s.fetch('f.txt')).toBe('edited on the server');
    await rm(s.localPath('f.txt'));
    await s.sync();
    expect(await s.read('f.txt')).toBe('edited on the server');
  });
});

describe('links', () => {
  it('shares a synced folder and gives a direct link to a synced file', async () => {
    scene = await Scene.start();
    await scene.write('docs/report.pdf', 'pdf');
    await scene.sync();
    const share = await scene.cli('share', scene.localPath('docs'), '--password', 'pw', '--expire', '1d');
    expect(share.code).toBe(0);
    expect(share.stdout.trim()).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/s\/\w+$/);
    const link = await scene.cli('link', scene.localPath('docs/report.pdf'));
    expect(link.code).toBe(0);
    expect(link.stdout.trim()).toMatch(/\/f\/\w+\/report\.pdf$/);
    const outside = await scene.cli('link', '/etc/hostname');
    expect(outside.code).toBe(2);
    expect(outside.stderr).toContain('is not inside a synced folder');
    // The synced folder itself is shared through its server folder.
    const whole = await scene.cli('share', scene.local);
    expect(whole.code).toBe(0);
    expect(whole.stdout.trim()).toMatch(/\/s\/\w+$/);
    expect((await scene.cli('link', scene.local)).stderr).toContain('is a folder; direct links exist for files only');
    // Options are checked before the path, and a limit of nothing is refused.
    const zero = await scene.cli('share', scene.localPath('not synced yet'), '--expire', '0s');
    expect(zero.code).toBe(2);
    expect(zero.stderr).toContain('--expire: expected at least 1s, got "0s"');
    // A mistyped path is said to be one; a new file is not synced yet, by the daemon if one runs.
    expect((await scene.cli('link', scene.localPath('docs/reprot.pdf'))).stderr).toContain(`${scene.localPath('docs/reprot.pdf')} does not exist`);
    await scene.write('docs/new.txt', 'new');
    expect((await scene.cli('link', scene.localPath('docs/new.txt'))).stderr).toContain(
      'docs/new.txt in folder "main" has not been synced yet; let the daemon sync it, or run "cloudreve-sync sync --once" first if none runs',
    );
  });
});

/** A scene with a file, a folder holding one and a file to keep, synced. */
async function syncedThree(): Promise<Scene> {
  scene = await Scene.start();
  await scene.write('a.txt', 'a');
  await scene.write('dir/x.txt', 'x');
  await scene.write('keep.txt', 'k');
  await scene.sync();
  return scene;
}

function missing(path: string): never {
  throw new Error(`${path} is not on the server`);
}
