import { RemoteError, type RemoteErrorKind } from '../remote/errors.js';
import { isRetryableCode, kindForCode } from './codes.js';
import type { HttpResponse } from './http.js';
import { bodySnippet, redactText, urlOrigin, urlPath } from './redact.js';
import type { Envelope } from './wire.js';

/** Where a failure happened, for the error's fields and message. */
export interface FailureContext {
  readonly method: string;
  readonly url: URL;
  readonly target?: string | undefined;
  /** The request's route; for URLs that are credentials it is shown instead of the path. */
  readonly route?: string | undefined;
}

/**
 * Routes whose URL is itself a credential: a local download session, and every URL a provider
 * or the server handed out (download links, upload sessions), whose paths may carry tokens just
 * as their queries carry signatures. Errors and log lines name the route instead.
 */
export function isCredentialRoute(route: string): boolean {
  return route.includes('<') || route.endsWith('/file/download/:sessionId');
}

function where(ctx: FailureContext): { method: string; path: string; target?: string } {
  const path = ctx.route !== undefined && isCredentialRoute(ctx.route) ? ctx.route.replace(/^[A-Z]+ /, '') : urlPath(ctx.url);
  return { method: ctx.method, path, ...(ctx.target === undefined ? {} : { target: ctx.target }) };
}

export function abortedError(ctx?: FailureContext): RemoteError {
  return new RemoteError('Operation aborted', { kind: 'aborted', ...(ctx === undefined ? {} : where(ctx)) });
}

const summaries: Record<RemoteErrorKind, string> = {
  'not-found': 'Not found',
  exists: 'An object of that name already exists',
  'upload-in-progress': 'A same-named upload is in progress: another device is uploading it, or a run was killed while uploading it and its session holds the name until the server lets it expire (within a day), and the upload is tried again after that',
  'upload-session-expired': 'Upload session expired or unknown',
  auth: 'Authentication failed',
  forbidden: 'Not allowed',
  'quota-exceeded': 'Storage quota exceeded',
  'file-too-large': 'File too large for the storage policy',
  'file-type-not-allowed': 'File type not allowed by the storage policy',
  'invalid-name': 'Invalid name',
  'bad-request': 'Request rejected as invalid',
  server: 'Server error',
  network: 'Network failure',
  tls: 'TLS failure',
  protocol: 'Unexpected answer',
  aborted: 'Operation aborted',
};

interface CodeErrorOptions {
  readonly status?: number | undefined;
  readonly summary?: string;
  /** Overrides the kind derived from the code, where the operation gives the code its meaning. */
  readonly kind?: RemoteErrorKind;
}

/** The server answered with a Cloudreve envelope whose code is not 0. */
export function codeError(envelope: Envelope, ctx: FailureContext, options: CodeErrorOptions = {}): RemoteError {
  const kind = options.kind ?? kindForCode(envelope.code);
  return new RemoteError(options.summary ?? summaries[kind], {
    kind,
    ...where(ctx),
    ...(options.status === undefined ? {} : { status: options.status }),
    code: envelope.code,
    serverMessage: redactText(envelope.msg),
    retryable: isRetryableCode(envelope.code),
  });
}

/** A failure decided by the client from a server answer, e.g. a missing header. */
export function protocolError(summary: string, ctx: FailureContext, status?: number): RemoteError {
  return new RemoteError(summary, { kind: 'protocol', ...where(ctx), ...(status === undefined ? {} : { status }) });
}

/**
 * Bad Gateway, Service Unavailable, Gateway Timeout, and Cloudflare's own for an origin it cannot
 * reach (520 to 527: down, refusing, timing out, failing TLS; 530: its name not resolved).
 */
const gatewayStatuses: ReadonlySet<number> = new Set([502, 503, 504, 520, 521, 522, 523, 524, 525, 526, 527, 530]);

/** An answer that is not the JSON envelope: a proxy's error page, another web application, a panic. */
export function unexpectedBodyError(response: HttpResponse, ctx: FailureContext): RemoteError {
  const { status, body } = response;
  const snippet = bodySnippet(body);
  // A proxy's answer that Cloudreve behind it is down or too slow (a NAS's reverse proxy, nginx,
  // Caddy): as unreachable as a refused connection, and the run stops rather than failing path
  // after path.
  if (gatewayStatuses.has(status)) {
    return new RemoteError(`Server unreachable behind ${urlOrigin(ctx.url)}: its proxy answered HTTP ${status} ${snippet}`, {
      kind: 'network',
      ...where(ctx),
      status,
    });
  }
  // A proxy's body size limit (nginx allows 1 MiB unless told otherwise): this file's request is
  // too large, the others may pass.
  if (status === 413) {
    return new RemoteError(
      `Request too large for the proxy in front of ${urlOrigin(ctx.url)} (HTTP 413 ${snippet}): raise its body size limit (nginx: client_max_body_size) above the storage policy's chunk size and sync.replaceMaxSize`,
      { kind: 'file-too-large', ...where(ctx), status },
    );
  }
  // 501: the server does not know the method, which Cloudreve, routing all it uses, always does.
  if (status >= 500 && status !== 501) {
    return new RemoteError(`Server error ${status} from ${urlOrigin(ctx.url)}: ${snippet}`, {
      kind: 'server',
      ...where(ctx),
      status,
    });
  }
  // Cloudreve answers every API route itself: a redirect is the address's (http to https, a
  // moved path prefix), to be put right in server.url rather than followed with the password.
  const target = status >= 300 && status < 400 ? redirectTarget(response.headers.location, ctx.url) : undefined;
  if (target !== undefined) {
    return new RemoteError(
      `${urlOrigin(ctx.url)} redirects to ${target} (HTTP ${status}); set server.url to the address Cloudreve answers at`,
      { kind: 'protocol', ...where(ctx), status },
    );
  }
  // A rate limit in front of the server: the server is there, the run stops and comes back.
  if (status === 429) {
    return new RemoteError(`Too many requests for the proxy in front of ${urlOrigin(ctx.url)} (HTTP 429 ${snippet}); set sync.requestsPerSecond to stay below its limit`, {
      kind: 'network',
      ...where(ctx),
      status,
    });
  }
  return new RemoteError(
    `Expected a Cloudreve v3 JSON answer from ${urlOrigin(ctx.url)} but got HTTP ${status} ${snippet}; is the URL a Cloudreve v3 server?`,
    { kind: 'protocol', ...where(ctx), status },
  );
}

