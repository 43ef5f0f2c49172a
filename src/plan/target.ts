import { baseName, foldKey, parentOf, pathKey } from '../tree/paths.js';
import type { RelPath, Side, SkippedPath } from '../tree/types.js';
import { touched, type ItemView, type SideView, type Spot } from './analyze.js';
import type { Item, MatchedItems } from './items.js';
import { conflictName, isAsideName } from './names.js';
import type { ConflictResolution, PlanInput, PlanOptions, SyncMode } from './types.js';

/**
 * - keep: in the target tree, present on both sides when the plan is done;
 * - drop: deleted from whichever side still has it;
 * - frozen: left as it is: a one-way mode may not mirror what happened to it, or a side's scan
 *   could not see it;
 * - skipped: cannot be synced (name, collision) and is left as it is, with a reason.
 */
export type Fate = 'keep' | 'drop' | 'frozen' | 'skipped';

export type ContentFlow =
  | { readonly kind: 'none' }
  | { readonly kind: 'upload'; readonly replace: boolean }
  | { readonly kind: 'download'; readonly replace: boolean }
  | { readonly kind: 'conflict'; readonly resolution: ConflictResolution; readonly copyName: string };

export interface Target {
  readonly fate: readonly Fate[];
  /** For kept items: the parent in the target tree and the name on each side. */
  readonly parent: readonly (Item | undefined)[];
  readonly name: { readonly local: readonly (string | undefined)[]; readonly remote: readonly (string | undefined)[] };
  readonly flow: readonly ContentFlow[];
  readonly skipped: readonly SkippedPath[];
  /** Items `deletedUnmirrored` kept from a delete (see PlanOptions.formerSource). */
  readonly heldBack: number;
}

const none: ContentFlow = { kind: 'none' };

/** The side a one-way mode copies from; undefined for two-way. */
export function sourceOf(mode: SyncMode): Side | undefined {
  return mode === 'upload-only' ? 'local' : mode === 'download-only' ? 'remote' : undefined;
}

export function decideTarget(input: PlanInput, matched: MatchedItems, views: readonly ItemView[], options: PlanOptions): Target {
  const { items, root } = matched;
  const count = items.length;
  const fate: Fate[] = new Array<Fate>(count);
  const reasons = new Map<Item, SkippedPath>();
  const source = sourceOf(options.mode);

  const formerSource = options.formerSource === source ? undefined : options.formerSource;
  let heldBack = 0;
  for (const view of views) {
    const i = view.item.index;
    if (view.item === root) fate[i] = 'keep';
    else if (formerSource !== undefined && deletedUnmirrored(view, formerSource)) {
      // Brought back where the mode may write the former source's side, else left alone.
      fate[i] = source === undefined ? 'keep' : 'frozen';
      heldBack++;
    } else fate[i] = initialFate(view, source);
  }

  const parent: (Item | undefined)[] = new Array<Item | undefined>(count);
  const resolved = { local: new Array<string | undefined>(count), remote: new Array<string | undefined>(count) };
  for (const view of views) {
    if (view.item === root) continue;
    const spot = resolveSpot(view, source);
    parent[view.item.index] = spot.parent;
    resolved.local[view.item.index] = spot.name;
    resolved.remote[view.item.index] = spot.name;
    if (source !== undefined) {
      // The written side keeps the name it has (a conflict copy's, say) unless the source renamed
      // (to an aside name too: see resolveSpot), or the entry goes back to the source's folder
      // from another: it returns whole, as the name it had there may be taken by then.
      const src = source === 'local' ? view.local : view.remote;
      const dest = source === 'local' ? view.remote : view.local;
      const renamed = src.now !== undefined && src.base !== undefined && pathKey(src.now.name) !== pathKey(src.base.name);
      if (dest.now && dest.now.parent === spot.parent && !renamed && !isAsideName(dest.now.name)) {
        (source === 'local' ? resolved.remote : resolved.local)[view.item.index] = dest.now.name;
      }
    }
  }
  breakCycles(views, parent, root);

  const skip = (item: Item, side: Side, reason: string): void => {
    if (fate[item.index] === 'drop') return;
    fate[item.index] = 'skipped';
    reasons.set(item, { side, path: pathOn(item, side), kind: item.kind, reason });
  };
  const ignored = ignoredNames(input, matched);
  skipUnavailableNames(views, fate, parent, resolved, ignored, options, skip);
  skipTruncated(views, fate, source, skip);

  retainAncestors(input, matched, views, fate, parent, options, source);

  const name = { local: new Array<string | undefined>(count), remote: new Array<string | undefined>(count) };
  for (const view of views) {
    const i = view.item.index;
    if (view.item === root) continue;
    name.local[i] = spelledFor(view.local, resolved.local[i] ?? '');
    name.remote[i] = spelledFor(view.remote, resolved.remote[i] ?? '');
  }

  // A skipped folder skips what is below it, which can collide with something else in turn:
  // repeat until nothing changes (each round only ever skips or renames more).
  const taken = new TakenNames(views, fate, parent, name, ignored);
  for (let before = -1; before !== reasons.size; ) {
    before = reasons.size;
    skipBelowSkipped(views, fate, parent, root, skip);
    // In one-way modes only the written side can collide (the other one is the truth); in
    // two-way mode an entry left alone (skipped) still holds its name on each side.
    for (const side of source === undefined ? (['local', 'remote'] as const) : ([source === 'local' ? 'remote' : 'local'] as const)) {
      resolveCollisions(side, views, fate, parent, name, options, source, taken, skip);
    }
  }
  retainAncestors(input, matched, views, fate, parent, options, source);

  const flow = views.map((view): ContentFlow => {
    const i = view.item.index;
    if (fate[i] !== 'keep' || view.item.kind !== 'file') return none;
    return contentFlow(view, options, source, () => conflictCopyName(view, parent[i] ?? root, name.local[i] ?? '', options, source, taken));
  });

  return { fate, parent, name, flow, skipped: [...reasons.values()], heldBack };
}

