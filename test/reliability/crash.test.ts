import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bufferSource } from '../../src/remote/sources.js';
import { cutShort } from '../e2e/harness.js';
import { useReliabilityHooks } from './hooks.js';
import { checkConverged, remoteTrash } from './checks.js';
import { crashPoints } from './random.js';
import { Rig, sha, tail } from './rig.js';

/**
 * The CLI killed with SIGKILL at each of the executor's crash points (CLOUDREVE_SYNC_CRASH_AT),
 * in a sync that has every kind of action to do; restarted until it converges, the four checks
 * of the random suite must hold: equal trees, no lost version, no leftovers, a no-op sync after.
 */

let rig: Rig | undefined;
useReliabilityHooks();

class Versions {
  readonly versions = new Map<string, string>();
  readonly superseded = new Set<string>();
  wrote(what: string, content: string): string {
    this.versions.set(sha(content), what);
    return content;
  }
  gone(content: string): void {
    this.superseded.add(sha(content));
  }
}

const big = (tag: string, size: number): string => `${tag}:`.padEnd(size, tag.slice(0, 1));

/** A synced folder, then changes on both sides that make a plan with every action type. */
async function prepare(r: Rig, v: Versions): Promise<void> {
  const s = r.scene;
  const initial: Record<string, string> = {
    'up.txt': big('up-1', 2600),
    'down.txt': big('down-1', 900),
    'mv.txt': big('mv', 300),
    'far/away.txt': big('far', 200),
    'rdel.txt': big('rdel', 100),
    'ldel.txt': big('ldel', 120),
    'both.txt': big('both-1', 400),
    'gone.txt': big('gone', 50),
    'swap.bin': big('swap-1', 3000),
    'keep/k.txt': big('keep', 10),
  };
  for (const [path, content] of Object.entries(initial)) await s.write(path, v.wrote(`initial ${path}`, content));
  await r.sync(0);

  // upload (multi-chunk), and an upload-and-swap of a file above replaceMaxSize
  v.gone(initial['up.txt'] ?? '');
  await s.write('up.txt', v.wrote('local edit up.txt', big('up-2', 2900)));
  v.gone(initial['swap.bin'] ?? '');
  await s.write('swap.bin', v.wrote('local edit swap.bin', big('swap-2', 3300)));
  // download
  v.gone(initial['down.txt'] ?? '');
  const down = await s.entry('down.txt', 'file');
  await s.server.replace(down?.id ?? '', bufferSource(Buffer.from(v.wrote('remote edit down.txt', big('down-2', 1700))), Date.now()));
  // moves: a rename, and a move plus rename (two steps on the server)
  await rename(s.localPath('mv.txt'), s.localPath('moved.txt'));
  await mkdir(s.localPath('keep/inner'));
  await rename(s.localPath('far/away.txt'), s.localPath('keep/inner/near.txt'));
  // deletes on each side
  v.gone(initial['rdel.txt'] ?? '');
  const rdel = await s.entry('rdel.txt', 'file');
  await s.server.delete([{ kind: 'file', id: rdel?.id ?? '' }]);
  v.gone(initial['ldel.txt'] ?? '');
  await rm(s.localPath('ldel.txt'));
  // forget: deleted on both sides
  v.gone(initial['gone.txt'] ?? '');
  await rm(s.localPath('gone.txt'));
  const gone = await s.entry('gone.txt', 'file');
  await s.server.delete([{ kind: 'file', id: gone?.id ?? '' }]);
  // conflict
  v.gone(initial['both.txt'] ?? '');
  await s.write('both.txt', v.wrote('local edit both.txt', big('both-local', 500)));
  const both = await s.entry('both.txt', 'file');
  await s.server.replace(both?.id ?? '', bufferSource(Buffer.from(v.wrote('remote edit both.txt', big('both-remote', 650))), Date.now()));
  // mkdir on each side, and record: the same folder made on both
  await s.write('newdir/n.txt', v.wrote('local new newdir/n.txt', big('new-local', 700)));
  await s.put('rdir/r.txt', v.wrote('remote new rdir/r.txt', big('new-remote', 800)));
  await mkdir(s.localPath('twin'));
  await s.server.mkdir(s.remotePath('twin'));
  await writeFile(s.localPath('twin/t.txt'), v.wrote('local new twin/t.txt', big('twin', 60)));
}

/** Every name the scenario gives. */
const names = new Set(['up.txt', 'down.txt', 'mv.txt', 'moved.txt', 'far', 'away.txt', 'keep', 'inner', 'near.txt', 'k.txt', 'rdel.txt', 'ldel.txt', 'both.txt', 'gone.txt', 'swap.bin', 'newdir', 'n.txt', 'rdir', 'r.txt', 'twin', 't.txt']);

const points = [...crashPoints, 'download:kept', 'move:between-steps', 'upload:before-swap', 'upload:mid-transfer@3', 'download:before-rename@2', 'upload:in-transaction@2', 'mkdir:before-record@2'];

