import { readdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { bufferSource } from '../../src/remote/sources.js';
import type { PolicyType, StandinControl } from '../standin/index.js';
import { folderMarkerName } from '../../src/sync/folder-marker.js';
import { Activity, Prng } from './activity.js';
import { checkConverged, remoteTrash } from './checks.js';
import { Rig, tail, type RunOptions, type RunResult } from './rig.js';

/**
 * One randomized end-to-end case, fully determined by its seed: the storage policy, chunk size,
 * conflict policy, and round after round of random user activity on both sides, interleaved with
 * syncs that suffer injected faults (and, in crash cases, SIGKILL at a random moment or at one of
 * the executor's crash points). After every crash the CLI is restarted until it converges and
 * the four checks run; after the last round a fault-free sync runs and they run again.
 */

export interface CaseOptions {
  readonly rounds: number;
  /** Kill the CLI at random moments and crash points. */
  readonly crashes: boolean;
  /** Called with progress lines (the soak prints them). */
  readonly onProgress?: (line: string) => void;
}

/** Whether a seed is a crash case: odd seeds are, so one number replays everything. */
export function isCrashSeed(seed: number): boolean {
  return seed % 2 === 1;
}

const executorActions = ['mkdir', 'upload', 'download', 'move', 'delete', 'conflict', 'record', 'forget'];
export const crashPoints: readonly string[] = [
  'download:before-rename',
  'upload:mid-transfer',
  ...executorActions.flatMap((a) => [`${a}:before-record`, `${a}:in-transaction`]),
];

export const apiRoutes = [
  'PUT /api/v3/file/upload',
  'POST /api/v3/file/upload/:sessionId/:index',
  'GET /api/v3/directory/*path',
  'PUT /api/v3/directory',
  'PATCH /api/v3/object',
  'POST /api/v3/object/rename',
  'POST /api/v3/object/copy',
  'DELETE /api/v3/object',
  'PUT /api/v3/file/update/:id',
  'PUT /api/v3/file/download/:id',
  'GET /api/v3/file/download/:sessionId',
];
const storageRoutes: Record<PolicyType, string[]> = {
  local: [],
  remote: ['POST /api/v3/slave/upload/:sessionId', 'GET /__storage/download/:token'],
  onedrive: ['PUT /__storage/onedrive/upload/:token', 'GET /__storage/download/:token'],
  s3: ['PUT /__storage/s3/*key', 'GET /__storage/download/:token'],
};
const faults = ['http502', 'reset', 'code50001', 'lostAnswer', 'clientGone'] as const;

export class CaseFailure extends Error {}

export async function runCase(seed: number, options: CaseOptions): Promise<void> {
  const rng = new Prng(seed);
  const policy = rng.pick<PolicyType>(['local', 'local', 'remote', 'onedrive', 's3']) ?? 'local';
  const chunkSize = rng.pick([512, 1024, 4096]) ?? 1024;
  const conflict = rng.pick(['keep-both', 'keep-both', 'keep-both', 'newer', 'local', 'remote']) ?? 'keep-both';
  const concurrency = 1 + rng.int(4);
  // Small enough in some cases that replacing a file goes through upload-and-swap.
  const replaceMaxSize = rng.pick([100 * 1024 * 1024, 2000]) ?? 2000;
  const setup = `seed ${seed}: ${policy} policy, ${chunkSize} B chunks, conflicts ${conflict}, concurrency ${concurrency}, replaceMaxSize ${replaceMaxSize}${options.crashes ? ', crashes' : ''}`;
  options.onProgress?.(setup);
  const rig = await Rig.start({
    standin: { policy, chunkSize },
    // Random activity deletes a lot at times: the mass-delete guard is tested elsewhere.
    folder: { conflict, trash: { remote: remoteTrash }, massDelete: { maxPercent: 100, minCount: 1, maxCount: 1_000_000 } },
    config: { sync: { settleTime: 0, retries: 1, concurrency, replaceMaxSize } },
  });
  const activity = new Activity(rig.scene, rng, seed);
  const control = rig.scene.standin.control;
  const routes = [...apiRoutes, ...storageRoutes[policy]];
  const history: string[] = [];
  const failure = { message: '' };
  const fail = (what: string): never => {
    failure.message = [`${what}`, `${setup}`, `replay: SEED=${seed} RANDOM_ROUNDS=${options.rounds} npm run test:random`, 'what happened (last 80 steps):', ...history.slice(-80).map((line) => `  ${line}`)].join('\n');
    throw new CaseFailure(failure.message);
  };
  const note = (line: string): void => {
    history.push(line);
  };
  const activityNotes = (): void => {
    for (const line of activity.log.splice(0)) note(line);
  };

  try {
    // A starting point both sides share.
    await rig.scene.server.mkdir(rig.scene.remoteRoot);
    for (let i = 0; i < 6; i++) await activity.local();
    for (let i = 0; i < 3; i++) await activity.remote();
    activityNotes();
    await syncOnce(rig, [0, 1], note, fail);

    for (let round = 1; round <= options.rounds; round++) {
      note(`-- round ${round}`);
      const ops = rng.int(7);
      for (let i = 0; i < ops; i++) await (rng.chance(0.5) ? activity.local() : activity.remote());
      activityNotes();

      const armed = armFaults(rng, control, routes);
      const run: { env?: Record<string, string>; killAfterMs?: number } = {};
      if (options.crashes) {
        const how = rng.int(3);
        if (how === 0) run.killAfterMs = 20 + rng.int(700);
        else if (how === 1) run.env = { CLOUDREVE_SYNC_CRASH_AT: `${rng.pick(crashPoints) ?? ''}@${1 + rng.int(3)}` };
      }
      const concurrent = rng.chance(0.2) ? 1 + rng.int(3) : 0;
      const runOptions: RunOptions = {
        ...run,
        ...(armed.duringRun ? { whileRunning: armed.duringRun } : {}),
      };
      if (concurrent > 0) {
        const before = runOptions.whileRunning;
        const delay = rng.int(400);
        (runOptions as { whileRunning?: () => Promise<void> }).whileRunning = async () => {
          await Promise.all([
            before?.(),
            (async () => {
              await sleep(delay);
              for (let i = 0; i < concurrent; i++) await (rng.chance(0.5) ? activity.local() : activity.remote());
            })(),
          ]);
        };
      }
      note(`sync${armed.description ? ` with ${armed.description}` : ''}${run.killAfterMs !== undefined ? `, killed after ${run.killAfterMs} ms` : ''}${run.env ? `, crash at ${run.env.CLOUDREVE_SYNC_CRASH_AT}` : ''}${concurrent > 0 ? `, ${concurrent} ops while it runs` : ''}`);
      const result = await rig.run(['sync', '--once'], runOptions);
      activityNotes();
      note(`  -> ${result.signal ?? `exit ${result.code}`}: ${firstLine(result.stdout)}`);
      disarm(control, routes);
      if (result.code !== null && ![0, 1, 4].includes(result.code)) fail(`sync exited ${result.code}:\n${result.stdout}\n${tail(result.stderr, 30)}`);

      if (result.signal !== null) {
        // After every crash: restart until it converges, then the four checks.
        await consumeArmedChunkDrop(rig);
        await converge(rig, note, fail);
        const verdict = await checkConverged(rig, activity);
        if (verdict.problems.length > 0) fail(`after a crash (round ${round}):\n${verdict.problems.join('\n')}`);
        note('  checks hold after the crash');
      }
      options.onProgress?.(`  round ${round}/${options.rounds} done`);
    }

    // The final fault-free sync, then the checks.
    await consumeArmedChunkDrop(rig);
    rig.endBackoff();
    note('-- final fault-free sync');
    const final = await rig.run(['sync', '--once', '--json']);
    note(`  -> exit ${final.code ?? final.signal}`);
    if (final.code !== 0 && final.code !== 1) fail(`the final sync exited ${final.code ?? final.signal}:\n${final.stdout}\n${tail(final.stderr, 30)}`);
    const problems = (JSON.parse(final.stdout) as { problems?: unknown[]; skipped?: unknown[] }[]).flatMap((f) => [...(f.problems ?? []), ...(f.skipped ?? [])]);
    if (problems.length > 0) fail(`the final fault-free sync left problems:\n${JSON.stringify(problems, null, 2)}`);
    const verdict = await checkConverged(rig, activity);
    if (verdict.problems.length > 0) fail(`after the final sync:\n${verdict.problems.join('\n')}`);
  } catch (error) {
    // The CLI's own output of every run (trace level) goes to a file for the post-mortem.
    const dump = await rig.dumpRuns(`seed-${seed}`);
    if (error instanceof CaseFailure) throw new CaseFailure(`${failure.message}\nthe CLI's output of every run: ${dump}`);
    throw error;
  } finally {
    await rig.close();
  }
}

async function syncOnce(rig: Rig, codes: number[], note: (line: string) => void, fail: (what: string) => never): Promise<RunResult> {
  const result = await rig.run(['sync', '--once']);
  note(`sync -> exit ${result.code ?? result.signal}: ${firstLine(result.stdout)}`);
  if (result.code === null || !codes.includes(result.code)) fail(`sync exited ${result.code ?? result.signal}:\n${result.stdout}\n${tail(result.stderr, 30)}`);
  return result;
}

/** Restarts the killed CLI until a run exits 0 (failing paths may retry at once, as after their backoff). */
async function converge(rig: Rig, note: (line: string) => void, fail: (what: string) => never): Promise<void> {
  const limit = 6;
  for (let attempt = 1; attempt <= limit; attempt++) {
    rig.endBackoff();
    let result = await rig.run(['sync', '--once']);
    note(`  restart ${attempt} -> exit ${result.code ?? result.signal}: ${firstLine(result.stdout)}`);
    if (result.code === ExitCode.guard && (await emptiedByCrash(rig, result))) {
      // The activity never empties a side, but a pass killed between deleting a side's last
      // entries and restoring one can: the restart's empty-root guard then stops it, as it must,
      // and a user who sees that the folder really is empty confirms with --force.
      result = await rig.run(['sync', '--once', '--force']);
      note(`  forced past the empty-root guard -> exit ${result.code ?? result.signal}: ${firstLine(result.stdout)}`);
    }
    if (result.code === 0) return;
    if (result.code !== 1) fail(`a restart after a crash exited ${result.code ?? result.signal}:\n${result.stdout}\n${tail(result.stderr, 40)}`);
    if (attempt === limit) fail(`no convergence after ${limit} restarts:\n${result.stdout}\n${tail(result.stderr, 40)}`);
  }
}

/** Whether a run was stopped by the empty-root guard, and the side it names really is empty. */
async function emptiedByCrash(rig: Rig, result: RunResult): Promise<boolean> {
  if (result.stdout.includes('the local folder is empty but')) return (await readdir(rig.scene.local)).every((name) => name === folderMarkerName);
  if (result.stdout.includes('the server folder is empty but')) return (await rig.scene.server.list(rig.scene.remoteRoot)).entries.length === 0;
  return false;
}

interface Armed {
  readonly description: string;
  readonly duringRun?: () => Promise<void>;
}

/** `maxCount`: the most requests of one route a fault hits in a row. */
export function armFaults(rng: Prng, control: StandinControl, routes: readonly string[], maxCount = 4): Armed {
  const parts: string[] = [];
  if (rng.chance(0.35)) return { description: '' };
  const n = 1 + rng.int(2);
  for (let i = 0; i < n; i++) {
    const route = rng.pick(routes) ?? routes[0] ?? '';
    const fault = rng.pick(faults) ?? 'http502';
    const count = 1 + rng.int(maxCount);
    control.failNext(route, count, fault);
    parts.push(`${count}x ${fault} on ${route}`);
  }
  if (rng.chance(0.25)) {
    const bytes = rng.int(700);
    control.dropNextChunk(bytes);
    parts.push(`a chunk dropped after ${bytes} B`);
  }
  if (rng.chance(0.2)) {
    control.expireLoginSessions();
    parts.push('login sessions expired');
  }
  if (rng.chance(0.2)) {
    const ms = 5 + rng.int(40);
    control.setLatency(ms);
    parts.push(`${ms} ms latency`);
  }
  let duringRun: (() => Promise<void>) | undefined;
  if (rng.chance(0.25)) {
    const at = rng.int(400);
    const login = rng.chance(0.5);
    parts.push(`upload sessions${login ? ' and logins' : ''} expiring after ${at} ms`);
    duringRun = async () => {
      await sleep(at);
      control.expireUploadSessions();
      if (login) control.expireLoginSessions();
    };
  }
  return { description: parts.join(', '), ...(duringRun ? { duringRun } : {}) };
}

export function disarm(control: StandinControl, routes: readonly string[]): void {
  for (const route of routes) control.failNext(route, 0, 'http502');
  control.setLatency(0);
}

/** A chunk drop nobody triggered would hit the final sync: spend it on an upload of our own. */
export async function consumeArmedChunkDrop(rig: Rig): Promise<void> {
  const scratch = '/scratch';
  await rig.scene.server.upload(scratch, 'drop-catcher.bin', bufferSource(Buffer.alloc(8192, 1), Date.now()));
  const entry = await rig.scene.server.stat(`${scratch}/drop-catcher.bin`, 'file');
  if (entry) await rig.scene.server.delete([entry]);
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}
