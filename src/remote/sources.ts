import { read } from 'node:fs';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import type { ByteSource } from './types.js';

/**
 * A ByteSource over a file the caller has open and checked, read by position through its
 * descriptor; the caller closes it once the upload is over. Not a ReadStream: destroying one
 * closes its descriptor, and every chunk's stream is destroyed when its request ends.
 */
export function descriptorSource(fd: number, size: number, mtimeMs: number): ByteSource {
  return { size, mtimeMs, open: (start, end) => Readable.from(readRange(fd, start, end)) };
}

const readPiece = promisify(read);
const pieceBytes = 64 * 1024;

async function* readRange(fd: number, start: number, end: number): AsyncGenerator<Buffer> {
  for (let at = start; at < end; ) {
    const length = Math.min(pieceBytes, end - at);
    const { bytesRead, buffer } = await readPiece(fd, Buffer.allocUnsafe(length), 0, length, at);
    // A short body would leave the server waiting for the rest.
    if (bytesRead === 0) throw new Error(`the file ended at byte ${at} of ${end} while it was sent`);
    yield buffer.subarray(0, bytesRead);
    at += bytesRead;
  }
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
