import type { App } from './app.js';
import { AppError, ErrInsufficientCapacity, ErrUploadSessionExpired } from './envelope.js';
import type { UploadSession } from './upload-sessions.js';
import type { PolicyType } from './types.js';

/**
 * `middleware.UseUploadSession`: the session must exist and be of the right policy type, and is
 * consumed, so each callback works once. Failures here answer HTTP 401.
 */
export function takeCallbackSession(app: App, sessionId: string, type: PolicyType): UploadSession {
  const session = app.uploads.get(sessionId);
  if (session === undefined) throw new AppError(40011, '上传会话不存在或已过期', 401);
  if (session.policy.type !== type) throw new AppError(40006, '', 401);
  app.uploads.delete(sessionId);
  return session;
}

/**
 * `ProcessCallback`: policies whose placeholder was created empty are charged now (and lose the
 * uploaded object when the quota is gone); then the placeholder is promoted, dated
 * `last_modified` or the placeholder's own last update.
 */
export async function completeUpload(app: App, session: UploadSession, placeholderWithSize: boolean): Promise<void> {
  const { store } = app;
  const file = store.placeholder(session.id, session.userId);
  if (file === undefined) throw ErrUploadSessionExpired;
  if (!placeholderWithSize) {
    const user = store.users.get(session.userId);
    if (user === undefined || store.remainingCapacity(user) < session.size) {
      await app.blobs.discard(session.blob);
      throw ErrInsufficientCapacity;
    }
    store.setFileSize(file, session.size, app.clock.now());
  }
  store.promote(file, session.lastModified ?? file.updatedAt);
}
