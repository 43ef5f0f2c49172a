import type { App } from './app.js';
import { AppError, ok, paramError } from './envelope.js';
import { IdType } from './ids.js';
import { type Route, loginRequired } from './route.js';
import type { Share } from './store.js';
import { rfc3339 } from './timefmt.js';

const ErrShareLinkNotFound = new AppError(40058, '');
const ErrNotFound = new AppError(404, '');

/** Share links: creation and the visitor's info call. */
export function shareRoutes(app: App): Route[] {
  const { store } = app;

  function source(share: Share): { name: string; size: number } | undefined {
    const object = share.isDir ? store.folders.get(share.sourceId) : store.files.get(share.sourceId);
    if (object === undefined) return undefined;
    return { name: object.name, size: 'size' in object ? object.size : 0 };
  }

  /** `Share.IsAvailable`. */
  function available(share: Share | undefined): share is Share {
    if (share === undefined || share.remainDownloads === 0) return false;
    if (share.expires !== null && app.clock.now() > share.expires) return false;
    return source(share) !== undefined && store.users.has(share.userId);
  }

  return [
    {
      method: 'POST',
      pattern: '/api/v3/share',
      scope: 'api',
      handle: loginRequired(async (ctx, user) => {
        const body = await ctx.bind();
        const hash = body.string('id', 'SourceID', { required: true });
        const isDir = body.bool('is_dir');
        const password = body.string('password', 'Password', { max: 255 });
        const downloads = body.int('downloads');
        const expire = body.int('expire');
        const preview = body.bool('preview');
        body.finish();
        if (!store.group(user.groupId).shareEnabled) throw new AppError(40007, '');
        const sourceId = app.ids.decode(hash, isDir ? IdType.folder : IdType.file) ?? undefined;
        const object = isDir ? store.folderOf(user.id, sourceId) : store.fileOf(user.id, sourceId);
        if (sourceId === undefined || object === undefined) throw ErrNotFound;
        const now = app.clock.now();
        // Expiry only takes effect together with a download limit.
        const limited = downloads > 0;
        const share = store.addShare({
          userId: user.id, isDir, sourceId, password, remainDownloads: limited ? downloads : -1,
          expires: limited ? now + expire * 1000 : null, preview, createdAt: now, views: 0, downloads: 0,
        });
        return ok(`${app.siteUrl()}/s/${app.ids.encode(share.id, IdType.share)}`);
      }),
    },
    {
      method: 'GET',
      pattern: '/api/v3/share/info/:id',
      scope: 'api',
      handle: (ctx) => {
        const id = app.ids.decode(ctx.params.id ?? '', IdType.share);
        const share = id === null ? undefined : store.shares.get(id);
        if (!available(share)) throw ErrShareLinkNotFound;
        const password = ctx.query.get('password') ?? '';
        if ([...password].length > 255) throw paramError('Password too long');
        const unlockKey = `share_unlock_${share.id}`;
        let unlocked = share.password === '' || ctx.session.get(unlockKey) !== undefined;
        if (!unlocked && password !== '' && password === share.password) {
          unlocked = true;
          ctx.session.set(unlockKey, share.id);
        }
        if (unlocked) share.views++;
        const creator = store.users.get(share.userId);
        const base = {
          key: app.ids.encode(share.id, IdType.share),
          locked: !unlocked,
          is_dir: unlocked && share.isDir,
          create_date: rfc3339(share.createdAt),
          downloads: unlocked ? share.downloads : 0,
          views: unlocked ? share.views : 0,
          expire: unlocked && share.expires !== null ? Math.floor(share.expires / 1000) - app.clock.nowSeconds() : 0,
          preview: unlocked && share.preview,
          creator: {
            key: app.ids.encode(share.userId, IdType.user),
            nick: creator?.nick ?? '',
            group_name: creator === undefined ? '' : store.group(creator.groupId).name,
          },
        };
        return ok(unlocked ? { ...base, source: source(share) } : base);
      },
    },
  ];
}
