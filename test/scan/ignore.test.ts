import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import ignore from 'ignore';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { defaultIgnorePatterns } from '../../src/config/schema.js';
import { createIgnoreRules, isInternalPath, isOwnTempName, tempPrefix } from '../../src/scan/ignore.js';
import { useTempDirs } from './fixture.js';

const tempDir = useTempDirs();

/** Rules from configured patterns only: the root has no .cloudreveignore. */
async function rulesOf(patterns: readonly string[]): Promise<Awaited<ReturnType<typeof createIgnoreRules>>> {
  return createIgnoreRules(patterns, await tempDir());
}

describe('createIgnoreRules', () => {
  it('ignores operating system and office clutter with the default patterns', async () => {
    const rules = await rulesOf(defaultIgnorePatterns);
    for (const path of ['.DS_Store', 'photos/.DS_Store', 'Thumbs.db', 'a/thumbs.db', 'desktop.ini', 'Desktop.ini', '.~lock.report.odt#', 'docs/~$report.docx']) {
      expect(rules.ignores(path, 'file'), path).toBe(true);
    }
    for (const path of ['report.docx', 'Thumbs.db.txt', 'lock.report.odt', 'a~$b']) {
      expect(rules.ignores(path, 'file'), path).toBe(false);
    }
  });

  it('matches a directory pattern only against folders, and everything below them', async () => {
    const rules = await rulesOf(['build/', '/top.txt']);
    expect(rules.ignores('build', 'dir')).toBe(true);
    expect(rules.ignores('src/build', 'dir')).toBe(true);
    expect(rules.ignores('src/build', 'file')).toBe(false);
    expect(rules.ignores('build/out/app.js', 'file')).toBe(true);
    expect(rules.ignores('top.txt', 'file')).toBe(true);
    expect(rules.ignores('sub/top.txt', 'file')).toBe(false);
  });

  it('reads .cloudreveignore after the configured patterns, so it can re-include', async () => {
    const root = await tempDir();
    await writeFile(join(root, '.cloudreveignore'), '\uFEFF# comment\r\n\r\n!keep.log\r\ncache/\r\n');
    const rules = await createIgnoreRules(['*.log'], root);
    expect(rules.ignores('app.log', 'file')).toBe(true);
    expect(rules.ignores('keep.log', 'file')).toBe(false);
    expect(rules.ignores('cache', 'dir')).toBe(true);
    expect(rules.ignores('# comment', 'file')).toBe(false);
  });

  it('cannot re-include a file inside an ignored folder, as in git', async () => {
    const rules = await rulesOf(['logs/', '!logs/keep.txt']);
    expect(rules.ignores('logs/keep.txt', 'file')).toBe(true);
  });

  it('always ignores cloudreve-sync own files, whatever the rules say', async () => {
    const rules = await rulesOf(['!.cloudreveignore', `!${tempPrefix}*`]);
    expect(rules.ignores('.cloudreveignore', 'file')).toBe(true);
    expect(rules.ignores(`${tempPrefix}abc.tmp`, 'file')).toBe(true);
    expect(rules.ignores(`deep/er/${tempPrefix}abc.tmp`, 'file')).toBe(true);
    expect(rules.ignores('sub/.cloudreveignore', 'file')).toBe(false);
    expect(rules.ignores('', 'dir')).toBe(false);
  });

  it('treats NFC and NFD spellings alike, and case as significant', async () => {
    const rules = await rulesOf(['caf\u00e9/', 'R\u00e9sum\u00e9*', '*.jpg']);
    expect(rules.ignores('cafe\u0301', 'dir')).toBe(true);
    expect(rules.ignores('caf\u00e9', 'dir')).toBe(true);
    expect(rules.ignores('Re\u0301sume\u0301.pdf', 'file')).toBe(true);
    expect(rules.ignores('photo.jpg', 'file')).toBe(true);
    expect(rules.ignores('PHOTO.JPG', 'file')).toBe(false);
  });

  it('gives the same answers however many paths it is asked about', async () => {
    const rules = await rulesOf(['*.tmp', 'cache/']);
    // Well past the point where the matcher is rebuilt to drop what it remembered.
    let wrong = 0;
    for (let i = 0; i < 60_000; i++) {
      if (!rules.ignores(`d${i % 100}/f${i}.tmp`, 'file')) wrong++;
      if (rules.ignores(`d${i % 100}/f${i}.txt`, 'file')) wrong++;
    }
    expect(wrong).toBe(0);
    expect(rules.ignores('cache/x.txt', 'file')).toBe(true);
  });

  it('works without a root folder', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'file'), '');
    expect((await createIgnoreRules(['*.bak'], join(dir, 'missing'))).ignores('a.bak', 'file')).toBe(true);
    expect((await createIgnoreRules(['*.bak'], join(dir, 'file'))).ignores('a.bak', 'file')).toBe(true);
  });

  it('names the file when .cloudreveignore cannot be read', async () => {
    const root = await tempDir();
    await mkdir(join(root, '.cloudreveignore'));
    const failure = createIgnoreRules([], root);
    await expect(failure).rejects.toBeInstanceOf(ConfigError);
    await expect(failure).rejects.toThrow(`cannot read the ignore rules in ${join(root, '.cloudreveignore')}: EISDIR`);
  });
});

