import { existsSync, readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { YAMLParseError, parse } from 'yaml';
import type * as z from 'zod';
import { ConfigError } from './errors.js';
import { defaultConfigPath, defaultStateDir, expandPath, realPathOf } from './paths.js';
import { configSchema, type ConfigFile } from './schema.js';

export interface ServerConfig {
  readonly url: string;
  readonly username: string;
  readonly password: string;
  readonly totpSecret: string | undefined;
  readonly timeouts: { readonly connectMs: number; readonly responseMs: number; readonly idleMs: number };
  readonly tls: { readonly ca: string | undefined; readonly insecureSkipVerify: boolean };
}

export interface FolderConfig {
  readonly name: string;
  /** Absolute local path. */
  readonly localPath: string;
  /** Absolute server path, "/" for the account root. */
  readonly remotePath: string;
  readonly mode: ConfigFile['folders'][number]['mode'];
  readonly ignore: readonly string[];
  readonly conflict: ConfigFile['folders'][number]['conflict'];
  readonly massDelete: ConfigFile['folders'][number]['massDelete'];
  readonly trashDays: number;
  /** Server folder that remote deletes are moved into; undefined deletes for good. */
  readonly remoteTrash: string | undefined;
  /**
   * The state directory's path inside the local folder (relative, `/`-separated), when it lies
   * there: it holds the database, the session cookie and the local trash, and is never synced.
   */
  readonly stateDirWithin: string | undefined;
}

export interface Config {
  /** The file the config came from; undefined when it came from the environment alone. */
  readonly source: string | undefined;
  readonly server: ServerConfig;
  readonly stateDir: string;
  readonly log: ConfigFile['log'];
  readonly sync: ConfigFile['sync'];
  readonly daemon: ConfigFile['daemon'];
  readonly folders: readonly FolderConfig[];
}

export interface LoadOptions {
  /** An explicit config path (--config); it must exist. */
  readonly path?: string;
  readonly env?: NodeJS.ProcessEnv;
}

/** Server settings that the environment overrides, e.g. from Docker secrets or CI variables. */
const envOverrides = {
  CLOUDREVE_URL: 'url',
  CLOUDREVE_USER: 'username',
  CLOUDREVE_PASSWORD: 'password',
  CLOUDREVE_PASSWORD_FILE: 'passwordFile',
  CLOUDREVE_TOTP_SECRET: 'totpSecret',
} as const;

export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const explicit = options.path ?? nonEmpty(env.CLOUDREVE_SYNC_CONFIG);
  const path = explicit ?? defaultConfigPath();
  const label = explicit ?? path;
  let raw: unknown = {};
  if (existsSync(path)) {
    raw = readYaml(path);
  } else if (explicit !== undefined) {
    throw new ConfigError(`config file ${label} does not exist`);
  }
  const found = existsSync(path);
  // Without a file, say where one was looked for: from cron or a service, HOME may not be the user's.
  const file = validate(applyEnv(raw, env), found ? label : `the environment (no config file at ${path}; --config or CLOUDREVE_SYNC_CONFIG names another)`);
  return resolve(file, found ? path : undefined, env);
}

function readYaml(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  try {
    return parse(text) ?? {};
  } catch (error) {
    if (error instanceof YAMLParseError) {
      const where = error.linePos ? ` line ${error.linePos[0].line}, column ${error.linePos[0].col}` : '';
      const reason = (error.message.split('\n')[0] ?? error.message).replace(/ at line \d+, column \d+:?$/, '');
      throw new ConfigError(`${path}${where}: YAML syntax error: ${reason}`);
    }
    throw error;
  }
}

