import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { Client, rawRequest } from '../standin/test-client.js';
import { folderMarkerName } from '../../src/sync/folder-marker.js';
import { cutShort, Scene } from './harness.js';

let scene: Scene | undefined;
afterEach(async () => {
  await scene?.close();
  scene = undefined;
});

async function seeded(files = 4, options: Parameters<typeof Scene.start>[0] = {}): Promise<Scene> {
  const s = await Scene.start(options);
  for (let i = 0; i < files; i++) await s.write(`f${i}.txt`, `content ${i}`);
  await s.sync();
  return s;
}

describe('root guard', () => {
  it('stops with exit code 3 when the local folder was emptied, and deletes nothing', async () => {
    scene = await seeded();
    for (const name of await readdir(scene.local)) await rm(join(scene.local, name), { recursive: true });
    const result = await scene.sync(3);
    expect(result.stdout).toContain('the local folder is empty');
    expect(Object.keys(await scene.remoteTree())).toHaveLength(4);
    const status = JSON.parse((await scene.cli('status', '--json')).stdout) as { lastRun: { stopped: string } }[];
    expect(status[0]?.lastRun.stopped).toContain('the local folder is empty');
  });

  it('is run past by the next pass after `resume`, and only when a guard did stop the folder', async () => {
    // A force nobody saw a reason for would wait for whatever pass came next.
    scene = await seeded();
    expect((await scene.cli('resume', 'main')).stdout).toContain('main: no safety guard stopped it; nothing to resume');
    for (const name of await readdir(scene.local)) await rm(join(scene.local, name), { recursive: true });
    await scene.sync(3);
    expect(Object.keys(await scene.remoteTree())).toHaveLength(4);
    expect((await scene.cli('resume', 'main')).stdout).toContain('main: resumed; the next pass (daemon or sync --once) runs past the guard');
    // A dry run shows that pass (its deletes final: no server trash is set), and leaves it to come.
    const dry = await scene.sync(0, '--dry-run');
    expect(dry.stdout.match(/delete \(final\) +server/g)).toHaveLength(4);
    await scene.sync();
    expect(await scene.remoteTree()).toEqual({});
  });

  it('keeps a `resume` for the next run when a run fails before the guards (the server down)', async () => {
    scene = await seeded(4, { proxy: true });
    for (const name of await readdir(scene.local)) await rm(join(scene.local, name), { recursive: true });
    await scene.sync(3);
    await scene.cli('resume', 'main');
    await scene.proxy?.down();
    await scene.sync(4);
    await scene.proxy?.up();
    await scene.sync();
    expect(await scene.remoteTree()).toEqual({});
  });

  it('stops when the local folder is missing (an unmounted drive)', async () => {
    scene = await seeded();
    await rename(scene.local, `${scene.local}-unmounted`);
    const result = await scene.sync(3);
    expect(result.stdout).toContain('missing');
    expect(Object.keys(await scene.remoteTree())).toHaveLength(4);
    await rename(`${scene.local}-unmounted`, scene.local);
  });

  it('takes a `resume` of a missing folder for no agreement to an empty one', async () => {
    // The mount point comes back before the drive is mounted on it.
    scene = await seeded();
    await rename(scene.local, `${scene.local}-unmounted`);
    await scene.sync(3);
    expect((await scene.cli('resume', 'main')).stdout).toContain('main: resumed; the next pass (daemon or sync --once) is judged by the guards as usual');
    await mkdir(scene.local);
    expect((await scene.sync(3)).stdout).toContain('the local folder is empty');
    expect(Object.keys(await scene.remoteTree())).toHaveLength(4);
    await rm(scene.local, { recursive: true });
    await rename(`${scene.local}-unmounted`, scene.local);
  });

  it('stops when the server folder was deleted', async () => {
    scene = await seeded();
    const root = await scene.server.stat(scene.remoteRoot, 'dir');
    await scene.server.delete([{ kind: 'dir', id: root?.id ?? '' }]);
    const result = await scene.sync(3);
    expect(result.stdout).toContain('the server folder does not exist');
    expect(Object.keys(await scene.localTree())).toHaveLength(4);
  });
});

