import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { massDeleteGuard, overrides } from '../../src/plan/guards.js';
import { plan } from '../../src/plan/plan.js';
import type { Plan, PlanOptions } from '../../src/plan/types.js';
import { openMemoryState } from '../helpers/memory-state.js';
import { examplePlanOptions as defaults, relevantInput } from './inputs.js';
import { apply, Clock, LocalWorld, RemoteWorld } from './world.js';

/** Cases the random activity cannot reach: guards, name rules, case folding, unknown subtrees. */

let clock: Clock;
let local: LocalWorld;
let remote: RemoteWorld;
let state: ReturnType<typeof openMemoryState>;

beforeEach(() => {
  clock = new Clock();
  local = new LocalWorld(clock);
  remote = new RemoteWorld(clock);
  state = openMemoryState();
});
afterEach(() => state.close());

function planNow(options: Partial<PlanOptions> = {}, extra: { localUnknown?: string[]; localIgnored?: string[]; remoteIgnored?: string[] } = {}): Plan {
  const ignored = extra.remoteIgnored ?? [];
  const localIgnored = extra.localIgnored ?? [];
  const remoteSnapshot = remote.snapshot();
  const localSnapshot = local.snapshot();
  return plan(
    {
      local: { ...localSnapshot, nodes: localSnapshot.nodes.filter((n) => !localIgnored.includes(n.path)), ignored: localIgnored, unknown: extra.localUnknown ?? [] },
      remote: { ...remoteSnapshot, nodes: remoteSnapshot.nodes.filter((n) => !ignored.includes(n.path)), ignored },
      synced: state.tree.load(),
    },
    { ...defaults, ...options },
  );
}

async function sync(options: Partial<PlanOptions> = {}): Promise<Plan> {
  const p = planNow(options);
  const result = await apply(p.actions, local, remote, state.tree, { remoteTrash: options.remoteTrash ?? false });
  expect(result.failed).toEqual([]);
  return p;
}

function count(p: Plan, type: string, side?: string): number {
  return p.actions.filter((a) => a.type === type && (side === undefined || ('side' in a && a.side === side))).length;
}

