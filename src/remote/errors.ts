/**
 * What went wrong, independent of which server answered. The engine decides from `kind` and
 * `retryable` alone whether to retry, skip the path, or stop.
 */
export type RemoteErrorKind =
  /** The path or object does not exist. */
  | 'not-found'
  /** A same-named object of the same kind is in the way. */
  | 'exists'
  /** A same-named upload is still in progress and reserves the name. */
  | 'upload-in-progress'
  /** The upload session expired or is unknown; start a new one. */
  | 'upload-session-expired'
  /** Not logged in, wrong credentials, second factor missing or wrong, account blocked. */
  | 'auth'
  /** Logged in but not allowed. */
  | 'forbidden'
  | 'quota-exceeded'
  | 'file-too-large'
  | 'file-type-not-allowed'
  | 'invalid-name'
  /** The server rejected the request as malformed. */
  | 'bad-request'
  /** The server failed (HTTP 5xx, Cloudreve 5xxxx codes). */
  | 'server'
  /** The connection failed or timed out. */
  | 'network'
  /** The TLS handshake failed, e.g. an untrusted certificate. */
  | 'tls'
  /** The answer was not what the protocol says, e.g. an HTML page instead of JSON. */
  | 'protocol'
  /** The caller aborted the operation. */
  | 'aborted';

const retryableKinds: ReadonlySet<RemoteErrorKind> = new Set(['server', 'network']);

export interface RemoteErrorDetails {
  readonly kind: RemoteErrorKind;
  /** Request method and path (no query string, no secrets). */
  readonly method?: string;
  readonly path?: string;
  readonly status?: number;
  /** The server's own error code and message, e.g. Cloudreve's 40004 "Object existed". */
  readonly code?: number;
  readonly serverMessage?: string;
  /** The remote object the operation was about, when it is not obvious from `path`. */
  readonly target?: string;
  readonly cause?: unknown;
  /** Overrides the classification derived from `kind`. */
  readonly retryable?: boolean;
}

export class RemoteError extends Error {
  override readonly name = 'RemoteError';
  readonly kind: RemoteErrorKind;
  readonly retryable: boolean;
  readonly method: string | undefined;
  readonly path: string | undefined;
  readonly status: number | undefined;
  readonly code: number | undefined;
  readonly serverMessage: string | undefined;
  readonly target: string | undefined;

  constructor(summary: string, details: RemoteErrorDetails) {
    super(describe(summary, details), details.cause === undefined ? undefined : { cause: details.cause });
    this.kind = details.kind;
    this.retryable = details.retryable ?? retryableKinds.has(details.kind);
    this.method = details.method;
    this.path = details.path;
    this.status = details.status;
    this.code = details.code;
    this.serverMessage = details.serverMessage;
    this.target = details.target;
  }
}

function describe(summary: string, d: RemoteErrorDetails): string {
  const parts = [summary];
  if (d.target !== undefined) parts.push(`(${d.target})`);
  const facts: string[] = [];
  if (d.method !== undefined && d.path !== undefined) facts.push(`${d.method} ${d.path}`);
  if (d.status !== undefined) facts.push(`HTTP ${d.status}`);
  if (d.code !== undefined) {
    facts.push(d.serverMessage ? `code ${d.code} "${d.serverMessage}"` : `code ${d.code}`);
  }
  if (facts.length > 0) parts.push(`[${facts.join(', ')}]`);
  return parts.join(' ');
}

export function isRemoteError(error: unknown, kind?: RemoteErrorKind): error is RemoteError {
  return error instanceof RemoteError && (kind === undefined || error.kind === kind);
}
