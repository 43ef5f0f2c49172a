import { execFileSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { lstat, rename, symlink, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LocalChangedError } from '../../src/exec/local-facts.js';
import { openForUpload, wholeReadMaxBytes } from '../../src/exec/upload-source.js';
import type { LocalFacts } from '../../src/plan/types.js';
import { factsOf } from '../../src/scan/facts.js';
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

  it('reads an empty file and one of exactly the limit whole', async () => {
    const dir = await tempDir();
    for (const size of [0, wholeReadMaxBytes]) {
      const path = join(dir, `f${size}`);
      await writeFile(path, Buffer.alloc(size, 3));
      const read = await open(path, await factsAt(path));
      expect(read.snapshot).toBe(true);
      expect(read.source.bytes?.length).toBe(size);
      await read.close();
    }
  });

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

  it('streams a larger file through the descriptor it checked, which the caller checks after sending', async () => {
    const dir = await tempDir();
    const path = join(dir, 'large.bin');
    const content = Buffer.alloc(wholeReadMaxBytes + 1, 7);
    await writeFile(path, content);
    const read = await open(path, await factsAt(path));
    try {
      expect(read.snapshot).toBe(false);
      expect(read.source.bytes).toBeUndefined();
      expect(read.source.size).toBe(content.length);
      // Renamed away and replaced: the bytes still come from the file that was checked.
      await rename(path, join(dir, 'moved.bin'));
      await writeFile(path, 'a newcomer');
      expect((await readAll(read.source.open(0, read.source.size))).equals(content)).toBe(true);
      expect((await readAll(read.source.open(1, 3))).equals(content.subarray(1, 3))).toBe(true);
    } finally {
      await read.close();
    }
  });

  it('fails the stream of a file cut short after the check, rather than send a short body', async () => {
    const path = join(await tempDir(), 'large.bin');
    await writeFile(path, Buffer.alloc(wholeReadMaxBytes + 1, 7));
    const read = await open(path, await factsAt(path));
    try {
      await truncate(path, 10);
      await expect(readAll(read.source.open(0, read.source.size))).rejects.toThrow(/ended at byte 10 of/);
    } finally {
      await read.close();
    }
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

    // A symlink to a file with exactly the expected facts: followed, it would pass the check.
    const target = join(dir, 'target.txt');
    await writeFile(target, 'one');
    await symlink(target, path);
    await expect(open(path, await factsAt(target))).rejects.toThrow(/^file changed since the scan/);

    await unlink(path);
    execFileSync('mkfifo', [path]);
    // Opened without blocking for a writer that never comes, and then not a regular file.
    await expect(open(path, expected)).rejects.toThrow(LocalChangedError);
  });
});

describe('openForUpload', () => {
  it('refuses a file that changes while it is read (synchronous reads, where each call can be stepped in on)', async () => {
    const path = join(await tempDir(), 'growing.txt');
    await writeFile(path, 'first');
    const expected = await factsAt(path);
    // Appends to the file right after the read itself, before the second look at it.
    let calls = 0;
    const pace = new (class extends StatPace {
      override timed<T>(call: () => T): T {
        const result = super.timed(call);
        if (++calls === 3) appendFileSync(path, ' and more');
        return result;
      }
    })('adaptive');
    await expect(openForUpload(path, expected, pace, 'growing.txt')).rejects.toThrow(/^growing\.txt changed since the scan/);
  });
});
