import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalChangedError } from '../../src/exec/local-facts.js';
import { LocalTrash } from '../../src/exec/trash.js';
import { useTempDirs } from '../scan/fixture.js';

const tempDir = useTempDirs();
const noon = Date.parse('2026-11-30T12:00:00Z');
const day = '2026-11-30';

async function contents(dir: string): Promise<Record<string, string>> {
  const found: Record<string, string> = {};
  const walk = async (folder: string, prefix: string): Promise<void> => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      const path = `${prefix}${entry.name}`;
      if (entry.isDirectory()) await walk(join(folder, entry.name), `${path}/`);
      else found[path] = entry.isSymbolicLink() ? `-> ${await readlink(join(folder, entry.name))}` : await readFile(join(folder, entry.name), 'utf8');
    }
  };
  await walk(dir, '');
  return found;
}

describe('the local trash', () => {
  it('gives two files put at once two names, even when one is the numbered name of the other', async () => {
    const dir = await tempDir();
    const trash = new LocalTrash(join(dir, 'trash'), () => noon);
    await writeFile(join(dir, 'notes'), 'first notes');
    await trash.put(join(dir, 'notes'), 'notes');
    await writeFile(join(dir, 'notes'), 'second notes');
    await writeFile(join(dir, 'notes (2)'), 'a file called notes (2)');
    await Promise.all([trash.put(join(dir, 'notes'), 'notes'), trash.put(join(dir, 'notes (2)'), 'notes (2)')]);
    expect(Object.values(await contents(join(dir, 'trash', day))).sort()).toEqual(['a file called notes (2)', 'first notes', 'second notes']);
  });

  it('keeps a file as a hard link, leaving it in place', async () => {
    const dir = await tempDir();
    const trash = new LocalTrash(join(dir, 'trash'), () => noon);
    await writeFile(join(dir, 'notes'), 'kept notes');
    const target = await trash.keep(join(dir, 'notes'), 'notes');
    expect(target).toBe(join(dir, 'trash', day, 'notes'));
    expect(await readFile(join(dir, 'notes'), 'utf8')).toBe('kept notes');
    expect((await stat(target)).ino).toBe((await stat(join(dir, 'notes'))).ino);
  });

  it("runs a put's check in its turn, after the puts before it, and moves nothing when it throws", async () => {
    const dir = await tempDir();
    const trash = new LocalTrash(join(dir, 'trash'), () => noon);
    await writeFile(join(dir, 'a'), 'a');
    await writeFile(join(dir, 'b'), 'b');
    let release = (): void => undefined;
    const first = trash.put(join(dir, 'a'), 'a', () => new Promise<void>((resolve) => (release = resolve)));
    let checked = false;
    const second = trash.put(join(dir, 'b'), 'b', () => {
      checked = true;
      return Promise.reject(new LocalChangedError('b changed'));
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(checked).toBe(false);
    release();
    await first;
    await expect(second).rejects.toThrow('b changed');
    expect(await readFile(join(dir, 'b'), 'utf8')).toBe('b');
    expect(await contents(join(dir, 'trash', day))).toEqual({ a: 'a' });
  });

  it('dates nothing before its newest day when the clock went back, so that the right time does not purge it at once', async () => {
    const dir = await tempDir();
    let now = noon;
    const trash = new LocalTrash(join(dir, 'trash'), () => now);
    await writeFile(join(dir, 'a.txt'), 'trashed today');
    await trash.put(join(dir, 'a.txt'), 'a.txt');
    // A NAS that booted in 1970 and has not asked the time yet.
    now = 0;
    await writeFile(join(dir, 'b.txt'), 'trashed before the clock was set');
    await writeFile(join(dir, 'c.txt'), 'kept before the clock was set');
    await trash.put(join(dir, 'b.txt'), 'b.txt');
    await trash.keep(join(dir, 'c.txt'), 'c.txt');
    expect(await readdir(trash.dir)).toEqual([day]);
    now = noon + 86_400_000;
    expect(await trash.purge(30)).toEqual([]);
    expect(await contents(join(trash.dir, day))).toEqual({ 'a.txt': 'trashed today', 'b.txt': 'trashed before the clock was set', 'c.txt': 'kept before the clock was set' });
  });

  it('shortens a name of nearly 255 bytes to make room for its number', async () => {
    const dir = await tempDir();
    const trash = new LocalTrash(join(dir, 'trash'), () => noon);
    const long = `${'\u3042'.repeat(83)}.txt`;
    for (const version of ['v1', 'v2', 'v3']) {
      await writeFile(join(dir, long), version);
      await trash.put(join(dir, long), long);
    }
    const kept = await contents(join(dir, 'trash', day));
    expect(Object.values(kept).sort()).toEqual(['v1', 'v2', 'v3']);
    for (const name of Object.keys(kept)) expect(Buffer.byteLength(name)).toBeLessThanOrEqual(255);
  });

  it('numbers the top folder when a file trashed the same day holds the name of a folder on the path', async () => {
    const dir = await tempDir();
    const trash = new LocalTrash(join(dir, 'trash'), () => noon);
    await writeFile(join(dir, 'a'), 'a was a file');
    await trash.put(join(dir, 'a'), 'a');
    await mkdir(join(dir, 'a'));
    await writeFile(join(dir, 'a', 'b.txt'), 'now a is a folder');
    const target = await trash.put(join(dir, 'a', 'b.txt'), 'a/b.txt');
    expect(target).toBe(join(dir, 'trash', day, 'a (2)', 'b.txt'));
    expect(await contents(join(dir, 'trash', day))).toEqual({ a: 'a was a file', 'a (2)/b.txt': 'now a is a folder' });
  });
});

/** A folder on another filesystem than the temporary folders, or undefined when there is none. */
function otherFilesystem(): string | undefined {
  const candidate = '/dev/shm';
  return existsSync(candidate) && statSync(candidate).dev !== statSync(tmpdir()).dev ? candidate : undefined;
}

describe.skipIf(otherFilesystem() === undefined)('the local trash on another filesystem (a separate Docker volume)', () => {
  const made: string[] = [];
  afterEach(async () => {
    await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });
  const stateDir = async (): Promise<string> => {
    const dir = await mkdtemp(join(otherFilesystem() ?? tmpdir(), 'cloudreve-sync-trash-'));
    made.push(dir);
    return dir;
  };

  it('copies a folder with its files, subfolders, links and times, then removes it', async () => {
    const local = await tempDir();
    const trash = new LocalTrash(join(await stateDir(), 'trash'), () => noon);
    await mkdir(join(local, 'docs', 'old'), { recursive: true });
    await writeFile(join(local, 'docs', 'a.txt'), 'a');
    await writeFile(join(local, 'docs', 'old', 'b.txt'), 'b');
    await symlink('a.txt', join(local, 'docs', 'link'));
    await utimes(join(local, 'docs', 'a.txt'), 1_700_000_000, 1_700_000_000);
    const target = await trash.put(join(local, 'docs'), 'docs');
    expect(await contents(target)).toEqual({ 'a.txt': 'a', link: '-> a.txt', 'old/b.txt': 'b' });
    expect((await stat(join(target, 'a.txt'))).mtimeMs).toBe(1_700_000_000_000);
    expect(existsSync(join(local, 'docs'))).toBe(false);
  });

  it('keeps a copy of a file, with its times, leaving the file in place', async () => {
    const local = await tempDir();
    const trash = new LocalTrash(join(await stateDir(), 'trash'), () => noon);
    await writeFile(join(local, 'a.txt'), 'a');
    await utimes(join(local, 'a.txt'), 1_700_000_000, 1_700_000_000);
    const target = await trash.keep(join(local, 'a.txt'), 'a.txt');
    expect(await readFile(target, 'utf8')).toBe('a');
    expect((await stat(target)).mtimeMs).toBe(1_700_000_000_000);
    expect(await readFile(join(local, 'a.txt'), 'utf8')).toBe('a');
  });

  it('leaves in place what it cannot copy, and says the folder changed', async () => {
    const local = await tempDir();
    const trash = new LocalTrash(join(await stateDir(), 'trash'), () => noon);
    await mkdir(join(local, 'docs'));
    await writeFile(join(local, 'docs', 'a.txt'), 'a');
    execFileSync('mkfifo', [join(local, 'docs', 'pipe')]);
    await expect(trash.put(join(local, 'docs'), 'docs')).rejects.toThrow(LocalChangedError);
    expect(await readdir(join(local, 'docs'))).toEqual(['pipe']);
    expect(await contents(join(trash.dir, day, 'docs'))).toEqual({ 'a.txt': 'a' });
  });

  it('never removes a file written into the folder while it is being copied', async () => {
    const local = await tempDir();
    const trash = new LocalTrash(join(await stateDir(), 'trash'), () => noon);
    await mkdir(join(local, 'videos'));
    await writeFile(join(local, 'videos', 'big.mp4'), Buffer.alloc(64 * 1024 * 1024, 1));
    const putting = trash.put(join(local, 'videos'), 'videos').then(
      () => 'moved',
      (error: unknown) => (error instanceof LocalChangedError ? 'left' : error),
    );
    while (!existsSync(join(trash.dir, day, 'videos'))) await new Promise((resolve) => setTimeout(resolve, 1));
    await writeFile(join(local, 'videos', 'notes.txt'), 'saved during the copy');
    const result = await putting;
    // Written before the folder was read, it was moved; after, it stays and the put says so.
    const where = existsSync(join(local, 'videos', 'notes.txt')) ? 'left' : 'moved';
    expect(result).toBe(where);
    const home = where === 'left' ? join(local, 'videos') : join(trash.dir, day, 'videos');
    expect(await readFile(join(home, 'notes.txt'), 'utf8')).toBe('saved during the copy');
    expect((await lstat(join(trash.dir, day, 'videos', 'big.mp4'))).size).toBe(64 * 1024 * 1024);
  });

  it('purges the days past keeping, and says which it could not remove instead of failing', async () => {
    const dir = await tempDir();
    const trash = new LocalTrash(join(dir, 'trash'), () => noon);
    await mkdir(join(trash.dir, '2026-10-01'), { recursive: true });
    await writeFile(join(trash.dir, '2026-10-01', 'old.txt'), 'old');
    await mkdir(join(trash.dir, day));
    // A day holding a path longer than the system can name whole (built one folder at a time).
    const deep = join(trash.dir, '2026-10-02');
    await mkdir(deep);
    execFileSync('sh', ['-c', `for i in $(seq 25); do mkdir ${'d'.repeat(200)} && cd ${'d'.repeat(200)}; done; echo x > data.txt`], { cwd: deep });
    const failed = await trash.purge(30);
    expect(failed.map((f) => f.path)).toEqual([deep]);
    expect((await readdir(trash.dir)).sort()).toEqual(['2026-10-02', day]);
    execFileSync('rm', ['-rf', deep]);
  });
});
