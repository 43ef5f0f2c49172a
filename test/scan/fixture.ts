import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach } from 'vitest';
import { createIgnoreRules } from '../../src/scan/ignore.js';
import { scanLocal, type LocalScan } from '../../src/scan/local.js';
import { StatPace, type StatReads } from '../../src/scan/stat-pace.js';

/** Returns a maker of temporary folders that are all removed after each test. */
export function useTempDirs(): () => Promise<string> {
  const made: string[] = [];
  afterEach(async () => {
    await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });
  return async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cloudreve-sync-scan-'));
    made.push(dir);
    return dir;
  };
}

/** Creates files (paths without a trailing slash, with their content) and folders (trailing slash). */
export async function put(root: string, entries: Readonly<Record<string, string>>): Promise<void> {
  for (const [path, content] of Object.entries(entries)) {
    const absolute = join(root, path);
    if (path.endsWith('/')) {
      await mkdir(absolute, { recursive: true });
    } else {
      await mkdir(dirname(absolute), { recursive: true });
      await writeFile(absolute, content);
    }
  }
}

/** Scans `root` with the given configured patterns plus its `.cloudreveignore`. */
export async function scan(root: string, patterns: readonly string[] = [], reads: StatReads = 'adaptive'): Promise<LocalScan> {
  return scanLocal(root, { rules: await createIgnoreRules(patterns, root), pace: new StatPace(reads) });
}

export function pathsOf(result: LocalScan): string[] {
  return result.nodes.map((node) => node.path).sort();
}

export function skippedPaths(result: LocalScan): string[] {
  return result.skipped.map((skip) => skip.path).sort();
}
