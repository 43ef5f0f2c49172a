import { afterEach, describe, expect, it } from 'vitest';
import { RemoteTree } from '../../src/exec/remote-tree.js';
import { isRemoteError } from '../../src/remote/errors.js';
import { Scene } from '../e2e/harness.js';

let scene: Scene | undefined;
afterEach(async () => {
  await scene?.close();
  scene = undefined;
});

describe('moves on the server side of a synced folder (src/exec/remote-tree.ts)', () => {
  it('leaves an entry where the move put it when the new name is taken there, rather than under an aside name', async () => {
    scene = await Scene.start();
    await scene.put('a/x', 'moved');
    await scene.put('b/y', 'in the way');
    const object = await scene.entry('a/x', 'file');
    if (object === undefined) throw new Error('no a/x on the server');
    const failure = await new RemoteTree(scene.server, scene.remoteRoot).move(object, 'a/x', 'b/y').catch((error: unknown) => error);
    expect(isRemoteError(failure, 'exists')).toBe(true);
    expect(await scene.remoteTree()).toEqual({ a: '/', b: '/', 'b/x': 'moved', 'b/y': 'in the way' });
  });
});
