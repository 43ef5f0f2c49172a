import type { Dirent } from 'node:fs';
import { appendFile, mkdir, readdir, readFile, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Scene } from '../e2e/harness.js';
import { isRemoteError } from '../../src/remote/errors.js';
import { bufferSource } from '../../src/remote/sources.js';
import { isOwnTempName } from '../../src/scan/ignore.js';
import { sha } from './rig.js';

/**
 * Random user activity on a real local folder and, through the client, on the server folder (a
 * second device), driven by a seeded PRNG so that a seed replays the same choices. It remembers
 * every version a user wrote and which of them a user overwrote or deleted, for the no-data-loss
 * check.
 */

/** mulberry32: small, fast, seeded. */
export class Prng {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T | undefined {
    return items.length === 0 ? undefined : items[this.int(items.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** File names: case twins, Unicode in NFC and NFD, spaces, a dot file, no extension. */
export const fileNames = ['a.txt', 'A.txt', 'b.md', 'notes', 'café.txt', 'e\u0301te\u0301.log', '日本語 データ.bin', 'emoji 🎉.txt', 'x (1).txt', '.hidden'];
export const dirNames = ['docs', 'Docs', 'sub', 'Ünïcødé', 'deep'];
const maxDepth = 3;

/** The same name with its first letter's case swapped, or undefined when it has no cased letter. */
export function caseSwapped(name: string): string | undefined {
  const i = [...name].findIndex((c) => c.toLowerCase() !== c.toUpperCase());
  if (i < 0) return undefined;
  const chars = [...name];
  const c = chars[i] ?? '';
  chars[i] = c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase();
  return chars.join('');
}

/** Every name the activity can produce; anything else in a final tree came from the sync. */
export const userNames: ReadonlySet<string> = new Set(
  [...fileNames, ...dirNames].flatMap((name) => [name, caseSwapped(name)].filter((n): n is string => n !== undefined)),
);

/**
 * `<stem> (conflict YYYY-MM-DD HHMMSS[ n]).<ext>`, or "Conflict" once a case-rename of a copy
 * whose stem has no letter with a case (日本語) swapped its first one.
 */
export const conflictCopyName = /^.* \([Cc]onflict \d{4}-\d\d-\d\d \d{6}(?: \d+)?\)(?:\.[^.]*)?$/;

/** A server-side replace of a file, when it was asked (`startedAt`) and answered (`endedAt`), by the clock. */
export interface RemoteReplace {
  readonly id: string;
  /** The server folder that held the file. */
  readonly folder: string;
  readonly startedAt: number;
  readonly endedAt: number;
}

interface RemoteItem {
  readonly path: string;
  readonly kind: 'file' | 'dir';
  readonly id: string;
  readonly size: number;
}

const localKinds = ['create', 'create', 'edit', 'replace', 'append', 'truncate', 'rename', 'move', 'delete', 'mkdir', 'rmdir', 'case'] as const;
const remoteKinds = ['create', 'create', 'edit', 'append', 'truncate', 'rename', 'move', 'delete', 'mkdir', 'rmdir', 'case'] as const;

export class Activity {
  #n = 0;
  /** Every version written, by content hash, with where it was written. */
  readonly versions = new Map<string, string>();
  /** The versions written by replacing a server file, by content hash. */
  readonly remoteReplaces = new Map<string, RemoteReplace>();
  /** Versions a user overwrote or deleted: they may be gone. */
  readonly superseded = new Set<string>();
  /**
   * Server paths (folder and name) whose upload by the other device failed, an injected fault
   * perhaps losing the answer to a session it opened: that device gave up and left the session
   * to expire, holding the name meanwhile, which is no leftover of cloudreve-sync's.
   */
  readonly abandonedUploads = new Set<string>();
  /** Sizes any version had; server-side edits always pick a new one (README, known limitations). */
  readonly #sizes = new Set<number>([0]);
  readonly log: string[] = [];

  constructor(
    private readonly scene: Scene,
    private readonly rng: Prng,
    private readonly seed: number,
  ) {}

  // ---- contents ------------------------------------------------------------------------------

  #content(minSize = 0, unique = false): Buffer {
    const n = ++this.#n;
    const head = `s${this.seed}v${n}|`;
    let size = Math.max(minSize, head.length + (this.rng.chance(0.15) ? this.rng.int(5000) : this.rng.int(1500)));
    if (unique) while (this.#sizes.has(size)) size++;
    const body = Buffer.alloc(size - head.length);
    for (let i = 0; i < body.length; i++) body[i] = 97 + ((n * 7 + i * 13) % 26);
    return Buffer.concat([Buffer.from(head), body]);
  }

  #wrote(content: Buffer, where: string): void {
    this.#sizes.add(content.length);
    if (content.length > 0) this.versions.set(sha(content), where);
  }

  #supersede(content: Buffer): void {
    if (content.length > 0) this.superseded.add(sha(content));
  }

  // ---- the local side ------------------------------------------------------------------------

  async #localEntries(): Promise<{ path: string; kind: 'file' | 'dir' }[]> {
    const out: { path: string; kind: 'file' | 'dir' }[] = [];
    const walk = async (dir: string, prefix: string): Promise<void> => {
      let entries: Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        // A sync running at the same time may have moved or removed a folder since its parent was read.
        const code = (error as NodeJS.ErrnoException).code;
        if (prefix !== '' && (code === 'ENOENT' || code === 'ENOTDIR')) return;
        throw error;
      }
      for (const entry of entries) {
        if (isOwnTempName(entry.name)) continue;
        const path = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
        if (entry.isDirectory()) {
          out.push({ path, kind: 'dir' });
          await walk(join(dir, entry.name), path);
        } else if (entry.isFile()) out.push({ path, kind: 'file' });
      }
    };
    await walk(this.scene.local, '');
    return out;
  }

