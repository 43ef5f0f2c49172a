import { execFileSync } from 'node:child_process';
import { lstat, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { factsOf, LocalChangedError } from '../../src/exec/local-facts.js';
import { openForUpload, wholeReadMaxBytes } from '../../src/exec/upload-source.js';
import type { LocalFacts } from '../../src/plan/types.js';
import { StatPace, type StatReads } from '../../src/scan/stat-pace.js';
import { useTempDirs } from '../scan/fixture.js';

const tempDir = useTempDirs();

async function factsAt(path: string): Promise<LocalFacts> {
  return factsOf(await lstat(path, { bigint: true }));
}

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

describe.each<StatReads>(['adaptive', 'async'])('openForUpload (%s reads)', (reads) => {
  const open = (path: string, expected: LocalFacts): ReturnType<typeof openForUpload> => openForUpload(path, expected, new StatPace(reads), 'file');

  it('reads a small file whole, as a snapshot of the version the plan saw', async () => {
    const path = join(await tempDir(), 'small.txt');
    await writeFile(path, 'hello');
    const expected = await factsAt(path);
    const { source, snapshot } = await open(path, expected);
    expect(snapshot).toBe(true);
    expect(source.size).toBe(5);
    expect(source.mtimeMs).toBe(expected.mtimeMs);
    expect(Buffer.from(source.bytes ?? []).toString()).toBe('hello');
    // Changing the file afterwards does not change what is sent.
    await writeFile(path, 'other');
    expect((await readAll(source.open(1, 4))).toString()).toBe('ell');
  });

  it('streams a larger file from the disk, which the caller checks after sending', async () => {
    const path = join(await tempDir(), 'large.bin');
    const content = Buffer.alloc(wholeReadMaxBytes + 1, 7);
    await writeFile(path, content);
    const { source, snapshot } = await open(path, await factsAt(path));
    expect(snapshot).toBe(false);
    expect(source.bytes).toBeUndefined();
    expect(source.size).toBe(content.length);
    expect((await readAll(source.open(0, source.size))).equals(content)).toBe(true);
  });

  it('refuses a file that changed, vanished, or became a symlink or a FIFO since the scan', async () => {
    const dir = await tempDir();
    const path = join(dir, 'f.txt');
    await writeFile(path, 'one');
    const expected = await factsAt(path);

    await writeFile(path, 'longer now');
    await expect(open(path, expected)).rejects.toThrow(LocalChangedError);

    await unlink(path);
    await expect(open(path, expected)).rejects.toThrow(LocalChangedError);

    await writeFile(join(dir, 'target.txt'), 'one');
    await symlink(join(dir, 'target.txt'), path);
    await expect(open(path, expected)).rejects.toThrow(/^file changed since the scan/);

    await unlink(path);
    execFileSync('mkfifo', [path]);
    // Opened without blocking for a writer that never comes, and then not a regular file.
    await expect(open(path, expected)).rejects.toThrow(LocalChangedError);
  });
});
