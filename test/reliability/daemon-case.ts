import { setTimeout as sleep } from 'node:timers/promises';
import type { FolderStatus } from '../../src/daemon/runner.js';
import { Activity, Prng } from './activity.js';
import { checkConverged, remoteTrash } from './checks.js';
import { CaseFailure } from './random.js';
import { describeTree, readLocalTree, readRemoteTree, Rig, tail } from './rig.js';

/**
 * One randomized case of the daemon, determined by its seed as far as the activity goes: a
 * daemon runs while random user activity comes on both sides, op after op with pauses between
 * them, so that passes, server walks and the watcher's reports of the daemon's own writes
 * interleave with the user's changes. Once the activity ends, the daemon alone must bring both
 * sides level within a few walks (no full pass, no restart: what the watcher or the echo filter
 * misses shows here), and after its stop the four checks hold. The pauses are real time, so a
 * replay of the seed repeats the activity, not every interleaving.
 */

export interface DaemonCaseOptions {
  readonly rounds: number;
  readonly onProgress?: (line: string) => void;
}

const remoteIntervalMs = 1000;
/** The daemon has this long after the last change to bring both sides level. */
const settleMs = 20_000;

export async function runDaemonCase(seed: number, options: DaemonCaseOptions): Promise<void> {
  const rng = new Prng(seed);
  const conflict = rng.pick(['keep-both', 'keep-both', 'newer', 'local', 'remote']) ?? 'keep-both';
  const debounceMs = rng.pick([100, 300, 600]) ?? 300;
  const setup = `seed ${seed} (daemon): conflicts ${conflict}, debounce ${debounceMs} ms`;
  options.onProgress?.(setup);
  const rig = await Rig.start({
    // Random activity deletes a lot at times: the mass-delete guard is tested elsewhere.
    folder: { conflict, trash: { remote: remoteTrash }, massDelete: { maxPercent: 100, minCount: 1, maxCount: 1_000_000 } },
    config: { sync: { settleTime: 0, retries: 1 } },
    // A full pass would cover for what the watcher and the echo filter miss: none in the case.
    daemon: { debounce: `${debounceMs}ms`, remoteInterval: `${remoteIntervalMs}ms`, fullRescanInterval: '1h' },
  });
  const activity = new Activity(rig.scene, rng, seed);
  const history: string[] = [];
  const note = (line: string): void => {
    history.push(line);
  };
  const activityNotes = (): void => {
    for (const line of activity.log.splice(0)) note(line);
  };
  const daemon = rig.scene.daemon('--log-level', 'debug');
  const fail = (what: string): never => {
    const lines = [what, setup, `replay: npm run soak -- --daemon --seed ${seed} --rounds ${options.rounds} --minutes 0.1`, 'what happened (last 80 steps):', ...history.slice(-80).map((line) => `  ${line}`)];
    throw new CaseFailure([...lines, "the daemon's output:", tail(daemon.output, 120)].join('\n'));
  };
  const folderStatus = async (): Promise<FolderStatus | undefined> => {
    try {
      return ((await rig.scene.status('/status')).body as { folders: FolderStatus[] }).folders[0];
    } catch {
      return undefined;
    }
  };

  try {
    await rig.scene.server.mkdir(rig.scene.remoteRoot);
    for (let i = 0; i < 6; i++) await activity.local();
    for (let i = 0; i < 3; i++) await activity.remote();
    activityNotes();
    await waitFor(async () => ((await folderStatus())?.lastPass ?? null) !== null, 30_000, () => fail('the daemon made no first pass'));

    for (let round = 1; round <= options.rounds; round++) {
      note(`-- round ${round}`);
      const ops = 1 + rng.int(6);
      for (let i = 0; i < ops; i++) {
        await (rng.chance(0.5) ? activity.local() : activity.remote());
        await sleep(rng.int(4) === 0 ? 0 : rng.int(debounceMs * 2));
      }
      activityNotes();
      await sleep(rng.int(1500));
      options.onProgress?.(`  round ${round}/${options.rounds} done`);
    }

    note('-- activity over: the daemon alone must bring both sides level');
    let last = '';
    const level = await waitFor(
      async () => {
        const status = await folderStatus();
        if (status?.phase !== 'idle' || status.pendingLocalChanges > 0) return false;
        const local = describeTree(await readLocalTree(rig.local)).join('\n');
        const remote = describeTree(await readRemoteTree(rig.scene, rig.scene.remoteRoot)).join('\n');
        last = `local:\n${local}\nserver:\n${remote}`;
        return local === remote;
      },
      settleMs,
      () => false,
    );
    if (!level) fail(`the daemon did not bring both sides level within ${settleMs / 1000} s of the last change:\n${last}`);
    daemon.signal('SIGTERM');
    const exit = await daemon.exited;
    if (exit.code !== 0) fail(`the daemon exited ${exit.code ?? exit.signal} on SIGTERM`);
    const verdict = await checkConverged(rig, activity);
    if (verdict.problems.length > 0) fail(`after the daemon's stop:\n${verdict.problems.join('\n')}`);
  } finally {
    await rig.close();
  }
}

/** Polls `check` every 200 ms until it holds; `otherwise` gives the answer once `ms` are up. */
async function waitFor<T>(check: () => Promise<boolean>, ms: number, otherwise: () => T): Promise<true | T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(200);
  }
  return otherwise();
}
