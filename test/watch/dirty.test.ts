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
  it('knows the paths written lately, not those of a write withdrawn or an old announcement', () => {
    let now = 1000;
    const echo = new EchoFilter(5000, () => now);
    echo.announce({ path: 'a.txt', movedIn: false });
    echo.announce({ path: 'withdrawn.txt', movedIn: false });
    now = 1500;
    echo.withdraw({ path: 'withdrawn.txt', movedIn: false });
    expect(echo.wrote('a.txt')).toBe(true);
    expect(echo.wrote('withdrawn.txt')).toBe(false);
    expect(echo.wrote('b.txt')).toBe(false);
    now = 7000;
    expect(echo.wrote('a.txt')).toBe(false);
  });

  it('forgets old announcements when pruned', () => {
    let now = 0;
    const echo = new EchoFilter(5000, () => now);
    echo.announce({ path: 'a.txt', movedIn: false });
    now = 3000;
    echo.announce({ path: 'b.txt', movedIn: false });
    now = 6000;
    echo.prune();
    now = 0;
    // Had prune kept it, a clock read as earlier would find it young again.
    expect(echo.wrote('a.txt')).toBe(false);
    expect(echo.wrote('b.txt')).toBe(true);
  });
});
