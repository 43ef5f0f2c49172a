import type { Logger } from '../../log/logger.js';
import { RemoteError, isRemoteError } from '../../remote/errors.js';
import type { ByteSource, RemoteEntry, UploadOptions, UploadPolicy } from '../../remote/types.js';
import { uploadDateOf } from '../../remote/upload-date.js';
import type { Api } from '../api.js';
import { Code } from '../codes.js';
import { mayHaveBeenCarriedOut, reclassified } from '../failures.js';
import type { HttpTransport } from '../http.js';
import { ProgressTracker } from '../progress.js';
import { isRetryable, pause, throwIfAborted } from '../retry.js';
import { uploadCredentialSchema, type UploadCredential } from '../wire.js';
import { localSender } from './local.js';
import { oneDriveSender } from './onedrive.js';
import { slaveSender } from './remote.js';
import { s3Sender } from './s3.js';
import type { Chunk, ChunkSender, SenderContext } from './types.js';

const senders: Readonly<Record<string, (ctx: SenderContext) => ChunkSender>> = {
  local: localSender,
  remote: slaveSender,
  onedrive: oneDriveSender,
  s3: s3Sender,
};

/** The sender of a policy type; throws kind `forbidden` for types this client cannot upload to. */
function senderFactory(policy: UploadPolicy, target: string): (ctx: SenderContext) => ChunkSender {
  const factory = Object.hasOwn(senders, policy.type) ? senders[policy.type] : undefined;
  if (factory === undefined) {
    throw new RemoteError(`Uploads to the storage policy type "${policy.type}" are not supported by cloudreve-sync`, {
      kind: 'forbidden',
      target,
    });
  }
  return factory;
}

export interface UploadDeps {
  readonly api: Api;
  readonly transport: HttpTransport;
  readonly baseUrl: string;
  readonly chunkRetries: number;
  readonly logger: Logger;
  /** The user's current upload policy as a fresh listing of `dir` reports it. */
  readonly freshPolicy: (dir: string) => Promise<UploadPolicy>;
  /** The file listed at a path, if any. */
  readonly findFile: (path: string) => Promise<RemoteEntry | undefined>;
  /** How many bytes the server stores for a file (see `storedSize` in download.ts). */
  readonly storedSize: (fileId: string) => Promise<number>;
  readonly deleteFile: (fileId: string) => Promise<void>;
}

export interface UploadRequest {
  readonly dir: string;
  readonly name: string;
  /** `dir` + `name`, for error messages. */
  readonly target: string;
  readonly source: ByteSource;
  /** The upload policy believed current; replaced by a fresh one if the server says it changed. */
  readonly policy: UploadPolicy;
  readonly options: UploadOptions;
}

/**
 * Raised inside the driver when the session is beyond repair but a new one may succeed.
 * `lastChunkUnanswered`: the last chunk's answer was lost, so the file may have been completed.
 */
class SessionBroken extends Error {
  constructor(
    readonly reason: RemoteError,
    readonly lastChunkUnanswered = false,
  ) {
    super(reason.message);
  }
}

/**
 * Uploads a file through a Cloudreve upload session: opens the session, sends the chunks with the
 * policy's sender, re-sends a failed chunk where that is safe, starts over with a new session when
 * the old one cannot continue, and never leaves an abandoned session behind (it would keep the
 * name reserved).
 */
export async function uploadFile(deps: UploadDeps, request: UploadRequest): Promise<void> {
  const { options } = request;
  const progress = new ProgressTracker(options.onProgress);
  let policy = request.policy;
  for (let restart = 0; ; restart++) {
    throwIfAborted(options.signal);
    options.onSessionOpening?.();
    const opened = await openSession(deps, request, policy);
    policy = opened.policy;
    const sessionId = opened.credential.sessionID;
    try {
      options.onSessionOpened?.(sessionId);
      await transfer(deps, request, opened.credential, policy, progress);
    } catch (error) {
      // Looked for while the session still holds the name: a file listed there now is its own.
      const completed = error instanceof SessionBroken && error.lastChunkUnanswered ? await completedFile(deps, request) : undefined;
      // A session that could not be cancelled stays written down, for a later run to cancel.
      if (await abandonSession(deps, sessionId, request.target)) options.onSessionClosed?.(sessionId);
      if (completed !== undefined && (await storedWhole(deps, request, completed))) return;
      const broken = error instanceof SessionBroken ? error.reason : undefined;
      if (broken === undefined) throw error;
      if (restart >= deps.chunkRetries) throw broken;
      deps.logger.info({ target: request.target, reason: broken.message }, 'starting the upload over with a new session');
      await pause(restart, options.signal);
      continue;
    }
    options.onSessionClosed?.(sessionId);
    return;
  }
}

