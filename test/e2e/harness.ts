import Database from 'better-sqlite3';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { CloudreveV3 } from '../../src/cloudreve/index.js';
import { bufferSource } from '../../src/remote/sources.js';
import { folderMarkerName } from '../../src/sync/folder-marker.js';
import { databaseAtSchema } from '../helpers/old-schema.js';
import { TcpProxy } from '../helpers/proxy.js';
import { startStandin, type Standin, type StandinOptions } from '../standin/index.js';

/**
 * One end-to-end scene: a stand-in server, a local folder, a state directory and a config
 * file, with the real CLI started as a child process (from dist/, built by `npm test`). The
 * `server` client plays a second device changing the server side.
 */

export const cliPath = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface FolderOptions {
  readonly mode?: 'two-way' | 'upload-only' | 'download-only';
  readonly remote?: string;
  readonly ignore?: string[];
  readonly conflict?: string;
  readonly massDelete?: { maxPercent?: number; minCount?: number; maxCount?: number; window?: number | string };
  readonly trash?: { keepDays?: number; remote?: string };
}

export interface SceneOptions {
  readonly standin?: StandinOptions;
  /** Reach the stand-in through a relay that tests can take down and bring back. */
  readonly proxy?: boolean;
  readonly folder?: FolderOptions;
  /** Extra top-level config (e.g. `sync:`). */
  readonly config?: Record<string, unknown>;
  /** Daemon settings over the tests' quick ones (the status server stays). */
  readonly daemon?: Record<string, unknown>;
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export class Scene {
  private constructor(
    readonly standin: Standin,
    readonly dir: string,
    readonly local: string,
    readonly stateDir: string,
    readonly configPath: string,
    readonly remoteRoot: string,
    readonly server: CloudreveV3,
    /** Where a daemon started by `daemon()` serves /healthz, /status and /metrics. */
    readonly statusUrl: string,
    /** The relay between the CLI and the stand-in, with `proxy: true`. */
    readonly proxy: TcpProxy | undefined,
  ) {}

  static async start(options: SceneOptions = {}): Promise<Scene> {
    const standin = await startStandin(options.standin ?? {});
    const statusPort = await freePort();
    const proxy = options.proxy ? await TcpProxy.start({ host: '127.0.0.1', port: Number(new URL(standin.url).port) }) : undefined;
    const dir = await mkdtemp(join(tmpdir(), 'cloudreve-sync-e2e-'));
    const local = join(dir, 'local');
    const stateDir = join(dir, 'state');
    await mkdir(local);
    const remoteRoot = options.folder?.remote ?? '/sync';
    const configPath = join(dir, 'config.yaml');
    const folder = { name: 'main', local, remote: remoteRoot, ...options.folder };
    const config = {
      server: { url: proxy ? `http://127.0.0.1:${proxy.port}` : standin.url, username: standin.admin.email, password: standin.admin.password },
      stateDir,
      log: { level: 'warn', format: 'json' },
      sync: { settleTime: 0, retries: 1 },
      daemon: { remoteInterval: '1s', debounce: '200ms', ...options.daemon, status: { listen: `127.0.0.1:${statusPort}` } },
      folders: [folder],
      ...options.config,
    };
    await writeFile(configPath, stringify(config));
    const server = new CloudreveV3({ url: standin.url, username: standin.admin.email, password: standin.admin.password });
    return new Scene(standin, dir, local, stateDir, configPath, remoteRoot, server, `http://127.0.0.1:${statusPort}`, proxy);
  }

  readonly #daemons = new Set<DaemonProcess>();

  /** Starts `cloudreve-sync sync` (the daemon) as a child process. */
  daemon(...args: string[]): DaemonProcess {
    return this.daemonWith({}, ...args);
  }

  /** `daemon()` with extra environment variables. */
  daemonWith(env: Record<string, string>, ...args: string[]): DaemonProcess {
    const child = spawn(process.execPath, [cliPath, '--config', this.configPath, ...args, 'sync'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    const daemon = new DaemonProcess(child);
    this.#daemons.add(daemon);
    return daemon;
  }

  /** GET on the daemon's status server: status code and parsed body (text for /metrics). */
  async status(path: string): Promise<{ code: number; body: unknown }> {
    const response = await fetch(`${this.statusUrl}${path}`);
    const text = await response.text();
    return { code: response.status, body: path === '/metrics' ? text : (JSON.parse(text) as unknown) };
  }

  /**
   * Ends what the scene started. After a failed test, each daemon's output is printed: a CI log
   * then says what the daemon did while the test waited.
   */
  async close(failed = false): Promise<void> {
    for (const daemon of this.#daemons) await daemon.kill();
    if (failed) for (const daemon of this.#daemons) console.error(`daemon output:\n${daemon.output}`);
    await this.proxy?.down();
    this.server.close();
    await this.standin.close();
    await rm(this.dir, { recursive: true, force: true });
  }

  cli(...args: string[]): Promise<CliResult> {
    return new Promise((resolve) => {
      execFile(process.execPath, [cliPath, '--config', this.configPath, ...args], { env: { ...process.env, NO_COLOR: '1' } }, (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      });
    });
  }

  /** Rewrites the config's folder with `changes` over what it has. */
  async changeFolder(changes: FolderOptions & { readonly local?: string }): Promise<void> {
    await this.#editConfig((config) => ({ ...config, folders: [{ ...config.folders[0], ...changes }] }));
  }

  /** Rewrites the config's `sync:` settings with `changes` over what it has. */
  async changeSync(changes: Record<string, unknown>): Promise<void> {
    await this.#editConfig((config) => ({ ...config, sync: { ...config.sync, ...changes } }));
  }

  /** Adds a folder to the config, syncing `local` (created) with the server folder `/name`. */
  async addFolder(name: string): Promise<string> {
    const local = join(this.dir, name);
    await mkdir(local, { recursive: true });
    await this.#editConfig((config) => ({ ...config, folders: [...config.folders, { name, local, remote: `/${name}` }] }));
    return local;
  }

  async #editConfig(edit: (config: { folders: Record<string, unknown>[]; sync: Record<string, unknown> }) => unknown): Promise<void> {
    await writeFile(this.configPath, stringify(edit(parse(await readFile(this.configPath, 'utf8')) as { folders: Record<string, unknown>[]; sync: Record<string, unknown> })));
  }

  /** `sync --once`, failing the test with the CLI's output when the exit code is unexpected. */
  async sync(expectedCode = 0, ...args: string[]): Promise<CliResult> {
    const result = await this.cli('sync', '--once', ...args);
    if (result.code !== expectedCode) {
      throw new Error(`sync exited ${result.code}, expected ${expectedCode}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
    }
    return result;
  }

  // ---- the local side ------------------------------------------------------------------------

  localPath(path: string): string {
    return join(this.local, ...path.split('/'));
  }

  async write(path: string, content: string | Buffer): Promise<void> {
    await mkdir(dirname(this.localPath(path)), { recursive: true });
    await writeFile(this.localPath(path), content);
  }

  read(path: string): Promise<string> {
    return readFile(this.localPath(path), 'utf8');
  }

  /** Every local file as path -> content, folders as path -> '/' (own temp files included, the folder marker not). */
  async localTree(root = this.local): Promise<Record<string, string>> {
    const result: Record<string, string> = {};
    const walk = async (dir: string, prefix: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const path = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
        if (path === folderMarkerName) continue;
        if (entry.isDirectory()) {
          result[path] = '/';
          await walk(join(dir, entry.name), path);
        } else {
          result[path] = await readFile(join(dir, entry.name), 'utf8');
        }
      }
    };
    await walk(root, '');
    return result;
  }

  async exists(path: string): Promise<boolean> {
    try {
      await stat(this.localPath(path));
      return true;
    } catch {
      return false;
    }
  }

  /** Runs `use` on the state database, opened as another process would, and closes it. */
  withStateDatabase<T>(use: (db: Database.Database) => T): T {
    const db = new Database(join(this.stateDir, 'cloudreve-sync.db'));
    try {
      return use(db);
    } finally {
      db.close();
    }
  }

  /**
   * A state database of an early schema, as a build of before its migrations left it, holding
   * `rows` Synced files of another folder: upgrading it takes a while.
   */
  async writeOldStateDatabase(rows: number): Promise<void> {
    await mkdir(this.stateDir, { recursive: true });
    const db = databaseAtSchema(join(this.stateDir, 'cloudreve-sync.db'), 6);
    db.exec(`INSERT INTO folders (id, name) VALUES (2, 'other')`);
    const insert = db.prepare(`INSERT INTO synced (folder, kind, local_parent, local_name, remote_parent, remote_name, size, local_mtime_ms, inode, remote_id, remote_modified_ms) VALUES (2, 'file', 0, ?, 0, ?, 1, 1, ?, ?, 1)`);
    db.transaction(() => {
      for (let i = 0; i < rows; i++) insert.run(`f${i}`, `f${i}`, String(i), String(i));
    })();
    db.close();
  }

  // ---- the server side -----------------------------------------------------------------------

  remotePath(path: string): string {
    return path === '' ? this.remoteRoot : `${this.remoteRoot}/${path}`;
  }

  async put(path: string, content: string | Buffer, mtimeMs = Date.now()): Promise<void> {
    const slash = path.lastIndexOf('/');
    const dir = slash < 0 ? '' : path.slice(0, slash);
    await this.server.upload(this.remotePath(dir), path.slice(slash + 1), bufferSource(Buffer.from(content), mtimeMs));
  }

  async entry(path: string, kind?: 'file' | 'dir'): Promise<{ id: string; kind: 'file' | 'dir' } | undefined> {
    return this.server.stat(this.remotePath(path), kind);
  }

  async fetch(path: string): Promise<string> {
    const entry = await this.server.stat(this.remotePath(path), 'file');
    if (!entry) throw new Error(`no file ${path} on the server`);
    const temp = join(this.dir, `fetch-${Date.now()}-${Math.random()}`);
    await this.server.download(entry.id, temp);
    const content = await readFile(temp, 'utf8');
    await rm(temp);
    return content;
  }

  /** The server folder as path -> content, folders as path -> '/'. */
  async remoteTree(): Promise<Record<string, string>> {
    const result: Record<string, string> = {};
    const walk = async (path: string): Promise<void> => {
      const listing = await this.server.list(this.remotePath(path));
      for (const entry of listing.entries) {
        const child = path === '' ? entry.name : `${path}/${entry.name}`;
        if (entry.kind === 'dir') {
          result[child] = '/';
          await walk(child);
        } else {
          result[child] = await this.fetch(child);
        }
      }
    };
    await walk('');
    return result;
  }

  /** Requests by route since the last reset, and the write requests among them. */
  requests(): { counts: Record<string, number>; writes: number; listings: number } {
    const counts = this.standin.control.requestCounts();
    let writes = 0;
    let listings = 0;
    for (const [route, n] of Object.entries(counts)) {
      if (route.startsWith('GET /api/v3/directory')) listings += n;
      else if (!route.startsWith('GET ') && route !== 'POST /api/v3/user/session' && route !== 'POST /api/v3/user/2fa') writes += n;
    }
    return { counts, writes, listings };
  }
}

/** A daemon child process, with its output kept for assertions. */
export class DaemonProcess {
  output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(readonly child: ChildProcess) {
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (this.output += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (this.output += chunk));
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Stops it for good (SIGKILL) if it still runs; for cleanup. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}

/**
 * Empties the file at `path` and sets its time back as it was, as a crash or a failing disk
 * leaves a file cut short: half a millisecond into the same one, so that rounding (utimes takes
 * seconds as a double) cannot cross into the one before.
 */
export async function cutShort(path: string): Promise<void> {
  const seconds = (Math.trunc((await stat(path)).mtimeMs) + 0.5) / 1000;
  await truncate(path, 0);
  await utimes(path, seconds, seconds);
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `ms`. */
export async function eventually<T>(check: () => Promise<T | undefined | false> | T | undefined | false, ms = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A TCP port free right now on loopback. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
