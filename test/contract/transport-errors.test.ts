import { createServer, type RequestListener, type Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { CloudreveV3, type CloudreveV3Options } from '../../src/cloudreve/index.js';
import { mayHaveBeenCarriedOut } from '../../src/cloudreve/failures.js';
import { trustedAuthorities } from '../../src/cloudreve/trust.js';
import { userAgent } from '../../src/version.js';
import { RemoteError } from '../../src/remote/errors.js';
import { bufferSource } from '../../src/remote/sources.js';
import { failure, requestLog } from './helpers.js';
import { certificate, privateKey } from './tls-fixture.js';

/*
 * Failures below the Cloudreve protocol, against tiny servers of the test's own: they need no
 * Cloudreve at all, so they run the same everywhere.
 */

const servers: (Server | ReturnType<typeof createTlsServer>)[] = [];
const clients: CloudreveV3[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  for (const server of servers) server.closeAllConnections();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

async function serve(handler: RequestListener, tls = false): Promise<string> {
  const server = tls ? createTlsServer({ cert: certificate, key: privateKey }, handler) : createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const pong: RequestListener = (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' }).end('{"code":0,"data":"3.8.3","msg":""}');
};

function client(url: string, options: Partial<CloudreveV3Options> = {}): { client: CloudreveV3; log: ReturnType<typeof requestLog> } {
  const log = requestLog();
  const created = new CloudreveV3({ url, username: 'user@example.com', password: 'hunter2-secret', onRequest: log.onRequest, ...options });
  clients.push(created);
  return { client: created, log };
}

describe('answers that are not Cloudreve JSON', () => {
  it('reports an HTML page as a protocol error with the status and the start of the body', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html>\n  <head><title>Welcome   to nginx</title></head>\n<body>sign=abcdef</body></html>');
    });
    const error = await failure(client(url).client.ping());
    expect(error.kind).toBe('protocol');
    expect(error.retryable).toBe(false);
    expect(error.status).toBe(200);
    expect(error.path).toBe('/api/v3/site/ping');
    expect(error.message).toContain('<html> <head><title>Welcome to nginx</title></head>');
    expect(error.message).not.toContain('abcdef');
  });

  it('reports a plain 404 of a server that is not Cloudreve v3 as a protocol error', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found');
    });
    const error = await failure(client(url).client.list('/'));
    expect(error.kind).toBe('protocol');
    expect(error.status).toBe(404);
    expect(error.message).toContain('404 page not found');
    expect(error.message).toContain('Cloudreve v3');
  });

  it('retries an idempotent request on a proxy 502, then reports the server unreachable', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' }).end('<html><body>502 Bad Gateway</body></html>');
    });
    const { client: remote, log } = client(url, { retries: 2 });
    const error = await failure(remote.ping());
    expect(error.kind).toBe('network');
    expect(error.retryable).toBe(true);
    expect(error.status).toBe(502);
    expect(error.message).toContain('Server unreachable behind');
    expect(error.message).toContain('502 Bad Gateway');
    expect(log.count('GET /api/v3/site/ping')).toBe(3);
  });

  it("takes Cloudflare's pages for an origin it cannot reach for the server unreachable", async () => {
    const url = await serve((_req, res) => {
      res.writeHead(521, { 'content-type': 'text/html' }).end('<html><body>Web server is down</body></html>');
    });
    const error = await failure(client(url, { retries: 0 }).client.ping());
    expect(error.kind).toBe('network');
    expect(error.message).toContain('Server unreachable behind');
  });

  it('says where a redirect points, without its query, and that server.url is to be put right', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(301, { location: 'https://cloud.example.com/cloudreve/api/v3/site/ping?sign=abcdef' }).end();
    });
    const error = await failure(client(url).client.ping());
    expect(error.kind).toBe('protocol');
    expect(error.message).toBe(`${url} redirects to https://cloud.example.com/cloudreve/api/v3/site/ping (HTTP 301); set server.url to the address Cloudreve answers at [GET /api/v3/site/ping, HTTP 301]`);
  });

  it("takes a rate limit's 429 for a server there but not answering now", async () => {
    const url = await serve((_req, res) => {
      res.writeHead(429, { 'content-type': 'text/plain' }).end('slow down');
    });
    const error = await failure(client(url, { retries: 0 }).client.ping());
    expect(error.kind).toBe('network');
    expect(error.message).toContain('sync.requestsPerSecond');
  });

  it('takes a JSON body that is not the envelope for a protocol error', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    });
    expect((await failure(client(url).client.ping())).kind).toBe('protocol');
  });
});

