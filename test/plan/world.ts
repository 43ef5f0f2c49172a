import { learnRemoteFacts } from '../../src/exec/learn.js';
import { recordConflict, recordOutcome, RowRefs, setRowAside, type ConflictOutcome, type Outcome } from '../../src/exec/rows.js';
import type { Action, ConflictAction, LocalFacts, LocalSnapshot, RemoteSnapshot } from '../../src/plan/types.js';
import type { SyncedTree } from '../../src/state/synced.js';
import { baseName, isWithin, joinPath, parentOf, rebase } from '../../src/tree/paths.js';
import type { EntryKind, LocalNode, RelPath, RemoteNode } from '../../src/tree/types.js';

/**
 * Both sides of a synced folder as plain maps, for planner property tests. A user can change
 * either side; `apply` carries out a plan the way the executor does, keeping the Synced tree
 * with the executor's own bookkeeping (src/exec/rows.ts) on a real SQLite database.
 */

interface LocalEntry {
  kind: EntryKind;
  content: string;
  mtime: number;
  inode: number;
}

interface RemoteEntry {
  kind: EntryKind;
  path: RelPath;
  id: string;
  content: string;
  modified: number;
}

export class Clock {
  #now = 1_700_000_000_000;
  tick(): number {
    this.#now += 1000;
    return this.#now;
  }
}

export class LocalWorld {
  readonly entries = new Map<RelPath, LocalEntry>();
  readonly trash: string[] = [];
  #inode = 100;
  constructor(private readonly clock: Clock) {}

  has(path: RelPath): boolean {
    return path === '' || this.entries.has(path);
  }

  isDir(path: RelPath): boolean {
    return path === '' || this.entries.get(path)?.kind === 'dir';
  }

