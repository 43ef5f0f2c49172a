import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

/**
 * The packaging files checked without a Docker engine: the Dockerfile and .dockerignore read
 * statically, the HEALTHCHECK command run against a local HTTP server, the compose file, the
 * systemd unit and the crontab parsed.
 */

const root = fileURLToPath(new URL('../..', import.meta.url));
const read = (path: string): string => readFileSync(join(root, path), 'utf8');

interface Instruction {
  readonly keyword: string;
  readonly args: string;
  /** Index of the FROM this instruction belongs to. */
  readonly stage: number;
}

/** Dockerfile instructions with line continuations joined and comments dropped, as Docker does. */
function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let stage = -1;
  let pending = '';
  for (const line of text.split('\n')) {
    if (/^\s*#/.test(line) || (pending === '' && line.trim() === '')) continue;
    if (line.endsWith('\\')) {
      pending += line.slice(0, -1);
      continue;
    }
    const full = pending + line;
    pending = '';
    const match = /^\s*([A-Za-z]+)\s+([\s\S]*)$/.exec(full);
    if (!match) throw new Error(`cannot parse Dockerfile line: ${full}`);
    const keyword = (match[1] ?? '').toUpperCase();
    if (keyword === 'FROM') stage += 1;
    instructions.push({ keyword, args: (match[2] ?? '').trim(), stage });
  }
  return instructions;
}

const dockerfileText = read('Dockerfile');
const entrypointText = read('docker/entrypoint.sh');
const dockerfile = parseDockerfile(dockerfileText);
const lastStage = Math.max(...dockerfile.map((i) => i.stage));
const all = (keyword: string, stage?: number): Instruction[] =>
  dockerfile.filter((i) => i.keyword === keyword && (stage === undefined || i.stage === stage));
const only = (keyword: string, stage?: number): string => {
  const found = all(keyword, stage);
  if (found.length !== 1) throw new Error(`expected one ${keyword}, found ${found.length}`);
  return found[0]?.args ?? '';
};
const jsonArray = (args: string): string[] => JSON.parse(args) as string[];

