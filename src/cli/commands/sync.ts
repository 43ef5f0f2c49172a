import Database from 'better-sqlite3';
import type { Command } from 'commander';
import type { Config, FolderConfig } from '../../config/load.js';
import { actionPath } from '../../exec/executor.js';
import { isRemoteError } from '../../remote/errors.js';
import { StateError } from '../../state/database.js';
import { FolderState } from '../../state/folder-state.js';
import { acquireLock } from '../../state/lock.js';
import { folderId } from '../../state/synced.js';
import { syncFolder, type PassResult } from '../../sync/pass.js';
import { createJobQueue } from '../../sync/queue.js';
import type { CommandContext, GlobalOptions } from '../context.js';
import { CliError, ExitCode, exitCodeFor } from '../exit-codes.js';
import { planTable, summarize, summaryLine } from '../output.js';
import { Progress } from '../progress.js';
import { runCommand } from '../run.js';

interface SyncOptions {
  readonly once?: boolean;
  readonly folder?: string;
  readonly dryRun?: boolean;
  readonly json?: boolean;
  readonly force?: boolean;
}

const stopSignals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export function syncCommand(program: Command): void {
  program
    .command('sync')
    .description('keep the configured folders in sync until stopped (the daemon: SIGHUP reloads the config), or with --once make one full pass and exit')
    .option('--once', 'one full pass, then exit (for cron or by hand)')
    .option('--folder <name>', 'with --once: only this folder')
    .option('--dry-run', 'with --once: show what would be done, change nothing')
    .option('--json', 'with --once: print the plan or the result as JSON')
    .option('--force', 'with --once: run even when a safety guard (mass delete, emptied folder, changed folder pair) would stop it')
    .action((options: SyncOptions) => runCommand(program.opts<GlobalOptions>(), (context) => syncOnce(context, options)));
}

async function syncOnce(context: CommandContext, options: SyncOptions): Promise<void> {
  if (!options.once) {
    if (options.dryRun || options.json || options.force || options.folder !== undefined) {
      throw new CliError('--folder, --dry-run, --json and --force go with --once; the daemon syncs every configured folder', ExitCode.usage);
    }
    await runDaemon(context);
    return;
  }
  const { config } = context;
  const folders = options.folder === undefined ? config.folders : config.folders.filter((f) => f.name === options.folder);
  requireFolders(config);
  if (folders.length === 0) throw new CliError(`no folder named "${options.folder}"; configured: ${config.folders.map((f) => f.name).join(', ')}`, ExitCode.usage);

  const lock = options.dryRun ? undefined : acquireLock(config.stateDir, 'sync --once');
  const progress = options.json || options.dryRun ? undefined : Progress.forTerminal(process.stderr);
  const queue = createJobQueue(config.sync);
  const results: FolderRun[] = [];
  // Ctrl+C (or a SIGTERM) stops the run as a stop does the daemon's pass: transfers cancelled,
  // their temporary files and upload sessions cleaned up, nothing more started. A second one
  // ends the process at once. So does a SIGHUP (the terminal of a run by hand closed, an SSH
  // connection dropped, or one meant for the daemon), whose default would end it mid-transfer.
  const abort = new AbortController();
  const interrupt = (signal: NodeJS.Signals): void => {
    if (abort.signal.aborted) {
      stopListening();
      process.kill(process.pid, signal);
      return;
    }
    context.logger.warn({ signal }, 'stopping the run');
    abort.abort(new Error(`stopped by ${signal}`));
  };
  const stopListening = (): void => {
    for (const signal of stopSignals) process.off(signal, interrupt);
  };
  for (const signal of stopSignals) process.on(signal, interrupt);
  try {
    for (const folder of folders) {
      if (abort.signal.aborted) {
        // Said, and counted as failed: a stopped run has not synced every folder.
        results.push({ folder, error: new Error(`not started: ${(abort.signal.reason as Error).message}`) });
        continue;
      }
      try {
        results.push(
          await syncFolder(
            folder,
            {
              config,
              remote: context.client,
              db: context.db,
              queue,
              logger: context.logger,
              now: Date.now,
              signal: abort.signal,
              ...(progress ? { events: progress.events } : {}),
            },
            { dryRun: options.dryRun ?? false, force: options.force ?? false },
          ),
        );
      } catch (error) {
        // The server, the login or the state database fail every folder alike: the run stops.
        // What belongs to one folder (its server path, its local folder) leaves the others to sync.
        const unreachable = exitCodeFor(error) === ExitCode.unreachable;
        // `status` tells of it, for this folder and those the run did not get to, until a run gets through.
        if (unreachable && error instanceof Error && !options.dryRun) {
          for (const missed of folders.slice(folders.indexOf(folder))) {
            new FolderState(context.db, folderId(context.db, missed.name)).recordRun({ finishedMs: Date.now(), ok: false, counts: {}, error: error.message });
          }
        }
        const global = unreachable || error instanceof StateError || error instanceof Database.SqliteError || isRemoteError(error, 'aborted');
        if (!(error instanceof Error) || global) throw error;
        context.logger.error({ folder: folder.name, err: error.message }, 'folder failed');
        results.push({ folder, error });
      }
    }
  } finally {
    stopListening();
    progress?.stop();
    lock?.release();
  }

  if (options.json) {
    process.stdout.write(`${JSON.stringify(results.map(toJson), null, 2)}\n`);
  } else {
    process.stdout.write(`${results.map((r) => ('error' in r ? `${r.folder.name}: failed: ${r.error.message}` : options.dryRun ? planTable(r) : summaryLine(r))).join('\n')}\n`);
  }
  process.exitCode = exitCodeOf(results, options.dryRun ?? false);
}

