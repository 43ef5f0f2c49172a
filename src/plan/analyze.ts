import { isUploadDate } from '../remote/upload-date.js';
import { baseName, parentOf, pathKey } from '../tree/paths.js';
import type { Side } from '../tree/types.js';
import type { Item, MatchedItems } from './items.js';

/** Where an item sits on one side: its parent item and its name as spelled there. */
export interface Spot {
  readonly parent: Item;
  readonly name: string;
}

/** What happened to one item on one side since the last sync. */
export interface SideView {
  /** Where it is now; undefined when absent on this side. */
  readonly now: Spot | undefined;
  /** Where the Synced tree last saw it; undefined for new items. */
  readonly base: Spot | undefined;
  /** Present, known before, and at another parent or under another name. */
  readonly moved: boolean;
  /** A file whose content differs from the Synced version. */
  readonly changed: boolean;
}

export interface ItemView {
  readonly item: Item;
  readonly local: SideView;
  readonly remote: SideView;
}

/**
 * Compares each item's current position and content with the Synced tree, on each side. Content
 * is judged by size and mtime locally, and by object ID, size and modification time remotely;
 * the server bumps a file's modification time when it is moved or renamed, so for a moved file
 * only ID and size count.
 */
export function analyze(matched: MatchedItems): ItemView[] {
  const { items, root, byLocalKey, byRemoteKey, byRow } = matched;
  const spotIn = (lookup: ReadonlyMap<string, Item>, path: string): Spot => {
    const parentPath = parentOf(path);
    return { parent: parentPath === '' ? root : (lookup.get(pathKey(parentPath)) ?? root), name: baseName(path) };
  };
  const baseSpot = (parentRow: number, path: string): Spot => ({ parent: byRow.get(parentRow) ?? root, name: baseName(path) });

  return items.map((item): ItemView => {
    if (item === root) {
      const still: SideView = { now: undefined, base: undefined, moved: false, changed: false };
      return { item, local: still, remote: still };
    }
    const { base } = item;
    const localNow = item.local ? spotIn(byLocalKey, item.local.path) : undefined;
    const remoteNow = item.remote ? spotIn(byRemoteKey, item.remote.path) : undefined;
    const localBase = base ? baseSpot(base.localParent, base.localPath) : undefined;
    const remoteBase = base ? baseSpot(base.remoteParent, base.remotePath) : undefined;
    const localMoved = moved(localNow, localBase);
    const remoteMoved = moved(remoteNow, remoteBase);

    let localChanged = false;
    let remoteChanged = false;
    if (base && item.kind === 'file') {
      if (item.local) localChanged = item.local.size !== base.size || item.local.mtimeMs !== base.localMtimeMs || item.localUnsure === true;
      if (item.remote) {
        const known = base.remote;
        // Cloudreve dates a file it renames or moves anew, so a new date cannot tell another
        // device's move from an edit of the same size made with it: both count as changed, and
        // the bytes are fetched again. (After this client's own move the date is unknown until
        // a listing tells it.)
        remoteChanged =
          item.remote.size !== base.size ||
          (known !== undefined && (known.id !== item.remote.id || (known.modifiedMs !== undefined && known.modifiedMs !== item.remote.modifiedMs))) ||
          (known === undefined && base.sentModifiedMs !== undefined && !isUploadDate(item.remote.modifiedMs, base.sentModifiedMs));
      }
    }
    return {
      item,
      local: { now: localNow, base: localBase, moved: localMoved, changed: localChanged },
      remote: { now: remoteNow, base: remoteBase, moved: remoteMoved, changed: remoteChanged },
    };
  });
}

function moved(now: Spot | undefined, base: Spot | undefined): boolean {
  return now !== undefined && base !== undefined && (now.parent !== base.parent || pathKey(now.name) !== pathKey(base.name));
}

export function sideOf(view: ItemView, side: Side): SideView {
  return side === 'local' ? view.local : view.remote;
}

/** Present and changed in place or position on this side, compared with the Synced tree. */
export function touched(view: SideView): boolean {
  return view.now !== undefined && (view.moved || view.changed || view.base === undefined);
}