describe('moves', () => {
  it('moves an entry it moved aside on to its place only once the first move is done', async () => {
    // The server's new file holds the name the local rename takes, and ends as a conflict copy:
    // moved aside, then on. Both renames of one object at once could end in the aside name.
    local.write('.hidden', 'synced');
    await sync();
    local.move('.hidden', 'emoji.txt');
    remote.create('emoji.txt', 'file', 'from another device');
    for (const conflictPolicy of ['local', 'keep-both'] as const) {
      const p = planNow({ conflictPolicy });
      const moves = p.actions.filter((a) => a.type === 'move' && a.side === 'remote');
      for (const later of moves) {
        if (later.type !== 'move') continue;
        const earlier = moves.find((m) => m.type === 'move' && m.id < later.id && m.to === later.from);
        if (earlier) expect(later.after, `${later.from} -> ${later.to}`).toContain(earlier.id);
      }
      expect(moves.some((m) => m.type === 'move' && moves.some((n) => n.type === 'move' && n.id < m.id && n.to === m.from)), conflictPolicy).toBe(true);
    }
  });

  it('leaves a folder restored from a backup as it is, though the restore shuffled the inodes', async () => {
    const archived = 1_600_000_000_000;
    for (const dir of ['a', 'b', 'c']) {
      local.mkdir(dir);
      for (const name of ['x', 'y']) local.write(`${dir}/${name}`, `${dir}${name}`, archived);
    }
    await sync();
    // rm -rf and cp -a: every entry as before, each kind's freed inodes handed out in another order.
    for (const kind of ['dir', 'file'] as const) {
      const entries = [...local.entries.values()].filter((e) => e.kind === kind);
      const inodes = entries.map((e) => e.inode);
      entries.forEach((e, i) => (e.inode = inodes[(i + 1) % inodes.length] ?? 0));
    }
    // Nothing moves: the files whose inodes another entry had are sent again, as their names
    // could have been swapped (see the next case), and the others' new inodes written down.
    const p = await sync();
    expect(new Set(p.actions.map((a) => a.type))).toEqual(new Set(['record', 'upload']));
    expect(count(p, 'move')).toBe(0);
    for (const dir of ['a', 'b', 'c']) for (const name of ['x', 'y']) expect(remote.find(`${dir}/${name}`, 'file')?.content).toBe(`${dir}${name}`);
    expect(planNow().actions).toEqual([]);
  });

  it('sends again files that traded names while they had the same size and time', async () => {
    const archived = 1_600_000_000_000;
    local.write('current.cfg', 'version one', archived);
    local.write('backup.cfg', 'version two', archived);
    await sync();
    local.move('current.cfg', 'tmp');
    local.move('backup.cfg', 'current.cfg');
    local.move('tmp', 'backup.cfg');
    await sync();
    expect(remote.find('current.cfg', 'file')?.content).toBe('version two');
    expect(remote.find('backup.cfg', 'file')?.content).toBe('version one');
    expect(planNow().actions).toEqual([]);
  });

  it('takes a rotated folder for a move, though a new one took its name and the old inode', async () => {
    for (const dir of ['prev', 'cur']) {
      local.mkdir(dir);
      for (let i = 0; i < 5; i++) local.write(`${dir}/${i}.log`, `${dir} ${i}`);
    }
    await sync();
    // rm -rf prev; mv cur prev; mkdir cur, which gets prev's freed inode.
    const freed = local.entries.get('prev')?.inode ?? 0;
    local.remove('prev', false);
    local.move('cur', 'prev');
    local.mkdir('cur');
    const made = local.entries.get('cur');
    if (made) made.inode = freed;
    const p = await sync();
    expect(count(p, 'upload')).toBe(0);
    // The folder moves, not its files one by one; the new one, on the old one's inode but
    // holding none of its files, is a new folder.
    expect(count(p, 'move')).toBe(1);
    expect(remote.find('prev/3.log', 'file')?.content).toBe('cur 3');
    expect(remote.find('cur', 'dir')).toBeDefined();
    expect(planNow().actions).toEqual([]);
  });

  it.each([
    ['new', ['new']],
    ['new/sub, on the inode of old/sub as well', ['new', 'new/sub']],
  ])('does not take a new folder that got the inode of a deleted one for it renamed (%s)', async (_, made) => {
    local.mkdir('old');
    local.mkdir('old/sub');
    for (const name of ['a', 'sub/b']) local.write(`old/${name}`, `old ${name}`);
    for (let i = 0; i < 6; i++) local.write(`keep${i}`, `kept ${i}`);
    await sync();
    remote.create('old/theirs', 'file', 'from another device');
    // rm -rf old; mkdir -p new/sub, which get the freed inodes.
    const freed = new Map(['old', 'old/sub'].map((path) => [path.replace('old', 'new'), local.entries.get(path)?.inode ?? 0]));
    local.remove('old', false);
    for (const path of made) {
      local.mkdir(path);
      const entry = local.entries.get(path);
      if (entry) entry.inode = freed.get(path) ?? 0;
    }
    const p = await sync();
    expect(count(p, 'move')).toBe(0);
    expect(remote.find('new', 'dir')).toBeDefined();
    // What another device put into the deleted folder stays where it put it, and comes back here.
    expect(remote.find('old/theirs', 'file')?.content).toBe('from another device');
    expect(local.entries.get('old/theirs')?.content).toBe('from another device');
    expect(remote.find('old/a', 'file')).toBeUndefined();
    expect(planNow().actions).toEqual([]);
  });

  it('takes a renamed folder of empty folders for a new one, which costs no transfer', async () => {
    local.mkdir('plans');
    local.mkdir('plans/2027');
    local.write('keep', 'kept');
    await sync();
    local.move('plans', 'projects');
    const p = await sync();
    expect(count(p, 'move')).toBe(0);
    expect(count(p, 'upload') + count(p, 'download')).toBe(0);
    expect(remote.find('projects/2027', 'dir')).toBeDefined();
    expect(remote.find('plans', 'dir')).toBeUndefined();
  });

  it('takes a renamed folder for moved by a file it took along, even with its other files replaced', async () => {
    local.mkdir('docs');
    local.mkdir('docs/sub');
    local.write('docs/a', 'a');
    local.write('docs/sub/b', 'b');
    await sync();
    local.move('docs', 'papers');
    local.replace('papers/a', 'a, saved anew');
    const p = await sync();
    expect(count(p, 'move')).toBe(1);
    expect(remote.find('papers/a', 'file')?.content).toBe('a, saved anew');
    expect(remote.find('papers/sub/b', 'file')?.content).toBe('b');
  });

  it('still takes a file moved onto a path whose old file went elsewhere for a move', async () => {
    local.write('a', 'same', 1_600_000_000_000);
    local.write('b', 'same', 1_600_000_000_000);
    await sync();
    local.remove('b', false);
    local.move('a', 'b');
    const p = planNow();
    expect(p.actions.map((a) => a.type).sort()).toEqual(['delete', 'move']);
  });

  it('mirrors a renamed folder of many files with one move', async () => {
    local.mkdir('photos');
    for (let i = 0; i < 200; i++) local.write(`photos/${i}.jpg`, `p${i}`);
    await sync();
    local.move('photos', 'pictures');
    const p = await sync();
    expect(p.actions.map((a) => a.type)).toEqual(['move']);
    expect(remote.find('pictures/17.jpg', 'file')?.content).toBe('p17');
  });

  it('deletes a folder something was moved out of in one delete, once the move is done', async () => {
    local.mkdir('deep');
    local.mkdir('keep');
    for (const name of ['a', 'b', 'c']) local.write(`deep/${name}`, name);
    await sync();
    local.move('deep/a', 'keep/a');
    local.remove('deep', true);
    const p = planNow({ remoteTrash: true });
    // Deleted one by one first, its files would take the folder's path in the remote trash.
    expect(p.actions.map((a) => [a.type, 'path' in a ? a.path : 'to' in a ? a.to : ''])).toEqual([
      ['move', 'keep/a'],
      ['delete', 'deep'],
    ]);
    expect(p.actions[1]?.after).toEqual([0]);
  });

  it('records a file moved on one side and renamed on the other only once both moves are done', async () => {
    local.mkdir('a');
    local.mkdir('b');
    local.write('a/x', 'x');
    await sync();
    local.move('a/x', 'b/x');
    remote.move(remote.find('a/x', 'file')?.id ?? '', 'a/y');
    const p = planNow();
    const moves = p.actions.filter((a) => a.type === 'move');
    expect(moves.map((a) => a.type === 'move' && `${a.side} ${a.from} -> ${a.to}`)).toEqual(['local b/x -> b/y', 'remote a/y -> b/y']);
    // The second tells where the first put the file: it must not run when the first failed.
    expect(moves[1]?.after).toContain(moves[0]?.id);
  });

  it('mirrors a server-side rename of a folder locally without a download', async () => {
    local.mkdir('docs');
    local.write('docs/a.txt', 'one');
    await sync();
    remote.move(remote.find('docs', 'dir')?.id ?? '', 'papers');
    const p = await sync();
    expect(p.actions.map((a) => a.type)).toEqual(['move']);
    expect(local.entries.get('papers/a.txt')?.content).toBe('one');
  });

  it.each([
    ['renamed', 'one'],
    ['edited (same size) and renamed', 'two'],
  ])('mirrors a file another device %s, fetching it again: the new date cannot tell the two apart', async (_, content) => {
    // Cloudreve dates a renamed file anew, as it does an edit.
    local.write('a.txt', 'one');
    await sync();
    const id = remote.find('a.txt', 'file')?.id ?? '';
    remote.update(id, content);
    remote.move(id, 'b.txt');
    const p = await sync();
    expect(p.actions.map((a) => a.type).sort()).toEqual(['download', 'move']);
    expect(local.entries.get('b.txt')?.content).toBe(content);
  });

  it('creates a folder in a name another folder leaves only after that move (soak seed 855387)', async () => {
    local.mkdir('deep');
    local.mkdir('deep/Docs');
    local.write('deep/Docs/a.txt', 'a');
    await sync();
    remote.move(remote.find('deep/Docs', 'dir')?.id ?? '', 'deep/docs');
    remote.create('deep/Docs', 'dir');
    const p = planNow();
    const move = p.actions.find((a) => a.type === 'move' && a.side === 'local');
    const mkdir = p.actions.find((a) => a.type === 'mkdir' && a.side === 'local');
    expect(move && mkdir?.after).toContain(move?.id);
  });

  it('takes a case-only rename as a rename', async () => {
    local.write('readme.md', 'x');
    await sync();
    local.move('readme.md', 'README.md');
    const p = await sync();
    expect(p.actions.map((a) => a.type)).toEqual(['move']);
    expect(remote.find('README.md', 'file')).toBeDefined();
  });
});

