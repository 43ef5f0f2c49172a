import { lstatSync, readdirSync } from 'node:fs';
import { setImmediate } from 'node:timers/promises';
import { join } from 'node:path';
import { mb, seconds, type RunResult } from './measure.js';
import { RawClient } from './raw-client.js';
import { count, ratio, roundsOf, type BenchContext, type BenchResult, type Benchmark, type Row } from './report.js';
import { seedSyncedTree } from './seed.js';
import { expectExit, makeTree, syncOnce, Workdir, writeClientConfig } from './scene.js';
import { startStandinProcess, summarizeCounts } from './standin-process.js';
import { sliceMs } from '../src/scan/stat-pace.js';

/** Issue #6, benchmark 3: a sync pass over a large tree in which nothing changed. */

const filesPerFolder = 50;
const concurrency = 4; // the client's default sync.concurrency, which is also its listing concurrency
/**
 * V8 sizes its old generation to a quarter of the machine's RAM, and lets garbage pile up in
 * proportion before a full collection. A NAS with 2 GiB gets 512 MB, this flag's value.
 */
const nasHeap = '--max-old-space-size=512';

interface Cycle {
  readonly files: number;
  readonly remoteFolders: number;
  readonly run: RunResult;
  /** The same cycle with the old generation V8 gives a machine with 2 GiB of RAM. */
  readonly smallHeap: RunResult;
  readonly requests: number;
  readonly listings: number;
  readonly writes: number;
  readonly floorMs: number;
}

export const noopCycle: Benchmark = {
  id: 3,
  name: 'noop-cycle',
  run: async (context: BenchContext): Promise<BenchResult> => {
    const sizes = context.quick ? [0, 1_000, 3_000] : [0, 100_000, 300_000];
    const cycles: Cycle[] = [];
    for (const files of sizes) cycles.push(await cycleAt(files, context));
    const [empty, main, large] = cycles as [Cycle, Cycle, Cycle];

    const growth = (c: Cycle, pick: (r: RunResult) => number): number => (pick(c.run) - pick(empty.run)) / c.files;
    const peak = (r: RunResult): number => r.peakRssKb;
    const smallHeapGrowth = (c: Cycle): number => (c.smallHeap.peakRssKb - empty.smallHeap.peakRssKb) / c.files;
    const final = (r: RunResult): number => r.finalRssKb;
    const timeRatio = main.run.wallMs / main.floorMs;
    const rows: Row[] = [
      {
        figure: `wall time, ${count(main.files)} files`,
        value: seconds(main.run.wallMs),
        floor: seconds(main.floorMs),
        ratio: ratio(main.run.wallMs, main.floorMs),
        goal: '<= 1.5x floor',
        pass: timeRatio <= 1.5,
      },
      {
        figure: `requests, ${count(main.files)} files`,
        value: count(main.requests),
        floor: `${count(main.remoteFolders)} folders`,
        ratio: ratio(main.requests, main.remoteFolders),
        goal: '= remote folders',
        pass: main.requests === main.remoteFolders,
      },
      { figure: `peak RSS, empty tree`, value: mb(empty.run.peakRssKb) },
      { figure: `peak RSS, ${count(main.files)} files`, value: mb(main.run.peakRssKb) },
      {
        figure: `peak RSS growth per file, ${count(main.files)}`,
        value: `${growth(main, peak).toFixed(2)} KiB`,
        goal: '<= 0.3 KiB',
        pass: growth(main, peak) <= 0.3,
      },
      { figure: `RSS at exit growth per file, ${count(main.files)}`, value: `${growth(main, final).toFixed(2)} KiB` },
      { figure: `peak RSS growth per file, ${count(main.files)}, heap of a 2 GiB machine`, value: `${smallHeapGrowth(main).toFixed(2)} KiB` },
      {
        figure: `wall time, ${count(large.files)} files`,
        value: seconds(large.run.wallMs),
        floor: seconds(large.floorMs),
        ratio: ratio(large.run.wallMs, large.floorMs),
      },
      { figure: `requests, ${count(large.files)} files`, value: count(large.requests), floor: `${count(large.remoteFolders)} folders` },
      { figure: `peak RSS, ${count(large.files)} files`, value: mb(large.run.peakRssKb) },
      {
        figure: `peak RSS growth per file, ${count(large.files)}`,
        value: `${growth(large, peak).toFixed(2)} KiB`,
        goal: '<= 0.3 KiB (linear)',
        pass: growth(large, peak) <= 0.3,
      },
      { figure: `peak RSS growth per file, ${count(large.files)}, heap of a 2 GiB machine`, value: `${smallHeapGrowth(large).toFixed(2)} KiB` },
    ];
    const cpu = (c: Cycle): string => (c.run.cpuMs === undefined ? 'n/a' : seconds(c.run.cpuMs));
    return {
      id: 3,
      title: 'No-op cycle',
      scale: `${count(main.files)} and ${count(large.files)} tracked files, ${filesPerFolder} per folder`,
      rows,
      notes: [
        `CPU time of the client: ${cycles.map((c) => `${cpu(c)} at ${count(c.files)}`).join(', ')}; wall: ${cycles.map((c) => `${seconds(c.run.wallMs)} at ${count(c.files)}`).join(', ')}`,
        `write requests in the measured cycles: ${cycles.map((c) => c.writes).join(', ')}; listings: ${cycles.map((c) => count(c.listings)).join(', ')}`,
        `with \`${nasHeap}\`, the old generation V8 gives a machine with 2 GiB of RAM (a quarter of it; this one has more), peak RSS is ${cycles.map((c) => `${mb(c.smallHeap.peakRssKb)} at ${count(c.files)}`).join(', ')}, in ${cycles.map((c) => seconds(c.smallHeap.wallMs)).join(', ')}`,
        `each tree is seeded to its synced state with the raw client and the client's state module, then one warm-up \`sync --once\` (it logs in and stores the session) runs before the measured ones (best of ${roundsOf(context)}, alternating with the floor); the floor is an lstat walk of the tree in parallel with one listing per server folder, in the benchmark process`,
      ],
    };
  },
};

