import { ConfigError } from '../config/errors.js';
import { RemoteError } from '../remote/errors.js';
import { StateError } from '../state/database.js';

/** Exit codes of every command; the README lists them. */
export const ExitCode = {
  ok: 0,
  /** Finished, but some paths or the requested object failed. */
  partial: 1,
  /** Bad command line or configuration, or the state directory is unusable. */
  usage: 2,
  /** Stopped by a safety guard. */
  guard: 3,
  /** The server cannot be reached or refused our credentials. */
  unreachable: 4,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Raised by a command to stop with a message and a specific exit code. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
  }
}

export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof CliError) return error.exitCode;
  if (error instanceof ConfigError || error instanceof StateError) return ExitCode.usage;
  if (error instanceof RemoteError) {
    switch (error.kind) {
      case 'auth':
      case 'network':
      case 'tls':
      case 'protocol':
        return ExitCode.unreachable;
      default:
        return ExitCode.partial;
    }
  }
  return ExitCode.partial;
}
