import { hash } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import type { BeforeRequestHook, ExtendOptions, Got, RequestFunction } from 'got';
import type { Logger } from '../log/logger.js';
import { RemoteError, type RemoteErrorKind } from '../remote/errors.js';
import type { ByteSource } from '../remote/types.js';
import { userAgent } from '../version.js';
import { Code, kindForCode } from './codes.js';
import type { Cookies } from './cookies.js';
import { isCredentialRoute, transportError, unexpectedBodyError, type FailureContext } from './failures.js';
import { urlPath } from './redact.js';
import { envelopeSchema, type Envelope } from './wire.js';
import { exchange, type ExchangeSettings } from './exchange.js';
import { trustedAuthorities } from './trust.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** One finished HTTP exchange, for metrics and tests. */
export interface RequestEvent {
  readonly method: string;
  /** Method and route pattern, e.g. "PUT /api/v3/file/upload". */
  readonly route: string;
  readonly status?: number;
  readonly code?: number;
  readonly durationMs: number;
  readonly error?: RemoteErrorKind;
}

export interface TransportOptions {
  readonly connectMs: number;
  readonly responseMs: number;
  readonly idleMs: number;
  readonly ca?: string | Buffer | undefined;
  readonly insecureSkipVerify: boolean;
  /** The session's cookies; sent only with requests that ask for them. */
  readonly cookies: Cookies;
  readonly logger: Logger;
  readonly onRequest?: ((event: RequestEvent) => void) | undefined;
  /** Told whenever the server (re)issues the session cookie. */
  readonly onSessionCookie: () => void;
}

/** A byte range of a source, streamed as the request body with an exact Content-Length. */
export interface StreamBody {
  readonly source: ByteSource;
  readonly start: number;
  readonly end: number;
}

export interface HttpRequest {
  readonly method: HttpMethod;
  readonly url: URL;
  /** Method and route pattern for metrics and logs; never the concrete URL, which may carry a signature. */
  readonly route: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly json?: unknown;
  readonly text?: string;
  readonly body?: StreamBody | undefined;
  /** Send the session cookie: Cloudreve API calls only, never storage providers or signed URLs. */
  readonly cookies?: boolean;
  readonly signal?: AbortSignal | undefined;
  readonly target?: string | undefined;
  /** Called with the number of body bytes sent so far in this request. */
  readonly onUploadProgress?: ((sentBytes: number) => void) | undefined;
  /**
   * Asks `envelope` for a fingerprint of a successful answer's body; a body whose fingerprint is
   * `unless` is not parsed at all.
   */
  readonly fingerprint?: { readonly unless: string | undefined } | undefined;
}

/** What `envelope` answers: the parsed envelope, or that the body was the one asked about. */
export type EnvelopeAnswer = ParsedAnswer | { readonly unchanged: true; readonly status: number; readonly fingerprint: string };
export interface ParsedAnswer {
  readonly unchanged: false;
  readonly envelope: Envelope;
  readonly status: number;
  readonly fingerprint?: string;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface StreamingResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Readable;
}

interface Observed<T> {
  readonly result: T;
  readonly status: number;
  readonly code?: number;
}

const sessionCookie = /(^|\s|;)cloudreve-session=/;

/**
 * How long a kept-alive connection may wait for its next request before it is closed. A server
 * or proxy that closes idle connections first (Apache's default is 5 s, some proxies' less) may
 * close one just as a request goes out on it: the request fails with a reset, and one that
 * writes cannot be told to have been carried out or not. Node also closes a connection a second
 * before the timeout a server announces (`Keep-Alive: timeout=N`), but only with a timeout of
 * its own set. A new connection after an idle spell costs a handshake.
 */
const idleConnectionMs = 4000;

/**
 * The only place that talks HTTP: one keep-alive agent pair, timeouts, TLS trust, the cookie jar,
 * and the translation of every transport failure into a RemoteError. Each call is one attempt;
 * retry policy lives with the callers, which know what is idempotent. Requests with a small
 * answer (API calls, upload chunks) are bare `exchange`s on node's client; downloads, which
 * stream and may be redirected by a storage provider, go through got.
 */
export class HttpTransport {
  /**
   * Downloads only: the API calls and chunks go through `exchange`. Loaded at the first download,
   * since got and what it brings took some 40 ms of every start, of a run that downloads nothing too.
   */
  #got: Promise<Got> | undefined;
  private readonly gotSettings: ExtendOptions;
  private readonly agents: { http: HttpAgent; https: HttpsAgent };
  private readonly exchangeSettings: ExchangeSettings;

