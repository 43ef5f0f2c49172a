import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { foldKey, isWithin, topmost } from '../../src/tree/paths.js';

// Letters whose case forms differ in number or by context, with any other character beside them.
const name = fc.string({ unit: fc.oneof(fc.constantFrom('Σ', 'σ', 'ς', 'ß', 'ẞ', 'ſ', 'İ', 'ı', 'e', '\u0301', ' ', 'A'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), maxLength: 8 });

describe('foldKey', () => {
  it('gives every case form of a name one key', () => {
    expect(foldKey('ΟΔΟΣ.txt')).toBe(foldKey('οδος.txt'));
    expect(foldKey('ΟΔΟΣ.txt')).toBe(foldKey('οδοσ.txt'));
    expect(foldKey('Straße')).toBe(foldKey('STRASSE'));
    expect(foldKey('Café')).toBe(foldKey('cafe\u0301'));
    expect(foldKey('README.md')).toBe('readme.md');
  });

  // Conflict copies and aside names are found by the folded stem of the name they keep.
  it('folds a name to a key that starts with its stem\'s key', () => {
    fc.assert(
      fc.property(name, name, (stem, rest) => {
        expect(foldKey(`${stem}.${rest}`).startsWith(foldKey(stem))).toBe(true);
      }),
      { numRuns: 2000, seed: 20261201 },
    );
  });
});

describe('topmost', () => {
  it('keeps the paths that lie inside no other one, each once, sorted', () => {
    const path = fc.array(fc.constantFrom('a', 'b', 'a b', 'a.b'), { minLength: 1, maxLength: 4 }).map((names) => names.join('/'));
    fc.assert(
      fc.property(fc.array(fc.oneof(path, fc.constant('')), { maxLength: 30 }), (paths) => {
        const unique = [...new Set(paths)];
        const expected = unique.filter((p) => !unique.some((other) => other !== p && isWithin(p, other))).sort();
        expect(topmost(paths)).toEqual(expected);
      }),
      { numRuns: 2000, seed: 20261201 },
    );
  });
});