describe('Dockerfile', () => {
  it('builds and runs on node:22-bookworm-slim, in two stages', () => {
    const froms = all('FROM').map((i) => i.args.split(/\s+/)[0]);
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const from of froms) expect(from).toBe('node:22-bookworm-slim');
  });

  it('builds better-sqlite3 for real and ships production dependencies only', () => {
    const build = all('RUN', 0).map((i) => i.args).join('\n');
    expect(build).toMatch(/apt-get install[^\n]*\bpython3\b[^\n]*\bmake\b[^\n]*\bg\+\+/);
    expect(build).toMatch(/\bnpm ci\b/);
    expect(build).toMatch(/npm run build/);
    expect(build).toMatch(/npm (prune|ci) --omit=dev/);
    // Opening a database, not just require(): only that loads the native addon.
    const check = /new \(require\('better-sqlite3'\)\)\(':memory:'\)/g;
    expect(build.match(check)?.length ?? 0).toBeGreaterThanOrEqual(2);
    const runtime = all('RUN', lastStage).map((i) => i.args).join('\n');
    expect(runtime).not.toMatch(/\bnpm (ci|install)\b/);
    const copies = all('COPY', lastStage).map((i) => i.args);
    for (const path of ['node_modules', 'dist', 'package.json']) {
      expect(copies.some((c) => c.startsWith('--from=build') && c.includes(`/app/${path} `))).toBe(true);
    }
  });

  it('builds the native folder reader with a C compiler, and fails where it was not built', () => {
    const build = all('RUN', 0).map((i) => i.args).join('\n');
    expect(build).toMatch(/apt-get install[^\n]*\bgcc\b/);
    expect(build).toMatch(/npm run build[^\n]*\n?[^\n]*test -f dist\/native\/raw-folder\.node/);
  });

  it('drops root: a non-root USER, or the entrypoint switching to PUID:PGID', () => {
    const user = all('USER', lastStage).at(-1)?.args;
    if (user === undefined) {
      expect(entrypointText).toMatch(/exec setpriv --reuid="\$puid" --regid="\$pgid" --clear-groups/);
    } else {
      expect(user).not.toMatch(/^(root|0)(:|$)/);
    }
  });

  it('runs the entrypoint under tini, with SIGTERM and `sync` by default', () => {
    const entry = jsonArray(only('ENTRYPOINT', lastStage));
    expect(entry[0]).toMatch(/\/tini$/);
    expect(all('RUN', lastStage).some((i) => /apt-get install[^\n]*\btini\b/.test(i.args))).toBe(true);
    // The entrypoint named in ENTRYPOINT is the one copied from docker/entrypoint.sh.
    const script = entry.at(-1) ?? '';
    const copied = all('COPY', lastStage).find((i) => i.args.endsWith(` ${script}`));
    expect(copied?.args).toMatch(/docker\/entrypoint\.sh /);
    expect(entrypointText).toContain('node /app/dist/cli/main.js');
    expect(only('WORKDIR', lastStage)).toBe('/app');
    expect(only('STOPSIGNAL', lastStage)).toBe('SIGTERM');
    expect(jsonArray(only('CMD', lastStage))).toEqual(['sync']);
  });

  it('declares the volumes, the environment and the OCI labels', () => {
    const volumes = jsonArray(only('VOLUME', lastStage));
    expect(volumes).toEqual(expect.arrayContaining(['/data', '/config', '/state']));
    const env = all('ENV', lastStage).map((i) => i.args).join(' ');
    expect(env).toMatch(/\bCLOUDREVE_SYNC_CONFIG=\/config\/config\.yaml\b/);
    expect(env).toMatch(/\bCLOUDREVE_SYNC_STATE_DIR=\/state\b/);
    const labels = all('LABEL', lastStage).map((i) => i.args).join(' ');
    for (const key of ['title', 'description', 'licenses', 'version', 'revision']) expect(labels).toContain(`org.opencontainers.image.${key}=`);
    // The version label's default follows package.json.
    const { version } = JSON.parse(read('package.json')) as { version: string };
    expect(all('ARG', lastStage).map((i) => i.args)).toContain(`VERSION=${version}`);
  });

  it('has a HEALTHCHECK on /healthz without curl or wget', () => {
    const healthcheck = only('HEALTHCHECK', lastStage);
    expect(healthcheck).toContain('/healthz');
    expect(healthcheck).toMatch(/ CMD node -e /);
    expect(healthcheck).not.toMatch(/\b(curl|wget)\b/);
  });

  it('never changes owners recursively', () => {
    for (const [name, text] of [
      ['Dockerfile', dockerfileText],
      ['docker/entrypoint.sh', entrypointText],
    ]) {
      expect(text, name).not.toMatch(/chown\s+(-\w*R|--recursive)/);
      expect(text, name).not.toMatch(/-exec\s+chown/);
      expect(text, name).not.toMatch(/xargs\s+chown/);
    }
    // The one chown in the entrypoint names the state directory and nothing else.
    expect(entrypointText.match(/^\s*chown .*$/gm)).toEqual([expect.stringMatching(/^\s*chown "\$puid:\$pgid" "\$state_dir" \|\|$/)]);
    const commands = entrypointText.split('\n').filter((line) => !/^\s*#/.test(line));
    expect(commands.join('\n')).not.toMatch(/\/data\b/);
  });
});

