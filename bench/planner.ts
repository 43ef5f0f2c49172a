import { fileURLToPath } from 'node:url';
import { mb, seconds, spawnNode } from './measure.js';
import { count, type BenchContext, type BenchResult, type Benchmark } from './report.js';
import { Workdir } from './scene.js';

/** Issue #6, benchmark 6: a pass's comparison and planning, with no I/O besides SQLite. */

const child = fileURLToPath(new URL('./planner-child.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('..', import.meta.url));

interface ChildReport {
  readonly entries: number;
  readonly localNodes: number;
  readonly remoteNodes: number;
  readonly planned: { local: number; remote: number; synced: number };
  readonly changed: number;
  readonly changes: Record<string, number>;
  readonly actions: number;
  readonly byType: Record<string, number>;
  readonly stopped?: string;
  readonly baseline: { rssMiB: number; heapMiB: number };
  readonly phases: Record<string, { ms: number; rssMiB: number; heapMiB: number }>;
}

export const plannerBench: Benchmark = {
  id: 6,
  name: 'planner',
  run: async (context: BenchContext): Promise<BenchResult> => {
    const entries = context.quick ? 100_000 : 1_000_000;
    const work = await Workdir.create('planner');
    try {
      context.log(`${count(entries)} entries: writing the Synced tree (child process)`);
      const written = await spawnNode(child, ['write', String(entries), work.path('state')], { nodeArgs: ['--import', 'tsx'], cwd: repoRoot }).done;
      if (written.code !== 0) throw new Error(`writing the Synced tree failed: ${written.stderr.slice(-3000)}`);
      context.log(`${count(entries)} entries: snapshots, load + plan (another child process)`);
      // Ten minutes at most; a planner that needs longer is a finding, not a hang.
      const measured = spawnNode(child, ['plan', String(entries), work.path('state')], { nodeArgs: ['--import', 'tsx'], cwd: repoRoot });
      const timer = setTimeout(() => measured.kill('SIGKILL'), 10 * 60_000);
      const run = await measured.done;
      clearTimeout(timer);
      if (run.code !== 0) {
        throw new Error(`the planner child ended with ${String(run.code ?? run.signal)} after ${seconds(run.wallMs)} (peak RSS ${mb(run.peakRssKb)}): ${run.stderr.slice(-3000)}`);
      }
      const writePhase = (JSON.parse(written.stdout.trim().split('\n').pop() ?? '{}') as Pick<ChildReport, 'phases'>).phases['write synced rows'];
      const report = JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as ChildReport;
      const scan = report.phases['scan into SQLite'];
      const compare = report.phases['compare in SQLite'];
      const planned = report.phases.plan;
      if (!scan || !compare || !planned) throw new Error(`the planner child reported no phases: ${run.stdout}`);
      const timed = scan.ms + compare.ms + planned.ms;
      const limitMs = 10_000;
      const limitKb = 300 * 1024;
      const phaseNote = Object.entries(report.phases)
        .map(([name, p]) => `${name} ${seconds(p.ms)} (RSS ${p.rssMiB} MiB, heap ${p.heapMiB} MiB after)`)
        .join('; ');
      return {
        id: 6,
        title: 'Planner and database',
        scale: `${count(report.entries)} Synced entries, 1% changed`,
        rows: [
          { figure: 'scans into SQLite + compare + plan', value: seconds(timed), goal: '< 10 s', pass: timed < limitMs },
          { figure: 'of which storing both scans', value: seconds(scan.ms) },
          { figure: 'of which comparing with Synced in SQLite', value: seconds(compare.ms) },
          { figure: 'of which plan()', value: seconds(planned.ms) },
          { figure: 'peak RSS (whole process)', value: mb(run.peakRssKb), goal: '< 300 MiB', pass: run.peakRssKb < limitKb },
        ],
        notes: [
          `changes: ${Object.entries(report.changes).map(([k, v]) => `${count(v)} ${k}`).join(', ')}; actions planned: ${count(report.actions)} (${Object.entries(report.byType).map(([k, v]) => `${count(v)} ${k}`).join(', ')})${report.stopped === undefined ? '' : `; STOPPED: ${report.stopped}`}`,
          `phases: ${phaseNote}; the process started at ${report.baseline.rssMiB} MiB RSS (Node + tsx loader + modules)`,
          `planned over the ${count(report.changed)} paths that changed or are tied to one: ${count(report.planned.local)} local, ${count(report.planned.remote)} server and ${count(report.planned.synced)} Synced entries of ${count(report.localNodes)} / ${count(report.remoteNodes)} / ${count(report.entries)}`,
          `writing the ${count(report.entries)} rows beforehand (one transaction, SyncedTree.put per row) took ${writePhase ? seconds(writePhase.ms) : 'n/a'} in a process of its own`,
        ],
      };
    } finally {
      await work.remove();
    }
  },
};
