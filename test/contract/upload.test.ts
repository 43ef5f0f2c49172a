import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudreveV3 } from '../../src/cloudreve/index.js';
import { expectSameBytes, failure, fixedMtime, gatedSource, payload, requestLog, routes, scratchDir, sourceOf } from './helpers.js';
import { onRealServer, openTarget, standinOf, type Target } from './target.js';

const chunkSize = 64 * 1024;

let target: Target;
let client: CloudreveV3;
let log: ReturnType<typeof requestLog>;
let downloads: Awaited<ReturnType<typeof scratchDir>>;
beforeAll(async () => {
  target = await openTarget({ chunkSize });
  log = requestLog();
  client = target.client({ onRequest: log.onRequest });
  downloads = await scratchDir();
});
afterAll(async () => {
  await downloads.remove();
  await target.close();
});

async function content(path: string): Promise<Buffer> {
  const file = await client.stat(path, 'file');
  if (file === undefined) throw new Error(`${path} is missing`);
  const local = downloads.path(`${file.id}.bin`);
  await client.download(file.id, local);
  return downloads.read(`${file.id}.bin`);
}

function openSessions(): number {
  return target.standin?.control.openUploadSessions().length ?? 0;
}

describe('upload', () => {
  it('uploads a file over several chunks, reporting progress and the session', async () => {
    const data = payload(chunkSize * 3 + 123);
    const progress: number[] = [];
    const opened: string[] = [];
    const closed: string[] = [];
    log.events.length = 0;
    await client.upload(target.path('multi'), 'four chunks.bin', sourceOf(data), {
      onProgress: (bytes) => progress.push(bytes),
      onSessionOpened: (id) => opened.push(id),
      onSessionClosed: (id) => closed.push(id),
    });
    expectSameBytes(await content(target.path('multi', 'four chunks.bin')), data);
    expect(progress.reduce((sum, bytes) => sum + bytes, 0)).toBe(data.length);
    expect(progress.every((bytes) => bytes > 0)).toBe(true);
    expect(opened).toHaveLength(1);
    expect(closed).toEqual(opened);
    if (!onRealServer) expect(log.count(routes.chunk)).toBe(4);
    expect(openSessions()).toBe(0);
  });

  it('records the modification time of the source', async () => {
    await client.upload(target.root, 'dated.txt', sourceOf(payload(10), fixedMtime));
    const file = await client.stat(target.path('dated.txt'));
    expect(Math.abs((file?.modifiedMs ?? 0) - fixedMtime)).toBeLessThan(1000);
  });

  it('uploads an empty file as one empty chunk', async () => {
    log.events.length = 0;
    await client.upload(target.root, 'empty.txt', sourceOf(Buffer.alloc(0)));
    expect(await client.stat(target.path('empty.txt'))).toMatchObject({ kind: 'file', size: 0 });
    if (!onRealServer) expect(log.count(routes.chunk)).toBe(1);
    expectSameBytes(await content(target.path('empty.txt')), Buffer.alloc(0));
  });

  it('creates the missing folders of the target', async () => {
    await client.upload(target.path('new', 'deeper'), 'x.txt', sourceOf(payload(1)));
    expect((await client.stat(target.path('new', 'deeper')))?.kind).toBe('dir');
  });

  it('never overwrites: an existing file is exists and leaves no session behind', async () => {
    await client.upload(target.root, 'once.txt', sourceOf(payload(5)));
    const error = await failure(client.upload(target.root, 'once.txt', sourceOf(payload(6))));
    expect(error.kind).toBe('exists');
    expect(error.code).toBe(40004);
    expect((await client.stat(target.path('once.txt')))?.size).toBe(5);
    expect(openSessions()).toBe(0);
  });

  it('reports a same-named upload in progress as upload-in-progress', async () => {
    const gated = gatedSource(payload(100));
    const first = client.upload(target.root, 'contended.bin', gated.source);
    await gated.opened;
    const error = await failure(client.upload(target.root, 'contended.bin', sourceOf(payload(100))));
    expect(error.kind).toBe('upload-in-progress');
    expect(error.code).toBe(40054);
    gated.release();
    await first;
    expect((await client.stat(target.path('contended.bin')))?.size).toBe(100);
  });

  it('refuses an invalid name without opening a session', async () => {
    log.events.length = 0;
    expect((await failure(client.upload(target.root, 'no?.txt', sourceOf(payload(1))))).kind).toBe('invalid-name');
    expect(log.count(routes.createSession)).toBe(0);
  });

  it.skipIf(onRealServer)("says why a name near 255 bytes cannot be stored by the local storage's default file name rule", async () => {
    const name = `${'n'.repeat(250)}.txt`;
    const error = await failure(client.upload(target.root, name, sourceOf(payload(1))));
    expect(error.kind).toBe('invalid-name');
    expect(error.message).toContain(`The server cannot store ${name}: its storage names files after the name with more in front`);
    expect(error.message).toContain('rename it shorter');
  });
});

describe.skipIf(onRealServer)('upload policy limits', () => {
  it('maps the policy limits and the quota to their kinds', async () => {
    const { control } = standinOf(target);
    try {
      control.setPolicy({ fileTypes: ['txt'] });
      expect((await failure(client.upload(target.root, 'image.png', sourceOf(payload(1))))).kind).toBe('file-type-not-allowed');
      control.setPolicy({ fileTypes: [], maxSize: 10 });
      expect((await failure(client.upload(target.root, 'big.txt', sourceOf(payload(11))))).kind).toBe('file-too-large');
      control.setPolicy({ maxSize: 0 });
      control.setQuota(1);
      expect((await failure(client.upload(target.root, 'over.txt', sourceOf(payload(2))))).kind).toBe('quota-exceeded');
    } finally {
      control.setPolicy({ fileTypes: [], maxSize: 0 });
      control.setQuota(1024 ** 3);
    }
    expect(openSessions()).toBe(0);
  });

  it('re-lists once and retries when the policy changed since the last listing', async () => {
    const { control } = standinOf(target);
    await client.list(target.root);
    control.setPolicy({ type: 's3' });
    try {
      log.events.length = 0;
      const data = payload(chunkSize + 1);
      await client.upload(target.root, 'after switch.bin', sourceOf(data));
      expect(log.count(routes.createSession)).toBe(2);
      expect(log.events.filter((event) => event.code === 40006)).toHaveLength(1);
      expectSameBytes(await content(target.path('after switch.bin')), data);
    } finally {
      control.setPolicy({ type: 'local' });
    }
  });
});