describe('what the scanner skips', () => {
  it('a synced file replaced by a symlink is reported, not deleted on the server', async () => {
    scene = await seeded();
    await rm(scene.localPath('f1.txt'));
    await symlink('/etc/hostname', scene.localPath('f1.txt'));
    const result = await scene.sync(1);
    expect(result.stdout).toContain('1 skipped');
    expect(await scene.fetch('f1.txt')).toBe('content 1');
  });

  it('a synced folder replaced by a symlink receives nothing from the server through it until it is a folder again', async () => {
    scene = await seeded(1);
    await scene.write('L/x.txt', 'x');
    await scene.sync();
    // The folder moved to another disk and linked back.
    const elsewhere = join(scene.dir, 'elsewhere');
    await rename(scene.localPath('L'), elsewhere);
    await symlink(elsewhere, scene.localPath('L'));
    await scene.put('L/new.txt', 'from the server');
    await scene.put('L/sub/deep.txt', 'deeper');
    const result = await scene.sync(1);
    expect(result.stdout).toContain('0 downloaded');
    expect((await readdir(elsewhere)).sort()).toEqual(['x.txt']);
    expect(await scene.fetch('L/x.txt')).toBe('x');
    // A folder again: what waited comes down.
    await rm(scene.localPath('L'));
    await rename(elsewhere, scene.localPath('L'));
    await scene.sync();
    expect(await scene.read('L/new.txt')).toBe('from the server');
    expect(await scene.read('L/sub/deep.txt')).toBe('deeper');
  });
});

describe('a file cut short', () => {
  it('gets the server copy back when it became empty with its time unchanged, the empty file going to the trash', async () => {
    scene = await seeded(2);
    const s = scene;
    const path = s.localPath('f0.txt');
    await cutShort(path);
    await s.sync();
    expect(await s.read('f0.txt')).toBe('content 0');
    expect(await s.fetch('f0.txt')).toBe('content 0');
    const trashed = await readdir(join(s.stateDir, 'trash', 'main'), { recursive: true });
    expect(trashed.some((name) => name.endsWith('f0.txt'))).toBe(true);
  });
});

describe('a file whose server object no listing showed yet', () => {
  it('is sent again when the server lacks it, not deleted locally', async () => {
    scene = await seeded(2);
    const s = scene;
    await s.write('mine.txt', 'only here');
    await s.sync();
    // A pass cut short after the upload and before its listing leaves the row without an ID;
    // another device cancelling the account's unfinished uploads then removed the file.
    s.withStateDatabase((db) => db.prepare("UPDATE synced SET remote_id = NULL WHERE local_name = 'mine.txt'").run());
    const sent = await s.entry('mine.txt', 'file');
    await s.server.delete([{ kind: 'file', id: sent?.id ?? '' }]);

    expect((await s.sync()).stdout).toContain('1 uploaded, 0 downloaded');
    expect(await s.read('mine.txt')).toBe('only here');
    expect(await s.fetch('mine.txt')).toBe('only here');
    expect(await s.remoteTree()).toEqual(await s.localTree());
    const trash = join(s.stateDir, 'trash', 'main');
    const trashed = existsSync(trash) ? await readdir(trash, { recursive: true }) : [];
    expect(trashed.filter((name) => name.endsWith('mine.txt'))).toEqual([]);
    expect((await s.sync()).stdout).toContain('0 uploaded, 0 downloaded');
  });
});

describe('a server file whose update broke off', () => {
  it('is not downloaded while it holds other bytes than listed', async () => {
    // Cloudreve writes an update in place and records size and date only once it is whole: one
    // cut off leaves the start of the new version under the old listing.
    scene = await Scene.start();
    const s = scene;
    await s.put('report.txt', 'first version');
    const file = await s.entry('report.txt', 'file');
    const device = new Client(s.standin.url);
    await device.login(s.standin.admin.email, s.standin.admin.password);
    const cut = await rawRequest(s.standin.url, `/api/v3/file/update/${file?.id ?? ''}`, {
      method: 'PUT',
      headers: { cookie: device.cookie ?? '', 'content-length': '100' },
      body: Buffer.alloc(100, 'z'),
      abortAfter: 5,
    });
    expect(cut).toBe('aborted');
    const result = await s.sync(1);
    expect(result.stdout).toContain('1 deferred');
    expect(await s.exists('report.txt')).toBe(false);
  });
});

