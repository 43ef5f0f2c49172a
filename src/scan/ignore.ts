import { hash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { ConfigError } from '../config/errors.js';
import { baseName, pathKey } from '../tree/paths.js';
import type { EntryKind, RelPath } from '../tree/types.js';
import { describeFsError, errnoCode } from './errors.js';

/** Names starting with this are cloudreve-sync's own (download temp files, probes). */
export const tempPrefix = '.cloudreve-sync-';

/** The optional file of ignore patterns in the local root, in gitignore syntax. */
export const ignoreFileName = '.cloudreveignore';


/** Decides which paths a sync leaves alone; the same rules apply to local and remote paths. */
export interface IgnoreRules {
  ignores(path: RelPath, kind: EntryKind): boolean;
}

export function isOwnTempName(name: string): boolean {
  return name.startsWith(tempPrefix);
}

/** The temporary files cloudreve-sync writes: a download's (`LocalTree.tempBeside`) and the case probe. */
export function isOwnTempFileName(name: string): boolean {
  return ownTempFile.test(name);
}

const ownTempFile = /^\.cloudreve-sync-(?:[0-9a-f]+|Case-Probe-[0-9a-f-]+)\.tmp$/;

/**
 * Paths that belong to cloudreve-sync itself: hidden from a sync whatever the rules say, and not
 * reported as ignored either, since the user never asked for them to be left alone.
 */
export function isInternalPath(path: RelPath): boolean {
  return path === ignoreFileName || isOwnTempName(baseName(path));
}

/**
 * The configured patterns followed by those of `.cloudreveignore` in the local root, so the file
 * can override the configuration (`!Thumbs.db`). Throws a ConfigError when the file exists but
 * cannot be read.
 */
export async function createIgnoreRules(patterns: readonly string[], localRoot: string): Promise<IgnoreRules & { readonly fingerprint: string }> {
  const fromFile = (await readIgnoreFile(join(localRoot, ignoreFileName))).normalize('NFC');
  const configured = patterns.map((pattern) => pattern.normalize('NFC'));
  // Case-sensitive like git on Linux and like Cloudreve, so a rule means the same on both sides.
  // A configured pattern is one rule; the file's text is split into lines (CRLF, BOM and all).
  const compile = (): Ignore => ignore({ ignorecase: false }).add(configured).add(fromFile);
  let matcher = compile();
  let tested = 0;
  return {
    // Equal fingerprints, equal rules.
    fingerprint: hash('sha256', JSON.stringify([configured, fromFile]), 'base64'),
    ignores(path, kind) {
      if (path === '') return false;
      if (isInternalPath(path)) return true;
      // The matcher remembers every path it was asked about (and its folders); a scan of a
      // large tree would hold them all, so it starts afresh now and then.
      if (++tested % matcherReuse === 0) matcher = compile();
      // NFC on both sides of the match: an NFD spelling on disk is the same name to a rule.
      const key = pathKey(path);
      return matcher.ignores(kind === 'dir' ? `${key}/` : key);
    },
  };
}

const matcherReuse = 10_000;

async function readIgnoreFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    // ENOTDIR: the root is not a folder, which the scan reports in its own way.
    const code = errnoCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return '';
    throw new ConfigError(`cannot read the ignore rules in ${file}: ${describeFsError(error)}`, { cause: error });
  }
}
