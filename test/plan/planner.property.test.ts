import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { plan } from '../../src/plan/plan.js';
import type { Plan } from '../../src/plan/types.js';
import { openMemoryState } from '../helpers/memory-state.js';
import { isWithin } from '../../src/tree/paths.js';
import type { EntryKind, Side, SkippedPath } from '../../src/tree/types.js';
import { Activity, randomActivityOptions, scenario, type Scenario } from './activity.js';
import { completeInput, relevantInput } from './inputs.js';
import { apply, Clock, LocalWorld, RemoteWorld } from './world.js';

/**
 * Random user activity on both sides, synced between rounds. After every sync: the two sides
 * are equal (two-way), every version a user last wrote survives somewhere, and planning again
 * gives an empty plan. A failure prints fast-check's seed and path; SEED=<n> replays it.
 * The default seed is fixed so that a test run is deterministic; SEED=random explores anew.
 */

/** A side as sorted lines, leaving out what the plan skipped (and what lies below it). */
function tree(entries: Iterable<[string, { kind: EntryKind; content: string }]>, skipped: readonly SkippedPath[] = []): string[] {
  return [...entries]
    .filter(([path, e]) => !skipped.some((s) => (s.kind === 'dir' ? isWithin(path, s.path) && (path !== s.path || e.kind === 'dir') : path === s.path && e.kind === 'file')))
    .map(([path, e]) => `${e.kind} ${path} ${e.kind === 'file' ? e.content : ''}`)
    .sort();
}

const seed = process.env.SEED === 'random' ? undefined : Number(process.env.SEED ?? 20261130);
const runs = Number(process.env.PLANNER_RUNS ?? 300);
/** A failure's `path` (with its seed) replays that one case at once instead of every run before it. */
const replayPath = process.env.PLANNER_PATH;

/**
 * Both sides hold the same, but for what the plan after the sync skipped: a skipped entry is left
 * where it is on both sides, so its Synced counterpart on the other side (at whatever path) is
 * left out of the comparison too.
 */
function expectMirrored(state: ReturnType<typeof openMemoryState>, local: LocalWorld, remote: RemoteWorld, next: Plan): void {
  const rows = state.tree.load();
  const counterpart = (s: SkippedPath): SkippedPath[] => {
    const row = rows.find((r) => r.kind === s.kind && (s.side === 'local' ? r.localPath : r.remotePath) === s.path);
    return row ? [{ ...s, side: s.side === 'local' ? 'remote' : 'local', path: s.side === 'local' ? row.remotePath : row.localPath }] : [];
  };
  const allSkipped = next.skipped.flatMap((s) => [s, ...counterpart(s)]);
  const skippedOn = (side: string): SkippedPath[] => allSkipped.filter((s) => s.side === side);
  expect(tree(local.entries, skippedOn('local'))).toEqual(tree([...remote.byId.values()].map((e) => [e.path, e]), skippedOn('remote')));
}

const states: { close(): void }[] = [];
afterEach(() => {
  for (const state of states.splice(0)) state.close();
});

/** Empty sides, an empty Synced tree (closed after the test) and users acting on them. */
function newWorld(): { state: ReturnType<typeof openMemoryState>; local: LocalWorld; remote: RemoteWorld; activity: Activity } {
  const state = openMemoryState();
  states.push(state);
  const clock = new Clock();
  const local = new LocalWorld(clock);
  const remote = new RemoteWorld(clock);
  return { state, local, remote, activity: new Activity(local, remote) };
}

/**
 * A scenario, and after which of its syncs every file's row forgets its server ID, as passes cut
 * short between their uploads and the listing that tells the IDs leave them (with the date the
 * upload sent). `forgetting` false keeps the scenarios the other cases always drew.
 */
function withForgetting(forgetting: boolean): fc.Arbitrary<[Scenario, boolean[]]> {
  return forgetting ? fc.tuple(scenario, fc.array(fc.boolean(), { maxLength: 5 })) : scenario.map((s): [Scenario, boolean[]] => [s, []]);
}

