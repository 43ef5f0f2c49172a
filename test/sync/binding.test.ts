import { describe, expect, it } from 'vitest';
import type { FolderConfig, ServerConfig } from '../../src/config/load.js';
import { withoutCredentials } from '../../src/cloudreve/index.js';
import { bindingGuard, bindingOf } from '../../src/sync/binding.js';

const server = { url: 'https://cloud.example.com', username: 'me@example.com' } as ServerConfig;
const folder = { name: 'docs', localPath: '/data/Documents', remotePath: '/Documents' } as FolderConfig;

describe('the binding guard', () => {
  it('takes the same pair written another way for the same pair', () => {
    const recorded = bindingOf(folder, server);
    const respelled = bindingOf({ ...folder, localPath: '/data/Documents'.normalize('NFD') }, { ...server, url: 'HTTPS://Cloud.Example.com:443', username: 'Me@Example.com' });
    expect(bindingGuard('docs', recorded, respelled)).toBeUndefined();
    expect(bindingGuard('docs', undefined, recorded)).toBeUndefined();
  });

  it('keeps no credentials given in the server URL, and takes a binding recorded with them for the same', () => {
    const withCredentials = { ...server, url: 'https://proxy-user:proxy-secret@cloud.example.com' };
    const now = bindingOf(folder, withCredentials);
    expect(now).not.toContain('proxy-secret');
    expect(now).toBe(bindingOf(folder, server));
    const olderRecord = JSON.stringify({ ...(JSON.parse(now) as object), server: 'https://proxy-user:proxy-secret@cloud.example.com/' });
    expect(bindingGuard('docs', olderRecord, now)).toBeUndefined();
    expect(bindingGuard('docs', olderRecord, bindingOf({ ...folder, localPath: '/mnt/copy' }, withCredentials))?.reason).not.toContain('proxy-secret');
  });

  it('stops for another local folder, server folder or account, and says which changed', () => {
    const recorded = bindingOf(folder, server);
    expect(bindingGuard('docs', recorded, bindingOf({ ...folder, localPath: '/mnt/copy' }, server))).toMatchObject({
      guard: 'binding',
      side: 'local',
      reason: expect.stringContaining('local folder /data/Documents -> /mnt/copy') as string,
    });
    expect(bindingGuard('docs', recorded, bindingOf({ ...folder, remotePath: '/Other' }, server))?.reason).toContain('server folder /Documents -> /Other');
    expect(bindingGuard('docs', recorded, bindingOf(folder, { ...server, username: 'you@example.com' }))?.reason).toContain(
      'account me@example.com on https://cloud.example.com/ -> you@example.com on https://cloud.example.com/',
    );
  });
});

describe('a server URL as shown', () => {
  it('leaves out credentials, and is otherwise as written', () => {
    expect(withoutCredentials('https://proxy-user:proxy-secret@cloud.example.com:8443/cloudreve')).toBe('https://cloud.example.com:8443/cloudreve');
    expect(withoutCredentials('https://cloud.example.com')).toBe('https://cloud.example.com');
  });
});
