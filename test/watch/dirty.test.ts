import { describe, expect, it } from 'vitest';
import { DirtySet, EchoFilter } from '../../src/watch/dirty.js';

describe('DirtySet', () => {
  it('coalesces paths inside a pending folder and replaces pending paths by their folder', () => {
    const dirty = new DirtySet();
    dirty.add('a/b/c.txt');
    dirty.add('a/b/c.txt');
    dirty.add('a/b/d.txt');
    expect(dirty.size).toBe(2);
    dirty.add('a');
    dirty.add('a/e.txt');
    dirty.add('ab.txt');
    expect(dirty.take()).toEqual({ paths: ['a', 'ab.txt'], inside: ['a/b/c.txt', 'a/b/d.txt', 'a/e.txt'] });
    expect(dirty.size).toBe(0);
    expect(dirty.take()).toEqual({ paths: [], inside: [] });
  });

  it('takes a burst of many paths in a folder, the folder itself reported last', () => {
    const dirty = new DirtySet();
    for (let i = 0; i < 50_000; i++) dirty.add(`copied/sub${i % 100}/f${i}.txt`);
    dirty.add('other.txt');
    dirty.add('copied');
    // Too many reported inside to keep them all.
    expect(dirty.take()).toEqual({ paths: ['copied', 'other.txt'], inside: undefined });
    dirty.add('next');
    expect(dirty.take()).toEqual({ paths: ['next'], inside: [] });
  });

  it('takes back paths a failed pass could not look at', () => {
    const dirty = new DirtySet();
    dirty.add('x');
    dirty.restore(['x/y', 'z']);
    expect(dirty.take()).toEqual({ paths: ['x', 'z'], inside: ['x/y'] });
  });
});

describe('EchoFilter', () => {
  it('recognises the echo of an announced write, but not a later edit, a delete, or an old announcement', () => {
    let now = 1000;
    const echo = new EchoFilter(5000, () => now, () => now);
    echo.announce({ path: 'a.txt', leaves: 'present' });
    echo.announce({ path: 'moved-away.txt', leaves: 'absent' });
    now = 1500;
    expect(echo.isEcho('a.txt', 400)).toBe(true);
    // The user deleted what a download had just brought.
    expect(echo.isEcho('a.txt', undefined)).toBe(false);
    expect(echo.isEcho('moved-away.txt', undefined)).toBe(true);
    expect(echo.isEcho('moved-away.txt', 1400)).toBe(false);
    expect(echo.isEcho('a.txt', 1200)).toBe(false);
    expect(echo.isEcho('b.txt', 400)).toBe(false);
    now = 7000;
    expect(echo.isEcho('a.txt', 400)).toBe(false);
  });

  it('takes nothing for the echo of a write withdrawn, an edit made before it included', () => {
    let now = 1000;
    const echo = new EchoFilter(5000, () => now, () => now);
    echo.announce({ path: 'a.txt', leaves: 'present' });
    now = 1500;
    echo.withdraw({ path: 'a.txt', leaves: 'present' });
    expect(echo.isEcho('a.txt', 900)).toBe(false);
  });

  it('ages announcements on the monotonic clock, whatever the wall clock does', () => {
    let wall = 10_000_000;
    let tick = 0;
    const echo = new EchoFilter(5000, () => wall, () => tick);
    echo.announce({ path: 'a.txt', leaves: 'present' });
    // The wall clock is set back an hour: the announcement is still only as old as it is.
    wall -= 3_600_000;
    tick = 6000;
    expect(echo.isEcho('a.txt', 9_000_000)).toBe(false);
    echo.announce({ path: 'b.txt', leaves: 'absent' });
    echo.prune();
    tick = 8000;
    expect(echo.isEcho('b.txt', undefined)).toBe(true);
  });
});
