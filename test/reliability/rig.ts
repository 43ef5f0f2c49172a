import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CookieJar } from 'tough-cookie';
import { cliPath, Scene, type SceneOptions } from '../e2e/harness.js';
import { folderMarkerName } from '../../src/sync/folder-marker.js';

/**
 * The reliability suite's scene: the e2e Scene (stand-in, local folder, state directory, config)
 * plus a CLI runner that can pass crash points, kill the process, run it as another user, and
 * that keeps every line the CLI printed (at log level trace) so that the whole output can be
 * searched for secrets at the end.
 */

export interface RunOptions {
  /** Extra environment, e.g. CLOUDREVE_SYNC_CRASH_AT. */
  readonly env?: Readonly<Record<string, string>>;
  /** SIGKILL the process after this many milliseconds (if it is still running). */
  readonly killAfterMs?: number;
  /** Run as this user and group (tests as root use it to make chmod bite). */
  readonly uid?: number;
  readonly gid?: number;
  /** Run without `--log-level trace`. */
  readonly quiet?: boolean;
  /** Called once the process runs (e.g. to change files while it syncs). */
  readonly whileRunning?: () => Promise<void>;
}

export interface RunResult {
  /** Exit code, or null when a signal ended the process. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Everything every rig of this process printed, for the secret scan. */
export const capturedOutput: string[] = [];
/** Secrets every rig of this process used or was given, for the secret scan. */
export const knownSecrets = new Set<string>();

/** The environment the CLI gets: ours, without anything that would point it at a real server. */
function childEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const key of Object.keys(env)) if (key.startsWith('CLOUDREVE_')) delete env[key];
  return { ...env, ...extra };
}

const openRigs = new Set<Rig>();

/** Closes every rig a test started and did not close itself (stand-in, children, temp dirs). */
export async function closeOpenRigs(): Promise<void> {
  for (const rig of [...openRigs]) await rig.close();
}

export class Rig {
  readonly #children = new Set<ChildProcess>();
  /** Every run of this rig, for a failure report. */
  readonly runs: { args: readonly string[]; env: Readonly<Record<string, string>>; result: RunResult }[] = [];

  private constructor(readonly scene: Scene) {}

  static async start(options: SceneOptions = {}): Promise<Rig> {
    const scene = await Scene.start({
      ...options,
      config: { sync: { settleTime: 0, retries: 2 }, ...options.config },
    });
    knownSecrets.add(scene.standin.admin.password);
    const rig = new Rig(scene);
    openRigs.add(rig);
    return rig;
  }

  get local(): string {
    return this.scene.local;
  }

  get stateDir(): string {
    return this.scene.stateDir;
  }

  async close(): Promise<void> {
    openRigs.delete(this);
    for (const child of this.#children) child.kill('SIGKILL');
    await Promise.all([...this.#children].map((child) => new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(undefined) : child.once('exit', resolve)))));
    await this.scene.close();
  }

  /** Runs the CLI with `args` and collects what it printed. */
  run(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const argv = [cliPath, '--config', this.scene.configPath, ...(options.quiet ? [] : ['--log-level', 'trace']), ...args];
    const child = spawn(process.execPath, argv, {
      env: childEnv(options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.uid === undefined ? {} : { uid: options.uid }),
      ...(options.gid === undefined ? {} : { gid: options.gid }),
    });
    this.#children.add(child);
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const timer = options.killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), options.killAfterMs);
    const exited = new Promise<RunResult>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => {
        if (timer) clearTimeout(timer);
        this.#children.delete(child);
        const result = { code, signal, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') };
        capturedOutput.push(result.stdout, result.stderr);
        this.runs.push({ args, env: options.env ?? {}, result });
        this.#learnCookies();
        resolve(result);
      });
    });
    if (!options.whileRunning) return exited;
    return Promise.all([exited, options.whileRunning()]).then(([result]) => result);
  }

  /** `sync --once` (plus `args`); fails with the CLI's output when the exit code is not one of `codes`. */
  async sync(codes: number | readonly number[] = 0, args: readonly string[] = [], options: RunOptions = {}): Promise<RunResult> {
    const result = await this.run(['sync', '--once', ...args], options);
    const expected = typeof codes === 'number' ? [codes] : codes;
    if (result.code === null || !expected.includes(result.code)) {
      throw new Error(`sync ended with ${result.code ?? result.signal}, expected ${expected.join(' or ')}\nstdout: ${result.stdout}\nstderr: ${tail(result.stderr)}`);
    }
    return result;
  }

  /** Writes every run's output to a file outside the scene (which close() removes) and returns its path. */
  async dumpRuns(name: string): Promise<string> {
    const file = join(tmpdir(), `cloudreve-sync-reliability-${name}.log`);
    const text = this.runs.map(({ args, env, result }, i) => [`==== run ${i + 1}: ${args.join(' ')} ${JSON.stringify(env)} -> ${result.code ?? result.signal}`, result.stdout, result.stderr].join('\n'));
    await writeFile(file, text.join('\n'));
    return file;
  }

  /** The stored login cookie values are secrets too: remember each one the CLI saved. */
  #learnCookies(): void {
    let db: Database.Database | undefined;
    try {
      db = new Database(join(this.scene.stateDir, 'cloudreve-sync.db'), { readonly: true, fileMustExist: true });
      for (const { value } of db.prepare<[], { value: string }>('SELECT value FROM sessions').all()) {
        const saved = JSON.parse(value) as { jar?: unknown };
        const jar = CookieJar.deserializeSync(saved.jar as Parameters<typeof CookieJar.deserializeSync>[0]);
        for (const cookie of jar.getCookiesSync(this.scene.standin.url)) if (cookie.value.length >= 8) knownSecrets.add(cookie.value);
      }
    } catch {
      // No database yet (a config error), or no session stored.
    } finally {
      db?.close();
    }
  }

  /**
   * What the state knows of upload sessions (UploadSessions): whether it still notes that some
   * may be open unnamed, and the IDs of those written down.
   */
  uploadNotes(): { unnamedMayBeOpen: boolean; sessionIds: ReadonlySet<string> } {
    return this.#inDatabase(true, { unnamedMayBeOpen: false, sessionIds: new Set<string>() }, (db) => ({
      unnamedMayBeOpen: db.prepare("SELECT 1 FROM temp_files WHERE side = 'upload'").get() !== undefined,
      sessionIds: new Set(db.prepare('SELECT session_id FROM upload_sessions').pluck().all() as string[]),
    }));
  }

  /** Lets every failing path be tried again at once, as if its backoff had run out. */
  endBackoff(): void {
    this.setRetryTimes(0);
  }

  /** Sets when every failing path is to be tried again, in ms since the epoch. */
  setRetryTimes(ms: number): void {
    this.#inDatabase(false, undefined, (db) => {
      db.prepare('UPDATE failures SET next_retry_ms = ?').run(ms);
    });
  }

  /** `use` run on the state database, or `absent` while there is none. */
  #inDatabase<T>(readonly: boolean, absent: T, use: (db: Database.Database) => T): T {
    const file = join(this.scene.stateDir, 'cloudreve-sync.db');
    if (!existsSync(file)) return absent;
    const db = new Database(file, { readonly, fileMustExist: true });
    try {
      return use(db);
    } finally {
      db.close();
    }
  }
}