  #abs(path: string): string {
    return this.scene.localPath(path);
  }

  async #supersedeLocal(path: string): Promise<void> {
    const info = await stat(this.#abs(path));
    if (info.isFile()) {
      this.#supersede(await readFile(this.#abs(path)));
      return;
    }
    for (const name of await readdir(this.#abs(path))) await this.#supersedeLocal(`${path}/${name}`);
  }

  /** One random local operation; some picks find nothing to do. */
  async local(): Promise<void> {
    const entries = await this.#localEntries();
    const files = entries.filter((e) => e.kind === 'file').map((e) => e.path);
    const dirs = entries.filter((e) => e.kind === 'dir' && depth(e.path) < maxDepth).map((e) => e.path);
    const taken = new Set(entries.map((e) => e.path));
    const freeName = (dir: string, pool: readonly string[]): string | undefined => this.rng.pick(pool.filter((n) => !taken.has(join2(dir, n))));
    const kind = this.rng.pick(localKinds) ?? 'create';
    const dir = this.rng.pick(['', '', ...dirs]) ?? '';
    const file = this.rng.pick(files);
    // Emptying a side that held synced files trips the root guard, which is right: never do it.
    const lastOne = (path: string): boolean => !path.includes('/') && entries.filter((e) => !e.path.includes('/')).length <= 1;
    try {
      switch (kind) {
        case 'create': {
          const name = freeName(dir, fileNames);
          if (name === undefined) return;
          const content = this.#content();
          await writeFile(this.#abs(join2(dir, name)), content);
          return this.#did(`local create ${join2(dir, name)} (${content.length} B)`, content);
        }
        case 'edit': {
          if (file === undefined) return;
          await this.#supersedeLocal(file);
          const content = this.#content();
          await writeFile(this.#abs(file), content);
          return this.#did(`local edit ${file} (${content.length} B)`, content);
        }
        case 'replace': {
          // The way editors save: a new file renamed over the old one (a new inode).
          if (file === undefined) return;
          await this.#supersedeLocal(file);
          const content = this.#content();
          const temp = `${this.#abs(file)}.swp~`;
          await writeFile(temp, content);
          await rename(temp, this.#abs(file));
          return this.#did(`local replace ${file} (${content.length} B)`, content);
        }
        case 'append': {
          if (file === undefined) return;
          const old = await readFile(this.#abs(file));
          this.#supersede(old);
          const extra = this.#content(1);
          await appendFile(this.#abs(file), extra);
          return this.#did(`local append ${file} (+${extra.length} B)`, Buffer.concat([old, extra]));
        }
        case 'truncate': {
          if (file === undefined) return;
          await this.#supersedeLocal(file);
          await truncate(this.#abs(file), 0);
          return this.#did(`local truncate ${file}`);
        }
        case 'rename':
        case 'case': {
          const victim = this.rng.pick(entries.map((e) => e.path));
          if (victim === undefined) return;
          const parent = parentOf(victim);
          const isDir = entries.find((e) => e.path === victim)?.kind === 'dir';
          const name = kind === 'case' ? caseSwapped(baseOf(victim)) : freeName(parent, isDir ? dirNames : fileNames);
          if (name === undefined || taken.has(join2(parent, name))) return;
          await rename(this.#abs(victim), this.#abs(join2(parent, name)));
          return this.#did(`local ${kind === 'case' ? 'case-rename' : 'rename'} ${victim} -> ${join2(parent, name)}`);
        }
        case 'move': {
          const victim = this.rng.pick(entries.map((e) => e.path));
          if (victim === undefined || dir === parentOf(victim) || within(dir, victim)) return;
          const isDir = entries.find((e) => e.path === victim)?.kind === 'dir';
          if (isDir && depth(dir) + subtreeDepth(entries, victim) > maxDepth) return;
          const name = taken.has(join2(dir, baseOf(victim))) ? freeName(dir, isDir ? dirNames : fileNames) : baseOf(victim);
          if (name === undefined) return;
          await rename(this.#abs(victim), this.#abs(join2(dir, name)));
          return this.#did(`local move ${victim} -> ${join2(dir, name)}`);
        }
        case 'delete': {
          if (file === undefined || lastOne(file)) return;
          await this.#supersedeLocal(file);
          await rm(this.#abs(file));
          return this.#did(`local delete ${file}`);
        }
        case 'mkdir': {
          if (depth(dir) >= maxDepth - 1) return;
          const name = freeName(dir, dirNames);
          if (name === undefined) return;
          await mkdir(this.#abs(join2(dir, name)));
          return this.#did(`local mkdir ${join2(dir, name)}`);
        }
        case 'rmdir': {
          const victim = this.rng.pick(entries.filter((e) => e.kind === 'dir').map((e) => e.path));
          if (victim === undefined || lastOne(victim)) return;
          await this.#supersedeLocal(victim);
          await rm(this.#abs(victim), { recursive: true });
          return this.#did(`local rmdir ${victim}`);
        }
      }
    } catch (error) {
      // A sync running at the same time may have changed the tree under the pick.
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOTDIR' || code === 'EISDIR') {
        this.log.push(`local ${kind} gave up: ${code}`);
        return;
      }
      throw error;
    }
  }

  // ---- the server side -----------------------------------------------------------------------

  #rabs(path: string): string {
    return this.scene.remotePath(path);
  }

  async remoteItems(): Promise<RemoteItem[]> {
    const out: RemoteItem[] = [];
    const walk = async (path: string): Promise<void> => {
      const listing = await this.scene.server.list(this.#rabs(path));
      for (const entry of listing.entries) {
        const child = join2(path, entry.name);
        out.push({ path: child, kind: entry.kind, id: entry.id, size: entry.size });
        if (entry.kind === 'dir') await walk(child);
      }
    };
    await walk('');
    return out;
  }

  async #remoteContent(id: string): Promise<Buffer> {
    const temp = join(this.scene.dir, `activity-${this.#n}-${id}`);
    await this.scene.server.download(id, temp);
    const content = await readFile(temp);
    await rm(temp, { force: true });
    return content;
  }

  async #supersedeRemote(items: readonly RemoteItem[], victim: RemoteItem): Promise<void> {
    for (const item of items) {
      if (item.kind !== 'file' || !(item === victim || (victim.kind === 'dir' && within(item.path, victim.path)))) continue;
      this.#supersede(await this.#remoteContent(item.id));
    }
  }

  /** One random server-side operation, through the client, as another device would. */
  async remote(): Promise<void> {
    try {
      await this.#remote();
    } catch (error) {
      // While a sync runs, the other device suffers the injected faults too, or finds the tree
      // changed under its pick: it gives up, as a user would try again later.
      if (!isRemoteError(error)) throw error;
      this.log.push(`remote operation gave up: ${error.message}`);
    }
  }

  async #remote(): Promise<void> {
    const all = await this.remoteItems();
    // As on the local side, names that cloudreve-sync keeps for itself (the temporary files a
    // killed run leaves on the server) are not another device's to work on.
    const items = all.filter((e) => !e.path.split('/').some(isOwnTempName));
    const files = items.filter((e) => e.kind === 'file');
    const dirs = items.filter((e) => e.kind === 'dir' && depth(e.path) < maxDepth).map((e) => e.path);
    // Never a file and a folder of one name: a disk cannot mirror that.
    const taken = new Set(all.map((e) => e.path));
    const freeName = (dir: string, pool: readonly string[]): string | undefined => this.rng.pick(pool.filter((n) => !taken.has(join2(dir, n))));
    const kind = this.rng.pick(remoteKinds) ?? 'create';
    const dir = this.rng.pick(['', '', ...dirs]) ?? '';
    const file = this.rng.pick(files);
    const ref = (item: RemoteItem): { kind: 'file' | 'dir'; id: string } => ({ kind: item.kind, id: item.id });
    switch (kind) {
      case 'create': {
        const name = freeName(dir, fileNames);
        if (name === undefined) return;
        const content = this.#content();
        try {
          await this.scene.server.upload(this.#rabs(dir), name, bufferSource(content, Date.now()));
        } catch (error) {
          this.abandonedUploads.add(`${this.#rabs(dir)}/${name}`);
          throw error;
        }
        return this.#did(`remote create ${join2(dir, name)} (${content.length} B)`, content);
      }
      case 'edit': {
        if (file === undefined) return;
        await this.#supersedeRemote(items, file);
        const content = this.#content(0, true);
        await this.#replace(file, content);
        return this.#did(`remote edit ${file.path} (${content.length} B)`, content);
      }
      case 'append': {
        if (file === undefined) return;
        const old = await this.#remoteContent(file.id);
        this.#supersede(old);
        let extra = this.#content(1);
        while (this.#sizes.has(old.length + extra.length)) extra = Buffer.concat([extra, Buffer.from('+')]);
        const content = Buffer.concat([old, extra]);
        await this.#replace(file, content);
        return this.#did(`remote append ${file.path} (+${extra.length} B)`, content);
      }
      case 'truncate': {
        if (file === undefined || file.size === 0) return;
        await this.#supersedeRemote(items, file);
        await this.#replace(file, Buffer.alloc(0));
        return this.#did(`remote truncate ${file.path}`);
      }
      case 'rename':
      case 'case': {
        const victim = this.rng.pick(items);
        if (victim === undefined) return;
        const parent = parentOf(victim.path);
        const name = kind === 'case' ? caseSwapped(baseOf(victim.path)) : freeName(parent, victim.kind === 'dir' ? dirNames : fileNames);
        if (name === undefined || taken.has(join2(parent, name))) return;
        await this.scene.server.rename(ref(victim), name);
        return this.#did(`remote ${kind === 'case' ? 'case-rename' : 'rename'} ${victim.path} -> ${join2(parent, name)}`);
      }
      case 'move': {
        const victim = this.rng.pick(items);
        if (victim === undefined || dir === parentOf(victim.path) || within(dir, victim.path)) return;
        if (victim.kind === 'dir' && depth(dir) + subtreeDepth(items, victim.path) > maxDepth) return;
        // The API moves keeping the name; a taken name is left alone rather than renamed twice.
        if (taken.has(join2(dir, baseOf(victim.path)))) return;
        await this.scene.server.move(this.#rabs(parentOf(victim.path)), [ref(victim)], this.#rabs(dir));
        return this.#did(`remote move ${victim.path} -> ${join2(dir, baseOf(victim.path))}`);
      }
      case 'delete':
      case 'rmdir': {
        const victim = kind === 'delete' ? file : this.rng.pick(items.filter((e) => e.kind === 'dir'));
        if (victim === undefined || (!victim.path.includes('/') && items.filter((e) => !e.path.includes('/')).length <= 1)) return;
        await this.#supersedeRemote(items, victim);
        await this.scene.server.delete([ref(victim)]);
        return this.#did(`remote ${kind} ${victim.path}`);
      }
      case 'mkdir': {
        if (depth(dir) >= maxDepth - 1) return;
        const name = freeName(dir, dirNames);
        if (name === undefined) return;
        await this.scene.server.mkdir(this.#rabs(join2(dir, name)));
        return this.#did(`remote mkdir ${join2(dir, name)}`);
      }
    }
  }

  async #replace(file: RemoteItem, content: Buffer): Promise<void> {
    const startedAt = Date.now();
    await this.scene.server.replace(file.id, bufferSource(content, startedAt));
    if (content.length > 0) this.remoteReplaces.set(sha(content), { id: file.id, folder: this.#rabs(parentOf(file.path)), startedAt, endedAt: Date.now() });
  }

  #did(what: string, content?: Buffer): void {
    if (content) this.#wrote(content, what);
    this.log.push(what);
  }
}

export function join2(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

export function baseOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function depth(path: string): number {
  return path === '' ? 0 : path.split('/').length;
}

/** Whether `path` is `ancestor` or lies below it. */
export function within(path: string, ancestor: string): boolean {
  return path === ancestor || path.startsWith(`${ancestor}/`);
}

/** Levels of folders at and below `path` (1 for a folder with no subfolders). */
function subtreeDepth(entries: readonly { path: string; kind: 'file' | 'dir' }[], path: string): number {
  let deepest = 1;
  for (const e of entries) if (e.kind === 'dir' && within(e.path, path)) deepest = Math.max(deepest, depth(e.path) - depth(path) + 1);
  return deepest;
}
