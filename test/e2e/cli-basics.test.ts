import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { bufferSource } from '../../src/remote/sources.js';
import { version } from '../../src/version.js';
import { cliPath, eventually, Scene } from './harness.js';

let scene: Scene | undefined;
let other: Server | undefined;
afterEach(async () => {
  await scene?.close();
  scene = undefined;
  await new Promise<void>((resolve) => (other ? other.close(() => resolve()) : resolve()));
  other = undefined;
});

async function pointAt(s: Scene, server: Record<string, unknown>): Promise<void> {
  await writeFile(s.configPath, stringify({ server: { username: s.standin.admin.email, password: s.standin.admin.password, ...server }, stateDir: s.stateDir }));
}

/** Points the scene's config at a web server that answers every request with `status` and `html`. */
async function pointAtPage(s: Scene, status: number, html: string): Promise<void> {
  const page = createServer((_, res) => {
    res.writeHead(status, { 'content-type': 'text/html' });
    res.end(html);
  });
  other = page;
  await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
  await pointAt(s, { url: `http://127.0.0.1:${(page.address() as AddressInfo).port}` });
}

describe('the CLI', () => {
  it('prints its version and help', async () => {
    scene = await Scene.start();
    const v = await scene.cli('--version');
    expect(v).toMatchObject({ code: 0, stdout: `${version}\n` });
    const help = await scene.cli('--help');
    expect(help.code).toBe(0);
    for (const command of ['login', 'info', 'ls', 'sync', 'status', 'share', 'link']) expect(help.stdout).toContain(command);
    const unknown = await scene.cli('frobnicate');
    expect(unknown.code).toBe(2);
    // A typo in a cron line is a usage error, not a sync that fails for another reason.
    const level = await scene.cli('--log-level', 'verbose', 'sync', '--once');
    expect(level.code).toBe(2);
    expect(level.stderr).toContain("argument 'verbose' is invalid. Allowed choices are trace, debug, info, warn, error, fatal, silent");
  });

  it('logs in once and reuses the stored session', async () => {
    scene = await Scene.start();
    const login = await scene.cli('login');
    expect(login.code).toBe(0);
    expect(login.stdout).toContain('Logged in to');
    scene.standin.control.resetCounts();
    const info = await scene.cli('info');
    expect(info.code).toBe(0);
    expect(info.stdout).toMatch(/Cloudreve 3\.8\.3/);
    expect(info.stdout).toContain('admin@cloudreve.org');
    expect(scene.standin.control.requestCounts()['POST /api/v3/user/session'] ?? 0).toBe(0);
  });

  it('lists a server folder', async () => {
    scene = await Scene.start();
    await scene.put('a/b.txt', 'bee');
    const ls = await scene.cli('ls', '/sync/a');
    expect(ls.code).toBe(0);
    expect(ls.stdout).toMatch(/file\s+3 B\s+\S+ \S+\s+b\.txt/);
    const missing = await scene.cli('ls', '/nope');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('Path not exist');
  });

  it('says in one line that the password is wrong, with exit code 4', async () => {
    scene = await Scene.start();
    await pointAt(scene, { url: scene.standin.url, password: 'wrong-password' });
    const result = await scene.cli('info');
    expect(result.code).toBe(4);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/wrong password or e-?mail/i);
    expect(result.stderr).not.toContain('wrong-password');
  });

  it('says in one line that the server is unreachable', async () => {
    scene = await Scene.start();
    await pointAt(scene, { url: 'http://127.0.0.1:9' });
    const result = await scene.cli('info');
    expect(result.code).toBe(4);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/unreachable/i);
    // The debug log has the error whole, stack included.
    const debug = await scene.cli('--log-level', 'debug', 'info');
    expect(debug.stderr).toMatch(/"msg":"the command failed"/);
    expect(debug.stderr).toMatch(/"stack":"RemoteError: Server unreachable/);
  });

  it('says in one line that a URL is not a Cloudreve server', async () => {
    scene = await Scene.start();
    await pointAtPage(scene, 200, '<html><body>Welcome to nginx!</body></html>');
    const result = await scene.cli('info');
    expect(result.code).toBe(4);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('Welcome to nginx');
  });

  it('says what is wrong with a URL that reaches another kind of server, with exit code 4', async () => {
    // A plain file server, which knows no POST: not Cloudreve, rather than "a server error".
    scene = await Scene.start();
    await pointAtPage(scene, 501, '<html><body>Error response: Unsupported method</body></html>');
    const other501 = await scene.cli('info');
    expect(other501.code).toBe(4);
    expect(other501.stderr).toContain('is the URL a Cloudreve v3 server?');
    // https:// in front of a server that speaks plain HTTP.
    await pointAt(scene, { url: scene.standin.url.replace('http://', 'https://') });
    const plain = await scene.cli('info');
    expect(plain.code).toBe(4);
    expect(plain.stderr.trim().split('\n')).toHaveLength(1);
    expect(plain.stderr).toContain('the server answered in plain HTTP; use an http:// URL');
  });

  it('says that the server is unreachable when its proxy answers 502, with exit code 4', async () => {
    // Cloudreve stopped behind a NAS's reverse proxy: cron's "mail on 2 or more" must see it.
    scene = await Scene.start();
    await pointAtPage(scene, 502, '<html><head><title>502 Bad Gateway</title></head><body>502 Bad Gateway</body></html>');
    for (const args of [['info'], ['ls', '/']]) {
      const result = await scene.cli(...args);
      expect(result.code).toBe(4);
      expect(result.stderr).toMatch(/Server unreachable behind http:\/\/127\.0\.0\.1:\d+: its proxy answered HTTP 502 /);
    }
  });

  // Both load code the bundle keeps out of the start-up path: the TOTP chunk, and pino-pretty
  // from node_modules.
  it('logs in with a second factor and writes human-readable log lines when asked to', async () => {
    scene = await Scene.start();
    const totpSecret = 'JBSWY3DPEHPK3PXP';
    scene.standin.addUser('otp@example.com', 'password1', { totpSecret });
    await writeFile(
      scene.configPath,
      stringify({ server: { url: scene.standin.url, username: 'otp@example.com', password: 'password1', totpSecret }, stateDir: scene.stateDir, log: { level: 'info', format: 'pretty' } }),
    );
    const result = await scene.cli('login');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Logged in to');
    expect(result.stderr).toMatch(/INFO.*logged in to Cloudreve/);
    expect(result.stderr.trimStart().startsWith('{')).toBe(false);
  });

  it('syncs the other folders when one fails on its own, and says which', async () => {
    scene = await Scene.start();
    const s = scene;
    await s.server.upload('/', 'taken', bufferSource(Buffer.from('a file where the other folder wants its server folder'), Date.now()));
    await s.write('mine.txt', 'mine');
    const other = `${s.local}-other`;
    const config = parse(await readFile(s.configPath, 'utf8')) as { folders: Record<string, unknown>[] };
    await writeFile(s.configPath, stringify({ ...config, folders: [{ name: 'bad', local: other, remote: '/taken' }, ...config.folders] }));
    await mkdir(other);
    // A dry run says so too, rather than show a plan the run cannot carry out.
    const dry = await s.cli('sync', '--once', '--dry-run');
    expect(dry.code).toBe(1);
    expect(dry.stdout).toContain('bad: failed: cannot create the server folder /taken: a file of that name is in the way');
    const result = await s.cli('sync', '--once');
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('bad: failed: cannot create the server folder /taken: a file of that name is in the way');
    expect(result.stdout).toMatch(/^main: 1 uploaded/m);
    expect(await s.fetch('mine.txt')).toBe('mine');
  });

  it('names the offending key of a bad config, with exit code 2', async () => {
    scene = await Scene.start();
    await writeFile(scene.configPath, 'server:\n  url: ftp://x\n  username: a@b.c\n  password: p\n  colour: blue\n');
    const result = await scene.cli('info');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('server.url: expected an http:// or https:// URL');
    expect(result.stderr).toContain('server.colour: unknown key');
  });

  it('shows the status of folders never synced without creating a state directory', async () => {
    scene = await Scene.start();
    const result = await scene.cli('status');
    expect([result.code, result.stderr]).toEqual([0, '']);
    expect(result.stdout).toContain('last successful sync: never');
    expect(existsSync(scene.stateDir)).toBe(false);
  });

  it('upgrades a state database once when two commands find it of an older version', async () => {
    scene = await Scene.start();
    const s = scene;
    await s.write('a.txt', 'a');
    await s.writeOldStateDatabase(100_000);
    const [status, sync] = await Promise.all([s.cli('status'), s.cli('sync', '--once')]);
    expect([status.code, status.stderr]).toEqual([0, '']);
    expect([sync.code, sync.stderr]).toEqual([0, '']);
    expect(await s.fetch('a.txt')).toBe('a');
  });

  it.each(['SIGINT', 'SIGHUP'] as const)('stops a run on %s as the daemon stops a pass: the upload under way cancelled, nothing left behind', async (signal) => {
    scene = await Scene.start({ standin: { chunkSize: 4096 } });
    const s = scene;
    await s.write('big.bin', Buffer.alloc(200 * 1024, 7));
    await s.write('small.txt', 'small');
    s.standin.control.setLatency(100);
    const run = spawn(process.execPath, [cliPath, '--config', s.configPath, 'sync', '--once'], { stdio: 'ignore' });
    const exited = once(run, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    await eventually(() => (s.standin.control.requestCounts()['POST /api/v3/file/upload/:sessionId/:index'] ?? 0) > 2, 15_000, 'chunks flowing');
    run.kill(signal);
    expect(await exited).toEqual([1, null]);
    expect(s.standin.control.openUploadSessions()).toEqual([]);
    s.standin.control.setLatency(0);
    await s.sync();
    expect(await s.fetch('big.bin')).toHaveLength(200 * 1024);
  });
});
