import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudreveV3 } from '../../src/cloudreve/index.js';
import type { RemoteEntry } from '../../src/remote/types.js';
import { expectSameBytes, failure, payload, requestLog, routes, scratchDir, sourceOf } from './helpers.js';
import { onRealServer, openTarget, standinOf, type Target } from './target.js';

let target: Target;
let client: CloudreveV3;
let downloads: Awaited<ReturnType<typeof scratchDir>>;
let proxy: FaultyProxy;
const data = payload(3 * 1024 * 1024 + 17);
let file: RemoteEntry;

beforeAll(async () => {
  target = await openTarget();
  client = target.client();
  downloads = await scratchDir();
  proxy = await faultyProxy(target.url);
  await client.upload(target.root, 'download me.bin', sourceOf(data));
  const found = await client.stat(target.path('download me.bin'), 'file');
  if (found === undefined) throw new Error('upload failed');
  file = found;
});
afterAll(async () => {
  await proxy.close();
  await downloads.remove();
  await target.close();
});

describe('download', () => {
  it('streams the file into the destination, reporting progress', async () => {
    const progress: number[] = [];
    const written = await client.download(file.id, downloads.path('plain.bin'), { onProgress: (bytes) => progress.push(bytes) });
    expect(written).toBe(data.length);
    expectSameBytes(await downloads.read('plain.bin'), data);
    expect(progress.reduce((sum, bytes) => sum + bytes, 0)).toBe(data.length);
  });

  it('truncates an existing destination', async () => {
    await client.upload(target.root, 'small.txt', sourceOf(Buffer.from('tiny')));
    const small = await client.stat(target.path('small.txt'), 'file');
    await client.download(file.id, downloads.path('overwritten.bin'));
    await client.download(small?.id ?? '', downloads.path('overwritten.bin'));
    expect((await downloads.read('overwritten.bin')).toString()).toBe('tiny');
  });

  it('downloads a JSON file that looks like a Cloudreve error as content', async () => {
    const lookalike = Buffer.from('{"code":40005,"msg":"Signature expired"}');
    await client.upload(target.root, 'lookalike.json', sourceOf(lookalike));
    const json = await client.stat(target.path('lookalike.json'), 'file');
    await client.download(json?.id ?? '', downloads.path('lookalike.json'));
    expectSameBytes(await downloads.read('lookalike.json'), lookalike);
  });

  it('reports a deleted file as not-found', async () => {
    await client.upload(target.root, 'gone.txt', sourceOf(Buffer.from('x')));
    const gone = await client.stat(target.path('gone.txt'), 'file');
    if (gone === undefined) throw new Error('upload failed');
    await client.delete([gone]);
    expect((await failure(client.download(gone.id, downloads.path('gone.bin')))).kind).toBe('not-found');
  });

  it('stops with kind aborted when the caller aborts', async () => {
    const abort = new AbortController();
    const error = await failure(
      client.download(file.id, downloads.path('aborted.bin'), {
        signal: abort.signal,
        onProgress: () => abort.abort(),
      }),
    );
    expect(error.kind).toBe('aborted');
  });
});