describe('a sync killed at a crash point', () => {
  it.each(points)('%s: restarted, it converges and the checks hold', async (point) => {
    rig = await Rig.start({
      standin: { chunkSize: 512 },
      folder: { trash: { remote: remoteTrash }, massDelete: { maxPercent: 100, minCount: 1, maxCount: 1_000_000 } },
      config: { sync: { settleTime: 0, retries: 1, concurrency: 2, replaceMaxSize: 2000 } },
    });
    const versions = new Versions();
    await prepare(rig, versions);
    const crashed = await rig.run(['sync', '--once'], { env: { CLOUDREVE_SYNC_CRASH_AT: point } });
    expect(crashed.signal, `the sync never reached ${point}:\n${crashed.stdout}\n${tail(crashed.stderr, 20)}`).toBe('SIGKILL');
    const restarts: string[] = [];
    for (let attempt = 1; ; attempt++) {
      rig.endBackoff();
      const result = await rig.run(['sync', '--once']);
      restarts.push(`${result.code ?? result.signal}: ${result.stdout.trim()}`);
      // A leftover the walk found and the journal noted is removed, and said, once.
      const removed = result.stderr
        .split('\n')
        .filter((line) => line.includes('removed a temporary file left by an interrupted run'))
        .map((line) => basename((JSON.parse(line) as { path: string }).path));
      expect(new Set(removed).size, removed.join(', ')).toBe(removed.length);
      if (result.code === 0) break;
      if (attempt === 4 || result.code !== 1) throw new Error(`no convergence after a crash at ${point}:\n${restarts.join('\n')}\n${tail(result.stderr, 40)}\n${await rig.dumpRuns(`crash-${point}`)}`);
    }
    const verdict = await checkConverged(rig, versions, names);
    // The CLI's output goes to a file only when something is wrong.
    const dump = verdict.problems.length > 0 ? await rig.dumpRuns(`crash-${point}`) : '';
    expect(verdict.problems, `${restarts.join('\n')}\n${dump}`).toEqual([]);
  }, 60_000);
});

describe('a sync killed after emptying the local folder', () => {
  it('stops the restart at the empty-root guard, and --force then restores the server edit', async () => {
    rig = await Rig.start({ config: { sync: { settleTime: 0, retries: 1 } } });
    const s = rig.scene;
    const versions = new Versions();
    await s.write('f.txt', versions.wrote('initial f.txt', big('f-1', 300)));
    await s.write('d/g.txt', versions.wrote('initial d/g.txt', big('g-1', 200)));
    await rig.sync(0);
    // The local side deletes the only file; the server edits it and deletes the only folder.
    versions.gone(big('f-1', 300));
    versions.gone(big('g-1', 200));
    await rm(s.localPath('f.txt'));
    const f = await s.entry('f.txt', 'file');
    await s.server.replace(f?.id ?? '', bufferSource(Buffer.from(versions.wrote('remote edit f.txt', big('f-2', 500))), Date.now()));
    const d = await s.entry('d', 'dir');
    await s.server.delete([{ kind: 'dir', id: d?.id ?? '' }]);

    // The pass deletes the local folder, then dies downloading the edit: the root is left empty.
    const crashed = await rig.run(['sync', '--once'], { env: { CLOUDREVE_SYNC_CRASH_AT: 'download:before-rename' } });
    expect(crashed.signal).toBe('SIGKILL');
    const stopped = await rig.sync(3);
    expect(stopped.stdout).toContain('the local folder is empty but 1 entry was synced before');

    await rig.sync(0, ['--force']);
    const verdict = await checkConverged(rig, versions, new Set(['f.txt', 'd', 'g.txt']));
    expect(verdict.problems).toEqual([]);
  }, 60_000);
});

describe('a sync killed while it brings back a file cut short', () => {
  it('leaves the file in place until the server version is renamed over it: the restart brings it back and deletes nothing', async () => {
    rig = await Rig.start({ config: { sync: { settleTime: 0, retries: 1 } } });
    const s = rig.scene;
    const versions = new Versions();
    await s.write('cut.txt', versions.wrote('initial cut.txt', big('cut-1', 400)));
    await rig.sync(0);
    // Cut short, which the server's copy mends.
    await cutShort(s.localPath('cut.txt'));

    const crashed = await rig.run(['sync', '--once'], { env: { CLOUDREVE_SYNC_CRASH_AT: 'download:kept' } });
    expect(crashed.signal, `${crashed.stdout}${tail(crashed.stderr, 30)}`).toBe('SIGKILL');
    expect((await stat(s.localPath('cut.txt'))).size).toBe(0);
    await rig.sync(0);
    expect(await readFile(s.localPath('cut.txt'), 'utf8')).toBe(big('cut-1', 400));
    const verdict = await checkConverged(rig, versions, new Set(['cut.txt']));
    expect(verdict.problems).toEqual([]);
  }, 60_000);
});

describe('a sync killed before swapping in a large file, whose folder the server then renames', () => {
  it('removes the new version uploaded beside the old one from where the rename took it', async () => {
    rig = await Rig.start({
      standin: { chunkSize: 512 },
      config: { sync: { settleTime: 0, retries: 1, replaceMaxSize: 2000 } },
    });
    const s = rig.scene;
    const versions = new Versions();
    await s.write('dir/big.bin', versions.wrote('initial dir/big.bin', big('big-1', 3000)));
    await rig.sync(0);
    versions.gone(big('big-1', 3000));
    await s.write('dir/big.bin', versions.wrote('local edit dir/big.bin', big('big-2', 3300)));

    const crashed = await rig.run(['sync', '--once'], { env: { CLOUDREVE_SYNC_CRASH_AT: 'upload:before-swap' } });
    expect(crashed.signal).toBe('SIGKILL');
    // Another device renames the folder, the uploaded new version inside it.
    const dir = await s.entry('dir', 'dir');
    await s.server.rename({ kind: 'dir', id: dir?.id ?? '' }, 'moved');

    await rig.sync([0, 1]);
    await rig.sync(0);
    const verdict = await checkConverged(rig, versions, new Set(['dir', 'moved', 'big.bin']));
    expect(verdict.problems).toEqual([]);
  }, 60_000);
});
