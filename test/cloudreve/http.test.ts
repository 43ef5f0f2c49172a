import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { CookieJar } from 'tough-cookie';
import { afterEach, describe, expect, it } from 'vitest';
import { Cookies } from '../../src/cloudreve/cookies.js';
import { HttpTransport } from '../../src/cloudreve/http.js';
import { silentLogger } from '../../src/log/logger.js';
import { RemoteError } from '../../src/remote/errors.js';
import type { ByteSource } from '../../src/remote/types.js';

const servers: Server[] = [];
const netServers: NetServer[] = [];
const transports: HttpTransport[] = [];

afterEach(async () => {
  for (const transport of transports.splice(0)) transport.close();
  for (const server of servers) server.closeAllConnections();
  await Promise.all([...servers.splice(0), ...netServers.splice(0)].map((server) => new Promise((resolve) => server.close(resolve))));
});

function transport(idleMs: number): HttpTransport {
  const created = new HttpTransport({ connectMs: 5000, responseMs: 5000, idleMs, insecureSkipVerify: false, cookies: new Cookies(new CookieJar()), logger: silentLogger, onSessionCookie: () => undefined });
  transports.push(created);
  return created;
}

/** A server that takes requests and never reads their bodies or answers. */
async function stallingServer(): Promise<URL> {
  const server = createServer(() => undefined);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/upload`);
}

/** A file read by a plain stream, which a destroy() tears down at once. */
function plainSource(size: number): ByteSource {
  const piece = Buffer.alloc(64 << 10, 1);
  return {
    size,
    mtimeMs: 0,
    open: (start, end) => {
      let left = end - start;
      return new Readable({
        read() {
          const next = Math.min(left, piece.length);
          left -= next;
          this.push(next === 0 ? null : piece.subarray(0, next));
        },
      });
    },
  };
}

describe('HttpTransport', () => {
  it('reports a request that fails mid-body as a network failure, not as one of the file being sent', async () => {
    const url = await stallingServer();
    const size = 16 << 20;
    const error: unknown = await transport(200)
      .fetch({ method: 'PUT', url, route: 'PUT /upload', body: { source: plainSource(size), start: 0, end: size } })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RemoteError);
    expect((error as RemoteError).kind).toBe('network');
    expect((error as RemoteError).message).toContain('timed out');
  });

  it('fails, rather than waits for ever, when the server switches to another protocol', async () => {
    const server = createNetServer((socket) => {
      socket.once('data', () => socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n'));
    });
    netServers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api`);
    const error: unknown = await transport(60_000)
      .fetch({ method: 'GET', url, route: 'GET /api' })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RemoteError);
    expect((error as RemoteError).kind).toBe('network');
  });

  it('reports a failure of the file being sent as that failure', async () => {
    const url = await stallingServer();
    const broken: ByteSource = {
      size: 1000,
      mtimeMs: 0,
      open: () =>
        new Readable({
          read() {
            this.destroy(Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' }));
          },
        }),
    };
    const error: unknown = await transport(5000)
      .fetch({ method: 'PUT', url, route: 'PUT /upload', body: { source: broken, start: 0, end: 1000 } })
      .catch((caught: unknown) => caught);
    expect(error).not.toBeInstanceOf(RemoteError);
    expect((error as NodeJS.ErrnoException).code).toBe('EIO');
  });

  describe('kept-alive connections', () => {
    /** A server answering every request, counting the connections it was asked on. */
    async function countingServer(keepAliveTimeoutMs: number): Promise<{ url: URL; connections: () => number }> {
      let connections = 0;
      const server = createServer((_request, response) => response.end('{}'));
      // Node announces its keep-alive timeout in a Keep-Alive header; 0 announces none and keeps the connection.
      server.keepAliveTimeout = keepAliveTimeoutMs;
      server.on('connection', () => connections++);
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return { url: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api`), connections: () => connections };
    }
    const get = (client: HttpTransport, url: URL): Promise<unknown> => client.fetch({ method: 'GET', url, route: 'GET /api' });

    it('closes one before the timeout the server announces runs out, so that no request goes out on it as the server closes it', async () => {
      const server = await countingServer(2000);
      const client = transport(60_000);
      await get(client, server.url);
      await get(client, server.url);
      expect(server.connections()).toBe(1);
      // Node lets a connection go a second before the announced 2 s.
      await sleep(1300);
      await get(client, server.url);
      expect(server.connections()).toBe(2);
    });

    it('closes one idle for 4 s when the server announces nothing (a proxy may close it first)', async () => {
      const server = await countingServer(0);
      const client = transport(60_000);
      await get(client, server.url);
      await sleep(4300);
      await get(client, server.url);
      expect(server.connections()).toBe(2);
    });
  });
});
