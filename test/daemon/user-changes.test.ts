import { lstat, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { userChanges } from '../../src/daemon/user-changes.js';
import { factsOf } from '../../src/scan/facts.js';
import { EchoFilter } from '../../src/watch/dirty.js';
import { openMemoryState } from '../helpers/memory-state.js';

let root: string;
let state: ReturnType<typeof openMemoryState>;
let echo: EchoFilter;

/**
 * albums/ as a pass that created it and downloaded into it recorded it, each write announced;
 * then the user edited b.txt (same size, a few milliseconds later, as an edit within the clock
 * tick of the download can be: no later than its announcement) and wrote other.txt.
 */
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'cloudreve-sync-user-changes-'));
  state = openMemoryState();
  await mkdir(join(root, 'albums'));
  for (const name of ['a.txt', 'b.txt', 'gone.txt']) await writeFile(join(root, 'albums', name), `content of ${name}`);
  // Recorded a second before the test's own change to it: the kernel's clock for file times
  // ticks every few milliseconds, and an entry added within the same tick left the folder's time
  // as recorded.
  const second = new Date(Date.now() - 1000);
  await utimes(join(root, 'albums'), second, second);
  const row = async (path: string, parent: number): Promise<number> => {
    const stats = await lstat(join(root, path), { bigint: true });
    const facts = factsOf(stats);
    const name = path.split('/').pop() ?? path;
    const kind = stats.isDirectory() ? 'dir' : 'file';
    return state.tree.put({ kind, localParent: parent, localName: name, remoteParent: parent, remoteName: name, size: facts.size, localMtimeMs: facts.mtimeMs, inode: facts.inode, remoteId: `id-${path}`, remoteModifiedMs: 1 });
  };
  const albums = await row('albums', 0);
  for (const name of ['a.txt', 'b.txt', 'gone.txt']) await row(`albums/${name}`, albums);
  echo = new EchoFilter(30_000, () => 0);
  for (const path of ['albums', 'albums/a.txt', 'albums/b.txt', 'albums/gone.txt', 'moved-away']) echo.announce({ path, movedIn: false });
  const recorded = await lstat(join(root, 'albums', 'b.txt'));
  await writeFile(join(root, 'albums', 'b.txt'), 'CONTENT OF b.txt');
  await utimes(join(root, 'albums', 'b.txt'), recorded.atime, new Date(recorded.mtimeMs + 3));
  await writeFile(join(root, 'other.txt'), 'another change');
});

afterEach(async () => {
  state.close();
  await rm(root, { recursive: true, force: true });
});

describe('userChanges', () => {
  it('keeps what differs from the Synced tree inside a folder whose own report is an echo', async () => {
    const inside = ['albums/a.txt', 'albums/b.txt', 'albums/never.txt'];
    const kept = await userChanges(root, { paths: ['albums', 'other.txt'], inside }, echo, state.tree);
    // a.txt is as recorded, never.txt is neither recorded nor there.
    expect(kept).toEqual(['other.txt', 'albums/b.txt']);
  });

  it('takes a path this daemon wrote for its echo only while it is as recorded', async () => {
    await rm(join(root, 'albums', 'gone.txt'));
    const paths = ['albums/a.txt', 'albums/b.txt', 'albums/gone.txt', 'moved-away', 'other.txt'];
    // a.txt is as the download left it; nothing was recorded at moved-away, and nothing is there.
    expect(await userChanges(root, { paths, inside: [] }, echo, state.tree)).toEqual(['albums/b.txt', 'albums/gone.txt', 'other.txt']);
  });

  it.each([
    ['a file added', () => writeFile(join(root, 'albums', 'new.txt'), 'new')],
    ['a file removed', () => rm(join(root, 'albums', 'gone.txt'))],
    ['a link made', () => symlink('a.txt', join(root, 'albums', 'link'))],
  ])('looks again at the whole of a folder it wrote whose entries changed since (%s), whatever was reported inside', async (_, change) => {
    // Taken out and put back, say: only the folder itself is reported.
    await change();
    expect(await userChanges(root, { paths: ['albums'], inside: [] }, echo, state.tree)).toEqual(['albums']);
  });

  it('scans such a folder again when too much was reported inside it to keep', async () => {
    expect(await userChanges(root, { paths: ['albums', 'other.txt'], inside: undefined }, echo, state.tree)).toEqual(['other.txt', 'albums']);
  });

  it('looks no further when no report was an echo', async () => {
    expect(await userChanges(root, { paths: ['other.txt'], inside: ['other.txt/x'] }, echo, state.tree)).toEqual(['other.txt']);
  });
});