describe('safety guards', () => {
  it('stops when the local folder is suddenly empty, unless forced', async () => {
    local.write('a', '1');
    local.write('b', '2');
    await sync();
    local.remove('a', false);
    local.remove('b', false);
    const stopped = planNow();
    expect(stopped.stopped?.guard).toBe('root');
    expect(stopped.actions).toEqual([]);
    expect(count(planNow({ force: true }), 'delete', 'remote')).toBe(2);
    // What a resume of that stop agreed to, and nothing else.
    expect(count(planNow({ force: { guard: 'root', side: 'local' } }), 'delete', 'remote')).toBe(2);
    expect(planNow({ force: { guard: 'root', side: 'remote' } }).stopped).toMatchObject({ guard: 'root', side: 'local' });
    expect(planNow({ force: { guard: 'mass-delete', side: 'remote', count: 2 } }).stopped).toMatchObject({ guard: 'root', side: 'local' });
  });

  it('stops when the local folder is missing even when forced', async () => {
    local.write('a', '1');
    await sync();
    const p = plan({ local: { rootExists: false, nodes: [], ignored: [], unknown: [] }, remote: remote.snapshot(), synced: state.tree.load() }, { ...defaults, force: true });
    expect(p.stopped).toMatchObject({ guard: 'root', side: 'local' });
  });

  it('stops when the server folder lists nothing but files were synced', async () => {
    local.write('a', '1');
    await sync();
    for (const entry of [...remote.byId.values()]) remote.remove(entry.id, false);
    expect(planNow().stopped).toMatchObject({ guard: 'root', side: 'remote' });
  });

  it('counts deletions after move detection and stops above the limit', async () => {
    local.mkdir('d');
    for (let i = 0; i < 10; i++) local.write(`d/${i}`, `${i}`);
    local.write('keep', 'k');
    await sync();
    local.move('d', 'e');
    expect(planNow().stopped).toBeUndefined();
    for (let i = 0; i < 6; i++) local.remove(`e/${i}`, false);
    const p = planNow();
    expect(p.stopped).toMatchObject({ guard: 'mass-delete', side: 'remote', count: 6, total: 11 });
    expect(p.actions).toEqual([]);
    expect(planNow({ force: true }).stopped).toBeUndefined();
    expect(planNow({ force: { guard: 'mass-delete', side: 'remote', count: 6 } }).stopped).toBeUndefined();
    expect(planNow({ force: { guard: 'mass-delete', side: 'remote', count: 5 } }).stopped).toMatchObject({ guard: 'mass-delete', count: 6 });
    expect(planNow({ force: { guard: 'mass-delete', side: 'local', count: 6 } }).stopped).toMatchObject({ guard: 'mass-delete', side: 'remote' });
    expect(planNow({ force: { guard: 'binding', side: 'local', to: '{}' } }).stopped).toMatchObject({ guard: 'mass-delete' });
  });

  it('adds the deletes of the passes just before to a pass that deletes on the same side', () => {
    // 6 of 10 files in one pass would stop; 3 and 3 in two passes went through.
    const input = (recentDeletes?: { local: number; remote: number }) => ({
      local: { rootExists: true, nodes: [], ignored: [], unknown: [] },
      remote: { rootExists: true, nodes: [], ignored: [], unknown: [] },
      synced: [],
      totals: { localEntries: 7, remoteEntries: 7, syncedEntries: 7, syncedFiles: 7 },
      ...(recentDeletes ? { recentDeletes } : {}),
    });
    expect(massDeleteGuard(input(), defaults, { local: 0, remote: 3 })).toBeUndefined();
    expect(massDeleteGuard(input({ local: 0, remote: 3 }), defaults, { local: 0, remote: 3 })).toMatchObject({
      guard: 'mass-delete',
      side: 'remote',
      count: 6,
      total: 10,
      reason: 'the run would delete 3 more synced files on the server after 3 within the window before, 6 of 10 (limits: 50% from 3 files, or 1000 files)',
    });
    // The other side's deletes, and a pass that deletes nothing, do not add up.
    expect(massDeleteGuard(input({ local: 3, remote: 0 }), defaults, { local: 0, remote: 3 })).toBeUndefined();
    expect(massDeleteGuard(input({ local: 0, remote: 30 }), defaults, { local: 0, remote: 0 })).toBeUndefined();
  });
});

