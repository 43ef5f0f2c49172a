import type { App } from './app.js';
import { ErrFileNotFound, ErrInsufficientCapacity, ErrParseObjectId, ok, paramError } from './envelope.js';
import { validateFile } from './filesystem.js';
import { IdType } from './ids.js';
import { type Route, loginRequired } from './route.js';
import { uploadFailed } from './upload.js';

/**
 * `PUT /file/update/:id` (`PutContent`): the whole new content in one request, streamed to disk.
 * The id stays, `date` becomes now. An object shared with copies is forked rather than
 * overwritten. A client that goes away mid-body: an ordinary file, truncated and written in
 * place, keeps the bytes that arrived under its old size and date (no clean-up hook is set for
 * it); a forked one is emptied (HookCleanFileContent, HookClearFileSize, which dates it now).
 */
export function updateRoute(app: App): Route {
  const { store, blobs } = app;
  return {
    method: 'PUT',
    pattern: '/api/v3/file/update/:id',
    scope: 'api',
    handle: loginRequired(async (ctx, user) => {
      const id = app.ids.decode(ctx.params.id ?? '', IdType.file);
      if (id === null) throw ErrParseObjectId;
      const length = ctx.req.headers['content-length'];
      if (length === undefined || !/^\d+$/.test(length)) throw paramError('Invalid content-length value');
      const size = Number(length);
      const file = store.fileOf(user.id, id);
      if (file === undefined) throw ErrFileNotFound;
      validateFile(store.policy(file.policyId), file.name, size);
      // Only growth is checked, but against the whole new size.
      if (size > file.size && store.remainingCapacity(user) < size) throw ErrInsufficientCapacity;

      const fork = blobs.references(file.blob) > 1;
      const target = fork ? blobs.allocate() : file.blob;
      const adopt = async (): Promise<void> => {
        if (!fork) return;
        await blobs.unref(file.blob);
        file.blob = target;
      };
      try {
        await blobs.write(target, ctx.body(), fork);
      } catch (error) {
        if (fork && ctx.req.complete) await blobs.unref(target);
        if (fork && !ctx.req.complete) {
          await adopt();
          await blobs.truncate(target, 0);
          store.setFileSize(file, 0, app.clock.now());
        }
        throw uploadFailed(error);
      }
      await adopt();
      store.setFileSize(file, size, app.clock.now());
      return ok();
    }),
  };
}
