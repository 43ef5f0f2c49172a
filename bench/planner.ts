import { cp } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { mb, seconds, spawnNode, type RunResult } from './measure.js';
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
      // Each run on a copy: a run that finds folders as remembered leaves their digests behind.
      await cp(work.path('state'), work.path('state-entries'), { recursive: true });
      const byFolder = await planIn(work.path('state'), entries, 'folders', context);
      const byEntry = await planIn(work.path('state-entries'), entries, 'entries', context);
      const { report, phases, timedMs, run } = byFolder;
      const writePhase = (JSON.parse(written.stdout.trim().split('\n').pop() ?? '{}') as Pick<ChildReport, 'phases'>).phases['write synced rows'];
      const limitMs = 10_000;
      const limitKb = 300 * 1024;
      const phaseNote = (measured: Measured): string =>
        Object.entries(measured.report.phases)
          .map(([name, p]) => `${name} ${seconds(p.ms)} (RSS ${p.rssMiB} MiB, heap ${p.heapMiB} MiB after)`)
          .join('; ');
      return {
        id: 6,
        title: 'Planner and database',
        scale: `${count(report.entries)} Synced entries, 1% changed`,
        rows: [
          { figure: 'scans into SQLite + compare + plan', value: seconds(timedMs), goal: '< 10 s', pass: timedMs < limitMs },
          { figure: 'of which taking in both scans', value: seconds(phases.scan.ms) },
          { figure: 'of which comparing with Synced in SQLite', value: seconds(phases.compare.ms) },
          { figure: 'of which plan()', value: seconds(phases.plan.ms) },
          { figure: 'peak RSS (whole process)', value: mb(run.peakRssKb), goal: '< 300 MiB', pass: run.peakRssKb < limitKb },
          { figure: 'the same, scans handed over entry by entry', value: seconds(byEntry.timedMs) },
          { figure: 'of which storing both scans', value: seconds(byEntry.phases.scan.ms) },
          { figure: 'of which comparing with Synced in SQLite', value: seconds(byEntry.phases.compare.ms) },
          { figure: 'peak RSS, entry by entry', value: mb(byEntry.run.peakRssKb), goal: '< 300 MiB', pass: byEntry.run.peakRssKb < limitKb },
        ],
        notes: [
          `changes: ${Object.entries(report.changes).map(([k, v]) => `${count(v)} ${k}`).join(', ')}; actions planned: ${count(report.actions)} (${Object.entries(report.byType).map(([k, v]) => `${count(v)} ${k}`).join(', ')})${report.stopped === undefined ? '' : `; STOPPED: ${report.stopped}`}`,
          `the scans are handed to the pass's tables one folder's listing at a time, as the scanners do (each folder is compared with its Synced rows as it comes, and only what differs is stored); entry by entry is how a scan of single paths hands them over, every entry stored and compared in SQLite (the same plan: ${count(byEntry.report.actions)} actions)`,
          `phases: ${phaseNote(byFolder)}; entry by entry: ${phaseNote(byEntry)}; the process started at ${report.baseline.rssMiB} MiB RSS (Node + tsx loader + modules)`,
          `planned over the ${count(report.changed)} paths that changed or are tied to one: ${count(report.planned.local)} local, ${count(report.planned.remote)} server and ${count(report.planned.synced)} Synced entries of ${count(report.localNodes)} / ${count(report.remoteNodes)} / ${count(report.entries)}`,
          `writing the ${count(report.entries)} rows beforehand (one transaction, SyncedTree.put per row) took ${writePhase ? seconds(writePhase.ms) : 'n/a'} in a process of its own`,
        ],
      };
    } finally {
      await work.remove();
    }
  },
};

interface Measured {
  readonly report: ChildReport;
  readonly phases: Record<'scan' | 'compare' | 'plan', { ms: number }>;
  readonly timedMs: number;
  readonly run: RunResult;
}

/** One `plan` child over the Synced tree in `stateDir`, its scans handed over as `handover` says. */
async function planIn(stateDir: string, entries: number, handover: 'folders' | 'entries', context: BenchContext): Promise<Measured> {
  context.log(`${count(entries)} entries: scans by ${handover === 'folders' ? 'folder' : 'entry'}, compare + plan (another child process)`);
  // Ten minutes at most; a planner that needs longer is a finding, not a hang.
  const measured = spawnNode(child, ['plan', String(entries), stateDir, handover], { nodeArgs: ['--import', 'tsx'], cwd: repoRoot });
  const timer = setTimeout(() => measured.kill('SIGKILL'), 10 * 60_000);
  const run = await measured.done;
  clearTimeout(timer);
  if (run.code !== 0) {
    throw new Error(`the planner child ended with ${String(run.code ?? run.signal)} after ${seconds(run.wallMs)} (peak RSS ${mb(run.peakRssKb)}): ${run.stderr.slice(-3000)}`);
  }
  const report = JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as ChildReport;
  const scan = report.phases['scan into SQLite'];
  const compare = report.phases['compare in SQLite'];
  const plan = report.phases.plan;
  if (!scan || !compare || !plan) throw new Error(`the planner child reported no phases: ${run.stdout}`);
  return { report, phases: { scan, compare, plan }, timedMs: scan.ms + compare.ms + plan.ms, run };
}
