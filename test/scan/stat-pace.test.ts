import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StatPace } from '../../src/scan/stat-pace.js';
import { put, useTempDirs } from './fixture.js';

const tempDir = useTempDirs();

describe('StatPace', () => {
  it('reads synchronously when adaptive, through the thread pool when asked', () => {
    expect(new StatPace('adaptive').sync).toBe(true);
    expect(new StatPace('async').sync).toBe(false);
  });

  it('returns the stats of an entry, or the error that kept them', async () => {
    const root = await tempDir();
    await put(root, { 'a.txt': 'abc' });
    const pace = new StatPace('adaptive');
    const found = pace.lstatNow(join(root, 'a.txt'));
    expect('stats' in found && found.stats.size).toBe(3n);
    const missing = pace.lstatNow(join(root, 'missing'));
    expect('error' in missing && (missing.error as NodeJS.ErrnoException).code).toBe('ENOENT');
  });

  it('turns asynchronous for good once a window of calls is slower than the bar, and not before', async () => {
    const root = await tempDir();
    await put(root, { 'a.txt': 'abc' });
    // A bar below zero makes every call slow, so the switch happens at the end of the first window.
    const pace = new StatPace('adaptive', -1);
    for (let call = 1; call < 256; call++) pace.lstatNow(join(root, 'a.txt'));
    expect(pace.sync).toBe(true);
    pace.lstatNow(join(root, 'a.txt'));
    expect(pace.sync).toBe(false);
  });

  it('counts a call that read a whole folder as a call per entry', () => {
    const slow = new StatPace('adaptive', -1);
    slow.timed(() => 'a folder of 100', () => 100);
    expect(slow.sync).toBe(true);
    // One folder larger than the window decides on its own.
    slow.timed(() => 'a folder of 300', () => 300);
    expect(slow.sync).toBe(false);
    const fast = new StatPace('adaptive', 1_000);
    fast.timed(() => 'a folder of 300', () => 300);
    expect(fast.sync).toBe(true);
  });

  it('is due to give the event loop a turn once a slice of 10 ms is used up', async () => {
    const pace = new StatPace('adaptive');
    await pace.pause();
    const started = performance.now();
    while (performance.now() - started < 11) {
      // Synchronous work, as a walk does between two turns.
    }
    expect(pace.due).toBe(true);
  });
});
