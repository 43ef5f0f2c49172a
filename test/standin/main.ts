/**
 * `npm run standin`: a Cloudreve 3.8.3 stand-in for manual runs and for tests in another
 * process. Runs until SIGINT/SIGTERM, then removes its temporary storage.
 */
import { parseArgs } from 'node:util';
import { controlPath } from './server.js';
import { startStandin } from './standin.js';
import type { PolicyType, StandinOptions } from './types.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '5212' },
    host: { type: 'string', default: '127.0.0.1' },
    policy: { type: 'string', default: 'local' },
    'chunk-size': { type: 'string' },
    quota: { type: 'string' },
    controls: { type: 'boolean', default: false },
    storage: { type: 'string' },
  },
  strict: true,
});

function integer(flag: string, value: string): number {
  if (!/^\d+$/.test(value)) throw new Error(`--${flag} expects a non-negative integer, got "${value}"`);
  return Number(value);
}

const options: StandinOptions = {
  port: integer('port', values.port),
  host: values.host,
  policy: values.policy as PolicyType,
  controls: values.controls,
  ...(values['chunk-size'] === undefined ? {} : { chunkSize: integer('chunk-size', values['chunk-size']) }),
  ...(values.quota === undefined ? {} : { quota: integer('quota', values.quota) }),
  ...(values.storage === undefined ? {} : { storageDir: values.storage }),
};

const standin = await startStandin(options);
console.log(
  [
    'Cloudreve 3.8.3 stand-in is running',
    `  URL:             ${standin.url}`,
    `  Admin user name: ${standin.admin.email}`,
    `  Admin password:  ${standin.admin.password}`,
    `  Policy:          ${options.policy ?? 'local'}`,
    `  Storage:         ${options.storageDir ?? 'temporary directory, removed on exit'}`,
    `  Controls:        ${options.controls === true ? `POST ${standin.url}${controlPath}` : 'off (--controls to enable)'}`,
    'Stop with Ctrl+C.',
  ].join('\n'),
);

let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  standin.close().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
