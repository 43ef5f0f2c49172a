import { closeSync, constants, fstatSync, openSync, readSync, type BigIntStats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { LocalFacts } from '../plan/types.js';
import { bufferSource, descriptorSource } from '../remote/sources.js';
import type { ByteSource } from '../remote/types.js';
import { describeFsError, errnoCode, isPermissionDenied } from '../scan/errors.js';
import { factsOf } from '../scan/facts.js';
import type { StatPace } from '../scan/stat-pace.js';
import { LocalChangedError, sameFacts } from './local-facts.js';

/** Files up to this size are read whole before they are sent; larger ones stream from the disk. */
export const wholeReadMaxBytes = 256 * 1024;

/**
 * A file that became a symlink since the scan is not followed, and one that became a FIFO does
 * not hold the call (neither flag changes how a regular file is read; both exist on Linux and
 * macOS, the systems cloudreve-sync runs on).
 */
const openFlags = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** Errors of `open` that mean the path is no longer the file the scan saw, not that it fails. */
const changedCodes = new Set(['ENOENT', 'ELOOP', 'ENOTDIR', 'ENXIO']);

export interface UploadSource {
  readonly source: ByteSource;
  /**
   * The bytes were read whole, with the expected facts before and after: what is sent is that
   * version, whatever happens to the file meanwhile. A streamed file must be checked afterwards.
   */
  readonly snapshot: boolean;
  /** Releases the file once the upload is over (a streamed file is read through its descriptor). */
  close(): Promise<void>;
}

/** The few calls a read needs, through the thread pool or synchronously. */
interface OpenFile {
  readonly fd: number;
  stat(): Promise<BigIntStats>;
  read(into: Buffer, at: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * Opens `absolute` for an upload and checks that it is still the file the plan saw. A small file
 * is read whole right away: one open, two fstats and a read, where a stream costs a dozen trips
 * through the thread pool. While the disk answers from its cache (`pace`), the calls are
 * synchronous, as in the scan. A larger file streams from the same descriptor: reopening it by
 * name could meet a symlink or a FIFO put there since the check.
 */
export async function openForUpload(absolute: string, expected: LocalFacts, pace: StatPace, shown: string): Promise<UploadSource> {
  const changed = (cause?: unknown): LocalChangedError =>
    new LocalChangedError(`${shown} changed since the scan; it will be looked at again next run`, cause === undefined ? undefined : { cause });
  const openFailed = (error: unknown): unknown => {
    if (changedCodes.has(errnoCode(error) ?? '')) return changed(error);
    if (isPermissionDenied(error)) return new Error(`cannot read ${shown} (${describeFsError(error)})`, { cause: error });
    return error;
  };
  const file = pace.sync ? openNow(absolute, pace, openFailed) : await openLater(absolute, openFailed);
  let streamed = false;
  try {
    const stats = await file.stat();
    const before = factsOf(stats);
    if (!stats.isFile() || !sameFacts(before, expected)) throw changed();
    if (before.size > wholeReadMaxBytes) {
      streamed = true;
      return { source: descriptorSource(file.fd, before.size, before.mtimeMs), snapshot: false, close: () => file.close() };
    }
    const bytes = Buffer.allocUnsafe(before.size);
    let filled = 0;
    for (let got = -1; filled < bytes.length && got !== 0; filled += got) got = await file.read(bytes, filled);
    if (filled !== bytes.length || !sameFacts(factsOf(await file.stat()), expected)) throw changed();
    return { source: bufferSource(bytes, before.mtimeMs), snapshot: true, close: () => Promise.resolve() };
  } finally {
    if (!streamed) await file.close();
  }
}

function openNow(absolute: string, pace: StatPace, failed: (error: unknown) => unknown): OpenFile {
  let fd: number;
  try {
    fd = pace.timed(() => openSync(absolute, openFlags));
  } catch (error) {
    throw failed(error);
  }
  return {
    fd,
    stat: () => Promise.resolve(pace.timed(() => fstatSync(fd, { bigint: true }))),
    read: (into, at) => Promise.resolve(pace.timed(() => readSync(fd, into, at, into.length - at, at))),
    close: () => Promise.resolve(pace.timed(() => closeSync(fd))),
  };
}

async function openLater(absolute: string, failed: (error: unknown) => unknown): Promise<OpenFile> {
  let handle: FileHandle;
  try {
    handle = await open(absolute, openFlags);
  } catch (error) {
    throw failed(error);
  }
  return {
    fd: handle.fd,
    stat: () => handle.stat({ bigint: true }),
    read: async (into, at) => (await handle.read(into, at, into.length - at, at)).bytesRead,
    close: () => handle.close(),
  };
}