  constructor(private readonly options: TransportOptions) {
    const keepAlive = { keepAlive: true, timeout: idleConnectionMs };
    this.agents = { http: new HttpAgent(keepAlive), https: new HttpsAgent(keepAlive) };
    const ca = options.ca === undefined ? undefined : trustedAuthorities(options.ca);
    const tls = { rejectUnauthorized: !options.insecureSkipVerify, ca };
    this.exchangeSettings = { agents: this.agents, timeouts: options, tls };
    this.gotSettings = {
      retry: { limit: 0 },
      throwHttpErrors: false,
      // Providers' download URLs may redirect; nothing is decompressed, so that byte offsets
      // match the file for range requests.
      followRedirect: true,
      decompress: false,
      timeout: {
        connect: options.connectMs,
        secureConnect: options.connectMs,
        response: options.responseMs,
        socket: options.idleMs,
      },
      headers: { 'user-agent': userAgent, 'accept-encoding': 'identity' },
      agent: this.agents,
      hooks: { beforeRequest: [emptyCacheOptions] },
      request: setOptionsOnly,
      https: {
        rejectUnauthorized: tls.rejectUnauthorized,
        ...(ca === undefined ? {} : { certificateAuthority: ca }),
      },
    };
  }

  /** Sends a request and buffers the (small) answer as text. */
  async fetch(request: HttpRequest): Promise<HttpResponse> {
    return this.observe(request, async () => {
      const response = await this.send(request);
      return { result: response, status: response.status };
    });
  }

  /** Sends a Cloudreve API request and parses the envelope; a non-zero code is returned, not thrown. */
  async envelope(request: HttpRequest & { fingerprint?: undefined }): Promise<ParsedAnswer>;
  async envelope(request: HttpRequest): Promise<EnvelopeAnswer>;
  async envelope(request: HttpRequest): Promise<EnvelopeAnswer> {
    return this.observe<EnvelopeAnswer>(request, async () => {
      const response = await this.send(request);
      const fingerprint = request.fingerprint && response.status === 200 ? hash('sha256', response.body, 'base64') : undefined;
      if (fingerprint !== undefined && fingerprint === request.fingerprint?.unless) {
        return { result: { unchanged: true, status: response.status, fingerprint }, status: response.status, code: Code.ok };
      }
      const envelope = parseEnvelope(response, failureContext(request));
      return { result: { unchanged: false, envelope, status: response.status, ...(fingerprint === undefined ? {} : { fingerprint }) }, status: response.status, code: envelope.code };
    });
  }

  /** Starts a download: resolves once the status and headers are in, with the body still streaming. */
  async open(request: HttpRequest): Promise<StreamingResponse> {
    return this.observe(request, async () => {
      this.#got ??= import('got').then(({ default: got }) => got.extend(this.gotSettings));
      const body = (await this.#got).stream(request.url, {
        method: request.method,
        ...(request.headers === undefined ? {} : { headers: request.headers }),
        ...(request.signal === undefined ? {} : { signal: request.signal }),
      });
      const response = await new Promise<StreamingResponse>((resolve, reject) => {
        body.once('response', (incoming: { statusCode: number; headers: IncomingHttpHeaders }) => {
          resolve({ status: incoming.statusCode, headers: incoming.headers, body });
        });
        body.once('error', (error) => reject(transportError(error, failureContext(request), request.signal)));
      });
      return { result: response, status: response.status };
    });
  }

  /** Closes idle keep-alive connections so that a finished process can exit at once. */
  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  private async send(request: HttpRequest): Promise<HttpResponse> {
    const headers: Record<string, string> = { 'user-agent': userAgent, ...request.headers };
    const { cookies } = this.options;
    if (request.cookies === true) {
      const cookie = cookies.header(request.url, request.route);
      if (cookie !== '') headers.cookie = cookie;
    }
    let body: string | Buffer | Readable | undefined = request.text;
    if (request.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(request.json);
    }

    // A failure of the local source (file vanished, unreadable) is the caller's, not the server's:
    // it is rethrown as is so that the sync engine can tell the two apart.
    let sourceError: Error | undefined;
    let bodyStream: Readable | undefined;
    if (request.body !== undefined) {
      const { source, start, end } = request.body;
      headers['content-length'] = String(end - start);
      if (source.bytes === undefined) {
        bodyStream = source.open(start, end);
        bodyStream.on('error', (error: Error) => {
          sourceError ??= error;
        });
        body = bodyStream;
      } else {
        body = Buffer.from(source.bytes.buffer, source.bytes.byteOffset, source.bytes.byteLength).subarray(start, end);
      }
    }

    try {
      const response = await exchange({ method: request.method, url: request.url, headers, body, signal: request.signal, onSent: request.onUploadProgress }, this.exchangeSettings);
      if (request.cookies === true) {
        await cookies.store(response.headers['set-cookie'] ?? [], request.url);
        if (issuesSessionCookie(response.headers)) this.options.onSessionCookie();
      }
      return response;
    } catch (error) {
      if (sourceError !== undefined) throw sourceError;
      throw transportError(error, failureContext(request), request.signal);
    } finally {
      bodyStream?.destroy();
    }
  }

  private async observe<T>(request: HttpRequest, run: () => Promise<Observed<T>>): Promise<T> {
    const started = performance.now();
    let status: number | undefined;
    let code: number | undefined;
    let error: RemoteErrorKind | undefined;
    try {
      const observed = await run();
      status = observed.status;
      code = observed.code;
      // 203 is how login asks for the second factor, not a failure.
      if (code !== undefined && code !== Code.ok && code !== Code.notFullySuccess) error = kindForCode(code);
      return observed.result;
    } catch (failure) {
      if (failure instanceof RemoteError) {
        status = failure.status;
        error = failure.kind;
      }
      throw failure;
    } finally {
      const durationMs = Math.round(performance.now() - started);
      const event: RequestEvent = {
        method: request.method,
        route: request.route,
        durationMs,
        ...(status === undefined ? {} : { status }),
        ...(code === undefined ? {} : { code }),
        ...(error === undefined ? {} : { error }),
      };
      // Built only when wanted: two requests per small file make the line's objects add up.
      if (this.options.logger.isLevelEnabled('debug')) {
        const path = loggedPath(request);
        this.options.logger.debug({ ...event, ...(path === undefined ? {} : { path }), target: request.target }, 'cloudreve request');
      }
      this.options.onRequest?.(event);
    }
  }
}

