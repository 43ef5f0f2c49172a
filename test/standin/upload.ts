import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { App } from './app.js';
import { AppError, ErrInsufficientCapacity, ErrUploadSessionExpired, ok, paramError } from './envelope.js';
import { assertNameFree, createDirectory, deleteFile, validateFile } from './filesystem.js';
import { IdType } from './ids.js';
import { type Ctx, type Route, loginRequired } from './route.js';
import type { Policy, User } from './store.js';
import type { PolicyType } from './types.js';
import type { UploadSession } from './upload-sessions.js';

/** What a driver's `Token` sees of the session being created. */
export type SessionDraft = Omit<UploadSession, 'fileId' | 'cancel'>;

/** The optional fields of `serializer.UploadCredential` a driver fills in. */
export interface CredentialExtras {
  readonly uploadURLs?: string[];
  readonly credential?: string;
  readonly uploadID?: string;
  readonly completeURL?: string;
}

/** A storage driver: how its sessions start and which endpoints receive the bytes. */
export interface Provider {
  /** The placeholder carries the full size from the start, so quota is charged at creation. */
  readonly placeholderWithSize: boolean;
  token(draft: SessionDraft): Promise<{ extras: CredentialExtras; cancel?: () => Promise<void> }>;
  readonly routes: Route[];
}

export const localProvider: Provider = {
  placeholderWithSize: false,
  // The default file name rule stores `{uid}_{randomkey8}_{originname}`; a name the disk cannot
  // take makes util.Exists report the path as taken, and the session fails with CodeNotSet.
  token: (draft) =>
    Buffer.byteLength(`${draft.userId}_xxxxxxxx_${draft.name}`) > 255
      ? Promise.reject(new AppError(-1, 'placeholder file already exist'))
      : Promise.resolve({ extras: {} }),
  routes: [],
};

const ErrPolicyNotExist = new AppError(40035, '');
const ErrPolicyChanged = new AppError(40006, '存储策略发生变化，请刷新文件列表并重新添加此任务');

/**
 * `processChunkUpload`'s Content-Length rule: exactly `chunkSize` for a chunk that is not the
 * last, the remainder for the last one (the whole file when chunkSize is 0).
 */
export function chunkLength(ctx: Ctx, size: number, chunkSize: number, index: number): { length: number; last: boolean } {
  const last = chunkSize === 0 || (index + 1) * chunkSize >= size;
  // Go computes in uint64, so a chunk past the end expects a wrapped-around length.
  const expected = last ? BigInt.asUintN(64, BigInt(size) - BigInt(index) * BigInt(chunkSize)) : BigInt(chunkSize);
  const header = ctx.req.headers['content-length'];
  if (header === undefined || !/^\d+$/.test(header) || BigInt(header) !== expected) {
    throw new AppError(40013, `Invalid Content-Length (expected: ${expected})`);
  }
  return { length: Number(expected), last };
}

/** A failed `Put` answers 40002 with the driver's error text. */
/** `cron_recycle_upload_session`, when due: placeholders whose session is gone are deleted, freeing their names. */
export async function collectUploadPlaceholders(app: App): Promise<void> {
  if (!app.uploads.collectDue()) return;
  for (const [sessionId, fileId] of [...app.store.placeholders]) {
    const file = app.store.files.get(fileId);
    if (file !== undefined && app.uploads.get(sessionId) === undefined) await deleteFile(app, file);
  }
}

export function uploadFailed(error: unknown): AppError {
  if (error instanceof AppError) return error;
  return new AppError(40002, error instanceof Error ? error.message : String(error));
}