/** Deleted on the other side while a one-way mode from `formerSource` kept that from the source. */
function deletedUnmirrored({ item, local, remote }: ItemView, formerSource: Side): boolean {
  const was = formerSource === 'local' ? local : remote;
  const other = formerSource === 'local' ? remote : local;
  return item.base !== undefined && was.now !== undefined && !was.moved && !was.changed && other.now === undefined;
}

function initialFate(view: ItemView, source: Side | undefined): Fate {
  const { item, local, remote } = view;
  // Where a scan saw something else (a link where a synced file was) or nothing it could read,
  // a download, move or delete would find that in its way at every pass: the other side's
  // changes wait until the path can be seen again.
  if (item.local?.unseen === true || item.remote?.unseen === true) return 'frozen';
  // A file we sent whose server object no listing ever showed (the pass was cut short) may have
  // been removed there by no user: another device cancelling the account's unfinished uploads
  // deletes one that completes between Cloudreve's two steps. Its absence is no server delete,
  // so the file is sent again. Download-only cannot send it, and leaves it (and lets it go) as it
  // leaves any local file the server never had: in the local trash it would expire, the only copy.
  if (neverListed(view)) return source === 'remote' ? 'frozen' : 'keep';
  if (source !== undefined) {
    const src = source === 'local' ? local : remote;
    const dest = source === 'local' ? remote : local;
    if (item.base === undefined && src.now === undefined) return 'frozen';
    const destTouched = dest.now === undefined || dest.moved || dest.changed;
    if (item.base !== undefined && src.now !== undefined && !src.moved && !src.changed && destTouched) return 'frozen';
    if (item.base !== undefined && src.now === undefined && dest.now !== undefined && (dest.moved || dest.changed)) return 'frozen';
  }
  if (item.base === undefined) return 'keep';
  if (local.now && remote.now) return 'keep';
  if (local.now) return touched(local) ? 'keep' : 'drop';
  if (remote.now) return touched(remote) ? 'keep' : 'drop';
  return 'drop';
}

/** A synced file the local side has and the server lacks, whose row never learnt its server object. */
function neverListed({ item, local, remote }: ItemView): boolean {
  return item.kind === 'file' && item.base !== undefined && item.base.remote === undefined && local.now !== undefined && remote.now === undefined;
}

/**
 * The item's place in the target tree. A side that moved the item decides (the local side when
 * both did, or in upload-only mode; the remote side in download-only mode); parent and name are
 * settled separately, so a folder renamed on one side and a file renamed inside it on the other
 * both take effect.
 */
