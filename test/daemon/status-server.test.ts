import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log/logger.js';
import { Metrics } from '../../src/daemon/metrics.js';
import { parseListen, StatusServer } from '../../src/daemon/status-server.js';

let server: StatusServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('StatusServer', () => {
  it('binds where it is told, loopback in the default, and answers its routes', async () => {
    const resumed: string[] = [];
    server = await StatusServer.start(
      '127.0.0.1:0',
      { state: 'abc', unhealthy: () => ['main: paused: too many deletes'], status: () => ({ folders: [] }), resume: (f) => (resumed.push(f), f === 'main' ? { resumed: true, answer: { guard: 'root', side: 'local' } } : f === 'gone' ? { resumed: true, answer: undefined } : f === 'idle' ? { resumed: false } : undefined) },
      new Metrics(),
      silentLogger,
    );
    expect(server.address).toMatch(/^127\.0\.0\.1:\d+$/);
    const base = `http://${server.address}`;
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(503);
    expect(await health.json()).toEqual({ status: 'unhealthy', reasons: ['main: paused: too many deletes'] });
    expect(await (await fetch(`${base}/status`)).json()).toEqual({ state: 'abc', folders: [] });
    expect(await (await fetch(`${base}/status?state=abc`)).json()).toEqual({ state: 'abc', folders: [] });
    // Asked on behalf of another state database: another install's CLI, whose daemon this is not.
    const other = await fetch(`${base}/status?state=def`);
    expect(other.status).toBe(409);
    expect(await other.json()).toEqual({ error: 'this daemon keeps another state database', state: 'abc' });
    expect((await fetch(`${base}/folders/main/resume?state=def`, { method: 'POST' })).status).toBe(409);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('# TYPE cloudreve_sync_files_total counter');
    // What a service left running for weeks is watched for.
    for (const name of ['process_resident_memory_bytes', 'process_open_fds', 'nodejs_heap_size_used_bytes']) expect(metrics).toContain(`# TYPE ${name} gauge`);
    expect(await (await fetch(`${base}/folders/main/resume`, { method: 'POST' })).json()).toEqual({ state: 'abc', folder: 'main', resumed: true, answer: { guard: 'root', side: 'local' } });
    expect(await (await fetch(`${base}/folders/gone/resume`, { method: 'POST' })).json()).toEqual({ state: 'abc', folder: 'gone', resumed: true, answer: null });
    expect(await (await fetch(`${base}/folders/idle/resume`, { method: 'POST' })).json()).toEqual({ state: 'abc', folder: 'idle', resumed: false });
    expect((await fetch(`${base}/folders/other/resume`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect(resumed).toEqual(['main', 'gone', 'idle', 'other']);
  });

  it('reads listen addresses', () => {
    expect(parseListen('127.0.0.1:9123')).toEqual({ host: '127.0.0.1', port: 9123 });
    expect(parseListen('[::1]:9123')).toEqual({ host: '::1', port: 9123 });
    expect(parseListen(':9123')).toEqual({ host: undefined, port: 9123 });
  });
});
