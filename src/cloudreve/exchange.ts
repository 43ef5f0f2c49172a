import type { Agent as HttpAgent, ClientRequest, IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { request as httpRequest } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import { request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';

export interface ExchangeTimeouts {
  /** From asking for a connection to its being ready, TCP and TLS each. */
  readonly connectMs: number;
  /** From the end of the request body to the response headers. */
  readonly responseMs: number;
  /** How long the connection may sit idle at any point. */
  readonly idleMs: number;
}

export interface ExchangeSettings {
  readonly agents: { readonly http: HttpAgent; readonly https: HttpsAgent };
  readonly timeouts: ExchangeTimeouts;
  readonly tls: { readonly ca?: string[] | undefined; readonly rejectUnauthorized: boolean };
}

export interface ExchangeRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: OutgoingHttpHeaders;
  /** Sent whole (with its Content-Length), or streamed (the caller sets Content-Length). */
  readonly body?: string | Buffer | Readable | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Told the number of body bytes handed to the connection so far. */
  readonly onSent?: ((sentBytes: number) => void) | undefined;
}

export interface ExchangeResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A timeout, with the code every transport failure is told apart by. */
export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
  readonly code = 'ETIMEDOUT';
  constructor(phase: string, ms: number) {
    super(`Timeout awaiting '${phase}' for ${ms}ms`);
  }
}

/**
 * One request with a small answer, read whole as UTF-8 text, on node's own client. This is the
 * path of the API calls and upload chunks, two or more per file: got's per-request machinery
 * (options merged and validated, a duplex stream, hooks, timers, a promise wrapper) cost some
 * 250 µs of CPU and 20 KB of garbage per request, more than the request itself. Redirects are
 * not followed and nothing is decompressed (only `identity` is accepted).
 */
export function exchange(request: ExchangeRequest, settings: ExchangeSettings): Promise<ExchangeResponse> {
  const { url, body, onSent } = request;
  const https = url.protocol === 'https:';
  const send = https ? httpsRequest : httpRequest;
  // Said outright: node leaves it out for a whole body sent with DELETE.
  const length = typeof body === 'string' || Buffer.isBuffer(body) ? { 'content-length': Buffer.byteLength(body) } : {};
  return new Promise<ExchangeResponse>((resolve, reject) => {
    const outgoing = send(url, {
      method: request.method,
      headers: { 'accept-encoding': 'identity', ...length, ...request.headers },
      agent: https ? settings.agents.https : settings.agents.http,
      ...(https ? { rejectUnauthorized: settings.tls.rejectUnauthorized, ...(settings.tls.ca === undefined ? {} : { ca: settings.tls.ca }) } : {}),
      ...(request.signal === undefined ? {} : { signal: request.signal }),
    });
    const clock = new Deadlines(outgoing, settings.timeouts, https);
    outgoing.on('error', (error) => {
      clock.stop();
      reject(error);
    });
    // Node closes a request without an error when it cannot take the answer (a protocol switch).
    outgoing.once('close', () => {
      if (clock.stopped) return;
      clock.stop();
      reject(Object.assign(new Error('the connection closed before an answer'), { code: 'ECONNRESET' }));
    });
    outgoing.once('response', (incoming: IncomingMessage) => {
      clock.stop();
      // Listeners rather than an async iterator: most answers are one chunk, and the iterator's
      // promises cost more than reading it.
      let answer = '';
      incoming.setEncoding('utf8');
      incoming.on('data', (chunk: string) => {
        answer += chunk;
      });
      incoming.once('end', () => {
        resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, body: answer });
        // An answer that came before the whole body went out leaves the connection in no state to
        // be reused, and a server that neither reads on nor closes would hold it for good.
        if (!outgoing.writableFinished) outgoing.destroy();
      });
      // The connection closed before the end of the answer.
      incoming.on('error', reject);
    });
    if (body === undefined) {
      outgoing.end();
      return;
    }
    if (typeof body === 'string' || Buffer.isBuffer(body)) {
      outgoing.end(body, () => onSent?.(Buffer.byteLength(body)));
      return;
    }
    let sent = 0;
    if (onSent !== undefined) {
      body.on('data', (chunk: Buffer) => {
        sent += chunk.length;
        onSent(sent);
      });
    }
    // Not `pipeline`, which would also destroy the source with a failure of the request: the
    // caller tells the source's own failures (a file vanished) from the network's by the error
    // the source emits. The source's failure fails the request; so does a source the caller
    // destroys before it ended (once the answer is in, or on failure).
    body.once('error', (error) => outgoing.destroy(error));
    body.once('close', () => {
      if (!body.readableEnded) outgoing.destroy();
    });
    body.pipe(outgoing);
  });
}

/**
 * got's three timeouts on a bare request: the connection (TCP, then TLS) must be ready within
 * connectMs each, the headers must follow the end of the body within responseMs, and the socket
 * may never sit idle for idleMs. A reused keep-alive connection skips the first.
 */
class Deadlines {
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(
    private readonly outgoing: ClientRequest,
    timeouts: ExchangeTimeouts,
    https: boolean,
  ) {
    outgoing.setTimeout(timeouts.idleMs, () => outgoing.destroy(new TimeoutError('socket', timeouts.idleMs)));
    outgoing.once('socket', (socket) => {
      if (!socket.connecting) return;
      this.#arm('connect', timeouts.connectMs);
      socket.once('connect', () => {
        if (https) this.#arm('secureConnect', timeouts.connectMs);
        else this.#clear();
      });
      if (https) socket.once('secureConnect', () => this.#clear());
    });
    // A server may answer before it has read the whole body (a refusal, say).
    outgoing.once('finish', () => this.#arm('response', timeouts.responseMs));
  }

  /** The answer came, or the request failed: no deadline but the idle one any more. */
  stop(): void {
    this.#stopped = true;
    this.#clear();
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  #arm(phase: string, ms: number): void {
    this.#clear();
    if (this.#stopped) return;
    this.#timer = setTimeout(() => this.outgoing.destroy(new TimeoutError(phase, ms)), ms);
  }

  #clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
