import { Readable } from 'node:stream';
import type { App } from './app.js';
import { ErrPathNotExist, ok } from './envelope.js';
import { assertNameFree, createDirectory, resolvePath, validateFile } from './filesystem.js';
import { base, dir } from './gopath.js';
import { IdType } from './ids.js';
import { type Route, loginRequired } from './route.js';
import { fileObject, folderObject, policySummary } from './serialize.js';
import type { Folder } from './store.js';

const pathRules = { required: true, min: 1, max: 65535 } as const;

/** Listing, folder creation and empty-file creation. */
export function directoryRoutes(app: App): Route[] {
  const { store } = app;
  return [
    {
      method: 'GET',
      pattern: '/api/v3/directory/*path',
      scope: 'api',
      handle: loginRequired((ctx, user) => {
        const folder = resolvePath(store, user, ctx.params.path ?? '');
        if (folder === undefined) throw ErrPathNotExist;
        const path = store.folderPath(folder);
        const { folders, files } = store.children(folder);
        return ok({
          // The listed folder itself, despite the name.
          parent: app.ids.encode(folder.id, IdType.folder),
          objects: [
            ...folders.map((f: Folder) => folderObject(app, f, path)),
            ...files.filter((f) => f.uploadSessionId === null).map((f) => fileObject(app, f, path)),
          ],
          policy: policySummary(app, store.currentPolicy(user)),
        });
      }),
    },
    {
      method: 'PUT',
      pattern: '/api/v3/directory',
      scope: 'api',
      handle: loginRequired(async (ctx, user) => {
        const body = await ctx.bind();
        const path = body.string('path', 'Path', pathRules);
        body.finish();
        createDirectory(app, user, path);
        return ok();
      }),
    },
    {
      method: 'POST',
      pattern: '/api/v3/file/create',
      scope: 'api',
      handle: loginRequired(async (ctx, user) => {
        const body = await ctx.bind();
        const path = body.string('path', 'Path', pathRules);
        body.finish();
        const name = base(path);
        const policy = store.currentPolicy(user);
        validateFile(policy, name, 0);
        // The driver writes the empty object before the record is checked, as Upload does.
        const blob = app.blobs.allocate();
        await app.blobs.write(blob, Readable.from([]), true);
        try {
          const folder = createDirectory(app, user, dir(path));
          assertNameFree(store.childFile(folder, name));
          const now = app.clock.now();
          store.createFile({
            name, folderId: folder.id, ownerId: user.id, size: 0, blob, policyId: policy.id,
            createdAt: now, updatedAt: now, uploadSessionId: null,
          });
        } catch (error) {
          await app.blobs.unref(blob);
          throw error;
        }
        return ok();
      }),
    },
  ];
}
