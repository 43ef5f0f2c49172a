import { describe, expect, it } from 'vitest';
import { counted, formatBytes, formatPath } from '../../src/cli/format.js';

describe('formatBytes', () => {
  it('rounds into the next unit rather than show 1024 of one', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1024)).toBe('1.0 KiB');
    expect(formatBytes(1024 * 1024 - 1)).toBe('1.0 MiB');
    expect(formatBytes(1023.6 * 1024 * 1024)).toBe('1.0 GiB');
    expect(formatBytes(10 * 1024 ** 3)).toBe('10 GiB');
  });
});

describe('counted', () => {
  it('puts the noun in the plural but for one', () => {
    expect([0, 1, 2].map((n) => counted(n, 'file'))).toEqual(['0 files', '1 file', '2 files']);
  });
});

describe('formatPath', () => {
  it('leaves a plain path as it is, and escapes what would split a line or turn the text around', () => {
    expect(formatPath('docs/café 日本.txt')).toBe('docs/café 日本.txt');
    expect(formatPath('new\nline.txt')).toBe('"new\\u{a}line.txt"');
    expect(formatPath('invoice\u202Efdp.exe')).toBe('"invoice\\u{202e}fdp.exe"');
    expect(formatPath('a\\u{a}"b\n')).toBe('"a\\\\u{a}\\"b\\u{a}"');
  });
});
