import type { App } from './app.js';
import { isCode } from './blobs.js';
import { completeUpload, takeCallbackSession } from './callbacks.js';
import { AppError, ok, type Reply } from './envelope.js';
import { randomString } from './random.js';
import type { Ctx } from './route.js';
import type { Provider } from './upload.js';

/** A Microsoft Graph upload session: fragments arrive in order, the item appears when the last one does. */
interface GraphSession {
  readonly name: string;
  readonly blob: string;
  /** Where fragments collect until the file is complete. */
  readonly partial: string;
  readonly expiresAt: number;
  received: number;
  total: number | null;
}

function graphError(status: number, code: string, message: string): Reply {
  return { kind: 'plain', status, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ error: { code, message } }) };
}

function graphJson(status: number, value: unknown): Reply {
  return { kind: 'plain', status, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(value) };
}

/**
 * The `onedrive` policy: `uploadURLs[0]` is a Graph upload session hosted by the stand-in
 * (`PUT` with `Content-Range`, `GET` for the status); the client then calls the finish
 * callback, which compares the object's size with the session.
 */
export function onedriveProvider(app: App): Provider {
  const sessions = new Map<string, GraphSession>();

  function live(token: string): GraphSession | undefined {
    const graph = sessions.get(token);
    return graph !== undefined && graph.expiresAt > app.clock.now() ? graph : undefined;
  }

  function status(graph: GraphSession): Record<string, unknown> {
    return { expirationDateTime: new Date(graph.expiresAt).toISOString(), nextExpectedRanges: [`${graph.received}-`] };
  }

  async function putFragment(ctx: Ctx, token: string, graph: GraphSession): Promise<Reply> {
    const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(ctx.req.headers['content-range'] ?? '');
    if (range === null) return graphError(400, 'invalidRequest', 'Invalid Content-Range header value');
    const [start, end, total] = range.slice(1).map(Number) as [number, number, number];
    if (end < start || end >= total) return graphError(416, 'invalidRange', 'The Content-Range header is not satisfiable');
    if (ctx.req.headers['content-length'] !== String(end - start + 1)) {
      return graphError(400, 'invalidRequest', 'The Content-Range header length does not match the provided number of bytes.');
    }
    if (graph.total !== null && total !== graph.total) {
      return graphError(400, 'invalidRequest', 'The total length in Content-Range does not match earlier fragments.');
    }
    if (start !== graph.received) {
      return graphError(416, 'invalidRange', start < graph.received
        ? 'The uploaded fragment overlaps with data that has already been received.'
        : 'Fragments must be uploaded in order; expected a fragment starting at ' + String(graph.received) + '.');
    }
    try {
      await app.blobs.append(graph.partial, start, ctx.body(), true);
    } catch {
      return graphError(400, 'invalidRequest', 'The fragment is shorter than its Content-Range.');
    }
    graph.received = end + 1;
    graph.total = total;
    if (graph.received < total) return graphJson(202, status(graph));
    sessions.delete(token);
    try {
      await app.blobs.publish(graph.partial, graph.blob);
    } catch (error) {
      if (isCode(error, 'EEXIST')) return graphError(409, 'nameAlreadyExists', 'The specified item name already exists.');
      throw error;
    }
    return graphJson(201, { id: randomString(16), name: graph.name, size: total, file: {} });
  }

  return {
    placeholderWithSize: false,
    token: (draft) => {
      const token = randomString(32);
      sessions.set(token, {
        name: draft.name, blob: draft.blob, partial: `${draft.blob}.graph`, expiresAt: draft.expiresAt, received: 0, total: null,
      });
      return Promise.resolve({
        extras: { uploadURLs: [`${app.siteUrl()}/__storage/onedrive/upload/${token}`] },
        cancel: async () => {
          const graph = sessions.get(token);
          sessions.delete(token);
          if (graph !== undefined) await app.blobs.discard(graph.partial);
        },
      });
    },
    routes: [
      {
        method: 'PUT',
        pattern: '/__storage/onedrive/upload/:token',
        scope: 'bare',
        chunk: true,
        handle: async (ctx) => {
          const token = ctx.params.token ?? '';
          return app.locks.run(`graph:${token}`, async () => {
            const graph = live(token);
            if (graph === undefined) return graphError(404, 'itemNotFound', 'The upload session was not found.');
            return putFragment(ctx, token, graph);
          });
        },
      },
      {
        method: 'GET',
        pattern: '/__storage/onedrive/upload/:token',
        scope: 'bare',
        handle: (ctx) => {
          const graph = live(ctx.params.token ?? '');
          return graph === undefined ? graphError(404, 'itemNotFound', 'The upload session was not found.') : graphJson(200, status(graph));
        },
      },
      {
        method: 'POST',
        pattern: '/api/v3/callback/onedrive/finish/:sessionID',
        scope: 'api',
        handle: async (ctx) => {
          const session = takeCallbackSession(app, ctx.params.sessionID ?? '', 'onedrive');
          (await ctx.bind()).finish();
          const size = await app.blobs.size(session.blob);
          if (size === null) throw new AppError(50011, '');
          if (size !== session.size) {
            await app.blobs.discard(session.blob);
            throw new AppError(40055, '');
          }
          await completeUpload(app, session, false);
          return ok();
        },
      },
    ],
  };
}
