import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudreveV3 } from '../../src/cloudreve/index.js';
import type { RemoteEntry } from '../../src/remote/types.js';
import { expectSameBytes, failure, payload, scratchDir, sourceOf } from './helpers.js';
import { openTarget, type Target } from './target.js';

let target: Target;
let client: CloudreveV3;
let downloads: Awaited<ReturnType<typeof scratchDir>>;
beforeAll(async () => {
  target = await openTarget({ chunkSize: 64 * 1024 });
  client = target.client();
  downloads = await scratchDir();
});
afterAll(async () => {
  await downloads.remove();
  await target.close();
});

async function file(name: string): Promise<RemoteEntry> {
  const found = await client.stat(target.path(name), 'file');
  if (found === undefined) throw new Error(`${name} is missing`);
  return found;
}

describe('replace', () => {
  it('replaces the content in place, keeping the ID, whatever the sizes', async () => {
    await client.upload(target.root, 'doc.bin', sourceOf(payload(1000)));
    const original = await file('doc.bin');
    for (const size of [300 * 1024, 10, 0]) {
      const data = payload(size);
      const progress: number[] = [];
      await client.replace(original.id, sourceOf(data), { onProgress: (bytes) => progress.push(bytes) });
      const replaced = await file('doc.bin');
      expect(replaced).toMatchObject({ id: original.id, size });
      expect(progress.reduce((sum, bytes) => sum + bytes, 0)).toBe(size);
      await client.download(original.id, downloads.path('doc.bin'));
      expectSameBytes(await downloads.read('doc.bin'), data);
    }
  });

  it('reports a missing file as not-found', async () => {
    await client.upload(target.root, 'gone.bin', sourceOf(payload(1)));
    const gone = await file('gone.bin');
    await client.delete([gone]);
    expect((await failure(client.replace(gone.id, sourceOf(payload(1))))).kind).toBe('not-found');
  });
});
