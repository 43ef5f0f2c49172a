import { open, type FileHandle } from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import type { Logger } from '../log/logger.js';
import type { RemoteError } from '../remote/errors.js';
import type { TransferOptions } from '../remote/types.js';
import type { Api } from './api.js';
import { Code } from './codes.js';
import { codeError, protocolError, providerStatusError, transportError } from './failures.js';
import { apiPrefix, failureContext, serverUrl, type HttpRequest, type HttpTransport, type StreamingResponse } from './http.js';
import { ProgressTracker } from './progress.js';
import { isRetryable, pause, throwIfAborted } from './retry.js';
import { envelopeSchema, stringDataSchema } from './wire.js';

export interface DownloadDeps {
  readonly api: Api;
  readonly transport: HttpTransport;
  readonly baseUrl: string;
  /** Attempts in a row that may fail without any progress before the download gives up. */
  readonly retries: number;
  readonly logger: Logger;
}

/** Codes of a signed download URL that has expired or whose download session is gone. */
const expiredUrlCodes: ReadonlySet<number> = new Set([Code.signExpired, Code.invalidSign, Code.notFound, 403]);

/** What to do with an answer before reading its body. */
type Verdict =
  | { readonly action: 'write'; readonly from: number; readonly total: number | undefined; readonly validator: string | undefined }
  /** The file changed since the part written (its size did): start over. */
  | { readonly action: 'restart'; readonly reason: RemoteError }
  | { readonly action: 'renew-url'; readonly reason: RemoteError }
  | { readonly action: 'done' };

/**
 * Streams a file into `destination`: asks Cloudreve for a download URL, resumes a broken transfer
 * with a range request (from scratch when the server ignores the range), asks for a fresh URL when
 * the old one expired, and checks the final size against what the server announced.
 *
 * A file replaced on the server between a broken transfer and its resume must not end up as the
 * old start joined to the new rest. A resume starts over when the size changed, and asks for the
 * rest only of the version it began with (`If-Range` with the date it was served with), which
 * tells versions apart once the URL is renewed: through one URL Cloudreve serves the file as it
 * is now under the date it cached with the URL. A replacement of the same size through the same
 * URL cannot be told apart (Cloudreve v3 sends no ETag); the next scan sees the new date and
 * downloads the file again.
 */
export async function downloadFile(deps: DownloadDeps, fileId: string, destination: string, options: TransferOptions = {}): Promise<number> {
  const { signal } = options;
  const progress = new ProgressTracker(options.onProgress);
  const handle = await open(destination, 'w');
  try {
    let url = await downloadUrl(deps, fileId, signal);
    let written = 0;
    let expected: number | undefined;
    let validator: string | undefined;
    // Progress is a byte beyond any an attempt reached before: an answer cut at the same place
    // each time, after a start over, is none (a proxy ignoring the range, a transfer time limit).
    let furthest = 0;
    for (let stalled = 0; ; ) {
      throwIfAborted(signal);
      const request = rangeRequest(deps.baseUrl, url, fileId, written, validator, signal);
      let failure: RemoteError;
      try {
        const response = await deps.transport.open(request);
        const verdict = await judge(response, request, written, expected, origin(deps.baseUrl, url));
        if (verdict.action === 'done') return written;
        if (verdict.action === 'renew-url') {
          failure = verdict.reason;
          url = await downloadUrl(deps, fileId, signal);
        } else if (verdict.action === 'restart') {
          failure = verdict.reason;
          await handle.truncate(0);
          written = 0;
          furthest = 0;
          expected = undefined;
          validator = undefined;
        } else {
          if (verdict.from === 0 && written > 0) {
            // The server ignored the range: start again from the first byte.
            await handle.truncate(0);
            written = 0;
          }
          expected = verdict.total ?? expected;
          validator = verdict.validator ?? validator;
          const copied = await copyInto(response.body, handle, written, progress);
          written = copied.position;
          if (copied.failure === undefined) {
            if (expected === undefined || written === expected) return written;
            if (written > expected) throw protocolError(`Received ${written} bytes of a ${expected}-byte file`, failureContext(request));
            failure = protocolError(`The connection ended after ${written} of ${expected} bytes`, failureContext(request));
          } else {
            failure = transportError(copied.failure, failureContext(request), signal);
            if (!failure.retryable) throw failure;
          }
          if (written > furthest) {
            furthest = written;
            stalled = 0;
          }
        }
      } catch (error) {
        if (!isRetryable(error)) throw error;
        failure = error;
      }
      if (stalled >= deps.retries) throw failure;
      deps.logger.debug({ target: fileId, written, reason: failure.message }, 'resuming the download');
      await pause(stalled, signal);
      stalled += 1;
    }
  } finally {
    await handle.close();
  }
}

/**
 * How many bytes the server stores for a file, which may be fewer than it lists: Cloudreve
 * completes an upload at its full size when the client went before the last chunk was answered,
 * and its cancel hook then cuts the stored file back to where that chunk began. One byte is asked
 * for: the stored size is in the answer's Content-Range, or in a 416's when there is no byte.
 */
export async function storedSize(deps: DownloadDeps, fileId: string, signal?: AbortSignal): Promise<number> {
  const url = await downloadUrl(deps, fileId, signal);
  const request = { ...rangeRequest(deps.baseUrl, url, fileId, 0, undefined, signal), headers: { range: 'bytes=0-0' } };
  const response = await deps.transport.open(request);
  try {
    const unsatisfiable = response.status === 416 ? /^bytes \*\/(\d+)$/.exec(response.headers['content-range'] ?? '') : null;
    if (unsatisfiable?.[1] !== undefined) return Number(unsatisfiable[1]);
    const verdict = await judge(response, request, 0, undefined, origin(deps.baseUrl, url));
    if (verdict.action === 'write' && verdict.total !== undefined) return verdict.total;
    throw 'reason' in verdict ? verdict.reason : protocolError('The download URL told no size', failureContext(request), response.status);
  } finally {
    response.body.destroy();
  }
}

