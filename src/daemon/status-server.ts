import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log/logger.js';
import type { GuardAnswer } from '../tree/types.js';
import type { Metrics } from './metrics.js';

export interface StatusSource {
  /** The identity of the state database the daemon keeps (see stateIdentity). */
  readonly state: string;
  /** Why the daemon is not healthy; empty when it is. */
  unhealthy(): string[];
  status(): object;
  /** Resumes a folder a guard stopped (see Resumed); undefined when there is no such folder. */
  resume(folder: string): Resumed | undefined;
}

/** Whether there was a stop to lift, and what the resume agreed to (nothing for a missing folder). */
export type Resumed = { readonly resumed: false } | { readonly resumed: true; readonly answer: GuardAnswer | undefined };

/**
 * The daemon's HTTP face: /healthz for Docker and monitors, /status as JSON, /metrics for
 * Prometheus, and POST /folders/<name>/resume for `cloudreve-sync resume`. Binds to loopback
 * unless configured otherwise: it has no authentication. A request naming another state
 * database (`?state=`) is refused: it comes from an install whose own daemon is not this one.
 */
export class StatusServer {
  private constructor(
    private readonly server: Server,
    readonly address: string,
  ) {}

  static async start(listen: string, source: StatusSource, metrics: Metrics, logger: Logger): Promise<StatusServer> {
    const { host, port } = parseListen(listen);
    const server = createServer((request, response) => {
      handle(request, response, source, metrics).catch((error: unknown) => {
        logger.error({ err: (error as Error).message, url: request.url }, 'status request failed');
        if (!response.headersSent) respond(response, 500, { error: 'internal error' });
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const bound = server.address() as AddressInfo;
    const address = `${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`;
    logger.info({ address }, 'status server listening');
    return new StatusServer(server, address);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

async function handle(request: IncomingMessage, response: ServerResponse, source: StatusSource, metrics: Metrics): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://status');
  const path = url.pathname;
  const asked = url.searchParams.get('state');
  if (asked !== null && asked !== source.state) {
    respond(response, 409, { error: 'this daemon keeps another state database', state: source.state });
    return;
  }
  if (request.method === 'GET' && path === '/healthz') {
    const reasons = source.unhealthy();
    respond(response, reasons.length === 0 ? 200 : 503, reasons.length === 0 ? { status: 'ok' } : { status: 'unhealthy', reasons });
    return;
  }
  if (request.method === 'GET' && path === '/status') {
    respond(response, 200, { state: source.state, ...source.status() });
    return;
  }
  if (request.method === 'GET' && path === '/metrics') {
    const text = await metrics.registry.metrics();
    response.writeHead(200, { 'content-type': metrics.registry.contentType });
    response.end(text);
    return;
  }
  const resume = /^\/folders\/([^/]+)\/resume$/.exec(path);
  if (request.method === 'POST' && resume) {
    const folder = decodeURIComponent(resume[1] ?? '');
    const resumed = source.resume(folder);
    if (resumed === undefined) respond(response, 404, { error: `no folder named "${folder}"` });
    // `answer: null` says it answered nothing, which a daemon from before answers did not say.
    else respond(response, 200, { state: source.state, folder, ...(resumed.resumed ? { resumed: true, answer: resumed.answer ?? null } : { resumed: false }) });
    return;
  }
  respond(response, 404, { error: 'not found' });
}

function respond(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(`${JSON.stringify(body, null, 2)}\n`);
}

/** "127.0.0.1:9123", "[::1]:9123" or ":9123" (all interfaces). */
export function parseListen(listen: string): { host: string | undefined; port: number } {
  const match = /^\[?([^\]]*?)\]?:(\d+)$/.exec(listen);
  if (!match) throw new Error(`daemon.status.listen: expected "host:port", got "${listen}"`);
  return { host: match[1] === '' ? undefined : match[1], port: Number(match[2]) };
}
