import { existsSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import type { Command } from 'commander';
import type { FolderConfig } from '../../config/load.js';
import type { ObjectRef } from '../../remote/types.js';
import { folderId, SyncedTree } from '../../state/synced.js';
import type { CommandContext, GlobalOptions } from '../context.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { runCommand } from '../run.js';
import { parseDuration } from '../../config/duration.js';

interface ShareOptions {
  readonly password?: string;
  readonly expire?: string;
  readonly downloads?: string;
}

/** Without a download limit Cloudreve ignores the expiry, so an expiry alone gets an unreachable limit. */
const unlimitedDownloads = 2_000_000_000;
/** And a download limit alone needs an expiry, or the link is dead at once. */
const tenYears = 10 * 365 * 86_400;

export function shareCommands(program: Command): void {
  program
    .command('share')
    .description('create a share link for a synced file or folder')
    .argument('<local-path>', 'a file or folder inside a synced folder')
    .option('--password <password>', 'protect the link with a password')
    .option('--expire <duration>', 'the link stops working after this long, e.g. 1d, 12h')
    .option('--downloads <n>', 'the link stops working after this many downloads')
    .action((path: string, options: ShareOptions) =>
      runCommand(program.opts<GlobalOptions>(), async (context) => {
        const downloads = options.downloads === undefined ? undefined : Number(options.downloads);
        if (downloads !== undefined && (!Number.isInteger(downloads) || downloads < 1)) throw new CliError(`--downloads: expected a whole number above 0, got "${options.downloads}"`, ExitCode.usage);
        const expireSeconds = options.expire === undefined ? undefined : expireOf(options.expire);
        const object = await findSynced(context, path);
        const limited = downloads !== undefined || expireSeconds !== undefined;
        const client = context.client;
        const url = await client.share(object, {
          ...(options.password === undefined ? {} : { password: options.password }),
          ...(limited ? { downloads: downloads ?? unlimitedDownloads, expireSeconds: expireSeconds ?? tenYears } : {}),
        });
        process.stdout.write(`${url}\n`);
      }),
    );
  program
    .command('link')
    .description('create a direct download link for a synced file')
    .argument('<local-path>', 'a file inside a synced folder')
    .action((path: string) =>
      runCommand(program.opts<GlobalOptions>(), async (context) => {
        const object = await findSynced(context, path);
        if (object.kind !== 'file') throw new CliError(`${path} is a folder; direct links exist for files only (use "share")`, ExitCode.usage);
        process.stdout.write(`${await context.client.directLink(object.id)}\n`);
      }),
    );
}

function expireOf(text: string): number {
  let seconds: number;
  try {
    seconds = Math.round(parseDuration(text) / 1000);
  } catch (error) {
    throw new CliError(`--expire: ${(error as Error).message}`, ExitCode.usage);
  }
  if (seconds < 1) throw new CliError(`--expire: expected at least 1s, got "${text}"`, ExitCode.usage);
  return seconds;
}

const syncFirst = 'let the daemon sync it, or run "cloudreve-sync sync --once" first if none runs';

/** The server object behind a local path: the synced folder's own, or one of the Synced tree. */
async function findSynced(context: CommandContext, path: string): Promise<ObjectRef> {
  const absolute = resolve(path);
  const folder = context.config.folders.find((f: FolderConfig) => absolute === f.localPath || absolute.startsWith(`${f.localPath}${sep}`));
  if (!folder) throw new CliError(`${absolute} is not inside a synced folder`, ExitCode.usage);
  if (absolute === folder.localPath) {
    const root = await context.client.stat(folder.remotePath, 'dir');
    if (root === undefined) throw new CliError(`the server folder ${folder.remotePath} of folder "${folder.name}" does not exist yet; ${syncFirst}`, ExitCode.partial);
    return root;
  }
  const relative = absolute.slice(folder.localPath.length + 1).split(sep).join('/');
  const synced = new SyncedTree(context.db, folderId(context.db, folder.name)).atLocalPath(relative);
  if (synced?.remoteId === undefined) {
    if (!existsSync(absolute)) throw new CliError(`${absolute} does not exist`, ExitCode.partial);
    throw new CliError(`${relative} in folder "${folder.name}" has not been synced yet; ${syncFirst}`, ExitCode.partial);
  }
  return { kind: synced.kind, id: synced.remoteId };
}
