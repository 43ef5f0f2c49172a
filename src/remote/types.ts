import type { Readable } from 'node:stream';

/**
 * The storage contract the sync engine needs from a server. Cloudreve v3 implements it in
 * `src/cloudreve/`; a v4 adapter implements the same interface. Paths are absolute,
 * '/'-separated remote paths ("/" is the account root), never URL-encoded.
 *
 * Error contract (every method): failures are thrown as `RemoteError` (see errors.ts) whose
 * `kind` tells the caller what happened independently of the server's own codes.
 */
export interface Remote {
  readonly info: RemoteInfo;

  /** Lists one folder. A missing folder (or a path through a file) throws kind `not-found`. */
  list(path: string): Promise<RemoteListing>;

  /**
   * `list`, given the fingerprint of an earlier listing of the folder: while the folder lists
   * exactly as it did then, resolves 'unchanged' without reading the entries again. Optional,
   * for servers whose listings carry a fingerprint.
   */
  listUnlessUnchanged?(path: string, fingerprint: string): Promise<RemoteListing | 'unchanged'>;

  /**
   * Looks up one entry by listing its parent. Returns undefined when absent. A file and a folder
   * may share a name; `kind` picks one, otherwise the folder wins.
   */
  stat(path: string, kind?: EntryKind): Promise<RemoteEntry | undefined>;

  /** Creates a folder and its missing ancestors; succeeds when it already exists. */
  mkdir(path: string): Promise<void>;

  /** Creates an empty file; throws `exists` when a file of that name is already there. */
  createEmptyFile(path: string): Promise<void>;

  /**
   * Uploads a new file named `name` into folder `dir` (created when missing). Never overwrites:
   * an existing file throws `exists`, a same-named upload in progress throws `upload-in-progress`.
   * The new file is dated `uploadDateOf(source.mtimeMs)` when that is defined, unless it is
   * empty (some storage policies take no empty upload, and it is created directly).
   */
  upload(dir: string, name: string, source: ByteSource, options?: UploadOptions): Promise<void>;

  /** Replaces the content of an existing file in place, keeping its ID. */
  replace(fileId: string, source: ByteSource, options?: TransferOptions): Promise<void>;

  /**
   * Streams a file's content into `destination` (created or truncated), resuming with a range
   * request when the connection breaks. Resolves with the number of bytes written.
   */
  download(fileId: string, destination: string, options?: TransferOptions): Promise<number>;

  /** Moves objects that are direct children of `fromDir` into `toDir`; names are kept. */
  move(fromDir: string, objects: readonly ObjectRef[], toDir: string): Promise<void>;

  /** Renames one object inside its folder. */
  rename(object: ObjectRef, newName: string): Promise<void>;

  /** Copies one object that is a direct child of `fromDir` into `toDir`; fails with not-found when it is not (or no longer) there. */
  copy(fromDir: string, object: ObjectRef, toDir: string): Promise<void>;

  /** Deletes objects; folders go with everything below them. Missing objects are ignored. */
  delete(objects: readonly ObjectRef[]): Promise<void>;

  /** Abandons an upload session so that the name it reserves is free again. */
  cancelUpload(sessionId: string): Promise<void>;

  /**
   * Abandons every upload session of the account, for when one was opened but its ID never
   * arrived (the process was killed while waiting for the answer): the name it reserves can be
   * freed no other way. Uploads other clients have in progress must start over; this client's
   * own under way end first, and none starts until it is done (all its folders share it).
   */
  cancelAllUploads?(): Promise<void>;

  quota(): Promise<Quota>;
}

/** Optional capability: public links. Check with `canShare` before use. */
export interface RemoteSharer {
  share(object: ObjectRef, options?: ShareOptions): Promise<string>;
  directLink(fileId: string): Promise<string>;
}

export function canShare(remote: Remote): remote is Remote & RemoteSharer {
  const candidate = remote as Partial<RemoteSharer>;
  return typeof candidate.share === 'function' && typeof candidate.directLink === 'function';
}

export type EntryKind = 'file' | 'dir';

export interface ObjectRef {
  readonly kind: EntryKind;
  readonly id: string;
}

export interface RemoteEntry extends ObjectRef {
  readonly name: string;
  /** Bytes; always 0 for folders. */
  readonly size: number;
  /** Instants in milliseconds since the epoch. */
  readonly modifiedMs: number;
  readonly createdMs: number;
}

export interface RemoteListing {
  /** The listed folder's own path and ID. */
  readonly path: string;
  readonly folderId: string;
  readonly entries: readonly RemoteEntry[];
  /** Where a new upload into this account goes. */
  readonly policy: UploadPolicy;
  /**
   * Identifies the answer byte for byte, where the server spells an unchanged folder the same
   * way each time: two listings with one fingerprint list the same.
   */
  readonly fingerprint?: string;
}

export interface UploadPolicy {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  /** Largest file accepted, in bytes; 0 means unlimited. */
  readonly maxSize: number;
  /** Lower-case extensions without dots; empty means every extension is allowed. */
  readonly allowedExtensions: readonly string[];
}

export interface Quota {
  readonly used: number;
  readonly total: number;
  readonly free: number;
}

export interface RemoteInfo {
  /** Short name of the implementation, e.g. "cloudreve-v3". */
  readonly name: string;
  /** Whether `A.txt` and `a.txt` are different names on the server. */
  readonly caseSensitive: boolean;
  /** Whether a file and a folder may have the same name in one folder. */
  readonly fileAndDirMayShareName: boolean;
  /** Why the server would refuse `name` for a file or folder, or undefined when it is legal. */
  invalidNameReason(name: string): string | undefined;
}

/** Bytes to send, opened afresh for every chunk and every retry so nothing is held in memory. */
export interface ByteSource {
  readonly size: number;
  /** Modification time to record on the server, in milliseconds since the epoch. */
  readonly mtimeMs: number;
  readonly mimeType?: string;
  /** A stream over bytes [start, end). */
  open(start: number, end: number): Readable;
  /** The whole content, when it is in memory anyway: sent as it is, with no stream to set up. */
  readonly bytes?: Uint8Array;
}

export interface TransferOptions {
  readonly signal?: AbortSignal;
  /** Called with the number of bytes just transferred (a delta, not a total). */
  readonly onProgress?: (bytes: number) => void;
}

export interface UploadOptions extends TransferOptions {
  /**
   * Told of every upload session: before it is asked for (its ID is not known until the server
   * answers), as it opens, and when it is finished or abandoned, so a caller can persist it and
   * clean it up after a crash.
   */
  readonly onSessionOpening?: () => void;
  readonly onSessionOpened?: (sessionId: string) => void;
  readonly onSessionClosed?: (sessionId: string) => void;
  /**
   * A request for a session got no answer (a network error, a timeout, a server error): the
   * server may have opened one whose ID never arrived. It keeps the name reserved for a day,
   * and only cancelling all of the account's unfinished uploads frees it.
   */
  readonly onSessionUnanswered?: () => void;
}

export interface ShareOptions {
  readonly password?: string;
  /** Seconds until the link expires. */
  readonly expireSeconds?: number;
  /** Number of downloads allowed before the link expires. */
  readonly downloads?: number;
  readonly preview?: boolean;
}