  write(path: RelPath, content: string, mtime = this.clock.tick()): void {
    if (!this.isDir(parentOf(path))) throw new Error(`local: no folder for ${path}`);
    const existing = this.entries.get(path);
    if (existing?.kind === 'dir') throw new Error(`local: ${path} is a folder`);
    this.entries.set(path, { kind: 'file', content, mtime, inode: existing?.inode ?? this.#inode++ });
  }

  /** Writes a new inode, the way editors save through a temp file. */
  replace(path: RelPath, content: string): void {
    this.entries.delete(path);
    this.write(path, content);
  }

  mkdir(path: RelPath): void {
    if (this.has(path) || !this.isDir(parentOf(path))) throw new Error(`local: cannot mkdir ${path}`);
    this.entries.set(path, { kind: 'dir', content: '', mtime: this.clock.tick(), inode: this.#inode++ });
  }

  remove(path: RelPath, toTrash: boolean): void {
    for (const [p, entry] of [...this.entries]) {
      if (!isWithin(p, path)) continue;
      if (toTrash && entry.kind === 'file') this.trash.push(entry.content);
      this.entries.delete(p);
    }
  }

  move(from: RelPath, to: RelPath): void {
    if (!this.entries.has(from) || this.has(to) || !this.isDir(parentOf(to)) || isWithin(to, from)) throw new Error(`local: cannot move ${from} to ${to}`);
    for (const [p, entry] of [...this.entries]) {
      if (!isWithin(p, from)) continue;
      this.entries.delete(p);
      this.entries.set(rebase(p, from, to), entry);
    }
  }

  facts(path: RelPath): LocalFacts | undefined {
    const entry = this.entries.get(path);
    return entry && { size: entry.kind === 'file' ? entry.content.length : 0, mtimeMs: entry.mtime, inode: String(entry.inode) };
  }

  snapshot(): LocalSnapshot {
    const nodes: LocalNode[] = [...this.entries].map(([path, e]) => ({
      path,
      kind: e.kind,
      size: e.kind === 'file' ? e.content.length : 0,
      mtimeMs: e.mtime,
      inode: String(e.inode),
    }));
    return { rootExists: true, nodes, ignored: [], unknown: [] };
  }
}

export class RemoteWorld {
  readonly byId = new Map<string, RemoteEntry>();
  readonly trash: string[] = [];
  #id = 1;
  constructor(private readonly clock: Clock) {}

  find(path: RelPath, kind: EntryKind): RemoteEntry | undefined {
    for (const entry of this.byId.values()) if (entry.path === path && entry.kind === kind) return entry;
    return undefined;
  }

  isDir(path: RelPath): boolean {
    return path === '' || this.find(path, 'dir') !== undefined;
  }

  /** Like Cloudreve: missing parents are created, an existing file is never overwritten. */
  create(path: RelPath, kind: EntryKind, content = '', modified = this.clock.tick()): RemoteEntry {
    if (this.find(path, kind)) throw new Error(`remote: ${kind} ${path} exists`);
    const parent = parentOf(path);
    if (parent !== '' && !this.isDir(parent)) this.create(parent, 'dir');
    const entry: RemoteEntry = { kind, path, id: `${kind === 'dir' ? 'd' : 'f'}${this.#id++}`, content, modified };
    this.byId.set(entry.id, entry);
    return entry;
  }

  update(id: string, content: string): void {
    const entry = this.byId.get(id);
    if (!entry || entry.kind !== 'file') throw new Error(`remote: no file ${id}`);
    entry.content = content;
    entry.modified = this.clock.tick();
  }

  remove(id: string, toTrash: boolean): void {
    const entry = this.byId.get(id);
    if (!entry) return;
    for (const other of [...this.byId.values()]) {
      if (other === entry || (entry.kind === 'dir' && isWithin(other.path, entry.path) && other.path !== entry.path)) {
        if (toTrash && other.kind === 'file') this.trash.push(other.content);
        this.byId.delete(other.id);
      }
    }
  }

  /** Moves and renames keep the ID and bump the date (a folder rename does not). */
  move(id: string, to: RelPath): void {
    const entry = this.byId.get(id);
    if (!entry) throw new Error(`remote: no object ${id}`);
    if (this.find(to, entry.kind) || !this.isDir(parentOf(to))) throw new Error(`remote: cannot move ${entry.path} to ${to}`);
    const from = entry.path;
    if (entry.kind === 'dir') {
      // Only what lies below: a file may share the folder's name (and path) on the server.
      for (const other of this.byId.values()) if (other.path.startsWith(`${from}/`)) other.path = rebase(other.path, from, to);
    }
    const renameOnly = parentOf(from) === parentOf(to);
    entry.path = to;
    if (entry.kind === 'file' || !renameOnly) entry.modified = this.clock.tick();
  }

  snapshot(): RemoteSnapshot {
    const nodes: RemoteNode[] = [...this.byId.values()].map((e) => ({
      path: e.path,
      kind: e.kind,
      id: e.id,
      size: e.kind === 'file' ? e.content.length : 0,
      modifiedMs: e.modified,
    }));
    return { rootExists: true, nodes, ignored: [], unknown: [] };
  }
}

export interface ApplyOptions {
  readonly remoteTrash: boolean;
}

export interface ApplyResult {
  readonly failed: readonly { action: Action; error: string }[];
}

/** Carries out a plan on the two worlds, in order, as the executor would. */
export async function apply(actions: readonly Action[], local: LocalWorld, remote: RemoteWorld, tree: SyncedTree, options: ApplyOptions): Promise<ApplyResult> {
  const refs = new RowRefs();
  const done = new Set<number>();
  const failed: { action: Action; error: string }[] = [];
  for (const action of actions) {
    if (!action.after.every((id) => done.has(id))) {
      failed.push({ action, error: 'a dependency failed' });
      continue;
    }
    try {
      if (action.type === 'conflict') {
        const setAside = (): void => setRowAside(tree, refs, action);
        if (!recordConflict(tree, refs, action, settleConflict(action, local, remote, options, setAside))) throw new Error('unknown row');
      } else if (!recordOutcome(tree, refs, action, perform(action, local, remote, options))) {
        throw new Error('unknown row');
      }
      done.add(action.id);
    } catch (error) {
      failed.push({ action, error: (error as Error).message });
    }
  }
  await learnRemoteFacts(tree, (dir) => {
    if (!remote.isDir(dir)) return Promise.resolve(undefined);
    const children = [...remote.byId.values()].filter((e) => parentOf(e.path) === dir && e.path !== '');
    return Promise.resolve(children.map((e) => ({ kind: e.kind, name: baseName(e.path), id: e.id, size: e.kind === 'file' ? e.content.length : 0, modifiedMs: e.modified })));
  });
  return { failed };
}

function perform(action: Exclude<Action, ConflictAction>, local: LocalWorld, remote: RemoteWorld, options: ApplyOptions): Outcome {
  switch (action.type) {
    case 'mkdir':
      if (action.side === 'local') {
        local.mkdir(action.path);
        return { local: local.facts(action.path) ?? fail('mkdir') };
      }
      if (remote.find(action.path, 'file') && !remote.isDir(action.path)) throw new Error('remote: a file has that name');
      if (!remote.isDir(action.path)) remote.create(action.path, 'dir');
      return {};
    case 'upload': {
      const entry = local.entries.get(action.localPath);
      if (!entry || entry.kind !== 'file' || !sameFacts(local.facts(action.localPath), action.local)) throw new Error('local file changed since the scan');
      if (action.replace) remote.update(action.replace.id, entry.content);
      else remote.create(action.remotePath, 'file', entry.content, entry.mtime);
      return { local: action.local };
    }
    case 'download': {
      const source = remote.byId.get(action.remote.id) ?? fail('remote file gone');
      const existing = local.entries.get(action.localPath);
      if (action.existing ? !sameFacts(local.facts(action.localPath), action.existing) : existing !== undefined) throw new Error('local target changed since the scan');
      if (existing) local.remove(action.localPath, true);
      local.write(action.localPath, source.content, source.modified);
      return { local: local.facts(action.localPath) ?? fail('download') };
    }
    case 'move':
      if (action.side === 'local') local.move(action.from, action.to);
      else remote.move(action.remoteId ?? fail('remote id'), action.to);
      return {};
    case 'delete':
      if (action.side === 'local') {
        if (action.local && !sameFacts(local.facts(action.path), action.local)) throw new Error('local file changed since the scan');
        local.remove(action.path, true);
      } else {
        remote.remove(action.remoteId ?? fail('remote id'), options.remoteTrash);
      }
      return {};
    case 'record':
    case 'forget':
      return {};
  }
}

function settleConflict(action: ConflictAction, local: LocalWorld, remote: RemoteWorld, options: ApplyOptions, setAside: () => void): ConflictOutcome {
  const mine = local.entries.get(action.localPath);
  const theirs = remote.byId.get(action.remote.id);
  if (!mine || !theirs || !sameFacts(local.facts(action.localPath), action.local)) throw new Error('conflict changed since the scan');
  const localFacts = local.facts(action.localPath) ?? fail('facts');
  if (mine.content === theirs.content) return { kind: 'identical', local: localFacts };
  const copyName = baseName(action.conflictPath);
  switch (action.resolution) {
    case 'local-wins':
      // As the executor does: in the remote trash, or else downloaded into the local one.
      (options.remoteTrash ? remote.trash : local.trash).push(theirs.content);
      remote.update(theirs.id, mine.content);
      return { kind: 'settled', local: localFacts, remote: 'replaced' };
    case 'remote-wins':
      local.remove(action.localPath, true);
      local.write(action.localPath, theirs.content, theirs.modified);
      return { kind: 'settled', local: local.facts(action.localPath) ?? fail('facts'), remote: 'as-planned' };
    case 'keep-both':
      if (action.mode === 'upload-only') {
        setAside();
        remote.move(theirs.id, joinPath(parentOf(action.remotePath), copyName));
        remote.create(action.remotePath, 'file', mine.content, mine.mtime);
        return { kind: 'settled', local: localFacts, remote: 'set-aside' };
      }
      local.move(action.localPath, action.conflictPath);
      local.write(action.localPath, theirs.content, theirs.modified);
      if (action.mode === 'download-only') return { kind: 'settled', local: local.facts(action.localPath) ?? fail('facts'), remote: 'as-planned' };
      remote.create(joinPath(parentOf(action.remotePath), copyName), 'file', mine.content, mine.mtime);
      return {
        kind: 'copied',
        local: local.facts(action.localPath) ?? fail('facts'),
        copyName,
        copyLocal: local.facts(action.conflictPath) ?? fail('facts'),
      };
  }
}

function sameFacts(a: LocalFacts | undefined, b: LocalFacts): boolean {
  return a !== undefined && a.size === b.size && a.mtimeMs === b.mtimeMs && a.inode === b.inode;
}

function fail(what: string): never {
  throw new Error(what);
}