describe('a server file a killed run left cut short', () => {
  // A run killed right after sending an upload's last chunk: Cloudreve completes the file at its
  // full size, but the cancel hook of a client gone before the answer keeps only the bytes
  // before that chunk. Made here by a device sending the chunks itself.
  async function cutUpload(s: Scene, content: string, datedAsLocal = true): Promise<void> {
    const device = new Client(s.standin.url);
    await device.login(s.standin.admin.email, s.standin.admin.password);
    // Dated as an upload of the local file is: with its modification time.
    const lastModified = datedAsLocal ? { last_modified: Math.trunc((await stat(s.localPath('report.txt'))).mtimeMs) } : {};
    // Else dated when it completes: a minute on, so that no rounding can make it the local file's.
    if (!datedAsLocal) s.standin.control.advanceClock(60_000);
    const opened = await device.api('PUT', '/file/upload', { path: s.remoteRoot, size: content.length, name: 'report.txt', policy_id: await device.policyId(), ...lastModified });
    const { sessionID } = opened.data as { sessionID: string };
    for (let index = 0; index * 4 < content.length; index++) {
      const last = (index + 1) * 4 >= content.length;
      if (last) s.standin.control.failNext('POST /api/v3/file/upload/:sessionId/:index', 1, 'clientGone');
      const sent = device.raw('POST', `/api/v3/file/upload/${sessionID}/${index}`, { body: content.slice(index * 4, index * 4 + 4) });
      if (last) await expect(sent).rejects.toThrow();
      else await sent;
    }
  }

  it.each(['two-way', 'upload-only'] as const)('is sent over with the local file, whose beginning it holds (%s)', async (mode) => {
    scene = await Scene.start({ standin: { chunkSize: 4 }, folder: { mode } });
    const s = scene;
    await s.write('report.txt', 'the whole report');
    await cutUpload(s, 'the whole report');
    expect((await s.sync(0)).stdout).toContain('1 uploaded, 0 downloaded, 0 moved, 0 deleted, 0 conflicts, 0 skipped, 0 deferred');
    expect(await s.fetch('report.txt')).toBe('the whole report');
    expect(await s.localTree()).toEqual({ 'report.txt': 'the whole report' });
    expect((await s.sync(0)).stdout).toContain('0 uploaded, 0 downloaded');
    // No conflict copy is listed: nothing was kept of the cut copy.
    expect(s.withStateDatabase((db) => db.prepare('SELECT count(*) FROM conflicts').pluck().get())).toBe(0);
  });

  it.each([
    ['it holds other bytes', 'THE whole report', true, 'THE whole re'],
    ['it is dated otherwise (a version another device is writing)', 'the whole report', false, 'the whole re'],
  ])('is left as it is, and the local file too, when %s', async (_when, content, datedAsLocal, stored) => {
    scene = await Scene.start({ standin: { chunkSize: 4 } });
    const s = scene;
    await s.write('report.txt', 'the whole report');
    await cutUpload(s, content, datedAsLocal);
    expect((await s.sync(1)).stdout).toContain('1 deferred');
    expect(await s.localTree()).toEqual({ 'report.txt': 'the whole report' });
    expect(await s.fetch('report.txt')).toBe(stored);
  });
});

/** Has the config pair `local` with the folder's server folder, under the same name. */

