import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { CloudreveV3 } from '../../src/cloudreve/index.js';
import { bufferSource } from '../../src/remote/sources.js';
import { startStandin } from '../standin/index.js';

/**
 * `npm run demo`: a two-way sync from start to finish against the bundled Cloudreve stand-in,
 * with the real CLI. Everything lives in a temporary folder that is removed at the end.
 */

const cli = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const standin = await startStandin();
const dir = await mkdtemp(join(tmpdir(), 'cloudreve-sync-demo-'));
const local = join(dir, 'Documents');
const config = join(dir, 'config.yaml');
const server = new CloudreveV3({ url: standin.url, username: standin.admin.email, password: standin.admin.password });

const step = (title: string): void => {
  process.stdout.write(`\n\x1b[1m== ${title}\x1b[0m\n`);
};
const run = (...args: string[]): Promise<void> =>
  new Promise((resolve) => {
    process.stdout.write(`$ cloudreve-sync ${args.join(' ')}\n`);
    execFile(process.execPath, [cli, '--config', config, ...args], (_, stdout, stderr) => {
      process.stdout.write(stdout + stderr);
      resolve();
    });
  });

try {
  step(`A Cloudreve 3.8.3 stand-in runs at ${standin.url}`);
  await mkdir(join(local, 'Projects'), { recursive: true });
  await writeFile(join(local, 'todo.txt'), 'buy milk\n');
  await writeFile(join(local, 'Projects', 'plan.md'), '# Plan\n');
  await writeFile(
    config,
    stringify({
      server: { url: standin.url, username: standin.admin.email, password: standin.admin.password },
      stateDir: join(dir, 'state'),
      log: { level: 'warn' },
      // The demo writes files and syncs them within the same second; a real setup waits a
      // moment for files that are still being written.
      sync: { settleTime: 0 },
      folders: [{ name: 'documents', local, remote: '/Documents' }],
    }),
  );
  process.stdout.write(`Local folder ${local} holds todo.txt and Projects/plan.md; the server is empty.\n`);

  step('First sync: the local files go up');
  await run('sync', '--once');
  await run('ls', '/Documents');

  step('A change on each side: edit todo.txt locally, rename a folder locally, add a file from "another device"');
  await writeFile(join(local, 'todo.txt'), 'buy milk\ncall mum\n');
  await rename(join(local, 'Projects'), join(local, 'Work'));
  await server.upload('/Documents', 'from-phone.txt', bufferSource(Buffer.from('sent from my phone\n'), Date.now()));
  await run('sync', '--once', '--dry-run');

  step('Second sync: one upload, one rename on the server (no re-upload), one download');
  await run('sync', '--once');
  await run('ls', '/Documents');
  process.stdout.write(`local from-phone.txt: ${await readFile(join(local, 'from-phone.txt'), 'utf8')}`);

  step('Status');
  await run('status');
} finally {
  server.close();
  await standin.close();
  await rm(dir, { recursive: true, force: true });
}