describe('a resume of the binding guard', () => {
  it('answers the pair it was given, not one the config names later', () => {
    const trip = (to: string) => ({ guard: 'binding', side: 'local', to, reason: 'the config pairs other folders' }) as const;
    expect(overrides({ guard: 'binding', side: 'local', to: 'new place' }, trip('new place'))).toBe(true);
    expect(overrides({ guard: 'binding', side: 'local', to: 'new place' }, trip('yet another place'))).toBe(false);
    expect(overrides(true, trip('yet another place'))).toBe(true);
  });
});

describe('without a Synced tree', () => {
  it('deletes nothing, copies one-sided files and compares the rest', async () => {
    local.write('only-local', 'l');
    local.write('both', 'same');
    remote.create('only-remote', 'file', 'r');
    remote.create('both', 'file', 'same');
    const p = await sync();
    expect(count(p, 'delete')).toBe(0);
    expect(p.actions.map((a) => a.type).sort()).toEqual(['conflict', 'download', 'upload']);
    expect(local.entries.get('only-remote')?.content).toBe('r');
    expect(remote.find('only-local', 'file')?.content).toBe('l');
    expect([...local.entries.keys()].sort()).toEqual(['both', 'only-local', 'only-remote']);
  });
});

describe('a local edit of a file another device moved on the server', () => {
  // Cloudreve dates a moved file anew: the server's version looks changed, and newer, without
  // any edit. Had it won, the local edit, the only change there was, would have gone to the trash.
  it.each(['newer', 'remote'] as const)('keeps both versions rather than letting the move win (%s)', async (conflictPolicy) => {
    local.write('a.txt', 'first');
    await sync();
    local.write('a.txt', 'second');
    remote.move(remote.find('a.txt', 'file')?.id ?? '', 'b.txt');
    await sync({ conflictPolicy });
    const contents = [...local.entries.values()].map((entry) => entry.content ?? '').sort();
    expect(contents).toEqual(['first', 'second']);
    expect(local.trash).toEqual([]);
    expect(planNow({ conflictPolicy }).actions).toEqual([]);
  });

  it('still lets the server version win when its size changed too (remote)', async () => {
    local.write('a.txt', 'first');
    await sync();
    local.write('a.txt', 'second');
    const id = remote.find('a.txt', 'file')?.id ?? '';
    remote.update(id, 'theirs, longer');
    remote.move(id, 'b.txt');
    await sync({ conflictPolicy: 'remote' });
    expect([...local.entries.values()].map((entry) => entry.content)).toEqual(['theirs, longer']);
    expect(local.trash).toEqual(['second']);
  });
});

