import type { Logger } from '../log/logger.js';
import type { RequestEvent } from './http.js';
import type { SessionStore } from './session.js';

export interface CloudreveV3Options {
  /** The server's address, e.g. "https://cloud.example.com"; a sub-path is kept. */
  readonly url: string;
  /** The account's e-mail address. */
  readonly username: string;
  readonly password: string;
  /** Base32 secret of the account's two-factor authentication, when it is enabled. */
  readonly totpSecret?: string;
  readonly timeouts?: {
    /** @default 10000 */
    readonly connectMs?: number;
    /** Time from the end of a request to the response headers. @default 60000 */
    readonly responseMs?: number;
    /** Time a connection may sit idle mid-request. @default 60000 */
    readonly idleMs?: number;
  };
  readonly tls?: {
    /** Certificate(s) of a private CA that signed the server's certificate (PEM). */
    readonly ca?: string | Buffer;
    /** Accept any certificate, e.g. a self-signed one. Explicit opt-in; prefer `ca`. */
    readonly insecureSkipVerify?: boolean;
  };
  /** Keeps the session cookie across restarts. */
  readonly sessionStore?: SessionStore;
  /** @default silentLogger */
  readonly logger?: Logger;
  /** Told of every HTTP exchange; for metrics and tests. */
  readonly onRequest?: (event: RequestEvent) => void;
  /** Retries of idempotent requests that failed transiently. @default 2 */
  readonly retries?: number;
  /** Re-sends of a failed chunk, new upload sessions after a broken one, and download resumes without progress. @default 3 */
  readonly chunkRetries?: number;
  /** Have the server re-issue the session cookie when it was issued longer ago than this. @default 1 day */
  readonly sessionRefreshMs?: number;
}

export const defaults = {
  connectMs: 10_000,
  responseMs: 60_000,
  idleMs: 60_000,
  retries: 2,
  chunkRetries: 3,
  sessionRefreshMs: 24 * 60 * 60 * 1000,
} as const;