describe('binding guard', () => {
  it('stops when the config pairs another local folder under the same name, until told the files are the same', async () => {
    scene = await seeded();
    const s = scene;
    // The drive is mounted elsewhere now: the same files at a new path.
    const moved = `${s.local}-elsewhere`;
    await rename(s.local, moved);
    await s.changeFolder({ local: moved });
    const stopped = await s.sync(3);
    expect(stopped.stdout).toContain(`the config pairs other folders under this name than at its last sync (local folder ${s.local} -> ${moved})`);
    expect(Object.keys(await s.remoteTree())).toHaveLength(4);
    expect((await s.cli('resume', 'main')).code).toBe(0);
    s.standin.control.resetCounts();
    await s.sync();
    expect(s.requests().writes).toBe(0);
    await s.sync();
  });

  it('asks nothing of the server before told to go on, not even to cancel an upload left open', async () => {
    // Another account or server now: the sessions a killed run left open are the old one's.
    scene = await seeded();
    const s = scene;
    s.withStateDatabase((db) => db.prepare(`INSERT INTO upload_sessions (session_id, folder, path, created_ms) VALUES ('left-open', (SELECT id FROM folders WHERE name = 'main'), 'f0.txt', 1)`).run());
    await s.changeFolder({ remote: '/elsewhere' });
    s.standin.control.resetCounts();
    expect((await s.sync(3)).stdout).toContain('the config pairs other folders under this name');
    expect(s.requests().writes).toBe(0);
    await s.cli('resume', 'main');
    // Past that guard (the new server folder is empty: the next one stops the pass).
    await s.sync(3);
    expect(s.requests().counts['DELETE /api/v3/file/upload/:sessionId']).toBe(1);
  });

  it('still judges the new pair by the other guards once told to go on', async () => {
    // The new mount point exists, but the drive is not mounted there yet.
    scene = await seeded();
    const s = scene;
    const empty = `${s.local}-not-mounted`;
    await mkdir(empty);
    await s.changeFolder({ local: empty });
    expect((await s.sync(3)).stdout).toContain('the config pairs other folders under this name');
    await s.cli('resume', 'main');
    expect((await s.sync(3)).stdout).toContain('the local folder is empty but 4 entries were synced before');
    expect(Object.keys(await s.remoteTree())).toHaveLength(4);
  });

  it('does so after a run that failed once the new pair was agreed to (the server down)', async () => {
    scene = await seeded(4, { proxy: true });
    const s = scene;
    const empty = `${s.local}-not-mounted`;
    await mkdir(empty);
    await s.changeFolder({ local: empty });
    await s.sync(3);
    await s.cli('resume', 'main');
    await s.proxy?.down();
    await s.sync(4);
    await s.proxy?.up();
    expect((await s.sync(3)).stdout).toContain('the local folder is empty but 4 entries were synced before');
    expect(Object.keys(await s.remoteTree())).toHaveLength(4);
  });
});

describe('a state directory inside the synced folder', () => {
  it('is never uploaded, nor the files its trash keeps, nor deleted with the folder around it', async () => {
    // Syncing a whole home folder with the default state directory (~/.local/state/...).
    scene = await Scene.start();
    const s = scene;
    const local = s.local;
    const config = parse(await readFile(s.configPath, 'utf8')) as Record<string, unknown>;
    await writeFile(s.configPath, stringify({ ...config, stateDir: join(local, '.local', 'state', 'cs') }));
    await s.write('notes.txt', 'mine');
    await s.write('keep.txt', 'kept');
    await s.write('.local/share/app.txt', 'app data');
    await s.sync();
    // The folder holding it goes up as any folder whose entries are all ignored: empty.
    expect(await s.remoteTree()).toEqual({ 'notes.txt': 'mine', 'keep.txt': 'kept', '.local': '/', '.local/share': '/', '.local/share/app.txt': 'app data', '.local/state': '/' });

    // A server delete puts the local file into the trash, which lies in the state directory.
    const notes = await s.entry('notes.txt');
    await s.server.delete([notes ?? { id: '', kind: 'file' }]);
    await s.sync();
    const trash = await readdir(join(local, '.local', 'state', 'cs', 'trash', 'main'), { recursive: true });
    expect(trash.some((name) => name.endsWith('notes.txt'))).toBe(true);
    // The server deletes .local: what it held goes to the trash, but the folders around the state
    // directory stay, as folders holding an ignored entry do on the server, and go back up empty.
    const dotLocal = await s.entry('.local', 'dir');
    await s.server.delete([dotLocal ?? { id: '', kind: 'dir' }]);
    await s.sync();
    expect(await s.exists('.local/state/cs/cloudreve-sync.db')).toBe(true);
    expect(await s.exists('.local/share')).toBe(false);
    expect(await s.remoteTree()).toEqual({ 'keep.txt': 'kept', '.local': '/', '.local/state': '/' });
    s.standin.control.resetCounts();
    await s.sync();
    expect(s.requests().writes).toBe(0);
  });
});

