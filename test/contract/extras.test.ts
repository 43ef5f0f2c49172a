import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudreveV3 } from '../../src/cloudreve/index.js';
import { canShare } from '../../src/remote/types.js';
import type { RemoteEntry } from '../../src/remote/types.js';
import { failure, payload, sourceOf } from './helpers.js';
import { openTarget, type Target } from './target.js';

let target: Target;
let client: CloudreveV3;
let file: RemoteEntry;
let folder: RemoteEntry;
beforeAll(async () => {
  target = await openTarget();
  client = target.client();
  await client.upload(target.path('props'), 'a.bin', sourceOf(payload(100)));
  await client.upload(target.path('props', 'sub'), 'b.bin', sourceOf(payload(50)));
  const foundFile = await client.stat(target.path('props', 'a.bin'), 'file');
  const foundFolder = await client.stat(target.path('props'), 'dir');
  if (foundFile === undefined || foundFolder === undefined) throw new Error('setup failed');
  file = foundFile;
  folder = foundFolder;
});
afterAll(async () => {
  await target.close();
});

describe('site and user', () => {
  it('pings without logging in', async () => {
    expect(await target.client({ password: 'not needed' }).ping()).toMatch(/^3\.\d+\.\d+/);
  });

  it('reads the site configuration, with the user once logged in', async () => {
    const fresh = target.client();
    expect((await fresh.siteConfig()).user).toBeUndefined();
    await fresh.login();
    const site = await fresh.siteConfig();
    expect(site.user?.email).toBe(target.username);
    expect(typeof site.loginCaptcha).toBe('boolean');
  });

  it('describes the user and the quota', async () => {
    const me = await client.me();
    expect(me.email).toBe(target.username);
    expect(me.group.name).not.toBe('');
    const quota = await client.quota();
    expect(quota.used).toBeGreaterThanOrEqual(150);
    expect(quota.free).toBe(Math.max(0, quota.total - quota.used));
  });

  it('lists the WebDAV accounts', async () => {
    expect(Array.isArray(await client.webdavAccounts())).toBe(true);
  });
});

describe('properties', () => {
  it('describes a file and a folder with its totals', async () => {
    const fileProps = await client.properties(file);
    expect(fileProps).toMatchObject({ size: 100, parentPath: target.path('props') });
    expect(fileProps.policyName).not.toBe('');
    const folderProps = await client.properties(folder);
    expect(folderProps).toMatchObject({ size: 150, childFolders: 1, childFiles: 2, parentPath: target.root });
  });

  it('reports a deleted object as not-found', async () => {
    await client.upload(target.root, 'gone.bin', sourceOf(payload(1)));
    const gone = await client.stat(target.path('gone.bin'), 'file');
    if (gone === undefined) throw new Error('upload failed');
    await client.delete([gone]);
    expect((await failure(client.properties(gone))).kind).toBe('not-found');
  });
});

describe('sharing', () => {
  it('is a sharer', () => {
    expect(canShare(client)).toBe(true);
  });

  it('shares a file and a folder', async () => {
    expect(await client.share(file)).toMatch(/\/s\/\w+$/);
    expect(await client.share(folder, { password: 'letmein', downloads: 3, expireSeconds: 3600, preview: false })).toMatch(/\/s\/\w+$/);
  });

  it('refuses an expiry without a download limit, which Cloudreve would ignore', async () => {
    expect((await failure(client.share(file, { expireSeconds: 60 }))).kind).toBe('bad-request');
    expect((await failure(client.share(file, { downloads: 5 }))).kind).toBe('bad-request');
  });

  it('returns a direct link', async () => {
    expect(await client.directLink(file.id)).toMatch(/^https?:\/\//);
  });
});
