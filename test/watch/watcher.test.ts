import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { appendFile, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log/logger.js';
import { createIgnoreRules } from '../../src/scan/ignore.js';
import type { RelPath } from '../../src/tree/types.js';
import { LocalWatcher } from '../../src/watch/watcher.js';
import { eventually } from '../e2e/harness.js';
import { put, useTempDirs } from '../scan/fixture.js';

const tempDir = useTempDirs();

/** A watcher on `root` under `patterns` and its `.cloudreveignore`, with what it reported. */
async function watching(root: string, patterns: string[] = []): Promise<{ watcher: LocalWatcher; changed: Set<RelPath>; rulesChanged: () => number }> {
  const changed = new Set<RelPath>();
  let rules = 0;
  const watcher = await LocalWatcher.start({
    root,
    rules: await createIgnoreRules(patterns, root, undefined),
    logger: silentLogger,
    onChange: (path) => changed.add(path),
    onRulesChanged: () => rules++,
    onOverflow: () => undefined,
    onRootLost: () => undefined,
  });
  return { watcher, changed, rulesChanged: () => rules };
}

/** The inotify watches this process holds, from /proc (Linux). */
function inotifyWatches(): number {
  let count = 0;
  for (const fd of readdirSync('/proc/self/fdinfo')) {
    try {
      count += readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8').split('\n').filter((line) => line.startsWith('inotify wd:')).length;
    } catch {
      // An fd closed since the listing.
    }
  }
  return count;
}

describe('LocalWatcher', () => {
  it('reports what changes anywhere below the root, but not what the rules leave out', async () => {
    const root = await tempDir();
    await put(root, { '.cloudreveignore': 'private/\n', 'a/b/deep.txt': 'd', 'a/gone.txt': 'g', 'private/p.txt': 'p', 'top.txt': 't' });
    const { watcher, changed, rulesChanged } = await watching(root, ['*.tmp']);
    try {
      await appendFile(join(root, 'a/b/deep.txt'), ' edited');
      await writeFile(join(root, 'a/new.txt'), 'n');
      await rm(join(root, 'a/gone.txt'));
      await writeFile(join(root, 'a/scratch.tmp'), 's');
      await writeFile(join(root, 'private/q.txt'), 'q');
      await mkdir(join(root, 'c/d'), { recursive: true });
      await eventually(() => changed.has('c/d'), 5000, 'the new folder watched');
      await writeFile(join(root, 'c/d/later.txt'), 'l');
      await writeFile(join(root, '.cloudreveignore'), '');
      const expected = ['a/b/deep.txt', 'a/new.txt', 'a/gone.txt', 'c', 'c/d', 'c/d/later.txt'];
      await eventually(() => expected.every((path) => changed.has(path)) && rulesChanged() > 0, 5000, 'the reports');
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect([...changed].filter((path) => !expected.includes(path))).toEqual([]);
    } finally {
      await watcher.close();
    }
  });

  it('watches the folder a root that is a link leads to', async () => {
    // chokidar, not following links, took the link for a file and heard nothing below it.
    const dir = await tempDir();
    await put(dir, { 'real/a/f.txt': 'f' });
    await symlink(join(dir, 'real'), join(dir, 'link'));
    const { watcher, changed } = await watching(join(dir, 'link'));
    try {
      await appendFile(join(dir, 'link/a/f.txt'), ' edited');
      await writeFile(join(dir, 'real/top.txt'), 't');
      await eventually(() => changed.has('a/f.txt') && changed.has('top.txt'), 5000, 'the reports');
    } finally {
      await watcher.close();
    }
  });

  it('reports file changes when chokidar is asked to poll, where folder watches do not see them', async () => {
    const root = await tempDir();
    await put(root, { 'a/f.txt': 'f' });
    const asked = process.env.CHOKIDAR_USEPOLLING;
    process.env.CHOKIDAR_USEPOLLING = '1';
    let started: Awaited<ReturnType<typeof watching>>;
    try {
      started = await watching(root);
    } finally {
      if (asked === undefined) delete process.env.CHOKIDAR_USEPOLLING;
      else process.env.CHOKIDAR_USEPOLLING = asked;
    }
    const { watcher, changed } = started;
    try {
      await appendFile(join(root, 'a/f.txt'), ' edited');
      await eventually(() => changed.has('a/f.txt'), 5000, 'the report');
    } finally {
      await watcher.close();
    }
  });

  it('gets ready beside a folder too deep to name an entry in, and watches the rest', async () => {
    // chokidar, failing to read such an entry, never got ready: the whole folder went unwatched.
    const root = await tempDir();
    // As deep as sh can cd (it keeps a logical path, which must stay within PATH_MAX).
    execFileSync('sh', ['-c', `for i in $(seq 18); do mkdir ${'d'.repeat(240)} && cd ${'d'.repeat(240)} 2>/dev/null || break; done; echo x > leaf.txt`], { cwd: root });
    try {
      const { watcher, changed } = await watching(root);
      try {
        await writeFile(join(root, 'top.txt'), 't');
        await eventually(() => changed.has('top.txt'), 5000, 'the report');
      } finally {
        await watcher.close();
      }
    } finally {
      // Too deep for fs.rm, which names each path whole.
      execFileSync('rm', ['-rf', root]);
    }
  });

  it.skipIf(process.platform !== 'linux')('takes an inotify watch per folder, not per file', async () => {
    // A NAS's default limit is 8,192 watches: one per file spent it on the first few thousand.
    const root = await tempDir();
    const files: Record<string, string> = {};
    for (let folder = 0; folder < 3; folder++) for (let file = 0; file < 100; file++) files[`f${folder}/${file}.txt`] = 'x';
    await put(root, files);
    const before = inotifyWatches();
    const { watcher } = await watching(root);
    try {
      expect(inotifyWatches() - before).toBe(4);
    } finally {
      await watcher.close();
    }
  });
});
