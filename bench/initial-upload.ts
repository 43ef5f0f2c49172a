import { join } from 'node:path';
import { mb, seconds, type RunResult } from './measure.js';
import { pool, RawClient } from './raw-client.js';
import { count, ratio, roundsOf, type BenchContext, type BenchResult, type Benchmark } from './report.js';
import { expectExit, makeTree, syncOnce, walkTree, Workdir, writeClientConfig } from './scene.js';
import { startStandinProcess, summarizeCounts } from './standin-process.js';

/** Issue #6, benchmark 1: the first sync of a folder of many small files. */

const concurrency = 4; // the client's default sync.concurrency

export const initialUpload: Benchmark = {
  id: 1,
  name: 'initial-upload',
  run: async (context: BenchContext): Promise<BenchResult> => {
    const folders = context.quick ? 10 : 100;
    const perFolder = 100;
    const size = 4096;
    const files = folders * perFolder;
    const rounds = roundsOf(context);
    const work = await Workdir.create('upload');
    try {
      const tree = work.path('tree');
      context.log(`writing ${count(files)} files of 4 KiB in ${folders} folders`);
      await makeTree(tree, folders, perFolder, size);

      const floors: { ms: number; requests: number }[] = [];
      const runs: { run: RunResult; counts: ReturnType<typeof summarizeCounts> }[] = [];
      for (let round = 0; round < rounds; round++) {
        // The floor, on a fresh stand-in: walk, one mkdir per folder, then session + chunk per file.
        context.log(`round ${round + 1}: floor (raw HTTP client)`);
        floors.push(await floor(tree));

        // cloudreve-sync, on another fresh stand-in, with a fresh state.
        context.log(`round ${round + 1}: cloudreve-sync sync --once`);
        const standin = await startStandinProcess();
        try {
          const setup = await writeClientConfig(work, `client-${round}`, standin, '/sync', {}, tree);
          await standin.resetCounts();
          const run = await syncOnce(setup);
          expectExit(run, 0, 'initial upload');
          const counts = summarizeCounts(await standin.counts());
          if (counts.uploadSessions !== files) throw new Error(`expected ${files} upload sessions, the stand-in saw ${counts.uploadSessions}`);
          runs.push({ run, counts });
        } finally {
          await standin.stop();
        }
      }

      const best = floors.reduce((a, b) => (b.ms < a.ms ? b : a));
      const { run, counts } = runs.reduce((a, b) => (b.run.wallMs < a.run.wallMs ? b : a));
      const perFile = counts.total / files;
      const timeRatio = run.wallMs / best.ms;
      return {
        id: 1,
        title: 'Initial upload',
        scale: `${count(files)} files of 4 KiB in ${folders} folders`,
        rows: [
          { figure: 'files/s', value: count(files / (run.wallMs / 1000)), floor: count(files / (best.ms / 1000)), ratio: ratio(best.ms, run.wallMs) },
          { figure: 'total time', value: seconds(run.wallMs), floor: seconds(best.ms), ratio: ratio(run.wallMs, best.ms), goal: '<= 1.25x floor', pass: timeRatio <= 1.25 },
          { figure: 'API requests per file', value: perFile.toFixed(3), floor: (best.requests / files).toFixed(3), ratio: ratio(perFile, best.requests / files), goal: '<= 2.1', pass: perFile <= 2.1 },
          { figure: 'peak RSS', value: mb(Math.max(...runs.map((r) => r.run.peakRssKb))) },
          { figure: 'CPU time (client)', value: run.cpuMs === undefined ? 'n/a' : seconds(run.cpuMs) },
        ],
        notes: [
          `best of ${rounds}: ${runs.map((r) => seconds(r.run.wallMs)).join(' / ')} (floor ${floors.map((f) => seconds(f.ms)).join(' / ')}); the client's time is the whole \`sync --once\` process, the floor's from login to the last chunk, walk included`,
          `requests: ${counts.uploadSessions} upload sessions, ${counts.chunks} chunks, ${counts.mkdirs} mkdir, ${counts.listings} listings, ${counts.logins} login, ${counts.total} in all; the floor made ${best.requests}`,
        ],
      };
    } finally {
      await work.remove();
    }
  },
};

async function floor(tree: string): Promise<{ ms: number; requests: number }> {
  const standin = await startStandinProcess();
  const client = new RawClient(standin.url, concurrency);
  try {
    const started = performance.now();
    await client.login(standin.email, standin.password);
    const policy = (await client.list('/')).policy.id;
    const walked = await walkTree(tree);
    await client.mkdir('/floor');
    await pool(walked.dirs, concurrency, (dir) => client.mkdir(`/floor/${dir}`));
    await pool(walked.files, concurrency, async (file) => {
      const slash = file.path.lastIndexOf('/');
      await client.uploadFile(`/floor/${file.path.slice(0, slash)}`, file.path.slice(slash + 1), join(tree, file.path), file.size, file.mtimeMs, policy);
    });
    return { ms: performance.now() - started, requests: client.requests };
  } finally {
    client.close();
    await standin.stop();
  }
}
