import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { Config } from '../../config/load.js';
import { openDatabaseToRead, type Db } from '../../state/database.js';
import { FolderState } from '../../state/folder-state.js';
import { stateIdentity } from '../../state/identity.js';
import { folderId, SyncedTree } from '../../state/synced.js';
import type { GuardAnswer } from '../../tree/types.js';
import type { GlobalOptions } from '../context.js';
import { counted, describeAnswer, formatBytes, formatPath, formatTime } from '../format.js';
import { askDaemon } from '../daemon-client.js';
import { runCommand } from '../run.js';

export function statusCommand(program: Command): void {
  program
    .command('status')
    .description('show, per folder, the last sync, what is tracked, open conflicts and paths that fail or are skipped')
    .option('--json', 'print JSON')
    .action((options: { json?: boolean }) =>
      runCommand(program.opts<GlobalOptions>(), async ({ config }) => {
        const db = openDatabaseToRead(config.stateDir);
        try {
          const live = await askDaemon(config.daemon.status.listen, stateIdentity(db), 'GET', '/status');
          const running = (live?.body as { folders?: DaemonFolder[] } | undefined)?.folders ?? [];
          const report = folderStatuses(config, db).map((status) => {
            const daemon = running.find((f) => f.folder === status.folder);
            return daemon ? { ...status, lastSync: daemon.lastSuccess ?? status.lastSync, daemon } : status;
          });
          const text = report.length === 0 ? `no folders are configured in ${config.source ?? 'the config file'}` : report.map(describe).join('\n\n');
          process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : `${text}\n`);
        } finally {
          db.close();
        }
      }),
    );
}

/** What the running daemon says of a folder (see src/daemon/runner.ts). */
interface DaemonFolder {
  readonly folder: string;
  readonly phase: string;
  readonly reason: string | null;
  readonly watching: string;
  readonly pendingLocalChanges: number;
  /** Its last successful pass: the database has it only to the hour while nothing changes. */
  readonly lastSuccess?: string | null;
}

export interface FolderStatus {
  readonly folder: string;
  readonly local: string;
  readonly remote: string;
  readonly lastSync: string | null;
  readonly lastRun: unknown;
  /** Why a safety guard paused the folder for the daemon, until `resume`. */
  readonly paused: string | null;
  /** The stop a `resume` agreed to, until the pass it lets through. */
  readonly resumed: GuardAnswer | null;
  readonly tracked: { files: number; folders: number; bytes: number };
  readonly conflicts: { path: string; copy: string; on: 'local' | 'server' }[];
  readonly failing: { path: string; action: string; error: string; attempts: number; retryAt: string }[];
  readonly skipped: { side: string; path: string; reason: string }[];
  /** Present while a daemon runs. */
  readonly daemon?: DaemonFolder;
}

export function folderStatuses(config: Config, db: Db): FolderStatus[] {
  return config.folders.map((folder) => {
    const id = folderId(db, folder.name);
    const state = new FolderState(db, id);
    const { lastSyncMs, last } = state.lastRun();
    return {
      folder: folder.name,
      local: folder.localPath,
      remote: folder.remotePath,
      lastSync: lastSyncMs === undefined ? null : new Date(lastSyncMs).toISOString(),
      lastRun: last ?? null,
      paused: state.pausedReason() ?? null,
      resumed: state.answer() ?? null,
      tracked: new SyncedTree(db, id).tracked(),
      // A conflict copy the user has since removed or renamed is settled; one on the server
      // alone (upload-only) is looked at by the next full pass, which forgets it if it is gone.
      conflicts: state
        .conflicts()
        .filter((c) => c.side === 'remote' || existsSync(join(folder.localPath, ...c.copyPath.split('/'))))
        .map((c) => ({ path: c.path, copy: c.copyPath, on: c.side === 'local' ? 'local' : 'server' })),
      failing: state.failures().map((f) => ({ path: f.path, action: f.action, error: f.message, attempts: f.attempts, retryAt: new Date(f.nextRetryMs).toISOString() })),
      skipped: state.skipped(),
    };
  });
}

function describe(status: FolderStatus): string {
  const lines = [
    `${status.folder}: ${status.local} <-> ${status.remote}`,
    `  last successful sync: ${status.lastSync === null ? 'never' : formatTime(Date.parse(status.lastSync))}`,
    `  tracked: ${counted(status.tracked.files, 'file')} in ${counted(status.tracked.folders, 'folder')}, ${formatBytes(status.tracked.bytes)}`,
  ];
  if (status.paused !== null) lines.push(`  PAUSED: ${status.paused}`);
  if (status.daemon) {
    const d = status.daemon;
    lines.push(`  daemon: ${d.phase}${d.reason ? ` (${d.reason})` : ''}, watching by ${d.watching}, ${d.pendingLocalChanges} local changes pending`);
  }
  const last = status.lastRun as { stopped?: string; error?: string; finishedMs?: number } | null;
  if (last?.stopped) lines.push(`  STOPPED: ${last.stopped}`);
  if (last?.error) lines.push(`  LAST RUN FAILED${last.finishedMs === undefined ? '' : ` (${formatTime(last.finishedMs)})`}: ${last.error}`);
  if (status.resumed !== null) lines.push(`  resumed: the next pass runs past the guard for ${describeAnswer(status.resumed)}`);
  if (status.conflicts.length > 0) lines.push(`  conflicts (${status.conflicts.length}):`, ...status.conflicts.map((c) => `    ${formatPath(c.path)}: other version kept as ${formatPath(c.copy)}${c.on === 'server' ? ' on the server' : ''}`));
  if (status.failing.length > 0) lines.push(`  failing (${status.failing.length}):`, ...status.failing.map((f) => `    ${formatPath(f.path)} (${f.action}, ${f.attempts}x): ${f.error}`));
  if (status.skipped.length > 0) lines.push(`  skipped (${status.skipped.length}):`, ...status.skipped.map((s) => `    ${formatPath(s.path)} (${s.side}): ${s.reason}`));
  return lines.join('\n');
}