export function tail(text: string, lines = 60): string {
  const all = text.trimEnd().split('\n');
  return all.length <= lines ? all.join('\n') : [`... ${all.length - lines} lines before`, ...all.slice(-lines)].join('\n');
}

/** Checks every captured line for a known secret or an unredacted signature. */
export function secretLeaks(): string[] {
  const leaks: string[] = [];
  for (const text of capturedOutput) {
    for (const line of text.split('\n')) {
      for (const secret of knownSecrets) if (line.includes(secret)) leaks.push(`secret ${secret.slice(0, 3)}… in: ${line.slice(0, 300)}`);
      if (/\b(sign|signature|x-amz-signature|x-amz-credential|tempauth|access_token)=(?!\[redacted\])[^&\s"]/i.test(line)) leaks.push(`signature in: ${line.slice(0, 300)}`);
      if (/cloudreve-session=(?!\[redacted\])[^;\s"]/i.test(line)) leaks.push(`cookie in: ${line.slice(0, 300)}`);
      // URLs that are credentials themselves: a download session, the stand-in's storage tokens.
      if (/\/file\/download\/[A-Za-z0-9]{12,}|\/__storage\/(download|onedrive\/upload)\/[A-Za-z0-9]{12,}/.test(line)) leaks.push(`credential URL in: ${line.slice(0, 300)}`);
    }
  }
  return leaks;
}

// ---- trees -------------------------------------------------------------------------------------

export interface Entry {
  readonly kind: 'file' | 'dir';
  readonly size: number;
  /** sha256 of the content, '' for folders. */
  readonly hash: string;
}

export type Tree = Map<string, Entry>;

export function sha(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Every entry below `root` (own temp files included, the folder marker not), path -> kind, size, content hash. */
export async function readLocalTree(root: string): Promise<Tree> {
  const tree: Tree = new Map();
  const walk = async (dir: string, prefix: string): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const path = prefix === '' ? name : `${prefix}/${name}`;
      if (path === folderMarkerName) continue;
      const absolute = join(dir, name);
      const info = await lstat(absolute);
      if (info.isDirectory()) {
        tree.set(path, { kind: 'dir', size: 0, hash: '' });
        await walk(absolute, path);
      } else {
        tree.set(path, { kind: 'file', size: info.size, hash: sha(await readFile(absolute)) });
      }
    }
  };
  await walk(root, '');
  return tree;
}

/** Every entry below the server folder `root`, path -> kind, size, content hash (downloaded). */
export async function readRemoteTree(scene: Scene, root: string): Promise<Tree> {
  const tree: Tree = new Map();
  const scratch = join(scene.dir, 'remote-read');
  const walk = async (dir: string, prefix: string): Promise<void> => {
    let listing;
    try {
      listing = await scene.server.list(dir);
    } catch {
      return;
    }
    for (const entry of listing.entries) {
      const path = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
      const absolute = dir === '/' ? `/${entry.name}` : `${dir}/${entry.name}`;
      if (entry.kind === 'dir') {
        tree.set(path, { kind: 'dir', size: 0, hash: '' });
        await walk(absolute, path);
      } else {
        await scene.server.download(entry.id, scratch);
        const content = await readFile(scratch);
        await rm(scratch, { force: true });
        if (content.length !== entry.size) throw new Error(`${absolute}: listed as ${entry.size} bytes, downloaded ${content.length}`);
        tree.set(path, { kind: 'file', size: entry.size, hash: sha(content) });
      }
    }
  };
  await walk(root, '');
  return tree;
}

export function describeTree(tree: Tree): string[] {
  return [...tree].map(([path, e]) => (e.kind === 'dir' ? `${path}/` : `${path} ${e.size} ${e.hash.slice(0, 10)}`)).sort();
}
