import type { App } from './app.js';
import { ok } from './envelope.js';
import { randomString } from './random.js';
import { type Route, loginRequired } from './route.js';
import { rfc3339 } from './timefmt.js';

/** WebDAV account management; the items are the raw gorm model, hence Go field names. */
export function webdavRoutes(app: App): Route[] {
  const { store } = app;
  return [
    {
      method: 'GET',
      pattern: '/api/v3/webdav/accounts',
      scope: 'api',
      handle: loginRequired((_ctx, user) => {
        const accounts = [...store.webdav.values()].filter((a) => a.userId === user.id).reverse();
        return ok({
          accounts: accounts.map((a) => ({
            ID: a.id, CreatedAt: rfc3339(a.createdAt), UpdatedAt: rfc3339(a.createdAt), DeletedAt: null,
            Name: a.name, Password: a.password, UserID: a.userId, Root: a.root, Readonly: false, UseProxy: false,
          })),
        });
      }),
    },
    {
      method: 'POST',
      pattern: '/api/v3/webdav/accounts',
      scope: 'api',
      handle: loginRequired(async (ctx, user) => {
        const body = await ctx.bind();
        const root = body.string('path', 'Path', { required: true, min: 1, max: 65535 });
        const name = body.string('name', 'Name', { required: true, min: 1, max: 255 });
        body.finish();
        const account = store.addWebdavAccount({ createdAt: app.clock.now(), name, password: randomString(32), userId: user.id, root });
        // A Go map: keys come out sorted.
        return ok({ created_at: rfc3339(account.createdAt), id: account.id, password: account.password });
      }),
    },
  ];
}
