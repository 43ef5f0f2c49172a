import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

/**
 * docker/entrypoint.sh run directly with sh, as the image's tini would run it. No image can be
 * built here, so CLOUDREVE_SYNC_EXEC points it at a probe script that reports who it runs as,
 * and a temp dir stands in for /state. The privilege drop and chown need root; as another user
 * those tests are skipped and the rest still run.
 */

const entrypoint = fileURLToPath(new URL('../../docker/entrypoint.sh', import.meta.url));
const cliPath = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const isRoot = process.getuid?.() === 0;
const needsRoot = 'needs root: the entrypoint changes users and owners only when started as root';

const probeScript = `
echo "uid=$(id -u)"
echo "gid=$(id -g)"
echo "groups=$(id -G)"
echo "umask=$(umask)"
echo "pid=$$"
echo "home=$HOME"
echo "state=$CLOUDREVE_SYNC_STATE_DIR"
echo "caps=$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/$$/status)"
for arg in "$@"; do printf 'arg=%s\\n' "$arg"; done
if [ "\${PROBE_WAIT:-}" = 1 ]; then
  trap 'echo got=TERM; kill "$sleeper" 2>/dev/null; exit 0' TERM
  sleep 30 &
  sleeper=$!
  echo ready
  wait "$sleeper"
  echo "timed out"
fi
`;

interface Result {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** key=value lines the probe printed (absent when the probe never ran). */
  readonly probe: ReadonlyMap<string, string>;
  readonly args: readonly string[];
}

interface Started {
  readonly child: ChildProcess;
  readonly pid: number;
  output(): string;
  readonly done: Promise<Result>;
}

let dir: string;
let probe: string;
let state: string;
const running = new Set<ChildProcess>();

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cloudreve-sync-entrypoint-'));
  // The probe runs as PUID after the drop and must be able to reach its script and the state dir.
  chmodSync(dir, 0o755);
  probe = join(dir, 'probe.sh');
  writeFileSync(probe, probeScript, { mode: 0o644 });
  state = join(dir, 'state');
});

afterEach(() => {
  for (const child of running) killGroup(child);
  running.clear();
  rmSync(dir, { recursive: true, force: true });
});

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** Runs `[...wrap] sh entrypoint.sh ...args` with a clean environment plus `env`. */
function start(args: readonly string[], env: Record<string, string | undefined> = {}, wrap: readonly string[] = []): Started {
  const fullEnv: Record<string, string> = {};
  const entries = { PATH: process.env.PATH ?? '/usr/bin:/bin', CLOUDREVE_SYNC_EXEC: `sh ${probe}`, CLOUDREVE_SYNC_STATE_DIR: state, ...env };
  for (const [key, value] of Object.entries(entries)) if (value !== undefined) fullEnv[key] = value;
  const command = [...wrap, 'sh', entrypoint, ...args];
  // Its own process group, so that cleanup also reaches the probe's background sleep.
  const child = spawn(command[0] ?? 'sh', command.slice(1), { env: fullEnv, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const done = new Promise<Result>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      running.delete(child);
      const probeValues = new Map<string, string>();
      const probeArgs: string[] = [];
      for (const line of stdout.split('\n')) {
        const eq = line.indexOf('=');
        if (eq < 0) continue;
        const [key, value] = [line.slice(0, eq), line.slice(eq + 1)];
        if (key === 'arg') probeArgs.push(value);
        else probeValues.set(key, value);
      }
      resolve({ code, signal, stdout, stderr, probe: probeValues, args: probeArgs });
    });
  });
  if (child.pid === undefined) throw new Error(`could not start ${command.join(' ')}`);
  return { child, pid: child.pid, output: () => stdout, done };
}