describe('requests', () => {
  it('refuse a server URL that is not http(s)', () => {
    expect(() => new CloudreveV3({ url: 'ftp://example.com', username: 'a@b.c', password: 'x' })).toThrow(RemoteError);
  });

  it('identify the client', async () => {
    const agents: (string | undefined)[] = [];
    const url = await serve((req, res) => {
      agents.push(req.headers['user-agent']);
      pong(req, res);
    });
    expect(await client(url).client.ping()).toBe('3.8.3');
    expect(agents).toEqual([userAgent]);
    expect(userAgent).toMatch(/^cloudreve-sync\/\d+\.\d+\.\d+/);
  });

  it('time out when an answer stalls halfway', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' }).write('{"code":0,');
    });
    const error = await failure(client(url, { retries: 0, timeouts: { idleMs: 200 } }).client.ping());
    expect(error.kind).toBe('network');
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('timed out');
  });

  it('take an answer that comes before the server read the whole body', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', connection: 'close' }).end('{"code":40001,"msg":"too large","data":null}');
    });
    const whole = bufferSource(Buffer.alloc(8 << 20, 1), Date.now());
    // Streamed, as a file is: the server's answer must not wait for the rest of it.
    const streamed = { size: whole.size, mtimeMs: whole.mtimeMs, open: (start: number, end: number) => whole.open(start, end) };
    const error = await failure(client(url, { retries: 0, timeouts: { responseMs: 200 } }).client.replace('x', streamed));
    expect(error.code).toBe(40001);
  });

  it('time out when the server does not answer', async () => {
    const url = await serve(() => undefined);
    const error = await failure(client(url, { retries: 0, timeouts: { responseMs: 200 } }).client.ping());
    expect(error.kind).toBe('network');
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('timed out');
  });
});

describe('servers that cannot be reached', () => {
  it('says the server is unreachable when the port is closed', async () => {
    const url = await serve(() => undefined);
    const server = servers.pop();
    await new Promise((resolve) => server?.close(resolve));
    const { client: remote, log } = client(url, { retries: 1 });
    const error = await failure(remote.ping());
    expect(error.kind).toBe('network');
    expect(error.retryable).toBe(true);
    expect(error.message).toContain(`unreachable at ${url}`);
    expect(log.events).toHaveLength(2);
    expect(log.events.every((event) => event.error === 'network')).toBe(true);
  });

  it('reports TLS spoken to a plain HTTP server as a TLS failure', async () => {
    const url = await serve(pong);
    const error = await failure(client(url.replace('http:', 'https:'), { retries: 0 }).client.ping());
    expect(error.kind).toBe('tls');
    expect(error.retryable).toBe(false);
  });
});

describe('whether a failed request may have been carried out all the same', () => {
  it('says no for a refused connection and a proxy that could not reach the server, yes for a lost answer', async () => {
    const refused = await failure(client('http://127.0.0.1:9', { retries: 0 }).client.ping());
    expect(mayHaveBeenCarriedOut(refused)).toBe(false);
    const badGateway = await serve((_req, res) => res.writeHead(502).end('Bad Gateway'));
    expect(mayHaveBeenCarriedOut(await failure(client(badGateway, { retries: 0 }).client.ping()))).toBe(false);
    const limited = await serve((_req, res) => res.writeHead(429).end('slow down'));
    expect(mayHaveBeenCarriedOut(await failure(client(limited, { retries: 0 }).client.ping()))).toBe(false);
    const reset = await serve((req) => req.socket.destroy());
    expect(mayHaveBeenCarriedOut(await failure(client(reset, { retries: 0 }).client.ping()))).toBe(true);
  });
});

describe('TLS trust', () => {
  it('refuses a self-signed certificate, with a hint about tls.ca and tls.insecureSkipVerify', async () => {
    const url = await serve(pong, true);
    const error = await failure(client(url, { retries: 0 }).client.ping());
    expect(error.kind).toBe('tls');
    expect(error.message).toContain('tls.ca');
    expect(error.message).toContain('tls.insecureSkipVerify');
  });

  it('trusts a certificate signed by the configured CA', async () => {
    const url = await serve(pong, true);
    expect(await client(url, { tls: { ca: certificate } }).client.ping()).toBe('3.8.3');
  });

  it("adds the configured CA to Node's own and NODE_EXTRA_CA_CERTS, which download URLs on a CDN may need", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cloudreve-sync-ca-'));
    try {
      const extra = join(dir, 'extra.pem');
      await writeFile(extra, 'EXTRA PEM');
      const trusted = trustedAuthorities(certificate, { NODE_EXTRA_CA_CERTS: extra });
      expect(trusted).toEqual([...rootCertificates, 'EXTRA PEM', certificate]);
      expect(trustedAuthorities(certificate, {})).toHaveLength(rootCertificates.length + 1);
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  it('accepts any certificate only when told to', async () => {
    const url = await serve(pong, true);
    expect(await client(url, { tls: { insecureSkipVerify: true } }).client.ping()).toBe('3.8.3');
  });
});
