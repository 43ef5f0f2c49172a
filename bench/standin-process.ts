import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RequestWindow } from '../test/standin/types.js';

/**
 * The Cloudreve 3.8.3 stand-in in a process of its own (so that its CPU and memory never count
 * as the sync client's), on an ephemeral port, with its storage in a temp dir removed on stop.
 */

const standinMain = fileURLToPath(new URL('../test/standin/main.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('..', import.meta.url));

export interface StandinProcessOptions {
  /** Policy chunk size in bytes; the stand-in's default (25 MiB) when absent. */
  readonly chunkSize?: number;
  /** Quota in bytes. */
  readonly quota?: number;
  /** Where the stand-in's storage dir is made; the system's temp dir by default. */
  readonly storageRoot?: string;
}

export interface StandinProcess {
  readonly url: string;
  readonly email: string;
  readonly password: string;
  readonly pid: number;
  /** Requests per route key since start or the last reset. */
  counts(): Promise<Record<string, number>>;
  /** Per route key, when the stand-in saw the first request arrive and the last one end (ms). */
  windows(): Promise<Record<string, RequestWindow>>;
  /** Clears the counts and the windows. */
  resetCounts(): Promise<void>;
  stop(): Promise<void>;
}

export async function startStandinProcess(options: StandinProcessOptions = {}): Promise<StandinProcess> {
  const storage = await mkdtemp(join(options.storageRoot ?? tmpdir(), 'cloudreve-sync-bench-standin-'));
  const args = ['--import', 'tsx', standinMain, '--port', '0', '--controls', '--storage', storage];
  if (options.chunkSize !== undefined) args.push('--chunk-size', String(options.chunkSize));
  if (options.quota !== undefined) args.push('--quota', String(options.quota));
  const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let errors = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    errors += text;
    if (errors.length > 20_000) errors = errors.slice(-10_000);
  });
  try {
    const banner = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the stand-in did not start within 30 s\n${output}${errors}`)), 30_000);
      child.stdout.setEncoding('utf8').on('data', (text: string) => {
        output += text;
        if (output.includes('Stop with Ctrl+C.')) {
          clearTimeout(timer);
          resolve(output);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the stand-in exited with ${String(code)} before it was ready\n${output}${errors}`));
      });
    });
    const field = (label: string): string => {
      const match = new RegExp(`${label}:\\s+(\\S+)`).exec(banner);
      if (match?.[1] === undefined) throw new Error(`no "${label}" in the stand-in's banner:\n${banner}`);
      return match[1];
    };
    const url = field('URL');
    const control = async (op: string): Promise<unknown> => {
      const answer = await postJson(`${url}/__standin/control`, { op, args: [] });
      const parsed = JSON.parse(answer) as { ok: boolean; result?: unknown; error?: string };
      if (!parsed.ok) throw new Error(`stand-in control ${op}: ${parsed.error ?? answer}`);
      return parsed.result;
    };
    return {
      url,
      email: field('Admin user name'),
      password: field('Admin password'),
      pid: child.pid ?? 0,
      counts: async () => (await control('requestCounts')) as Record<string, number>,
      windows: async () => (await control('requestWindows')) as Record<string, RequestWindow>,
      resetCounts: async () => {
        await control('resetCounts');
      },
      stop: () => stopChild(child, storage),
    };
  } catch (error) {
    await stopChild(child, storage);
    throw error;
  }
}

async function stopChild(child: ChildProcess, storage: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
  await rm(storage, { recursive: true, force: true, maxRetries: 3 });
}

function postJson(url: string, body: unknown): Promise<string> {
  const payload = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': payload.length } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve(text));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * How long the stand-in spent on a transfer: from the arrival of the first `from` request to the
 * end of the last `to` request. The same clock times the floor and the client.
 */
export function transferMs(windows: Record<string, RequestWindow>, from: string, to: string): number {
  const first = windows[from];
  const last = windows[to];
  if (first === undefined || last === undefined) throw new Error(`the stand-in saw no ${first === undefined ? from : to} request`);
  return last.lastEndMs - first.firstStartMs;
}

/** Sums request counts into the figures the benchmarks report. */
export function summarizeCounts(counts: Record<string, number>): {
  total: number;
  listings: number;
  uploadSessions: number;
  chunks: number;
  mkdirs: number;
  moves: number;
  renames: number;
  downloads: number;
  logins: number;
  writes: number;
} {
  const get = (route: string): number => counts[route] ?? 0;
  let total = 0;
  let writes = 0;
  for (const [route, n] of Object.entries(counts)) {
    total += n;
    if (!route.startsWith('GET ') && route !== 'POST /api/v3/user/session' && route !== 'POST /api/v3/user/2fa') writes += n;
  }
  return {
    total,
    listings: get('GET /api/v3/directory/*path'),
    uploadSessions: get('PUT /api/v3/file/upload'),
    chunks: get('POST /api/v3/file/upload/:sessionId/:index'),
    mkdirs: get('PUT /api/v3/directory'),
    moves: get('PATCH /api/v3/object'),
    renames: get('POST /api/v3/object/rename'),
    downloads: get('PUT /api/v3/file/download/:id') + get('GET /api/v3/file/download/:id'),
    logins: get('POST /api/v3/user/session'),
    writes,
  };
}