describe('rules that match names', () => {
  // Rules without a slash or a negation are asked one name at a time (see `segmentwise`); any
  // rule set, asked about any paths in any order, must answer as the matcher does for the path.
  const segment = fc.constantFrom('a', 'b', 'ab', 'a.log', 'b.txt', 'node_modules', '~$x', 'c d', '[a]', '.DS_Store', 'x#');
  const pattern = fc.oneof(
    fc.constantFrom('a', 'b', 'a*', '*.log', '[ab]', '?', '*', '**', 'node_modules', 'b.txt', '~$*', '\\[a\\]', 'c d', 'a ', ' a', '#a', '', 'x\\#'),
    fc.tuple(fc.constantFrom('a', 'b', '*', '**', '*.log', 'node_modules'), fc.constantFrom('', '/', '!', '!/', '/x', 'x/', '/**', '**/')).map(([name, shape]) =>
      shape.startsWith('!') ? `!${name}${shape.slice(1)}` : shape.endsWith('/') && shape !== '/' ? `${shape}${name}` : `${name}${shape}`,
    ),
  );
  const question = fc.record({ path: fc.array(segment, { minLength: 1, maxLength: 4 }).map((names) => names.join('/')), kind: fc.constantFrom('file' as const, 'dir' as const) });

  it('answers as the matcher does for the whole path', async () => {
    const root = await tempDir();
    await fc.assert(
      fc.asyncProperty(fc.array(pattern, { maxLength: 5 }), fc.array(question, { minLength: 1, maxLength: 30 }), async (patterns, questions) => {
        const rules = await createIgnoreRules(patterns, root);
        const reference = ignore({ ignorecase: false }).add(patterns);
        for (const { path, kind } of questions) {
          expect(rules.ignores(path, kind), `${JSON.stringify(patterns)} ${path} (${kind})`).toBe(reference.ignores(kind === 'dir' ? `${path}/` : path));
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('own names', () => {
  it('recognises temporary files by their prefix', () => {
    expect(isOwnTempName('.cloudreve-sync-1f3a.tmp')).toBe(true);
    expect(isOwnTempName('cloudreve-sync-1f3a.tmp')).toBe(false);
    expect(isOwnTempName('notes.tmp')).toBe(false);
  });

  it('counts only the root .cloudreveignore as internal', () => {
    expect(isInternalPath('.cloudreveignore')).toBe(true);
    expect(isInternalPath('sub/.cloudreveignore')).toBe(false);
    expect(isInternalPath('sub/.cloudreve-sync-x.tmp')).toBe(true);
  });
});