describe('the folder marker', () => {
  it('stops a pass when another folder took the synced one\'s place, touching nothing in it, and goes on when told', async () => {
    scene = await Scene.start();
    const s = scene;
    for (let i = 0; i < 8; i++) await s.write(`f${i}.txt`, `orig ${i}`);
    await s.sync(0, '--dry-run');
    expect(await s.exists(folderMarkerName)).toBe(false);
    await s.sync();
    expect(await s.exists(folderMarkerName)).toBe(true);
    // Another folder at the configured path (a Docker volume mapped elsewhere): too few deletes
    // for the mass-delete guard, each of them for good.
    await rename(s.local, join(s.dir, 'first'));
    await mkdir(s.local);
    await writeFile(join(s.local, 'f0.txt'), 'orig 0');
    await writeFile(join(s.local, 'new.txt'), 'another folder');
    // Not a leftover of ours to sweep: what another sync of that folder is downloading, say.
    const download = '.cloudreve-sync-0abc.tmp';
    await writeFile(join(s.local, download), 'being written');
    expect((await s.sync(3)).stdout).toContain(`does not hold the file ${folderMarkerName} that marked it at its last sync`);
    expect(Object.keys(await s.remoteTree())).toHaveLength(8);
    expect(await s.exists(download)).toBe(true);
    // The synced folder back in its place: it holds its marker.
    await rm(s.local, { recursive: true });
    await rename(join(s.dir, 'first'), s.local);
    await s.sync();
    // Restored without its hidden files: once told, the pass goes on and marks it again.
    await rm(s.localPath(folderMarkerName));
    await s.sync(3);
    await s.cli('resume', 'main');
    await s.sync();
    expect(await s.exists(folderMarkerName)).toBe(true);
    await s.sync();
    expect(Object.keys(await s.remoteTree())).toHaveLength(8);
  });
});

describe('a marker stop answered', () => {
  it('stays answered while another guard stops the same pass, so that --force gets through the next', async () => {
    scene = await Scene.start({ folder: { massDelete: { maxPercent: 50, minCount: 1 } } });
    const s = scene;
    for (let i = 0; i < 8; i++) await s.write(`f${i}.txt`, `orig ${i}`);
    await s.sync();
    await rm(s.localPath(folderMarkerName));
    for (let i = 1; i < 8; i++) await rm(s.localPath(`f${i}.txt`));
    expect((await s.sync(3, '--force')).stdout).toContain('would delete 7 of 8');
    await s.sync(0, '--force');
    expect(Object.keys(await s.remoteTree())).toEqual(['f0.txt']);
  });
});

describe('ignored local files', () => {
  it('keep the folder the server deleted, unless they are only droppings', async () => {
    scene = await Scene.start({ folder: { ignore: ['*.env', '.DS_Store'] } });
    const s = scene;
    await s.write('proj/main.c', 'code');
    await s.write('photos/a.jpg', 'photo');
    await s.write('keep.txt', 'kept');
    await s.sync();
    await s.write('proj/secret.env', 'exists nowhere else');
    await s.write('photos/.DS_Store', 'dropped by a Mac');
    const gone = await Promise.all(['proj', 'photos'].map((dir) => s.entry(dir, 'dir')));
    await s.server.delete(gone.map((entry) => entry ?? { id: '', kind: 'dir' }));
    await s.sync();
    expect(await s.localTree()).toEqual({ 'keep.txt': 'kept', proj: '/', 'proj/secret.env': 'exists nowhere else' });
    // As a server folder holding an ignored entry does, it goes back up empty.
    expect(await s.remoteTree()).toEqual({ 'keep.txt': 'kept', proj: '/' });
  });
});

