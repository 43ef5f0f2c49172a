import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FolderStatus } from '../../src/daemon/runner.js';
import { Activity, Prng } from './activity.js';
import { checkConverged, remoteTrash } from './checks.js';
import { apiRoutes, armFaults, CaseFailure, consumeArmedChunkDrop, disarm } from './random.js';
import { eventually, type DaemonProcess } from '../e2e/harness.js';
import { messageOf } from '../../src/scan/errors.js';
import { racedReplaces } from './replace-race.js';
import { describeTree, readLocalTree, readRemoteTree, Rig, tail } from './rig.js';

/**
 * One randomized case of the daemon, determined by its seed as far as the activity goes: a
 * daemon runs while random user activity comes on both sides, op after op with pauses between
 * them, so that passes, server walks and the watcher's reports of the daemon's own writes
 * interleave with the user's changes. Once the activity ends, the daemon alone must bring both
 * sides level within a few walks (no full pass, no restart: what the watcher or the echo filter
 * misses shows here), and after its stop the four checks hold. Now and then the daemon is
 * stopped (SIGTERM) or killed (SIGKILL) amid the activity and started again, and some rounds
 * inject the stand-in's faults (as the sync --once cases do), which the daemon's retries,
 * backoffs and offline waits must ride out. The pauses are real time, so a replay of the seed
 * repeats the activity, not every interleaving.
 */

export interface DaemonCaseOptions {
  readonly rounds: number;
  readonly onProgress?: (line: string) => void;
}

const remoteIntervalMs = 1000;
/** The daemon has this long after the last change to bring both sides level. */
const settleMs = 20_000;
/**
 * Or this long, after rounds with injected faults: a path that failed waits a minute before it
 * is tried again, two minutes after a second failure.
 */
const faultedSettleMs = 150_000;
/**
 * How long armed faults wait for the daemon to meet them: those on routes it had no call for by
 * then (a copy, say, or an upload after a round of server changes) are cleared.
 */
const faultsMetWithinMs = 10_000;
/**
 * Up to this many requests of a route fail in a row: enough to outlast the client's retries of a
 * request (two more for a listing) and the executor's of an action (one more), so that actions
 * and passes fail and are tried again later, not only requests.
 */
const faultsInARow = 8;

/** What a passing case met that the checks excuse. */
export interface DaemonCaseResult {
  /** Server edits a replace by the daemon may have overwritten unseen (see replace-race.ts). */
  readonly raced: number;
  /** Rounds that injected faults. */
  readonly faulted: number;
  /** What the faults did to the daemon: its log lines of failed requests, actions and passes. */
  readonly failures: { readonly requests: number; readonly actions: number; readonly passes: number };
}