function resolveSpot(view: ItemView, source: Side | undefined): Spot {
  const { local, remote, item } = view;
  const found = (source === 'remote' ? remote.now ?? local.now : local.now ?? remote.now) ?? local.base ?? remote.base;
  if (found === undefined) throw new Error(`item ${item.index} has no position on any side`);
  // In a one-way mode the source side is never written: a name there, one of the shape a plan
  // moves entries aside under included, is another device's or its user's, and it stands.
  if (source !== undefined) return { parent: found.parent, name: found.name };
  // A name a plan gave a synced entry to make room is never a user's rename: a run killed before
  // it moved the entry on left it there. The entry gets back the name it had. (A new entry's
  // name of that shape is the user's own.)
  const unaside = (name: string): string => (isAsideName(name) ? (local.base?.name ?? remote.base?.name ?? name) : name);
  const fallback: Spot = { parent: found.parent, name: unaside(found.name) };
  const parentFrom = (side: SideView): Item | undefined => (side.now && side.base && side.now.parent !== side.base.parent ? side.now.parent : undefined);
  const nameFrom = (side: SideView): string | undefined =>
    side.now && side.base && pathKey(side.now.name) !== pathKey(side.base.name) && !isAsideName(side.now.name) ? side.now.name : undefined;
  return {
    parent: parentFrom(local) ?? parentFrom(remote) ?? fallback.parent,
    name: nameFrom(local) ?? nameFrom(remote) ?? fallback.name,
  };
}

/**
 * Moves on both sides can form a loop (A into B on one side, B into A on the other). A loop is
 * broken at one item, the first that can go back to where it is locally (the local tree has no
 * loops), else to where it is on the server, else to the root; the others keep their place.
 */
function breakCycles(views: readonly ItemView[], parent: (Item | undefined)[], root: Item): void {
  const state = new Uint8Array(views.length); // 0 unvisited, 1 on the current walk, 2 reaches the root
  state[root.index] = 2;
  const loops = (from: number): boolean => {
    const seen = new Set<number>();
    for (let current = from; current !== root.index; current = parent[current]?.index ?? root.index) {
      if (seen.has(current)) return true;
      seen.add(current);
    }
    return false;
  };
  for (const view of views) {
    const walk: number[] = [];
    let current = view.item.index;
    while (state[current] === 0) {
      state[current] = 1;
      walk.push(current);
      current = parent[current]?.index ?? root.index;
    }
    if (state[current] === 1) {
      const loop = walk.slice(walk.indexOf(current));
      const start = loop[0] ?? root.index;
      const choices = [(v: ItemView) => v.local.now?.parent, (v: ItemView) => v.remote.now?.parent, () => root];
      broken: for (const choose of choices) {
        for (const index of loop) {
          const view = views[index];
          const candidate = view && choose(view);
          if (!candidate || candidate === parent[index]) continue;
          const before = parent[index];
          parent[index] = candidate;
          if (!loops(start) && !loops(index)) break broken;
          parent[index] = before;
        }
      }
    }
    for (const index of walk) state[index] = 2;
  }
}

/** The names of each side's ignored entries, by the folder that holds them. */
type IgnoredNames = Record<Side, ReadonlyMap<Item, readonly string[]>>;

function ignoredNames(input: PlanInput, matched: MatchedItems): IgnoredNames {
  const byFolder = (paths: readonly string[], lookup: ReadonlyMap<string, Item>): Map<Item, string[]> => {
    const names = new Map<Item, string[]>();
    for (const path of paths) {
      const dir = parentOf(path);
      const owner = dir === '' ? matched.root : lookup.get(pathKey(dir));
      if (!owner) continue;
      const list = names.get(owner);
      if (list) list.push(baseName(path));
      else names.set(owner, [baseName(path)]);
    }
    return names;
  };
  return { local: byFolder(input.local.ignored, matched.byLocalKey), remote: byFolder(input.remote.ignored, matched.byRemoteKey) };
}

/**
 * Skips entries whose name one side cannot take: a name it does not allow, or one an ignored
 * entry holds there (a local folder `build` left out by the rule `build/` beside a server file
 * `build`), which no transfer or move could be written over.
 */