describe('names', () => {
  it('skips and reports a local name the server refuses, and keeps it there', async () => {
    local.write('what?.txt', 'q');
    local.write('fine.txt', 'f');
    const p = await sync();
    expect(p.skipped).toEqual([{ side: 'local', path: 'what?.txt', kind: 'file', reason: 'name not allowed on the server: forbidden character; rename it to sync it' }]);
    expect(remote.find('fine.txt', 'file')).toBeDefined();
    expect(planNow().actions).toEqual([]);
  });

  it("keeps a user's new names that look like the names a plan moves entries aside under", async () => {
    local.write('draft.cloudreve-sync-aside-2', 'local');
    remote.create('server.txt.cloudreve-sync-aside-0', 'file', 'server');
    await sync();
    expect(remote.find('draft.cloudreve-sync-aside-2', 'file')).toBeDefined();
    expect(local.has('server.txt.cloudreve-sync-aside-0')).toBe(true);
    expect(planNow().actions).toEqual([]);
  });

  it('skips everything below a folder whose name the server refuses', async () => {
    local.mkdir('a:b');
    local.write('a:b/inner.txt', 'i');
    const p = await sync();
    expect(p.skipped.map((s) => s.path).sort()).toEqual(['a:b', 'a:b/inner.txt']);
    expect(remote.byId.size).toBe(0);
  });

  it('on a case-insensitive disk reports server names that differ only by case', async () => {
    remote.create('Report.txt', 'file', 'upper');
    remote.create('report.txt', 'file', 'lower');
    const p = await sync({ localCaseInsensitive: true });
    expect(p.skipped).toEqual([{ side: 'remote', path: 'report.txt', kind: 'file', reason: 'name collides with "Report.txt" on the local filesystem' }]);
    expect([...local.entries.keys()]).toEqual(['Report.txt']);
    expect(planNow({ localCaseInsensitive: true }).actions).toEqual([]);
  });

  it('on a case-insensitive disk folds every form of a letter, the final sigma included', async () => {
    remote.create('ΟΔΟΣ.txt', 'file', 'upper');
    remote.create('οδος.txt', 'file', 'final sigma');
    remote.create('Straße', 'file', 'sharp s');
    remote.create('STRASSE', 'file', 'double s');
    const p = await sync({ localCaseInsensitive: true });
    expect(p.skipped.map((s) => s.path).sort()).toEqual(['Straße', 'οδος.txt']);
    expect([...local.entries.keys()].sort()).toEqual(['STRASSE', 'ΟΔΟΣ.txt']);
  });

  it('keeps both when a local rename lands on a name created on the server', async () => {
    local.write('a.txt', 'mine');
    await sync();
    local.move('a.txt', 'b.txt');
    remote.create('b.txt', 'file', 'theirs');
    await sync();
    const names = [...local.entries.keys()].sort();
    expect(names).toHaveLength(2);
    expect(names[0]).toMatch(/^b \(conflict \d{4}-\d\d-\d\d \d{6}\)\.txt$/);
    expect(local.entries.get('b.txt')?.content).toBe('mine');
    expect(planNow().actions).toEqual([]);
  });
});

describe('a file moved on one side and deleted on the other, where the other side has a new file', () => {
  // Random seed 229295: a file renamed locally while the server deleted it was uploaded as new,
  // and the run was killed before recording it. The next run paired the local file with its
  // Synced entry, found the upload as a newcomer in its way and kept both, with the same bytes.
  const moveAndReplace = (movedOn: 'local' | 'remote', theirs: string): void => {
    const id = remote.find('A.txt', 'file')?.id ?? '';
    if (movedOn === 'local') {
      local.move('A.txt', 'a.txt');
      remote.remove(id, false);
      remote.create('a.txt', 'file', theirs);
    } else {
      remote.move(id, 'a.txt');
      local.remove('A.txt', false);
      local.write('a.txt', theirs);
    }
  };
  const contents = (): string[] => [...local.entries.values()].map((entry) => entry.content ?? '').sort();

  it.each(['local', 'remote'] as const)('records the two as one when they hold the same bytes (moved on the %s side)', async (movedOn) => {
    local.write('A.txt', 'same');
    await sync();
    moveAndReplace(movedOn, 'same');
    const p = await sync();
    expect(p.actions.map((a) => a.type).sort()).toEqual(['conflict', 'forget']);
    expect([...local.entries.keys()]).toEqual(['a.txt']);
    expect(remote.snapshot().nodes.map((n) => n.path)).toEqual(['a.txt']);
    expect(planNow().actions).toEqual([]);
  });

  it.each(['keep-both', 'local', 'remote', 'newer'] as const)('keeps both versions when the bytes differ, whatever the policy (%s)', async (conflictPolicy) => {
    local.write('A.txt', 'mine');
    await sync();
    moveAndReplace('local', 'mien');
    await sync({ conflictPolicy });
    expect(contents()).toEqual(['mien', 'mine']);
    expect(local.entries.get('a.txt')?.content).toBe('mien');
    expect(remote.snapshot().nodes.map((n) => n.path).sort()).toEqual([...local.entries.keys()].sort());
    expect(planNow({ conflictPolicy }).actions).toEqual([]);
  });

  it.each([
    ['of another size', 'theirs', { conflictPolicy: 'local' }],
    ['that a one-way mode cannot have sent (download-only)', 'mien', { mode: 'download-only' }],
  ] as const)('leaves a newcomer %s to the collision rules, which keep both', async (_, theirs, options) => {
    local.write('A.txt', 'mine');
    await sync();
    moveAndReplace('local', theirs);
    await sync(options);
    expect(contents()).toEqual(['mine', theirs].sort());
    expect(local.entries.get('a.txt')?.content).toBe('mine');
    expect(planNow(options).actions).toEqual([]);
  });

  it('takes a new server folder that it moves after a local rename as the synced one: the next plan is empty', async () => {
    // The server's folder d went and another device made a new d; the local d became a. The
    // pass moves the new server folder to a, and its row must name that folder, not the old one.
    local.mkdir('d');
    // A file it holds tells the local rename from a new folder (see the case of inode reuse above).
    local.write('d/f', 'f');
    await sync();
    remote.remove(remote.find('d', 'dir')?.id ?? '', false);
    local.move('d', 'a');
    const fresh = remote.create('d', 'dir');
    await sync();
    expect(remote.find('a', 'dir')?.id).toBe(fresh.id);
    expect(planNow().actions).toEqual([]);
  });

  it('knows the local folder of a new pair it completes with a server move: the next plan is empty', async () => {
    // Each side made a folder d in what it now calls b, but the two b are different synced
    // folders: the server moved b to c.txt and a to b, the local side a to c.txt. The pass joins
    // the two d and moves the server's into the local one's folder; the row written for the pair
    // must take the local folder's facts, or the next plan records them.
    local.mkdir('a');
    remote.create('b', 'dir');
    await sync();
    remote.create('a/d', 'dir');
    remote.move(remote.find('b', 'dir')?.id ?? '', 'c.txt');
    remote.move(remote.find('a', 'dir')?.id ?? '', 'b');
    local.move('a', 'c.txt');
    local.mkdir('b/d');
    await sync();
    expect(planNow().actions).toEqual([]);
  });

  it('never takes apart a file that did not move (upload-only, local wins)', async () => {
    // The local rename lands on a server-only file, so the local file is uploaded under a
    // conflict name: its row then names it differently on each side. Once the server deletes
    // that copy, the server-only file at the local name must stay as it is.
    const options = { mode: 'upload-only', conflictPolicy: 'local' } as const;
    local.write('a.txt', 'mine');
    await sync(options);
    remote.create('f.txt', 'file', 'four');
    local.move('a.txt', 'f.txt');
    await sync(options);
    const copy = remote.snapshot().nodes.find((n) => n.path !== 'f.txt');
    expect(copy?.path).toMatch(/conflict/);
    remote.remove(copy?.id ?? '', false);
    await sync(options);
    expect(remote.find('f.txt', 'file')?.content).toBe('four');
  });
});

