import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { ByteSource } from './types.js';

/**
 * A ByteSource over a file on disk, with the size and mtime it had when this was called. Each
 * `open` reads only the requested range, so a chunk can be re-sent without buffering it.
 */
export async function fileSource(path: string, mimeType?: string): Promise<ByteSource> {
  const info = await stat(path);
  return fileSourceOf(path, info.size, Math.trunc(info.mtimeMs), mimeType);
}

/** A ByteSource over a file on disk whose size and mtime the caller has just read. */
export function fileSourceOf(path: string, size: number, mtimeMs: number, mimeType?: string): ByteSource {
  return {
    size,
    mtimeMs,
    ...(mimeType === undefined ? {} : { mimeType }),
    open: (start, end) => (end <= start ? Readable.from([]) : createReadStream(path, { start, end: end - 1 })),
  };
}

/** A ByteSource over bytes already in memory; for small payloads and tests. */
export function bufferSource(data: Uint8Array, mtimeMs: number, mimeType?: string): ByteSource {
  return {
    size: data.byteLength,
    mtimeMs,
    ...(mimeType === undefined ? {} : { mimeType }),
    bytes: data,
    open: (start, end) => Readable.from(end <= start ? [] : [Buffer.from(data.subarray(start, end))]),
  };
}