function skipUnavailableNames(
  views: readonly ItemView[],
  fate: readonly Fate[],
  parent: readonly (Item | undefined)[],
  resolved: { readonly local: readonly (string | undefined)[]; readonly remote: readonly (string | undefined)[] },
  ignored: IgnoredNames,
  options: PlanOptions,
  skip: (item: Item, side: Side, reason: string) => void,
): void {
  const heldByIgnored = (side: Side, folder: Item | undefined, name: string): boolean => {
    const key = side === 'local' && options.localCaseInsensitive ? foldKey : pathKey;
    return folder !== undefined && (ignored[side].get(folder)?.some((held) => key(held) === key(name)) ?? false);
  };
  for (const view of views) {
    const i = view.item.index;
    const remoteName = resolved.remote[i];
    const localName = resolved.local[i];
    if (fate[i] !== 'keep' || remoteName === undefined || localName === undefined) continue;
    // A name only has to be legal where the item is created or renamed.
    const remoteProblem = view.remote.now && pathKey(view.remote.now.name) === pathKey(remoteName) ? undefined : options.remoteNameProblem(remoteName);
    const localProblem = view.local.now && pathKey(view.local.now.name) === pathKey(localName) ? undefined : options.localNameProblem(localName);
    if (remoteProblem !== undefined) skip(view.item, 'local', `name not allowed on the server: ${remoteProblem}; rename it to sync it`);
    else if (localProblem !== undefined) skip(view.item, 'remote', `name not allowed on this filesystem: ${localProblem}; rename it on the server to sync it`);
    else if (heldByIgnored('remote', parent[i], remoteName)) skip(view.item, 'local', 'the server has an entry of that name which the ignore rules leave out');
    else if (heldByIgnored('local', parent[i], localName)) skip(view.item, 'remote', 'the local folder has an entry of that name which the ignore rules leave out');
  }
}

/**
 * The side on which a synced file became empty while its modification time stayed as synced,
 * the other side still holding what was synced: it was cut short (an application or a disk
 * failing, a crash), not edited empty, which comes with a new time. Its emptiness is never
 * carried over the other side's content: two-way, the other side's copy is brought back (the
 * empty file goes to a trash); one-way, it is left alone and reported.
 */
function truncatedSide(view: ItemView): Side | undefined {
  const { item } = view;
  const { base } = item;
  if (item.kind !== 'file' || base === undefined || base.size === 0) return undefined;
  if (item.remote && !view.remote.changed && item.local?.size === 0 && item.local.mtimeMs === base.localMtimeMs) return 'local';
  if (item.local && !view.local.changed && item.remote?.size === 0 && item.remote.modifiedMs === base.remote?.modifiedMs) return 'remote';
  return undefined;
}

/** In a one-way mode, a file cut short on the side that is sent (see `truncatedSide`). */
function skipTruncated(views: readonly ItemView[], fate: readonly Fate[], source: Side | undefined, skip: (item: Item, side: Side, reason: string) => void): void {
  if (source === undefined) return;
  for (const view of views) {
    if (fate[view.item.index] !== 'keep' || truncatedSide(view) !== source) continue;
    skip(
      view.item,
      source,
      source === 'local'
        ? 'became empty with its modification time unchanged (cut short?); not sent over the server\'s copy'
        : 'became empty on the server with its date unchanged (cut short?); not brought over the local copy',
    );
  }
}

/**
 * A folder stays while anything below it stays: a kept child through its target parent, a
 * frozen or skipped one through wherever it is now, on the server (when deletes do not go to a
 * trash) ignored entries and those the scan skipped or could not see, which a folder delete
 * would destroy, locally the same but droppings (the local trash would keep them only for a
 * while) and the state directory. A dropped folder that must stay is kept, or
 * in a one-way mode frozen when the source side no longer has it. A frozen folder that
 * receives a kept child is kept: the written side needs it again; but one the scan could not see
 * freezes what would be written below it instead.
 */
