import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type Readable, Transform } from 'node:stream';
import { finished } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { App } from './app.js';
import { Binder } from './binding.js';
import { AppError, envelopeJson, ErrLoginRequired, errorReply, Panic, type Reply } from './envelope.js';
import type { FaultPlan } from './faults.js';
import { escapePath } from './gopath.js';
import type { Ctx } from './route.js';
import type { Match, Router } from './router.js';
import type { Session } from './sessions.js';
import type { User } from './store.js';
import type { Fault } from './types.js';
import { collectUploadPlaceholders } from './upload.js';

export const controlPath = '/__standin/control';

export interface ServerParts {
  readonly app: App;
  readonly router: Router;
  readonly plan: FaultPlan;
  /** The HTTP control endpoint, or null when controls are off (the path is then a 404 like any other). */
  readonly control: ((req: IncomingMessage, res: ServerResponse) => Promise<void>) | null;
}

export interface StandinServer {
  readonly server: Server;
  /** Resolves when no request is being handled any more (after the sockets were closed). */
  readonly settled: () => Promise<void>;
}

/** node:http server that behaves like gin.Default() in front of Cloudreve's router. */
export function createStandinServer(parts: ServerParts): StandinServer {
  const inFlight = new Set<Promise<void>>();
  const server = createServer((req, res) => {
    const handling = dispatch(parts, req, res)
      .catch((error: unknown) => {
        console.error('cloudreve stand-in: unhandled error', error);
        res.destroy();
      })
      .finally(() => inFlight.delete(handling));
    inFlight.add(handling);
  });
  // Cloudreve's http.Server sets no timeouts: an idle keep-alive connection stays open, and a
  // slow chunk or update body is read for as long as it takes.
  server.keepAliveTimeout = 0;
  server.requestTimeout = 0;
  server.headersTimeout = 0;
  return { server, settled: async () => void (await Promise.all(inFlight)) };
}

async function dispatch(parts: ServerParts, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const target = req.url ?? '/';
  const queryAt = target.indexOf('?');
  const rawPath = queryAt < 0 ? target : target.slice(0, queryAt);
  const rawQuery = queryAt < 0 ? '' : target.slice(queryAt + 1);
  const method = req.method ?? 'GET';
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    sendPlain(res, 400, {}, '400 Bad Request');
    return;
  }
  if (parts.control !== null && path === controlPath && method === 'POST') {
    await parts.control(req, res);
    return;
  }
  if (parts.plan.latencyMs > 0) await sleep(parts.plan.latencyMs);
  // Cloudreve's cron runs beside the requests; here it catches up as the first request after it was due comes.
  await collectUploadPlaceholders(parts.app);

  const match = parts.router.match(method, path);
  if (match === null) {
    const alternative = parts.router.trailingSlashAlternative(method, path);
    if (alternative === null) sendPlain(res, 404, { 'Content-Type': 'text/plain' }, '404 page not found');
    else redirect(res, method, escapePath(alternative) + (queryAt < 0 ? '' : `?${rawQuery}`));
    return;
  }
  const delayMs = parts.plan.takeDelay(match.key);
  if (delayMs > 0) await sleep(delayMs);
  const fault = parts.plan.arrive(match.key);
  res.once('close', () => parts.plan.depart(match.key));
  if (fault !== undefined && fault !== 'lostAnswer' && fault !== 'clientGone') {
    await suffer(fault, req, res);
    return;
  }
  const dropAfter = match.route.chunk === true ? parts.plan.takeDrop() : null;
  await serve(parts.app, match, new RequestContext(parts.app, req, res, path, match, rawQuery, dropAfter), fault);
}

/**
 * `lostAnswer`: the request is carried out, and its connection dropped instead of answered.
 * `clientGone`: so too, but as the client closing it, which Cloudreve sees: its cancel hooks run.
 */
async function serve(app: App, match: Match, ctx: RequestContext, lose?: 'lostAnswer' | 'clientGone'): Promise<void> {
  if (match.route.scope === 'api') ctx.res.setHeader('Cache-Control', 'private, no-cache');
  let reply: Reply;
  // Turned away by the login middleware, before any handler looked at the body.
  let bodyUnread = false;
  try {
    reply = await match.route.handle(ctx);
  } catch (error) {
    if (error instanceof AppError) {
      reply = errorReply(error);
      bodyUnread = error === ErrLoginRequired;
    } else {
      // gin's Recovery: a panic becomes an empty 500. Anything but a deliberate Panic, or a body
      // cut short by a client that went away (killed, say), is a stand-in bug.
      if (!(error instanceof Panic) && !ctx.req.socket.destroyed) console.error('cloudreve stand-in: handler failed', error);
      reply = { kind: 'plain', status: 500, headers: {}, body: '' };
    }
  }
  if (reply.kind === 'streamed') return;
  if (bodyUnread && Number(ctx.req.headers['content-length'] ?? 0) >= maxPostHandlerReadBytes) {
    // Go's net/http discards at most this much of a body the handler left unread: beyond it the
    // answer goes at once, while the client is still sending, and the connection is closed
    // (its write side at once, the whole a moment later: net/http's rstAvoidanceDelay).
    ctx.res.setHeader('Connection', 'close');
    ctx.res.once('finish', () => setTimeout(() => ctx.req.socket.destroy(), rstAvoidanceDelayMs).unref());
  } else {
    // Cloudreve's handlers read (or black-hole) the whole body before their answer leaves.
    await ctx.drain();
  }
  // Cloudreve's cancel hook runs the moment the client goes, well before the client can ask
  // anything again: run before the connection is dropped, so that tests see it done.
  if (lose === 'clientGone' || (lose === undefined && ctx.req.socket.destroyed)) await ctx.cancelled();
  if (lose !== undefined) ctx.req.socket.destroy();
  if (ctx.res.destroyed || ctx.res.headersSent) return;
  if (ctx.session.dirty) ctx.res.setHeader('Set-Cookie', app.sessions.save(ctx.session));
  if (reply.kind === 'envelope') {
    sendPlain(ctx.res, reply.status, { 'Content-Type': 'application/json; charset=utf-8' }, envelopeJson(reply.code, reply.data, reply.msg));
  } else {
    sendPlain(ctx.res, reply.status, reply.headers, reply.body);
  }
}

