import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { runCli, type RunResult } from './measure.js';
import type { StandinProcess } from './standin-process.js';

/** A temp dir holding a local folder, a state dir and a config for the CLI; removed by `remove`. */
export class Workdir {
  private constructor(readonly dir: string) {}

  /** A temp dir below `root` (the system's temp dir by default). */
  static async create(label: string, root = tmpdir()): Promise<Workdir> {
    return new Workdir(await mkdtemp(join(root, `cloudreve-sync-bench-${label}-`)));
  }

  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true, maxRetries: 3 });
  }
}

export interface ClientSetup {
  readonly configPath: string;
  readonly local: string;
  readonly stateDir: string;
}

/**
 * A config for one synced folder. Defaults throughout, except what a benchmark must pin: a
 * settle time of 0 (the trees are written just before the run), quiet JSON logs, and `extra`.
 */
export async function writeClientConfig(
  work: Workdir,
  name: string,
  standin: StandinProcess,
  remote: string,
  extra: Record<string, unknown> = {},
  localFolder?: string,
): Promise<ClientSetup> {
  const local = localFolder ?? work.path(`${name}-local`);
  const stateDir = work.path(`${name}-state`);
  await mkdir(local, { recursive: true });
  const configPath = work.path(`${name}-config.yaml`);
  const { sync, ...rest } = extra as { sync?: Record<string, unknown> };
  const config = {
    server: { url: standin.url, username: standin.email, password: standin.password },
    stateDir,
    log: { level: 'warn', format: 'json' },
    sync: { settleTime: 0, ...sync },
    folders: [{ name: 'bench', local, remote }],
    ...rest,
  };
  await writeFile(configPath, stringify(config));
  return { configPath, local, stateDir };
}

export async function syncOnce(setup: ClientSetup, args: readonly string[] = [], nodeArgs: readonly string[] = []): Promise<RunResult> {
  return runCli(['--config', setup.configPath, 'sync', '--once', ...args], { nodeArgs });
}

/** Fails with the CLI's output unless it exited with `expected`. */
export function expectExit(result: RunResult, expected: number, what: string): void {
  if (result.code !== expected) {
    throw new Error(`${what}: the CLI exited ${String(result.code ?? result.signal)}, expected ${expected}\nstdout: ${result.stdout.slice(-2000)}\nstderr: ${result.stderr.slice(-4000)}`);
  }
}

/**
 * Writes `folders` folders of `filesPerFolder` files of `size` bytes below `root`, grouped in
 * parent folders of at most 100 subfolders when there are many. Each file's bytes differ.
 * Returns the relative folder paths.
 */
export async function makeTree(root: string, folders: number, filesPerFolder: number, size: number): Promise<string[]> {
  const paths: string[] = [];
  for (let f = 0; f < folders; f++) {
    paths.push(folders > 100 ? `g${String(Math.floor(f / 100)).padStart(3, '0')}/d${String(f).padStart(5, '0')}` : `d${String(f).padStart(3, '0')}`);
  }
  const base = Buffer.alloc(size, 'cloudreve-sync benchmark data\n');
  const jobs: (() => Promise<void>)[] = [];
  for (const folder of paths) {
    jobs.push(async () => {
      await mkdir(join(root, folder), { recursive: true });
      for (let i = 0; i < filesPerFolder; i++) {
        const name = `f${String(i).padStart(4, '0')}.bin`;
        const content = Buffer.from(base);
        content.write(`${folder}/${name}`, 0);
        await writeFile(join(root, folder, name), content);
      }
    });
  }
  await runJobs(jobs, 16);
  return paths;
}

export async function runJobs(jobs: readonly (() => Promise<void>)[], concurrency: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const job = jobs[next++];
      if (job) await job();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, jobs.length) }, worker));
}

/** Every file below `root` as relative path → size and mtime, folders as relative paths. */
export async function walkTree(root: string): Promise<{ files: { path: string; size: number; mtimeMs: number }[]; dirs: string[] }> {
  const files: { path: string; size: number; mtimeMs: number }[] = [];
  const dirs: string[] = [];
  const visit = async (rel: string): Promise<void> => {
    const entries = await readdir(join(root, rel), { withFileTypes: true });
    const subdirs: string[] = [];
    for (const entry of entries) {
      const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) {
        dirs.push(path);
        subdirs.push(path);
      } else if (entry.isFile()) {
        const info = await stat(join(root, path));
        files.push({ path, size: info.size, mtimeMs: info.mtimeMs });
      }
    }
    for (const dir of subdirs) await visit(dir);
  };
  await visit('');
  return { files, dirs };
}