function globToRegex(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i += 1) {
    const c = pattern[i] ?? '';
    if (c === '*' && pattern[i + 1] === '*') {
      source += '.*';
      i += 1;
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** Docker's .dockerignore rules, for the simple patterns used here: last match wins. */
function ignoredByDocker(patterns: readonly string[], path: string): boolean {
  let ignored = false;
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const regex = globToRegex((negated ? raw.slice(1) : raw).replace(/^\/+|\/+$/g, ''));
    // A pattern matching a parent folder matches everything inside it.
    const parts = path.split('/');
    if (parts.some((_, i) => regex.test(parts.slice(0, i + 1).join('/')))) ignored = !negated;
  }
  return ignored;
}

function filesUnder(path: string): string[] {
  const full = join(root, path);
  if (!statSync(full).isDirectory()) return [path];
  return readdirSync(full, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)));
}

describe('.dockerignore', () => {
  const patterns = read('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

  it('lets in every file the Dockerfile copies from the build context', () => {
    const sources = all('COPY')
      .filter((i) => !i.args.startsWith('--from='))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      const files = filesUnder(source);
      expect(files.length, source).toBeGreaterThan(0);
      for (const file of files) expect(ignoredByDocker(patterns, file), file).toBe(false);
    }
  });

  it('keeps out host builds, git, tests and anything holding a password', () => {
    for (const path of ['node_modules/yaml/package.json', 'dist/cli/main.js', '.git/HEAD', 'test/docker/packaging.test.ts', 'config.yaml', '.env', 'secrets/cloudreve_password']) {
      expect(ignoredByDocker(patterns, path), path).toBe(true);
    }
  });
});

describe('the HEALTHCHECK command', () => {
  const command = only('HEALTHCHECK', lastStage).replace(/^.*? CMD /, '');
  let server: Server | undefined;
  let port = 0;
  let answer: { status: number; body: unknown } | 'hang' = { status: 200, body: { status: 'ok' } };
  const paths: string[] = [];
  let dir: string;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cloudreve-sync-healthcheck-'));
    paths.length = 0;
    answer = { status: 200, body: { status: 'ok' } };
    server = createServer((request, response) => {
      paths.push(`${request.method ?? ''} ${request.url ?? ''}`);
      if (answer === 'hang') return;
      response.writeHead(answer.status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(answer.body));
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs it as Docker would (sh -c, in WORKDIR, with the container's environment). */
  function check(env: Record<string, string>): Promise<{ code: number; stdout: string }> {
    return new Promise((resolve) => {
      execFile('sh', ['-c', command], { cwd: root, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, timeout: 15_000 }, (error, stdout) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout });
      });
    });
  }

  it('is healthy on 200 and unhealthy on 503, showing the reasons', async () => {
    const healthy = await check({ CLOUDREVE_SYNC_STATUS_LISTEN: `127.0.0.1:${port}` });
    expect(healthy).toMatchObject({ code: 0, stdout: expect.stringContaining('200') as unknown });
    answer = { status: 503, body: { status: 'unhealthy', reasons: ['documents: no successful pass for 3h'] } };
    const unhealthy = await check({ CLOUDREVE_SYNC_STATUS_LISTEN: `127.0.0.1:${port}` });
    expect(unhealthy.code).toBe(1);
    expect(unhealthy.stdout).toContain('503');
    expect(unhealthy.stdout).toContain('documents: no successful pass for 3h');
    expect(paths).toEqual(['GET /healthz', 'GET /healthz']);
  });

  it('probes a wildcard address on loopback', async () => {
    for (const listen of [`0.0.0.0:${port}`, `:${port}`, `[::]:${port}`]) {
      expect((await check({ CLOUDREVE_SYNC_STATUS_LISTEN: listen })).code, listen).toBe(0);
    }
  });

  it('finds the address in the config file when the environment does not set it', async () => {
    const config = join(dir, 'config.yaml');
    writeFileSync(config, `server: { url: https://cloud.example.com }\ndaemon:\n  status:\n    listen: 127.0.0.1:${port}\n`);
    expect((await check({ CLOUDREVE_SYNC_CONFIG: config })).code).toBe(0);
    expect(paths).toEqual(['GET /healthz']);
    writeFileSync(config, 'daemon:\n  status:\n    listen: "off"\n');
    const off = await check({ CLOUDREVE_SYNC_CONFIG: config });
    expect(off.code).toBe(0);
    expect(off.stdout).toContain('off');
  });

  it('is unhealthy when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const freePort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    // Also the default address, unless a real daemon happens to run on this machine.
    const r = await check({ CLOUDREVE_SYNC_STATUS_LISTEN: `127.0.0.1:${freePort}` });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`status server 127.0.0.1:${freePort}`);
  });

  it('gives up on a status server that does not answer, before Docker kills it', async () => {
    answer = 'hang';
    const started = Date.now();
    const r = await check({ CLOUDREVE_SYNC_STATUS_LISTEN: `127.0.0.1:${port}` });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('no answer');
    const timeout = /--timeout=(\d+)s/.exec(only('HEALTHCHECK', lastStage))?.[1];
    expect(Date.now() - started).toBeLessThan(Number(timeout) * 1000);
  });
});

