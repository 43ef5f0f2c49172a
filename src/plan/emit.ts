import { foldKey, joinPath, pathKey } from '../tree/paths.js';
import { rootRow, type EntryKind, type RelPath, type Side } from '../tree/types.js';
import type { ItemView } from './analyze.js';
import type { Item, MatchedItems } from './items.js';
import { sourceOf, type Target } from './target.js';
import { asideName } from './names.js';
import type { Action, LocalFacts, NodeRef, Placement, PlanOptions, RemoteFacts, RowWrite, ScannedLocal, ScannedRemote, Stage } from './types.js';

export interface Emitted {
  readonly actions: Action[];
  /** Files each side loses, counting the contents of deleted folders. */
  readonly deletes: { local: number; remote: number };
}

const sides: readonly Side[] = ['local', 'remote'];

/** The server tells files and folders apart: a folder holds a name once per kind. */
function remoteSlot(kind: EntryKind, name: string): string {
  return `${kind}:${pathKey(name)}`;
}

/** An action before it gets its position in the plan. */
type Unnumbered<A> = A extends unknown ? Omit<A, 'id'> : never;

/**
 * One side's folder structure as the plan changes it: the actions are emitted in an order in
 * which applying them one by one is valid, and every path is computed against this model.
 */
class SideModel {
  readonly parent: (Item | undefined)[];
  readonly name: (string | undefined)[];
  readonly #children = new Map<Item, Map<string, Item>>();
  /** The last action that moved or created each item on this side. */
  readonly placedBy: (number | undefined)[];
  /** Per folder and slot, the last move that took an item out of it: what enters must wait for it. */
  readonly #freedBy = new Map<Item, Map<string, number>>();

  constructor(
    readonly side: Side,
    views: readonly ItemView[],
    private readonly caseInsensitive: boolean,
  ) {
    this.parent = new Array<Item | undefined>(views.length);
    this.name = new Array<string | undefined>(views.length);
    this.placedBy = new Array<number | undefined>(views.length);
    for (const view of views) {
      const now = side === 'local' ? view.local.now : view.remote.now;
      if (now) this.place(view.item, now.parent, now.name);
    }
  }

  present(item: Item): boolean {
    return this.parent[item.index] !== undefined;
  }

  /** The key under which a folder holds a name: the server tells files and folders apart. */
  slot(item: Item, name: string): string {
    if (this.side === 'remote') return remoteSlot(item.kind, name);
    return this.caseInsensitive ? foldKey(name) : pathKey(name);
  }

  fileNamed(parent: Item, name: string): Item | undefined {
    return this.#children.get(parent)?.get(remoteSlot('file', name));
  }

  /** Notes that `action` moved `item` out of where it is now. */
  leaving(item: Item, action: number): void {
    const parent = this.parent[item.index];
    const name = this.name[item.index];
    if (parent === undefined || name === undefined) return;
    let slots = this.#freedBy.get(parent);
    if (!slots) this.#freedBy.set(parent, (slots = new Map<string, number>()));
    slots.set(this.slot(item, name), action);
  }

  /** The move that last took what `item` would be named `name` as out of `parent`, if any. */
  freedFor(parent: Item, item: Item, name: string): number | undefined {
    return this.#freedBy.get(parent)?.get(this.slot(item, name));
  }

  /** The move that last took a file named `name` out of `parent` on the server, if any. */
  freedOfFile(parent: Item, name: string): number | undefined {
    return this.#freedBy.get(parent)?.get(remoteSlot('file', name));
  }

  occupant(parent: Item, item: Item, name: string): Item | undefined {
    const found = this.#children.get(parent)?.get(this.slot(item, name));
    return found === item ? undefined : found;
  }

  place(item: Item, parent: Item, name: string): void {
    this.remove(item);
    this.parent[item.index] = parent;
    this.name[item.index] = name;
    let children = this.#children.get(parent);
    if (!children) this.#children.set(parent, (children = new Map<string, Item>()));
    children.set(this.slot(item, name), item);
  }

  remove(item: Item): void {
    const parent = this.parent[item.index];
    const name = this.name[item.index];
    if (parent === undefined || name === undefined) return;
    const children = this.#children.get(parent);
    if (children?.get(this.slot(item, name)) === item) children.delete(this.slot(item, name));
    this.parent[item.index] = undefined;
    this.name[item.index] = undefined;
  }

  path(item: Item, root: Item): RelPath {
    const names: string[] = [];
    for (let current: Item | undefined = item; current !== undefined && current !== root; current = this.parent[current.index]) {
      names.push(this.name[current.index] ?? '');
    }
    return names.reverse().join('/');
  }