function applyEnv(raw: unknown, env: NodeJS.ProcessEnv): unknown {
  if (!isRecord(raw)) return raw;
  const serverRaw = raw.server;
  if (serverRaw !== undefined && !isRecord(serverRaw)) return raw;
  const server: Record<string, unknown> = { ...serverRaw };
  for (const [name, key] of Object.entries(envOverrides)) {
    const value = nonEmpty(env[name]);
    if (value === undefined) continue;
    server[key] = value;
    // A password from the environment replaces the file's, whichever form either takes.
    if (key === 'password') delete server.passwordFile;
    if (key === 'passwordFile') delete server.password;
  }
  const stateDir = nonEmpty(env.CLOUDREVE_SYNC_STATE_DIR);
  const hasServer = serverRaw !== undefined || Object.keys(server).length > 0;
  const withEnv: Record<string, unknown> = { ...raw, ...(hasServer ? { server } : {}), ...(stateDir === undefined ? {} : { stateDir }) };
  // Containers publish the status server on all interfaces; the config file need not say so.
  const listen = nonEmpty(env.CLOUDREVE_SYNC_STATUS_LISTEN);
  if (listen !== undefined) {
    const daemon = isRecord(raw.daemon) ? raw.daemon : {};
    withEnv.daemon = { ...daemon, status: { ...(isRecord(daemon.status) ? daemon.status : {}), listen } };
  }
  return withEnv;
}

function validate(raw: unknown, label: string): ConfigFile {
  if (!isRecord(raw)) throw new ConfigError(`${label}: expected a mapping of settings at the top level`);
  if (raw.server === undefined) {
    throw new ConfigError(
      `${label}: server: missing; set server.url, server.username and server.password (or CLOUDREVE_URL, CLOUDREVE_USER, CLOUDREVE_PASSWORD)`,
    );
  }
  const result = configSchema.safeParse(raw, { reportInput: true });
  if (!result.success) throw new ConfigError(`${label}: ${result.error.issues.map(describeIssue).join('; ')}`);
  return result.data;
}

/** Keys whose values must not be echoed in an error message. */
const secretKeys: ReadonlySet<PropertyKey> = new Set(['password', 'totpSecret']);

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.path.some((part) => secretKeys.has(part))) {
    return `${formatPath(issue.path)}: ${issue.code === 'invalid_type' ? `expected ${issue.expected}` : issue.message} (value not shown)`;
  }
  const where = issue.path.length > 0 ? formatPath(issue.path) : 'top level';
  switch (issue.code) {
    case 'unrecognized_keys': {
      const keys = issue.keys.map((key) => (issue.path.length > 0 ? `${formatPath(issue.path)}.${key}` : key));
      return `${keys.join(', ')}: unknown key${keys.length > 1 ? 's' : ''}`;
    }
    case 'invalid_type':
      return issue.input === undefined ? `${where}: missing, expected ${issue.expected}` : `${where}: expected ${issue.expected}, got ${describeValue(issue.input)}`;
    case 'invalid_value':
      return `${where}: expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describeValue(issue.input)}`;
    case 'too_small':
    case 'too_big':
      return `${where}: expected ${bound(issue)}, got ${describeValue(issue.input)}`;
    case 'custom':
      // A check across settings: the input is the whole config, and the message says it all.
      return `${where}: ${issue.message}`;
    default:
      return issue.input === undefined || issue.message.includes(', got ')
        ? `${where}: ${issue.message}`
        : `${where}: ${issue.message}, got ${describeValue(issue.input)}`;
  }
}

