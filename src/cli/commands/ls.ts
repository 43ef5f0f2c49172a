import type { Command } from 'commander';
import type { GlobalOptions } from '../context.js';
import { formatBytes, formatTable, formatTime } from '../format.js';
import { runCommand } from '../run.js';

export function lsCommand(program: Command): void {
  program
    .command('ls')
    .description('list a remote folder')
    .argument('[remote-path]', 'absolute path in the Cloudreve account', '/')
    .option('--json', 'print JSON instead of a table')
    .action((remotePath: string, options: { json?: boolean }) =>
      runCommand(program.opts<GlobalOptions>(), async ({ client }) => {
        const listing = await client.list(remotePath.startsWith('/') ? remotePath : `/${remotePath}`);
        const entries = [...listing.entries].sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'dir' ? -1 : 1));
        if (options.json) {
          process.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
          return;
        }
        if (entries.length === 0) {
          process.stdout.write(`${listing.path} is empty\n`);
          return;
        }
        const rows = entries.map((entry) => [
          entry.kind === 'dir' ? 'dir' : 'file',
          entry.kind === 'dir' ? '-' : formatBytes(entry.size),
          formatTime(entry.modifiedMs),
          entry.kind === 'dir' ? `${entry.name}/` : entry.name,
        ]);
        process.stdout.write(`${formatTable(rows)}\n`);
      }),
    );
}
