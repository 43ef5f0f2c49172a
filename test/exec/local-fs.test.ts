import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalChangedError } from '../../src/exec/local-facts.js';
import { LocalTree } from '../../src/exec/local-fs.js';
import { LocalTrash } from '../../src/exec/trash.js';
import { useTempDirs } from '../scan/fixture.js';

const tempDir = useTempDirs();

async function setup(): Promise<{ tree: LocalTree; trash: LocalTrash; file: string }> {
  const dir = await tempDir();
  const tree = new LocalTree(join(dir, 'local'));
  const trash = new LocalTrash(join(dir, 'trash'));
  await mkdir(tree.root);
  const file = tree.abs('doc.txt');
  await writeFile(file, 'as scanned');
  return { tree, trash, file };
}

const fill = (text: string) => async (temp: string) => writeFile(temp, text);

describe('writing a file over a local one', () => {
  it('keeps the old version in the trash and renames the new one over it', async () => {
    const { tree, trash, file } = await setup();
    const expected = await tree.facts('doc.txt');
    await tree.writeAtomically('doc.txt', 1_700_000_000_000, expected, fill('from the server'), trash);
    expect(await readFile(file, 'utf8')).toBe('from the server');
    const [day] = await readdir(trash.dir);
    expect(await readFile(join(trash.dir, day ?? '', 'doc.txt'), 'utf8')).toBe('as scanned');
  });

  it('replaces nothing that was edited while the trash took earlier versions, and keeps no copy of it', async () => {
    const { tree, trash, file } = await setup();
    const expected = await tree.facts('doc.txt');
    // An earlier put still in the trash's hands (a folder copied to another filesystem, say).
    await writeFile(tree.abs('old.txt'), 'deleted');
    let release = (): void => undefined;
    const earlier = trash.put(tree.abs('old.txt'), 'old.txt', () => new Promise<void>((resolve) => (release = resolve)));
    const writing = tree.writeAtomically('doc.txt', 1_700_000_000_000, expected, fill('from the server'), trash);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await writeFile(file, 'edited by the user, longer than before');
    release();
    await earlier;
    await expect(writing).rejects.toThrow(LocalChangedError);
    expect(await readFile(file, 'utf8')).toBe('edited by the user, longer than before');
    const [day] = await readdir(trash.dir);
    expect(await readdir(join(trash.dir, day ?? ''))).toEqual(['old.txt']);
  });
});
