import { hash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { ConfigError } from '../config/errors.js';
import { defaultIgnorePatterns } from '../config/schema.js';
import { baseName, isWithin, pathKey } from '../tree/paths.js';
import type { EntryKind, RelPath } from '../tree/types.js';
import { describeFsError, errnoCode, isNotThere } from './errors.js';

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

const droppings = ignore({ ignorecase: false }).add([...defaultIgnorePatterns]);

/** A name the default rules leave out: what systems and office suites drop into folders. */
export function isDroppingName(name: string): boolean {
  return droppings.ignores(name);
}

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
 *
 * `stateDir` is the state directory's path when it lies inside the folder: ignored on both sides
 * whatever the patterns say, since syncing it would upload the session cookie and bring the
 * local trash's files back. As an ignored path, it also keeps the folders above it from being
 * deleted.
 */
export async function createIgnoreRules(patterns: readonly string[], localRoot: string, stateDir?: RelPath): Promise<IgnoreRules & { readonly fingerprint: string }> {
  const fromFile = (await readIgnoreFile(join(localRoot, ignoreFileName))).normalize('NFC');
  const configured = patterns.map((pattern) => pattern.normalize('NFC'));
  // Case-sensitive like git on Linux and like Cloudreve, so a rule means the same on both sides.
  // A configured pattern is one rule; the file's text is split into lines (CRLF, BOM and all).
  const compile = (): Ignore => ignore({ ignorecase: false }).add(configured).add(fromFile);
  let matcher = compile();
  let tested = 0;
  const test = (key: string): boolean => {
    // The matcher remembers every path it was asked about (and its folders); a scan of a
    // large tree would hold them all, so it starts afresh now and then.
    if (++tested % matcherReuse === 0) matcher = compile();
    return matcher.ignores(key);
  };
  const bySegment = segmentwise([...configured, ...fromFile.split(/\r?\n/)]) ? new SegmentTests(test) : undefined;
  return {
    // Equal fingerprints, equal rules.
    fingerprint: hash('sha256', JSON.stringify([configured, fromFile, stateDir ?? null]), 'base64'),
    ignores(path, kind) {
      if (path === '') return false;
      if (isInternalPath(path)) return true;
      // NFC on both sides of the match: an NFD spelling on disk is the same name to a rule.
      const key = pathKey(path);
      if (stateDir !== undefined && isWithin(key, stateDir)) return true;
      return bySegment ? bySegment.ignores(key, kind) : test(kind === 'dir' ? `${key}/` : key);
    },
  };
}

/**
 * Whether every rule matches names, not paths: no slash but a trailing one, and no negation.
 * The matcher, which tests a path's folders before the path (each with its trailing slash),
 * then ignores a path exactly when it ignores one of its folders' names (as a folder) or its
 * own name, which `SegmentTests` asks one name at a time. Negations, which take back what an
 * earlier rule matched, keep to the whole-path test: they are rare, and the argument above
 * does not cover them. test/scan/ignore.test.ts checks the two against each other.
 */
function segmentwise(patterns: readonly string[]): boolean {
  return patterns.every((pattern) => {
    const line = pattern.replace(/^\uFEFF/, '').trimStart();
    return !line.startsWith('!') && !line.replace(/\/+\s*$/, '').includes('/');
  });
}

/**
 * A walk asks about every entry of a folder in turn: the folder's answer is kept for the next
 * entry, and each name's answer for the next folder holding that name (file names such as
 * `index.html` come back often), so most entries cost a lookup instead of the matcher's test of
 * the path and of each of its folders.
 */
class SegmentTests {
  readonly #byName = new Map<string, boolean>();
  #lastFolder: string | undefined;
  #lastFolderIgnored = false;

  constructor(private readonly test: (key: string) => boolean) {}

  ignores(key: string, kind: EntryKind): boolean {
    const slash = key.lastIndexOf('/');
    if (slash >= 0 && this.#folderIgnored(key.slice(0, slash))) return true;
    const name = key.slice(slash + 1);
    return this.#nameIgnored(kind === 'dir' ? `${name}/` : name);
  }

  #folderIgnored(folder: string): boolean {
    if (folder !== this.#lastFolder) {
      this.#lastFolder = folder;
      this.#lastFolderIgnored = folder.split('/').some((name) => this.#nameIgnored(`${name}/`));
    }
    return this.#lastFolderIgnored;
  }

  #nameIgnored(name: string): boolean {
    let ignored = this.#byName.get(name);
    if (ignored === undefined) {
      if (this.#byName.size >= matcherReuse) this.#byName.clear();
      ignored = this.test(name);
      this.#byName.set(name, ignored);
    }
    return ignored;
  }
}

const matcherReuse = 10_000;

async function readIgnoreFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    // ENOTDIR: the root is not a folder, which the scan reports in its own way.
    if (isNotThere(error)) return '';
    const code = errnoCode(error);
    // Without the right to enter the folder, a missing file is refused like an unreadable one.
    const where = code === 'EACCES' ? ` (the file, or the local folder ${dirname(file)})` : '';
    throw new ConfigError(`cannot read the ignore rules in ${file}: ${describeFsError(error)}${where}`, { cause: error });
  }
}
