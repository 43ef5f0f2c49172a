import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Binder } from './binding.js';
import { ErrLoginRequired, type Reply } from './envelope.js';
import type { Session } from './sessions.js';
import type { User } from './store.js';

/** One request as a handler sees it. */
export interface Ctx {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** The decoded path, as gin matches it. */
  readonly path: string;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly session: Session;
  /** The logged-in user, null when anonymous or outside the /api/v3 group. */
  readonly user: User | null;
  /** The raw body; a dropNextChunk fault may cut it. */
  body(): Readable;
  /** Reads the whole (small) body. */
  text(): Promise<string>;
  /** Reads the whole (small) body and decodes it as JSON. */
  bind(): Promise<Binder>;
  /**
   * Runs `hook` once the request is handled if the client's connection closed before the answer
   * left: Cloudreve's `CancelUpload` watches the request's context during an upload and, when it
   * ends before the handler returns, runs the AfterUploadCanceled hooks, whatever the handler
   * did meanwhile.
   */
  onCancel(hook: () => Promise<void>): void;
}

export interface Route {
  readonly method: string;
  /** gin pattern with `:param` and a trailing `*catchAll`. */
  readonly pattern: string;
  /**
   * `api`: inside gin's /api/v3 group, so the session and current user are loaded and
   * `Cache-Control: private, no-cache` is set. `bare`: /f/ links and the fake storage endpoints.
   */
  readonly scope: 'api' | 'bare';
  /** Carries file data; `dropNextChunk` applies to it. */
  readonly chunk?: boolean;
  readonly handle: (ctx: Ctx) => Reply | Promise<Reply>;
}

/** `middleware.AuthRequired`: anonymous callers get `{"code":401,"msg":"Login required"}`. */
export function loginRequired(
  handler: (ctx: Ctx, user: User) => Reply | Promise<Reply>,
): (ctx: Ctx) => Reply | Promise<Reply> {
  return (ctx) => {
    if (ctx.user === null) throw ErrLoginRequired;
    return handler(ctx, ctx.user);
  };
}

export function routeKey(route: Pick<Route, 'method' | 'pattern'>): string {
  return `${route.method} ${route.pattern}`;
}

/** Parameter names do not matter when a key is looked up: ":sessionId" and ":id" are the same slot. */
export function routeShape(key: string): string {
  return key.replace(/([:*])[^/]+/g, '$1');
}
