import { Command, CommanderError, Option } from 'commander';
import { logLevels } from '../config/schema.js';
import { version } from '../version.js';
import { infoCommand } from './commands/info.js';
import { loginCommand } from './commands/login.js';
import { lsCommand } from './commands/ls.js';
import { resumeCommand } from './commands/resume.js';
import { shareCommands } from './commands/share.js';
import { statusCommand } from './commands/status.js';
import { syncCommand } from './commands/sync.js';
import { ExitCode } from './exit-codes.js';

const program = new Command('cloudreve-sync')
  .description('Two-way sync between a local folder and a Cloudreve account')
  .version(version, '-V, --version')
  .option('-c, --config <path>', 'config file (default: $CLOUDREVE_SYNC_CONFIG, then ~/.config/cloudreve-sync/config.yaml)')
  .addOption(new Option('--log-level <level>', 'overrides log.level').choices(logLevels))
  .showHelpAfterError('(run cloudreve-sync --help for usage)')
  .exitOverride();

loginCommand(program);
infoCommand(program);
lsCommand(program);
syncCommand(program);
statusCommand(program);
resumeCommand(program);
shareCommands(program);

try {
  await program.parseAsync();
} catch (error) {
  if (!(error instanceof CommanderError)) throw error;
  // Help and version exit 0; every other parse failure is a usage error.
  process.exitCode = error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
}