describe('upload-only', () => {
  it('keeps a server version that replaced a file renamed locally, for a later local edit to meet as a conflict', async () => {
    const options = { mode: 'upload-only', remoteTrash: true } as const;
    local.write('b', 'one');
    await sync(options);
    local.move('b', 'd');
    remote.remove(remote.find('b', 'file')?.id ?? '', false);
    remote.create('b', 'file', 'two');
    await sync(options);
    local.write('d', 'three, edited');
    await sync(options);
    const everything = [...[...local.entries.values()].map((e) => e.content), ...local.trash, ...[...remote.byId.values()].map((e) => e.content), ...remote.trash];
    expect(everything).toContain('two');
  });
});

describe('one-way modes', () => {
  it.each([
    ['download-only', 'remote'],
    ['upload-only', 'local'],
  ] as const)("never rename the source side, %s, even where another device left a name it moves entries aside under", async (mode, source) => {
    const write = (path: string, content: string): void => {
      if (source === 'local') local.write(path, content);
      else remote.create(path, 'file', content);
    };
    const move = (from: string, to: string): void => {
      if (source === 'local') local.move(from, to);
      else remote.move(remote.find(from, 'file')?.id ?? '', to);
    };
    write('a.txt', 'AAA');
    write('b.txt', 'BBBBB');
    await sync({ mode });
    // A two-way device swapping the two names, stopped midway, or a user's own name of that shape.
    move('a.txt', 'a.txt.cloudreve-sync-aside-0');
    move('b.txt', 'a.txt');
    const p = await sync({ mode });
    expect(p.actions.filter((a) => 'side' in a && a.side === source)).toEqual([]);
    // The written side mirrors the names as they are.
    const mirrored = ['a.txt.cloudreve-sync-aside-0=AAA', 'a.txt=BBBBB'].sort();
    expect([...local.entries.entries()].map(([path, e]) => `${path}=${e.content}`).sort()).toEqual(mirrored);
    expect([...remote.byId.values()].map((e) => `${e.path}=${e.content}`).sort()).toEqual(mirrored);
    expect(count(await sync({ mode }), 'move')).toBe(0);
  });
});

describe('a folder the written side moved away', () => {
  it('goes back whole, its name included, when something new must land in it: the name it took may be taken in its old folder', async () => {
    remote.create('c', 'dir');
    remote.create('c/a', 'file', 'a');
    remote.create('c/b', 'dir');
    remote.create('c/b/old', 'file', 'old');
    await sync({ mode: 'download-only' });
    local.mkdir('x');
    local.move('c/b', 'x/a');
    remote.create('c/b/new', 'file', 'new');
    const back = await sync({ mode: 'download-only' });
    expect(back.skipped).toEqual([]);
    expect([...local.entries.keys()].sort()).toEqual(['c', 'c/a', 'c/b', 'c/b/new', 'c/b/old', 'x']);
    expect(planNow({ mode: 'download-only' }).actions).toEqual([]);
  });
});