function retainAncestors(
  input: PlanInput,
  matched: MatchedItems,
  views: readonly ItemView[],
  fate: Fate[],
  parent: readonly (Item | undefined)[],
  options: PlanOptions,
  source: Side | undefined,
): void {
  const { root } = matched;
  const onSource = (view: ItemView): boolean => source === undefined || (source === 'local' ? view.local.now : view.remote.now) !== undefined;
  const walked = { kept: new Set<Item>(), other: new Set<Item>() };
  const retain = (start: Item | undefined, forKept: boolean): void => {
    const seen = forKept ? walked.kept : walked.other;
    for (let item = start; item !== undefined && item !== root && !seen.has(item); ) {
      seen.add(item);
      const i = item.index;
      const view = views[i];
      if (!view) return;
      if (fate[i] === 'drop' || (forKept && fate[i] === 'frozen' && onSource(view))) fate[i] = onSource(view) ? 'keep' : 'frozen';
      if (fate[i] === 'keep') {
        item = parent[i];
      } else {
        retain(view.local.now?.parent, false);
        item = view.remote.now?.parent;
        forKept = false;
      }
    }
  };
  // Below what a scan could not see (a link where a synced folder was, a folder it could not
  // read) nothing is written: a new entry there would land wherever the link leads. It waits,
  // as the folder does, until the path can be seen again.
  const unseen = (item: Item): boolean => item.local?.unseen === true || item.remote?.unseen === true;
  for (const view of views) {
    const i = view.item.index;
    if (view.item === root || fate[i] !== 'keep') continue;
    for (let above = parent[i]; above !== undefined && above !== root; above = parent[above.index]) {
      if (unseen(above)) {
        fate[i] = 'frozen';
        break;
      }
    }
  }
  for (const view of views) {
    if (view.item !== root && fate[view.item.index] === 'keep') retain(parent[view.item.index], true);
  }
  for (const view of views) {
    const i = view.item.index;
    if (view.item !== root && (fate[i] === 'frozen' || fate[i] === 'skipped')) {
      retain(view.local.now?.parent, false);
      retain(view.remote.now?.parent, false);
    }
  }
  const retainParent = (paths: readonly RelPath[], byKey: ReadonlyMap<string, Item>): void => {
    for (const path of paths) {
      const dir = parentOf(path);
      if (dir !== '') retain(byKey.get(pathKey(dir)), false);
    }
  };
  if (!options.remoteTrash) retainParent([...input.remote.ignored, ...input.remote.unknown], matched.byRemoteKey);
  const { localDropping } = options;
  const localHeld = localDropping === undefined ? input.local.ignored : input.local.ignored.filter((path) => !localDropping(baseName(path)));
  retainParent([...localHeld, ...input.local.unknown], matched.byLocalKey);
  // The nearest folder above it that the plan knows: those between may be ignored themselves.
  for (let dir = options.localStateDir === undefined ? '' : parentOf(options.localStateDir); dir !== ''; dir = parentOf(dir)) {
    const item = matched.byLocalKey.get(pathKey(dir));
    if (item) {
      retain(item, false);
      break;
    }
  }
}

/** Keeps the spelling a side already uses when it is the same name (NFC and NFD alike). */
function spelledFor(side: SideView, name: string): string {
  return side.now && pathKey(side.now.name) === pathKey(name) ? side.now.name : name;
}

/**
 * Names already used, or about to be, in each folder of the target tree, on either side and by
 * ignored entries; conflict copies and renamed collision losers get names outside this set.
 */
class TakenNames {
  readonly #byParent = new Map<Item, Set<string>>();

  constructor(views: readonly ItemView[], fate: readonly Fate[], parent: readonly (Item | undefined)[], name: Target['name'], ignored: IgnoredNames) {
    for (const view of views) {
      const i = view.item.index;
      const target = parent[i];
      if (fate[i] === 'keep' && target) {
        this.add(target, name.local[i] ?? '');
        this.add(target, name.remote[i] ?? '');
      }
      if (view.local.now) this.add(view.local.now.parent, view.local.now.name);
      if (view.remote.now) this.add(view.remote.now.parent, view.remote.now.name);
    }
    for (const side of ['local', 'remote'] as const) {
      for (const [folder, names] of ignored[side]) for (const held of names) this.add(folder, held);
    }
  }

  add(parent: Item, name: string): void {
    let names = this.#byParent.get(parent);
    if (!names) this.#byParent.set(parent, (names = new Set()));
    names.add(foldKey(name));
  }

  has(parent: Item, name: string): boolean {
    return this.#byParent.get(parent)?.has(foldKey(name)) ?? false;
  }

  /** A conflict name for `name` in `parent`, reserved at once. */
  reserve(parent: Item, name: string, stamp: string): string {
    const chosen = conflictName(name, stamp, (candidate) => this.has(parent, candidate));
    this.add(parent, chosen);
    return chosen;
  }
}

function slotKey(name: string, caseInsensitive: boolean): string {
  return caseInsensitive ? foldKey(name) : pathKey(name);
}

