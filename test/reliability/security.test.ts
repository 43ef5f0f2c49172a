import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { RemoteEntry, RemoteListing } from '../../src/remote/types.js';
import { scanRemote } from '../../src/scan/remote.js';
import { bufferSource } from '../../src/remote/sources.js';
import { useReliabilityHooks } from './hooks.js';
import { capturedOutput, knownSecrets, Rig, secretLeaks } from './rig.js';

/**
 * Security (issue #5): no secret in any log line at any level; the state database (which holds
 * the session) is readable by its owner only; and no name a server lists can make a sync write
 * outside the local folder.
 */

let rig: Rig | undefined;
useReliabilityHooks();

const totpSecret = 'KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU';

describe('secrets', () => {
  it.each(['s3', 'remote', 'onedrive', 'local'] as const)('never reach a log line at trace level (%s policy, 2FA, re-login, shares)', async (policy) => {
    rig = await Rig.start({ standin: { policy, chunkSize: 1024 } });
    const s = rig.scene;
    const user = s.standin.addUser('secretive@example.com', 'Sup3r-Secret-Passw0rd', { totpSecret, group: 1 });
    knownSecrets.add(user.password);
    knownSecrets.add(totpSecret);
    const config = {
      server: { url: s.standin.url, username: user.email, password: user.password, totpSecret },
      stateDir: s.stateDir,
      sync: { settleTime: 0, retries: 1 },
      folders: [{ name: 'main', local: s.local, remote: '/sync', trash: { remote: '/.trash' } }],
    };
    await import('node:fs/promises').then((fs) => fs.writeFile(s.configPath, stringify(config)));
    const before = capturedOutput.length;

    expect((await rig.run(['login'])).code).toBe(0);
    await s.write('doc.txt', 'x'.repeat(5000));
    await s.write('sub/other.txt', 'other');
    await rig.sync(0);
    // The second device writes as the same user, so the download goes through a signed URL too.
    const { CloudreveV3 } = await import('../../src/cloudreve/index.js');
    const device = new CloudreveV3({ url: s.standin.url, username: user.email, password: user.password, totpSecret });
    try {
      await device.upload('/sync', 'from-device.bin', bufferSource(Buffer.alloc(3000, 9), Date.now()));
      // A session the server forgot: the CLI logs in again (with the password and a TOTP code).
      s.standin.control.expireLoginSessions();
      s.standin.control.failNext('PUT /api/v3/file/upload', 1, 'http502');
      await s.write('doc.txt', 'y'.repeat(7000));
      await rig.sync(0);
      expect(await s.read('from-device.bin')).toHaveLength(3000);
      const share = await rig.run(['share', s.localPath('doc.txt'), '--password', 'share-Passw0rd']);
      knownSecrets.add('share-Passw0rd');
      expect(share.code).toBe(0);
      const link = await rig.run(['link', s.localPath('doc.txt')]);
      expect([0, 1]).toContain(link.code);
      // Wrong credentials are not echoed either.
      await import('node:fs/promises').then((fs) => fs.writeFile(s.configPath, stringify({ ...config, server: { ...config.server, password: 'Wr0ng-Passw0rd-Value' } })));
      knownSecrets.add('Wr0ng-Passw0rd-Value');
      await rig.run(['sync', '--once']);
    } finally {
      device.close();
    }
    const text = capturedOutput.slice(before).join('\n');
    // The runs did log at trace level, requests included.
    expect(text).toContain('"msg":"cloudreve request"');
    expect(secretLeaks()).toEqual([]);
  });
});