/**
 * The file an upload whose last chunk went unanswered completed all the same, if it did: listed
 * at its full size while the session still holds the name, which only its own completion frees.
 */
async function completedFile(deps: UploadDeps, request: UploadRequest): Promise<RemoteEntry | undefined> {
  try {
    const file = await deps.findFile(request.target);
    return file?.size === request.source.size ? file : undefined;
  } catch (error) {
    // Then the new session meets whatever is there, as it would have without this look.
    deps.logger.debug({ target: request.target, err: error }, 'could not tell whether the upload was completed');
    return undefined;
  }
}

/**
 * Whether the server stores all of a file an unanswered upload completed. When the client went
 * before the answer, Cloudreve lists the file whole but its cancel hook may keep only what came
 * before the last chunk (see `storedSize`; asked once the session was abandoned, which gives the
 * hook a round trip's time): that file, ours, is deleted, so that the upload starts over instead
 * of meeting it as a file in the way.
 */
async function storedWhole(deps: UploadDeps, request: UploadRequest, file: RemoteEntry): Promise<boolean> {
  try {
    const stored = await deps.storedSize(file.id);
    if (stored === file.size) return true;
    deps.logger.warn({ target: request.target, listed: file.size, stored }, 'the server completed the upload with only part of the file stored; sending it again');
    await deps.deleteFile(file.id);
  } catch (error) {
    deps.logger.debug({ target: request.target, err: error }, 'could not tell whether the upload was stored whole');
  }
  return false;
}

/** Abandons a session so that the name it reserves is free again; a session already gone is fine. */
export async function cancelUploadSession(api: Api, sessionId: string, target?: string): Promise<void> {
  try {
    await api.run({
      method: 'DELETE',
      route: '/file/upload/:sessionId',
      path: `/file/upload/${encodeURIComponent(sessionId)}`,
      idempotent: true,
      target,
    });
  } catch (error) {
    if (!isRemoteError(error, 'upload-session-expired')) throw error;
  }
}

/**
 * Best-effort cleanup after a failure: the failure is what the caller needs to hear about. Says
 * whether the session is gone.
 */
async function abandonSession(deps: UploadDeps, sessionId: string, target: string): Promise<boolean> {
  try {
    await cancelUploadSession(deps.api, sessionId, target);
    return true;
  } catch (error) {
    deps.logger.warn({ sessionId, target, err: error }, 'could not delete an abandoned upload session');
    return false;
  }
}

async function openSession(
  deps: UploadDeps,
  request: UploadRequest,
  believed: UploadPolicy,
): Promise<{ credential: UploadCredential; policy: UploadPolicy }> {
  try {
    return { credential: await createSession(deps, request, believed), policy: believed };
  } catch (error) {
    if (!isRemoteError(error) || error.code !== Code.policyNotAllowed) throw error;
    // The administrator switched the user's policy since the listing the cached one came from.
    const policy = await deps.freshPolicy(request.dir);
    return { credential: await createSession(deps, request, policy), policy };
  }
}

async function createSession(deps: UploadDeps, request: UploadRequest, policy: UploadPolicy): Promise<UploadCredential> {
  try {
    return await requestSession(deps, request, policy);
  } catch (error) {
    throw isRemoteError(error) && error.serverMessage === placeholderExists ? storageRefusedName(error, request.name) : error;
  }
}

/** What Cloudreve answers (code -1) when its storage driver finds something where the file is to go. */
const placeholderExists = 'placeholder file already exist';

