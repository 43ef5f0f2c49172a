import envPaths from 'env-paths';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

const appName = 'cloudreve-sync';

/** Where the config is looked for when neither --config nor CLOUDREVE_SYNC_CONFIG names one. */
export function defaultConfigPath(): string {
  return join(envPaths(appName, { suffix: '' }).config, 'config.yaml');
}

/** The per-user state directory: $XDG_STATE_HOME on Linux, the platform's data dir elsewhere. */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (process.platform === 'linux') {
    const base = env.XDG_STATE_HOME && isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : join(homedir(), '.local', 'state');
    return join(base, appName);
  }
  return envPaths(appName, { suffix: '' }).data;
}

/** Expands a leading `~/`; returns undefined for a path that is still relative. */
export function expandPath(path: string): string | undefined {
  const expanded = path === '~' ? homedir() : path.startsWith('~/') ? join(homedir(), path.slice(2)) : path;
  return isAbsolute(expanded) ? expanded : undefined;
}
