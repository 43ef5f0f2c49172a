import { execFile } from 'node:child_process';
import { renameSync } from 'node:fs';
import { chmod, lstat, mkdir, opendir, rename, rmdir, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { countEntries, scanLocal, scanLocalPaths, type LocalScan } from '../../src/scan/local.js';
import { createIgnoreRules } from '../../src/scan/ignore.js';
import { StatPace, type Details } from '../../src/scan/stat-pace.js';
import { parentOf } from '../../src/tree/paths.js';
import type { LocalNode } from '../../src/tree/types.js';
import { pathsOf, put, scan as scanWith, skippedPaths, useTempDirs } from './fixture.js';

const tempDir = useTempDirs();

function nodeAt(nodes: readonly LocalNode[], path: string): LocalNode {
  const node = nodes.find((candidate) => candidate.path === path);
  if (!node) throw new Error(`no node at ${path}`);
  return node;
}

function expectParentsFirst(nodes: readonly LocalNode[]): void {
  const seen = new Set<string>(['']);
  for (const node of nodes) {
    expect(seen.has(parentOf(node.path)), `${node.path} comes after its folder`).toBe(true);
    seen.add(node.path);
  }
}

async function inodeOf(path: string): Promise<string> {
  return (await lstat(path, { bigint: true })).ino.toString();
}

/** Whether this process can be kept out of a folder by its mode bits (root cannot). */
async function permissionsApply(dir: string): Promise<boolean> {
  const probe = join(dir, 'probe');
  await mkdir(probe, { mode: 0o000 });
  try {
    await (await opendir(probe)).close();
    return false;
  } catch {
    return true;
  } finally {
    await rmdir(probe);
  }
}

const rootSkipNote = 'running as root, where mode bits do not stop reading a folder';

// Both ways of reading entries must see the same tree: the synchronous one a warm cache gets,
// and the asynchronous one a slow disk switches to.
describe.each(['adaptive', 'async'] as const)('scanLocal, %s reads', (reads) => {
  const scan = (root: string, patterns: readonly string[] = []): Promise<LocalScan> => scanWith(root, patterns, reads);

  it('lists a nested tree with sizes, mtimes and inodes, parents first', async () => {
    const root = await tempDir();
    await put(root, { 'a.txt': 'hello', 'dir/b.txt': '123456789', 'dir/sub/c.bin': 'x'.repeat(1000), 'empty/': '', 'zero': '' });
    // A quarter second is exact in binary, so the expected milliseconds are exact too.
    await utimes(join(root, 'dir/b.txt'), 1_700_000_000.25, 1_700_000_000.25);
    const result = await scan(root);

    expect(result.rootExists).toBe(true);
    expect(pathsOf(result)).toEqual(['a.txt', 'dir', 'dir/b.txt', 'dir/sub', 'dir/sub/c.bin', 'empty', 'zero']);
    expect(result.skipped).toEqual([]);
    expect(result.ignored).toEqual([]);
    expect(result.unknown).toEqual([]);
    expectParentsFirst(result.nodes);
    expect(nodeAt(result.nodes, 'dir/b.txt')).toEqual({ path: 'dir/b.txt', kind: 'file', size: 9, mtimeMs: 1_700_000_000_250, inode: await inodeOf(join(root, 'dir/b.txt')) });
    expect(nodeAt(result.nodes, 'dir/sub/c.bin')).toMatchObject({ kind: 'file', size: 1000 });
    expect(nodeAt(result.nodes, 'zero')).toMatchObject({ kind: 'file', size: 0 });
    const folder = nodeAt(result.nodes, 'dir/sub');
    expect(folder).toMatchObject({ kind: 'dir', size: 0, inode: await inodeOf(join(root, 'dir/sub')) });
    expect(folder.mtimeMs).toBe(Math.trunc((await stat(join(root, 'dir/sub'))).mtimeMs));
  });

  it('sees a renamed file under the same inode', async () => {
    const root = await tempDir();
    await put(root, { 'old name.txt': 'content', 'target/': '' });
    const before = nodeAt((await scan(root)).nodes, 'old name.txt');
    await rename(join(root, 'old name.txt'), join(root, 'target/new name.txt'));
    const after = await scan(root);
    expect(pathsOf(after)).toEqual(['target', 'target/new name.txt']);
    expect(nodeAt(after.nodes, 'target/new name.txt')).toEqual({ ...before, path: 'target/new name.txt' });
  });

  it('skips symbolic links without following them, even out of the root', async () => {
    const root = await tempDir();
    const outside = await tempDir();
    await put(outside, { 'secret.txt': 'not to be synced', 'deep/x.txt': 'x' });
    await put(root, { 'real.txt': 'data', 'folder/inside.txt': 'y' });
    await symlink('real.txt', join(root, 'to-file'));
    await symlink('folder', join(root, 'to-dir'));
    await symlink(outside, join(root, 'folder/to-outside'));
    await symlink('missing', join(root, 'dangling'));
    const result = await scan(root);

    expect(pathsOf(result)).toEqual(['folder', 'folder/inside.txt', 'real.txt']);
    expect(skippedPaths(result)).toEqual(['dangling', 'folder/to-outside', 'to-dir', 'to-file']);
    for (const skip of result.skipped) expect(skip).toMatchObject({ side: 'local', kind: 'file', reason: expect.stringContaining('symbolic link') as unknown });
    expect(result.unknown).toEqual([]);
  });

  it('skips a named pipe', async (context) => {
    const root = await tempDir();
    await put(root, { 'file.txt': 'x' });
    try {
      await promisify(execFile)('mkfifo', [join(root, 'pipe')]);
    } catch (error) {
      context.skip(`mkfifo is not available: ${String(error)}`);
    }
    const result = await scan(root);
    expect(pathsOf(result)).toEqual(['file.txt']);
    expect(result.skipped).toEqual([{ side: 'local', path: 'pipe', kind: 'file', reason: expect.stringContaining('named pipe (FIFO)') as unknown }]);
  });

  it('reports a name that is not UTF-8, with its bytes and inode, instead of leaving it out', async () => {
    const root = await tempDir();
    await put(root, { 'ok.txt': 'x' });
    const named = (...parts: (string | number[])[]): Buffer => Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : Buffer.from(part))));
    const file = named(root, '/caf', [0xe9], '.txt');
    await writeFile(file, 'latin-1');
    await mkdir(named(root, '/dir', [0xff]));
    await writeFile(named(root, '/dir', [0xff], '/inside.txt'), 'x');
    const result = await scan(root);
    expect(pathsOf(result)).toEqual(['ok.txt']);
    const skipped = [...result.skipped].sort((a, b) => (a.path < b.path ? -1 : 1));
    expect(skipped).toEqual([
      { side: 'local', path: 'caf\uFFFD.txt', kind: 'file', reason: 'the name is not valid UTF-8 ("caf\\xe9.txt"); rename it to sync it' },
      { side: 'local', path: 'dir\uFFFD', kind: 'dir', reason: 'the name is not valid UTF-8 ("dir\\xff"); rename it to sync it' },
    ]);
    expect(result.skippedIds).toContain((await lstat(file, { bigint: true })).ino.toString());
  });

  it('tells apart names that are not UTF-8 but decode alike, and one too long once decoded', async () => {
    const root = await tempDir();
    const fe = Buffer.concat([Buffer.from(`${root}/a`), Buffer.from([0xfe])]);
    const ff = Buffer.concat([Buffer.from(`${root}/a`), Buffer.from([0xff])]);
    // 200 bytes, each decoded to a three-byte U+FFFD: too long a name to look up.
    const long = Buffer.concat([Buffer.from(`${root}/`), Buffer.alloc(200, 0xe9)]);
    for (const name of [fe, ff, long]) await writeFile(name, 'x');
    const result = await scan(root);
    expect(pathsOf(result)).toEqual([]);
    expect(result.unknown).toEqual([]);
    expect(result.skipped.map((entry) => entry.reason).sort()).toEqual([
      `the name is not valid UTF-8 ("${'\\xe9'.repeat(200)}"); rename it to sync it`,
      'the name is not valid UTF-8 ("a\\xfe"); rename it to sync it',
      'the name is not valid UTF-8 ("a\\xff"); rename it to sync it',
    ]);
    const inodes = await Promise.all([fe, ff, long].map(async (name) => (await lstat(name, { bigint: true })).ino.toString()));
    expect([...result.skippedIds].sort()).toEqual(inodes.sort());
  });

  it.each([
    ['a subfolder', 'P'],
    ['the root', ''],
  ])('marks %s unknown when it is renamed while its entries are looked at', async (_what, moved) => {
    const dir = await tempDir();
    const root = join(dir, 'root');
    const folder = join(root, moved);
    await put(folder, { 'a.txt': 'a', 'b.txt': 'b', 'c.txt': 'c' });
    // Renames the folder right after the walk looked at its first entry (the root is read in
    // the directory's order, not by name).
    let renamed = false;
    const pace = new (class extends StatPace {
      override lstatNow(absolute: string): Details {
        const details = super.lstatNow(absolute);
        if (!renamed && dirname(absolute) === folder && absolute.endsWith('.txt')) {
          renameSync(folder, `${folder}-moved`);
          renamed = true;
        }
        return details;
      }
    })('adaptive');
    const result = await scanLocal(root, { rules: { ignores: () => false }, pace });
    expect(pathsOf(result).filter((path) => path.endsWith('.txt'))).toHaveLength(1);
    expect(result.unknown).toEqual([moved]);
  });

  it('reports a folder it cannot open and marks its contents unknown', async (context) => {
    const root = await tempDir();
    context.skip(!(await permissionsApply(root)), rootSkipNote);
    await put(root, { 'locked/inside.txt': 'x', 'open/file.txt': 'y' });
    await chmod(join(root, 'locked'), 0o000);
    try {
      const result = await scan(root);
      expect(pathsOf(result)).toEqual(['locked', 'open', 'open/file.txt']);
      expect(result.unknown).toEqual(['locked']);
      expect(result.skipped).toEqual([{ side: 'local', path: 'locked', kind: 'dir', reason: expect.stringContaining('permission denied') as unknown }]);
    } finally {
      await chmod(join(root, 'locked'), 0o755);
    }
  });

  it('marks a folder unknown when it can list names but not look at them', async (context) => {
    const root = await tempDir();
    context.skip(!(await permissionsApply(root)), rootSkipNote);
    await put(root, { 'listable/a.txt': 'x' });
    await chmod(join(root, 'listable'), 0o444);
    try {
      const result = await scan(root);
      expect(pathsOf(result)).toEqual(['listable']);
      expect(result.unknown).toEqual(['listable']);
      expect(skippedPaths(result)).toEqual(['listable/a.txt']);
    } finally {
      await chmod(join(root, 'listable'), 0o755);
    }
  });

  it('leaves out what the configured rules and .cloudreveignore ignore, without descending', async () => {
    const root = await tempDir();
    await put(root, {
      '.cloudreveignore': '# local rules\n\nsecret/\n!keep.log\ndocs/*.draft\n',
      'app.log': '',
      'keep.log': '',
      'build/out.js': '',
      'build/nested/more.js': '',
      'src/build': 'a file, so "build/" does not match it',
      'src/build.ts': '',
      'secret/key.pem': '',
      'docs/a.draft': '',
      'docs/a.md': '',
      'docs/deeper/b.draft': '',
    });
    const result = await scan(root, ['*.log', 'build/']);

    expect(pathsOf(result)).toEqual(['docs', 'docs/a.md', 'docs/deeper', 'docs/deeper/b.draft', 'keep.log', 'src', 'src/build', 'src/build.ts']);
    expect([...result.ignored].sort()).toEqual(['app.log', 'build', 'docs/a.draft', 'secret']);
    expect(result.skipped).toEqual([]);
  });

  it('hides its own temporary files and the root .cloudreveignore without listing them as ignored', async () => {
    const root = await tempDir();
    await put(root, {
      '.cloudreveignore': '*.bak\n',
      '.cloudreve-sync-1a2b3c.tmp': 'partial download',
      'sub/.cloudreve-sync-9z.tmp': 'partial download',
      'sub/.cloudreveignore': 'only the root one has a meaning',
      'sub/file.bak': '',
      'sub/file.txt': '',
    });
    const result = await scan(root, ['!.cloudreve-sync-*']);
    expect(pathsOf(result)).toEqual(['sub', 'sub/.cloudreveignore', 'sub/file.txt']);
    expect(result.ignored).toEqual(['sub/file.bak']);
    // Only names of the temporary files it writes count as an earlier run's leftovers.
    expect(result.leftovers).toEqual(['.cloudreve-sync-1a2b3c.tmp']);
  });

  it('keeps names as spelled on disk and skips Unicode normalization twins', async () => {
    const root = await tempDir();
    const nfc = 'caf\u00e9.txt';
    const nfd = 'cafe\u0301.txt';
    const folderNfc = '\u00dcbung';
    const folderNfd = 'U\u0308bung';
    await put(root, {
      [nfc]: 'composed',
      [nfd]: 'decomposed',
      [`${folderNfc}/a.txt`]: '',
      [`${folderNfd}/b.txt`]: '',
      'only-nfd/re\u0301sume\u0301.pdf': '',
    });
    const result = await scan(root);

    // Of each pair the first in code-unit order stays: the decomposed spelling sorts first.
    expect(pathsOf(result)).toEqual([folderNfd, `${folderNfd}/b.txt`, nfd, 'only-nfd', 'only-nfd/re\u0301sume\u0301.pdf'].sort());
    expect([...result.skipped].sort((a, b) => (a.path < b.path ? -1 : 1))).toEqual([
      { side: 'local', path: nfc, kind: 'file', reason: `the name differs from "${nfd}" only by Unicode normalization; only "${nfd}" is synced (rename one of them to sync both)` },
      { side: 'local', path: folderNfc, kind: 'dir', reason: expect.stringContaining('only by Unicode normalization') as unknown },
    ]);
  });

  it('keeps unusual but usable names and skips names with a backslash or control characters', async () => {
    const root = await tempDir();
    const usable = ['with space.txt', ' leading space', 'hash#tag', '100%', '#start', '中文文件.txt', '😀 emoji.md', 'ünïcödé/日本語/データ.bin'];
    await put(root, Object.fromEntries(usable.map((path) => [path, path])));
    await put(root, { 'back\\slash.txt': '', 'back\\dir/inside.txt': '', 'line\nbreak': '', 'tab\there': '', 'bell\u0007': '' });
    const result = await scan(root);

    expect(pathsOf(result)).toEqual(['ünïcödé', 'ünïcödé/日本語', ...usable].sort());
    expect(skippedPaths(result)).toEqual(['back\\dir', 'back\\slash.txt', 'bell\u0007', 'line\nbreak', 'tab\there'].sort());
    expect(result.skipped.find((skip) => skip.path === 'back\\dir')).toMatchObject({ kind: 'dir', reason: expect.stringContaining('backslash') as unknown });
    expect(result.skipped.find((skip) => skip.path === 'line\nbreak')?.reason).toContain('U+000A');
  });

  it('scans 5,000 files in 50 folders', async () => {
    const root = await tempDir();
    for (let folder = 0; folder < 50; folder++) {
      const dir = join(root, `folder ${folder}`, 'nested');
      await mkdir(dir, { recursive: true });
      await Promise.all(Array.from({ length: 100 }, (_, file) => writeFile(join(dir, `file ${file}.dat`), 'x'.repeat(file))));
    }
    const started = performance.now();
    const result = await scan(root);
    const elapsedMs = performance.now() - started;

    expect(result.nodes).toHaveLength(5_100);
    expect(result.nodes.filter((node) => node.kind === 'dir')).toHaveLength(100);
    expect(new Set(result.nodes.map((node) => node.inode)).size).toBe(5_100);
    expect(nodeAt(result.nodes, 'folder 49/nested/file 99.dat').size).toBe(99);
    expectParentsFirst(result.nodes);
    expect(elapsedMs).toBeLessThan(10_000);
  });

  it('walks a tree 1,000 folders deep', async () => {
    const root = await tempDir();
    const deepest = Array.from({ length: 1_000 }, () => 'd').join('/');
    await put(root, { [`${deepest}/leaf.txt`]: 'bottom' });
    const result = await scan(root);
    expect(result.nodes).toHaveLength(1_001);
    expect(nodeAt(result.nodes, `${deepest}/leaf.txt`).size).toBe(6);
    expectParentsFirst(result.nodes);
  });

  it('reports a missing root, or a root that is a file, as not existing', async () => {
    const dir = await tempDir();
    await put(dir, { 'file.txt': 'x' });
    const empty = { rootExists: false, nodes: [], ignored: [], unknown: [], skipped: [], skippedIds: [], leftovers: [] };
    expect(await scan(join(dir, 'missing'))).toEqual(empty);
    expect(await scan(join(dir, 'file.txt'))).toEqual(empty);
    expect(await scan(join(dir, 'missing/deeper'))).toEqual(empty);
  });

  it('follows the root itself when it is a link', async () => {
    const dir = await tempDir();
    await put(dir, { 'real/a.txt': 'x' });
    await symlink(join(dir, 'real'), join(dir, 'link'));
    const result = await scan(join(dir, 'link'));
    expect(result.rootExists).toBe(true);
    expect(pathsOf(result)).toEqual(['a.txt']);
  });

  it('stops with an AbortError when the signal fires', async () => {
    const root = await tempDir();
    await put(root, { 'a/1.txt': '', 'a/2.txt': '', 'b/3.txt': '' });
    const before = new AbortController();
    before.abort();
    await expect(scanLocal(root, { rules: { ignores: () => false }, signal: before.signal, pace: new StatPace(reads) })).rejects.toMatchObject({ name: 'AbortError' });

    // Fired while the scan is under way: the rules see each entry, so abort on the third one.
    const during = new AbortController();
    let seen = 0;
    const rules = {
      ignores: (): boolean => {
        if (++seen === 3) during.abort(new Error('shutting down'));
        return false;
      },
    };
    const error: unknown = await scanLocal(root, { rules, signal: during.signal, pace: new StatPace(reads) }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ name: 'AbortError', cause: { message: 'shutting down' } });
  });
});