describe('after a one-way mode', () => {
  const kinds = (p: Plan): string[] => p.actions.map((a) => `${a.type}${'side' in a ? ` ${a.side}` : ''}`).sort();

  it('brings back what the local side deleted under download-only, instead of deleting it from the server', async () => {
    remote.create('d', 'dir');
    remote.create('d/a', 'file', 'a');
    remote.create('b', 'file', 'b');
    remote.create('c', 'file', 'c');
    await sync({ mode: 'download-only' });
    local.remove('d', true);
    local.remove('b', true);
    local.write('c', 'c, edited here');
    expect(count(await sync({ mode: 'download-only' }), 'delete')).toBe(0);

    const switched = planNow({ formerSource: 'remote' });
    expect(count(switched, 'delete')).toBe(0);
    expect(switched.heldBack).toBe(3);
    await sync({ formerSource: 'remote' });
    expect(planNow({ formerSource: 'remote' }).heldBack).toBe(0);
    expect([...local.entries.keys()].sort()).toEqual(['b', 'c', 'd', 'd/a']);
    expect(remote.find('c', 'file')?.content).toBe('c, edited here');
    expect(planNow().actions).toEqual([]);
    // Without the former mode known, the two-way pass would have deleted them on the server.
    local.remove('b', true);
    expect(kinds(planNow())).toEqual(['delete remote']);
  });

  it('uploads again what the server deleted under upload-only', async () => {
    local.write('a', 'a');
    local.write('b', 'b');
    await sync({ mode: 'upload-only' });
    remote.remove(remote.find('a', 'file')?.id ?? '', false);
    await sync({ mode: 'upload-only' });
    expect(kinds(planNow())).toEqual(['delete local']);
    expect(kinds(planNow({ formerSource: 'local' }))).toEqual(['upload']);
    expect(kinds(planNow({ formerSource: 'local', mode: 'upload-only' }))).toEqual([]);
  });

  it('turned around, leaves what the former source still has and lets the pair go', async () => {
    remote.create('b', 'file', 'b');
    await sync({ mode: 'download-only' });
    local.remove('b', true);
    await sync({ mode: 'download-only' });
    const turned = await sync({ mode: 'upload-only', formerSource: 'remote' });
    expect(count(turned, 'delete')).toBe(0);
    expect(remote.find('b', 'file')?.content).toBe('b');
    // Let go of: later upload-only passes leave the server's file alone too.
    expect(count(planNow({ mode: 'upload-only' }), 'delete')).toBe(0);
  });
});

describe('a file whose server object was never learnt', () => {
  const kinds = (p: Plan): string[] => p.actions.map((a) => `${a.type}${'side' in a ? ` ${a.side}` : ''}`).sort();
  /**
   * Sends `a.txt` and forgets its server ID, as a pass cut short before its listing leaves it;
   * `b.txt` keeps the server folder from looking emptied.
   */
  const sentUnlearnt = async (): Promise<void> => {
    local.write('a.txt', 'mine');
    local.write('b.txt', 'other');
    await sync();
    const node = state.tree.load().find((n) => n.localPath === 'a.txt');
    const row = node && state.tree.get(node.id);
    if (!node || !row) throw new Error('no row for a.txt');
    state.tree.put({ ...row, remoteId: undefined }, node.id);
  };

  it.each(['two-way', 'upload-only'] as const)('is sent again when the server lacks it, %s, not deleted locally', async (mode) => {
    await sentUnlearnt();
    // Another device cancelling the account's unfinished uploads removed it before any listing.
    remote.remove(remote.find('a.txt', 'file')?.id ?? '', false);
    expect(kinds(await sync({ mode }))).toEqual(['upload']);
    expect(local.entries.get('a.txt')?.content).toBe('mine');
    expect(local.trash).toEqual([]);
    expect(remote.find('a.txt', 'file')?.content).toBe('mine');
    expect(planNow({ mode }).actions).toEqual([]);
  });

  it('is left in place and let go under download-only, which cannot send it', async () => {
    await sentUnlearnt();
    remote.remove(remote.find('a.txt', 'file')?.id ?? '', false);
    expect(kinds(await sync({ mode: 'download-only' }))).toEqual(['forget']);
    expect(local.entries.get('a.txt')?.content).toBe('mine');
    expect(local.trash).toEqual([]);
    expect(planNow({ mode: 'download-only' }).actions).toEqual([]);
    // A two-way pass sends it as the new local file it now is.
    expect(kinds(planNow())).toEqual(['upload']);
  });

  it('is only recorded when the server still holds it as sent', async () => {
    await sentUnlearnt();
    expect(kinds(planNow())).toEqual(['record']);
  });
});

describe('a file cut short', () => {
  it('that became empty with its time unchanged gets the other side\'s copy back two-way, and is reported one-way', async () => {
    local.write('thesis.tex', 'chapter one');
    remote.create('notes.txt', 'file', 'n');
    await sync();
    const localBefore = local.entries.get('thesis.tex')?.mtime;
    local.write('thesis.tex', '', localBefore);
    const server = remote.find('notes.txt', 'file');
    if (server) server.content = '';
    const skipped = (options: Partial<PlanOptions>): string[] => {
      const p = planNow(options);
      expect(p.actions).toEqual([]);
      return p.skipped.map((entry) => `${entry.side}:${entry.path}`).sort();
    };
    // A one-way mode does not send it, and leaves the written side's changes alone anyway.
    expect(skipped({ mode: 'upload-only' })).toEqual(['local:thesis.tex']);
    expect(skipped({ mode: 'download-only' })).toEqual(['remote:notes.txt']);
    const restored = await sync({ conflictPolicy: 'local' });
    expect(restored.actions.map((a) => `${a.type} ${'localPath' in a ? a.localPath : ''}`).sort()).toEqual(['download thesis.tex', 'upload notes.txt']);
    expect(local.entries.get('thesis.tex')?.content).toBe('chapter one');
    expect(remote.find('notes.txt', 'file')?.content).toBe('n');
    expect(planNow().actions).toEqual([]);
    // Emptied for real, with a new time, it is an edit like any other.
    local.write('thesis.tex', '');
    expect(planNow().actions.map((a) => a.type)).toEqual(['upload']);
  });

  it('that the other side emptied as well is no longer held back', async () => {
    local.write('log.txt', 'lines');
    await sync();
    local.write('log.txt', '', local.entries.get('log.txt')?.mtime);
    remote.update(remote.find('log.txt', 'file')?.id ?? '', '');
    const p = planNow();
    expect(p.skipped).toEqual([]);
    expect(p.actions.map((a) => a.type)).toEqual(['conflict']);
  });
});