/** A folder's pass, or the error that ended it before it could plan. */
type FolderRun = PassResult | { readonly folder: FolderConfig; readonly error: Error };

function toJson(result: FolderRun): unknown {
  if ('error' in result) return { folder: result.folder.name, error: result.error.message };
  const failures: { type: string; path: string; status: string; detail: string }[] = [];
  for (const [action, r] of result.report?.results ?? []) {
    if (r.status !== 'done') failures.push({ type: action.type, path: actionPath(action), status: r.status, detail: r.status === 'failed' ? r.error.message : r.reason });
  }
  return {
    folder: result.folder.name,
    ...(result.plan.stopped ? { stopped: result.plan.stopped } : {}),
    ...(result.report?.fatal ? { fatal: result.report.fatal.message } : {}),
    ...(result.report ? { summary: summarize(result), problems: failures } : { actions: result.plan.actions }),
    skipped: result.skipped,
  };
}

/**
 * 0 in sync, 1 finished with paths not in sync, 3 stopped by a guard, 4 server unreachable or
 * login refused; a folder's own error counts with its code, a configuration error (2) before a guard.
 */
function exitCodeOf(runs: readonly FolderRun[], dryRun: boolean): ExitCode {
  const errors = runs.flatMap((r) => ('error' in r ? [exitCodeFor(r.error)] : []));
  const results = runs.filter((r): r is PassResult => !('error' in r));
  if (results.some((r) => r.report?.fatal)) return ExitCode.unreachable;
  if (errors.includes(ExitCode.usage)) return ExitCode.usage;
  if (results.some((r) => r.plan.stopped)) return ExitCode.guard;
  if (errors.length > 0) return ExitCode.partial;
  if (dryRun) return ExitCode.ok;
  const notInSync = results.some((r) => {
    const s = summarize(r);
    return s.failed > 0 || s.deferred > 0 || s.skipped > 0 || s.conflicts > 0;
  });
  return notInSync ? ExitCode.partial : ExitCode.ok;
}

function requireFolders(config: Config): void {
  if (config.folders.length === 0) throw new CliError(`no folders are configured; add one under "folders:" in ${config.source ?? 'the config file'}`, ExitCode.usage);
}

/** The daemon, until SIGTERM or SIGINT; SIGHUP reloads the config. */
async function runDaemon(context: CommandContext): Promise<void> {
  // Loaded here: the watcher, the status server and the metrics are the daemon's alone, and a
  // `sync --once` from cron need not pay their memory and start-up time.
  const { Daemon, stopTimeoutMs } = await import('../../daemon/daemon.js');
  const { config, logger } = context;
  requireFolders(config);
  // SIGHUP's default ends the process, which systemd takes for a clean exit and leaves down: a
  // reload asked for while the daemon starts (a migration can take a while) waits for it. So
  // does a stop, which then ends the daemon as soon as it has started, exiting 0, rather than
  // killing it amid its start.
  let reloadAsked = false;
  let onReload = (): void => {
    reloadAsked = true;
  };
  let stopAsked: NodeJS.Signals | undefined;
  let onStop = (signal: NodeJS.Signals): void => {
    stopAsked ??= signal;
  };
  process.on('SIGHUP', () => onReload());
  process.on('SIGTERM', (signal) => onStop(signal));
  process.on('SIGINT', (signal) => onStop(signal));
  const daemon = await Daemon.start(config, logger);
  onReload = () => {
    let next;
    try {
      next = context.reloadConfig();
    } catch (error) {
      logger.error({ err: (error as Error).message }, 'the changed config is invalid; keeping the old one');
      return;
    }
    daemon.reload(next).catch((error: unknown) => logger.error({ err: (error as Error).message }, 'reload failed'));
  };
  if (reloadAsked && stopAsked === undefined) onReload();
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal?: NodeJS.Signals): void => {
      if (stopping) return;
      stopping = true;
      if (signal) logger.info({ signal }, 'signal received');
      // The daemon gives its work stopTimeoutMs; this is the backstop should closing hang.
      setTimeout(() => process.exit(ExitCode.partial), stopTimeoutMs + 5000).unref();
      daemon.stop().then(resolve, (error: unknown) => {
        logger.error({ err: (error as Error).message }, 'error while stopping');
        resolve();
      });
    };
    onStop = stop;
    if (stopAsked) stop(stopAsked);
    // Ended on its own: not 2, which the systemd unit does not restart, since a restart is the cure.
    void daemon.failed.then((error) => {
      logger.fatal({ err: error.message }, 'stopping');
      process.exitCode = ExitCode.partial;
      stop();
    });
  });
}