/**
 * Two kept items may land on one name: a rename onto a name created on the other side, two
 * names that differ only in case on a case-insensitive disk, or a file and a folder of one name
 * (the server allows that; a disk does not). The item already there locally keeps the name.
 * Same-named items of one kind keep both: the others are renamed to conflict names, and so is
 * a file in the way of a folder (the server cannot create the folder next to it). Otherwise an
 * item that exists only on the server is skipped and reported, never renamed.
 */
function resolveCollisions(
  side: Side,
  views: readonly ItemView[],
  fate: Fate[],
  parent: readonly (Item | undefined)[],
  name: { local: (string | undefined)[]; remote: (string | undefined)[] },
  options: PlanOptions,
  source: Side | undefined,
  taken: TakenNames,
  skip: (item: Item, side: Side, reason: string) => void,
): void {
  const names = side === 'local' ? name.local : name.remote;
  const caseInsensitive = side === 'local' && options.localCaseInsensitive;
  // Files and folders share names on the server, but a folder cannot be created next to a
  // same-named file; group them together and sort that out per pair below.
  const slot = (spot: Spot): string => `${spot.parent.index}/${slotKey(spot.name, caseInsensitive)}`;
  const present = (view: ItemView): boolean => (side === 'local' ? view.local.now : view.remote.now) !== undefined;

  const groups = new Map<string, ItemView[]>();
  for (const view of views) {
    const i = view.item.index;
    const p = parent[i];
    const n = names[i];
    let spot: Spot | undefined;
    if (fate[i] === 'keep' && p && n !== undefined) spot = { parent: p, name: n };
    else if (fate[i] === 'frozen' || fate[i] === 'skipped') spot = side === 'local' ? view.local.now : view.remote.now;
    if (!spot) continue;
    const key = slot(spot);
    const group = groups.get(key);
    if (group) group.push(view);
    else groups.set(key, [view]);
  }

  for (const group of groups.values()) {
    if (group.length < 2) continue;
    const here = (view: ItemView): boolean => {
      const now = side === 'local' ? view.local.now : view.remote.now;
      const i = view.item.index;
      return now !== undefined && now.parent === parent[i] && pathKey(now.name) === pathKey(names[i] ?? '');
    };
    const rank = (view: ItemView): number => {
      const i = view.item.index;
      if (fate[i] !== 'keep') return 0;
      if (view.local.now && here(view)) return 1;
      if (view.remote.now && here(view)) return 2;
      if (view.item.base) return 3;
      return 4;
    };
    // Code-point order, not the locale's: the same inputs must give the same winner everywhere.
    const byName = (a: ItemView, b: ItemView): number => {
      const [x, y] = [names[a.item.index] ?? '', names[b.item.index] ?? ''];
      return x < y ? -1 : x > y ? 1 : 0;
    };
    const ordered = [...group].sort((a, b) => rank(a) - rank(b) || byName(a, b) || a.item.index - b.item.index);
    const [first, ...rest] = ordered;
    if (!first) continue;
    // Files and folders may share a name on the server, except that a folder cannot be created
    // next to a file; on a disk nothing shares a name.
    const clashes = (holder: ItemView, newcomer: ItemView): boolean => {
      if (side === 'local' || holder.item.kind === newcomer.item.kind) return true;
      return newcomer.item.kind === 'dir' ? !present(newcomer) : !present(holder);
    };
    const holders: ItemView[] = [first];
    for (const newcomer of rest) {
      const i = newcomer.item.index;
      const holder = holders.find((h) => clashes(h, newcomer));
      if (!holder || fate[i] !== 'keep') {
        holders.push(newcomer);
        continue;
      }
      const holderName = names[holder.item.index] ?? '';
      const sameName = pathKey(names[i] ?? '') === pathKey(holderName);
      // A same-named entry of the same kind, or a file where a folder must go, makes room under
      // a conflict name; a name that only folds to the same case cannot be renamed into shape.
      const mustRename = sameName && (holder.item.kind === newcomer.item.kind || newcomer.item.kind === 'file' || side === 'remote');
      const remoteOnly = newcomer.item.base === undefined && newcomer.local.now === undefined;
      if (!mustRename && (remoteOnly || source !== undefined)) {
        skip(newcomer.item, 'remote', `name collides with "${holderName}" on the local filesystem`);
        continue;
      }
      const p = parent[i];
      if (!p) continue;
      const stamp = options.conflictStamp(newcomer.item.local?.mtimeMs ?? newcomer.item.remote?.modifiedMs ?? 0);
      const renamed = taken.reserve(p, names[i] ?? '', stamp);
      if (source === undefined) {
        name.local[i] = renamed;
        name.remote[i] = renamed;
      } else {
        names[i] = renamed;
      }
    }
  }
}