describe('what a run cannot see', () => {
  it.each([
    ['edited', (id: string) => remote.update(id, 'edited on the server')],
    ['deleted', (id: string) => remote.remove(id, false)],
    ['renamed', (id: string) => remote.move(id, 'renamed.txt')],
  ] as const)('leaves a synced file whose local path the scan skipped (a link now) as it is when the server %s it', async (_, change) => {
    // Each such write would find the link in its way: deferred at every pass, the daemon's every few seconds.
    local.write('f.txt', 'synced');
    local.write('other.txt', 'other');
    await sync();
    local.remove('f.txt', false);
    change(remote.find('f.txt', 'file')?.id ?? '');
    const p = planNow({}, { localUnknown: ['f.txt'] });
    expect(p.actions).toEqual([]);
  });

  it('treats an unreadable local folder as unchanged, never as deleted', async () => {
    local.mkdir('locked');
    local.write('locked/secret', 's');
    await sync();
    local.remove('locked/secret', false);
    const p = planNow({}, { localUnknown: ['locked'] });
    expect(p.actions).toEqual([]);
  });

  it.each(['local', 'server'] as const)('treats an unreadable folder inside a folder renamed on the %s side as unchanged', async (where) => {
    local.mkdir('projects');
    local.mkdir('projects/locked');
    local.write('projects/locked/secret', 's');
    local.write('projects/readme', 'r');
    await sync();
    if (where === 'local') local.move('projects', 'work');
    else remote.move(remote.find('projects', 'dir')?.id ?? '', 'work');
    const hide = <S extends { nodes: readonly { path: string }[] }>(snapshot: S): S => ({ ...snapshot, nodes: snapshot.nodes.filter((n) => !n.path.startsWith('work/locked/')), unknown: ['work/locked'] });
    const p = plan(
      { local: where === 'local' ? hide(local.snapshot()) : local.snapshot(), remote: where === 'server' ? hide(remote.snapshot()) : remote.snapshot(), synced: state.tree.load() },
      defaults,
    );
    expect(p.actions.filter((a) => a.type === 'delete')).toEqual([]);
    expect(p.actions.filter((a) => a.type === 'move').map((a) => a.type === 'move' && `${a.from} -> ${a.to}`)).toEqual(['projects -> work']);
  });

  it('judges deletes by the whole folder when a pass cut out part of it and skipped a path', async () => {
    local.mkdir('big');
    for (let i = 0; i < 100; i++) local.write(`big/${i}.jpg`, `p${i}`);
    local.mkdir('other');
    for (let i = 0; i < 12; i++) local.write(`other/${i}.txt`, `o${i}`);
    await sync();
    for (let i = 0; i < 10; i++) local.remove(`other/${i}.txt`, false);
    const pass = relevantInput(state, local, remote);
    expect(plan(pass, defaults).stopped).toBeUndefined();
    expect(plan({ ...pass, local: { ...pass.local, unknown: ['big/link'] } }, defaults).stopped).toBeUndefined();
  });

  it('keeps a server folder that holds ignored files when deletes have no trash', async () => {
    local.mkdir('proj');
    local.write('proj/main.c', 'c');
    await sync();
    remote.create('proj/build.o', 'file', 'obj');
    local.remove('proj', false);
    const p = planNow({ force: true }, { remoteIgnored: ['proj/build.o'] });
    expect(p.actions.map((a) => `${a.type}:${'side' in a ? a.side : ''}`).sort()).toEqual(['delete:remote', 'mkdir:local']);
    expect(p.actions.find((a) => a.type === 'delete')).toMatchObject({ path: 'proj/main.c' });
  });

  it('keeps a local folder that holds ignored files, but not for droppings alone', async () => {
    for (const dir of ['proj', 'photos']) {
      local.mkdir(dir);
      local.write(`${dir}/a.txt`, 'a');
    }
    await sync();
    local.write('proj/.env', 'never uploaded');
    local.write('photos/.DS_Store', 'dropped');
    for (const dir of ['proj', 'photos']) remote.remove(remote.find(dir, 'dir')?.id ?? '', false);
    const p = planNow({ force: true, localDropping: (name) => name === '.DS_Store' }, { localIgnored: ['proj/.env', 'photos/.DS_Store'] });
    expect(p.actions.map((a) => `${a.type}:${'side' in a ? a.side : ''}:${'path' in a ? a.path : ''}`).sort()).toEqual([
      'delete:local:photos',
      'delete:local:proj/a.txt',
      'mkdir:remote:proj',
    ]);
  });

  it('skips a new local file whose server name an ignored entry holds', async () => {
    // The rule `build/` leaves the server folder out; the file of that name cannot go beside it.
    local.write('notes.txt', 'n');
    await sync();
    local.write('build', 'a file');
    remote.create('build', 'dir');
    const p = planNow({}, { remoteIgnored: ['build'] });
    expect(p.actions).toEqual([]);
    expect(p.skipped).toEqual([{ side: 'local', path: 'build', kind: 'file', reason: expect.stringContaining('ignore rules') as string }]);
  });
});
