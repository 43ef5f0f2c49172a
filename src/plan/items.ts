import { parentOf, pathKey } from '../tree/paths.js';
import { rootRow, type EntryKind, type LocalNode, type RelPath, type RemoteNode, type SyncedNode } from '../tree/types.js';
import type { PlanInput, SyncMode } from './types.js';

/**
 * One thing being synced: a Synced entry with what each side shows of it now, or something new
 * on one side (or on both, at the same path). Everything the planner decides hangs off items.
 */
export interface Item {
  readonly index: number;
  readonly kind: EntryKind;
  /** The Synced entry; undefined for new items. */
  readonly base: SyncedNode | undefined;
  readonly local: LocalNode | undefined;
  readonly remote: RemoteNode | undefined;
  /**
   * A new pair one of whose sides came apart from a Synced entry (see `detachedFiles`): it may
   * be this client's own unrecorded transfer or someone else's file, so only identical bytes
   * may join the two, never a policy that picks a winner.
   */
  readonly detached?: true;
  /**
   * Its local file holds the inode another Synced entry recorded, at a path whose own entry it
   * resembles (size and time): two names swapped, or inodes a restore handed out again in another
   * order (see `matchSide`). Which bytes are where cannot be told from that, so the file counts as
   * changed locally and is sent again.
   */
  readonly localUnsure?: true;
}

export interface MatchedItems {
  /** items[0] is the root folder. */
  readonly items: readonly Item[];
  readonly root: Item;
  /** Items by the key of their path on each side now, and in the Synced tree. */
  readonly byLocalKey: ReadonlyMap<string, Item>;
  readonly byRemoteKey: ReadonlyMap<string, Item>;
  /** Items by Synced row ID; row 0 is the root. */
  readonly byRow: ReadonlyMap<number, Item>;
}

/**
 * Pairs each Synced entry with its current local and remote counterparts, in three passes per
 * side: same path and same identity; then same identity elsewhere (a move: inode locally, object
 * ID remotely; not where a restore shuffled inodes, see `matchSide`); then same path with a new
 * identity (content replaced, or re-created). What is
 * left is new. A file moved on one side and gone from the other comes apart from its entry when
 * a new file of the same size sits at its new place (`detachedFiles`). A new local and a new
 * remote entry at the same path and of the same kind become one item.
 */
export function matchItems(input: PlanInput, mode: SyncMode): MatchedItems {
  const synced = input.synced;
  const localOf = new Map<SyncedNode, LocalNode>();
  const remoteOf = new Map<SyncedNode, RemoteNode>();

  const unsure = new Set<LocalNode>();
  const unmatchedLocal = matchSide(
    synced,
    input.local.nodes,
    localOf,
    (node) => node.localPath,
    (base, local) => base.inode !== '' && base.inode === local.inode,
    (local) => local.inode,
    (base) => (base.inode === '' ? undefined : base.inode),
    movedLocally(synced, input.local.nodes),
    // And one that shows its own path's record is taken for left in place (see matchSide).
    asRecorded,
    unsure,
  );
  const unmatchedRemote = matchSide(
    synced,
    input.remote.nodes,
    remoteOf,
    (node) => node.remotePath,
    (base, remote) => base.remote?.id === remote.id,
    (remote) => remote.id,
    (base) => base.remote?.id,
    () => true,
    undefined,
    undefined,
  );

  const detached = detachedFiles(synced, localOf, remoteOf, unmatchedLocal, unmatchedRemote, mode);

  const root: Item = { index: 0, kind: 'dir', base: undefined, local: undefined, remote: undefined };
  const items: Item[] = [root];
  for (const base of synced) {
    const local = localOf.get(base);
    items.push({ index: items.length, kind: base.kind, base, local, remote: remoteOf.get(base), ...(local && unsure.has(local) ? { localUnsure: true } : {}) });
  }
  const newRemoteByKey = new Map<string, RemoteNode>();
  for (const remote of unmatchedRemote) newRemoteByKey.set(kindKey(remote.kind, pathKey(remote.path)), remote);
  for (const local of unmatchedLocal) {
    const key = kindKey(local.kind, pathKey(local.path));
    const remote = newRemoteByKey.get(key);
    newRemoteByKey.delete(key);
    const cameApart = remote !== undefined && (detached.has(local) || detached.has(remote));
    items.push({ index: items.length, kind: local.kind, base: undefined, local, remote, ...(cameApart ? { detached: true } : {}) });
  }
  for (const remote of newRemoteByKey.values()) {
    items.push({ index: items.length, kind: remote.kind, base: undefined, local: undefined, remote });
  }

  const byLocalKey = new Map<string, Item>();
  const byRemoteKey = new Map<string, Item>();
  const byRow = new Map<number, Item>([[rootRow, root]]);
  for (const item of items) {
    if (item === root) continue;
    // Folders are what children look up as parents; a file of the same name must not shadow one.
    if (item.local) setPreferringDirs(byLocalKey, pathKey(item.local.path), item);
    if (item.remote) setPreferringDirs(byRemoteKey, pathKey(item.remote.path), item);
    if (item.base) byRow.set(item.base.id, item);
  }
  return { items, root, byLocalKey, byRemoteKey, byRow };
}