/**
 * The local storage driver takes a path it cannot even look at (too long a name) for one where
 * something exists: the storage policy's file name rule adds to the name (by default the user's
 * ID and a random key, `1_abcdefgh_name`), and a name near 255 bytes then goes past what the
 * server's disk takes.
 */
function storageRefusedName(error: RemoteError, name: string): RemoteError {
  const bytes = Buffer.byteLength(name);
  const why =
    bytes > 200
      ? `its storage names files after the name with more in front (by default the user ID and a random key), which at ${bytes} bytes goes past the 255 its disk takes; rename it shorter`
      : 'its storage already holds a file where this one would be stored; the server administrator can look into it';
  return reclassified(error, 'invalid-name', `The server cannot store ${name}: ${why}`);
}

function requestSession(deps: UploadDeps, request: UploadRequest, policy: UploadPolicy): Promise<UploadCredential> {
  senderFactory(policy, request.target);
  const { source } = request;
  const mtime = uploadDateOf(source.mtimeMs);
  return deps.api.data(
    {
      method: 'PUT',
      route: '/file/upload',
      path: '/file/upload',
      json: {
        path: request.dir,
        name: request.name,
        size: source.size,
        policy_id: policy.id,
        ...(mtime === undefined ? {} : { last_modified: mtime }),
        ...(source.mimeType === undefined ? {} : { mime_type: source.mimeType }),
      },
      // Retried on transient failures although a lost answer may have opened a session: the
      // retry then fails with upload-in-progress, which is visible, instead of failing silently,
      // and the caller hears of the session it cannot name (also when a stop cut the request
      // short: the server may have opened it all the same).
      idempotent: true,
      target: request.target,
      signal: request.options.signal,
      onFailedAttempt: (error) => {
        if (mayHaveBeenCarriedOut(error)) request.options.onSessionUnanswered?.();
      },
    },
    uploadCredentialSchema,
  );
}

async function transfer(
  deps: UploadDeps,
  request: UploadRequest,
  credential: UploadCredential,
  policy: UploadPolicy,
  progress: ProgressTracker,
): Promise<void> {
  const sender = senderFactory(policy, request.target)({
    api: deps.api,
    transport: deps.transport,
    baseUrl: deps.baseUrl,
    credential,
    source: request.source,
    target: request.target,
    signal: request.options.signal,
  });
  const chunks = chunksOf(request.source.size, credential.chunkSize);
  const last = chunks[chunks.length - 1];
  let lastUnanswered = false;
  try {
    for (const chunk of chunks) {
      await sendChunk(deps, sender, chunk, progress, request.options.signal, () => {
        if (chunk === last) lastUnanswered = true;
      });
    }
    await sender.finish();
  } catch (error) {
    // A session that completed the file with the last chunk is gone when it is sent again.
    const reason = error instanceof SessionBroken ? error.reason : isRemoteError(error, 'upload-session-expired') ? error : undefined;
    if (reason !== undefined) throw new SessionBroken(reason, lastUnanswered);
    throw error;
  }
}

async function sendChunk(
  deps: UploadDeps,
  sender: ChunkSender,
  chunk: Chunk,
  progress: ProgressTracker,
  signal: AbortSignal | undefined,
  onUnanswered: () => void,
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await sender.send(chunk, (sent) => progress.reach(chunk.start + sent));
      return;
    } catch (error) {
      if (!isRetryable(error)) throw error;
      if (mayHaveBeenCarriedOut(error)) onUnanswered();
      if (chunk.index === 0 && !sender.chunkZeroResendable) throw new SessionBroken(error);
      if (attempt >= deps.chunkRetries) throw error;
      deps.logger.debug({ index: chunk.index, attempt, reason: error.message }, 'sending the chunk again');
      await pause(attempt, signal);
    }
  }
}

/** The chunks of a `size`-byte file; an empty file is one empty chunk, chunk size 0 means one piece. */
export function chunksOf(size: number, chunkSize: number): Chunk[] {
  if (size === 0 || chunkSize <= 0) return [{ index: 0, start: 0, end: size }];
  const chunks: Chunk[] = [];
  for (let index = 0, start = 0; start < size; index++, start += chunkSize) {
    chunks.push({ index, start, end: Math.min(size, start + chunkSize) });
  }
  return chunks;
}