/** Where a Location header points, without its query (where signatures live) or user info. */
function redirectTarget(location: string | undefined, base: URL): string | undefined {
  if (location === undefined) return undefined;
  try {
    const url = new URL(location, base);
    return `${urlOrigin(url)}${urlPath(url)}`;
  } catch {
    return bodySnippet(location);
  }
}

/**
 * A storage provider (S3, OneDrive) refused: an HTTP error status, or an error document inside a
 * 2xx answer (which S3 does for a failed multipart completion).
 */
export function providerStatusError(status: number, body: string, ctx: FailureContext): RemoteError {
  const kind: RemoteErrorKind =
    status >= 500 || status === 429 || status < 300
      ? 'server'
      : status === 404
        ? 'upload-session-expired'
        : status === 403
          ? 'forbidden'
          : 'bad-request';
  return new RemoteError(`Storage provider answered HTTP ${status}: ${bodySnippet(body)}`, {
    kind,
    ...where(ctx),
    status,
    retryable: kind === 'server',
  });
}

const tlsCodes = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'EPROTO',
]);

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

function errorMessage(error: unknown): string {
  return redactText(error instanceof Error ? error.message : String(error));
}

/**
 * A stand-in for got's error as the `cause`: got's errors carry the request options (headers with
 * the cookie or an upload credential, the signed URL) as enumerable properties.
 */
function safeCause(error: unknown): Error {
  const cause = new Error(errorMessage(error));
  const code = errorCode(error);
  if (code !== undefined) Object.assign(cause, { code });
  return cause;
}

/** Connection failures before anything was sent: the server cannot have acted on the request. */
const unsentCodes: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Answers of something in front that did not hand the request on: a rate limit, a proxy that
 * could not reach the server, Cloudflare's for an origin down, refusing, unreachable or failing
 * TLS. (504 and Cloudflare's 520 and 524 come after the server had the request.)
 */
const unsentStatuses: ReadonlySet<number> = new Set([429, 502, 503, 521, 522, 523, 525, 526, 530]);

/**
 * Whether a request that failed may have been carried out all the same: its answer lost (a reset,
 * a timeout, a stop while it was under way, a proxy that gave up waiting), not refused before it
 * was sent, nor answered by something in front that did not hand it on.
 */
export function mayHaveBeenCarriedOut(error: unknown): boolean {
  if (!(error instanceof RemoteError)) return false;
  if (error.kind === 'aborted') return true;
  if (!error.retryable || error.kind === 'tls' || (error.status !== undefined && unsentStatuses.has(error.status))) return false;
  return !unsentCodes.has(errorCode(error.cause) ?? '');
}

/** A request that got no HTTP answer: refused, reset, timed out, TLS failure, aborted. */
export function transportError(error: unknown, ctx: FailureContext, signal?: AbortSignal): RemoteError {
  if (signal?.aborted === true) return abortedError(ctx);
  const code = errorCode(error) ?? '';
  const origin = urlOrigin(ctx.url);
  const details = { ...where(ctx), cause: safeCause(error) };
  // OpenSSL reads a plain-HTTP answer as a record of an unknown version.
  if ((code === 'EPROTO' || code.startsWith('ERR_SSL_')) && /wrong version number/i.test(errorMessage(error))) {
    return new RemoteError(`TLS connection to ${origin} failed: the server answered in plain HTTP; use an http:// URL for it (or its HTTPS port)`, { kind: 'tls', ...details });
  }
  if (tlsCodes.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) {
    return new RemoteError(
      `TLS connection to ${origin} failed (${errorMessage(error)}); if the server uses a private CA set server.tls.ca to its certificate, or set server.tls.insecureSkipVerify to accept any certificate`,
      { kind: 'tls', ...details },
    );
  }
  if (code === 'ECONNREFUSED') {
    return new RemoteError(`Server unreachable at ${origin} (connection refused)`, { kind: 'network', ...details });
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new RemoteError(`Server unreachable at ${origin} (host name not resolved)`, { kind: 'network', ...details });
  }
  if (code === 'ETIMEDOUT') {
    return new RemoteError(`Request to ${origin} timed out (${errorMessage(error)})`, { kind: 'network', ...details });
  }
  return new RemoteError(`Connection to ${origin} failed (${code || errorMessage(error)})`, { kind: 'network', ...details });
}

/** The same failure seen in a new light, e.g. a copy's "not found" that is really a name clash. */
export function reclassified(error: RemoteError, kind: RemoteErrorKind, summary: string): RemoteError {
  const { method, path, status, code, serverMessage, target } = error;
  return new RemoteError(summary, { ...definedOnly({ method, path, status, code, serverMessage, target }), kind, cause: error });
}

function definedOnly<T extends object>(record: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}