/**
 * Takes apart from its Synced entry a file that moved on one side, is absent from the other,
 * and whose new place on the other side holds a new file of the same size: the two are then
 * paired as new files at one path, compared byte for byte, and recorded as one when they agree.
 * That is what a run killed between sending such a file and recording it leaves: the next run
 * found its own upload as a newcomer in the way, gave it a conflict name as a collision loser
 * and kept two copies of the same bytes. A file that did not move is left to the usual rules,
 * and so is a newcomer that cannot be this client's transfer: one of another size, or one on a
 * side the mode never writes to. Returns the nodes taken apart.
 */
function detachedFiles(
  synced: readonly SyncedNode[],
  localOf: Map<SyncedNode, LocalNode>,
  remoteOf: Map<SyncedNode, RemoteNode>,
  unmatchedLocal: LocalNode[],
  unmatchedRemote: RemoteNode[],
  mode: SyncMode,
): Set<LocalNode | RemoteNode> {
  const newFiles = <N extends LocalNode | RemoteNode>(nodes: readonly N[]): Map<string, N> =>
    new Map(nodes.filter((node) => node.kind === 'file').map((node) => [pathKey(node.path), node]));
  const newLocal = newFiles(unmatchedLocal);
  const newRemote = newFiles(unmatchedRemote);
  const detached = new Set<LocalNode | RemoteNode>();
  const meets = (node: LocalNode | RemoteNode, basePath: RelPath, newcomers: ReadonlyMap<string, LocalNode | RemoteNode>): boolean => {
    const key = pathKey(node.path);
    return key !== pathKey(basePath) && newcomers.get(key)?.size === node.size;
  };
  for (const base of synced) {
    if (base.kind !== 'file') continue;
    const local = localOf.get(base);
    const remote = remoteOf.get(base);
    if (local && !remote && mode !== 'download-only' && meets(local, base.localPath, newRemote)) {
      localOf.delete(base);
      unmatchedLocal.push(local);
      detached.add(local);
    } else if (remote && !local && mode !== 'upload-only' && meets(remote, base.remotePath, newLocal)) {
      remoteOf.delete(base);
      unmatchedRemote.push(remote);
      detached.add(remote);
    }
  }
  return detached;
}

/** A local entry that shows what its Synced entry recorded (a folder shows nothing to compare). */
function asRecorded(base: SyncedNode, local: LocalNode): boolean {
  return base.kind === 'dir' || (base.size === local.size && base.localMtimeMs === local.mtimeMs);
}

/**
 * Whether a local entry on a Synced entry's inode at another path can be that entry moved. A
 * filesystem hands freed inodes out again: to a new file, which a moved one tells apart by its
 * size and time, or to a new folder (`rm -rf old && mkdir -p new/sub`: `new` and `new/sub` may
 * get the inodes of `old` and `old/sub`), which a moved one tells apart by what it holds: a file
 * of the folder's, as recorded, directly or in a subfolder that tells the same. Taken for a
 * rename, the new folder would take the server folder to its name, with what other devices put
 * in it. A folder holding no such file (only empty folders, say) is new: it costs no transfer.
 */
function movedLocally(synced: readonly SyncedNode[], nodes: readonly LocalNode[]): (base: SyncedNode, local: LocalNode) => boolean {
  // Built at the first folder found elsewhere: a pass without one never pays for it.
  let byFolder: { readonly before: Map<string, SyncedNode[]>; readonly now: Map<string, LocalNode[]> } | undefined;
  const held = (): NonNullable<typeof byFolder> => {
    if (byFolder === undefined) {
      byFolder = { before: new Map(), now: new Map() };
      for (const b of synced) push(byFolder.before, pathKey(parentOf(b.localPath)), b);
      for (const n of nodes) push(byFolder.now, pathKey(parentOf(n.path)), n);
    }
    return byFolder;
  };
  const moved = (base: SyncedNode, local: LocalNode): boolean => {
    if (base.kind === 'file') return asRecorded(base, local);
    const { before, now } = held();
    const byInode = new Map((before.get(pathKey(base.localPath)) ?? []).filter((b) => b.inode !== '').map((b) => [kindKey(b.kind, b.inode), b]));
    return (now.get(pathKey(local.path)) ?? []).some((entry) => {
      const was = byInode.get(kindKey(entry.kind, entry.inode));
      return was !== undefined && moved(was, entry);
    });
  };
  return moved;
}

/**
 * `inPlace` (local side only): whether a node could be its path's Synced entry unchanged. A
 * folder restored from a backup (`rm -rf`, then `cp -a`) holds every entry as recorded, but the
 * filesystem hands the freed inodes out again in another order; taken for moves, those identities
 * would carry one file's server object to another's path. So a node that could stay its own
 * path's entry is not taken for a move from a path that a node as recorded still fills: the
 * identities were shuffled, not the entries (or the names swapped: such a file goes to `unsure`,
 * its bytes to be sent again). A folder shows nothing of itself to compare; the
 * files it holds tell: most of them moved with it from the base's folder (`mv cur prev`, then
 * `mkdir cur`) is a move, whatever fills the old path.
 */
