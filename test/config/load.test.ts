import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfig } from '../../src/config/load.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cloudreve-sync-config-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function configFile(text: string): Promise<string> {
  const path = join(dir, 'config.yaml');
  await writeFile(path, text);
  return path;
}

function failure(path: string, env: NodeJS.ProcessEnv = {}): string {
  try {
    loadConfig({ path, env });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('the config loaded');
}

const server = 'server:\n  url: https://cloud.example.com\n  username: me@example.com\n  password: secret-pw\n';

describe('loadConfig', () => {
  it('loads config.example.yaml with its documented defaults', () => {
    const config = loadConfig({ path: fileURLToPath(new URL('../../config.example.yaml', import.meta.url)), env: {} });
    expect(config.server).toMatchObject({ url: 'https://cloud.example.com', timeouts: { connectMs: 10_000, responseMs: 60_000, idleMs: 120_000 } });
    expect(config.sync).toEqual({ concurrency: 4, requestsPerSecond: 0, retries: 3, settleTime: 1000, replaceMaxSize: 100 * 1024 * 1024 });
    expect(config.daemon).toEqual({ remoteInterval: 60_000, fullRescanInterval: 3_600_000, debounce: 1000, healthyWithin: 3 * 3_600_000, status: { listen: '127.0.0.1:9123' } });
    expect(config.folders[0]).toMatchObject({ name: 'documents', mode: 'two-way', conflict: 'keep-both', trashDays: 30, remoteTrash: undefined });
  });

  it('names a missing file', () => {
    expect(failure(join(dir, 'nope.yaml'))).toBe(`config file ${join(dir, 'nope.yaml')} does not exist`);
  });

  it('gives the line of a YAML syntax error', async () => {
    expect(failure(await configFile('server:\n  url: [\n'))).toMatch(/config\.yaml line 3, column 1: YAML syntax error/);
  });

  it('names unknown keys, wrong types and bad values, and never echoes a secret', async () => {
    const message = failure(
      await configFile(`${server}  colour: blue\n  totpSecret: 123\nfolders:\n  - name: docs\n    local: relative/path\n    remote: Documents\n    mode: sideways\n`),
    );
    expect(message).toContain('server.colour: unknown key');
    expect(message).toContain('server.totpSecret: expected string (value not shown)');
    expect(message).toContain('folders[0].remote: expected an absolute server path starting with /');
    expect(message).toContain('folders[0].mode: expected one of "two-way", "upload-only", "download-only", got string "sideways"');
    expect(message).not.toContain('123');
  });

  it('says which bound a number breaks, which check a secret fails, and which folder name is taken twice', async () => {
    const folders = 'folders:\n  - name: a\n    local: /srv/a\n    remote: /a\n  - name: a\n    local: /srv/b\n    remote: /b\n';
    const message = failure(await configFile(`${server}  totpSecret: "not base32!"\nsync:\n  concurrency: 0\n  retries: 20\n${folders}`));
    expect(message).toContain('server.totpSecret: expected the base32 secret shown when two-factor login was enabled (value not shown)');
    expect(message).toContain('sync.concurrency: expected at least 1, got number 0');
    expect(message).toContain('sync.retries: expected at most 10, got number 20');
    expect(message).toMatch(/folders\[1\]\.name: duplicate folder name "a"$/);
    expect(message).not.toContain('base32!');
  });

  it('refuses durations longer than a timer can wait, and intervals without a pause', async () => {
    const folders = 'folders:\n  - name: docs\n    local: /srv/docs\n    remote: /Documents\n';
    const message = failure(await configFile(`${server}${folders}daemon:\n  fullRescanInterval: 30d\n  remoteInterval: 2592000\n  debounce: 24d\n`));
    expect(message).toContain('daemon.fullRescanInterval: expected a duration of at most 24d, got "30d"');
    expect(message).toContain('daemon.remoteInterval: expected a duration of at most 24d, got 2592000 seconds');
    expect(message).not.toContain('debounce');
    expect(failure(await configFile(`${server}${folders}daemon:\n  remoteInterval: 0\n`))).toContain('daemon.remoteInterval: expected a duration of at least 1s');
  });

  it('wants an absolute local path', async () => {
    expect(failure(await configFile(`${server}folders:\n  - name: docs\n    local: relative/path\n    remote: /Documents\n`))).toContain(
      'folders[0].local: expected an absolute path (or one starting with ~/), got "relative/path"',
    );
  });

  it('shows a wrong duration or size as it was written, and takes a quoted number of seconds', async () => {
    expect(failure(await configFile(`${server}daemon:\n  remoteInterval: 0.5\n`))).toContain('daemon.remoteInterval: expected a duration of at least 1s, got 0.5 seconds');
    expect(failure(await configFile(`${server}sync:\n  replaceMaxSize: 1.5\n`))).toContain('sync.replaceMaxSize: expected a whole number of bytes or a size such as 512KiB, 100MB or 1GiB, got 1.5');
    expect(loadConfig({ path: await configFile(`${server}sync:\n  settleTime: "30"\n`), env: {} }).sync.settleTime).toBe(30_000);
  });

  it('refuses a status address with a port beyond 65535', async () => {
    expect(failure(await configFile(`${server}daemon:\n  status:\n    listen: 127.0.0.1:99999\n`))).toContain('daemon.status.listen: expected a port from 0 to 65535');
  });

  it('refuses overlapping folders', async () => {
    const text = `${server}folders:\n  - { name: a, local: /data, remote: /A }\n  - { name: b, local: /data/sub, remote: /B }\n`;
    expect(failure(await configFile(text))).toContain('folders[1].local: /data/sub lies inside folders[0].local (/data)');
  });

  it('refuses a folder name that would lead out of the trash', async () => {
    const text = `${server}folders:\n  - { name: '..', local: /data, remote: /A }\n`;
    expect(failure(await configFile(text))).toContain('folders[0].name: expected a short name of letters, digits, ".", "-" or "_" (not "." or "..")');
  });

  it('refuses folders that overlap through a symbolic link', async () => {
    await mkdir(join(dir, 'data', 'photos'), { recursive: true });
    await symlink(join(dir, 'data'), join(dir, 'link'));
    const text = `${server}folders:\n  - { name: a, local: ${join(dir, 'data')}, remote: /A }\n  - { name: b, local: ${join(dir, 'link', 'photos')}, remote: /B }\n`;
    expect(failure(await configFile(text))).toContain(`(through a symbolic link: ${join(dir, 'data', 'photos')} lies in ${join(dir, 'data')})`);
  });

  it('knows where the state directory lies inside a folder, and refuses it as the folder itself', async () => {
    const folders = 'folders:\n  - { name: home, local: /home/me/, remote: /Home }\n  - { name: docs, local: /srv/docs, remote: /Docs }\n';
    const config = loadConfig({ path: await configFile(`${server}stateDir: /home/me//.local/state/cs/\n${folders}`), env: {} });
    expect(config.stateDir).toBe('/home/me/.local/state/cs');
    expect(config.folders.map((f) => [f.localPath, f.stateDirWithin])).toEqual([
      ['/home/me', '.local/state/cs'],
      ['/srv/docs', undefined],
    ]);
    const same = `${server}stateDir: /srv/docs\n${folders}`;
    expect(failure(await configFile(same))).toContain('folders[1].local: /srv/docs is also the state directory (stateDir)');
  });

  it('sees the state directory inside a folder named through a symbolic link', async () => {
    // A NAS's home folder: /var/services/homes/me is a link to /volume1/homes/me.
    await mkdir(join(dir, 'volume1', 'me'), { recursive: true });
    await symlink(join(dir, 'volume1', 'me'), join(dir, 'home'));
    const text = `${server}stateDir: ${join(dir, 'home', '.local', 'state', 'cs')}\nfolders:\n  - { name: home, local: ${join(dir, 'volume1', 'me')}, remote: /Home }\n`;
    expect(loadConfig({ path: await configFile(text), env: {} }).folders[0]?.stateDirWithin).toBe('.local/state/cs');
  });

  it('takes the password from a file, the environment overriding the file', async () => {
    const secret = join(dir, 'secret');
    await writeFile(secret, 'from-file\n');
    const path = await configFile('server:\n  url: https://c.example\n  username: me@example.com\n  password: in-config\n');
    expect(loadConfig({ path, env: { CLOUDREVE_PASSWORD_FILE: secret } }).server.password).toBe('from-file');
    expect(loadConfig({ path, env: { CLOUDREVE_PASSWORD: 'from-env', CLOUDREVE_URL: 'https://other.example/' } }).server).toMatchObject({
      password: 'from-env',
      url: 'https://other.example',
    });
  });

  it('blames a setting the environment gave on its variable, and says where a config file was looked for', async () => {
    const path = await configFile(server.replace('  password: secret-pw\n', ''));
    expect(failure(path, { CLOUDREVE_PASSWORD_FILE: '/nonexistent/secret' })).toBe('CLOUDREVE_PASSWORD_FILE (environment): cannot read /nonexistent/secret: ENOENT');
    expect(failure(await configFile(server), { CLOUDREVE_SYNC_STATE_DIR: 'relative/state' })).toBe(
      'CLOUDREVE_SYNC_STATE_DIR (environment): expected an absolute path (or one starting with ~/), got "relative/state"',
    );
    const saved = process.env.XDG_CONFIG_HOME;
    process.env.XDG_CONFIG_HOME = dir;
    try {
      expect(() => loadConfig({ env: {} })).toThrow(`the environment (no config file at ${join(dir, 'cloudreve-sync', 'config.yaml')}; --config or CLOUDREVE_SYNC_CONFIG names another): server: missing`);
    } finally {
      if (saved === undefined) delete process.env.XDG_CONFIG_HOME;
      else process.env.XDG_CONFIG_HOME = saved;
    }
  });

  it('says what is missing when the server section is absent', async () => {
    expect(failure(await configFile('folders: []\n'))).toContain('server: missing; set server.url, server.username and server.password');
  });
});
