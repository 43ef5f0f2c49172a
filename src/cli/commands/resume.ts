import type { Command } from 'commander';
import { FolderState } from '../../state/folder-state.js';
import type { GuardAnswer } from '../../tree/types.js';
import { folderId } from '../../state/synced.js';
import type { GlobalOptions } from '../context.js';
import { askDaemon } from '../daemon-client.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { runCommand } from '../run.js';

function notStopped(name: string): string {
  return `${name}: no safety guard stopped it; nothing to resume, and its next pass is judged by the guards as usual\n`;
}

/** What a resume agrees to, in the words of the stop. */
function agreedTo(answer: GuardAnswer): string {
  switch (answer.guard) {
    case 'root':
      return `an empty ${answer.side === 'local' ? 'local' : 'server'} folder`;
    case 'mass-delete':
      return `deleting up to ${answer.count} files on the ${answer.side} side`;
    case 'binding':
      return 'the folders the config pairs now';
  }
}

export function resumeCommand(program: Command): void {
  program
    .command('resume')
    .description('resume a folder that a safety guard paused; its next pass runs past the guard')
    .argument('<folder>', 'the folder name from the config')
    .action((name: string) =>
      runCommand(program.opts<GlobalOptions>(), async ({ config, db }) => {
        if (!config.folders.some((f) => f.name === name)) {
          throw new CliError(`no folder named "${name}"; configured: ${config.folders.map((f) => f.name).join(', ')}`, ExitCode.usage);
        }
        const answer = await askDaemon(config.daemon.status.listen, 'POST', `/folders/${encodeURIComponent(name)}/resume`);
        if (answer?.status === 200) {
          const resumed = (answer.body as { resumed?: unknown } | null)?.resumed === true;
          process.stdout.write(resumed ? `${name}: resumed; the running daemon syncs it now\n` : notStopped(name));
          return;
        }
        const resumed = new FolderState(db, folderId(db, name)).resumeStopped();
        if (resumed === undefined) process.stdout.write(notStopped(name));
        else if (resumed.answer === undefined) process.stdout.write(`${name}: resumed; its next pass is judged by the guards as usual (a missing folder stops it until it is back)\n`);
        else process.stdout.write(`${name}: resumed; the next pass (daemon or sync --once) runs past the guard for ${agreedTo(resumed.answer)}\n`);
      }),
    );
}