/**
 * The path a request log line shows. URLs that are themselves credentials are left out: a local
 * download session (anyone holding `/file/download/<session>` can fetch the file until it
 * expires) and every URL a provider or the server handed out (download links, upload sessions),
 * whose paths may carry tokens just as their queries carry signatures.
 */
function loggedPath(request: Pick<HttpRequest, 'route' | 'url'>): string | undefined {
  return isCredentialRoute(request.route) ? undefined : urlPath(request.url);
}

export function failureContext(request: Pick<HttpRequest, 'method' | 'url' | 'target'> & { readonly route?: string }): FailureContext {
  return { method: request.method, url: request.url, target: request.target, route: request.route };
}

/**
 * got spreads its cache options into the options of every request it hands to node, and V8 (as
 * of Node 20) gives each object built by spreading a non-empty object before further properties
 * a hidden class of its own: some 23 KB of garbage and 30 µs per request, and as much again
 * where node copies that object. Without a cache the options are never read, so they are left
 * empty, which V8 spreads into the same class every time.
 */
const emptyCacheOptions: BeforeRequestHook = (options) => {
  options.cacheOptions = {};
};

/**
 * node copies the options of a request twice: onto the fields of its URL, then into the
 * dictionary its agent names sockets by. got hands over some 35 of them, nearly all unset, which
 * makes those copies cost 14 KB per request; only the ones set go on.
 */
const setOptionsOnly: RequestFunction = (url, options, callback) => {
  const given: Record<string, unknown> = {};
  for (const key in options) {
    const value: unknown = options[key as keyof typeof options];
    if (value !== undefined) given[key] = value;
  }
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return send(url, given, callback as ((response: IncomingMessage) => void) | undefined);
};

function issuesSessionCookie(headers: IncomingHttpHeaders): boolean {
  return (headers['set-cookie'] ?? []).some((cookie) => sessionCookie.test(cookie));
}

function parseEnvelope(response: HttpResponse, ctx: FailureContext): Envelope {
  let json: unknown;
  try {
    json = JSON.parse(response.body);
  } catch {
    throw unexpectedBodyError(response, ctx);
  }
  const parsed = envelopeSchema.safeParse(json);
  if (!parsed.success) throw unexpectedBodyError(response, ctx);
  return parsed.data;
}

/** Every Cloudreve v3 API route lives below this prefix. */
export const apiPrefix = '/api/v3';

/** The URL of an API path (already percent-encoded) below `/api/v3` of `baseUrl`. */
export function apiUrl(baseUrl: string, path: string, query?: Readonly<Record<string, string>>): URL {
  const url = new URL(`${baseUrl}${apiPrefix}${path}`);
  for (const [key, value] of Object.entries(query ?? {})) url.searchParams.set(key, value);
  return url;
}

/**
 * A URL handed out by the server: absolute ones are used as they are; relative ones (local policy
 * downloads) belong to the server, so they are joined to `baseUrl`, which may include a sub-path.
 */
export function serverUrl(baseUrl: string, url: string): URL {
  if (/^[a-z][a-z0-9+.-]*:/i.test(url)) return new URL(url);
  return new URL(`${baseUrl}${url.startsWith('/') ? '' : '/'}${url}`);
}