describe('a local folder the server deleted', () => {
  /**
   * Synced `gone.txt`, `dir/a.txt` and `dir/sub/b.txt`; the server deletes `gone.txt` and `dir`.
   * The next run starts one action every two seconds: the local delete of `gone.txt` comes
   * first, and once it is done, before the delete of `dir`, `change` is made to `dir`.
   */
  async function changedBeforeItsDelete(change: (s: Scene) => Promise<void>): Promise<{ s: Scene; stdout: string }> {
    scene = await Scene.start();
    const s = scene;
    // Synced first, so that its delete is planned first.
    await s.write('gone.txt', 'synced gone.txt');
    await s.sync();
    for (const path of ['dir/a.txt', 'dir/sub/b.txt', 'keep.txt']) await s.write(path, `synced ${path}`);
    await s.sync();
    const gone = await Promise.all(['gone.txt', 'dir'].map((path) => s.entry(path)));
    await s.server.delete(gone.map((entry) => entry ?? { id: '', kind: 'dir' }));
    await s.changeSync({ requestsPerSecond: 0.5 });
    const run = s.cli('sync', '--once');
    while (await s.exists('gone.txt')) await new Promise((resolve) => setTimeout(resolve, 5));
    await change(s);
    const result = await run;
    await s.changeSync({ requestsPerSecond: 0 });
    expect(result.code).toBe(1);
    return { s, stdout: result.stdout };
  }

  it('is kept when a file was written into it after the scan: the delete waits, and the next run sends the file up', async () => {
    const { s, stdout } = await changedBeforeItsDelete((s) => s.write('dir/sub/new.txt', 'written meanwhile'));
    expect(stdout).toContain('1 deleted, 0 conflicts, 0 skipped, 1 deferred');
    expect(await s.read('dir/sub/new.txt')).toBe('written meanwhile');
    await s.sync();
    expect(await s.fetch('dir/sub/new.txt')).toBe('written meanwhile');
    expect(await s.localTree()).toEqual({ 'keep.txt': 'synced keep.txt', dir: '/', 'dir/sub': '/', 'dir/sub/new.txt': 'written meanwhile' });
  });

  it('is kept when a file in it was edited after the scan, and the edit goes up', async () => {
    const { s, stdout } = await changedBeforeItsDelete((s) => s.write('dir/a.txt', 'edited meanwhile'));
    expect(stdout).toContain('1 deferred');
    await s.sync();
    expect(await s.fetch('dir/a.txt')).toBe('edited meanwhile');
    expect(await s.exists('dir/sub/b.txt')).toBe(false);
  });
});

describe('a server folder whose delete failed', () => {
  it('is looked at again before the delete is sent again: what another device put in it meanwhile stays', async () => {
    // Cloudreve can answer a delete with an error after removing part of it; a retry sent
    // blindly would take whatever the folder holds by then.
    scene = await Scene.start();
    const s = scene;
    await s.write('dir/a.txt', 'synced');
    await s.write('keep.txt', 'kept');
    await s.sync();
    await rm(s.localPath('dir'), { recursive: true });
    s.standin.control.failNext('DELETE /api/v3/object', 1, 'code50001');
    const deletes = (): number => s.standin.control.requestCounts()['DELETE /api/v3/object'] ?? 0;
    const before = deletes();
    const run = s.cli('sync', '--once');
    while (deletes() === before) await new Promise((resolve) => setTimeout(resolve, 5));
    await s.put('dir/new.txt', 'put meanwhile');
    const result = await run;
    expect(result.stdout).toContain('1 deferred');
    expect(await s.remoteTree()).toEqual({ dir: '/', 'dir/a.txt': 'synced', 'dir/new.txt': 'put meanwhile', 'keep.txt': 'kept' });
    await s.sync();
    expect(await s.localTree()).toEqual({ dir: '/', 'dir/new.txt': 'put meanwhile', 'keep.txt': 'kept' });
  });
});

describe('temporary files', () => {
  it('removes its own temporary files that an earlier run left anywhere, and nothing else of their prefix', async () => {
    // Random soak seed 447576: a folder renamed while a download wrote beside its target carried
    // the temporary file away from the path noted for it, and it stayed there for good.
    scene = await seeded(2);
    await scene.write('sub/keep.txt', 'kept');
    await scene.sync();
    await scene.write('sub/.cloudreve-sync-0a1b2c3d4e5f.tmp', 'partial download');
    await scene.write('.cloudreve-sync-Case-Probe-6f1d2a3b-0c4d-4e5f-8a9b-0c1d2e3f4a5b.tmp', '');
    await scene.write('sub/.cloudreve-sync-notes.txt', 'a name of the prefix that is not a temporary file');
    await scene.sync();
    expect((await readdir(scene.localPath('sub'))).sort()).toEqual(['.cloudreve-sync-notes.txt', 'keep.txt']);
    expect((await readdir(scene.local)).sort()).toEqual([folderMarkerName, 'f0.txt', 'f1.txt', 'sub']);
    expect(Object.keys(await scene.remoteTree()).sort()).toEqual(['f0.txt', 'f1.txt', 'sub', 'sub/keep.txt']);
  });
});