describe('docker-compose.example.yml', () => {
  const compose = parse(read('docker-compose.example.yml')) as {
    services: Record<string, Record<string, unknown>>;
    secrets?: Record<string, { file?: string }>;
    volumes?: Record<string, unknown>;
  };
  const service = compose.services['cloudreve-sync'] ?? {};

  it('mounts data, a read-only config and a named state volume', () => {
    expect(service.volumes).toEqual(['./data:/data', './config:/config:ro', 'cloudreve-sync-state:/state']);
    expect(Object.keys(compose.volumes ?? {})).toContain('cloudreve-sync-state');
  });

  it('sets the user, umask, time zone and a password from a Docker secret', () => {
    const env = service.environment as Record<string, string>;
    expect(Object.keys(env)).toEqual(expect.arrayContaining(['PUID', 'PGID', 'UMASK', 'TZ', 'CLOUDREVE_PASSWORD_FILE']));
    const secret = /^\/run\/secrets\/(.+)$/.exec(env.CLOUDREVE_PASSWORD_FILE ?? '')?.[1] ?? '';
    expect(service.secrets).toContain(secret);
    expect(compose.secrets?.[secret]?.file).toBeTruthy();
  });

  it('restarts, stops gracefully and keeps the image healthcheck', () => {
    expect(service.restart).toBe('unless-stopped');
    expect(service.stop_grace_period).toBe('15s');
    expect(service.healthcheck).toBeUndefined();
  });

  it('publishes the status port on loopback only, if at all', () => {
    const mappings = [...((service.ports as string[] | undefined) ?? []), ...read('docker-compose.example.yml').matchAll(/^\s*#\s*-\s*"([^"]*:9123)"/gm)].map((m) =>
      typeof m === 'string' ? m : (m[1] ?? ''),
    );
    expect(mappings.length).toBeGreaterThan(0);
    for (const mapping of mappings) expect(mapping).toMatch(/^127\.0\.0\.1:/);
  });

  it('keeps exactly the capabilities the entrypoint test runs with', () => {
    expect(service.cap_drop).toEqual(['ALL']);
    expect(service.cap_add).toEqual(['CHOWN', 'SETUID', 'SETGID']);
    expect(service.security_opt).toContain('no-new-privileges:true');
  });
});

describe('contrib/cloudreve-sync.service', () => {
  const unit = read('contrib/cloudreve-sync.service');
  const settings = new Map<string, string[]>();
  for (const line of unit.split('\n')) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (match) settings.set(match[1] ?? '', [...(settings.get(match[1] ?? '') ?? []), match[2] ?? '']);
  }
  const one = (key: string): string | undefined => settings.get(key)?.at(-1);

  it('runs the daemon as a dedicated user, reloads on SIGHUP and restarts on failure', () => {
    expect(one('Type')).toBe('simple');
    expect(one('ExecStart')).toBe('/usr/bin/cloudreve-sync sync');
    expect(one('ExecReload')).toBe('/bin/kill -HUP $MAINPID');
    expect(one('Restart')).toBe('on-failure');
    expect(one('RestartSec')).toBeTruthy();
    expect(one('User')).toBe('cloudreve-sync');
    expect(one('TimeoutStopSec')).toBe('15');
  });

  it('keeps its state in StateDirectory and tells the CLI so', () => {
    expect(one('StateDirectory')).toBe('cloudreve-sync');
    expect(settings.get('Environment')).toContain('CLOUDREVE_SYNC_STATE_DIR=/var/lib/cloudreve-sync');
    expect(one('ConfigurationDirectory')).toBe('cloudreve-sync');
  });

  it('is sandboxed', () => {
    expect(one('NoNewPrivileges')).toBe('yes');
    expect(one('ProtectSystem')).toBe('strict');
    expect(one('PrivateTmp')).toBe('yes');
    expect(one('ReadWritePaths')).toBeTruthy();
    // V8 needs writable, executable memory for its JIT.
    expect(settings.has('MemoryDenyWriteExecute')).toBe(false);
  });

  it('passes systemd-analyze verify', (ctx) => {
    const probe = spawnSync('systemd-analyze', ['--version']);
    ctx.skip(probe.error !== undefined || probe.status !== 0, 'systemd-analyze is not installed');
    const dir = mkdtempSync(join(tmpdir(), 'cloudreve-sync-unit-'));
    try {
      // verify also checks that ExecStart exists; the CLI is not installed here.
      const path = join(dir, 'cloudreve-sync.service');
      writeFileSync(path, unit.replace(/^ExecStart=\/usr\/bin\/cloudreve-sync /m, 'ExecStart=/bin/true '));
      const result = spawnSync('systemd-analyze', ['verify', path], { encoding: 'utf8' });
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('contrib/cron.example', () => {
  const text = read('contrib/cron.example');
  const entries = text
    .split('\n')
    .map((l) => l.replace(/^#(?=[*\d])/, ''))
    .filter((l) => /^[*\d]/.test(l));

  it('runs sync --once every 10 minutes and logs to a file', () => {
    expect(entries.length).toBeGreaterThanOrEqual(2);
    for (const entry of entries) {
      expect(entry).toMatch(/^\*\/10 \* \* \* \* /);
      expect(entry).toMatch(/cloudreve-sync sync --once >> .*cron\.log"? 2>&1/);
      expect(entry).not.toMatch(/flock/);
      // cron turns an unescaped % into a newline.
      expect(entry).not.toMatch(/(^|[^\\])%/);
    }
  });

  it('mails (prints) only when a run exits with 2 or more', () => {
    const entry = entries.find((e) => e.includes('rc=$?'));
    expect(entry).toBeDefined();
    const command = (entry ?? '').split(' ').slice(5).join(' ');
    const dir = mkdtempSync(join(tmpdir(), 'cloudreve-sync-cron-'));
    try {
      mkdirSync(join(dir, 'bin'));
      mkdirSync(join(dir, '.local', 'state', 'cloudreve-sync'), { recursive: true });
      writeFileSync(join(dir, 'bin', 'cloudreve-sync'), '#!/bin/sh\necho "a log line"\nexit "$FAKE_EXIT"\n');
      chmodSync(join(dir, 'bin', 'cloudreve-sync'), 0o755);
      for (const code of [0, 1, 2, 3, 4]) {
        const result = spawnSync('/bin/sh', ['-c', command], { env: { HOME: dir, PATH: `${join(dir, 'bin')}:/usr/bin:/bin`, FAKE_EXIT: String(code) }, encoding: 'utf8' });
        expect(result.stderr, `exit ${code}`).toBe('');
        if (code < 2) expect(result.stdout, `exit ${code}`).toBe('');
        else expect(result.stdout, `exit ${code}`).toContain(`exited with code ${code}`);
      }
      expect(readFileSync(join(dir, '.local', 'state', 'cloudreve-sync', 'cron.log'), 'utf8')).toBe('a log line\n'.repeat(5));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