/** Below a skipped folder nothing can be created on the side that lacks it. */
function skipBelowSkipped(
  views: readonly ItemView[],
  fate: Fate[],
  parent: readonly (Item | undefined)[],
  root: Item,
  skip: (item: Item, side: Side, reason: string) => void,
): void {
  const blocked = (item: Item | undefined): boolean => {
    for (let p = item; p !== undefined && p !== root; p = parent[p.index]) {
      if (fate[p.index] === 'skipped') return true;
      if (fate[p.index] !== 'keep') return false;
    }
    return false;
  };
  for (const view of views) {
    const i = view.item.index;
    if (fate[i] === 'keep' && blocked(parent[i])) skip(view.item, view.local.now ? 'local' : 'remote', 'its folder is skipped');
  }
}

function contentFlow(view: ItemView, options: PlanOptions, source: Side | undefined, copyName: () => string): ContentFlow {
  const flow = twoWayFlow(view, options, source, copyName);
  // A one-way mode moves content towards the written side only; the other keeps its version.
  if ((source === 'local' && flow.kind === 'download') || (source === 'remote' && flow.kind === 'upload')) return none;
  return flow;
}

function twoWayFlow(view: ItemView, options: PlanOptions, source: Side | undefined, copyName: () => string): ContentFlow {
  const { item, local, remote } = view;
  if (local.now && !remote.now) return { kind: 'upload', replace: false };
  if (!local.now && remote.now) return { kind: 'download', replace: false };
  if (!local.now || !remote.now) return none;
  const bothChanged = item.base === undefined || (local.changed && remote.changed);
  if (!bothChanged) {
    const truncated = truncatedSide(view);
    if (local.changed) return truncated === 'local' ? { kind: 'download', replace: true } : { kind: 'upload', replace: true };
    if (remote.changed) return truncated === 'remote' ? { kind: 'upload', replace: true } : { kind: 'download', replace: true };
    return none;
  }
  return { kind: 'conflict', resolution: resolution(view, options, source), copyName: copyName() };
}

function resolution(view: ItemView, options: PlanOptions, source: Side | undefined): ConflictResolution {
  if (view.item.detached) return 'keep-both';
  let chosen: ConflictResolution;
  switch (options.conflictPolicy) {
    case 'keep-both':
      chosen = 'keep-both';
      break;
    case 'local':
      chosen = 'local-wins';
      break;
    case 'remote':
      chosen = 'remote-wins';
      break;
    case 'newer': {
      const localTime = view.item.local?.mtimeMs ?? 0;
      const remoteTime = view.item.remote?.modifiedMs ?? 0;
      chosen = localTime === remoteTime ? 'keep-both' : localTime > remoteTime ? 'local-wins' : 'remote-wins';
      break;
    }
  }
  // Cloudreve dates a file it moves anew: a server version moved elsewhere with its size unchanged
  // may be no edit at all, and letting it win would trash the only real change, the local edit.
  if (chosen === 'remote-wins' && movedAsItWas(view)) return 'keep-both';
  // A one-way mode never lets the protected side lose: its version is kept as a copy instead.
  if ((source === 'local' && chosen === 'remote-wins') || (source === 'remote' && chosen === 'local-wins')) return 'keep-both';
  return chosen;
}

/** Whether the server's version moved, as the same object, and kept the size the Synced tree has. */
function movedAsItWas(view: ItemView): boolean {
  const { base, remote } = view.item;
  return view.remote.moved && base !== undefined && remote !== undefined && remote.size === base.size && (base.remote === undefined || base.remote.id === remote.id);
}

/** The conflict copy is the local version, except in upload-only mode where it is the remote one. */
function conflictCopyName(view: ItemView, parent: Item, name: string, options: PlanOptions, source: Side | undefined, taken: TakenNames): string {
  const copied = source === 'local' ? view.item.remote?.modifiedMs : view.item.local?.mtimeMs;
  return taken.reserve(parent, name, options.conflictStamp(copied ?? 0));
}

function pathOn(item: Item, side: Side): string {
  return (side === 'local' ? (item.local?.path ?? item.remote?.path) : (item.remote?.path ?? item.local?.path)) ?? baseName(item.base?.localPath ?? '');
}
