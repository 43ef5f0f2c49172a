import type { Command } from 'commander';
import { withoutCredentials } from '../../cloudreve/index.js';
import type { GlobalOptions } from '../context.js';
import { runCommand } from '../run.js';

export function loginCommand(program: Command): void {
  program
    .command('login')
    .description('check the configured credentials (two-factor login included) and store the session')
    .action(() =>
      runCommand(program.opts<GlobalOptions>(), async ({ client, config }) => {
        await client.logout().catch(() => undefined);
        const user = await client.login();
        const version = await client.ping();
        process.stdout.write(`Logged in to ${withoutCredentials(config.server.url)} (Cloudreve ${version}) as ${user.email}; session stored.\n`);
      }),
    );
}