  /** `item` and everything this side holds below it. */
  subtree(item: Item): Item[] {
    const result: Item[] = [];
    const stack = [item];
    for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
      result.push(next);
      stack.push(...(this.#children.get(next)?.values() ?? []));
    }
    return result;
  }

  /** The items between `item` and the root (exclusive of both). */
  ancestors(item: Item, root: Item): Item[] {
    const result: Item[] = [];
    for (let current = this.parent[item.index]; current !== undefined && current !== root; current = this.parent[current.index]) {
      result.push(current);
    }
    return result;
  }
}

export function emitActions(matched: MatchedItems, views: readonly ItemView[], target: Target, options: PlanOptions): Emitted {
  const { items, root } = matched;
  const { fate, parent: targetParent, name: targetName, flow } = target;
  const actions: Action[] = [];
  const models = { local: new SideModel('local', views, options.localCaseInsensitive), remote: new SideModel('remote', views, false) };
  const deletes = { local: 0, remote: 0 };
  /** The action that writes each item's row, for items whose row does not exist yet. */
  const rowAction = new Map<Item, number>();
  const rowWritten = new Set<Item>();
  /** A row naming a parent that is new in this plan must wait for that parent's own row. */
  const parentRow = (parent: Item): number | undefined => (parent.base || parent === root ? undefined : rowAction.get(parent));
  const movedOnSide = { local: new Set<Item>(), remote: new Set<Item>() };

  const add = (action: Unnumbered<Action>): number => {
    const id = actions.length;
    actions.push({ ...action, id });
    return id;
  };
  const ref = (item: Item): NodeRef => (item === root ? { row: rootRow } : item.base ? { row: item.base.id } : { fresh: item.index });
  const retained = (item: Item): boolean => fate[item.index] !== 'drop';
  const nameOn = (side: Side, item: Item): string => (side === 'local' ? targetName.local[item.index] : targetName.remote[item.index]) ?? '';
  const placementOf = (side: Side, item: Item): Placement => ({ parent: ref(targetParent[item.index] ?? root), name: nameOn(side, item) });
  const localFacts = (item: Item): LocalFacts | undefined => (item.local ? { size: item.local.size, mtimeMs: item.local.mtimeMs, inode: item.local.inode } : undefined);
  const remoteFacts = (item: Item): RemoteFacts | undefined =>
    item.remote ? { id: item.remote.id, size: item.remote.size, modifiedMs: item.remote.modifiedMs } : undefined;
  const rowOf = (item: Item, facts: RemoteFacts | undefined): RowWrite => ({
    node: ref(item),
    kind: item.kind,
    local: placementOf('local', item),
    remote: placementOf('remote', item),
    ...(facts === undefined ? {} : { remoteFacts: facts }),
    ...(facts === undefined && item.remote ? { remoteId: item.remote.id } : {}),
  });
  const dependencies = (...ids: (number | undefined)[]): number[] => [...new Set(ids.filter((id): id is number => id !== undefined))];
  const ancestorMoves = (model: SideModel, item: Item): (number | undefined)[] => model.ancestors(item, root).map((a) => model.placedBy[a.index]);

  /** Writes the row of a kept item both sides hold when no other action does and it is stale. */
  const record = (view: ItemView | undefined, stage: Stage): void => {
    if (!view) return;
    const { item } = view;
    if (item === root || fate[item.index] !== 'keep' || rowWritten.has(item) || !item.local || !item.remote) return;
    if (!needsRecord(view, movedOnSide.local.has(item), movedOnSide.remote.has(item))) return;
    const parent = targetParent[item.index] ?? root;
    const local = localFacts(item);
    if (!local) return;
    rowWritten.add(item);
    rowAction.set(
      item,
      add({
        type: 'record',
        stage,
        after: dependencies(models.local.placedBy[item.index], models.remote.placedBy[item.index], parentRow(parent)),
        localPath: joinPath(models.local.path(parent, root), nameOn('local', item)),
        local,
        row: rowOf(item, remoteFacts(item)),
      }),
    );
  };

  // Files each dropped item takes with it on each side, for the mass-delete guard.
  const droppedFiles = { local: new Map<Item, number>(), remote: new Map<Item, number>() };
  for (const side of sides) {
    const model = models[side];
    for (const item of items) {
      if (item.kind !== 'file' || fate[item.index] !== 'drop' || !model.present(item)) continue;
      for (let current: Item | undefined = item; current !== undefined && current !== root; current = model.parent[current.index]) {
        droppedFiles[side].set(current, (droppedFiles[side].get(current) ?? 0) + 1);
      }
    }
  }
  // Whether each item has something below it on a side that must survive.
  const holdsRetained = { local: new Set<Item>(), remote: new Set<Item>() };
  for (const side of sides) {
    const model = models[side];
    for (const item of items) {
      if (item === root || !retained(item) || !model.present(item)) continue;
      for (const ancestor of model.ancestors(item, root)) {
        if (holdsRetained[side].has(ancestor)) break;
        holdsRetained[side].add(ancestor);
      }
    }
  }

  // Synced rows leave with their entry, but never rows of entries that are kept.
  const baseChildren = { local: new Map<Item, Item[]>(), remote: new Map<Item, Item[]>() };
  for (const view of views) {
    for (const side of sides) {
      const baseParent = side === 'local' ? view.local.base?.parent : view.remote.base?.parent;
      if (!baseParent) continue;
      const list = baseChildren[side].get(baseParent);
      if (list) list.push(view.item);
      else baseChildren[side].set(baseParent, [view.item]);
    }
  }
  // A one-way mode keeps what the source deleted but the other side changed; that entry is no
  // longer a pair, and a new file at the old path on the source must not be taken for it.
  const source = sourceOf(options.mode);
  const unpaired = (item: Item): boolean => source !== undefined && fate[item.index] === 'frozen' && (source === 'local' ? item.local : item.remote) === undefined;
  const rowsLeft = new Set(items.filter((item) => item.base && (fate[item.index] === 'drop' || unpaired(item))));
  const rowsGoingWith = (side: Side, item: Item): number[] => {
    const rows: number[] = [];
    const stack = [item];
    for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
      if (!rowsLeft.delete(next)) continue;
      if (next.base) rows.push(next.base.id);
      stack.push(...(baseChildren[side].get(next) ?? []));
    }
    return rows;
  };

