import { lstatSync, readdirSync, type BigIntStats, type Dir, type Dirent } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { lstat, opendir, readdir, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import type { LocalSnapshot } from '../plan/types.js';
import { baseName, joinPath, pathKey, topmost } from '../tree/paths.js';
import type { EntryKind, LocalNode, RelPath, SkippedPath } from '../tree/types.js';
import { describeFsError, isNotThere, throwIfAborted } from './errors.js';
import { factsOf } from './facts.js';
import { isInternalPath, isOwnTempFileName, type IgnoreRules } from './ignore.js';
import { nfcTwinReason, preferredTwin, unaddressableNameReason, type RecordedEntry, type TwinCandidate } from './names.js';
import { rawFolderReader, type RawFolder, type RawFolderReader } from './raw-folder.js';
import { detailsLater, StatPace, type Details } from './stat-pace.js';

export interface LocalScan extends LocalSnapshot {
  /** Entries left out, and why: links, special files, unusable names, unreadable folders. */
  readonly skipped: readonly SkippedPath[];
  /** The inodes of the entries in `skipped` that had one (see `RemoteScan.skippedIds`). */
  readonly skippedIds: readonly string[];
  /**
   * cloudreve-sync's own temporary files found in the folders read. A walk runs before its pass
   * writes any, and one pass at a time holds the folder, so these are an earlier run's: one
   * killed, or one whose temporary file a folder rename carried away from where it was noted.
   */
  readonly leftovers: readonly RelPath[];
}

/** A folder's native read as the walk saw it: its digest, and the names in it the rules leave out. */
export interface RawRead {
  readonly digest: string;
  readonly ignored: readonly string[];
}

export interface LocalScanOptions {
  readonly rules: IgnoreRules;
  /**
   * Takes each entry as it is found, instead of collecting them in `nodes`, so that a large
   * tree streams to where it is compared (parents still come before children).
   */
  readonly onNode?: (node: LocalNode) => void;
  /**
   * Takes the entries of each folder read, together, once it has been read as far as it could
   * be, instead of `onNode`; entries looked at on their own still go to `onNode`.
   */
  readonly onFolder?: (path: RelPath, nodes: readonly LocalNode[], raw?: RawRead) => void;
  /**
   * Offered a folder the native reader read whole (see raw-folder.ts) before the walk reads it:
   * when its digest is one the folder had when it last matched its Synced rows exactly, the
   * receiver takes it as that (its files counted) and gives back the names in it the rules left
   * out then; the walk reports those as ignored, its other subfolders as it would have, and goes
   * on below without reading it. A folder the walk does read goes to `onFolder` with that digest
   * (and the names it left out) where nothing in it was skipped or left over and the reader found
   * the folder the same after the walk's read as before, so that a later pass may go by it.
   */
  readonly asBefore?: (path: RelPath, rawDigest: string) => readonly string[] | undefined;
  /** Stops the scan between two entries with an AbortError. */
  readonly signal?: AbortSignal;
  /** What the Synced tree records at a path: of two NFC twins, that one is kept (see `preferredTwin`). */
  readonly recorded?: (path: RelPath) => RecordedEntry | undefined;
  /** How entries' details are read; a fresh adaptive StatPace by default, one per walk. */
  readonly pace?: StatPace;
}

/**
 * Lists the local tree below `root`, parents before children, with the facts the planner needs.
 * Never follows a symbolic link below the root (the root itself may be one). Whatever cannot be
 * read is reported and marked unknown rather than left out, so it cannot look like a deletion.
 */
export async function scanLocal(root: string, options: LocalScanOptions): Promise<LocalScan> {
  let rootFolder: Dir;
  let rootInode: string;
  try {
    rootFolder = await opendir(root);
    rootInode = (await stat(root, { bigint: true })).ino.toString();
  } catch (error) {
    if (isNotThere(error)) return noRoot();
    throw error;
  }
  const walk = new Walk(root, options);
  await walk.run(rootFolder, rootInode);
  return walk.result();
}

/**
 * Scans only `paths` (each with everything below it) and their ancestors, for a pass that
 * knows from the watcher what changed. A path that no longer exists is simply not reported:
 * within the given subtrees, absence is a fact. But only within those `reached`, whose folders
 * above were all found as folders: below one gone meanwhile (renamed while the pass began),
 * ignored or skipped, nothing was looked at. `unknown` and `skipped` are as for `scanLocal`;
 * the root itself (`''`) among `paths` scans it all.
 */
export async function scanLocalPaths(root: string, paths: readonly RelPath[], options: LocalScanOptions): Promise<LocalScan & { readonly reached: readonly RelPath[] }> {
  if (paths.includes('')) {
    const scan = await scanLocal(root, options);
    return { ...scan, reached: scan.rootExists ? [''] : [] };
  }
  let rootInode: string;
  try {
    // The root itself may be a link, as for scanLocal.
    const stats = await stat(root, { bigint: true });
    if (!stats.isDirectory()) return { ...noRoot(), reached: [] };
    rootInode = stats.ino.toString();
  } catch (error) {
    if (isNotThere(error)) return { ...noRoot(), reached: [] };
    throw error;
  }
  const walk = new Walk(root, options);
  /** Each path looked at, and what was found there. */
  const found = new Map<RelPath, LocalNode | undefined>();
  const reached: RelPath[] = [];
  for (const path of topmost(paths)) {
    const chain = path.split('/');
    let parentInode = rootInode;
    for (let depth = 1; depth <= chain.length; depth++) {
      const current = chain.slice(0, depth).join('/');
      let node = found.get(current);
      if (!found.has(current)) {
        node = await walk.visitOne(current, parentInode);
        found.set(current, node);
        if (depth === chain.length && node?.kind === 'dir') await walk.runFrom(node);
      }
      if (depth === chain.length) reached.push(path);
      else if (node?.kind !== 'dir') break;
      else parentInode = node.inode;
    }
  }
  return { ...walk.result(), reached };
}

/** The scan of a root that is missing or not a folder. */
function noRoot(): LocalScan {
  return { rootExists: false, nodes: [], ignored: [], unknown: [], skipped: [], skippedIds: [], leftovers: [] };
}

/**
 * How many entries the root folder holds that a sync would see (not ignored, not its own
 * files): what the empty-root guard asks when a pass scanned only part of the tree. A root that
 * cannot be read throws: counted as empty, one failed read would stop the folder until resumed.
 */
export async function countEntries(root: string, rules: IgnoreRules): Promise<number> {
  let names: Dirent[];
  try {
    names = await readdir(root, { withFileTypes: true });
  } catch (error) {
    if (isNotThere(error)) return 0;
    throw error;
  }
  return names.filter((entry) => !isInternalPath(entry.name) && !rules.ignores(entry.name, entry.isDirectory() ? 'dir' : 'file')).length;
}

const lstatsInFlight = 16;

/** A directory entry whose lstat has been started. */
interface Listed {
  readonly name: string;
  /** What the listing said, for the wording of a skip when the lstat fails. */
  readonly listedAsDir: boolean;
  readonly path: RelPath;
  readonly details: Promise<Details>;
}

/** The entries of one folder that will be synced, keyed by their NFC name. */
class Folder {
  readonly byKey = new Map<string, LocalNode>();
  /** Entries whose name equals a kept one in NFC; reported once the whole folder is read. */
  readonly twins: LocalNode[] = [];
  unknown = false;
  /** Whether an entry it listed was gone when looked at: deleted meanwhile, or the folder moved. */
  missing = false;

  readonly #prefix: string;
  /** Its names that are not UTF-8 as bytes, by the string Node decodes them to; read once, when first needed. */
  #undecodable: Map<string, Buffer[]> | undefined;

  /** `inode`: the folder's, as its parent listed it (or, for the root, as the link leads to it). */
  constructor(
    readonly path: RelPath,
    readonly absolute: string,
    readonly inode: string,
  ) {
    this.#prefix = absolute.endsWith(sep) ? absolute : `${absolute}${sep}`;
  }

  /** The absolute path of an entry named `name`; `join` would normalize it again, at a cost per entry. */
  childPath(name: string): string {
    return this.#prefix + name;
  }

  /** `recorded`: what the Synced tree records at a path, for choosing between NFC twins. */
  add(node: LocalNode, recorded: ((path: RelPath) => RecordedEntry | undefined) | undefined): void {
    const key = pathKey(baseName(node.path));
    const other = this.byKey.get(key);
    if (other === undefined) {
      this.byKey.set(key, node);
      return;
    }
    const asTwin = (entry: LocalNode): TwinCandidate & { readonly entry: LocalNode } => ({ name: baseName(entry.path), identity: entry.inode, entry });
    const keepNew = preferredTwin(asTwin(other), asTwin(node), recorded?.(node.path)).entry === node;
    this.twins.push(keepNew ? other : node);
    if (keepNew) this.byKey.set(key, node);
  }

  /**
   * The entry behind a listed `name` that is not UTF-8: Node decodes each bad byte to U+FFFD, a
   * name no call reaches again. Found by reading the folder's names as bytes, once; each of
   * several names that decode alike (a\xfe, a\xff) is given out once. `shown` writes the bytes
   * outside printable ASCII as \xHH.
   */
  undecodable(name: string): { readonly shown: string; readonly stats: BigIntStats | undefined } | undefined {
    if (!name.includes('\uFFFD')) return undefined;
    if (this.#undecodable === undefined) {
      this.#undecodable = new Map();
      let names: Buffer[];
      try {
        names = readdirSync(this.absolute, { encoding: 'buffer' });
      } catch {
        names = [];
      }
      for (const raw of names) {
        if (isUtf8(raw)) continue;
        const decoded = raw.toString();
        const alike = this.#undecodable.get(decoded);
        if (alike) alike.push(raw);
        else this.#undecodable.set(decoded, [raw]);
      }
    }
    const bytes = this.#undecodable.get(name)?.shift();
    if (bytes === undefined) return undefined;
    let stats: BigIntStats | undefined;
    try {
      stats = lstatSync(Buffer.concat([Buffer.from(this.#prefix), bytes]), { bigint: true });
    } catch {
      stats = undefined;
    }
    const shown = [...bytes].map((byte) => (byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`)).join('');
    return { shown, stats };
  }
}

/**
 * Depth-first, one open folder at a time: a folder is read to its end before any of its
 * subfolders is opened, so an NFC twin is settled before either spelling is descended into,
 * and what is held besides the output is the stack of folders still to read.
 */
class Walk {
  readonly nodes: LocalNode[] = [];
  readonly ignored: RelPath[] = [];
  readonly unknown: RelPath[] = [];
  readonly skipped: SkippedPath[] = [];
  readonly skippedIds: string[] = [];
  readonly leftovers: RelPath[] = [];
  readonly #root: string;
  readonly #rules: IgnoreRules;
  readonly #signal: AbortSignal | undefined;
  readonly #emit: (node: LocalNode) => void;
  readonly #emitFolder: (path: RelPath, nodes: readonly LocalNode[], raw?: RawRead) => void;
  readonly #asBefore: ((path: RelPath, rawDigest: string) => readonly string[] | undefined) | undefined;
  readonly #raw: RawFolderReader | undefined;
  readonly #pace: StatPace;
  readonly #recorded: ((path: RelPath) => RecordedEntry | undefined) | undefined;

  constructor(root: string, options: LocalScanOptions) {
    this.#root = root;
    this.#rules = options.rules;
    this.#recorded = options.recorded;
    this.#signal = options.signal;
    const emit = options.onNode ?? ((node: LocalNode) => this.nodes.push(node));
    this.#emit = emit;
    this.#emitFolder = options.onFolder ?? ((_path, nodes) => nodes.forEach(emit));
    this.#asBefore = options.asBefore;
    this.#raw = options.asBefore === undefined ? undefined : rawFolderReader();
    this.#pace = options.pace ?? new StatPace('adaptive');
  }

  /** What the walk found, as the scan of an existing root. */
  result(): LocalScan {
    return { rootExists: true, nodes: this.nodes, ignored: this.ignored, unknown: this.unknown, skipped: this.skipped, skippedIds: this.skippedIds, leftovers: this.leftovers };
  }

  /** `rootInode`: the inode of the folder the root leads to. */
  async run(rootFolder: Dir, rootInode: string): Promise<void> {
    const pending: LocalNode[] = [];
    await this.#read(new Folder('', this.#root, rootInode), rootFolder, pending);
    await this.#drain(pending);
  }

  /** Walks everything below an already reported folder. */
  async runFrom(dir: LocalNode): Promise<void> {
    await this.#drain([dir]);
  }

  /**
   * Looks at one entry (whose parent is not being read), reporting it like a listed one.
   * `parentInode`: its folder's, as found when that was looked at.
   */
  async visitOne(path: RelPath, parentInode: string): Promise<LocalNode | undefined> {
    if (path === '' || isInternalPath(path)) return undefined;
    const slash = path.lastIndexOf('/');
    const parent = slash < 0 ? '' : path.slice(0, slash);
    const folder = new Folder(parent, join(this.#root, parent), parentInode);
    const name = path.slice(slash + 1);
    await this.#visit(folder, { name, listedAsDir: false, path, details: detailsLater(join(this.#root, path)) });
    // Of NFC twins the watcher may report only the newcomer: the synced one is looked at too, as
    // a folder read whole would (see `preferredTwin`).
    const recorded = this.#recorded?.(path);
    if (recorded !== undefined && recorded.name !== name) {
      const twin = joinPath(folder.path, recorded.name);
      await this.#visit(folder, { name: recorded.name, listedAsDir: false, path: twin, details: detailsLater(join(this.#root, twin)) });
    }
    this.#skipTwins(folder);
    await this.#checkMissing(folder);
    const node = folder.byKey.get(pathKey(name));
    if (node) this.#emit(node);
    // Below a twin that is not synced there is nothing to look at.
    return node?.path === path ? node : undefined;
  }

  async #drain(pending: LocalNode[]): Promise<void> {
    for (let dir = pending.pop(); dir !== undefined; dir = pending.pop()) {
      // Inline rather than in an async helper: an await per entry would cost what the
      // synchronous calls save.
      if (this.#pace.sync && this.#pace.due) await this.#pace.pause();
      throwIfAborted(this.#signal, 'local scan');
      const folder = new Folder(dir.path, join(this.#root, dir.path), dir.inode);
      const raw = this.#readRaw(folder, dir);
      const ignored = raw && this.#asBefore?.(folder.path, raw.digest);
      if (raw !== undefined && ignored !== undefined) {
        for (const name of ignored) this.ignored.push(joinPath(folder.path, name));
        const left = new Set(ignored);
        for (const node of raw.subfolders(folder.path)) {
          if (left.has(baseName(node.path)) || isInternalPath(node.path)) continue;
          this.#emit(node);
          pending.push(node);
        }
        continue;
      }
      const handle = await this.#open(folder, dir);
      if (handle) await this.#read(folder, handle, pending, raw && { digest: raw.digest, stillAsRead: () => this.#readRaw(folder, dir)?.digest === raw.digest });
    }
  }

  /**
   * The folder read whole by the native reader, while the walk is synchronous (on a slow disk
   * the walk's own reads keep several in flight), and only as the folder its parent listed.
   */
  #readRaw(folder: Folder, node: LocalNode): RawFolder | undefined {
    const reader = this.#raw;
    if (reader === undefined || !this.#pace.sync) return undefined;
    const raw = this.#pace.timed(
      () => reader.read(folder.absolute),
      (read) => read?.entries ?? 1,
    );
    return raw?.inode === node.inode ? raw : undefined;
  }

  /** How many entries the walk has reported as skipped or left over, or folders as unknown. */
  #setAside(): number {
    return this.unknown.length + this.skipped.length + this.leftovers.length;
  }

  /**
   * A folder's entries: read whole while the walk is synchronous (one call, where a directory
   * handle costs a call per batch of 32 entries and an object per entry besides), else an open
   * handle to read them one by one. Read whole, they come sorted by name; through a handle, in
   * the directory's own order. Nothing depends on the order but a folder digest, which a
   * folder read the other way than last time misses once.
   */
  async #open(folder: Folder, node: LocalNode): Promise<Dir | Dirent[] | undefined> {
    const pace = this.#pace;
    let handle: Dir | Dirent[];
    try {
      handle = pace.sync ? pace.timed(() => readdirSync(folder.absolute, { withFileTypes: true })) : await opendir(folder.absolute);
    } catch (error) {
      // Removed or replaced since its parent was listed: left as it was; the next scan sees it.
      if (isNotThere(error)) this.#markUnknown(folder);
      else this.#cannotRead(folder, error);
      return undefined;
    }
    // opendir follows links: make sure a link swapped in since the listing led nowhere.
    const now = pace.sync ? pace.lstatNow(folder.absolute) : await detailsLater(folder.absolute);
    if (!('stats' in now && now.stats.isDirectory() && now.stats.ino.toString() === node.inode)) {
      await closeDir(handle, pace);
      this.#markUnknown(folder);
      return undefined;
    }
    return handle;
  }

  /**
   * `raw`: the native reader's read of the folder, with a call that tells whether the folder is
   * still as that read found it. Its digest goes with the folder's entries, and the names the
   * rules left out, when nothing else was set aside (skipped or left over, which a later pass
   * that takes the folder as before by it could not report) and the folder did not change
   * meanwhile. A change made and undone between the two reads is not seen; a user does not do
   * both within the milliseconds of a read.
   */
  async #read(folder: Folder, handle: Dir | Dirent[], pending: LocalNode[], raw?: { readonly digest: string; readonly stillAsRead: () => boolean }): Promise<void> {
    // Asynchronously, several lstat calls in flight keep the thread pool busy; either way,
    // entries are settled in the order they were listed.
    const pace = this.#pace;
    const setAside = this.#setAside();
    const ignoredFrom = this.ignored.length;
    const listed: Listed[] = [];
    let read = 0;
    try {
      for (;;) {
        if (pace.sync && pace.due) await pace.pause();
        throwIfAborted(this.#signal, 'local scan');
        let entry: Dirent | null;
        try {
          entry = Array.isArray(handle) ? (handle[read++] ?? null) : pace.sync ? handle.readSync() : await handle.read();
        } catch (error) {
          this.#cannotRead(folder, error);
          break;
        }
        if (entry === null) break;
        const path = joinPath(folder.path, entry.name);
        if (isInternalPath(path)) {
          if (entry.isFile() && isOwnTempFileName(entry.name)) this.leftovers.push(path);
          continue;
        }
        const absolute = folder.childPath(entry.name);
        const listedAsDir = entry.isDirectory();
        if (pace.sync && listed.length === 0) {
          this.#look(folder, entry.name, listedAsDir, path, pace.lstatNow(absolute));
          continue;
        }
        listed.push({ name: entry.name, listedAsDir, path, details: detailsLater(absolute) });
        await this.#settle(folder, listed, lstatsInFlight - 1);
      }
      await this.#settle(folder, listed, 0);
    } finally {
      await closeDir(handle, pace);
    }
    this.#skipTwins(folder);
    await this.#checkMissing(folder);
    const nodes = [...folder.byKey.values()];
    const whole = raw !== undefined && this.#setAside() === setAside && raw.stillAsRead();
    this.#emitFolder(folder.path, nodes, whole ? { digest: raw.digest, ignored: this.ignored.slice(ignoredFrom).map(baseName) } : undefined);
    for (const node of nodes) if (node.kind === 'dir') pending.push(node);
  }

  /** Reports the NFC twins of `folder` that are not synced, naming the one that is. */
  #skipTwins(folder: Folder): void {
    for (const twin of folder.twins) {
      const kept = folder.byKey.get(pathKey(baseName(twin.path)));
      if (kept) this.#skip(twin.path, twin.kind, nfcTwinReason(baseName(kept.path)), twin.inode);
    }
  }

  /** Settles the oldest entries until at most `keep` are left waiting for their lstat. */
  async #settle(folder: Folder, listed: Listed[], keep: number): Promise<void> {
    while (listed.length > keep) {
      throwIfAborted(this.#signal, 'local scan');
      const [next] = listed.splice(0, 1);
      if (next) await this.#visit(folder, next);
    }
  }

  async #visit(folder: Folder, listed: Listed): Promise<void> {
    this.#look(folder, listed.name, listed.listedAsDir, listed.path, await listed.details);
  }

  #look(folder: Folder, name: string, listedAsDir: boolean, path: RelPath, details: Details): void {
    if ('error' in details) {
      // Whatever the error: a name too long once re-encoded fails otherwise than as missing.
      const undecodable = folder.undecodable(name);
      if (undecodable) {
        const kind = undecodable.stats ? kindOf(undecodable.stats) : listedAsDir ? 'dir' : 'file';
        this.#skip(path, kind, `the name is not valid UTF-8 ("${undecodable.shown}"); rename it to sync it`, undecodable.stats && factsOf(undecodable.stats).inode);
        return;
      }
      if (isNotThere(details.error)) {
        // Deleted since the listing, so leaving it out is the truth, unless the folder itself
        // went (see #checkMissing).
        folder.missing = true;
        return;
      }
      this.#skip(path, listedAsDir ? 'dir' : 'file', `cannot read its details (${describeFsError(details.error)})`);
      this.#markUnknown(folder);
      return;
    }
    const { stats } = details;
    const kind = kindOf(stats);
    // Rules first: what the user chose to ignore is not worth a warning, whatever it is.
    if (this.#rules.ignores(path, kind)) {
      this.ignored.push(path);
      return;
    }
    const special = specialFileReason(stats);
    const badName = unaddressableNameReason(name);
    // A rename keeps an entry's inode, not its kind: a link or a device is no synced entry moved.
    if (special !== undefined) this.#skip(path, kind, badName ?? special);
    else if (badName !== undefined) this.#skip(path, kind, `${badName}; rename it to sync it`, factsOf(stats).inode);
    else folder.add(nodeOf(path, kind, stats), this.#recorded);
  }

  /**
   * A folder renamed, or unmounted, while its entries are looked at makes every entry after
   * look deleted: once one was missing, the folder is looked at again, and if it is gone or
   * another, what was not seen in it is unknown.
   */
  async #checkMissing(folder: Folder): Promise<void> {
    if (!folder.missing) return;
    // The root may be a link; below it, none is followed.
    const now = await (folder.path === '' ? stat : lstat)(folder.absolute, { bigint: true }).catch(() => undefined);
    if (!(now?.isDirectory() && now.ino.toString() === folder.inode)) this.#markUnknown(folder);
  }

  /** Nothing below `folder` is known beyond what was seen, so nothing missing there is a deletion. */
  #markUnknown(folder: Folder): void {
    if (folder.unknown) return;
    folder.unknown = true;
    this.unknown.push(folder.path);
  }

  #cannotRead(folder: Folder, error: unknown): void {
    this.#skip(folder.path, 'dir', `cannot read this folder (${describeFsError(error)}); what it holds is left as it is`);
    this.#markUnknown(folder);
  }

  #skip(path: RelPath, kind: EntryKind, reason: string, inode?: string): void {
    this.skipped.push({ side: 'local', path, kind, reason });
    if (inode !== undefined) this.skippedIds.push(inode);
  }
}

async function closeDir(handle: Dir | Dirent[], pace: StatPace): Promise<void> {
  if (Array.isArray(handle)) return;
  if (pace.sync) handle.closeSync();
  else await handle.close();
}

function kindOf(stats: BigIntStats): EntryKind {
  return stats.isDirectory() ? 'dir' : 'file';
}

function specialFileReason(stats: BigIntStats): string | undefined {
  if (stats.isFile() || stats.isDirectory()) return undefined;
  return `${describeSpecial(stats)}; only regular files and folders are synced`;
}

function describeSpecial(stats: BigIntStats): string {
  if (stats.isSymbolicLink()) return 'a symbolic link, which is never followed';
  if (stats.isFIFO()) return 'a named pipe (FIFO)';
  if (stats.isSocket()) return 'a socket';
  if (stats.isBlockDevice() || stats.isCharacterDevice()) return 'a device file';
  return 'neither a regular file nor a folder';
}

function nodeOf(path: RelPath, kind: EntryKind, stats: BigIntStats): LocalNode {
  return { path, kind, ...factsOf(stats) };
}