describe('scanLocal, switching from synchronous to asynchronous reads', () => {
  it('sees the same tree when the disk turns out slow in the middle of a folder', async () => {
    const root = await tempDir();
    // 300 entries in one folder: the switch comes after the first 256 calls, inside it.
    await put(root, Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`big/file ${String(i).padStart(3, '0')}.txt`, 'x'.repeat(i % 7)])));
    await put(root, { 'big/sub/deep.txt': 'deep', 'after/last.txt': 'last' });
    // A bar below zero makes every window slow.
    const switching = new StatPace('adaptive', -1);
    const rules = { ignores: (): boolean => false };
    const switched = await scanLocal(root, { rules, pace: switching });
    expect(switching.sync).toBe(false);
    const steady = await scanLocal(root, { rules, pace: new StatPace('async') });
    // A folder read whole comes sorted, one read through a handle in the directory's order.
    const byPath = (scan: LocalScan): LocalScan => ({ ...scan, nodes: [...scan.nodes].sort((a, b) => (a.path < b.path ? -1 : 1)) });
    expect(byPath(switched)).toEqual(byPath(steady));
    expect(switched.nodes).toHaveLength(305);
    expectParentsFirst(switched.nodes);
  });
});

describe('scanLocalPaths', () => {
  it('reaches the paths whose folders above are all there, where a missing one is a fact, and no others', async () => {
    const root = await tempDir();
    await put(root, { 'A/x.txt': 'x', 'B/': '', 'C/y.txt': 'y', 'D/f.txt': 'f', 'ignored/z.txt': 'z' });
    const scanned = await scanLocalPaths(root, ['A/x.txt', 'B/gone.txt', 'renamed/x.txt', 'D/f.txt/inside', 'ignored/z.txt', 'C'], {
      rules: await createIgnoreRules(['ignored/'], root),
    });
    // Gone from B: a fact. Below a folder renamed away, a file, or an ignored folder: nothing was looked at.
    expect([...scanned.reached].sort()).toEqual(['A/x.txt', 'B/gone.txt', 'C']);
    expect(pathsOf(scanned)).toEqual(['A', 'A/x.txt', 'B', 'C', 'C/y.txt', 'D', 'D/f.txt']);
  });

  it('marks a folder unknown that is renamed between its own lookup and its entry\'s', async () => {
    const root = await tempDir();
    await put(root, { 'A/x.txt': 'x' });
    const recorded = (path: string): undefined => {
      if (path === 'A') renameSync(join(root, 'A'), join(root, 'B'));
      return undefined;
    };
    const scanned = await scanLocalPaths(root, ['A/x.txt'], { rules: await createIgnoreRules([], root), recorded });
    expect(pathsOf(scanned)).toEqual(['A']);
    expect(scanned.unknown).toEqual(['A']);
  });

  it('scans everything for the root among the paths', async () => {
    const root = await tempDir();
    await put(root, { 'A/x.txt': 'x', 'y.txt': 'y' });
    const scanned = await scanLocalPaths(root, ['A', ''], { rules: await createIgnoreRules([], root) });
    expect(scanned.reached).toEqual(['']);
    expect(pathsOf(scanned)).toEqual(['A', 'A/x.txt', 'y.txt']);
  });

  it('follows the root itself when it is a link', async () => {
    const dir = await tempDir();
    await put(dir, { 'real/A/x.txt': 'x' });
    await symlink(join(dir, 'real'), join(dir, 'link'));
    const scanned = await scanLocalPaths(join(dir, 'link'), ['A'], { rules: await createIgnoreRules([], dir) });
    expect(scanned.rootExists).toBe(true);
    expect(scanned.reached).toEqual(['A']);
    expect(pathsOf(scanned)).toEqual(['A', 'A/x.txt']);
  });
});

describe('countEntries', () => {
  it('counts what a sync would see, a missing root as empty, and throws where the root cannot be read', async () => {
    const dir = await tempDir();
    await put(dir, { 'root/a.txt': 'a', 'root/b/': '', 'root/skip.tmp': 's', 'root/.cloudreve-sync-tmp-1': 't' });
    const rules = await createIgnoreRules(['*.tmp'], join(dir, 'root'));
    expect(await countEntries(join(dir, 'root'), rules)).toBe(2);
    expect(await countEntries(join(dir, 'missing'), rules)).toBe(0);
    // A link to itself stands for a folder that fails to read (EIO, EACCES): counted as empty,
    // a scoped pass stopped the folder as if emptied.
    await symlink(join(dir, 'loop'), join(dir, 'loop'));
    await expect(countEntries(join(dir, 'loop'), rules)).rejects.toThrow(/ELOOP/);
  });
});