  /** `item` and everything below it on `side`, as the scans saw them. */
  const scannedBelow = <T>(side: Side, item: Item, seen: (below: Item) => T | undefined): T[] =>
    models[side].subtree(item).flatMap((below) => {
      const facts = seen(below);
      return facts === undefined ? [] : [facts];
    });
  const scannedRemote = (below: Item): ScannedRemote | undefined => {
    const facts = remoteFacts(below);
    return facts && { kind: below.kind, ...facts };
  };
  const scannedLocal = (below: Item): ScannedLocal | undefined => {
    const facts = localFacts(below);
    return facts && { path: models.local.path(below, root), kind: below.kind, ...facts };
  };
  const emitDelete = (side: Side, item: Item, stage: Stage, after: number[]): void => {
    const model = models[side];
    const facts = side === 'local' && item.kind === 'file' ? localFacts(item) : undefined;
    add({
      type: 'delete',
      stage,
      after,
      side,
      kind: item.kind,
      path: model.path(item, root),
      ...(side === 'remote' && item.remote ? { remoteId: item.remote.id, remote: scannedBelow('remote', item, scannedRemote) } : {}),
      ...(facts ? { local: facts } : {}),
      ...(side === 'local' && item.kind === 'dir' ? { localTree: scannedBelow('local', item, scannedLocal) } : {}),
      rows: rowsGoingWith(side, item),
    });
    deletes[side] += droppedFiles[side].get(item) ?? 0;
    model.remove(item);
  };

  // Stage 1: deletions with nothing to rescue below them; they also free names for stage 2.
  // What lies in a deleted folder that must wait for something to move out goes with that
  // folder in stage 3: deleted on its own first, it would take the folder's path in the
  // remote trash before the folder itself comes.
  for (const side of sides) {
    const model = models[side];
    const topmost = items.filter((item) => {
      if (fate[item.index] !== 'drop' || !model.present(item) || holdsRetained[side].has(item)) return false;
      const up = model.parent[item.index];
      return up === undefined || up === root || fate[up.index] !== 'drop';
    });
    for (const item of topmost) emitDelete(side, item, 1, []);
  }

