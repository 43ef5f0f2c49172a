import Database from 'better-sqlite3';
import { messageOf } from '../scan/errors.js';
import { stateFailure } from '../state/database.js';
import { CommandContext, type GlobalOptions } from './context.js';
import { ExitCode, exitCodeFor } from './exit-codes.js';

/**
 * Runs one command's body with a fresh context and turns any failure into one clear line on
 * stderr and the matching exit code; the error with its stack goes to the debug log.
 */
export async function runCommand(options: GlobalOptions, body: (context: CommandContext) => Promise<void>): Promise<void> {
  const context = new CommandContext(options);
  try {
    await body(context);
  } catch (thrown) {
    // Only a context that opened the database can have met an SQLite failure.
    const error = thrown instanceof Database.SqliteError ? (stateFailure(thrown, context.config.stateDir) ?? thrown) : thrown;
    const code = exitCodeFor(error);
    if (error instanceof Error) context.logFailure(error);
    process.stderr.write(`cloudreve-sync: ${messageOf(error)}\n`);
    if (code === ExitCode.partial && !(error instanceof Error)) throw error;
    process.exitCode = code;
  } finally {
    context.close();
  }
}