describe('a server folder holding another device\'s temporary file', () => {
  it('is deleted once that file is a day old, the leftover of a device that is not coming back', async () => {
    // The new version of a large file, uploaded beside it by a device that crashed before the swap.
    scene = await seeded(2);
    await scene.write('sub/a.txt', 'a');
    await scene.sync();
    const temp = 'sub/.cloudreve-sync-00aa11bb22cc.tmp';
    await scene.put(temp, 'a new version, not yet swapped in');
    await rm(scene.localPath('sub'), { recursive: true });
    const waiting = await scene.sync(1);
    expect(waiting.stdout).toContain('1 deferred');
    expect(await scene.entry(temp, 'file')).toBeDefined();
    const { id } = (await scene.entry(temp, 'file')) ?? {};
    scene.standin.control.backdateFile(id ?? '', 25 * 3600_000);
    await scene.sync();
    expect(await scene.entry('sub', 'dir')).toBeUndefined();
    expect(Object.keys(await scene.remoteTree()).sort()).toEqual(['f0.txt', 'f1.txt']);
  });
});

describe('mass-delete guard', () => {
  it('stops when a run would delete more than the limit, and --force goes ahead', async () => {
    scene = await seeded(12, { folder: { massDelete: { maxPercent: 50, minCount: 3 } } });
    for (let i = 0; i < 8; i++) await rm(scene.localPath(`f${i}.txt`));
    const stopped = await scene.sync(3);
    expect(stopped.stdout).toContain('would delete 8 of 12 synced files on the server (limits: 50% from 3 files, or 1000 files); if that is intended, run "cloudreve-sync resume main" or sync --once --force');
    expect(Object.keys(await scene.remoteTree())).toHaveLength(12);
    await scene.sync(0, '--force');
    expect(Object.keys(await scene.remoteTree())).toHaveLength(4);
  });

  it('takes `resume` as agreement to that stop only: more deletes than it said stop again', async () => {
    scene = await seeded(12, { folder: { massDelete: { maxPercent: 50, minCount: 3 } } });
    for (let i = 0; i < 7; i++) await rm(scene.localPath(`f${i}.txt`));
    await scene.sync(3);
    expect((await scene.cli('resume', 'main')).stdout).toContain('runs past the guard for deleting up to 7 files on the server');
    // Until that pass, status shows the stop and what the resume agreed to.
    const status = (await scene.cli('status')).stdout;
    expect(status).toContain('STOPPED: the run would delete 7 of 12');
    expect(status).toContain('resumed: the next pass runs past the guard for deleting up to 7 files on the server');
    await rm(scene.localPath('f7.txt'));
    expect((await scene.sync(3)).stdout).toContain('would delete 8 of 12 synced files on the server');
    expect(Object.keys(await scene.remoteTree())).toHaveLength(12);
    await scene.cli('resume', 'main');
    await scene.sync();
    expect(Object.keys(await scene.remoteTree())).toHaveLength(4);
  });

  it('adds up the deletes of runs within the window, until a resume agrees to them', async () => {
    // Each run of a cron job, or pass of a daemon, deleting a few files passed the guard alone.
    scene = await seeded(12, { folder: { massDelete: { maxPercent: 50, minCount: 3, window: '1h' } } });
    for (let i = 0; i < 4; i++) await rm(scene.localPath(`f${i}.txt`));
    await scene.sync();
    for (let i = 4; i < 7; i++) await rm(scene.localPath(`f${i}.txt`));
    const stopped = await scene.sync(3);
    expect(stopped.stdout).toContain('the run would delete 3 more synced files on the server after 4 within the window before, 7 of 12');
    expect(Object.keys(await scene.remoteTree())).toHaveLength(8);
    expect((await scene.cli('resume', 'main')).stdout).toContain('runs past the guard for deleting up to 7 files on the server');
    await scene.sync();
    expect(Object.keys(await scene.remoteTree())).toHaveLength(5);
    // Agreed to, those deletes count no more.
    await rm(scene.localPath('f7.txt'));
    await scene.sync();
    expect(Object.keys(await scene.remoteTree())).toHaveLength(4);
  });

  it('counts each run alone by default', async () => {
    scene = await seeded(12, { folder: { massDelete: { maxPercent: 50, minCount: 3 } } });
    for (let i = 0; i < 4; i++) await rm(scene.localPath(`f${i}.txt`));
    await scene.sync();
    for (let i = 4; i < 7; i++) await rm(scene.localPath(`f${i}.txt`));
    await scene.sync();
    expect(Object.keys(await scene.remoteTree())).toHaveLength(5);
  });

  it('takes the resume of an emptied folder as agreement to the deletes it carries over', async () => {
    scene = await seeded(8, { folder: { massDelete: { maxPercent: 100, minCount: 3, maxCount: 9, window: '1h' } } });
    for (let i = 0; i < 8; i++) await rm(scene.localPath(`f${i}.txt`));
    expect((await scene.sync(3)).stdout).toContain('the local folder is empty');
    await scene.cli('resume', 'main');
    await scene.sync();
    for (let i = 0; i < 3; i++) await scene.write(`n${i}.txt`, `new ${i}`);
    await scene.sync();
    await rm(scene.localPath('n0.txt'));
    await rm(scene.localPath('n1.txt'));
    await scene.sync();
    expect(Object.keys(await scene.remoteTree())).toEqual(['n2.txt']);
  });
});

