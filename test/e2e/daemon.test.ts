import Database from 'better-sqlite3';
import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { appendFile, cp, mkdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { bufferSource } from '../../src/remote/sources.js';
import { eventually, Scene, type DaemonProcess, type SceneOptions } from './harness.js';

let scene: Scene | undefined;
afterEach(async ({ task }) => {
  await scene?.close(task.result?.state === 'fail');
  scene = undefined;
});

type Status = { folders: { folder: string; phase: string; reason?: string; watching: string }[] };

async function running(s: Scene): Promise<void> {
  await eventually(async () => (await s.status('/status')).code === 200, 15_000, 'the status server');
  await eventually(async () => ((await s.status('/status')).body as Status).folders[0]?.phase === 'idle', 15_000, 'the first pass');
}

/** A daemon past its first pass over `files`. */
async function syncedDaemon(options: SceneOptions = {}, files: Readonly<Record<string, string>> = { 'a.txt': 'a' }): Promise<{ s: Scene; daemon: DaemonProcess }> {
  const s = await Scene.start(options);
  scene = s;
  for (const [path, content] of Object.entries(files)) await s.write(path, content);
  const daemon = s.daemon();
  await running(s);
  return { s, daemon };
}

/** A daemon whose folder its safety guard paused: both of its files deleted locally. */
async function pausedDaemon(options: SceneOptions = {}): Promise<{ s: Scene; daemon: DaemonProcess }> {
  const { s, daemon } = await syncedDaemon(options, { 'a.txt': 'a', 'b.txt': 'b' });
  await rm(s.localPath('a.txt'));
  await rm(s.localPath('b.txt'));
  await eventually(async () => ((await s.status('/status')).body as Status).folders[0]?.phase === 'paused', 15_000, 'the pause');
  return { s, daemon };
}

/**
 * A daemon over `s`'s folders, once the first one is paused by the empty-folder guard and the
 * others (added before) sync on; `phases` asks the status server for each folder's.
 */
async function pausedBesideAnother(s: Scene): Promise<{ proc: DaemonProcess; phases: () => Promise<string[]> }> {
  await s.write('a.txt', 'a');
  await s.write('b.txt', 'b');
  const proc = s.daemon('--log-level', 'info');
  const phases = async (): Promise<string[]> => ((await s.status('/status')).body as Status).folders.map((f) => f.phase);
  await eventually(async () => (await phases()).every((p) => p === 'idle'), 15_000, 'the first passes');
  await rm(s.localPath('a.txt'));
  await rm(s.localPath('b.txt'));
  await eventually(async () => (await phases())[0] === 'paused', 15_000, 'the pause');
  return { proc, phases };
}

/**
 * A daemon on a new scene (4 KiB chunks) uploading `big.bin` of `size` bytes, the stand-in
 * answering each request `latencyMs` late, once its chunks flow.
 */
async function daemonUploading(size: number, latencyMs: number): Promise<{ s: Scene; proc: DaemonProcess }> {
  const s = await Scene.start({ standin: { chunkSize: 4096 } });
  scene = s;
  const proc = s.daemon();
  await running(s);
  s.standin.control.setLatency(latencyMs);
  await s.write('big.bin', Buffer.alloc(size, 7));
  await eventually(() => (s.standin.control.requestCounts()['POST /api/v3/file/upload/:sessionId/:index'] ?? 0) > 2, 15_000, 'chunks flowing');
  return { s, proc };
}

describe('the daemon', () => {
  it('settles a folder moved out while a file in it was edited on the server with a walk of the server, not a retry every few seconds', async () => {
    // A pass over the local change trusted the server folder's listing, which an edit deeper
    // down leaves as it was: the folder's delete found the edit and was deferred, and each such
    // pass after it did the same until the next full pass, an hour later.
    const { s } = await syncedDaemon({ daemon: { remoteInterval: '1h', debounce: '300ms' } }, { 'docs/a.txt': 'a', 'docs/b.txt': 'b', 'keep.txt': 'k' });
    const edited = await s.entry('docs/a.txt', 'file');
    await s.server.replace(edited?.id ?? '', bufferSource(Buffer.from('edited on the server'), Date.now()));
    await rename(s.localPath('docs'), join(s.dir, 'moved-out'));
    await eventually(async () => (await s.entry('docs/b.txt')) === undefined && (await s.exists('docs/a.txt')), 15_000, 'the rest deleted, the edit kept');
    expect(await s.localTree()).toEqual({ docs: '/', 'docs/a.txt': 'edited on the server', 'keep.txt': 'k' });
    expect(await s.remoteTree()).toEqual(await s.localTree());
  });

  it('sends a local change within seconds and brings a server change after one walk', async () => {
    scene = await Scene.start();
    const s = scene;
    await s.write('first.txt', 'first');
    s.daemon();
    await running(s);
    expect(await s.fetch('first.txt')).toBe('first');

    const written = Date.now();
    await s.write('docs/new.txt', 'typed locally');
    await eventually(async () => (await s.entry('docs/new.txt')) !== undefined, 10_000, 'the upload');
    expect(Date.now() - written).toBeLessThan(5000);

    await s.put('from-server.txt', 'typed elsewhere');
    await eventually(async () => (await s.exists('from-server.txt')) && (await s.read('from-server.txt')) === 'typed elsewhere', 10_000, 'the download');

    const metrics = (await s.status('/metrics')).body as string;
    expect(metrics).toMatch(/cloudreve_sync_files_total\{direction="up"\} 2/);
    expect(metrics).toMatch(/cloudreve_sync_files_total\{direction="down"\} 1/);
    expect(metrics).toMatch(/cloudreve_sync_request_duration_seconds_count\{route="GET \/api\/v3\/directory\/\*path",outcome="ok"\} \d+/);
    expect(metrics).toMatch(/cloudreve_sync_last_success_timestamp_seconds\{folder="main"\} \d+/);
    expect(await s.status('/healthz')).toEqual({ code: 200, body: { status: 'ok' } });
  });

  it('looks at the whole folder again once its watcher is ready, for what changed before it watched', async () => {
    // The watcher reports nothing of what it found when it got to a folder: an edit there after
    // the first pass had looked, and before the watcher had, went unseen until the hourly rescan.
    scene = await Scene.start({ config: { log: { level: 'debug', format: 'json' } } });
    const s = scene;
    await s.write('a.txt', 'a');
    const proc = s.daemon();
    await running(s);
    const fullScans = (): number => proc.output.split('\n').filter((line) => line.includes('"msg":"scanned"') && line.includes('"scope":"full"')).length;
    await eventually(() => fullScans() === 2, 10_000, 'a second full pass');
  });

  it('renames a file on the server that was renamed locally, uploading nothing', async () => {
    // The watcher holds a new name back until the file has stood still (awaitWriteFinish); a pass
    // that saw the old name gone without the new one would delete and upload.
    scene = await Scene.start({ daemon: { remoteInterval: '1h', debounce: '1s' } });
    const s = scene;
    await s.write('report.txt', 'quarterly figures');
    s.daemon();
    await running(s);
    const before = await s.entry('report.txt', 'file');
    s.standin.control.resetCounts();
    await rename(s.localPath('report.txt'), s.localPath('final report.txt'));
    await eventually(async () => (await s.entry('final report.txt', 'file')) !== undefined, 15_000, 'the rename');
    await eventually(async () => ((await s.status('/status')).body as Status).folders[0]?.phase === 'idle', 15_000, 'the end of the pass');
    expect((await s.entry('final report.txt', 'file'))?.id).toBe(before?.id);
    expect(await s.entry('report.txt', 'file')).toBeUndefined();
    expect(s.requests().counts['PUT /api/v3/file/upload'] ?? 0).toBe(0);
  });

  it('leaves what keeps failing until its backoff ends, walking the server no more often than usual', async () => {
    // A folder the server would not create: the uploads into it were deferred, each deferral was
    // looked at again within a second by a pass that found the folder still backing off and
    // walked the server, and so on: a walk every second or two until the backoff ended.
    scene = await Scene.start({ daemon: { remoteInterval: '2s' } });
    const s = scene;
    const daemon = s.daemon();
    await running(s);
    s.standin.control.failNext('PUT /api/v3/directory', 1000, 'code50001');
    await s.write('refused/a.txt', 'a');
    await s.write('refused/b.txt', 'b');
    await eventually(() => daemon.output.includes('"action":"mkdir"') && daemon.output.includes('action failed'), 15_000, 'the failed mkdir');
    await eventually(async () => ((await s.status('/status')).body as Status).folders[0]?.phase === 'idle', 15_000, 'the end of the pass');
    s.standin.control.resetCounts();
    await new Promise((resolve) => setTimeout(resolve, 6000));
    const { listings } = s.requests();
    expect(listings).toBeGreaterThan(0);
    expect(listings).toBeLessThanOrEqual(4);
    expect(s.requests().counts['PUT /api/v3/directory'] ?? 0).toBe(0);
    s.standin.control.failNext('PUT /api/v3/directory', 0, 'code50001');
  });

  it('deletes on the server a file the user deleted shortly after it was downloaded', async () => {
    // The download's own echo was recognised by the path alone, so the user's delete that
    // followed within half a minute was taken for it and waited for the hourly rescan.
    scene = await Scene.start();
    const s = scene;
    await s.write('kept.txt', 'k');
    s.daemon();
    await running(s);
    await s.put('unwanted.txt', 'from elsewhere');
    await eventually(async () => s.exists('unwanted.txt'), 10_000, 'the download');
    // Past the watcher's wait for a new file to stand still, within the echo's half minute.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await rm(s.localPath('unwanted.txt'));
    await eventually(async () => (await s.entry('unwanted.txt')) === undefined, 10_000, 'the delete on the server');
  });

  it.each([
    ['renamed', 'albums/a.txt'],
    ['moved into a folder it creates', 'new/photos/a.txt'],
  ])('sends a user edit made inside a folder it just moved (%s), which the watcher reports under the old path', async (how, path) => {
    // The folder's watch follows it: until the watcher watches the new path, an edit in it is
    // reported under the old one, which the move left empty. Taken for the move's echo, the
    // edit waited for the hourly rescan. The daemon watches before the move: a first pass that
    // ran before the watcher was ready is followed by a full one, which would find the edit.
    scene = await Scene.start({ config: { log: { level: 'info', format: 'json' } }, daemon: { remoteInterval: '1h', debounce: '1s' } });
    const s = scene;
    await s.write('photos/a.txt', 'first');
    await s.write('photos/b.txt', 'second');
    s.daemon();
    await running(s);
    const folder = { kind: 'dir' as const, id: (await s.entry('photos', 'dir'))?.id ?? '' };
    // Into a folder the daemon creates, whose report it takes for its own write.
    if (how === 'renamed') await s.server.rename(folder, 'albums');
    else {
      await s.server.mkdir(s.remotePath('new'));
      await s.server.move(s.remotePath(''), [folder], s.remotePath('new'));
    }
    // A slow download after the move keeps the pass going while the edit is reported.
    await s.put('later.txt', 'downloaded after the move');
    s.standin.control.setLatency(1000);
    // The edit, the moment the move is done.
    const editor = execFile('sh', ['-c', `until [ -e ${path} ]; do :; done; echo "first, edited here" > ${path}`], { cwd: s.local });
    const edited = new Promise((resolve) => editor.once('exit', resolve));
    let timer: NodeJS.Timeout | undefined;
    try {
      // A local change has the daemon list the folder, find the server's changes and walk.
      await s.write('trigger.txt', 't');
      const moved = await Promise.race([edited.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 20_000)))]);
      expect(moved, 'the local move').toBe(true);
    } finally {
      clearTimeout(timer);
      editor.kill();
    }
    await eventually(async () => s.exists('later.txt'), 20_000, 'the download');
    s.standin.control.setLatency(0);
    await eventually(async () => (await s.fetch(path)) === 'first, edited here\n', 15_000, 'the edit on the server');
    expect(await s.fetch(path.replace('a.txt', 'b.txt'))).toBe('second');
  }, 60_000);

  it('sends a user edit made while a download of that file waited its turn', async () => {
    // The download announced its write when it started, after the edit: the edit, which made it
    // step back, was taken for its echo, and every walk downloaded the file again in vain.
    scene = await Scene.start({ config: { sync: { settleTime: 0, retries: 1, concurrency: 1 } }, daemon: { remoteInterval: '1h', debounce: '300ms' } });
    const s = scene;
    await s.write('a.txt', 'first');
    await s.sync();
    await s.write('x.txt', 'first');
    s.daemon();
    await running(s);
    for (const [name, content] of [['a.txt', 'downloaded before x.txt'], ['x.txt', 'edited on the server']] as const) {
      const synced = await s.entry(name, 'file');
      await s.server.replace(synced?.id ?? '', bufferSource(Buffer.from(content), Date.now()));
    }
    s.standin.control.resetCounts();
    s.standin.control.setLatency(700);
    // A local change has the daemon list the folder, find the server's changes and walk.
    await s.write('trigger.txt', 't');
    // One action at a time: once the first download asks for its URL, x.txt's waits behind it.
    await eventually(() => (s.requests().counts['PUT /api/v3/file/download/:id'] ?? 0) > 0, 20_000, 'the first download');
    await writeFile(s.localPath('x.txt'), 'edited here');
    await eventually(async () => (await s.read('a.txt')) === 'downloaded before x.txt', 20_000, 'the first download');
    s.standin.control.setLatency(0);
    await eventually(async () => Object.values(await s.remoteTree()).includes('edited here'), 20_000, 'the edit on the server');
    expect(Object.values(await s.localTree()).sort()).toEqual(['downloaded before x.txt', 'edited here', 'edited on the server', 't']);
  });

  it('gives a daemon started after a long downtime its own healthyWithin for a first pass', async () => {
    // Counted from the last pass before the downtime, it was unhealthy from its first second,
    // and a watchdog restarting unhealthy containers would never let it finish a pass.
    scene = await Scene.start({ proxy: true, daemon: { healthyWithin: '5s' } });
    const s = scene;
    await s.write('a.txt', 'a');
    await s.sync();
    await new Promise((resolve) => setTimeout(resolve, 6000));
    await s.proxy?.down();
    s.daemon();
    await eventually(async () => (await s.status('/status')).code === 200, 15_000, 'the status server');
    expect(await s.status('/healthz')).toEqual({ code: 200, body: { status: 'ok' } });
  });

  it('sends many files at a high concurrency without a warning about too many listeners', async () => {
    scene = await Scene.start({ config: { sync: { concurrency: 16 } } });
    const s = scene;
    for (let i = 0; i < 40; i++) await s.write(`many/f${i}.txt`, `file ${i}`);
    const daemon = s.daemon();
    await running(s);
    await eventually(async () => (await s.entry('many/f39.txt')) !== undefined, 15_000, 'the uploads');
    // Each request in flight listens for the daemon's stop signal.
    expect(daemon.output).not.toContain('MaxListenersExceededWarning');
  });

  it('keeps watching while the server is down and catches up without duplicates', async () => {
    scene = await Scene.start({ proxy: true });
    const s = scene;
    s.daemon();
    await running(s);
    await s.proxy?.down();
    await s.write('while-down.txt', 'queued');
    await eventually(async () => ((await s.status('/status')).body as Status).folders[0]?.phase === 'offline', 15_000, 'offline');
    await s.proxy?.up();
    await eventually(async () => (await s.entry('while-down.txt')) !== undefined, 30_000, 'the upload after reconnecting');
    const listing = await s.server.list(s.remotePath(''));
    expect(listing.entries.map((e) => e.name)).toEqual(['while-down.txt']);
  });

  it('keeps its waits when the wall clock is set back an hour', async () => {
    // No walk of the server in the test's time: only the debounce and the retry bring the files.
    scene = await Scene.start({ proxy: true, daemon: { remoteInterval: '1h', debounce: '2s' } });
    const s = scene;
    const daemon = s.daemonWith({ NODE_OPTIONS: `--import=${new URL('clock-step.mjs', import.meta.url).href}` });
    await running(s);
    let steps = 0;
    const stepBack = async (): Promise<void> => {
      daemon.signal('SIGUSR2');
      steps += 1;
      await eventually(() => daemon.output.split('clock stepped back').length > steps, 5000, 'the clock step');
    };

    // Set back while the change waits out its debounce.
    await s.write('debounced.txt', 'local');
    await eventually(async () => ((await s.status('/status')).body as { folders: { pendingLocalChanges: number }[] }).folders[0]?.pendingLocalChanges === 1, 5000, 'the change');
    await stepBack();
    await eventually(async () => (await s.entry('debounced.txt')) !== undefined, 8000, 'the upload after the debounce');

    // Set back while the server is down and the next try waits.
    await s.proxy?.down();
    await s.write('after-outage.txt', 'local');
    await eventually(async () => ((await s.status('/status')).body as Status).folders[0]?.phase === 'offline', 15_000, 'offline');
    await stepBack();
    await s.proxy?.up();
    await eventually(async () => (await s.entry('after-outage.txt')) !== undefined, 20_000, 'the upload after the outage');
  });

  it('says it watches by polling when chokidar is asked to poll, and hears a file edited there', async () => {
    scene = await Scene.start();
    const s = scene;
    s.daemonWith({ CHOKIDAR_USEPOLLING: '1' });
    await running(s);
    await eventually(async () => ((await s.status('/status')).body as Status).folders[0]?.watching === 'polling', 15_000, 'polling');
    await s.write('polled.txt', 'heard by polling');
    await eventually(async () => (await s.entry('polled.txt')) !== undefined, 15_000, 'the upload');
  });

  it('falls back to periodic scans when the system runs out of file watches, and says how to raise the limit', async () => {
    scene = await Scene.start();
    const s = scene;
    const daemon = s.daemonWith({ CLOUDREVE_SYNC_FAULT_WATCH: 'ENOSPC' });
    await running(s);
    await eventually(async () => ((await s.status('/status')).body as Status).folders[0]?.watching === 'periodic scans', 15_000, 'the fallback');
    await s.write('unwatched.txt', 'still synced');
    await eventually(async () => (await s.entry('unwatched.txt')) !== undefined, 15_000, 'the upload found by a scan');
    expect(daemon.output.match(/fs\.inotify\.max_user_watches=524288/g)).toHaveLength(1);
    // Said once, though the watcher reports it for every entry it could not watch.
    expect(daemon.output).not.toContain('file watcher error');
  });

  it('on SIGTERM mid-upload exits cleanly, and a restart finishes without duplicate or leftover session', async () => {
    const { s, proc } = await daemonUploading(200 * 1024, 100);
    const stoppedAt = Date.now();
    proc.signal('SIGTERM');
    const exit = await proc.exited;
    expect(Date.now() - stoppedAt).toBeLessThan(10_000);
    expect(exit.code).toBe(0);
    expect(s.standin.control.openUploadSessions()).toEqual([]);
    s.standin.control.setLatency(0);
    s.daemon();
    await eventually(async () => (await s.entry('big.bin')) !== undefined, 20_000, 'the upload after restart');
    const listing = await s.server.list(s.remotePath(''));
    expect(listing.entries.map((e) => `${e.name}:${e.size}`)).toEqual([`big.bin:${200 * 1024}`]);
    expect(s.standin.control.openUploadSessions()).toEqual([]);
  });

  it('writes nothing to its database while idle, so that the disk under it can spin down; status takes the last sync from the daemon', async () => {
    // Every idle walk (every minute by default) rewrote the folder's last-run record.
    const { s } = await syncedDaemon();
    const file = join(s.stateDir, 'cloudreve-sync.db');
    const recorded = (): number => {
      const db = new Database(file, { readonly: true, fileMustExist: true });
      try {
        return (db.prepare('SELECT last_sync_ms FROM folders').pluck().get() as number | null) ?? 0;
      } finally {
        db.close();
      }
    };
    await sleep(1500);
    const before = { recorded: recorded(), wal: statSync(`${file}-wal`).size };
    // Three walks of the server, one a second.
    await sleep(3000);
    expect({ recorded: recorded(), wal: statSync(`${file}-wal`).size }).toEqual(before);
    const status = JSON.parse((await s.cli('status', '--json')).stdout) as { lastSync: string | null }[];
    expect(Date.parse(status[0]?.lastSync ?? '')).toBeGreaterThan(before.recorded + 2000);
  });

  it('on SIGTERM starts no more of the pass, and does not count that pass as a successful sync', async () => {
    scene = await Scene.start({ config: { sync: { settleTime: 0, retries: 1, requestsPerSecond: 4 } } });
    const s = scene;
    const proc = s.daemon();
    await running(s);
    for (let i = 0; i < 30; i++) await mkdir(s.localPath(`folder-${i}`));
    const created = (): number => s.standin.control.requestCounts()['PUT /api/v3/directory'] ?? 0;
    await eventually(() => created() >= 2, 15_000, 'the folders being created');
    const atStop = created();
    const stoppedAt = Date.now();
    proc.signal('SIGTERM');
    expect((await proc.exited).code).toBe(0);
    // What had started (four at a time) may finish; nothing after it.
    expect(created()).toBeLessThanOrEqual(atStop + 4);
    const status = JSON.parse((await s.cli('status', '--json')).stdout) as { lastSync: string | null; lastRun: { ok: boolean } }[];
    expect(status[0]?.lastRun.ok).toBe(false);
    expect(Date.parse(status[0]?.lastSync ?? '')).toBeLessThan(stoppedAt);
  });

  it('on SIGHUP while it starts (a long migration after an upgrade), reloads once started instead of ending', async () => {
    scene = await Scene.start();
    const s = scene;
    await s.write('a.txt', 'a');
    await s.writeOldStateDatabase(100_000);
    const proc = s.daemon('--log-level', 'info');
    await eventually(() => existsSync(join(s.stateDir, 'cloudreve-sync.lock.json')) || undefined, 15_000, 'the lock');
    proc.signal('SIGHUP');
    await eventually(() => proc.output.includes('config reloaded') || undefined, 20_000, 'the reload');
    await eventually(async () => (await s.entry('a.txt')) !== undefined, 15_000, 'the first pass');
    proc.signal('SIGTERM');
    expect((await proc.exited).code).toBe(0);
  });

  it('on SIGTERM while it starts (a long migration after an upgrade), stops once started and exits 0', async () => {
    // Its handler came after the start: the signal's default action killed it amid the migration.
    scene = await Scene.start();
    const s = scene;
    await s.writeOldStateDatabase(100_000);
    const proc = s.daemon('--log-level', 'info');
    await eventually(() => existsSync(join(s.stateDir, 'cloudreve-sync.lock.json')) || undefined, 15_000, 'the lock');
    proc.signal('SIGTERM');
    expect(await proc.exited).toEqual({ code: 0, signal: null });
    expect(proc.output).toContain('"signal":"SIGTERM","msg":"signal received"');
  });

  it('on SIGHUP lets an upload in progress finish', async () => {
    const { s, proc } = await daemonUploading(100 * 1024, 50);
    await s.changeSync({ retries: 2 });
    proc.signal('SIGHUP');
    await eventually(async () => (await s.entry('big.bin')) !== undefined, 20_000, 'the upload');
    expect(s.standin.control.requestCounts()['PUT /api/v3/file/upload']).toBe(1);
  });

  it('on SIGTERM while a reload waits for an upload, cancels it and exits cleanly', async () => {
    const { s, proc } = await daemonUploading(1024 * 1024, 100);
    await s.changeSync({ retries: 2 });
    proc.signal('SIGHUP');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const stoppedAt = Date.now();
    proc.signal('SIGTERM');
    expect((await proc.exited).code).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(10_000);
    expect(s.standin.control.openUploadSessions()).toEqual([]);
  });

  it('keeps a resume given while a reload waits for a pass in flight', async () => {
    const s = await Scene.start({ standin: { chunkSize: 4096 } });
    scene = s;
    await s.addFolder('big');
    const { proc } = await pausedBesideAnother(s);
    s.standin.control.setLatency(100);
    await writeFile(join(s.dir, 'big', 'big.bin'), Buffer.alloc(200 * 1024, 7));
    await eventually(() => (s.standin.control.requestCounts()['POST /api/v3/file/upload/:sessionId/:index'] ?? 0) > 2, 15_000, 'chunks flowing');
    await s.changeSync({ retries: 2 });
    proc.signal('SIGHUP');
    await sleep(300);
    expect((await s.cli('resume', 'main')).stdout).toContain('main: resumed; the running daemon syncs it now, past the guard for an empty local folder');
    await eventually(() => proc.output.includes('config reloaded') || undefined, 20_000, 'the reload');
    s.standin.control.setLatency(0);
    await eventually(async () => (await s.server.list(s.remotePath(''))).entries.length === 0, 15_000, 'the deletes the resume agreed to');
  });

  /**
   * A daemon whose pass over twelve of thirteen files deleted locally is under way (each request
   * answered 1.5 s late) when a reload with the config `change` makes comes: the pass stops at
   * the mass-delete guard, and the reload waits for it.
   */
  async function pausedWhileReloading(change: (s: Scene) => Promise<void>): Promise<{ s: Scene; proc: DaemonProcess }> {
    const files = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`f${i}.txt`, `file ${i}`]));
    const s = await Scene.start();
    scene = s;
    for (const [path, content] of Object.entries({ ...files, 'keep.txt': 'k' })) await s.write(path, content);
    const proc = s.daemon('--log-level', 'info');
    await running(s);
    s.standin.control.setLatency(1500);
    for (const name of Object.keys(files)) await rm(s.localPath(name));
    await eventually(async () => ((await s.status('/status')).body as Status).folders[0]?.phase === 'syncing', 15_000, 'the pass');
    await change(s);
    proc.signal('SIGHUP');
    await eventually(() => proc.output.includes('config reloaded') || undefined, 20_000, 'the reload');
    s.standin.control.setLatency(0);
    return { s, proc };
  }

  it('lifts a pause raised by the pass a reload waits for where the folder settings changed, and judges the next pass by them', async () => {
    const { s, proc } = await pausedWhileReloading((s) => s.changeFolder({ massDelete: { maxPercent: 100, minCount: 100 } }));
    await eventually(async () => (await s.server.list(s.remotePath(''))).entries.map((e) => e.name).join() === 'keep.txt', 15_000, 'the deletes the new settings let through');
    expect(proc.output).toContain('paused:');
  });

  it('keeps a pause raised by the pass a reload waits for where the folder settings did not change', async () => {
    const { s, proc } = await pausedWhileReloading((s) => s.changeSync({ retries: 2 }));
    await eventually(async () => ((await s.status('/status')).body as Status).folders[0]?.phase === 'paused', 15_000, 'the pause');
    // Lifted, the pause would be raised again by the next pass, and said twice.
    await sleep(1500);
    expect(proc.output.match(/"msg":"paused:/g)).toHaveLength(1);
    expect((await s.server.list(s.remotePath(''))).entries).toHaveLength(13);
  });

  it('picks up a changed .cloudreveignore and watches what it no longer leaves out', async () => {
    const { s } = await syncedDaemon({ daemon: { remoteInterval: '1h' } }, { '.cloudreveignore': 'private/\n', 'private/old.txt': 'o', 'public.txt': 'p' });
    expect(await s.entry('private', 'dir')).toBeUndefined();
    await s.write('.cloudreveignore', '# nothing left out\n');
    await eventually(async () => (await s.entry('private/old.txt')) !== undefined, 10_000, 'the full pass under the new rules');
    await s.write('private/new.txt', 'n');
    await eventually(async () => (await s.entry('private/new.txt')) !== undefined, 10_000, 'the change in a folder now watched');
  });

  it('on SIGHUP that adds a folder, starts it at once, while the other folders sync on', async () => {
    // A reload waited for every pass in flight: a folder added while another uploaded for hours
    // waited for the upload, and so did the folders it left as they were.
    const { s, proc } = await daemonUploading(1024 * 1024, 50);
    const added = await s.addFolder('added');
    await writeFile(join(added, 'new.txt'), 'in the added folder');
    proc.signal('SIGHUP');
    await eventually(async () => (await s.server.stat('/added/new.txt', 'file')) !== undefined, 15_000, 'the added folder synced');
    expect(await s.entry('big.bin')).toBeUndefined();
    await eventually(async () => (await s.entry('big.bin')) !== undefined, 60_000, 'the upload');
    // The same upload, not one started again.
    expect(s.standin.control.requestCounts()['PUT /api/v3/file/upload']).toBe(2);
  });

  it('starts the folders a failed reload had stopped again under the old config, and says why', async () => {
    // A reload that failed once it had stopped the folders it replaced left them stopped until a
    // restart, while the daemon lived on.
    const s = await Scene.start();
    scene = s;
    const other = await s.addFolder('other');
    const { proc, phases } = await pausedBesideAnother(s);
    // The reload answers the pause, after stopping every folder; lifting it cannot be written, as on a failing disk.
    s.withStateDatabase((db) => {
      db.exec(`CREATE TRIGGER no_lift BEFORE UPDATE OF paused_reason ON folders WHEN NEW.paused_reason IS NULL BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END;`);
    });
    await s.changeSync({ retries: 2 });
    proc.signal('SIGHUP');
    await eventually(() => proc.output.includes('reload failed') || undefined, 15_000, 'the failed reload');
    await writeFile(join(other, 'after.txt'), 'written after the failed reload');
    await eventually(async () => (await s.server.stat('/other/after.txt', 'file')) !== undefined, 15_000, 'the upload');
    expect(proc.output).toMatch(/reload failed: [^"]*disk I\/O error[^"]*; the old config stays in force/);
    expect(proc.output).not.toContain('config reloaded');
    expect((await phases())[0]).toBe('paused');
  });

  it('stops nothing for a reload that cannot write the row of a folder it adds, and applies it once it can', async () => {
    const { s, daemon } = await pausedDaemon();
    const alter = (sql: string): void => s.withStateDatabase((db) => {
      db.exec(sql);
    });
    alter(`CREATE TRIGGER no_new_folder BEFORE INSERT ON folders WHEN NEW.name = 'added' BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END;`);
    await s.addFolder('added');
    await s.changeSync({ retries: 2 });
    daemon.signal('SIGHUP');
    await eventually(() => daemon.output.includes('reload failed') || undefined, 15_000, 'the failed reload');
    // Neither stopped nor started again: still paused as it was, its pause not lifted by the reload.
    expect(((await s.status('/status')).body as Status).folders.map((f) => f.phase)).toEqual(['paused']);
    expect(daemon.output).not.toContain('paused since an earlier run');
    expect(daemon.output).toMatch(/reload failed: [^"]*disk I\/O error[^"]*; the old config stays in force/);
    alter('DROP TRIGGER no_new_folder;');
    daemon.signal('SIGHUP');
    await eventually(async () => ((await s.status('/status')).body as Status).folders.map((f) => f.folder).join() === 'main,added' || undefined, 15_000, 'the reload');
  });

  it('picks up a changed ignore rule on SIGHUP', async () => {
    scene = await Scene.start();
    const s = scene;
    await s.write('keep.txt', 'k');
    const proc = s.daemon('--log-level', 'info');
    await running(s);
    const config = parse(await readFile(s.configPath, 'utf8')) as { folders: { ignore?: string[] }[] };
    const folder = config.folders[0];
    if (folder) folder.ignore = ['*.tmp2'];
    await writeFile(s.configPath, stringify(config));
    proc.signal('SIGHUP');
    await eventually(() => proc.output.includes('config reloaded'), 10_000, 'the reload');
    await running(s);
    await s.write('scratch.tmp2', 'ignored');
    await s.write('wanted.txt', 'w');
    await eventually(async () => (await s.entry('wanted.txt')) !== undefined, 10_000, 'the upload');
    expect(await s.entry('scratch.tmp2')).toBeUndefined();
  });

  it('stops cleanly after reloads in quick succession', async () => {
    // Two reloads at once each started a set of folder runners, and the set one replaced went on
    // syncing, unstopped; reloads now take turns.
    scene = await Scene.start();
    const s = scene;
    const proc = s.daemon('--log-level', 'info');
    await running(s);
    // Signals of one kind do not queue: the second is sent once the first has arrived.
    proc.signal('SIGHUP');
    await new Promise((resolve) => setTimeout(resolve, 50));
    proc.signal('SIGHUP');
    await eventually(() => proc.output.includes('config reloaded'), 10_000, 'the reloads');
    await new Promise((resolve) => setTimeout(resolve, 500));
    await running(s);
    await s.write('after.txt', 'a');
    await eventually(async () => (await s.entry('after.txt')) !== undefined, 10_000, 'the upload');
    proc.signal('SIGTERM');
    expect(await proc.exited).toEqual({ code: 0, signal: null });
  });

  it.each(['start', 'reload'] as const)('keeps syncing when its status address is taken at a %s, says so, and listens there at a reload once it is free', async (when) => {
    scene = await Scene.start();
    const s = scene;
    const started = when === 'reload' ? s.daemon() : undefined;
    if (started) await running(s);
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const address = `127.0.0.1:${(taken.address() as AddressInfo).port}`;
    const config = parse(await readFile(s.configPath, 'utf8')) as { daemon: { status: { listen: string } } };
    config.daemon.status.listen = address;
    await writeFile(s.configPath, stringify(config));
    started?.signal('SIGHUP');
    const proc = started ?? s.daemon();
    try {
      await eventually(() => proc.output.includes('cannot start the status server'), 10_000, 'the failed listen');
      await s.write('after.txt', 'a');
      await eventually(async () => (await s.entry('after.txt')) !== undefined, 10_000, 'the upload');
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
    // The operator freed the address, as the log said, and reloads the same config.
    proc.signal('SIGHUP');
    await eventually(async () => (await fetch(`http://${address}/healthz`).catch(() => undefined))?.status === 200, 15_000, 'the status server');
  });

  it('refuses to start a second time on the same state directory', async () => {
    scene = await Scene.start();
    const s = scene;
    s.daemon();
    await running(s);
    const second = await s.cli('sync');
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(/is in use by another cloudreve-sync \(PID \d+ on .+, running "sync"/);
  });

  it('keeps ignored local files when the server deletes their folder and only a server walk saw it', async () => {
    const files = { 'keep.txt': 'kept', 'proj/main.c': 'code', 'proj/secret.env': 'exists nowhere else' };
    const { s } = await syncedDaemon({ daemon: { remoteInterval: '2s' }, folder: { ignore: ['*.env'] } }, files);
    const proj = await s.entry('proj', 'dir');
    await s.server.delete([proj ?? { id: '', kind: 'dir' }]);
    // The walk's pass takes the local side as remembered; the delete waits for a pass that reads the folder.
    await eventually(async () => (await s.exists('proj/main.c')) === false || undefined, 15_000, 'the server delete carried out');
    expect(await s.localTree()).toEqual({ 'keep.txt': 'kept', proj: '/', 'proj/secret.env': 'exists nowhere else' });
    await eventually(async () => (await s.entry('proj', 'dir')) !== undefined, 15_000, 'the folder back up');
  });

  it('ends (exit 1, for systemd to restart it) when its state directory is deleted while it runs', async () => {
    const { s, daemon } = await syncedDaemon();
    await rm(s.stateDir, { recursive: true });
    // Without the lock file a second run could start beside it.
    await s.write('b.txt', 'b');
    expect((await daemon.exited).code).toBe(1);
    expect(daemon.output).toContain(`the lock file ${join(s.stateDir, 'cloudreve-sync.lock')} was deleted while this cloudreve-sync ran`);
  });

  it('ends when its state database is deleted while it runs, and no other command starts a new one beside its log', async () => {
    const { s, daemon } = await syncedDaemon();
    const file = join(s.stateDir, 'cloudreve-sync.db');
    await rm(file);
    const status = await s.cli('status');
    expect(status.code).toBe(2);
    expect(status.stderr).toContain(`the state database ${file} is missing but ${file}-wal and ${file}-shm are there`);
    await s.write('b.txt', 'b');
    expect((await daemon.exited).code).toBe(1);
    expect(daemon.output).toContain(`the state database ${file} was deleted while this cloudreve-sync ran`);
  });

  it('ends when its state directory is deleted while every folder is paused, at its next walk time', async () => {
    const { s, daemon } = await pausedDaemon({ daemon: { remoteInterval: '1s' } });
    await rm(s.stateDir, { recursive: true });
    expect((await daemon.exited).code).toBe(1);
    expect(daemon.output).toContain('was deleted while this cloudreve-sync ran');
  });

  it('keeps a synced file synced when the watcher reports only a newcomer spelled the other Unicode way', async () => {
    const composed = 'caf\u00e9.txt';
    const { s } = await syncedDaemon({}, { [composed]: 'original' });
    await eventually(async () => (await s.fetch(composed).catch(() => undefined)) === 'original', 15_000, 'the first upload');
    await writeFile(s.localPath('cafe\u0301.txt'), 'newcomer');
    const skipped = async (): Promise<string[]> => (JSON.parse((await s.cli('status', '--json')).stdout) as { skipped: { path: string }[] }[])[0]?.skipped.map((x) => x.path) ?? [];
    await eventually(async () => (await skipped()).includes('cafe\u0301.txt') || undefined, 15_000, 'the pass that skips the newcomer');
    expect(await s.fetch(composed)).toBe('original');
    expect(await s.read(composed)).toBe('original');
  });

  it('carries local renames over as moves while server walks come and go, never as a delete and an upload', async () => {
    scene = await Scene.start({ daemon: { remoteInterval: '1s', debounce: '200ms' } });
    const s = scene;
    const n = 8;
    for (let i = 0; i < n; i++) await s.write(`f${i}.txt`, `content ${i}`);
    const daemon = s.daemon('--log-level', 'info');
    await running(s);
    await eventually(async () => Object.keys(await s.remoteTree()).length === n || undefined, 15_000, 'the first upload');
    const ids = new Map<number, string | undefined>();
    for (let i = 0; i < n; i++) ids.set(i, (await s.entry(`f${i}.txt`))?.id);
    // One at a time, as a user tidies up, so that walks fall between a rename's two reports.
    for (let i = 0; i < n; i++) {
      await rename(s.localPath(`f${i}.txt`), s.localPath(`renamed-${i}.txt`));
      await sleep(450);
    }
    await eventually(async () => Object.keys(await s.remoteTree()).every((path) => path.startsWith('renamed-')) || undefined, 20_000, 'the renames on the server');
    for (let i = 0; i < n; i++) expect((await s.entry(`renamed-${i}.txt`))?.id).toBe(ids.get(i));
    expect(daemon.output).not.toContain('deleted on server');
  });

  it('leaves a folder a walk would make where the user just made one of that name to the local changes, not failing it', async () => {
    // The walk takes local paths whose changes are still settling as remembered: it planned the
    // server's new folder locally, found the user's there, and counted that as a failure, which
    // held the path back until its backoff ended.
    const { s, daemon } = await syncedDaemon({ daemon: { remoteInterval: '1s', debounce: '5s' }, config: { log: { level: 'debug', format: 'json' } } });
    await mkdir(s.localPath('sub'));
    await s.write('sub/mine.txt', 'typed locally');
    await s.server.mkdir(s.remotePath('sub'));
    await eventually(() => daemon.output.includes('"action":"mkdir"') || undefined, 15_000, 'the walk reaching for sub');
    await eventually(async () => (await s.entry('sub/mine.txt')) !== undefined || undefined, 15_000, 'the local change sent');
    expect(daemon.output).not.toContain('action failed');
    expect(await s.remoteTree()).toEqual(await s.localTree());
  });

  it('sends a change within two walk intervals while another file is written every 0.7 s', async () => {
    const { s } = await syncedDaemon({ daemon: { remoteInterval: '2s', debounce: '1s' } }, { 'a.txt': 'a' });
    let writing = true;
    const writer = (async (): Promise<void> => {
      while (writing) {
        // Still for longer than the watcher waits (half the debounce), so reported each time.
        await appendFile(s.localPath('app.log'), 'a line of the log\n');
        await sleep(700);
      }
    })();
    try {
      await sleep(1000);
      await s.write('report.txt', 'important');
      const written = Date.now();
      await eventually(async () => (await s.entry('report.txt')) !== undefined, 15_000, 'the upload beside the busy log');
      expect(Date.now() - written).toBeLessThan(8000);
    } finally {
      writing = false;
      await writer;
    }
  });

  it('keeps hearing a file deleted and written again in quick succession', async () => {
    const { s } = await syncedDaemon({ daemon: { remoteInterval: '1h', debounce: '1s' } }, { 'd/notes.txt': 'v0' });
    const file = s.localPath('d/notes.txt');
    await rm(file);
    await sleep(20);
    await writeFile(file, 'v1');
    await sleep(40);
    await rm(file);
    await sleep(300);
    await writeFile(file, 'v2 after the gap');
    await eventually(async () => (await s.fetch('d/notes.txt').catch(() => undefined)) === 'v2 after the gap', 10_000, 'the rewrite');
    // Later edits are heard too (the server is walked once an hour here: only the watcher tells).
    await sleep(1500);
    await writeFile(file, 'edited later');
    await eventually(async () => (await s.fetch('d/notes.txt').catch(() => undefined)) === 'edited later', 10_000, 'the later edit');
  });

  it('watches the folder again after it was renamed away and back', async () => {
    const { s } = await syncedDaemon({ daemon: { remoteInterval: '1s' } }, { 'a.txt': 'a', 'b/c.txt': 'c' });
    const aside = join(s.dir, 'aside');
    await rename(s.local, aside);
    const phase = async (): Promise<string | undefined> => ((await s.status('/status')).body as Status).folders[0]?.phase;
    await eventually(async () => (await phase()) === 'paused', 15_000, 'the pause');
    await rename(aside, s.local);
    expect((await s.cli('resume', 'main')).code).toBe(0);
    await eventually(async () => (await phase()) === 'idle', 15_000, 'idle after the resume');
    // The server walks now come every second; a change must come through the watcher, at once.
    await writeFile(join(s.local, 'b', 'c.txt'), 'edited after the resume');
    await eventually(async () => (await s.fetch('b/c.txt').catch(() => undefined)) === 'edited after the resume', 10_000, 'the upload');
    expect(((await s.status('/status')).body as Status).folders[0]?.watching).toBe('events');
  });

  it('syncs a local folder configured as a link both ways, hearing its changes', async () => {
    // The watcher took the link for a file and heard nothing; each pass over a server change
    // looked at the root without following it, found no folder, and paused the folder.
    const s = await Scene.start({ daemon: { remoteInterval: '1s' } });
    scene = s;
    const real = join(s.dir, 'real');
    await rename(s.local, real);
    await symlink(real, s.local);
    await s.write('a.txt', 'a');
    s.daemon();
    await running(s);
    await s.put('from-server.txt', 'typed elsewhere');
    await eventually(async () => await s.exists('from-server.txt'), 10_000, 'the download');
    await writeFile(join(real, 'typed.txt'), 'typed locally');
    await eventually(async () => (await s.fetch('typed.txt').catch(() => undefined)) === 'typed locally', 10_000, 'the upload');
    const status = ((await s.status('/status')).body as Status).folders[0];
    expect([status?.phase, status?.watching]).toEqual(['idle', 'events']);
  });

  it('watches another folder put in the place of the one it watched (a disk mounted there, a restore)', async () => {
    const { s } = await syncedDaemon({ daemon: { remoteInterval: '1s' } }, { 'a.txt': 'a', 'b/c.txt': 'c' });
    const copy = join(s.dir, 'copy');
    await cp(s.local, copy, { recursive: true, preserveTimestamps: true });
    // Swapped at once: the watched folder is never missing, so the watcher does not lose it.
    await rename(s.local, join(s.dir, 'aside'));
    await rename(copy, s.local);
    // Past a walk time, which finds the new folder there.
    await sleep(2500);
    await writeFile(join(s.local, 'b', 'new.txt'), 'written into the new folder');
    await eventually(async () => (await s.fetch('b/new.txt').catch(() => undefined)) === 'written into the new folder', 10_000, 'the upload');
  });

  it('lives through a database write that fails after a pass, and tries again', async () => {
    const { s, daemon } = await syncedDaemon({ daemon: { remoteInterval: '1s' } }, { 'a.txt': 'a', 'b.txt': 'b' });
    const alter = (sql: string): void => s.withStateDatabase((db) => {
      db.exec(sql);
    });
    // The pause a guard asks for cannot be written down, as on a failing disk.
    alter(`CREATE TRIGGER no_pause BEFORE UPDATE OF paused_reason ON folders WHEN NEW.paused_reason IS NOT NULL BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END;`);
    await rm(s.localPath('a.txt'));
    await rm(s.localPath('b.txt'));
    await eventually(() => daemon.output.includes('pass failed: ') || undefined, 15_000, 'the failed pass');
    expect(daemon.output).toContain('disk I/O error');
    alter('DROP TRIGGER no_pause;');
    const phase = async (): Promise<string | undefined> => ((await s.status('/status')).body as Status).folders[0]?.phase;
    await eventually(async () => (await phase()) === 'paused' || undefined, 20_000, 'the pause, written down');
    expect(daemon.child.exitCode).toBeNull();
  });

  it('pauses a folder a safety guard stopped, says why, and resumes on request', async () => {
    const { s } = await pausedDaemon();
    const health = await s.status('/healthz');
    expect(health.code).toBe(503);
    expect(JSON.stringify(health.body)).toContain('the local folder is empty');
    const status = await s.cli('status');
    // The daemon holds the lock a --once would need: resume is the way past the stop.
    expect(status.stdout).toContain('PAUSED: the local folder is empty but 2 entries were synced before (unmounted drive?)');
    expect(status.stdout).toContain('if it was really emptied, run "cloudreve-sync resume main" or sync --once --force');
    expect(await s.fetch('a.txt')).toBe('a');

    const resumed = await s.cli('resume', 'main');
    expect(resumed.stdout).toContain('main: resumed; the running daemon syncs it now, past the guard for an empty local folder');
    await eventually(async () => (await s.server.list(s.remotePath(''))).entries.length === 0, 15_000, 'the deletes after resume');
    expect((await s.status('/healthz')).code).toBe(200);
  });

  it('starts paused where it stopped paused, saying so, until a sync --once the guards let through', async () => {
    const { s, daemon: first } = await pausedDaemon();
    first.signal('SIGTERM');
    await first.exited;

    const second = s.daemon();
    await eventually(() => second.output.includes('paused since an earlier run: the local folder is empty') || undefined, 15_000, 'the pause logged at start');
    expect(((await s.status('/status')).body as Status).folders[0]?.phase).toBe('paused');
    second.signal('SIGTERM');
    await second.exited;

    // The user put the files back and ran a pass by hand: the stop no longer holds.
    await s.write('a.txt', 'a');
    await s.write('b.txt', 'b');
    await s.sync();
    expect((await s.cli('status')).stdout).not.toContain('PAUSED');
    s.daemon();
    await running(s);
  });

  it("acts on its own daemon only: another install's, answering on the same status address, is neither resumed nor shown", async () => {
    const { s } = await pausedDaemon();
    // Another install on this machine: its own state directory and folder of the same name, the
    // same status address (as two installs left at the default have).
    const config = parse(await readFile(s.configPath, 'utf8')) as { stateDir: string; folders: { local: string }[] };
    const otherLocal = join(s.dir, 'other-local');
    await mkdir(otherLocal);
    const otherConfig = join(s.dir, 'other.yaml');
    await writeFile(otherConfig, stringify({ ...config, stateDir: join(s.dir, 'other-state'), folders: [{ ...config.folders[0], local: otherLocal }] }));

    expect((await s.cli('--config', otherConfig, 'resume', 'main')).stdout).toContain('main: no safety guard stopped it; nothing to resume');
    const status = await s.cli('--config', otherConfig, 'status');
    expect(status.stdout).not.toContain('daemon:');
    expect(status.stdout).not.toContain('PAUSED');
    await sleep(2500);
    expect(((await s.status('/status')).body as Status).folders[0]?.phase).toBe('paused');
    expect(await s.fetch('a.txt')).toBe('a');
    expect((await s.cli('status')).stdout).toContain('daemon: paused');
  });

  it('notices a resume given while its status server is off, also when it scans instead of watching', async () => {
    scene = await Scene.start();
    const s = scene;
    await s.write('a.txt', 'a');
    await s.write('b.txt', 'b');
    await s.sync();
    s.daemonWith({ CLOUDREVE_SYNC_FAULT_WATCH: 'ENOSPC', CLOUDREVE_SYNC_STATUS_LISTEN: 'off' });
    await rm(s.localPath('a.txt'));
    await rm(s.localPath('b.txt'));
    await eventually(async () => (await s.cli('status')).stdout.includes('PAUSED'), 15_000, 'the pause');
    expect((await s.cli('resume', 'main')).stdout).toContain('main: resumed; the next pass (daemon or sync --once) runs past the guard for an empty local folder');
    await eventually(async () => (await s.server.list(s.remotePath(''))).entries.length === 0, 15_000, 'the deletes after resume');
  });

  it('keeps the note of a server temp file that a folder rename carried away until a whole walk finds it', async () => {
    scene = await Scene.start({
      standin: { chunkSize: 512 },
      config: { sync: { settleTime: 0, retries: 0, replaceMaxSize: 2000 } },
      daemon: { remoteInterval: '1h' },
    });
    const s = scene;
    const tempFiles = async (dir: string): Promise<string[]> =>
      (await s.server.list(s.remotePath(dir))).entries.map((e) => e.name).filter((name) => name.startsWith('.cloudreve-sync-'));
    await s.write('dir/big.bin', 'a'.repeat(3000));
    await s.write('other/o.txt', 'o');
    const daemon = s.daemon();
    await running(s);
    // A large file's new version is uploaded beside the old one, and the swap fails: it stays, noted.
    s.standin.control.failNext('DELETE /api/v3/object', 100, 'code50001');
    await s.write('dir/big.bin', 'b'.repeat(3300));
    await eventually(async () => (await tempFiles('dir')).length === 1 && (s.standin.control.requestCounts()['DELETE /api/v3/object'] ?? 0) > 0, 15_000, 'the failed swap');
    await eventually(async () => ((await s.status('/status')).body as Status).folders[0]?.phase === 'idle', 15_000, 'the end of the pass');
    s.standin.control.failNext('DELETE /api/v3/object', 0, 'code50001');
    const dir = await s.entry('dir', 'dir');
    await s.server.rename({ kind: 'dir', id: dir?.id ?? '' }, 'moved');

    // A pass for a local change elsewhere trusts its memory of the server and walks nothing.
    await s.write('other/o2.txt', 'o2');
    await eventually(async () => (await s.entry('other/o2.txt')) !== undefined, 15_000, 'the upload');
    await eventually(async () => ((await s.status('/status')).body as Status).folders[0]?.phase === 'idle', 15_000, 'the end of the pass');
    expect(await tempFiles('moved')).toHaveLength(1);

    // The next walk of the whole server finds it where the rename took it.
    daemon.signal('SIGTERM');
    await daemon.exited;
    await s.cli('sync', '--once');
    expect(await tempFiles('moved')).toEqual([]);
  });

  it('serves its status on loopback only by default', async () => {
    const { loadConfig } = await import('../../src/config/load.js');
    const config = loadConfig({ path: new URL('../../config.example.yaml', import.meta.url).pathname, env: {} });
    expect(config.daemon.status.listen).toBe('127.0.0.1:9123');
  });
});
