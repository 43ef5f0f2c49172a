import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { appendFile, chmod, mkdir, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { invalidNameReason } from '../../src/cloudreve/names.js';
import { bufferSource } from '../../src/remote/sources.js';
import { folderMarkerName } from '../../src/sync/folder-marker.js';
import { certificate, privateKey } from '../contract/tls-fixture.js';
import { useReliabilityHooks } from './hooks.js';
import { Rig, tail } from './rig.js';

/**
 * Bad input, each with the exact message and exit code (issue #5). Parts of this list are also
 * checked in test/config and test/e2e/cli-basics.test.ts; here every item is asserted end to end,
 * through the CLI, with its whole line.
 */

let rig: Rig | undefined;
let other: Server | undefined;
useReliabilityHooks();
afterEach(async () => {
  await new Promise<void>((resolve) => (other ? other.close(() => resolve()) : resolve()));
  other = undefined;
});

type ConfigShape = Record<string, unknown>;

function baseConfig(r: Rig, change: (config: ConfigShape & { server: ConfigShape; folders: ConfigShape[] }) => void = () => undefined): string {
  const s = r.scene;
  const config = {
    server: { url: s.standin.url, username: s.standin.admin.email, password: s.standin.admin.password } as ConfigShape,
    stateDir: s.stateDir,
    sync: { settleTime: 0, retries: 0 } as ConfigShape,
    folders: [{ name: 'main', local: s.local, remote: '/sync' }] as ConfigShape[],
  };
  change(config);
  return stringify(config);
}

async function configure(r: Rig, text: string): Promise<void> {
  await writeFile(r.scene.configPath, text);
}

/** The one line the CLI printed on stderr for an error (log lines are JSON and come before it). */
function errorLine(stderr: string): string {
  return stderr
    .trim()
    .split('\n')
    .filter((line) => line.startsWith('cloudreve-sync: '))
    .join('\n');
}

describe('bad configuration: exit code 2 and the file, the key and what was expected', () => {
  it('a missing config file', async () => {
    rig = await Rig.start();
    const result = await rig.run(['--config', join(rig.scene.dir, 'nope.yaml'), 'sync', '--once']);
    expect(result.code).toBe(2);
    expect(errorLine(result.stderr)).toBe(`cloudreve-sync: config file ${join(rig.scene.dir, 'nope.yaml')} does not exist`);
  });

  it('a YAML syntax error', async () => {
    rig = await Rig.start();
    await configure(rig, 'server:\n  url: [\n');
    const result = await rig.run(['sync', '--once']);
    expect(result.code).toBe(2);
    expect(errorLine(result.stderr)).toBe(
      `cloudreve-sync: ${rig.scene.configPath} line 3, column 1: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]`,
    );
  });

  it('an unknown key', async () => {
    rig = await Rig.start();
    await configure(rig, baseConfig(rig, (c) => (c.colour = 'blue')));
    const result = await rig.run(['sync', '--once']);
    expect(result.code).toBe(2);
    expect(errorLine(result.stderr)).toBe(`cloudreve-sync: ${rig.scene.configPath}: colour: unknown key`);
  });

  it('wrong types', async () => {
    rig = await Rig.start();
    await configure(
      rig,
      baseConfig(rig, (c) => {
        c.sync = { concurrency: 'many' };
        c.folders = [{ name: 'main', local: rig?.local, remote: '/sync', conflict: 3 }];
      }),
    );
    const result = await rig.run(['sync', '--once']);
    expect(result.code).toBe(2);
    expect(errorLine(result.stderr)).toBe(
      `cloudreve-sync: ${rig.scene.configPath}: sync.concurrency: expected number, got string "many"; folders[0].conflict: expected one of "keep-both", "newer", "local", "remote", got number 3`,
    );
  });

  it('a relative local path', async () => {
    rig = await Rig.start();
    await configure(rig, baseConfig(rig, (c) => (c.folders = [{ name: 'main', local: 'relative/path', remote: '/sync' }])));
    const result = await rig.run(['sync', '--once']);
    expect(result.code).toBe(2);
    expect(errorLine(result.stderr)).toBe(`cloudreve-sync: ${rig.scene.configPath}: folders[0].local: expected an absolute path (or one starting with ~/), got "relative/path"`);
  });

  it('a remote path without a leading slash', async () => {
    rig = await Rig.start();
    await configure(rig, baseConfig(rig, (c) => (c.folders = [{ name: 'main', local: rig?.local, remote: 'sync' }])));
    const result = await rig.run(['sync', '--once']);
    expect(result.code).toBe(2);
    expect(errorLine(result.stderr)).toBe(
      `cloudreve-sync: ${rig.scene.configPath}: folders[0].remote: expected an absolute server path starting with / (no trailing /), got string "sync"`,
    );
  });

  it('a local path that does not exist stops that folder (exit 3), as an unmounted drive would', async () => {
    rig = await Rig.start();
    await configure(rig, baseConfig(rig, (c) => (c.folders = [{ name: 'main', local: join(rig?.scene.dir ?? '', 'missing'), remote: '/sync' }])));
    const result = await rig.run(['sync', '--once']);
    expect(result.code).toBe(3);
    const reason = `the local folder is missing or not a folder (unmounted drive?) [local folder: ${join(rig.scene.dir, 'missing')}]; once it is back, a daemon goes on after "cloudreve-sync resume main"`;
    expect(result.stdout).toBe(`main: stopped: ${reason}\n`);
    const status = JSON.parse((await rig.run(['status', '--json'])).stdout) as { lastRun: { stopped: string } }[];
    expect(status[0]?.lastRun.stopped).toBe(reason);
  });
});

describe('the server refuses or cannot be reached: exit code 4, one line', () => {
  it('a wrong password', async () => {
    rig = await Rig.start();
    await configure(rig, baseConfig(rig, (c) => (c.server.password = 'not-the-password')));
    const result = await rig.run(['sync', '--once']);
    expect(result.code).toBe(4);
    expect(errorLine(result.stderr)).toBe(
      `cloudreve-sync: Wrong e-mail or password for ${rig.scene.standin.admin.email} [POST /api/v3/user/session, HTTP 200, code 40020 "Wrong password or email address"]`,
    );
  });

  it('two-factor login required but no TOTP secret configured', async () => {
    rig = await Rig.start();
    const user = rig.scene.standin.addUser('twofa@example.com', 'Tw0-Factor-Pw', { totpSecret: 'KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU' });
    await configure(rig, baseConfig(rig, (c) => (c.server = { url: rig?.scene.standin.url, username: user.email, password: user.password })));
    const result = await rig.run(['sync', '--once']);
    expect(result.code).toBe(4);
    expect(errorLine(result.stderr)).toBe(
      'cloudreve-sync: Two-factor authentication is enabled for twofa@example.com; a TOTP secret (totpSecret) is needed to log in [POST /api/v3/user/session, code 203]',
    );
  });

  it('the server is unreachable; status says so of every folder until a run gets through', async () => {
    rig = await Rig.start();
    const second = join(rig.scene.dir, 'second');
    await mkdir(second);
    const twoFolders = (c: ConfigShape & { folders: ConfigShape[] }): void => {
      c.folders.push({ name: 'second', local: second, remote: '/second' });
    };
    await configure(rig, baseConfig(rig, (c) => (twoFolders(c), (c.server.url = 'http://127.0.0.1:9'))));
    const result = await rig.run(['sync', '--once']);
    expect(result.code).toBe(4);
    expect(errorLine(result.stderr)).toBe('cloudreve-sync: Server unreachable at http://127.0.0.1:9 (connection refused) [POST /api/v3/user/session]');
    const failed = (await rig.run(['status'])).stdout.match(/LAST RUN FAILED \(.+\): Server unreachable at http:\/\/127\.0\.0\.1:9 \(connection refused\)/g);
    expect(failed).toHaveLength(2);
    await configure(rig, baseConfig(rig, twoFolders));
    await rig.sync(0);
    expect((await rig.run(['status'])).stdout).not.toContain('LAST RUN FAILED');
  });

  it('the server goes down mid-pass: the run ends soon after the first action finds it gone, and the paths not tried are not blamed', async () => {
    rig = await Rig.start();
    await configure(rig, baseConfig(rig, (c) => (c.sync = { settleTime: 0, retries: 3 })));
    await rig.scene.write('seed.txt', 'x');
    await rig.sync(0);
    for (let i = 0; i < 24; i++) await rig.scene.write(`f${i}.txt`, `file ${i}`);
    const route = 'PUT /api/v3/file/upload';
    rig.scene.standin.control.failNext(route, 1000, 'reset');
    rig.scene.standin.control.resetCounts();
    const result = await rig.run(['sync', '--once']);
    expect(result.code).toBe(4);
    // The four actions under way may each go through their retries (four attempts of three
    // requests) until one has found the server gone; none is started or tried again after.
    expect(rig.scene.standin.control.requestCounts()[route]).toBeLessThanOrEqual(4 * 4 * 3);
    rig.scene.standin.control.failNext(route, 0, 'reset');
    // Only the path that found it waits for a backoff when the server is back, as a path at
    // fault would (a file a proxy breaks every time); the others were not tried.
    expect((await status(rig)).failing).toHaveLength(1);
    expect((await rig.sync(1)).stdout).toContain('23 uploaded');
  });

  it('the TLS certificate is rejected', async () => {
    rig = await Rig.start();
    const tls = createHttpsServer({ cert: certificate, key: privateKey }, (_, res) => res.end('{}'));
    other = tls;
    await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
    const url = `https://127.0.0.1:${(tls.address() as AddressInfo).port}`;
    await configure(rig, baseConfig(rig, (c) => (c.server.url = url)));
    const result = await rig.run(['sync', '--once']);
    expect(result.code).toBe(4);
    expect(errorLine(result.stderr)).toBe(
      `cloudreve-sync: TLS connection to ${url} failed (self-signed certificate); if the server uses a private CA set server.tls.ca to its certificate, or set server.tls.insecureSkipVerify to accept any certificate [POST /api/v3/user/session]`,
    );
  });

  it('a server answering HTML', async () => {
    rig = await Rig.start();
    const html = createHttpServer((_, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><body>Welcome to nginx!</body></html>');
    });
    other = html;
    await new Promise<void>((resolve) => html.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(html.address() as AddressInfo).port}`;
    await configure(rig, baseConfig(rig, (c) => (c.server.url = url)));
    const result = await rig.run(['sync', '--once']);
    expect(result.code).toBe(4);
    expect(errorLine(result.stderr)).toBe(
      `cloudreve-sync: Expected a Cloudreve v3 JSON answer from ${url} but got HTTP 200 "<html><body>Welcome to nginx!</body></html>"; is the URL a Cloudreve v3 server? [POST /api/v3/user/session, HTTP 200]`,
    );
  });
});

interface StatusJson {
  failing: { path: string; action: string; error: string }[];
  skipped: { side: string; path: string; reason: string }[];
}

async function status(r: Rig): Promise<StatusJson> {
  const result = await r.run(['status', '--json']);
  return (JSON.parse(result.stdout) as StatusJson[])[0] ?? { failing: [], skipped: [] };
}

describe('what the server refuses: exit code 1, the rest goes on, status says why', () => {
  it('quota exceeded: uploads wait, downloads go on', async () => {
    rig = await Rig.start();
    await configure(rig, baseConfig(rig));
    await rig.scene.put('from-server.txt', 'downloaded despite the full quota');
    rig.scene.standin.control.setQuota(2000);
    await rig.scene.write('big.bin', Buffer.alloc(5000, 7));
    await rig.scene.write('small.txt', 'small');
    const result = await rig.sync(1);
    expect(result.stdout).toBe('main: 1 uploaded, 1 downloaded, 0 moved, 0 deleted, 0 conflicts, 0 skipped, 0 deferred, 1 failed\n');
    expect(await rig.scene.read('from-server.txt')).toBe('downloaded despite the full quota');
    const { failing } = await status(rig);
    expect(failing).toEqual([
      expect.objectContaining({ path: 'big.bin', action: 'upload', error: 'Storage quota exceeded (/sync/big.bin) [PUT /api/v3/file/upload, HTTP 200, code 40051 "Insufficient capacity"]' }),
    ]);
    // Room again, and the backoff over: it goes up.
    rig.scene.standin.control.setQuota(1024 ** 3);
    rig.endBackoff();
    await rig.sync(0);
    expect((await rig.scene.entry('big.bin', 'file'))?.kind).toBe('file');
  });

  it('a retry time recorded while the clock ran ahead (a NAS without a clock battery, set by NTP later) is not waited for', async () => {
    rig = await Rig.start();
    await configure(rig, baseConfig(rig));
    rig.scene.standin.control.setQuota(2000);
    await rig.scene.write('big.bin', Buffer.alloc(5000, 7));
    await rig.sync(1);
    expect((await status(rig)).failing).toEqual([expect.objectContaining({ path: 'big.bin', attempts: 1 })]);
    rig.scene.standin.control.setQuota(1024 ** 3);
    // Within the backoff of its attempts (a minute for the first), a retry time is kept.
    rig.setRetryTimes(Date.now() + 30_000);
    expect((await rig.sync(1)).stdout).toContain('1 deferred');
    // Further away than that backoff, it was set by a clock that has since gone back.
    rig.setRetryTimes(Date.now() + 365 * 24 * 3_600_000);
    expect((await rig.sync(0)).stdout).toContain('1 uploaded');
    expect((await status(rig)).failing).toEqual([]);
  });

  it("a file larger than a reverse proxy's body size limit (HTTP 413): that upload fails, the rest goes on", async () => {
    rig = await Rig.start();
    await configure(rig, baseConfig(rig));
    await rig.scene.put('from-server.txt', 'downloaded all the same');
    await rig.scene.write('big.bin', Buffer.alloc(4000, 1));
    rig.scene.standin.control.failNext('POST /api/v3/file/upload/:sessionId/:index', 1000, 'http413');
    try {
      const result = await rig.sync(1);
      expect(result.stdout).toBe('main: 0 uploaded, 1 downloaded, 0 moved, 0 deleted, 0 conflicts, 0 skipped, 0 deferred, 1 failed\n');
    } finally {
      rig.scene.standin.control.failNext('POST /api/v3/file/upload/:sessionId/:index', 0, 'http413');
    }
    expect(await rig.scene.read('from-server.txt')).toBe('downloaded all the same');
    const [failure] = (await status(rig)).failing;
    expect(failure).toMatchObject({ path: 'big.bin', action: 'upload' });
    expect(failure?.error).toMatch(/^Request too large for the proxy in front of http:\/\/127\.0\.0\.1:\d+ \(HTTP 413 .*413 Request Entity Too Large.*\): raise its body size limit \(nginx: client_max_body_size\)/);
  });

  it('a file larger than the policy allows', async () => {
    rig = await Rig.start({ standin: { maxSize: 1000 } });
    await configure(rig, baseConfig(rig));
    await rig.scene.write('huge.bin', Buffer.alloc(4000, 1));
    await rig.scene.write('fine.txt', 'fine');
    const result = await rig.sync(1);
    expect(result.stdout).toContain('1 uploaded');
    expect(result.stdout).toContain('1 failed');
    expect((await status(rig)).failing).toEqual([
      expect.objectContaining({ path: 'huge.bin', error: 'File too large for the storage policy (/sync/huge.bin) [PUT /api/v3/file/upload, HTTP 200, code 40049 "File is too large"]' }),
    ]);
  });

  it('an extension the policy forbids', async () => {
    rig = await Rig.start({ standin: { fileTypes: ['txt'] } });
    await configure(rig, baseConfig(rig));
    await rig.scene.write('tool.exe', 'MZ');
    await rig.scene.write('fine.txt', 'fine');
    const result = await rig.sync(1);
    expect(result.stdout).toContain('1 uploaded');
    expect(result.stdout).toContain('1 failed');
    expect((await status(rig)).failing).toEqual([
      expect.objectContaining({
        path: 'tool.exe',
        error: 'File type not allowed by the storage policy (/sync/tool.exe) [PUT /api/v3/file/upload, HTTP 200, code 40050 "File type not allowed"]',
      }),
    ]);
  });

  it('an illegal name and an over-long one are skipped and reported', async () => {
    rig = await Rig.start();
    await configure(rig, baseConfig(rig));
    await rig.scene.write('a:b.txt', 'colon');
    await rig.scene.write('fine.txt', 'fine');
    // No local filesystem here holds a name over 255 bytes, so that reason is checked as the
    // planner gets it. 255 bytes is a name Cloudreve takes, but its local storage keeps the
    // file under a longer one, which its disk refuses.
    const long = `${'x'.repeat(251)}.txt`;
    await rig.scene.write(long, 'at the limit');
    const result = await rig.sync(1);
    expect(result.stdout).toBe('main: 1 uploaded, 0 downloaded, 0 moved, 0 deleted, 0 conflicts, 1 skipped, 0 deferred, 1 failed\n');
    const { skipped, failing } = await status(rig);
    expect(skipped).toEqual([
      { side: 'local', path: 'a:b.txt', reason: 'name not allowed on the server: the name contains ":", which Cloudreve does not allow; rename it to sync it' },
    ]);
    expect(failing).toEqual([expect.objectContaining({ path: long, error: expect.stringContaining('which at 255 bytes goes past the 255 its disk takes; rename it shorter') as unknown })]);
    expect(invalidNameReason(`${'é'.repeat(128)}`)).toBe('the name is 256 bytes long in UTF-8; Cloudreve allows at most 255');
  });
});

describe('local trouble', () => {
  const root = process.getuid?.() === 0;
  const nobody = 65534;

  it('an unreadable file (EACCES) fails alone and is reported; the rest syncs', async () => {
    rig = await Rig.start();
    await configure(rig, baseConfig(rig));
    await rig.scene.write('secret.txt', 'unreadable');
    await rig.scene.write('open.txt', 'readable');
    await chmod(rig.scene.localPath('secret.txt'), 0o000);
    // As root, chmod does not keep anyone from reading: the CLI then runs as "nobody".
    let as = {};
    if (root) {
      execFileSync('chown', ['-R', `${nobody}:${nobody}`, rig.scene.dir]);
      as = { uid: nobody, gid: nobody };
    }
    const result = await rig.sync(1, [], as);
    expect(result.stdout).toBe('main: 1 uploaded, 0 downloaded, 0 moved, 0 deleted, 0 conflicts, 0 skipped, 0 deferred, 1 failed\n');
    expect(await rig.scene.fetch('open.txt')).toBe('readable');
    expect(await rig.scene.entry('secret.txt')).toBeUndefined();
    const failing = JSON.parse((await rig.run(['status', '--json'], as)).stdout) as StatusJson[];
    expect(failing[0]?.failing).toEqual([expect.objectContaining({ path: 'secret.txt', action: 'upload', error: 'cannot read secret.txt (permission denied)' })]);
    if (root) execFileSync('chown', ['-R', '0:0', rig.scene.dir]);
  });

  it('a damaged state database: exit 2, naming the file and what to do, and nothing deleted', async () => {
    rig = await Rig.start();
    for (let i = 0; i < 200; i++) await rig.scene.write(`d/f${i}.txt`, `file ${i}`);
    await rig.sync(0);
    const file = join(rig.stateDir, 'cloudreve-sync.db');
    const db = new Database(file);
    const page = (db.prepare("SELECT pageno FROM dbstat WHERE name = 'synced' ORDER BY pageno DESC LIMIT 1").get() as { pageno: number }).pageno;
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    const handle = await open(file, 'r+');
    await handle.write(Buffer.alloc(pageSize - 100, 0xab), 0, pageSize - 100, (page - 1) * pageSize + 50);
    await handle.close();
    const result = await rig.sync(2);
    expect(tail(result.stderr)).toContain(`the state database ${file} failed: database disk image is malformed (SQLITE_CORRUPT); move it aside`);
    expect(Object.keys(await rig.scene.remoteTree())).toHaveLength(201);
  });

  it('a state database overwritten whole: exit 2, naming the file and what to do, for sync and status alike', async () => {
    rig = await Rig.start();
    await rig.scene.write('a.txt', 'a');
    await rig.sync(0);
    const file = join(rig.stateDir, 'cloudreve-sync.db');
    await writeFile(file, Buffer.alloc(64 * 1024, 0x5a));
    await rm(`${file}-wal`, { force: true });
    await rm(`${file}-shm`, { force: true });
    const hint = 'move it aside with its -wal and -shm files: the next run starts a new one and merges both sides, deleting nothing';
    expect(tail((await rig.sync(2)).stderr)).toContain(`the state database ${file} failed: file is not a database (SQLITE_NOTADB); ${hint}`);
    const status = await rig.run(['status']);
    expect([status.code, tail(status.stderr)]).toEqual([2, expect.stringContaining(hint)]);
    expect(await rig.scene.fetch('a.txt')).toBe('a');
  });

  it('a read-only folder synced upload-only: sent, with nothing written there, dry run and conflicts included', async (ctx) => {
    if (!root) ctx.skip('a read-only bind mount needs root');
    rig = await Rig.start();
    const r = rig;
    // The share as the user edits it, and as cloudreve-sync sees it: read-only.
    const source = join(r.scene.dir, 'share');
    const view = join(r.scene.dir, 'read-only');
    await mkdir(join(source, '2024'), { recursive: true });
    await mkdir(view);
    await writeFile(join(source, '2024', 'report.txt'), 'from a read-only share');
    try {
      execFileSync('mount', ['--bind', '-o', 'ro', source, view], { stdio: 'ignore' });
    } catch {
      ctx.skip('this machine does not let us bind-mount');
    }
    try {
      const configured = (conflict: string): Promise<void> => configure(r, baseConfig(r, (c) => (c.folders = [{ name: 'main', local: view, remote: '/sync', mode: 'upload-only', conflict }])));
      await configured('keep-both');
      await r.sync(0, ['--dry-run']);
      await r.sync(0);
      expect(await r.scene.fetch('2024/report.txt')).toBe('from a read-only share');
      // Edited on both sides to the same size: telling them apart means fetching the server's
      // version, which waits outside the folder; so does the one local-wins keeps in the trash.
      for (const [conflict, round] of [['keep-both', '1'], ['local', '2']] as const) {
        await configured(conflict);
        await writeFile(join(source, '2024', 'report.txt'), `local edit ${round}, same size`);
        const entry = await r.scene.entry('2024/report.txt', 'file');
        await r.scene.server.replace(entry?.id ?? '', bufferSource(Buffer.from(`server edit ${round} same size`), Date.now()));
        const result = await r.sync(1);
        expect(result.stdout).toContain(' 0 failed');
        expect(await r.scene.fetch('2024/report.txt')).toBe(`local edit ${round}, same size`);
      }
      expect(Object.values(await r.scene.remoteTree()).filter((content) => content === 'server edit 1 same size')).toHaveLength(1);
      expect(await readdir(join(source, '2024'))).toEqual(['report.txt']);
      const trashed = await readdir(join(r.stateDir, 'trash', 'main'), { recursive: true, withFileTypes: true });
      const kept = await Promise.all(trashed.filter((e) => e.isFile()).map((e) => readFile(join(e.parentPath, e.name), 'utf8')));
      expect(kept).toEqual(['server edit 2 same size']);
    } finally {
      execFileSync('umount', [view]);
    }
  });

  it('a disk that fills up during a download: the partial file is removed and the old file is intact', async (ctx) => {
    if (!root) ctx.skip('mounting a tiny tmpfs needs root');
    rig = await Rig.start();
    const disk = join(rig.scene.dir, 'small-disk');
    await mkdir(disk);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', disk], { stdio: 'ignore' });
    } catch {
      ctx.skip('this machine does not let us mount a tmpfs');
    }
    try {
      await configure(rig, baseConfig(rig, (c) => (c.folders = [{ name: 'main', local: disk, remote: '/sync' }])));
      await writeFile(join(disk, 'report.txt'), 'the old version');
      await rig.sync(0);
      const entry = await rig.scene.entry('report.txt', 'file');
      await rig.scene.server.replace(entry?.id ?? '', bufferSource(Buffer.alloc(600 * 1024, 65), Date.now()));
      const result = await rig.sync(1);
      expect(result.stdout).toBe('main: 0 uploaded, 0 downloaded, 0 moved, 0 deleted, 0 conflicts, 0 skipped, 0 deferred, 1 failed\n');
      expect((await readdir(disk)).sort()).toEqual([folderMarkerName, 'report.txt']);
      expect(await readFile(join(disk, 'report.txt'), 'utf8')).toBe('the old version');
      expect((await status(rig)).failing).toEqual([expect.objectContaining({ path: 'report.txt', action: 'download', error: expect.stringContaining('ENOSPC') as unknown })]);
    } finally {
      execFileSync('umount', [disk]);
    }
  });

  it('a file that keeps changing while it is uploaded is not counted as in sync, and goes up once it settles', async () => {
    rig = await Rig.start({ standin: { chunkSize: 1024 } });
    await configure(rig, baseConfig(rig));
    await rig.scene.write('growing.log', 'start\n');
    let writing = true;
    rig.scene.standin.control.setLatency(30);
    // Appends until the sync is over, however long it takes to start.
    const file = rig.scene.localPath('growing.log');
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        await appendFile(file, `line ${i} ${'.'.repeat(200)}\n`);
        await sleep(5);
      }
    })();
    const result = await rig.run(['sync', '--once']);
    writing = false;
    await writer;
    rig.scene.standin.control.setLatency(0);
    expect(result.code, tail(result.stderr)).toBe(1);
    expect(result.stdout).toMatch(/0 uploaded, .* [1-9]\d* deferred, 0 failed/);
    await rig.sync(0);
    expect(await rig.scene.fetch('growing.log')).toBe(await rig.scene.read('growing.log'));
  });
});
