import { closeSync, constants, fstatSync, openSync, readSync, type BigIntStats } from 'node:fs';
import { open } from 'node:fs/promises';
import type { LocalFacts } from '../plan/types.js';
import { bufferSource, fileSourceOf } from '../remote/sources.js';
import type { ByteSource } from '../remote/types.js';
import type { StatPace } from '../scan/stat-pace.js';
import { factsOf, LocalChangedError, sameFacts } from './local-facts.js';

/** Files up to this size are read whole before they are sent; larger ones stream from the disk. */
export const wholeReadMaxBytes = 256 * 1024;

/**
 * A file that became a symlink since the scan is not followed, and one that became a FIFO does
 * not hold the call (neither flag changes how a regular file is read).
 */
const openFlags = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

export interface UploadSource {
  readonly source: ByteSource;
  /**
   * The bytes were read whole, with the expected facts before and after: what is sent is that
   * version, whatever happens to the file meanwhile. A streamed file must be checked afterwards.
   */
  readonly snapshot: boolean;
}

/** The few calls a read needs, through the thread pool or synchronously. */
interface OpenFile {
  stat(): Promise<BigIntStats>;
  read(into: Buffer, at: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * Opens `absolute` for an upload and checks that it is still the file the plan saw. A small file
 * is read whole right away: one open, two fstats and a read, where a stream costs a dozen trips
 * through the thread pool. While the disk answers from its cache (`pace`), the calls are
 * synchronous, as in the scan.
 */
export async function openForUpload(absolute: string, expected: LocalFacts, pace: StatPace, shown: string): Promise<UploadSource> {
  const changed = (): LocalChangedError => new LocalChangedError(`${shown} changed since the scan; it will be looked at again next run`);
  const file = pace.sync ? openNow(absolute, pace, changed) : await openLater(absolute, changed);
  try {
    const before = factsOf(await file.stat());
    if (!sameFacts(before, expected)) throw changed();
    if (before.size > wholeReadMaxBytes) return { source: fileSourceOf(absolute, before.size, before.mtimeMs), snapshot: false };
    const bytes = Buffer.allocUnsafe(before.size);
    let filled = 0;
    for (let got = -1; filled < bytes.length && got !== 0; filled += got) got = await file.read(bytes, filled);
    if (filled !== bytes.length || !sameFacts(factsOf(await file.stat()), expected)) throw changed();
    return { source: bufferSource(bytes, before.mtimeMs), snapshot: true };
  } finally {
    await file.close();
  }
}

function openNow(absolute: string, pace: StatPace, changed: () => Error): OpenFile {
  const fd = pace.timed(() => openOrChanged(() => openSync(absolute, openFlags), changed));
  return {
    stat: () => Promise.resolve(pace.timed(() => fstatSync(fd, { bigint: true }))),
    read: (into, at) => Promise.resolve(pace.timed(() => readSync(fd, into, at, into.length - at, at))),
    close: () => Promise.resolve(pace.timed(() => closeSync(fd))),
  };
}

async function openLater(absolute: string, changed: () => Error): Promise<OpenFile> {
  const handle = await openOrChanged(() => open(absolute, openFlags), changed);
  return {
    stat: () => handle.stat({ bigint: true }),
    read: async (into, at) => (await handle.read(into, at, into.length - at, at)).bytesRead,
    close: () => handle.close(),
  };
}

/** Gone, or now a symlink: the path changed since the scan, which is not a failure of the file. */
function openOrChanged<T>(call: () => T, changed: () => Error): T {
  const rethrow = (error: unknown): never => {
    const code = (error as NodeJS.ErrnoException).code;
    throw code === 'ENOENT' || code === 'ELOOP' ? changed() : error;
  };
  try {
    const result = call();
    return result instanceof Promise ? (result.catch(rethrow) as T) : result;
  } catch (error) {
    return rethrow(error);
  }
}
