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

const listing = (dir: string): ListedEntry[] => [{ kind: 'file', name: 'new.txt', id: `f-${dir}`, size: 3, modifiedMs: 9 }];

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

describe('learnRemoteFacts on a file another client may have written since (src/exec/learn.ts)', () => {
  const sent = 1_700_000_000_123;
  const learnt = async (entry: Partial<ListedEntry>): Promise<boolean> => {
    const state = openMemoryState();
    close = () => state.close();
    state.tree.put({ kind: 'file', localParent: 0, localName: 'new.txt', remoteParent: 0, remoteName: 'new.txt', size: 3, localMtimeMs: sent, inode: 'i', remoteId: undefined, remoteModifiedMs: sent });
    await learnRemoteFacts(state.tree, () => Promise.resolve([{ kind: 'file', name: 'new.txt', id: 'f1', size: 3, modifiedMs: sent, ...entry }]));
    const waiting = state.tree.pendingRemoteFacts().length > 0;
    state.close();
    close = undefined;
    return !waiting;
  };

  it('takes the facts of our upload, dated as sent, or within its second where the server keeps whole seconds', async () => {
    expect(await learnt({})).toBe(true);
    expect(await learnt({ modifiedMs: 1_700_000_000_000 })).toBe(true);
  });

  it('leaves them unknown for a file of another size or date: the next run sees a server edit', async () => {
    expect(await learnt({ size: 4 })).toBe(false);
    expect(await learnt({ modifiedMs: sent + 1 })).toBe(false);
    expect(await learnt({ modifiedMs: 1_700_000_002_000 })).toBe(false);
  });
});
