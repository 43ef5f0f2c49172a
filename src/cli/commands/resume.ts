import type { Command } from 'commander';
import { FolderState, guardAnswerOf } from '../../state/folder-state.js';
import { stateIdentity } from '../../state/identity.js';
import { folderId } from '../../state/synced.js';
import type { GuardAnswer } from '../../tree/types.js';
import type { GlobalOptions } from '../context.js';
import { askDaemon } from '../daemon-client.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { describeAnswer } from '../format.js';
import { runCommand } from '../run.js';

function notStopped(name: string): string {
  return `${name}: no safety guard stopped it; nothing to resume, and its next pass is judged by the guards as usual\n`;
}

/** What a resume agreed to, in the words of the stop; `daemon`: a running daemon took it. */
function resumedLine(name: string, answer: GuardAnswer | undefined, daemon: boolean): string {
  const pass = daemon ? 'the running daemon syncs it now,' : 'the next pass (daemon or sync --once)';
  if (answer === undefined) return `${name}: resumed; ${pass} ${daemon ? '' : 'is '}judged by the guards as usual (a missing folder stops it until it is back)\n`;
  return `${name}: resumed; ${pass} ${daemon ? '' : 'runs '}past the guard for ${describeAnswer(answer)}\n`;
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
        const reply = await askDaemon(config.daemon.status.listen, stateIdentity(db), 'POST', `/folders/${encodeURIComponent(name)}/resume`);
        if (reply?.status === 200) {
          const body = reply.body as { resumed?: unknown; answer?: unknown } | null;
          // A daemon from before answers does not say what it agreed to.
          const line = body?.resumed !== true ? notStopped(name) : 'answer' in body ? resumedLine(name, guardAnswerOf(body.answer), true) : `${name}: resumed; the running daemon syncs it now\n`;
          process.stdout.write(line);
          return;
        }
        const resumed = new FolderState(db, folderId(db, name)).resumeStopped();
        process.stdout.write(resumed === undefined ? notStopped(name) : resumedLine(name, resumed.answer, false));
      }),
    );
}
