/**
 * `npm run bench`: the benchmarks of issue #6 against the stand-in, each against a floor
 * measured in the same run. `--quick` runs small sizes (a smoke run; timings are not asserted),
 * `--only 1,3` picks benchmarks. A complete full run also writes the markdown table to
 * bench/results.md.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { changeLatency } from './change-latency.js';
import { folderRename } from './folder-rename.js';
import { initialUpload } from './initial-upload.js';
import { largeFile } from './large-file.js';
import { cliPath, seconds } from './measure.js';
import { noopCycle } from './noop-cycle.js';
import { plannerBench } from './planner.js';
import { markdownTable, textTable, type BenchResult, type Benchmark } from './report.js';

const benchmarks: readonly Benchmark[] = [initialUpload, largeFile, noopCycle, folderRename, changeLatency, plannerBench];

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    'cpu-prof': { type: 'string' },
    'node-args': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});

if (values.help) {
  console.log(
    [
      'usage: npm run bench [-- --quick] [-- --only 1,3]',
      '',
      ...benchmarks.map((b) => `  ${b.id}  ${b.name}`),
      '',
      '--quick   small sizes, a smoke run of about a minute (timings are not judged)',
      '--only    comma-separated benchmark numbers or names',
      '--cpu-prof DIR   write a V8 CPU profile of every client run into DIR',
      '                 (summarize one with: npx tsx bench/profile-summary.ts FILE)',
      '--node-args=ARGS extra node options for every client run, for A/B runs of V8 settings',
    ].join('\n'),
  );
  process.exit(0);
}

if (values['cpu-prof'] !== undefined) {
  const dir = resolve(values['cpu-prof']);
  await mkdir(dir, { recursive: true });
  process.env.BENCH_CPU_PROF = dir;
}

if (values['node-args'] !== undefined) process.env.BENCH_NODE_ARGS = values['node-args'];

const selected = values.only === undefined ? benchmarks : pick(values.only);
const quick = values.quick;

if (!existsSync(cliPath)) {
  console.error(`${cliPath} is missing: run "npm run build" first`);
  process.exit(2);
}

const started = performance.now();
const loadBefore = loadavg()[0] ?? 0;
const results: BenchResult[] = [];
let failed = false;
for (const bench of selected) {
  const log = (message: string): void => {
    console.error(`[${bench.id} ${bench.name}] ${message}`);
  };
  const t0 = performance.now();
  log(quick ? 'starting (quick)' : 'starting');
  try {
    const result = await bench.run({ quick, log });
    results.push(result);
    console.log(textTable(quick ? unjudged(result) : result));
  } catch (error) {
    failed = true;
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    console.error(`[${bench.id} ${bench.name}] FAILED: ${message}`);
    results.push({ id: bench.id, title: bench.name, scale: quick ? 'quick' : 'full', rows: [], notes: [], skipped: `failed: ${firstLine(message)}` });
  }
  log(`done in ${seconds(performance.now() - t0)}`);
}

const machine = machineLine();
const markdown = markdownTable(quick ? results.map(unjudged) : results, machine);
console.log(markdown);
// Only a complete full run replaces the table of record.
if (!quick && values.only === undefined) {
  const target = new URL('./results.md', import.meta.url);
  await writeFile(target, `# Benchmark results\n\n${markdown}`);
  console.error(`written to bench/results.md`);
}
console.error(`all done in ${seconds(performance.now() - started)}`);
process.exitCode = failed ? 1 : 0;

function pick(only: string): Benchmark[] {
  const wanted = only.split(',').map((s) => s.trim()).filter((s) => s !== '');
  return wanted.map((w) => {
    const bench = benchmarks.find((b) => String(b.id) === w || b.name === w);
    if (!bench) {
      console.error(`no benchmark "${w}"; there are: ${benchmarks.map((b) => `${b.id} ${b.name}`).join(', ')}`);
      process.exit(2);
    }
    return bench;
  });
}

/** A quick run's sizes are too small for the goals to mean anything. */
function unjudged(result: BenchResult): BenchResult {
  return { ...result, rows: result.rows.map(({ pass: _pass, ...row }) => row) };
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}

function machineLine(): string {
  const cpu = cpus();
  const model = cpu[0]?.model.trim() ?? 'unknown CPU';
  const date = new Date().toISOString().slice(0, 10);
  const commit = gitCommit();
  const load = `load average ${loadBefore.toFixed(1)} before, ${(loadavg()[0] ?? 0).toFixed(1)} after`;
  return `${date}, ${model}, ${cpu.length} cores, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB RAM, Node ${process.version}, ${process.platform}, ${load}${commit === undefined ? '' : `, commit ${commit}`}${process.env.BENCH_NODE_ARGS ? `, client node options \`${process.env.BENCH_NODE_ARGS}\`` : ''}${quick ? ' (quick run: small sizes, goals not judged)' : ''}`;
}

/** The commit measured, with "+changes" when the work tree differs; undefined outside git. */
function gitCommit(): string | undefined {
  try {
    const cwd = new URL('..', import.meta.url);
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
    return dirty ? `${head}+changes in src/` : head;
  } catch {
    return undefined;
  }
}
