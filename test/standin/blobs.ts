import { createReadStream, createWriteStream } from 'node:fs';
import { link, mkdir, open, rm, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomString } from './random.js';

/** A write the local driver refuses; its message is what Cloudreve puts in the 40002 answer. */
class WriteRefused extends Error {
  override readonly name = 'WriteRefused';
}

/**
 * Physical objects on disk, one file per object under `<root>/blobs`. Records that share an
 * object (copies) hold references; the file goes when the last reference does
 * (`RemoveFilesWithSoftLinks`).
 */
export class BlobStore {
  readonly #dir: string;
  readonly #refs = new Map<string, number>();
  #next = 1;

  constructor(root: string) {
    this.#dir = join(root, 'blobs');
  }

  async init(): Promise<void> {
    await mkdir(this.#dir, { recursive: true });
  }

  /** A fresh object name with one reference; nothing is written yet. */
  allocate(): string {
    const name = `${this.#next++}_${randomString(8)}`;
    this.#refs.set(name, 1);
    return name;
  }

  path(name: string): string {
    return join(this.#dir, name);
  }

  references(name: string): number {
    return this.#refs.get(name) ?? 0;
  }

  ref(name: string): void {
    this.#refs.set(name, (this.#refs.get(name) ?? 0) + 1);
  }

  async unref(name: string): Promise<void> {
    const left = (this.#refs.get(name) ?? 1) - 1;
    if (left > 0) {
      this.#refs.set(name, left);
      return;
    }
    this.#refs.delete(name);
    await this.discard(name);
  }

  /** Removes the physical object whatever references remain. */
  async discard(name: string): Promise<void> {
    await rm(this.path(name), { force: true });
  }

  async size(name: string): Promise<number | null> {
    try {
      return (await stat(this.path(name))).size;
    } catch {
      return null;
    }
  }

  async truncate(name: string, size: number): Promise<void> {
    await truncate(this.path(name), size).catch(() => undefined);
  }

  /**
   * The local driver's `Put` in append mode: without `overwrite` an existing object is refused
   * (the chunk-0 gotcha); otherwise the object is cut back to `offset` before the body is
   * appended. The object exists before the body is read, as in Go. A failed body (client gone)
   * truncates back to `offset`, like the AfterUploadCanceled hook.
   */
  async append(name: string, offset: number, body: Readable, overwrite: boolean): Promise<void> {
    const handle = await open(this.path(name), overwrite ? 'a' : 'ax').catch((error: unknown) => {
      if (isCode(error, 'EEXIST')) throw new WriteRefused('file with the same name existed or unavailable');
      throw error;
    });
    try {
      const { size } = await handle.stat();
      // A negative chunk index wraps to a huge offset in Go's uint64 arithmetic.
      if (offset < 0 || size < offset) throw new WriteRefused('size of unfinished uploaded chunks is not as expected');
      if (size > offset) await handle.truncate(offset);
    } catch (error) {
      await handle.close();
      throw error;
    }
    try {
      await pipeline(body, handle.createWriteStream());
    } catch (error) {
      await this.truncate(name, offset);
      throw error;
    }
  }

  /** Writes a whole object, replacing any content (`O_TRUNC`); `exclusive` refuses an existing one. */
  async write(name: string, body: Readable, exclusive: boolean, through: Transform[] = []): Promise<void> {
    const handle = await open(this.path(name), exclusive ? 'wx' : 'w');
    await pipeline([body, ...through, handle.createWriteStream()]);
  }

  /** Joins objects into a new one, in order. */
  async concat(name: string, parts: readonly string[]): Promise<void> {
    const path = (part: string): string => this.path(part);
    async function* joined(): AsyncGenerator<Buffer> {
      for (const part of parts) yield* createReadStream(path(part)) as AsyncIterable<Buffer>;
    }
    await pipeline(joined(), createWriteStream(this.path(name), { flags: 'wx' }));
  }

  /** Moves a finished object into place; fails when the target exists. */
  async publish(from: string, to: string): Promise<void> {
    await link(this.path(from), this.path(to));
    await this.discard(from);
  }

  /** Up to `length` bytes from the start of the object, for content sniffing. */
  async peek(name: string, length: number): Promise<Buffer> {
    const handle = await open(this.path(name), 'r');
    try {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, 0);
      return buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  }

  /** Bytes `start` to `end` inclusive. */
  read(name: string, start: number, end: number): Readable {
    return createReadStream(this.path(name), { start, end });
  }
}

export function isCode(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}
