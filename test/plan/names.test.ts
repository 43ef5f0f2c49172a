import { describe, expect, it } from 'vitest';
import { asideName, conflictName, isAsideName } from '../../src/plan/names.js';

const bytes = (name: string): number => Buffer.byteLength(name);
const stamp = '2026-11-30 120000';

describe('names the planner makes up (src/plan/names.ts)', () => {
  it("keep a conflict copy's extension, and a counter when the name is taken", () => {
    expect(conflictName('report.docx', stamp, () => false)).toBe('report (conflict 2026-11-30 120000).docx');
    expect(conflictName('.bashrc', stamp, (name) => name === '.bashrc (conflict 2026-11-30 120000)')).toBe('.bashrc (conflict 2026-11-30 120000 2)');
  });

  it.each([
    ['ASCII', `${'r'.repeat(240)}.txt`],
    ['CJK', `${'文'.repeat(80)}.txt`],
    ['emoji', `${'😀'.repeat(60)}.txt`],
  ])('stay within 255 bytes for a long %s name, cut between characters', (_, name) => {
    for (const made of [conflictName(name, stamp, () => false), asideName(name, 12)]) {
      expect(bytes(made)).toBeLessThanOrEqual(255);
      expect(made).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
    }
    expect(conflictName(name, stamp, () => false)).toMatch(/ \(conflict 2026-11-30 120000\)\.txt$/);
  });

  it('keep a name moved aside whole when it fits, and recognisable', () => {
    const name = `${'字'.repeat(70)}.txt`;
    expect(asideName(name, 3)).toBe(`${name}.cloudreve-sync-aside-3`);
    expect(isAsideName(asideName(name, 3))).toBe(true);
  });
});