describe('a proxy user and password in server.url', () => {
  it('reach neither a log line nor the state database', async () => {
    rig = await Rig.start();
    const s = rig.scene;
    const proxyPassword = 'Pr0xy-S3cret-Value';
    knownSecrets.add(proxyPassword);
    const url = new URL(s.standin.url);
    url.username = 'proxyuser';
    url.password = proxyPassword;
    const config = {
      server: { url: url.href, username: s.standin.admin.email, password: s.standin.admin.password, tls: { insecureSkipVerify: true } },
      stateDir: s.stateDir,
      sync: { settleTime: 0, retries: 1 },
      folders: [{ name: 'main', local: s.local, remote: '/sync' }],
    };
    await import('node:fs/promises').then((fs) => fs.writeFile(s.configPath, stringify(config)));
    await s.write('doc.txt', 'x');
    await rig.sync(0);
    expect(secretLeaks()).toEqual([]);
    const { readFile } = await import('node:fs/promises');
    expect((await readFile(join(s.stateDir, 'cloudreve-sync.db'))).includes(proxyPassword)).toBe(false);
    expect((await readFile(join(s.stateDir, 'cloudreve-sync.db-wal')).catch(() => Buffer.alloc(0))).includes(proxyPassword)).toBe(false);
  });
});

describe('the state directory', () => {
  it('holds the database and the session readable by their owner only (0600, folders 0700)', async () => {
    rig = await Rig.start();
    await rig.scene.write('a.txt', 'a');
    expect((await rig.run(['login'])).code).toBe(0);
    await rig.sync(0);
    await rig.scene.write('a.txt', 'changed');
    await rig.sync(0);
    const modes: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const name of await readdir(dir)) {
        const path = join(dir, name);
        const info = await stat(path);
        if (info.isDirectory()) {
          if ((info.mode & 0o077) !== 0) modes.push(`${path}: ${(info.mode & 0o777).toString(8)}`);
          await walk(path);
        } else if ((info.mode & 0o077) !== 0) modes.push(`${path}: ${(info.mode & 0o777).toString(8)}`);
      }
    };
    await walk(rig.stateDir);
    const files = await readdir(rig.stateDir);
    expect(files).toContain('cloudreve-sync.db');
    expect(((await stat(join(rig.stateDir, 'cloudreve-sync.db'))).mode & 0o777).toString(8)).toBe('600');
    expect(modes).toEqual([]);
  });
});