describe.each([
  ['two-way', 'keep-both', false, 'complete', false],
  ['two-way', 'keep-both', false, 'relevant', false],
  ['two-way', 'keep-both', true, 'relevant', false],
  ['two-way', 'newer', true, 'relevant', false],
  ['two-way', 'local', true, 'relevant', false],
  ['two-way', 'local', false, 'relevant', false],
  ['two-way', 'remote', true, 'relevant', false],
  ['upload-only', 'keep-both', true, 'relevant', false],
  ['download-only', 'keep-both', true, 'relevant', false],
  ['two-way', 'keep-both', false, 'relevant', true],
  ['upload-only', 'keep-both', false, 'relevant', true],
  ['download-only', 'keep-both', false, 'relevant', true],
] as const)('planner in %s mode, conflicts %s, remote trash %s, over the %s trees, server IDs forgotten %s', (mode, policy, remoteTrash, trees, forgetting) => {
  const inputOf = trees === 'complete' ? completeInput : relevantInput;
  it('converges without losing a version, and a second plan is empty', async () => {
    await fc.assert(
      fc.asyncProperty(withForgetting(forgetting), async ([{ initial, rounds }, forgets]) => {
        const { state, local, remote, activity } = newWorld();
        const opts = randomActivityOptions(mode, policy, remoteTrash);
        for (const o of initial) activity.run(o);

        for (const [r, round] of [[], ...rounds].entries()) {
          if (forgets[r - 1] === true) state.db.exec("UPDATE synced SET remote_id = NULL WHERE kind = 'file'");
          for (const o of round) activity.run(o);
          const before = {
            local: tree(local.entries),
            remote: tree([...remote.byId.values()].map((e) => [e.path, e])),
            versions: [...local.entries.values(), ...remote.byId.values()].filter((e) => e.kind === 'file').map((e) => e.content),
            localTrash: local.trash.length,
          };
          const first = plan(inputOf(state, local, remote), opts);
          expect(first.stopped).toBeUndefined();
          // The executor starts a stage's actions in plan order through a window: a dependency
          // must come before its dependent, in the same stage or an earlier one.
          const byId = new Map(first.actions.map((a) => [a.id, a]));
          const misordered = first.actions.flatMap((a) => a.after.filter((id) => !(id < a.id && (byId.get(id)?.stage ?? 99) <= a.stage)).map((id) => `${a.id} after ${id}`));
          expect(misordered).toEqual([]);
          const result = await apply(first.actions, local, remote, state.tree, { remoteTrash });
          expect(result.failed.map((f) => `${f.action.type} ${JSON.stringify(f.action)}: ${f.error}`)).toEqual([]);

          const after = tree(local.entries);
          // What stays skipped is reported at its place after the sync.
          const second = plan(inputOf(state, local, remote), opts);
          if (mode === 'two-way') expectMirrored(state, local, remote, second);
          if (mode === 'upload-only') {
            expect(after).toEqual(before.local);
            expect(local.trash.length).toBe(before.localTrash);
          }
          if (mode === 'download-only') expect(tree([...remote.byId.values()].map((e) => [e.path, e]))).toEqual(before.remote);

          const survivors = new Set([
            ...[...local.entries.values(), ...remote.byId.values()].map((e) => e.content),
            ...local.trash,
            ...remote.trash,
          ]);
          const lost = before.versions.filter((v) => !activity.superseded.has(v) && !survivors.has(v));
          expect(lost).toEqual([]);

          if (mode !== 'two-way' && second.actions.length > 0 && second.actions.every((a) => a.type === 'record' || a.type === 'forget')) {
            // A one-way mode can need one more pass of bookkeeping (no file is touched) after an
            // entry the source deleted was let go: the server object it held is paired anew.
            await apply(second.actions, local, remote, state.tree, { remoteTrash });
            expect(plan(inputOf(state, local, remote), opts).actions).toEqual([]);
          } else {
            expect(second.actions).toEqual([]);
          }
        }
      }),
      { numRuns: runs, ...(seed === undefined ? {} : { seed }), ...(replayPath === undefined ? {} : { path: replayPath }) },
    );
    // More runs (PLANNER_RUNS) take longer; each takes a few milliseconds.
  }, 30_000 + runs * 100);
});

describe.each([
  ['download-only', 'two-way'],
  ['upload-only', 'two-way'],
  ['download-only', 'upload-only'],
  ['upload-only', 'download-only'],
] as const)('planner after %s turns %s', (before, after) => {
  it('deletes nothing from the former source that it still has as synced, and a second plan is empty', async () => {
    const formerSource: Side = before === 'download-only' ? 'remote' : 'local';
    await fc.assert(
      fc.asyncProperty(scenario, fc.boolean(), async ({ initial, rounds }, remoteTrash) => {
        const { state, local, remote, activity } = newWorld();
        const syncOnce = async (opts: ReturnType<typeof randomActivityOptions>): Promise<void> => {
          const planned = plan(relevantInput(state, local, remote), opts);
          expect(planned.stopped).toBeUndefined();
          const result = await apply(planned.actions, local, remote, state.tree, { remoteTrash });
          expect(result.failed).toEqual([]);
        };
        for (const o of initial) activity.run(o);
        for (const round of [[], ...rounds]) {
          for (const o of round) activity.run(o);
          await syncOnce(randomActivityOptions(before, 'keep-both', remoteTrash));
        }
        const contents = (entries: Iterable<{ kind: EntryKind; content: string }>): string[] => [...entries].filter((e) => e.kind === 'file').map((e) => e.content);
        const sourceBefore = formerSource === 'local' ? contents(local.entries.values()) : contents(remote.byId.values());
        const switched = { ...randomActivityOptions(after, 'keep-both', remoteTrash), formerSource };
        const first = plan(relevantInput(state, local, remote), switched);
        expect(first.actions.filter((a) => a.type === 'delete' && a.side === formerSource)).toEqual([]);
        await syncOnce(switched);
        const everything = new Set([...contents(local.entries.values()), ...contents(remote.byId.values()), ...local.trash, ...remote.trash]);
        expect(sourceBefore.filter((content) => !activity.superseded.has(content) && !everything.has(content))).toEqual([]);
        // Not necessarily mirrored: a pair a one-way mode left under two names keeps them.
        if (after === 'two-way') expect(plan(relevantInput(state, local, remote), randomActivityOptions(after, 'keep-both', remoteTrash)).actions).toEqual([]);
      }),
      { numRuns: Math.ceil(runs / 5), ...(seed === undefined ? {} : { seed }) },
    );
  }, 30_000 + runs * 100);
});