/** net/http's `maxPostHandlerReadBytes` and `rstAvoidanceDelay`. */
const maxPostHandlerReadBytes = 256 << 10;
const rstAvoidanceDelayMs = 500;

/** The request never reaches Cloudreve: a proxy error, a dropped connection, or a database failure. */
async function suffer(fault: Fault, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (fault === 'reset') {
    req.socket.destroy();
    return;
  }
  await drain(req);
  if (fault === 'http502') {
    sendPlain(res, 502, { 'Content-Type': 'text/html' }, '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>\n');
  } else if (fault === 'http413') {
    sendPlain(res, 413, { 'Content-Type': 'text/html' }, '<html><head><title>413 Request Entity Too Large</title></head><body><center><h1>413 Request Entity Too Large</h1></center></body></html>\n');
  } else {
    sendPlain(res, 200, { 'Content-Type': 'application/json; charset=utf-8' }, envelopeJson(50001, undefined, 'Database operation failed.'));
  }
}

export function sendPlain(res: ServerResponse, status: number, headers: Readonly<Record<string, string>>, body: string): void {
  if (res.destroyed) return;
  res.writeHead(status, { ...headers, 'Content-Length': String(Buffer.byteLength(body)) });
  res.end(body);
}

/** gin's trailing-slash redirect via `http.Redirect`: 301 for GET, 307 otherwise. */
function redirect(res: ServerResponse, method: string, location: string): void {
  if (method === 'GET') {
    sendPlain(res, 301, { Location: location, 'Content-Type': 'text/html; charset=utf-8' }, `<a href="${location}">Moved Permanently</a>.\n\n`);
  } else {
    sendPlain(res, 307, { Location: location }, '');
  }
}

export async function readText(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function drain(body: Readable): Promise<void> {
  if (body.readableEnded || body.destroyed) return;
  body.resume();
  await finished(body).catch(() => undefined);
}

class RequestContext implements Ctx {
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly session: Session;
  readonly user: User | null;
  #body: Readable | null = null;
  readonly #cancelHooks: (() => Promise<void>)[] = [];

  constructor(
    app: App,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly path: string,
    match: Match,
    rawQuery: string,
    private readonly dropAfter: number | null,
  ) {
    this.params = match.params;
    this.query = new URLSearchParams(rawQuery);
    // Only the /api/v3 group runs the session and current-user middleware.
    this.session = app.sessions.load(match.route.scope === 'api' ? req.headers.cookie : undefined);
    const userId = this.session.get('user_id');
    this.user = typeof userId === 'number' ? (app.store.users.get(userId) ?? null) : null;
  }

  body(): Readable {
    this.#body ??= this.dropAfter === null ? this.req : cutAfter(this.req, this.dropAfter);
    return this.#body;
  }

  async text(): Promise<string> {
    return readText(this.body());
  }

  async bind(): Promise<Binder> {
    return Binder.parse(await this.text());
  }

  async drain(): Promise<void> {
    await drain(this.body());
  }

  onCancel(hook: () => Promise<void>): void {
    this.#cancelHooks.push(hook);
  }

  /** The client went before the answer: the hooks `onCancel` gathered run, in order. */
  async cancelled(): Promise<void> {
    for (const hook of this.#cancelHooks.splice(0)) await hook();
  }
}

/** dropNextChunk: pass `limit` bytes of the body on, then kill the connection mid-request. */
function cutAfter(req: IncomingMessage, limit: number): Readable {
  let seen = 0;
  const drop = (): Error => {
    req.socket.destroy();
    return new Error('connection dropped by the stand-in');
  };
  const cut = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (seen + chunk.length < limit) {
        seen += chunk.length;
        done(null, chunk);
        return;
      }
      if (limit > seen) this.push(chunk.subarray(0, limit - seen));
      seen = limit;
      done(drop());
    },
    flush(done) {
      done(drop());
    },
  });
  req.on('error', (error) => cut.destroy(error));
  // The cut may happen before the handler attaches its pipeline, which still sees the error.
  cut.on('error', () => undefined);
  return req.pipe(cut);
}
