import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CloudreveV3 } from '../../src/cloudreve/index.js';
import { bufferSource } from '../../src/remote/sources.js';
import type { RemoteListing } from '../../src/remote/types.js';
import { createIgnoreRules } from '../../src/scan/ignore.js';
import { scanRemote } from '../../src/scan/remote.js';
import { startStandin, type Standin } from '../standin/index.js';

let standin: Standin;
let client: CloudreveV3;
let root: string;
let n = 0;

beforeAll(async () => {
  standin = await startStandin();
  client = new CloudreveV3({ url: standin.url, username: standin.admin.email, password: standin.admin.password });
});
afterAll(async () => {
  client.close();
  await standin.close();
});
beforeEach(async () => {
  root = `/scan-${++n}`;
  await client.mkdir(`${root}/a/b`);
  await client.mkdir(`${root}/c`);
  await client.upload(`${root}/a`, 'one.txt', bufferSource(Buffer.from('1'), 1_700_000_000_000));
  await client.upload(`${root}/a/b`, 'two.log', bufferSource(Buffer.from('22'), 1_700_000_000_000));
  standin.control.resetCounts();
});

const noRules = await createIgnoreRules([], '/nonexistent');

describe('scanRemote', () => {
  it('lists every folder exactly once and reports entries with their facts', async () => {
    const scan = await scanRemote(client, root, { rules: noRules, concurrency: 3 });
    expect(scan.rootExists).toBe(true);
    expect(scan.nodes.map((node) => `${node.kind} ${node.path} ${node.size}`).sort()).toEqual(['dir a 0', 'dir a/b 0', 'dir c 0', 'file a/b/two.log 2', 'file a/one.txt 1']);
    expect(scan.nodes.find((node) => node.path === 'a/one.txt')?.modifiedMs).toBe(1_700_000_000_000);
    expect(scan.requests).toBe(4);
    expect(standin.control.requestCounts()['GET /api/v3/directory/*path']).toBe(4);
  });

  it('takes a folder that lists as before without its entries, walks on into the subfolders it is given, and lists one that changed', async () => {
    const fingerprints = new Map<string, string | undefined>();
    await scanRemote(client, root, { rules: noRules, concurrency: 2, onFolder: (path, _nodes, fingerprint) => fingerprints.set(path, fingerprint) });
    expect([...fingerprints.keys()].sort()).toEqual(['', 'a', 'a/b', 'c']);
    expect([...fingerprints.values()].every((fingerprint) => typeof fingerprint === 'string')).toBe(true);

    await client.upload(`${root}/c`, 'new.txt', bufferSource(Buffer.from('3'), 1_700_000_000_000));
    const listed: string[] = [];
    const taken: string[] = [];
    const scan = await scanRemote(client, root, {
      rules: noRules,
      concurrency: 2,
      onFolder: (path) => listed.push(path),
      asBefore: {
        fingerprint: (path) => fingerprints.get(path),
        take: (path) => {
          taken.push(path);
          return path === 'a' ? [{ path: 'a/b', kind: 'dir', id: 'b', size: 0, modifiedMs: 0 }] : [];
        },
      },
    });
    // The root is always read (it tells the upload policy).
    expect(listed.sort()).toEqual(['', 'c']);
    expect(taken.sort()).toEqual(['a', 'a/b']);
    expect(scan.requests).toBe(4);
  });

  it('gives no fingerprint for a listing it did not take whole', async () => {
    const rules = await createIgnoreRules(['*.txt'], '/nonexistent');
    const fingerprints = new Map<string, string | undefined>();
    await scanRemote(client, root, { rules, concurrency: 2, onFolder: (path, _nodes, fingerprint) => fingerprints.set(path, fingerprint) });
    expect(fingerprints.get('a')).toBeUndefined();
    expect(fingerprints.get('a/b')).toEqual(expect.any(String));
  });

  it('does not descend into ignored folders and lists ignored paths', async () => {
    const rules = await createIgnoreRules(['b/', '*.txt'], '/nonexistent');
    const scan = await scanRemote(client, root, { rules, concurrency: 2 });
    expect(scan.nodes.map((node) => node.path).sort()).toEqual(['a', 'c']);
    expect([...scan.ignored].sort()).toEqual(['a/b', 'a/one.txt']);
    expect(scan.requests).toBe(3);
  });

  it('says the root is missing rather than empty', async () => {
    const scan = await scanRemote(client, '/no-such-folder', { rules: noRules, concurrency: 2 });
    expect(scan).toMatchObject({ rootExists: false, nodes: [] });
  });

  it('walks again when a folder vanishes mid-walk, instead of taking its contents as deleted', async () => {
    // A second device renames folder a right after the root was listed.
    let moved = false;
    const racing = Object.create(client) as CloudreveV3;
    racing.list = async (path: string): Promise<RemoteListing> => {
      const listing = await client.list(path);
      if (path === root && !moved) {
        moved = true;
        const a = listing.entries.find((entry) => entry.name === 'a');
        await client.rename({ kind: 'dir', id: a?.id ?? '' }, 'renamed');
      }
      return listing;
    };
    const scan = await scanRemote(racing, root, { rules: noRules, concurrency: 1 });
    expect(scan.nodes.map((node) => node.path).sort()).toEqual(['c', 'renamed', 'renamed/b', 'renamed/b/two.log', 'renamed/one.txt']);
    expect(scan.unknown).toEqual([]);
  });

  it('after walks that keep meeting moved folders, takes one that first vanishes on the last walk as unknown', async () => {
    // A different folder moves during each walk: the third one's vanishing must not read as a delete.
    let walk = 0;
    const racing = Object.create(client) as CloudreveV3;
    racing.list = async (path: string): Promise<RemoteListing> => {
      const listing = await client.list(path);
      if (path === root) {
        walk++;
        const victim = ['a', 'a-moved-1', 'c'][walk - 1];
        const entry = listing.entries.find((e) => e.name === victim);
        if (entry) await client.rename({ kind: 'dir', id: entry.id }, `${victim}-moved-${walk}`);
      }
      return listing;
    };
    const scan = await scanRemote(racing, root, { rules: noRules, concurrency: 1 });
    expect(walk).toBe(3);
    expect(scan.unknown).toEqual(['c']);
  });
});