describe('a lost state database', () => {
  it('is not a deletion: both sides are merged and nothing is deleted', async () => {
    scene = await seeded();
    await rm(scene.localPath('f0.txt'));
    await scene.put('new-on-server.txt', 'fresh');
    await rm(scene.stateDir, { recursive: true });
    await scene.sync();
    const local = await scene.localTree();
    expect(local['f0.txt']).toBe('content 0');
    expect(local['new-on-server.txt']).toBe('fresh');
    expect(await scene.remoteTree()).toEqual(local);
  });
});

describe('records the state database cannot commit', () => {
  it('stop the run with exit code 2, naming the file; the next run finds what was done, losing and doubling nothing', async () => {
    scene = await seeded(2);
    const s = scene;
    const file = join(s.stateDir, 'cloudreve-sync.db');
    const alter = (sql: string): void => s.withStateDatabase((db) => {
      db.exec(sql);
    });
    // A constraint checked at COMMIT stands in for a full disk there: the group holding the
    // record of poison.txt cannot be committed.
    alter(`CREATE TABLE poison_parents (id INTEGER PRIMARY KEY);
           CREATE TABLE poison (parent INTEGER REFERENCES poison_parents(id) DEFERRABLE INITIALLY DEFERRED);
           CREATE TRIGGER poison AFTER INSERT ON synced WHEN NEW.local_name = 'poison.txt' BEGIN INSERT INTO poison VALUES (1); END;`);
    await scene.write('poison.txt', 'p');
    for (let i = 0; i < 30; i++) await scene.write(`docs/d${i}.txt`, `doc ${i}`);
    const stopped = await scene.sync(2);
    expect(stopped.stderr).toContain(`the state database ${file} failed: FOREIGN KEY constraint failed`);
    expect(stopped.stderr).toContain('the run stops');

    alter('DROP TRIGGER poison; DROP TABLE poison; DROP TABLE poison_parents;');
    await scene.sync();
    const local = await scene.localTree();
    expect(Object.keys(local)).toHaveLength(2 + 1 + 1 + 30);
    expect(await scene.remoteTree()).toEqual(local);
    expect((await scene.sync()).stdout).toContain('0 uploaded, 0 downloaded');
  });
});

describe('dry run', () => {
  it('prints the plan and changes nothing', async () => {
    scene = await Scene.start();
    await scene.write('a.txt', 'a');
    await scene.put('b.txt', 'b');
    const table = await scene.sync(0, '--dry-run');
    expect(table.stdout).toMatch(/upload\s+server\s+a\.txt/);
    expect(table.stdout).toMatch(/download\s+local\s+b\.txt/);
    const json = JSON.parse((await scene.sync(0, '--dry-run', '--json')).stdout) as { actions: { type: string }[] }[];
    expect(json[0]?.actions.map((a) => a.type).sort()).toEqual(['download', 'upload']);
    expect(await scene.localTree()).toEqual({ 'a.txt': 'a' });
    expect(await scene.entry('a.txt')).toBeUndefined();
  });
});