async function cycleAt(files: number, context: BenchContext): Promise<Cycle> {
  const folders = files / filesPerFolder;
  const work = await Workdir.create('noop');
  const standin = await startStandinProcess();
  try {
    const setup = await writeClientConfig(work, 'client', standin, '/noop');
    context.log(`${count(files)} files: writing the tree`);
    const dirs = folders > 0 ? await makeTree(setup.local, folders, filesPerFolder, 0) : [];
    const paths = dirs.flatMap((dir) => Array.from({ length: filesPerFolder }, (_, i) => `${dir}/f${String(i).padStart(4, '0')}.bin`));
    context.log(`${count(files)} files: seeding the server and the Synced tree`);
    await seedSyncedTree({ standin, local: setup.local, stateDir: setup.stateDir, remote: '/noop', dirs, files: paths, folderName: 'bench' });

    context.log(`${count(files)} files: warm-up cycle`);
    await standin.resetCounts();
    const warm = await syncOnce(setup);
    expectExit(warm, 0, 'warm-up no-op cycle');
    const warmCounts = summarizeCounts(await standin.counts());
    if (warmCounts.writes > 0) throw new Error(`the warm-up cycle made ${warmCounts.writes} write requests; the seeded tree is not in sync: ${warm.stdout}`);

    let floorMs = Number.POSITIVE_INFINITY;
    let best: { run: RunResult; counts: ReturnType<typeof summarizeCounts> } | undefined;
    for (let round = 0; round < roundsOf(context); round++) {
      context.log(`${count(files)} files: floor`);
      floorMs = Math.min(floorMs, await floor(standin.url, standin.email, standin.password, setup.local, '/noop'));
      context.log(`${count(files)} files: measured cycle`);
      await standin.resetCounts();
      const run = await syncOnce(setup);
      expectExit(run, 0, 'no-op cycle');
      const counts = summarizeCounts(await standin.counts());
      if (best === undefined || run.wallMs < best.run.wallMs) best = { run, counts };
    }
    const { run, counts } = best ?? { run: warm, counts: warmCounts };
    context.log(`${count(files)} files: cycle with the heap of a 2 GiB machine`);
    const smallHeap = await syncOnce(setup, [], [nasHeap]);
    expectExit(smallHeap, 0, 'no-op cycle with a small heap');
    const remoteFolders = new Set(dirs.flatMap((d) => d.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/')))).size + 1;
    return { files, remoteFolders, run, smallHeap, requests: counts.total, listings: counts.listings, writes: counts.writes, floorMs };
  } finally {
    await standin.stop();
    await work.remove();
  }
}

/** An lstat walk of the local tree and one listing per server folder, side by side. */
async function floor(url: string, email: string, password: string, local: string, remote: string): Promise<number> {
  const client = new RawClient(url, concurrency);
  await client.login(email, password);
  const started = performance.now();
  // The quickest walk there is on a warm cache: synchronous calls, with a turn for the listings'
  // I/O after any folder that ends a slice of the client scanner's length, as it gives one between entries.
  const walk = async (): Promise<void> => {
    const pending = [''];
    let slice = performance.now();
    for (let dir = pending.pop(); dir !== undefined; dir = pending.pop()) {
      for (const entry of readdirSync(join(local, dir), { withFileTypes: true })) {
        const path = dir === '' ? entry.name : `${dir}/${entry.name}`;
        if (lstatSync(join(local, path), { bigint: true }).isDirectory()) pending.push(path);
      }
      if (performance.now() - slice >= sliceMs) {
        await setImmediate();
        slice = performance.now();
      }
    }
  };
  const list = async (): Promise<void> => {
    const queue = [''];
    let active = 0;
    await new Promise<void>((resolve, reject) => {
      const next = (): void => {
        while (active < concurrency && queue.length > 0) {
          const dir = queue.shift() ?? '';
          active++;
          client
            .list(dir === '' ? remote : `${remote}/${dir}`)
            .then((listing) => {
              for (const object of listing.objects) if (object.type === 'dir') queue.push(dir === '' ? object.name : `${dir}/${object.name}`);
              active--;
              if (active === 0 && queue.length === 0) resolve();
              else next();
            })
            .catch(reject);
        }
      };
      next();
    });
  };
  await Promise.all([walk(), list()]);
  const ms = performance.now() - started;
  client.close();
  return ms;
}