  // Stage 2: folders and moves, shallow first, so every parent is in place before its children.
  const moveOutOf = { local: new Map<Item, number[]>(), remote: new Map<Item, number[]>() };
  /** The row to write when this plan completes an entry that has none yet. */
  const completingRow = (item: Item): RowWrite | undefined => {
    if (item.base || rowWritten.has(item)) return undefined;
    rowWritten.add(item);
    rowAction.set(item, actions.length);
    return rowOf(item, movedOnSide.remote.has(item) ? undefined : remoteFacts(item));
  };
  const emitMove = (side: Side, item: Item, to: Item, name: string, after: (number | undefined)[], other: Placement | undefined): void => {
    const model = models[side];
    const from = model.path(item, root);
    for (const ancestor of model.ancestors(item, root)) {
      if (fate[ancestor.index] === 'drop') {
        const list = moveOutOf[side].get(ancestor) ?? [];
        list.push(actions.length);
        moveOutOf[side].set(ancestor, list);
      }
    }
    // An entry moved aside earlier in the plan (to free its name) moves on only once it is there:
    // two renames of one object at once could end in either name.
    const dependsOn = dependencies(...after, model.placedBy[item.index], ...ancestorMoves(model, item), parentRow(to));
    // The move is the next action added, below: whatever takes the name it leaves waits for it.
    model.leaving(item, actions.length);
    model.place(item, to, name);
    const movedRemote = side === 'local' && item.remote && views[item.index]?.remote.moved ? remoteFacts(item) : undefined;
    movedOnSide[side].add(item);
    const row = other ? completingRow(item) : undefined;
    const local = row ? localFacts(item) : undefined;
    model.placedBy[item.index] = add({
      type: 'move',
      stage: 2,
      after: dependsOn,
      side,
      kind: item.kind,
      from,
      to: model.path(item, root),
      ...(side === 'remote' && item.remote ? { remoteId: item.remote.id } : {}),
      node: ref(item),
      placement: { parent: ref(to), name },
      ...(other ? { other } : {}),
      ...(movedRemote ? { remoteFacts: movedRemote } : {}),
      ...(row ? { row } : {}),
      ...(local ? { local } : {}),
    });
  };
  /** Moves whatever holds `name` in `parent` aside, to be moved on or deleted later. */
  const vacate = (side: Side, parent: Item, item: Item, name: string): number | undefined => {
    const model = models[side];
    const occupant = model.occupant(parent, item, name);
    if (!occupant) return model.freedFor(parent, item, name);
    const aside = asideName(model.name[occupant.index] ?? '', occupant.index);
    emitMove(side, occupant, parent, aside, [model.placedBy[parent.index]], undefined);
    return model.placedBy[occupant.index];
  };
  /** The server refuses to create a folder next to a same-named file. */
  const vacateForMkdir = (side: Side, parent: Item, item: Item, name: string): (number | undefined)[] => {
    const freed = [vacate(side, parent, item, name)];
    if (side === 'remote') {
      const file = models.remote.fileNamed(parent, name);
      if (file && file !== item) {
        emitMove(side, file, parent, asideName(models.remote.name[file.index] ?? '', file.index), [models.remote.placedBy[parent.index]], undefined);
        freed.push(models.remote.placedBy[file.index]);
      } else {
        freed.push(models.remote.freedOfFile(parent, name));
      }
    }
    return freed;
  };

  const targetChildren = new Map<Item, Item[]>();
  for (const item of items) {
    const p = targetParent[item.index];
    if (item === root || fate[item.index] !== 'keep' || !p) continue;
    const list = targetChildren.get(p);
    if (list) list.push(item);
    else targetChildren.set(p, [item]);
  }
  const queue: Item[] = [root];
  for (let head = 0; head < queue.length; head++) {
    const parent = queue[head] ?? root;
    for (const item of targetChildren.get(parent) ?? []) {
      queue.push(item);
      // Moves first, creation last: the action that completes an entry writes its row.
      const order = models.local.present(item) ? sides : (['remote', 'local'] as const);
      for (const side of order) {
        const model = models[side];
        const other = side === 'local' ? models.remote : models.local;
        const name = nameOn(side, item);
        const atTarget = (m: SideModel, n: string): boolean => m.parent[item.index] === parent && pathKey(m.name[item.index] ?? '') === pathKey(n);
        if (model.present(item)) {
          if (atTarget(model, name)) continue;
          const freed = vacate(side, parent, item, name);
          const otherSide = other.side;
          const otherPlacement = other.present(item) && atTarget(other, nameOn(otherSide, item)) ? placementOf(otherSide, item) : undefined;
          // Recording where the other side holds it needs that side's move of it, if any, done.
          emitMove(side, item, parent, name, [model.placedBy[parent.index], freed, otherPlacement ? other.placedBy[item.index] : undefined], otherPlacement);
        } else if (item.kind === 'dir') {
          const freed = vacateForMkdir(side, parent, item, name);
          const path = joinPath(model.path(parent, root), name);
          model.place(item, parent, name);
          // The row can be written once the folder exists on both sides.
          const complete = other.present(item) && atTarget(other, nameOn(other.side, item)) && !rowWritten.has(item);
          const ownLocal = localFacts(item);
          if (complete) {
            rowWritten.add(item);
            rowAction.set(item, actions.length);
          }
          model.placedBy[item.index] = add({
            type: 'mkdir',
            stage: 2,
            after: dependencies(model.placedBy[parent.index], ...freed, complete ? other.placedBy[item.index] : undefined, complete ? parentRow(parent) : undefined),
            side,
            path,
            ...(complete ? { row: rowOf(item, movedOnSide.remote.has(item) ? undefined : remoteFacts(item)) } : {}),
            ...(side === 'remote' && ownLocal ? { local: ownLocal } : {}),
          });
        }
      }
      // Folders get their rows here, before anything inside them needs one.
      if (item.kind === 'dir') record(views[item.index], 2);
    }
  }

