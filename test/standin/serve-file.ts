import { pipeline } from 'node:stream/promises';
import type { App } from './app.js';
import { AppError, type Reply } from './envelope.js';
import { ext } from './gopath.js';
import type { Ctx } from './route.js';
import { httpDate } from './timefmt.js';

/** What Cloudreve hands to `http.ServeContent`. */
export interface ServedFile {
  readonly blob: string;
  /** Decides the Content-Type by extension. */
  readonly name: string;
  readonly modifiedAt: number;
}

/** Go's built-in `mime.TypeByExtension` table. */
const mimeTypes: Readonly<Record<string, string>> = {
  '.avif': 'image/avif', '.css': 'text/css; charset=utf-8', '.gif': 'image/gif', '.htm': 'text/html; charset=utf-8',
  '.html': 'text/html; charset=utf-8', '.jpeg': 'image/jpeg', '.jpg': 'image/jpeg', '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json', '.mjs': 'text/javascript; charset=utf-8', '.pdf': 'application/pdf', '.png': 'image/png',
  '.svg': 'image/svg+xml', '.wasm': 'application/wasm', '.webp': 'image/webp', '.xml': 'text/xml; charset=utf-8',
};

/** The text/binary decision of `http.DetectContentType`. */
function sniff(head: Buffer): string {
  const binary = head.some((b) => b <= 0x08 || b === 0x0b || (b >= 0x0e && b <= 0x1a) || (b >= 0x1c && b <= 0x1f));
  return binary ? 'application/octet-stream' : 'text/plain; charset=utf-8';
}

type Range = { readonly start: number; readonly length: number };

const invalidRange = 'invalid range';
const noOverlap = 'invalid range: failed to overlap';

/** Go's `parseRange`: a list of ranges, or the error text ServeContent answers 416 with. */
function parseRange(header: string, size: number): Range[] | string {
  if (header === '') return [];
  if (!header.startsWith('bytes=')) return invalidRange;
  const ranges: Range[] = [];
  let overlapMissed = false;
  for (const spec of header.slice('bytes='.length).split(',').map((s) => s.trim())) {
    if (spec === '') continue;
    const dash = spec.indexOf('-');
    if (dash < 0) return invalidRange;
    const first = spec.slice(0, dash).trim();
    const last = spec.slice(dash + 1).trim();
    if (first === '') {
      if (!/^\d+$/.test(last)) return invalidRange;
      const suffix = Math.min(Number(last), size);
      ranges.push({ start: size - suffix, length: suffix });
      continue;
    }
    if (!/^\d+$/.test(first)) return invalidRange;
    const start = Number(first);
    if (start >= size) {
      overlapMissed = true;
      continue;
    }
    if (last === '') {
      ranges.push({ start, length: size - start });
      continue;
    }
    if (!/^\d+$/.test(last) || Number(last) < start) return invalidRange;
    ranges.push({ start, length: Math.min(Number(last), size - 1) - start + 1 });
  }
  return overlapMissed && ranges.length === 0 ? noOverlap : ranges;
}

const seconds = (ms: number): number => Math.floor(ms / 1000);

/** RFC 7232 preconditions as ServeContent evaluates them (no ETag is ever set). */
function preconditions(ctx: Ctx, modifiedAt: number): 'go' | 'not-modified' | 'failed' {
  const header = (name: string): string => {
    const value = ctx.req.headers[name];
    return typeof value === 'string' ? value.trim() : '';
  };
  const time = (name: string): number | null => {
    const parsed = Date.parse(header(name));
    return Number.isNaN(parsed) ? null : seconds(parsed);
  };
  const ifMatch = header('if-match');
  if (ifMatch !== '' ? ifMatch !== '*' : (time('if-unmodified-since') ?? Infinity) < seconds(modifiedAt)) return 'failed';
  const ifNoneMatch = header('if-none-match');
  if (ifNoneMatch === '*') return 'not-modified';
  if (ifNoneMatch === '' && seconds(modifiedAt) <= (time('if-modified-since') ?? -Infinity)) return 'not-modified';
  return 'go';
}

/** If-Range with a date honours the Range only when it equals the modification time; an ETag never matches. */
function rangeApplies(ctx: Ctx, modifiedAt: number): boolean {
  const ifRange = ctx.req.headers['if-range'];
  if (typeof ifRange !== 'string' || ifRange === '') return true;
  const parsed = Date.parse(ifRange);
  return !Number.isNaN(parsed) && seconds(parsed) === seconds(modifiedAt);
}

/**
 * `http.ServeContent` streaming from disk: Last-Modified, preconditions, a single byte range
 * (206, or 416 when unsatisfiable), Accept-Ranges and Content-Length. A missing object is
 * `GetContent`'s ErrIO wrapping the driver's error, which `serializer.Err` answers with its own
 * code and message.
 */
export async function serveFile(app: App, ctx: Ctx, file: ServedFile, headers: Readonly<Record<string, string>>): Promise<Reply> {
  const size = await app.blobs.size(file.blob);
  if (size === null) throw new AppError(50004, 'Failed to read file data');
  const { res } = ctx;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.setHeader('Last-Modified', httpDate(seconds(file.modifiedAt) * 1000));
  const verdict = preconditions(ctx, file.modifiedAt);
  if (verdict !== 'go') {
    res.writeHead(verdict === 'failed' ? 412 : 304).end();
    return { kind: 'streamed' };
  }
  res.setHeader('Content-Type', mimeTypes[ext(file.name).toLowerCase()] ?? sniff(await app.blobs.peek(file.blob, 512)));
  const ranges = parseRange(rangeApplies(ctx, file.modifiedAt) ? (ctx.req.headers.range ?? '') : '', size);
  if (typeof ranges === 'string') {
    if (ranges === noOverlap) res.setHeader('Content-Range', `bytes */${size}`);
    const body = `${ranges}\n`;
    res.writeHead(416, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', 'Content-Length': String(body.length) });
    res.end(body);
    return { kind: 'streamed' };
  }
  // Several ranges would be multipart/byteranges; the stand-in sends the whole file instead.
  const range = ranges.length === 1 && (ranges[0]?.length ?? 0) <= size ? ranges[0] : undefined;
  const start = range?.start ?? 0;
  const length = range?.length ?? size;
  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader('Content-Length', String(length));
  if (range !== undefined) res.setHeader('Content-Range', `bytes ${start}-${start + length - 1}/${size}`);
  res.writeHead(range === undefined ? 200 : 206);
  if (length === 0) {
    res.end();
    return { kind: 'streamed' };
  }
  // The file may shrink while it is sent (PUT /file/update writes in place). Go's server closes
  // a connection whose handler wrote less than its Content-Length; ended as if whole, the
  // response would leave the client waiting for the rest on a kept-alive connection.
  const body = app.blobs.read(file.blob, start, start + length - 1);
  let sent = 0;
  body.on('data', (chunk: Buffer) => (sent += chunk.length));
  await pipeline(body, res, { end: false }).catch(() => undefined);
  if (sent === length) res.end();
  else res.destroy();
  return { kind: 'streamed' };
}
