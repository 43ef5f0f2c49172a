import { rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { seconds, type RunResult } from './measure.js';
import { RawClient } from './raw-client.js';
import { count, ratio, type BenchContext, type BenchResult, type Benchmark } from './report.js';
import { expectExit, makeTree, syncOnce, Workdir, writeClientConfig } from './scene.js';
import { startStandinProcess, summarizeCounts } from './standin-process.js';

/** Issue #6, benchmark 4: a folder of many files renamed on one side. */

export const folderRename: Benchmark = {
  id: 4,
  name: 'folder-rename',
  run: async (context: BenchContext): Promise<BenchResult> => {
    const subfolders = context.quick ? 10 : 100;
    const perFolder = 100;
    const files = subfolders * perFolder;
    const work = await Workdir.create('rename');
    const standin = await startStandinProcess();
    const client = new RawClient(standin.url, 1);
    try {
      const setup = await writeClientConfig(work, 'client', standin, '/rename');
      context.log(`writing ${count(files)} files in docs/ (${subfolders} subfolders) and syncing them`);
      await makeTree(join(setup.local, 'docs'), subfolders, perFolder, 1024);
      expectExit(await syncOnce(setup), 0, 'first sync');
      const remoteFolders = subfolders + 2; // root, docs, its subfolders

      context.log('no-op cycle on the same tree (reference)');
      await standin.resetCounts();
      const noop = await syncOnce(setup);
      expectExit(noop, 0, 'no-op cycle');
      const noopCounts = summarizeCounts(await standin.counts());

      // A: renamed locally, mirrored on the server.
      context.log('local rename docs -> docs-renamed');
      await rename(join(setup.local, 'docs'), join(setup.local, 'docs-renamed'));
      await standin.resetCounts();
      const local = await syncOnce(setup);
      expectExit(local, 0, 'sync after the local rename');
      const localCounts = summarizeCounts(await standin.counts());
      await client.login(standin.email, standin.password);
      const names = (await client.list('/rename')).objects.map((o) => o.name);
      if (!names.includes('docs-renamed') || names.includes('docs')) throw new Error(`the server holds ${names.join(', ')} after the local rename`);

      // B: renamed on the server, mirrored locally.
      context.log('server rename docs-renamed -> docs-remote');
      const folder = (await client.list('/rename')).objects.find((o) => o.name === 'docs-renamed' && o.type === 'dir');
      if (!folder) throw new Error('docs-renamed is not on the server');
      await client.rename({ kind: 'dir', id: folder.id }, 'docs-remote');
      await standin.resetCounts();
      const remote = await syncOnce(setup);
      expectExit(remote, 0, 'sync after the server rename');
      const remoteCounts = summarizeCounts(await standin.counts());
      const arrived = await stat(join(setup.local, 'docs-remote')).then(
        (s) => s.isDirectory(),
        () => false,
      );
      if (!arrived) throw new Error('docs-remote did not appear locally');

      const moveCalls = localCounts.renames + localCounts.moves;
      const transfers = (c: ReturnType<typeof summarizeCounts>): number => c.uploadSessions + c.chunks + c.downloads;
      const localPass = moveCalls === 1 && localCounts.writes === 1 && transfers(localCounts) === 0;
      const remotePass = remoteCounts.writes === 0 && transfers(remoteCounts) === 0;
      const describe = (c: ReturnType<typeof summarizeCounts>): string =>
        `${c.renames} rename, ${c.moves} move, ${c.listings} listings, ${c.uploadSessions} uploads, ${c.downloads} downloads, ${c.writes} writes, ${c.total} in all`;
      const time = (r: RunResult): string => seconds(r.wallMs);
      return {
        id: 4,
        title: 'Folder rename',
        scale: `docs/ holding ${count(files)} files in ${subfolders} subfolders`,
        rows: [
          {
            figure: 'local rename: API calls',
            value: `${moveCalls} rename + ${localCounts.listings} listings`,
            floor: `1 + ${remoteFolders} listings`,
            goal: '1 move/rename, no transfer',
            pass: localPass,
          },
          { figure: 'local rename: time to match', value: time(local), floor: time(noop), ratio: ratio(local.wallMs, noop.wallMs) },
          {
            figure: 'server rename: API calls',
            value: `${remoteCounts.writes} writes + ${remoteCounts.listings} listings`,
            floor: `0 + ${remoteFolders} listings`,
            goal: 'listings only, no transfer',
            pass: remotePass,
          },
          { figure: 'server rename: time to match', value: time(remote), floor: time(noop), ratio: ratio(remote.wallMs, noop.wallMs) },
        ],
        notes: [
          `local rename: ${describe(localCounts)}; server rename: ${describe(remoteCounts)}; no-op cycle: ${describe(noopCounts)}`,
          'times are whole `sync --once` runs after the rename; the floor column for time is a no-op cycle over the same tree',
        ],
      };
    } finally {
      client.close();
      await standin.stop();
      await work.remove();
    }
  },
};