  // Stage 3: folders that held something now moved out.
  for (const side of sides) {
    const model = models[side];
    const topmost = items.filter((item) => {
      if (fate[item.index] !== 'drop' || !model.present(item)) return false;
      const up = model.parent[item.index];
      return up === undefined || up === root || fate[up.index] !== 'drop';
    });
    for (const item of topmost) {
      const out = [...model.ancestors(item, root), item].flatMap((a) => moveOutOf[side].get(a) ?? []);
      for (const [ancestor, ids] of moveOutOf[side]) {
        if (model.ancestors(ancestor, root).includes(item)) out.push(...ids);
      }
      emitDelete(side, item, 3, dependencies(...out, ...ancestorMoves(model, item)));
    }
  }

  // Stage 4: contents.
  for (const item of items) {
    const itemFlow = flow[item.index];
    if (!itemFlow || itemFlow.kind === 'none') continue;
    const parent = targetParent[item.index] ?? root;
    const localPath = joinPath(models.local.path(parent, root), nameOn('local', item));
    const remotePath = joinPath(models.remote.path(parent, root), nameOn('remote', item));
    const after = dependencies(
      models.local.placedBy[parent.index],
      models.remote.placedBy[parent.index],
      models.local.placedBy[item.index],
      models.remote.placedBy[item.index],
      parentRow(parent),
    );
    const local = localFacts(item);
    const remote = remoteFacts(item);
    // Our own move in this plan bumps the server's date; the next listing tells the new one.
    const known = movedOnSide.remote.has(item) ? undefined : remote;
    rowWritten.add(item);
    switch (itemFlow.kind) {
      case 'upload':
        if (!local) break;
        add({
          type: 'upload',
          stage: 4,
          after,
          localPath,
          remotePath,
          local,
          ...(itemFlow.replace && remote ? { replace: remote } : {}),
          row: rowOf(item, undefined),
        });
        break;
      case 'download':
        if (!remote) break;
        add({ type: 'download', stage: 4, after, localPath, remotePath, remote, ...(itemFlow.replace && local ? { existing: local } : {}), row: rowOf(item, known) });
        break;
      case 'conflict':
        if (!local || !remote) break;
        add({
          type: 'conflict',
          stage: 4,
          after,
          resolution: itemFlow.resolution,
          mode: options.mode,
          localPath,
          remotePath,
          local,
          remote,
          conflictPath: joinPath(models.local.path(parent, root), itemFlow.copyName),
          row: rowOf(item, known),
        });
        break;
    }
  }

  // Stage 5: bookkeeping for files both sides already agree on.
  for (const view of views) if (view.item.kind === 'file') record(view, 5);
  if (rowsLeft.size > 0) add({ type: 'forget', stage: 5, after: [], rows: [...rowsLeft].map((item) => item.base?.id ?? 0) });

  return { actions, deletes };
}

/**
 * Whether the Synced row no longer describes an item that both sides hold and no action
 * rewrites (and whose contents agree): it is new on both sides; a side moved it and no move of
 * ours recorded where it is;
 * the server's facts changed and no move of ours carried them (our own remote moves leave
 * them for the next listing); or it is a new inode locally.
 */
function needsRecord(view: ItemView, movedLocally: boolean, movedRemotely: boolean): boolean {
  const { item, local, remote } = view;
  const base = item.base;
  if (!base || !item.local || !item.remote) return true;
  // Contents that differ with no transfer (a one-way mode protecting a side) are no agreement.
  if (local.changed || remote.changed) return false;
  const ours = movedLocally || movedRemotely;
  if ((local.moved || remote.moved) && !ours) return true;
  const factsCarried = movedRemotely || (movedLocally && remote.moved);
  if (!factsCarried && (base.remote === undefined || base.remote.id !== item.remote.id || base.remote.modifiedMs !== item.remote.modifiedMs)) return true;
  return base.inode !== item.local.inode || (item.kind === 'file' && base.localMtimeMs !== item.local.mtimeMs);
}

