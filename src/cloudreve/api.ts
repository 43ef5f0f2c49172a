import type * as z from 'zod';
import { Code } from './codes.js';
import { codeError, protocolError, type FailureContext } from './failures.js';
import { apiPrefix, apiUrl, type EnvelopeAnswer, type HttpMethod, type ParsedAnswer, type HttpRequest, type HttpTransport, type StreamBody } from './http.js';
import { isRetryable, pause, throwIfAborted } from './retry.js';
import type { Session } from './session.js';
import type { Envelope } from './wire.js';

export interface ApiRequest {
  readonly method: HttpMethod;
  /** gin route pattern below /api/v3, e.g. "/directory/*path"; for metrics. */
  readonly route: string;
  /** The concrete, percent-encoded path below /api/v3. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string>>;
  readonly headers?: Readonly<Record<string, string>>;
  readonly json?: unknown;
  readonly body?: StreamBody;
  /** Whether sending the request twice does no harm; only such requests are retried. */
  readonly idempotent: boolean;
  /** Routes that work without login (ping, site config). */
  readonly anonymous?: boolean;
  /** The remote path or ID the request is about, for error messages. */
  readonly target?: string | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly onUploadProgress?: ((sentBytes: number) => void) | undefined;
  /** Told of every failed attempt, the last one included. */
  readonly onFailedAttempt?: ((error: unknown) => void) | undefined;
}

/** A call's data with the fingerprint of its answer (none for an answer that was not a success). */
export interface Fingerprinted<T> {
  readonly unchanged: false;
  readonly data: T;
  readonly fingerprint: string | undefined;
}

type FingerprintedRequest = ApiRequest & { readonly fingerprint?: HttpRequest['fingerprint'] };

export interface ApiOptions {
  readonly baseUrl: string;
  readonly transport: HttpTransport;
  readonly session: Session;
  readonly retries: number;
}

/**
 * Cloudreve API calls with the session attached: logs in when needed, logs in again once when the
 * server says "login required" (code 401), retries idempotent requests on transient failures, and
 * turns every non-zero code into a RemoteError.
 */
export class Api {
  constructor(private readonly options: ApiOptions) {}

  /** Calls and validates `data` against `schema`. */
  async data<S extends z.ZodType>(request: ApiRequest, schema: S): Promise<z.output<S>> {
    return this.validate(request, schema, (await this.call(request)).envelope);
  }

  /**
   * `data`, with a fingerprint of the answer's body; when it is `unless`, the answer is neither
   * parsed nor validated. A GET whose answer the server spells the same way each time.
   */
  async fingerprinted<S extends z.ZodType>(request: ApiRequest, schema: S, unless: undefined): Promise<Fingerprinted<z.output<S>>>;
  async fingerprinted<S extends z.ZodType>(request: ApiRequest, schema: S, unless: string): Promise<Fingerprinted<z.output<S>> | { readonly unchanged: true }>;
  async fingerprinted<S extends z.ZodType>(request: ApiRequest, schema: S, unless: string | undefined): Promise<Fingerprinted<z.output<S>> | { readonly unchanged: true }> {
    const answer = await this.call({ ...request, fingerprint: { unless } });
    if (answer.unchanged) return answer;
    return { unchanged: false, data: this.validate(request, schema, answer.envelope), fingerprint: answer.fingerprint };
  }

  /** Calls a route whose answer carries no data worth reading. */
  async run(request: ApiRequest): Promise<void> {
    await this.call(request);
  }

  private validate<S extends z.ZodType>(request: ApiRequest, schema: S, envelope: Envelope): z.output<S> {
    const parsed = schema.safeParse(envelope.data);
    if (!parsed.success) {
      throw protocolError(`Unexpected answer from Cloudreve: ${parsed.error.issues[0]?.message ?? 'invalid data'}`, this.context(request));
    }
    return parsed.data;
  }

  private context(request: Pick<ApiRequest, 'method' | 'path' | 'target'>): FailureContext {
    return { method: request.method, url: apiUrl(this.options.baseUrl, request.path), target: request.target };
  }

  private async call(request: ApiRequest): Promise<ParsedAnswer>;
  private async call(request: FingerprintedRequest): Promise<EnvelopeAnswer>;
  private async call(request: FingerprintedRequest): Promise<EnvelopeAnswer> {
    const retries = request.idempotent ? this.options.retries : 0;
    for (let attempt = 0; ; attempt++) {
      throwIfAborted(request.signal);
      try {
        return await this.attempt(request);
      } catch (error) {
        request.onFailedAttempt?.(error);
        if (attempt >= retries || !isRetryable(error)) throw error;
        await pause(attempt, request.signal);
      }
    }
  }

  private async attempt(request: FingerprintedRequest): Promise<EnvelopeAnswer> {
    const { session, transport } = this.options;
    const http = this.httpRequest(request);
    if (request.anonymous === true) return this.accept(request, await transport.envelope(http));
    const generation = await session.ensure();
    let answer = await transport.envelope(http);
    if (!answer.unchanged && answer.envelope.code === Code.checkLogin) {
      await session.renew(generation);
      answer = await transport.envelope(http);
    }
    return this.accept(request, answer);
  }

  private accept(request: ApiRequest, answer: EnvelopeAnswer): EnvelopeAnswer {
    if (!answer.unchanged && answer.envelope.code !== Code.ok) throw codeError(answer.envelope, this.context(request), { status: answer.status });
    return answer;
  }

  private httpRequest(request: FingerprintedRequest): HttpRequest {
    return {
      method: request.method,
      url: apiUrl(this.options.baseUrl, request.path, request.query),
      route: `${request.method} ${apiPrefix}${request.route}`,
      cookies: true,
      ...(request.headers === undefined ? {} : { headers: request.headers }),
      ...(request.json === undefined ? {} : { json: request.json }),
      body: request.body,
      signal: request.signal,
      target: request.target,
      onUploadProgress: request.onUploadProgress,
      fingerprint: request.fingerprint,
    };
  }
}
