import { afterEach, describe, expect, it } from 'vitest';
import { learnRemoteFacts, type ListedEntry } from '../../src/exec/learn.js';
import { openMemoryState } from '../helpers/memory-state.js';

let close: (() => void) | undefined;
afterEach(() => {
  close?.();
  close = undefined;
});

/** Two folders, each holding a file just uploaded: its server ID is not known yet. */
function uploadedIntoTwoFolders(): ReturnType<typeof openMemoryState> {
  const state = openMemoryState();
  close = () => state.close();
  for (const dir of ['a', 'b']) {
    const parent = state.tree.put({ kind: 'dir', localParent: 0, localName: dir, remoteParent: 0, remoteName: dir, size: 0, localMtimeMs: 1, inode: `i-${dir}`, remoteId: `d-${dir}`, remoteModifiedMs: 1 });
    state.tree.put({ kind: 'file', localParent: parent, localName: 'new.txt', remoteParent: parent, remoteName: 'new.txt', size: 3, localMtimeMs: 1, inode: `i-${dir}-new`, remoteId: undefined, remoteModifiedMs: undefined });
  }
  return state;
}

const listing = (dir: string): ListedEntry[] => [{ kind: 'file', name: 'new.txt', id: `f-${dir}`, modifiedMs: 9 }];

describe('learnRemoteFacts (src/exec/learn.ts)', () => {
  it('asks for every folder at once and writes what each listing told', async () => {
    const { tree } = uploadedIntoTwoFolders();
    const asked: string[] = [];
    const answers: (() => void)[] = [];
    const learning = learnRemoteFacts(tree, (dir) => {
      asked.push(dir);
      return new Promise((resolve) => answers.push(() => resolve(listing(dir))));
    });
    await Promise.resolve();
    expect(asked.sort()).toEqual(['a', 'b']);
    for (const answer of answers) answer();
    expect(await learning).toBe(2);
    expect(tree.pendingRemoteFacts()).toEqual([]);
  });

  it('reports a failed listing only once the others have ended and written', async () => {
    const { tree } = uploadedIntoTwoFolders();
    let release: () => void = () => undefined;
    const learning = learnRemoteFacts(tree, (dir) =>
      dir === 'a' ? Promise.reject(new Error('server down')) : new Promise((resolve) => (release = () => resolve(listing(dir)))),
    );
    let settled = false;
    learning.catch(() => undefined).finally(() => (settled = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    release();
    await expect(learning).rejects.toThrow('server down');
    expect(tree.pendingRemoteFacts().map((row) => row.dir)).toEqual(['a']);
  });
});
