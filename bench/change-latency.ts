import { lstat, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { cliPath, mb, seconds, spawnNode, type Measured } from './measure.js';
import { RawClient } from './raw-client.js';
import { type BenchContext, type BenchResult, type Benchmark } from './report.js';
import { expectExit, syncOnce, Workdir, writeClientConfig, type ClientSetup } from './scene.js';
import { startStandinProcess, type StandinProcess } from './standin-process.js';

/**
 * Issue #6, benchmark 5: how long a change takes to reach the other side while the daemon
 * (`cloudreve-sync sync` without --once) runs. Until the daemon lands, `sync` without --once
 * answers exit code 2 and this benchmark reports itself skipped.
 */

const debounceMs = 500;
const remoteIntervalMs = 2000;
const targets = 10; // files edited in turn on each side

/** Daemon settings to try, most specific first; a config the daemon refuses falls to the next. */
const daemonConfigs: readonly Record<string, unknown>[] = [
  { remoteInterval: `${remoteIntervalMs / 1000}s`, debounce: `${debounceMs}ms`, status: { listen: 'off' } },
  { remoteInterval: `${remoteIntervalMs / 1000}s`, debounce: `${debounceMs}ms` },
];

export const skippedWithoutDaemon = 'needs the daemon (`cloudreve-sync sync` without --once)';

export const changeLatency: Benchmark = {
  id: 5,
  name: 'change-latency',
  run: async (context: BenchContext): Promise<BenchResult> => {
    const edits = context.quick ? 4 : 50;
    const title = 'Change latency (daemon)';
    const scale = `${edits} edits each way, debounce ${debounceMs} ms, remote walk every ${remoteIntervalMs / 1000} s`;
    const work = await Workdir.create('latency');
    const standin = await startStandinProcess();
    const client = new RawClient(standin.url, 2);
    let daemon: Measured | undefined;
    try {
      const setup = await writeClientConfig(work, 'client', standin, '/latency');
      const dir = join(setup.local, 'latency');
      await mkdir(dir);
      for (let k = 0; k < targets; k++) {
        await writeFile(join(dir, `local-${k}.txt`), 'x'.repeat(100));
        await writeFile(join(dir, `remote-${k}.txt`), 'y'.repeat(100));
      }
      expectExit(await syncOnce(setup), 0, 'first sync');

      context.log('is there a daemon?');
      if (!(await daemonAnswers(setup))) return { id: 5, title, scale, rows: [], notes: [], skipped: skippedWithoutDaemon };

      daemon = await startDaemon(work, standin, setup, context);
      await client.login(standin.email, standin.password);
      const remoteIds = new Map<string, string>();
      for (const object of (await client.list('/latency/latency')).objects) remoteIds.set(object.name, object.id);

      const sizeOnServer = async (name: string): Promise<number | undefined> =>
        (await client.list('/latency/latency')).objects.find((o) => o.name === name && o.type === 'file')?.size;
      const sizeLocally = async (name: string): Promise<number | undefined> =>
        lstat(join(dir, name)).then(
          (s) => s.size,
          () => undefined,
        );

      // Warm-up: one edit each way, so that the daemon's first full pass is behind us.
      context.log('warm-up edits');
      await writeFile(join(dir, 'local-0.txt'), 'w'.repeat(150));
      await waitFor(() => sizeOnServer('local-0.txt'), 150, 60_000, 5);

      context.log(`${edits} local edits`);
      const localLatencies: number[] = [];
      let localMissed = 0;
      for (let i = 0; i < edits; i++) {
        const name = `local-${i % targets}.txt`;
        const size = 1000 + i;
        const started = performance.now();
        await writeFile(join(dir, name), 'l'.repeat(size));
        const matched = await waitFor(() => sizeOnServer(name), size, debounceMs + 30_000, 10);
        if (matched) localLatencies.push(performance.now() - started);
        else localMissed++;
        await pause(100 + Math.random() * 500);
      }

      context.log(`${edits} server edits`);
      const remoteLatencies: number[] = [];
      let remoteMissed = 0;
      for (let i = 0; i < edits; i++) {
        const name = `remote-${i % targets}.txt`;
        const id = remoteIds.get(name);
        if (id === undefined) throw new Error(`${name} is not on the server`);
        const size = 2000 + i;
        await client.update(id, Buffer.alloc(size, 'r'));
        const started = performance.now();
        const matched = await waitFor(() => sizeLocally(name), size, 3 * remoteIntervalMs + 30_000, 5);
        if (matched) remoteLatencies.push(performance.now() - started);
        else remoteMissed++;
        // A random phase against the walk interval.
        await pause(100 + Math.random() * remoteIntervalMs);
      }

      const peak = daemon.peakRssKb();
      const lp50 = percentile(localLatencies, 50);
      const rp50 = percentile(remoteLatencies, 50);
      return {
        id: 5,
        title,
        scale,
        rows: [
          { figure: 'local -> server p50', value: ms(lp50), goal: `<= debounce + 1 s (${seconds(debounceMs + 1000)})`, pass: localMissed === 0 && lp50 <= debounceMs + 1000 },
          { figure: 'local -> server p95', value: ms(percentile(localLatencies, 95)) },
          { figure: 'server -> local p50', value: ms(rp50), goal: `<= walk interval (${seconds(remoteIntervalMs)})`, pass: remoteMissed === 0 && rp50 <= remoteIntervalMs },
          { figure: 'server -> local p95', value: ms(percentile(remoteLatencies, 95)) },
          { figure: 'daemon peak RSS', value: mb(peak) },
        ],
        notes: [
          `edits that never arrived: ${localMissed} local, ${remoteMissed} server; latency runs from the write (local) or the end of the server-side update to the other side showing the new size`,
          'settleTime is 0 in the benchmark config; with the default of 1 s a local edit waits up to 1 s more',
        ],
      };
    } finally {
      client.close();
      if (daemon) await stopDaemon(daemon);
      await standin.stop();
      await work.remove();
    }
  },
};

/** Whether `sync` without --once keeps running (a daemon) rather than refusing with exit code 2. */
async function daemonAnswers(setup: ClientSetup): Promise<boolean> {
  const probe = spawnNode(cliPath, ['--config', setup.configPath, 'sync']);
  const exited = await Promise.race([probe.done.then((r) => r.code), pause(8000).then(() => 'running' as const)]);
  if (exited === 'running') {
    await stopDaemon(probe);
    return true;
  }
  if (exited === 2) return false;
  throw new Error(`\`sync\` without --once exited ${String(exited)}: ${probe.stderr().slice(-2000)}`);
}

async function startDaemon(work: Workdir, standin: StandinProcess, setup: ClientSetup, context: BenchContext): Promise<Measured> {
  const refusals: string[] = [];
  for (const [index, daemon] of daemonConfigs.entries()) {
    const configPath = work.path(`daemon-${index}.yaml`);
    await writeFile(
      configPath,
      stringify({
        server: { url: standin.url, username: standin.email, password: standin.password },
        stateDir: setup.stateDir,
        log: { level: 'warn', format: 'json' },
        sync: { settleTime: 0 },
        daemon,
        folders: [{ name: 'bench', local: setup.local, remote: '/latency' }],
      }),
    );
    const started = spawnNode(cliPath, ['--config', configPath, 'sync']);
    const exited = await Promise.race([started.done.then((r) => r.code), pause(3000).then(() => 'running' as const)]);
    if (exited === 'running') {
      context.log(`daemon running with ${JSON.stringify(daemon)}`);
      return started;
    }
    refusals.push(`${JSON.stringify(daemon)}: exit ${String(exited)}: ${started.stderr().trim().slice(-500)}`);
  }
  throw new Error(`the daemon refused every benchmark config:\n${refusals.join('\n')}`);
}

async function stopDaemon(daemon: Measured): Promise<void> {
  daemon.kill('SIGTERM');
  const timer = setTimeout(() => daemon.kill('SIGKILL'), 15_000);
  await daemon.done.catch(() => undefined);
  clearTimeout(timer);
}

async function waitFor(read: () => Promise<number | undefined>, expected: number, timeoutMs: number, everyMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if ((await read()) === expected) return true;
    await pause(everyMs);
  }
  return false;
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

function ms(value: number): string {
  return Number.isNaN(value) ? 'n/a' : `${Math.round(value)} ms`;
}