describe('download through a connection that breaks', () => {
  it('resumes with a range request where the connection broke', async () => {
    const log = requestLog();
    const viaProxy = target.client({ url: proxy.url, onRequest: log.onRequest });
    proxy.cutNextDownloadAfter(1024 * 1024);
    const written = await viaProxy.download(file.id, downloads.path('resumed.bin'));
    expect(written).toBe(data.length);
    expectSameBytes(await downloads.read('resumed.bin'), data);
    // Resumed from what arrived: at most the bytes the proxy let through before it broke.
    expect(proxy.ranges).toEqual([undefined, expect.stringMatching(/^bytes=\d+-$/)]);
    const resumedFrom = Number(/\d+/.exec(proxy.ranges[1] ?? '')?.[0]);
    expect(resumedFrom).toBeGreaterThan(0);
    expect(resumedFrom).toBeLessThanOrEqual(1024 * 1024);
    expect(log.count(routes.downloadUrl)).toBe(1);
  });

  it('starts over when the server ignores the range', async () => {
    const viaProxy = target.client({ url: proxy.url });
    proxy.cutNextDownloadAfter(1024 * 1024, { dropRange: true });
    const progress: number[] = [];
    await viaProxy.download(file.id, downloads.path('restarted.bin'), { onProgress: (bytes) => progress.push(bytes) });
    expectSameBytes(await downloads.read('restarted.bin'), data);
    expect(progress.reduce((sum, bytes) => sum + bytes, 0)).toBe(data.length);
  });

  it('gives up when every answer breaks at the same place and the range is ignored', async () => {
    // Each attempt starts over and stops where the last one did: no progress, however many bytes it wrote.
    const viaProxy = target.client({ url: proxy.url });
    proxy.cutNextDownloadAfter(1024 * 1024, { dropRange: true, times: 50 });
    try {
      await expect(viaProxy.download(file.id, downloads.path('never.bin'))).rejects.toThrow(/connection/i);
      expect(proxy.ranges.length).toBeLessThan(10);
    } finally {
      proxy.cutNextDownloadAfter(0, { times: 0 });
    }
  });

  it('starts over when the file was replaced between a broken transfer and its resume', async () => {
    await client.upload(target.root, 'replaced.bin', sourceOf(data));
    const original = await client.stat(target.path('replaced.bin'), 'file');
    // The download URL serves the file as it is now under the date it had when the URL was made
    // (Cloudreve caches the record): only the size tells the versions apart.
    const newer = Buffer.alloc(data.length + 1000, 0x5a);
    const viaProxy = target.client({ url: proxy.url });
    proxy.cutNextDownloadAfter(1024 * 1024, { then: () => client.replace(original?.id ?? '', sourceOf(newer)) });
    await viaProxy.download(original?.id ?? '', downloads.path('replaced.bin'));
    expectSameBytes(await downloads.read('replaced.bin'), newer);
    expect(proxy.ranges.length).toBeGreaterThan(1);
  });

  it.skipIf(onRealServer)('asks for a fresh URL when the old one expired meanwhile', async () => {
    const log = requestLog();
    const viaProxy = target.client({ url: proxy.url, onRequest: log.onRequest });
    proxy.cutNextDownloadAfter(1024 * 1024, { then: () => standinOf(target).control.advanceClock(3600_000) });
    await viaProxy.download(file.id, downloads.path('renewed.bin'));
    expectSameBytes(await downloads.read('renewed.bin'), data);
    expect(log.count(routes.downloadUrl)).toBe(2);
  });

  it.skipIf(onRealServer)('asks for a fresh URL when a CDN in front of the server answers that the old one expired', async () => {
    // The policy's CDN `BaseURL` puts download URLs on another origin, which passes Cloudreve's
    // HTTP 200 JSON errors through: the expired URL's answer must not become the file.
    const { control } = standinOf(target);
    control.setPolicy({ baseUrl: proxy.url });
    try {
      const log = requestLog();
      const direct = target.client({ onRequest: log.onRequest });
      proxy.cutNextDownloadAfter(1024 * 1024, { then: () => control.advanceClock(3600_000) });
      await direct.download(file.id, downloads.path('via cdn.bin'));
      expectSameBytes(await downloads.read('via cdn.bin'), data);
      expect(proxy.ranges.length).toBe(3);
      expect(log.count(routes.downloadUrl)).toBe(2);
    } finally {
      control.setPolicy({ baseUrl: '' });
    }
  });
});

interface FaultyProxy {
  readonly url: string;
  /** Range headers of the download requests seen since the last cut was armed. */
  readonly ranges: (string | undefined)[];
  /**
   * Breaks the next download response (the next `times`) after `bytes` body bytes; `dropRange`
   * hides later Range headers from the server; requests wait until what `then` returns has settled.
   */
  cutNextDownloadAfter(bytes: number, options?: { dropRange?: boolean; times?: number; then?: () => unknown }): void;
  close(): Promise<void>;
}

/**
 * An HTTP proxy in front of the server under test that can break a download response in the
 * middle: a fault of the network, not of the server, so it works in front of a real server too.
 */
async function faultyProxy(upstream: string): Promise<FaultyProxy> {
  const base = new URL(upstream);
  let cut: { bytes: number; times: number; then: (() => unknown) | undefined } | undefined;
  let dropRange = false;
  let held: Promise<unknown> = Promise.resolve();
  const ranges: (string | undefined)[] = [];
  const server: Server = createServer((incoming, outgoing) => void held.then(() => {
    const isDownload = incoming.method === 'GET' && (incoming.url ?? '').includes('/api/v3/file/download/');
    const headers = { ...incoming.headers, host: base.host };
    if (isDownload) {
      ranges.push(incoming.headers.range);
      if (dropRange) delete headers.range;
    }
    const armed = isDownload ? cut : undefined;
    if (armed !== undefined && --armed.times === 0) cut = undefined;
    const forward = (base.protocol === 'https:' ? httpsRequest : request)(
      { host: base.hostname, port: base.port, method: incoming.method, path: incoming.url, headers },
      (answer: IncomingMessage) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        if (armed === undefined) {
          answer.pipe(outgoing);
          return;
        }
        let sent = 0;
        answer.on('data', (chunk: Buffer) => {
          if (sent >= armed.bytes) return;
          const part = chunk.subarray(0, armed.bytes - sent);
          sent += part.length;
          if (sent < armed.bytes) {
            outgoing.write(part);
            return;
          }
          answer.destroy();
          outgoing.write(part, () => {
            held = Promise.resolve(armed.then?.()).catch(() => undefined);
            outgoing.socket?.destroy();
          });
        });
      },
    );
    forward.on('error', () => outgoing.socket?.destroy());
    incoming.pipe(forward);
  }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    ranges,
    cutNextDownloadAfter: (bytes, options = {}) => {
      ranges.length = 0;
      dropRange = options.dropRange ?? false;
      cut = { bytes, times: options.times ?? 1, then: options.then };
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
