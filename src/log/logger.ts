import { createRequire } from 'node:module';
import { pino, type Logger, type LevelWithSilent } from 'pino';
import type PinoPretty from 'pino-pretty';

export type { Logger };

/** Keys whose values never reach a log line, wherever they appear in a logged object. */
const secretKeys = ['password', 'totpSecret', 'cookie', 'cookies', 'authorization', 'credential', 'sign', 'jar'];

const redactPaths = secretKeys.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]);

export interface LoggerOptions {
  readonly level?: LevelWithSilent;
  /** Human-readable lines instead of JSON; the default when stderr is a terminal. */
  readonly pretty?: boolean;
  /** Where lines go; stderr by default so that command output on stdout stays clean. */
  readonly destination?: NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = options.destination ?? process.stderr;
  const usePretty = options.pretty ?? (destination === process.stderr && process.stderr.isTTY);
  const base = {
    level: options.level ?? 'info',
    base: null,
    redact: { paths: redactPaths, censor: '[redacted]' },
  };
  if (usePretty) {
    // Required here, not imported above, so that a service logging JSON never loads it.
    const pretty = createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;
    return pino(base, pretty({ destination, sync: true, ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss' }));
  }
  return pino(base, destination);
}

/** A logger that drops everything; for library callers that pass none. */
export const silentLogger: Logger = pino({ level: 'silent' });