function matchSide<Node extends { readonly path: RelPath; readonly kind: EntryKind }>(
  synced: readonly SyncedNode[],
  nodes: readonly Node[],
  matched: Map<SyncedNode, Node>,
  basePath: (base: SyncedNode) => RelPath,
  sameIdentity: (base: SyncedNode, node: Node) => boolean,
  nodeIdentity: (node: Node) => string,
  baseIdentity: (base: SyncedNode) => string | undefined,
  plausibleMove: (base: SyncedNode, node: Node) => boolean,
  inPlace: ((base: SyncedNode, node: Node) => boolean) | undefined,
  unsure: Set<Node> | undefined,
): Node[] {
  const baseByPath = new Map<string, SyncedNode[]>();
  for (const base of synced) push(baseByPath, kindKey(base.kind, pathKey(basePath(base))), base);

  const claimed = new Set<Node>();
  const take = (base: SyncedNode, node: Node): void => {
    matched.set(base, node);
    claimed.add(node);
  };

  // Pass 1: same path, same identity.
  for (const node of nodes) {
    const base = baseByPath.get(kindKey(node.kind, pathKey(node.path)))?.find((b) => !matched.has(b) && sameIdentity(b, node));
    if (base) take(base, node);
  }
  // Pass 2: same identity at another path: a move or rename.
  const baseByIdentity = new Map<string, SyncedNode[]>();
  for (const base of synced) {
    const identity = baseIdentity(base);
    if (identity !== undefined && !matched.has(base)) push(baseByIdentity, kindKey(base.kind, identity), base);
  }
  const nodeByPath = new Map<string, Node>();
  const filesIn = new Map<string, Node[]>();
  for (const node of nodes) {
    if (!claimed.has(node)) nodeByPath.set(kindKey(node.kind, pathKey(node.path)), node);
    if (node.kind === 'file') push(filesIn, pathKey(parentOf(node.path)), node);
  }
  let fileBases: Map<string, SyncedNode[]> | undefined;
  const movedWith = (base: SyncedNode, folder: Node): boolean => {
    if (fileBases === undefined) {
      fileBases = new Map();
      for (const b of synced) {
        const identity = b.kind === 'file' ? baseIdentity(b) : undefined;
        if (identity !== undefined) push(fileBases, identity, b);
      }
    }
    const bases = fileBases;
    const from = pathKey(basePath(base));
    const files = filesIn.get(pathKey(folder.path)) ?? [];
    const moved = files.filter((file) => bases.get(nodeIdentity(file))?.some((b) => pathKey(parentOf(basePath(b))) === from && plausibleMove(b, file)));
    return moved.length * 2 > files.length;
  };
  // A file whose recorded folder is the folder it is in now, moved: it moved with that folder.
  const withItsFolder = (base: SyncedNode, node: Node): boolean => {
    const from = parentOf(basePath(base));
    const folder = baseByPath.get(kindKey('dir', pathKey(from)))?.[0];
    const now = folder === undefined ? undefined : matched.get(folder);
    return now !== undefined && pathKey(now.path) === pathKey(parentOf(node.path)) && pathKey(now.path) !== pathKey(from);
  };
  const shuffled = (base: SyncedNode, node: Node): boolean => {
    if (inPlace === undefined || (node.kind === 'dir' ? movedWith(base, node) : withItsFolder(base, node))) return false;
    const own = baseByPath.get(kindKey(node.kind, pathKey(node.path)))?.find((b) => b !== base && !matched.has(b));
    const there = nodeByPath.get(kindKey(base.kind, pathKey(basePath(base))));
    return own !== undefined && inPlace(own, node) && there !== undefined && there !== node && !claimed.has(there) && inPlace(base, there);
  };
  // Folders first, so that a file can be told to have moved with its folder.
  for (const node of [...nodes.filter((n) => n.kind === 'dir'), ...nodes.filter((n) => n.kind !== 'dir')]) {
    if (claimed.has(node)) continue;
    const base = baseByIdentity.get(kindKey(node.kind, nodeIdentity(node)))?.find((b) => !matched.has(b) && plausibleMove(b, node));
    if (base === undefined) continue;
    if (!shuffled(base, node)) take(base, node);
    else if (node.kind === 'file') unsure?.add(node);
  }
  // Pass 3: same path, new identity.
  const unmatched: Node[] = [];
  for (const node of nodes) {
    if (claimed.has(node)) continue;
    const base = baseByPath.get(kindKey(node.kind, pathKey(node.path)))?.find((b) => !matched.has(b));
    if (base) take(base, node);
    else unmatched.push(node);
  }
  return unmatched;
}

function setPreferringDirs(map: Map<string, Item>, key: string, item: Item): void {
  const existing = map.get(key);
  if (existing === undefined || (existing.kind === 'file' && item.kind === 'dir')) map.set(key, item);
}

function kindKey(kind: EntryKind, key: string): string {
  return `${kind === 'dir' ? 'd' : 'f'}${key}`;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