/** Upload sessions (all policies), local chunks, and cancelling sessions. */
export function uploadRoutes(app: App, providers: Readonly<Record<PolicyType, Provider>>): Route[] {
  const { store } = app;

  async function createSession(ctx: Ctx, user: User): Promise<Record<string, unknown>> {
    const body = await ctx.bind();
    const path = body.string('path', 'Path', { required: true });
    const size = body.uint('size');
    const name = body.string('name', 'Name', { required: true });
    const policyHash = body.string('policy_id', 'PolicyID', { required: true });
    const lastModified = body.int('last_modified');
    body.string('mime_type', 'MimeType');
    body.finish();

    const policyId = app.ids.decode(policyHash, IdType.policy);
    if (policyId === null) throw ErrPolicyNotExist;
    const policy: Policy = store.currentPolicy(user);
    if (policy.id !== policyId) throw ErrPolicyChanged;
    validateFile(policy, name, size);
    if (store.remainingCapacity(user) < size) throw ErrInsufficientCapacity;

    const provider = providers[policy.type];
    const now = app.clock.now();
    const draft: SessionDraft = {
      id: randomUUID(), userId: user.id, policy, name, size, lastModified: lastModified > 0 ? lastModified : null,
      blob: app.blobs.allocate(), expiresAt: now + app.settings.uploadSessionTtlSeconds * 1000,
    };
    // The driver's token comes before the parent folder and the name are checked, as in Go.
    const { extras, cancel } = await provider.token(draft);
    try {
      const folder = createDirectory(app, user, path);
      assertNameFree(store.childFile(folder, name));
      const file = store.createFile({
        name, folderId: folder.id, ownerId: user.id, size: provider.placeholderWithSize ? size : 0, blob: draft.blob,
        policyId: policy.id, createdAt: now, updatedAt: now, uploadSessionId: draft.id,
      });
      app.uploads.add({ ...draft, fileId: file.id, cancel });
    } catch (error) {
      await app.blobs.unref(draft.blob);
      throw error;
    }
    return {
      sessionID: draft.id, chunkSize: policy.chunkSize, expires: Math.floor(draft.expiresAt / 1000),
      uploadURLs: extras.uploadURLs, credential: extras.credential, uploadID: extras.uploadID, completeURL: extras.completeURL,
    };
  }

  /** `LocalUpload`, checks in the order of service/explorer/upload.go. */
  async function localChunk(ctx: Ctx, user: User, session: UploadSession, index: number): Promise<void> {
    const file = store.placeholder(session.id, user.id);
    if (session.userId !== user.id || file === undefined) throw ErrUploadSessionExpired;
    if (session.policy.type !== 'local') throw new AppError(40006, '');
    const { chunkSize } = session.policy;
    if (chunkSize === 0 && index > 0) throw new AppError(40012, 'Chunk index cannot be greater than 0');
    const start = index * chunkSize;
    if (file.size < start) throw new AppError(40012, 'Chunk must be uploaded in order');
    const { length, last } = chunkLength(ctx, session.size, chunkSize, index);
    if (store.remainingCapacity(user) < length) throw ErrInsufficientCapacity;
    // HookTruncateFileTo(start): the chunk is still counted, and the last one still promotes
    // the placeholder, but its bytes are gone.
    ctx.onCancel(() => app.blobs.truncate(session.blob, start));
    try {
      // Chunk 0 may not overwrite: once its object exists, re-sending it fails.
      await app.blobs.append(session.blob, start, ctx.body(), index > 0);
    } catch (error) {
      throw uploadFailed(error);
    }
    if (!store.files.has(file.id)) throw ErrUploadSessionExpired;
    const now = app.clock.now();
    store.setFileSize(file, start + length, now);
    if (last) {
      store.promote(file, session.lastModified ?? now);
      app.uploads.delete(session.id);
    }
  }

  return [
    {
      method: 'PUT',
      pattern: '/api/v3/file/upload',
      scope: 'api',
      handle: loginRequired(async (ctx, user) => ok(await createSession(ctx, user))),
    },
    {
      method: 'POST',
      pattern: '/api/v3/file/upload/:sessionId/:index',
      scope: 'api',
      chunk: true,
      handle: loginRequired(async (ctx, user) => {
        const raw = ctx.params.index ?? '';
        if (!/^[+-]?\d+$/.test(raw)) throw paramError('Parameter error');
        const index = Number(raw);
        if (index < 0) throw paramError('Index too short');
        const sessionId = ctx.params.sessionId ?? '';
        await app.locks.run(sessionId, async () => {
          const session = app.uploads.get(sessionId);
          if (session === undefined) throw ErrUploadSessionExpired;
          await localChunk(ctx, user, session, index);
        });
        return ok();
      }),
    },
    {
      method: 'DELETE',
      pattern: '/api/v3/file/upload/:sessionId',
      scope: 'api',
      handle: loginRequired(async (ctx, user) => {
        const file = store.placeholder(ctx.params.sessionId ?? '', user.id);
        if (file === undefined) throw ErrUploadSessionExpired;
        await deleteFile(app, file);
        return ok();
      }),
    },
    {
      method: 'DELETE',
      pattern: '/api/v3/file/upload',
      scope: 'api',
      handle: loginRequired(async (_ctx, user) => {
        // As DeleteAllUploadSession: the placeholders are found, then deleted by file ID, so a
        // chunk that completes its upload in between has the finished file deleted.
        const found = [...store.placeholders.values()].filter((id) => store.files.get(id)?.ownerId === user.id);
        if (app.uploads.cancelAllPauseMs > 0) await sleep(app.uploads.cancelAllPauseMs);
        for (const id of found) {
          const file = store.files.get(id);
          if (file !== undefined) await deleteFile(app, file);
        }
        return ok();
      }),
    },
  ];
}
