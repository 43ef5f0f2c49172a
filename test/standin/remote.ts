import type { App } from './app.js';
import { completeUpload } from './callbacks.js';
import { ErrUploadSessionExpired, ok } from './envelope.js';
import { type Provider, chunkLength, uploadFailed } from './upload.js';

const slaveUploadPath = (sessionId: string): string => `/api/v3/slave/upload/${sessionId}`;

/**
 * The `remote` policy: chunks go to a slave node, here hosted by the stand-in itself. The slave
 * checks the signed Authorization header and the Content-Length, not the chunk order (its writer
 * does, by refusing a gap) nor the quota, which was charged with the full-size placeholder. The
 * last chunk triggers the slave's callback, which promotes the placeholder.
 */
export function remoteProvider(app: App): Provider {
  return {
    placeholderWithSize: true,
    token: (draft) =>
      Promise.resolve({
        extras: {
          uploadURLs: [`${app.siteUrl()}${slaveUploadPath(draft.id)}`],
          credential: app.signer.signRequest(slaveUploadPath(draft.id), app.settings.uploadSessionTtlSeconds),
        },
      }),
    routes: [
      {
        method: 'POST',
        pattern: '/api/v3/slave/upload/:sessionId',
        scope: 'bare',
        chunk: true,
        handle: async (ctx) => {
          app.signer.checkRequest(ctx.path, ctx.req.headers);
          const sessionId = ctx.params.sessionId ?? '';
          // `strconv.Atoi` with its error ignored: anything unparsable is chunk 0.
          const rawIndex = ctx.query.get('chunk') ?? '';
          const index = /^[+-]?\d+$/.test(rawIndex) ? Number(rawIndex) : 0;
          await app.locks.run(sessionId, async () => {
            const session = app.uploads.get(sessionId);
            if (session?.policy.type !== 'remote') throw ErrUploadSessionExpired;
            const { chunkSize } = session.policy;
            const { last } = chunkLength(ctx, session.size, chunkSize, index);
            const overwrite = index > 0 || ctx.req.headers['x-cr-overwrite'] === 'true';
            // The slave runs the same cancel hook as the master's local policy.
            ctx.onCancel(() => app.blobs.truncate(session.blob, index * chunkSize));
            try {
              await app.blobs.append(session.blob, index * chunkSize, ctx.body(), overwrite);
            } catch (error) {
              throw uploadFailed(error);
            }
            if (last) {
              await completeUpload(app, session, true);
              app.uploads.delete(sessionId);
            }
          });
          return ok();
        },
      },
    ],
  };
}