/** Logs in with raw HTTP and returns the session cookie; the client would refuse what comes next. */
async function rawLogin(r: Rig): Promise<string> {
  const { url, admin } = r.scene.standin;
  const response = await fetch(`${url}/api/v3/user/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userName: admin.email, Password: admin.password, captchaCode: '' }),
  });
  const cookie = response.headers.getSetCookie().find((c) => c.startsWith('cloudreve-session='));
  if (!cookie) throw new Error('no session cookie');
  return cookie.split(';')[0] ?? '';
}

async function rawRename(r: Rig, cookie: string, object: { kind: 'file' | 'dir'; id: string }, name: string): Promise<{ code: number; msg: string }> {
  const response = await fetch(`${r.scene.standin.url}/api/v3/object/rename`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie },
    body: JSON.stringify({ src: { items: object.kind === 'file' ? [object.id] : [], dirs: object.kind === 'dir' ? [object.id] : [] }, new_name: name }),
  });
  return (await response.json()) as { code: number; msg: string };
}

describe('hostile names on the server', () => {
  it('"..", ".", control characters and paths too long for the disk are skipped and reported, never written outside the folder', async () => {
    rig = await Rig.start();
    const s = rig.scene;
    await s.write('fine.txt', 'fine');
    await rig.sync(0);
    const cookie = await rawLogin(rig);
    const named = async (path: string, kind: 'file' | 'dir', name: string): Promise<void> => {
      const entry = await s.entry(path, kind);
      const answer = await rawRename(rig as Rig, cookie, entry ?? { kind, id: '' }, name);
      expect(answer.code, `${path} -> ${JSON.stringify(name)}: ${answer.msg}`).toBe(0);
    };
    // A folder that would be the local root's parent, with a file that would land beside it.
    await s.put('up/escape.txt', 'outside!');
    await named('up', 'dir', '..');
    await s.put('here/dot.txt', 'dot');
    await named('here', 'dir', '.');
    await s.put('dotfile.txt', 'a file named .');
    await named('dotfile.txt', 'file', '..');
    await s.put('bell.txt', 'bell');
    await named('bell.txt', 'file', 'ring\u0007bell.txt');
    await s.put('newline.txt', 'newline');
    await named('newline.txt', 'file', 'two\nlines.txt');
    await s.put('escape.txt', 'escape');
    await named('escape.txt', 'file', 'esc\u001b[31mred.txt');
    // The server itself refuses a backslash, whatever the client: the scanner's rule is checked below.
    await s.put('slash.txt', 'slash');
    const slash = await s.entry('slash.txt', 'file');
    expect((await rawRename(rig, cookie, slash ?? { kind: 'file', id: '' }, 'back\\slash.txt')).code).not.toBe(0);
    // Folders nested so deep that the local path would be longer than the disk takes (4096 bytes).
    const segment = 'd'.repeat(250);
    const deep = Array.from({ length: 17 }, () => segment).join('/');
    await s.put(`${deep}/deep.txt`, 'deep');

    const before = (await readdir(s.dir)).sort();
    const result = await rig.run(['sync', '--once']);
    expect(result.code).toBe(1);
    expect((await readdir(s.dir)).sort()).toEqual(before);
    const local = await s.localTree();
    for (const path of Object.keys(local)) expect(/\p{Cc}|(^|\/)\.\.?($|\/)/u.test(path), path).toBe(false);
    expect(local['slash.txt']).toBe('slash');
    expect(local['fine.txt']).toBe('fine');
    const status = JSON.parse((await rig.run(['status', '--json'])).stdout) as { skipped: { side: string; path: string; reason: string }[]; failing: { path: string; error: string }[] }[];
    const skipped = status[0]?.skipped ?? [];
    const reported = [...skipped.map((x) => `${x.side} ${JSON.stringify(x.path)}: ${x.reason}`), ...(status[0]?.failing ?? []).map((f) => `failing ${f.path.slice(0, 40)}: ${f.error.slice(0, 80)}`)];
    expect(reported).toEqual(
      expect.arrayContaining([
        'remote "..": ".." cannot be a file name on this computer; rename it on the server to sync it',
        'remote ".": "." cannot be a file name on this computer; rename it on the server to sync it',
        'remote "ring\\u0007bell.txt": the name contains the control character U+0007, which cloudreve-sync cannot handle; rename it on the server to sync it',
        'remote "two\\nlines.txt": the name contains the control character U+000A, which cloudreve-sync cannot handle; rename it on the server to sync it',
        'remote "esc\\u001b[31mred.txt": the name contains the control character U+001B, which cloudreve-sync cannot handle; rename it on the server to sync it',
      ]),
    );
    // The deep path: skipped and reported like the others, never a local write.
    expect(
      skipped.some((x) => x.side === 'remote' && x.reason === 'path is too long for the local filesystem'),
      reported.join('\n'),
    ).toBe(true);
    expect(status[0]?.failing ?? []).toEqual([]);
  });

  it('the remote scanner skips every name that cannot be a local path, a backslash included', async () => {
    const names = ['..', '.', 'back\\slash', 'ctrl\u0001', 'fine', 'x'.repeat(256)];
    const entry = (name: string): RemoteEntry => ({ kind: 'dir', id: name, name, size: 0, modifiedMs: 0, createdMs: 0 });
    const listing = (path: string): RemoteListing => ({
      path,
      folderId: path,
      entries: path === '/r' ? names.map(entry) : [],
      policy: { id: 'p', name: 'p', type: 'local', maxSize: 0, allowedExtensions: [] },
    });
    const listed: string[] = [];
    const remote = {
      list: (path: string) => {
        listed.push(path);
        return Promise.resolve(listing(path));
      },
    } as unknown as Parameters<typeof scanRemote>[0];
    const scan = await scanRemote(remote, '/r', { rules: { ignores: () => false }, concurrency: 2, maxLocalPathBytes: 100 });
    expect(scan.nodes.map((n) => n.path)).toEqual(['fine']);
    expect(scan.skipped.map((x) => x.path).sort()).toEqual(['.', '..', 'back\\slash', 'ctrl\u0001', 'x'.repeat(256)].sort());
    // Nothing below a skipped folder is even listed.
    expect(listed.sort()).toEqual(['/r', '/r/fine']);
  });
});
