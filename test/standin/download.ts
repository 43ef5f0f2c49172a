import type { App } from './app.js';
import { AppError, ErrObjectNotExist, ErrParseObjectId, ok, paramError, type Reply } from './envelope.js';
import { escapePath, pathEscape } from './gopath.js';
import { IdType } from './ids.js';
import { randomString } from './random.js';
import { type Ctx, type Route, loginRequired } from './route.js';
import { serveFile, type ServedFile } from './serve-file.js';

/** `preview_timeout`: lifetime of the URL a source link redirects to. */
const previewTtlSeconds = 600;
const ErrDownloadSessionNotExist = new AppError(404, 'Download session not exist');

/** A download session caches the file record as it was when the URL was made. */
interface DownloadSession extends ServedFile {
  readonly expiresAt: number;
}

/** Download URLs (local: signed and relative; other policies: an absolute storage URL), source links. */
export function downloadRoutes(app: App): Route[] {
  const { store } = app;
  const sessions = new Map<string, DownloadSession>();
  const storageLinks = new Map<string, DownloadSession>();
  let sweepAt = 1024;

  function remember(table: Map<string, DownloadSession>, key: string, session: DownloadSession): void {
    // Expired sessions are swept whenever the tables have doubled, as the cache would drop them.
    if (table.size >= sweepAt) {
      for (const [k, s] of table) if (s.expiresAt <= app.clock.now()) table.delete(k);
      sweepAt = Math.max(1024, table.size * 2);
    }
    table.set(key, session);
  }

  function live(table: Map<string, DownloadSession>, key: string): DownloadSession | undefined {
    const session = table.get(key);
    return session !== undefined && session.expiresAt > app.clock.now() ? session : undefined;
  }

  const attachment = (name: string): Record<string, string> => ({
    'Content-Disposition': `attachment; filename="${pathEscape(name)}"`,
    'Cache-Control': 'public, max-age=86400',
  });

  function createUrl(ctx: Ctx, userId: number): Reply {
    const id = app.ids.decode(ctx.params.id ?? '', IdType.file);
    if (id === null) throw ErrParseObjectId;
    const file = store.fileOf(userId, id);
    if (file === undefined) throw ErrObjectNotExist;
    const ttl = app.settings.downloadTtlSeconds;
    const session = { blob: file.blob, name: file.name, modifiedAt: file.updatedAt, expiresAt: app.clock.now() + ttl * 1000 };
    const policy = store.policy(file.policyId);
    if (policy.type !== 'local') {
      const token = randomString(32);
      remember(storageLinks, token, session);
      return ok(`${app.siteUrl()}/__storage/download/${token}`);
    }
    const sessionId = randomString(16);
    remember(sessions, sessionId, session);
    const path = `/api/v3/file/download/${sessionId}`;
    const signed = path + app.signer.signPath(path, ttl);
    // Go's ResolveReference: the absolute path replaces the BaseURL's own.
    return ok(policy.baseUrl === undefined ? signed : new URL(signed, policy.baseUrl).toString());
  }

  return [
    { method: 'PUT', pattern: '/api/v3/file/download/:id', scope: 'api', handle: loginRequired((ctx, user) => createUrl(ctx, user.id)) },
    {
      method: 'GET',
      pattern: '/api/v3/file/download/:id',
      scope: 'api',
      handle: async (ctx) => {
        app.signer.checkPath(ctx.path, ctx.query);
        const session = live(sessions, ctx.params.id ?? '');
        if (session === undefined) throw ErrDownloadSessionNotExist;
        return serveFile(app, ctx, session, attachment(session.name));
      },
    },
    {
      method: 'GET',
      pattern: '/__storage/download/:token',
      scope: 'bare',
      handle: async (ctx) => {
        const session = live(storageLinks, ctx.params.token ?? '');
        if (session === undefined) return { kind: 'plain', status: 403, headers: { 'Content-Type': 'text/plain' }, body: 'Request has expired' };
        return serveFile(app, ctx, session, attachment(session.name));
      },
    },
    {
      method: 'POST',
      pattern: '/api/v3/file/source',
      scope: 'api',
      handle: loginRequired(async (ctx, user) => {
        const body = await ctx.bind();
        const items = body.strings('items').flatMap((hash) => app.ids.decode(hash, IdType.file) ?? []);
        body.finish();
        if (items.length > store.group(user.groupId).sourceBatch) throw new AppError(40014, '');
        const files = [...new Set(items)].flatMap((id) => store.fileOf(user.id, id) ?? []).sort((a, b) => a.id - b.id);
        if (files.length === 0) throw new AppError(40044, '');
        // Both default groups use redirected source links, which ignore the policy's own setting.
        return ok(
          files.map((file) => ({
            url: `${app.siteUrl()}/f/${app.ids.encode(store.sourceLinkFor(file).id, IdType.sourceLink)}/${pathEscape(file.name)}`,
            name: file.name,
            parent: file.folderId,
          })),
        );
      }),
    },
    {
      method: 'GET',
      pattern: '/f/:id/:name',
      scope: 'bare',
      handle: (ctx) => {
        const id = app.ids.decode(ctx.params.id ?? '', IdType.sourceLink);
        if (id === null) throw ErrParseObjectId;
        const link = store.sourceLinks.get(id);
        const file = link === undefined ? undefined : store.files.get(link.fileId);
        if (link === undefined || file === undefined || file.name !== ctx.params.name) throw new AppError(40044, '');
        link.downloads++;
        const path = `/api/v3/file/get/${file.id}/${file.name}`;
        return { kind: 'plain', status: 302, headers: { Location: escapePath(path) + app.signer.signPath(path, previewTtlSeconds) }, body: '' };
      },
    },
    {
      method: 'GET',
      pattern: '/api/v3/file/get/:id/:name',
      scope: 'api',
      handle: async (ctx) => {
        app.signer.checkPath(ctx.path, ctx.query);
        const raw = ctx.params.id ?? '';
        if (!/^\d+$/.test(raw)) throw paramError('Parameter error');
        if (Number(raw) < 1) throw paramError('ID too short');
        const file = store.files.get(Number(raw));
        if (file === undefined) throw ErrObjectNotExist;
        return serveFile(app, ctx, { blob: file.blob, name: ctx.params.name ?? '', modifiedAt: file.updatedAt }, {});
      },
    },
  ];
}
