import envPaths from 'env-paths';
import { homedir } from 'node:os';
import { realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';

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

/**
 * An absolute `path` with the part of it that exists resolved through symbolic links, so that
 * two spellings of one place compare equal (a NAS's `/var/services/homes/me` is its
 * `/volume1/homes/me`); what does not exist yet is kept as written.
 */
export function realPathOf(path: string): string {
  const missing: string[] = [];
  for (let at = path; ; at = dirname(at)) {
    try {
      return join(realpathSync(at), ...missing.reverse());
    } catch {
      if (dirname(at) === at) return path;
      missing.push(basename(at));
    }
  }
}