function downloadUrl(deps: DownloadDeps, fileId: string, signal: AbortSignal | undefined): Promise<URL> {
  return deps.api
    .data(
      {
        method: 'PUT',
        route: '/file/download/:id',
        path: `/file/download/${encodeURIComponent(fileId)}`,
        idempotent: true,
        target: fileId,
        signal,
      },
      stringDataSchema,
    )
    .then((url) => serverUrl(deps.baseUrl, url));
}

function rangeRequest(baseUrl: string, url: URL, fileId: string, from: number, validator: string | undefined, signal: AbortSignal | undefined): HttpRequest {
  const local = origin(baseUrl, url) === 'server' && url.pathname.includes(`${apiPrefix}/file/download/`);
  return {
    method: 'GET',
    url,
    route: local ? `GET ${apiPrefix}/file/download/:sessionId` : 'GET <download URL>',
    headers: from > 0 ? { range: `bytes=${from}-`, ...(validator === undefined ? {} : { 'if-range': validator }) } : {},
    signal,
    target: fileId,
  };
}

/**
 * Who answers a download URL: the server itself; Cloudreve on another host (a local policy's CDN
 * `BaseURL` in front of the server, or a slave node), which reports an expired signature as
 * the server does; or a storage provider.
 */
type Origin = 'server' | 'cloudreve' | 'storage';

/** Paths at which a Cloudreve master or slave serves a file's bytes under a signature. */
const signedDownloadPaths = [`${apiPrefix}/file/download/`, `${apiPrefix}/slave/download/`];

function origin(baseUrl: string, url: URL): Origin {
  if (url.origin === new URL(baseUrl).origin) return 'server';
  return signedDownloadPaths.some((path) => url.pathname.includes(path)) ? 'cloudreve' : 'storage';
}

async function judge(
  response: StreamingResponse,
  request: HttpRequest,
  written: number,
  expected: number | undefined,
  from: Origin,
): Promise<Verdict> {
  const ctx = failureContext(request);
  const { status, headers } = response;
  // Cloudreve reports a bad or expired signature as a JSON envelope with HTTP 200, whereas a
  // served file always comes as an attachment. A storage provider's file may be JSON as it is.
  if (from !== 'storage' && status === 200 && isJson(headers) && headers['content-disposition'] === undefined) {
    const body = await text(response.body);
    const envelope = envelopeSchema.safeParse(safeJson(body));
    if (envelope.success && envelope.data.code !== Code.ok) {
      const error = codeError(envelope.data, ctx, { status });
      if (expiredUrlCodes.has(envelope.data.code)) return { action: 'renew-url', reason: error };
      throw error;
    }
    throw protocolError('The download URL answered JSON instead of the file', ctx, status);
  }
  const validator = headers['last-modified'];
  if (status === 200) return { action: 'write', from: 0, total: contentLength(headers), validator };
  if (status === 206) {
    const range = contentRange(headers);
    if (range?.start !== written) {
      response.body.destroy();
      throw protocolError(`Asked for bytes from ${written} but got ${headers['content-range'] ?? 'no Content-Range'}`, ctx, status);
    }
    if (expected !== undefined && range.total !== undefined && range.total !== expected) {
      response.body.destroy();
      return { action: 'restart', reason: protocolError(`The file is ${range.total} bytes now, ${expected} when its download began; starting over`, ctx, status) };
    }
    return { action: 'write', from: written, total: range.total, validator };
  }
  const body = await text(response.body);
  if (status === 416 && expected !== undefined && written === expected) return { action: 'done' };
  const error = providerStatusError(status, body, ctx);
  if (from !== 'server' && (status === 403 || status === 404 || status === 410)) return { action: 'renew-url', reason: error };
  throw error;
}

/** Appends the body to the file at `position`; a broken connection is reported, not thrown. */
async function copyInto(
  body: Readable,
  handle: FileHandle,
  position: number,
  progress: ProgressTracker,
): Promise<{ position: number; failure?: unknown }> {
  let at = position;
  const chunks = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  try {
    for (;;) {
      let next: IteratorResult<Buffer>;
      try {
        next = await chunks.next();
      } catch (failure) {
        return { position: at, failure };
      }
      if (next.done === true) return { position: at };
      // A failing write (disk full) is local and propagates as it is.
      await writeAll(handle, next.value, at);
      at += next.value.length;
      progress.reach(at);
    }
  } finally {
    body.destroy();
  }
}

async function writeAll(handle: FileHandle, chunk: Buffer, position: number): Promise<void> {
  for (let offset = 0; offset < chunk.length; ) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset, position + offset);
    offset += bytesWritten;
  }
}

function isJson(headers: IncomingHttpHeaders): boolean {
  return (headers['content-type'] ?? '').toLowerCase().startsWith('application/json');
}

function safeJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

function contentLength(headers: IncomingHttpHeaders): number | undefined {
  const value = headers['content-length'];
  return value === undefined || !/^\d+$/.test(value) ? undefined : Number(value);
}

function contentRange(headers: IncomingHttpHeaders): { start: number; total: number | undefined } | undefined {
  const match = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(headers['content-range'] ?? '');
  if (match?.[1] === undefined) return undefined;
  return { start: Number(match[1]), total: match[2] === undefined || match[2] === '*' ? undefined : Number(match[2]) };
}
