import { plan } from '../../src/plan/plan.js';
import type { ConflictPolicy, SyncMode } from '../../src/plan/types.js';
import { openMemoryState } from '../helpers/memory-state.js';
import { Activity, randomActivityOptions, type Scenario } from './activity.js';
import { completeInput, relevantInput } from './inputs.js';
import { apply, Clock, LocalWorld, RemoteWorld } from './world.js';

/** Replays one planner counterexample verbosely: MODE=… POLICY=… TREES=relevant npx tsx test/plan/debug.ts '<json>' */
const [example] = JSON.parse(process.argv[2] ?? '[]') as Scenario[];
if (!example) throw new Error('pass the counterexample JSON');
const remoteTrash = process.env.TRASH !== 'false';
const clock = new Clock();
const local = new LocalWorld(clock);
const remote = new RemoteWorld(clock);
const activity = new Activity(local, remote);
const state = openMemoryState();
const opts = randomActivityOptions((process.env.MODE ?? 'two-way') as SyncMode, (process.env.POLICY ?? 'keep-both') as ConflictPolicy, remoteTrash);
const show = (): void => {
  console.log('  local ', [...local.entries].map(([p, e]) => `${e.kind}:${p}=${e.content}#${e.inode}`).join(' '));
  console.log('  remote', [...remote.byId.values()].map((e) => `${e.kind}:${e.path}=${e.content}#${e.id}`).join(' '));
};
for (const o of example.initial) activity.run(o);
for (const [n, round] of [[], ...example.rounds, []].entries()) {
  for (const o of round) {
    activity.run(o);
    console.log('op', JSON.stringify(o));
  }
  show();
  const p = plan((process.env.TREES === 'relevant' ? relevantInput : completeInput)(state, local, remote), opts);
  console.log(`== sync ${n}`);
  for (const a of p.actions) console.log('  ', JSON.stringify({ ...a, row: undefined }));
  if (p.skipped.length) console.log('  skipped', JSON.stringify(p.skipped));
  const r = await apply(p.actions, local, remote, state.tree, { remoteTrash });
  for (const f of r.failed) console.log('  FAILED', f.action.id, f.error);
  show();
  console.log('  synced', state.tree.load().map((s) => `${s.id}:${s.kind}:${s.localPath}|${s.remotePath}:${s.remote?.id ?? '?'}`).join(' '));
}