function bound(issue: z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig): string {
  const small = issue.code === 'too_small';
  const limit = Number(small ? issue.minimum : issue.maximum);
  const inclusive = issue.inclusive !== false;
  const relation = small ? (inclusive ? 'at least' : 'more than') : inclusive ? 'at most' : 'less than';
  const unit = issue.origin === 'string' ? ' character' : issue.origin === 'array' ? ' entr' : '';
  const plural = unit === '' ? '' : unit === ' entr' ? (limit === 1 ? 'y' : 'ies') : limit === 1 ? '' : 's';
  return `${relation} ${limit}${unit}${plural}`;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i === 0 ? '' : '.'}${String(part)}`)).join('');
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}

function resolve(file: ConfigFile, source: string | undefined, env: NodeJS.ProcessEnv): Config {
  const label = source ?? 'the environment';
  const { server } = file;
  if (server.password !== undefined && server.passwordFile !== undefined) {
    throw new ConfigError(`${label}: server.password, server.passwordFile: set only one of them`);
  }
  // A setting the environment gave is blamed on its variable, not on a file that never held it.
  const from = (variable: string, key: string): string => (nonEmpty(env[variable]) === undefined ? `${label}: ${key}` : `${variable} (environment)`);
  const password = server.password ?? (server.passwordFile === undefined ? undefined : readSecret(server.passwordFile, from('CLOUDREVE_PASSWORD_FILE', 'server.passwordFile')));
  if (password === undefined) {
    throw new ConfigError(`${label}: server.password: missing; set server.password or server.passwordFile (or CLOUDREVE_PASSWORD / CLOUDREVE_PASSWORD_FILE)`);
  }
  const ca = server.tls.ca === undefined ? undefined : absolute(server.tls.ca, `${label}: server.tls.ca`);
  // Resolved (no `.`, `..`, doubled or trailing slashes), so that paths compare as strings.
  const stateDir = resolvePath(file.stateDir === undefined ? defaultStateDir(env) : absolute(file.stateDir, from('CLOUDREVE_SYNC_STATE_DIR', 'stateDir')));
  return {
    source,
    server: {
      url: server.url,
      username: server.username,
      password,
      totpSecret: server.totpSecret?.replace(/[\s=]/g, '').toUpperCase(),
      timeouts: { connectMs: server.timeouts.connect, responseMs: server.timeouts.response, idleMs: server.timeouts.idle },
      tls: { ca, insecureSkipVerify: server.tls.insecureSkipVerify },
    },
    stateDir,
    log: file.log,
    sync: file.sync,
    daemon: file.daemon,
    folders: resolveFolders(file.folders, stateDir, label),
  };
}

function resolveFolders(folders: ConfigFile['folders'], stateDir: string, label: string): FolderConfig[] {
  const within = (path: string, ancestor: string): boolean => path === ancestor || ancestor === '/' || path.startsWith(`${ancestor}/`);
  const realState = realPathOf(stateDir);
  const realLocals: string[] = [];
  const resolved = folders.map((f, i): FolderConfig => {
    const localPath = resolvePath(absolute(f.local, `${label}: folders[${i}].local`));
    const realLocal = realPathOf(localPath);
    realLocals.push(realLocal);
    if (realLocal === realState) {
      throw new ConfigError(`${label}: folders[${i}].local: ${localPath} is also the state directory (stateDir); give cloudreve-sync a directory of its own`);
    }
    return {
      name: f.name,
      localPath,
      remotePath: f.remote,
      mode: f.mode,
      ignore: f.ignore,
      conflict: f.conflict,
      massDelete: f.massDelete,
      trashDays: f.trash.keepDays,
      remoteTrash: f.trash.remote,
      stateDirWithin: within(realState, realLocal) ? realState.slice(realLocal === '/' ? 1 : realLocal.length + 1).normalize('NFC') : undefined,
    };
  });
  // Nested folders would sync the same files twice, each pass seeing the other's work as changes.
  resolved.forEach((a, i) => {
    if (a.remoteTrash !== undefined && within(a.remoteTrash, a.remotePath)) {
      throw new ConfigError(`${label}: folders[${i}].trash.remote: ${a.remoteTrash} lies inside the synced folder ${a.remotePath}; put it outside`);
    }
    resolved.forEach((b, j) => {
      if (i === j) return;
      // Compared as the disk resolves them: a symlink must not lead one folder into another.
      const [realA = a.localPath, realB = b.localPath] = [realLocals[i], realLocals[j]];
      if (within(realB, realA)) {
        const through = realB === b.localPath && realA === a.localPath ? '' : ` (through a symbolic link: ${realB} lies in ${realA})`;
        throw new ConfigError(`${label}: folders[${j}].local: ${b.localPath} lies inside folders[${i}].local (${a.localPath})${through}; synced folders must not overlap`);
      }
      if (within(b.remotePath, a.remotePath)) {
        throw new ConfigError(`${label}: folders[${j}].remote: ${b.remotePath} lies inside folders[${i}].remote (${a.remotePath}); synced folders must not overlap`);
      }
    });
  });
  return resolved;
}

/** `setting`: where the path came from, e.g. "config.yaml: server.passwordFile". */
function readSecret(path: string, setting: string): string {
  const file = absolute(path, setting);
  try {
    // Secret files usually end with a newline that is not part of the password.
    const secret = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    if (secret === '') throw new ConfigError(`${setting}: ${file} is empty`);
    return secret;
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`${setting}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

function absolute(path: string, setting: string): string {
  const expanded = expandPath(path);
  if (expanded === undefined) throw new ConfigError(`${setting}: expected an absolute path (or one starting with ~/), got "${path}"`);
  return expanded;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