export async function runDaemonCase(seed: number, options: DaemonCaseOptions): Promise<DaemonCaseResult> {
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
  const control = rig.scene.standin.control;
  let faulted = 0;
  const history: string[] = [];
  const note = (line: string): void => {
    history.push(line);
  };
  const activityNotes = (): void => {
    for (const line of activity.log.splice(0)) note(line);
  };
  const start = (): DaemonProcess => rig.scene.daemon('--log-level', 'debug');
  let daemon = start();
  /** What the daemons stopped before this one printed. */
  let earlier = '';
  const fail = (what: string): never => {
    throw new CaseFailure([what, setup, `replay: npm run soak -- --daemon --seed ${seed} --rounds ${options.rounds} --minutes 0.1`, 'what happened (last 80 steps):', ...history.slice(-80).map((line) => `  ${line}`)].join('\n'));
  };
  /** Stops the daemon as systemd would (SIGTERM) or as a crash does (SIGKILL), and starts another. */
  const restart = async (how: 'SIGTERM' | 'SIGKILL'): Promise<void> => {
    activityNotes();
    note(`daemon stopped with ${how}, and started again`);
    daemon.signal(how);
    const exit = await daemon.exited;
    // Until node has run cloudreve-sync's code (it has printed nothing), SIGTERM's default ends it.
    const early = exit.signal === 'SIGTERM' && daemon.output === '';
    if (how === 'SIGTERM' && exit.code !== 0 && !early) fail(`the daemon exited ${exit.code ?? exit.signal} on SIGTERM`);
    earlier += daemon.output;
    daemon = start();
  };
  /** Until the daemon has met every armed fault, or `faultsMetWithinMs` has passed. */
  const untilMet = (): Promise<unknown> => eventually(() => control.pendingFaults() === 0, faultsMetWithinMs, 'faults met').catch(() => undefined);
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
    await eventually(async () => ((await folderStatus())?.lastPass ?? null) !== null, 30_000, 'the first pass').catch(() => fail('the daemon made no first pass'));

    for (let round = 1; round <= options.rounds; round++) {
      note(`-- round ${round}`);
      const ops = 1 + rng.int(6);
      const restartAfter = rng.chance(0.15) ? rng.int(ops) : -1;
      const how = rng.chance(0.5) ? 'SIGTERM' : 'SIGKILL';
      for (let i = 0; i < ops; i++) {
        await (rng.chance(0.5) ? activity.local() : activity.remote());
        if (i === restartAfter) await restart(how);
        await sleep(rng.int(4) === 0 ? 0 : rng.int(debounceMs * 2));
      }
      activityNotes();
      // Armed once the round's ops are done, the faults meet the daemon's passes over them: the
      // other device, which lists every folder before each op, would take most of them otherwise.
      const armed = rng.chance(0.5) ? armFaults(rng, control, apiRoutes, faultsInARow) : undefined;
      if (armed?.description) {
        faulted++;
        note(`faults: ${armed.description}`);
      }
      await Promise.all([sleep(rng.int(1500) + (armed ? 1000 : 0)), armed?.duringRun?.(), armed ? untilMet() : undefined]);
      if (armed?.description && control.pendingFaults() > 0) note(`${control.pendingFaults()} of the faults not met, cleared`);
      disarm(control, apiRoutes);
      options.onProgress?.(`  round ${round}/${options.rounds} done`);
    }

    await consumeArmedChunkDrop(rig);
    const wait = faulted > 0 ? faultedSettleMs : settleMs;
    note('-- activity over: the daemon alone must bring both sides level');
    let last = '';
    await eventually(
      async () => {
        const status = await folderStatus();
        if (status?.phase === 'paused' && status.reason?.includes(' folder is empty but ') === true) {
          // Both sides' changes carried over can empty one (the user removed a folder, the server
          // the last file): the guard stops there, as it must, and the user says go on.
          note(`paused: ${status.reason}; resumed`);
          const resumed = await rig.run(['resume', 'main']);
          if (resumed.code !== 0) throw new Error(`resume exited ${resumed.code ?? resumed.signal}: ${resumed.stdout}${resumed.stderr}`);
          return false;
        }
        if (status?.phase !== 'idle' || status.pendingLocalChanges > 0) return false;
        const local = describeTree(await readLocalTree(rig.local)).join('\n');
        const remote = describeTree(await readRemoteTree(rig.scene, rig.scene.remoteRoot)).join('\n');
        last = `local:\n${local}\nserver:\n${remote}`;
        return local === remote;
      },
      wait,
      'both sides level',
    ).catch((error: unknown) => fail(`the daemon did not bring both sides level within ${wait / 1000} s of the last change (${messageOf(error)}):\n${last}`));
    daemon.signal('SIGTERM');
    const exit = await daemon.exited;
    if (exit.code !== 0) fail(`the daemon exited ${exit.code ?? exit.signal} on SIGTERM`);
    const output = earlier + daemon.output;
    const raced = racedReplaces(activity.remoteReplaces, output);
    if (raced.size > 0) note(`${raced.size} server edit(s) met a replace in the moment after its look, and may be lost to it`);
    const verdict = await checkConverged(rig, { versions: activity.versions, superseded: new Set([...activity.superseded, ...raced]), abandonedUploads: activity.abandonedUploads });
    if (verdict.problems.length > 0) fail(`after the daemon's stop:\n${verdict.problems.join('\n')}`);
    const logged = output.split('\n');
    const count = (msg: string): number => logged.filter((line) => line.includes(`"msg":"${msg}`)).length;
    // Requests that met a fault: the usual answers (not found, exists) are the activity's doing.
    const requests = logged.filter((line) => line.includes('"msg":"cloudreve request"') && /"error":"(?!not-found"|exists")/.test(line)).length;
    const failures = { requests, actions: count('action failed'), passes: count('pass failed') };
    return { raced: raced.size, faulted, failures };
  } catch (error) {
    if (!(error instanceof CaseFailure)) throw error;
    // What `status` says (failing and skipped paths), and every daemon's whole output in a file.
    const status = await rig.run(['status'], { quiet: true });
    const dump = join(tmpdir(), `cloudreve-sync-reliability-daemon-seed-${seed}.log`);
    await writeFile(dump, earlier + daemon.output);
    throw new CaseFailure(`${error.message}\nstatus:\n${status.stdout}\nthe daemon's output, last lines (all of it in ${dump}):\n${tail(daemon.output, 40)}`);
  } finally {
    await rig.close();
  }
}
