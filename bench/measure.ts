import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Runs one child process and measures it alone: wall time, peak RSS (VmHWM) and, when it exits
 * normally, its RSS and CPU time at exit. A tiny preloaded module writes /proc/self/status and
 * process.cpuUsage() to a file in the process's 'exit' event, which is exact; /proc/<pid>/status
 * is also polled while it runs, which covers a process killed by a signal.
 */

/** The built CLI; `CLOUDREVE_SYNC_BENCH_CLI` points the benchmarks at another build. */
export const cliPath = process.env.CLOUDREVE_SYNC_BENCH_CLI ?? fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

const probe =
  'data:text/javascript,' +
  encodeURIComponent(
    'import{readFileSync,writeFileSync}from"node:fs";' +
      'process.on("exit",()=>{const f=process.env.BENCH_PROBE_FILE;if(!f)return;' +
      'try{writeFileSync(f,JSON.stringify({status:readFileSync("/proc/self/status","utf8"),cpu:process.cpuUsage()}))}catch{}});',
  );

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly wallMs: number;
  /** Peak resident set (VmHWM) in KiB. */
  readonly peakRssKb: number;
  /** Resident set at exit in KiB (at the last poll when the process did not exit by itself). */
  readonly finalRssKb: number;
  /** User + system CPU time in ms, when the process exited by itself. */
  readonly cpuMs: number | undefined;
}

export interface Measured {
  readonly pid: number;
  /** Current peak RSS in KiB, from the last poll. */
  peakRssKb(): number;
  /** Current RSS in KiB, read now. */
  rssKb(): number;
  readonly stdout: () => string;
  readonly stderr: () => string;
  kill(signal?: NodeJS.Signals): void;
  readonly done: Promise<RunResult>;
}

let probeCounter = 0;

/** Starts `node <nodeArgs...> <script> <args...>` with the probe preloaded. */
export function spawnNode(script: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; nodeArgs?: readonly string[]; cwd?: string } = {}): Measured {
  const probeFile = join(tmpdir(), `cloudreve-sync-bench-probe-${process.pid}-${++probeCounter}.json`);
  const started = performance.now();
  // Every run of the CLI, the daemon's in #5 included, gets the options given with --node-args.
  const extra = script === cliPath ? (process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []) : [];
  const child = spawn(process.execPath, ['--import', probe, ...extra, ...(options.nodeArgs ?? []), script, ...args], {
    env: { ...process.env, NO_COLOR: '1', ...options.env, BENCH_PROBE_FILE: probeFile },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  const pid = child.pid ?? 0;
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout = keepTail(stdout + text)));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr = keepTail(stderr + text)));
  let peak = 0;
  let last = 0;
  const poll = (): void => {
    const status = readStatus(pid);
    if (status === undefined) return;
    peak = Math.max(peak, status.hwm);
    last = status.rss;
  };
  const timer = setInterval(poll, 20);
  const done = new Promise<RunResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      const wallMs = performance.now() - started;
      clearInterval(timer);
      void (async (): Promise<RunResult> => {
        let cpuMs: number | undefined;
        let finalRss = last;
        try {
          const probed = JSON.parse(await readFile(probeFile, 'utf8')) as { status: string; cpu: { user: number; system: number } };
          const status = parseStatus(probed.status);
          peak = Math.max(peak, status.hwm);
          finalRss = status.rss;
          cpuMs = (probed.cpu.user + probed.cpu.system) / 1000;
        } catch {
          // Killed by a signal: the polled figures are what there is.
        }
        await rm(probeFile, { force: true });
        return { code, signal, stdout, stderr, wallMs, peakRssKb: peak, finalRssKb: finalRss, cpuMs };
      })().then(resolve, reject);
    });
  });
  return {
    pid,
    peakRssKb: () => peak,
    rssKb: () => readStatus(pid)?.rss ?? last,
    stdout: () => stdout,
    stderr: () => stderr,
    kill: (signal = 'SIGTERM') => {
      child.kill(signal);
    },
    done,
  };
}

/**
 * Runs the CLI (`dist/cli/main.js`) to its end. With `BENCH_CPU_PROF=<dir>` in the environment
 * (`npm run bench -- --cpu-prof <dir>`), every CLI run writes a V8 CPU profile into that folder;
 * `BENCH_NODE_ARGS` (`--node-args`) adds node options to every run.
 */
export function runCli(args: readonly string[], options: { env?: NodeJS.ProcessEnv; nodeArgs?: readonly string[] } = {}): Promise<RunResult> {
  const profileDir = process.env.BENCH_CPU_PROF;
  const nodeArgs = [...(options.nodeArgs ?? []), ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [])];
  return spawnNode(cliPath, args, { ...options, nodeArgs }).done;
}

function keepTail(text: string): string {
  return text.length > 200_000 ? text.slice(-100_000) : text;
}

function readStatus(pid: number): { hwm: number; rss: number } | undefined {
  try {
    return parseStatus(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return undefined;
  }
}

function parseStatus(status: string): { hwm: number; rss: number } {
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { hwm: field('VmHWM'), rss: field('VmRSS') };
}

/** Process start-up alone: `node dist/cli/main.js --version`, the fixed cost in every figure. */
export async function cliStartup(): Promise<RunResult> {
  return runCli(['--version']);
}

// ---- formatting ------------------------------------------------------------------------------

export function mb(kb: number): string {
  return `${(kb / 1024).toFixed(1)} MiB`;
}

export function seconds(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${(ms / 1000).toFixed(2)} s`;
}
