import type { Command } from 'commander';
import { withoutCredentials } from '../../cloudreve/index.js';
import type { GlobalOptions } from '../context.js';
import { formatBytes, formatTable } from '../format.js';
import { runCommand } from '../run.js';

export function infoCommand(program: Command): void {
  program
    .command('info')
    .description('show the server version, the logged-in user and the storage quota')
    .option('--json', 'print JSON instead of a table')
    .action((options: { json?: boolean }) =>
      runCommand(program.opts<GlobalOptions>(), async ({ client, config }) => {
        const version = await client.ping();
        const user = await client.me();
        const quota = await client.quota();
        if (options.json) {
          process.stdout.write(`${JSON.stringify({ server: withoutCredentials(config.server.url), version, user, quota }, null, 2)}\n`);
          return;
        }
        process.stdout.write(
          `${formatTable([
            ['Server', `${withoutCredentials(config.server.url)} (Cloudreve ${version})`],
            ['User', `${user.email} (${user.nickname}, group ${user.group.name})`],
            ['Storage', `${formatBytes(quota.used)} used of ${formatBytes(quota.total)}, ${formatBytes(quota.free)} free`],
          ])}\n`,
        );
      }),
    );
}