function run(args: readonly string[], env: Record<string, string | undefined> = {}, wrap: readonly string[] = []): Promise<Result> {
  return start(args, env, wrap).done;
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function owner(path: string): string {
  const s = statSync(path);
  return `${s.uid}:${s.gid}`;
}

describe('docker/entrypoint.sh', () => {
  it('runs the command as 1000:1000 with umask 022 by default', async (ctx) => {
    ctx.skip(!isRoot, needsRoot);
    const r = await run(['sync']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(Object.fromEntries(r.probe)).toMatchObject({ uid: '1000', gid: '1000', groups: '1000', umask: '0022', home: state, state });
    expect(r.args).toEqual(['sync']);
  });

  it('honours PUID, PGID and UMASK', async (ctx) => {
    ctx.skip(!isRoot, needsRoot);
    const r = await run([], { PUID: '1234', PGID: '2345', UMASK: '027' });
    expect(r.code).toBe(0);
    expect(Object.fromEntries(r.probe)).toMatchObject({ uid: '1234', gid: '2345', groups: '2345', umask: '0027' });
    expect(owner(state)).toBe('1234:2345');
    // A four-digit umask is accepted too.
    expect((await run([], { UMASK: '0002' })).probe.get('umask')).toBe('0002');
  });

  it('refuses a UMASK that is not octal, before running anything', async () => {
    for (const umask of ['abc', '8', '0999', '12345', '0o22', ' 022', '-022', '22a']) {
      const r = await run([], { UMASK: umask });
      expect(r.code, `UMASK=${JSON.stringify(umask)}`).toBe(2);
      expect(r.stderr).toContain(`UMASK must be an octal number such as 022 or 0027, got '${umask}'`);
      expect(r.probe.size).toBe(0);
    }
  });

  it('refuses a PUID or PGID that is not a decimal ID', async (ctx) => {
    ctx.skip(!isRoot, needsRoot);
    for (const [name, value] of [
      ['PUID', 'abc'],
      ['PUID', '-1'],
      ['PUID', '1.5'],
      ['PUID', '010'],
      ['PUID', '99999999999'],
      ['PUID', '4294967295'],
      ['PUID', 'node'],
      ['PGID', 'x'],
      ['PGID', '1000 '],
    ] as const) {
      const r = await run([], { [name]: value });
      expect(r.code, `${name}=${JSON.stringify(value)}`).toBe(2);
      expect(r.stderr).toContain(`${name} must be a decimal`);
      expect(r.stderr).toContain(`got '${value}'`);
      expect(r.probe.size).toBe(0);
    }
  });

  it('refuses to run as root unless ALLOW_ROOT=1', async (ctx) => {
    ctx.skip(!isRoot, needsRoot);
    for (const env of [{ PUID: '0' }, { PGID: '0' }, { PUID: '0', PGID: '0', ALLOW_ROOT: 'yes' }]) {
      const r = await run([], env);
      expect(r.code, JSON.stringify(env)).toBe(2);
      expect(r.stderr).toContain('refusing to run as root');
      expect(r.probe.size).toBe(0);
    }
    const allowed = await run([], { PUID: '0', PGID: '0', ALLOW_ROOT: '1' });
    expect(allowed.code).toBe(0);
    expect(Object.fromEntries(allowed.probe)).toMatchObject({ uid: '0', gid: '0' });
  });

  it('does not change users when started as non-root (docker run --user)', async () => {
    // As root, start it the way `docker run --user 4321:4321` would; as anyone else, just run it.
    const [uid, gid] = isRoot ? [4321, 4321] : [process.getuid?.() ?? 0, process.getgid?.() ?? 0];
    const wrap = isRoot ? ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups'] : [];
    mkdirSync(state);
    if (isRoot) chownSync(state, uid, gid);
    const quiet = await run(['status'], {}, wrap);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toBe('');
    expect(Object.fromEntries(quiet.probe)).toMatchObject({ uid: String(uid), gid: String(gid), umask: '0022', home: state });
    expect(quiet.args).toEqual(['status']);
    const ignored = await run([], { PUID: '1000', PGID: '1000', UMASK: '077' }, wrap);
    expect(ignored.code).toBe(0);
    expect(ignored.probe.get('uid')).toBe(String(uid));
    expect(ignored.probe.get('umask')).toBe('0077');
    if (uid !== 1000) expect(ignored.stderr).toContain('PUID/PGID are ignored');
  });

  it('creates the state directory and gives only the directory itself to PUID:PGID', async (ctx) => {
    ctx.skip(!isRoot, needsRoot);
    const nested = join(dir, 'volume', 'state');
    const created = await run([], { CLOUDREVE_SYNC_STATE_DIR: nested });
    expect(created.code).toBe(0);
    expect(owner(nested)).toBe('1000:1000');
    expect(created.probe.get('state')).toBe(nested);

    // An existing state dir of another owner, with a database and a trash inside.
    mkdirSync(join(state, 'trash', 'docs'), { recursive: true });
    writeFileSync(join(state, 'cloudreve-sync.db'), 'db');
    writeFileSync(join(state, 'trash', 'docs', 'old.txt'), 'old');
    chownSync(join(state, 'trash'), 4000, 4000);
    const r = await run([]);
    expect(r.code).toBe(0);
    expect(owner(state)).toBe('1000:1000');
    expect(owner(join(state, 'cloudreve-sync.db'))).toBe('0:0');
    expect(owner(join(state, 'trash'))).toBe('4000:4000');
    expect(owner(join(state, 'trash', 'docs', 'old.txt'))).toBe('0:0');
    // ... and says how to repair it instead of doing it.
    expect(r.stderr).toMatch(/warning: files in .* belong to another user than PUID=1000/);
  });

  it('stops with exit code 2 when the state directory cannot be created', async (ctx) => {
    ctx.skip(!isRoot, needsRoot);
    writeFileSync(join(dir, 'a-file'), '');
    const r = await run([], { CLOUDREVE_SYNC_STATE_DIR: join(dir, 'a-file', 'state') });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('cannot create the state directory');
    expect(r.probe.size).toBe(0);
  });

  it('leaves a state directory alone when its owner is already right', async (ctx) => {
    ctx.skip(!isRoot, needsRoot);
    mkdirSync(state);
    chownSync(state, 1000, 1000);
    const before = statSync(state, { bigint: true }).ctimeNs;
    // chown(2) updates ctime even when nothing changes; give the clock time to move.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const r = await run([]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(statSync(state, { bigint: true }).ctimeNs).toBe(before);
  });

  it('passes arguments through exactly, spaces and wildcards included', async () => {
    const args = ['sync', '--folder', 'my documents', '', '  two  spaces ', '*', '$HOME', "it's", '--once', '-x'];
    writeFileSync(join(dir, 'would-match-a-glob'), '');
    const r = await run(args);
    expect(r.code).toBe(0);
    expect(r.args).toEqual(args);
  });

  it('execs the command, which then gets the signals itself', async () => {
    const started = start([], { PROBE_WAIT: '1' });
    await waitFor(() => started.output().includes('ready'), 'the probe to start');
    // The same PID: no shell is left between tini and the CLI to swallow SIGTERM.
    expect(started.output()).toContain(`pid=${started.pid}\n`);
    process.kill(started.pid, 'SIGTERM');
    const r = await started.done;
    expect(r.stdout).toContain('got=TERM');
    expect(r.code).toBe(0);
  });

  it('needs only the CHOWN, SETUID and SETGID capabilities, and passes on none', async (ctx) => {
    ctx.skip(!isRoot, needsRoot);
    // What docker-compose.example.yml grants: cap_drop ALL, cap_add CHOWN SETUID SETGID,
    // no-new-privileges. The state dir is 0700 and someone else's, so root cannot look inside.
    mkdirSync(state, { mode: 0o700 });
    chownSync(state, 4000, 4000);
    const wrap = ['setpriv', '--no-new-privs', '--bounding-set=-all,+chown,+setuid,+setgid', '--inh-caps=-all'];
    const r = await run(['sync'], { PUID: '1000', PGID: '1000' }, wrap);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(owner(state)).toBe('1000:1000');
    expect(Object.fromEntries(r.probe)).toMatchObject({ uid: '1000', gid: '1000', caps: '0000000000000000' });
  });

  it('runs the real CLI (as PUID:PGID when root)', async (ctx) => {
    ctx.skip(!existsSync(cliPath), 'needs dist/ (npm run build)');
    const r = await run(['--version'], { CLOUDREVE_SYNC_EXEC: `${process.execPath} ${cliPath}` });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\d+\.\d+\.\d+/);
  });
});
