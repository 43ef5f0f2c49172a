import type PQueue from 'p-queue';
import { withoutCredentials, type CloudreveV3 } from '../cloudreve/index.js';
import type { Config, FolderConfig } from '../config/load.js';
import type { Logger } from '../log/logger.js';
import { messageOf } from '../scan/errors.js';
import { checkDatabaseFile, openDatabase, stateFailure, type Db } from '../state/database.js';
import { FolderState } from '../state/folder-state.js';
import { stateIdentity } from '../state/identity.js';
import { acquireLock, type StateLock } from '../state/lock.js';
import { folderId } from '../state/synced.js';
import { createClient } from '../sync/client.js';
import { createJobQueue } from '../sync/queue.js';
import { Metrics } from './metrics.js';
import { FolderRunner, type FolderStatus } from './runner.js';
import { StatusServer, type Resumed } from './status-server.js';

/** How long SIGTERM waits for the work in flight before leaving it. */
export const stopTimeoutMs = 10_000;

/**
 * The long-running service: one state database, one lock, one Cloudreve client, one request
 * queue shared by every folder (so the concurrency and rate limits hold for all of them
 * together), a runner per folder, and the status server.
 */
export class Daemon {
  readonly #logger: Logger;
  readonly #lock: StateLock;
  readonly #db: Db;
  readonly #metrics = new Metrics();
  readonly #startedMs = Date.now();
  #config: Config;
  #client: CloudreveV3;
  #queue: PQueue;
  #runners: FolderRunner[] = [];
  #status: StatusServer | undefined;
  /** The reload or stop under way; the next waits for it. */
  #turns: Promise<void> = Promise.resolve();
  #stopping = false;
  /** Settles when a stop is asked for: a reload waiting for the passes in flight waits no longer. */
  #askStop: () => void = () => undefined;
  readonly #stopAsked = new Promise<void>((resolve) => {
    this.#askStop = resolve;
  });
  #fail: (error: Error) => void = () => undefined;
  /** Settles with what ends the daemon on its own: its state files gone from their paths. */
  readonly failed = new Promise<Error>((resolve) => {
    this.#fail = resolve;
  });

  private constructor(config: Config, logger: Logger, lock: StateLock, db: Db) {
    this.#config = config;
    this.#logger = logger;
    this.#lock = lock;
    this.#db = db;
    this.#client = this.#newClient(config);
    this.#queue = this.#newQueue(config);
  }

  static async start(config: Config, logger: Logger): Promise<Daemon> {
    const lock = acquireLock(config.stateDir, 'sync');
    let db: Db | undefined;
    try {
      db = openDatabase(config.stateDir);
      const daemon = new Daemon(config, logger, lock, db);
      await daemon.#startStatusServer(config);
      daemon.#startRunners(daemon.#makeRunners(config, daemon.#client, daemon.#queue, new Set()));
      logger.info({ folders: config.folders.map((f) => f.name), status: daemon.statusAddress ?? 'off' }, 'cloudreve-sync is running');
      return daemon;
    } catch (error) {
      db?.close();
      lock.release();
      throw error;
    }
  }

  get statusAddress(): string | undefined {
    return this.#status?.address;
  }

  /** Finishes or abandons the work in flight (within `stopTimeoutMs`), then releases everything. */
  stop(): Promise<void> {
    this.#stopping = true;
    // A reload under way waits for the passes in flight: cut them short now, not after it.
    for (const runner of this.#runners) runner.abandon();
    this.#askStop();
    return this.#inTurn(async () => {
      this.#logger.info('stopping');
      await this.#stopRunners(this.#runners, 'abandon');
      await this.#status?.close();
      this.#client.close();
      this.#db.close();
      this.#lock.release();
    });
  }

  /**
   * Applies a changed config (SIGHUP): the folders restart with it (only those it changes, when it
   * changes nothing but folders); a bad config is refused.
   */
  reload(config: Config): Promise<void> {
    return this.#inTurn(() => (this.#stopping ? Promise.resolve() : this.#reload(config)));
  }

  /**
   * Runs reloads and the stop one after the other: two at once would each start a set of
   * runners, and the set one of them replaced would go on syncing, unstopped, beside the other.
   */
  #inTurn(step: () => Promise<void>): Promise<void> {
    const done = this.#turns.then(step);
    this.#turns = done.catch(() => undefined);
    return done;
  }

  async #reload(config: Config): Promise<void> {
    if (config.stateDir !== this.#config.stateDir) {
      this.#logger.error('the new config moves the state directory; restart cloudreve-sync to apply it. Keeping the old config');
      return;
    }
    // A reload that changes only some folders restarts only those: the others sync on, a first
    // upload of many hours included, instead of waiting for the longest pass in flight.
    const whole = !sameBesidesFolders(config, this.#config);
    const before = new Map(this.#config.folders.map((folder) => [folder.name, JSON.stringify(folder)]));
    const asBefore = (folder: FolderConfig): boolean => before.get(folder.name) === JSON.stringify(folder);
    const unchanged = new Set(whole ? [] : config.folders.filter(asBefore).map((folder) => folder.name));
    const restarted = this.#runners.filter((runner) => !unchanged.has(runner.name));
    // A changed config is the user's answer to a pause as much as `resume` is; the guards judge
    // the next pass by the new settings. A pause that a pass the reload waits for raises was not
    // seen, and is answered only where that folder's own settings changed (it was judged by the
    // ones they replace); elsewhere the next pass would stop at it again.
    const settingsChanged = new Set(config.folders.filter((folder) => before.has(folder.name) && !asBefore(folder)).map((folder) => folder.name));
    const answered = new Set(restarted.filter((r) => r.phase === 'paused' || settingsChanged.has(r.name)).map((r) => r.name));
    // What can fail is made before anything stops (a new folder's row that cannot be written, a
    // CA file that cannot be read): such a reload leaves every folder syncing as it was.
    let queue: PQueue;
    let client: CloudreveV3;
    try {
      for (const folder of config.folders) folderId(this.#db, folder.name);
      queue = whole ? this.#newQueue(config) : this.#queue;
      client = JSON.stringify(config.server) === JSON.stringify(this.#config.server) ? this.#client : this.#newClient(config);
    } catch (error) {
      this.#reloadFailed(error);
      return;
    }
    const discard = (): void => {
      if (client !== this.#client) client.close();
    };
    await this.#stopRunners(restarted, 'wait');
    if (this.#stopping) {
      discard();
      return;
    }
    // The pauses must be lifted after the passes they may have raised, and the runners made from
    // what the folders' records say then: this can still fail (the database failing meanwhile).
    let runners: FolderRunner[];
    try {
      // All or none: a reload that fails leaves every pause as the old config has it.
      this.#db.transaction(() => {
        for (const name of answered) new FolderState(this.#db, folderId(this.#db, name)).liftPause();
      })();
      runners = this.#makeRunners(config, client, queue, unchanged);
    } catch (error) {
      discard();
      this.#reloadFailed(error);
      this.#restartUnderOldConfig(unchanged);
      return;
    }
    for (const name of answered) this.#metrics.paused.set({ folder: name }, 0);
    if (client !== this.#client) {
      this.#client.close();
      this.#client = client;
    }
    this.#queue = queue;
    const listenBefore = this.#config.daemon.status.listen;
    this.#config = config;
    this.#startRunners(runners);
    // Also where it could not listen before: the address may have been freed since, as its log said to.
    if (config.daemon.status.listen !== listenBefore || this.#status === undefined) {
      await this.#status?.close();
      this.#status = undefined;
      await this.#startStatusServer(config);
    }
    this.#logger.info({ folders: config.folders.map((f) => f.name), restarted: config.folders.map((f) => f.name).filter((name) => !unchanged.has(name)) }, 'config reloaded');
  }

  /**
   * The config in force stays. A state database failing here ends the daemon no more than one
   * failing around a pass, where the folder backs off and the daemon lives on: the runners meet
   * it again at their passes (and records a group commit lost are told to every run that wrote
   * into the group, not only to this reload).
   */
  #reloadFailed(error: unknown): void {
    this.#logger.error(`reload failed: ${this.#described(error)}; the old config stays in force`);
  }

  /** What went wrong, a state database's failure named as a failed pass names it. */
  #described(error: unknown): string {
    return messageOf(stateFailure(error, this.#config.stateDir) ?? error);
  }

  /** Starts again, under the config in force, the folders a reload stopped before it failed. */
  #restartUnderOldConfig(running: ReadonlySet<string>): void {
    try {
      this.#startRunners(this.#makeRunners(this.#config, this.#client, this.#queue, running));
    } catch (error) {
      // Folders left stopped would sync nothing while the daemon looked alive: a restart is the cure.
      this.#fail(new Error(`cannot start the folders again after a failed reload: ${this.#described(error)}`, { cause: error }));
    }
  }

  resume(folder: string): Resumed | undefined {
    return this.#runners.find((r) => r.name === folder)?.resume();
  }

  unhealthy(): string[] {
    const reasons: string[] = [];
    const now = Date.now();
    const within = this.#config.daemon.healthyWithin;
    for (const runner of this.#runners) {
      if (runner.phase === 'paused') reasons.push(`${runner.name}: paused: ${runner.reason ?? ''}`);
      if (runner.phase === 'auth-failed') reasons.push(`${runner.name}: the server refused the login: ${runner.reason ?? ''}`);
      // A daemon started after a longer downtime gets its own healthyWithin for a first pass,
      // rather than being reported unhealthy (and restarted by a watchdog) for the downtime.
      const since = Math.max(runner.lastSuccessMs ?? 0, this.#startedMs);
      if (now - since > within) reasons.push(`${runner.name}: no successful sync for ${Math.round((now - since) / 60_000)} minutes${runner.reason ? ` (${runner.reason})` : ''}`);
    }
    return reasons;
  }

  status(): { folders: FolderStatus[]; queue: { waiting: number; running: number }; server: string; startedAt: string } {
    return {
      server: withoutCredentials(this.#config.server.url),
      startedAt: new Date(this.#startedMs).toISOString(),
      queue: { waiting: this.#queue.size, running: this.#queue.pending },
      folders: this.#runners.map((r) => r.status()),
    };
  }

  /**
   * Runners for `config`'s folders, not started yet: those in `keep` are the ones running now,
   * which go on. Making one reads (and may write) the state database; started only once all are
   * made, none is left running outside `#runners` when that fails.
   */
  #makeRunners(config: Config, remote: CloudreveV3, queue: PQueue, keep: ReadonlySet<string>): FolderRunner[] {
    const kept = new Map(this.#runners.filter((r) => keep.has(r.name)).map((r) => [r.name, r]));
    // A reload keeps what the runners it replaces knew of their last pass.
    const before = new Map(this.#runners.map((r) => [r.name, r.lastSuccessMs]));
    const shared = {
      config,
      remote,
      db: this.#db,
      queue,
      logger: this.#logger,
      metrics: this.#metrics,
      now: Date.now,
      monotonicNow: () => performance.now(),
      checkState: () => {
        this.#lock.check();
        checkDatabaseFile(this.#db);
      },
      fatal: (error: Error) => this.#fail(error),
    };
    return config.folders.map((folder) => kept.get(folder.name) ?? new FolderRunner(folder, shared, before.get(folder.name)));
  }

  /** Makes `runners` the daemon's, starting those that do not run yet. */
  #startRunners(runners: FolderRunner[]): void {
    const running = new Set(this.#runners);
    this.#runners = runners;
    for (const runner of runners) if (!running.has(runner)) runner.start();
  }

  /**
   * Stops the folders' runners. A stop cuts their passes short and gives the requests already
   * under way `stopTimeoutMs`, then abandons them (the next run picks them up); a reload lets the
   * passes finish, however long they take, since new runners beside an old pass would sync the
   * same folder twice at once.
   */
  async #stopRunners(runners: readonly FolderRunner[], late: 'abandon' | 'wait'): Promise<void> {
    const stopping = Promise.all(runners.map((r) => r.stop(late === 'abandon')));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), stopTimeoutMs);
    });
    const outcome = await Promise.race([stopping.then(() => 'stopped' as const), timeout]);
    clearTimeout(timer);
    if (outcome === 'timeout' && late === 'abandon') this.#logger.warn('work in flight did not finish in time and was abandoned; the next run picks it up');
    if (outcome === 'timeout' && late === 'wait') {
      this.#logger.warn('work in flight has not finished yet; the new config applies once it has');
      // Actions queued behind a slow rate limit can keep an abandoned pass going: a stop asked
      // for meanwhile gives up the wait, and its own turn gives the passes stopTimeoutMs.
      await Promise.race([stopping, this.#stopAsked]);
    }
    // What abandoned passes left queued must not start; the folders a reload keeps have theirs there too.
    if (late === 'abandon') this.#queue.clear();
  }

  /** The folders sync on without it; only the status server waits for a config it can listen on. */
  async #startStatusServer(config: Config): Promise<void> {
    const { listen } = config.daemon.status;
    if (listen === 'off') return;
    try {
      this.#status = await StatusServer.start(
        listen,
        { state: stateIdentity(this.#db), unhealthy: () => this.unhealthy(), status: () => this.status(), resume: (folder) => this.resume(folder) },
        this.#metrics,
        this.#logger,
      );
    } catch (error) {
      this.#logger.error({ err: (error as Error).message, listen }, 'cannot start the status server; it stays off until a reload or restart');
    }
  }

  #newClient(config: Config): CloudreveV3 {
    return createClient(config.server, this.#db, this.#logger, (event) => {
      this.#metrics.requests.observe({ route: event.route, outcome: event.error ?? 'ok' }, event.durationMs / 1000);
    });
  }

  #newQueue(config: Config): PQueue {
    const queue = createJobQueue(config.sync);
    const depth = (): void => this.#metrics.queueDepth.set(queue.size + queue.pending);
    queue.on('add', depth);
    queue.on('next', depth);
    return queue;
  }
}

/** Whether two configs differ at most in their folders. */
function sameBesidesFolders(a: Config, b: Config): boolean {
  return JSON.stringify({ ...a, folders: [] }) === JSON.stringify({ ...b, folders: [] });
}
