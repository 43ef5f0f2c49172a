import PQueue from 'p-queue';
import type { RemoteSnapshot } from '../plan/types.js';
import { isRemoteError } from '../remote/errors.js';
import type { Remote, RemoteEntry, UploadPolicy } from '../remote/types.js';
import { joinPath, pathKey } from '../tree/paths.js';
import type { RelPath, RemoteNode, SkippedPath } from '../tree/types.js';
import { isOwnTempFileName, type IgnoreRules } from './ignore.js';
import { nfcTwinReason, preferredTwin, unusableServerNameReason, type RecordedEntry, type TwinCandidate } from './names.js';

export interface RemoteScan extends RemoteSnapshot {
  readonly skipped: readonly SkippedPath[];
  /**
   * The object IDs of the entries in `skipped`: an entry renamed on the server to a name that
   * is skipped is still there, where the Synced tree has it by its ID.
   */
  readonly skippedIds: readonly string[];
  /** Files named like cloudreve-sync's temporary files, hidden from the sync (see `removeMovedRemoteTempFiles`). */
  readonly leftovers: readonly RemoteLeftover[];
  /** Where uploads go, as the root listing said. */
  readonly policy: UploadPolicy | undefined;
  /** Listing requests made. */
  readonly requests: number;
}

export interface RemoteLeftover {
  readonly path: RelPath;
  readonly id: string;
}

export interface RemoteScanOptions {
  readonly rules: IgnoreRules;
  /** Listings in flight at once. */
  readonly concurrency: number;
  readonly signal?: AbortSignal;
  /** What the Synced tree records at a path: of two NFC twins, that one is kept (see `preferredTwin`). */
  readonly recorded?: (path: RelPath) => RecordedEntry | undefined;
  /** Longest path the local filesystem takes, in bytes, counting the local root. */
  readonly maxLocalPathBytes?: number;
  /**
   * Takes the entries of each folder as it is listed, instead of collecting them in `nodes`,
   * with the listing's fingerprint when the listing was taken whole (nothing in it left out).
   */
  readonly onFolder?: (path: RelPath, nodes: readonly RemoteNode[], fingerprint: string | undefined) => void;
  /**
   * Folders whose listing may be taken as it was before: `fingerprint` tells that listing's
   * fingerprint, and a folder that still lists so goes to `take` instead of `onFolder`, which
   * gives back its subfolders.
   */
  readonly asBefore?: {
    readonly fingerprint: (path: RelPath) => string | undefined;
    readonly take: (path: RelPath) => readonly RemoteNode[];
  };
  /** A walk starts over: forget what `onFolder` was given so far. */
  readonly onRestart?: () => void;
}

/**
 * Which way a listing turns into scanned entries (what is skipped, how paths are formed):
 * raise it with any change to that, so that no listing digest taken the old way still holds.
 */
export const listingRevision = 2;

/** Walks of a tree that keeps moving under us before its moving parts count as unknown. */
const attempts = 3;

/**
 * Lists the synced server folder breadth-first, one request per folder, several at a time. A
 * folder that vanishes during the walk was moved or deleted meanwhile: the walk starts over to
 * see where it went, and after repeated vanishing the folder counts as unknown (unchanged),
 * never as deleted.
 */
export async function scanRemote(remote: Remote, root: string, options: RemoteScanOptions): Promise<RemoteScan> {
  let requests = 0;
  for (let attempt = 1; ; attempt++) {
    const walk = await walkOnce(remote, root, options, attempt === attempts);
    requests += walk.requests;
    if (walk.vanished.length === 0 || attempt === attempts) return { ...walk, requests };
    options.onRestart?.();
  }
}

interface Walk extends RemoteScan {
  readonly vanished: readonly RelPath[];
}

/** On the `last` attempt, a folder that vanishes counts as unknown instead of starting the walk over. */
async function walkOnce(remote: Remote, root: string, options: RemoteScanOptions, last: boolean): Promise<Walk> {
  const nodes: RemoteNode[] = [];
  const emitFolder =
    options.onFolder ??
    ((_path: RelPath, found: readonly RemoteNode[]) => {
      for (const node of found) nodes.push(node);
    });
  const { asBefore } = options;
  const ignored: RelPath[] = [];
  const skipped: SkippedPath[] = [];
  const skippedIds: string[] = [];
  const unknown: RelPath[] = [];
  const vanished: RelPath[] = [];
  const leftovers: RemoteLeftover[] = [];
  let policy: UploadPolicy | undefined;
  let requests = 0;
  const queue = new PQueue({ concurrency: options.concurrency });
  let failure: Error | undefined;
  const enqueue = (dir: RelPath): void => {
    queue.add(() => visit(dir)).catch((error: unknown) => {
      failure ??= error instanceof Error ? error : new Error(String(error));
      queue.clear();
    });
  };
  const absolute = (path: RelPath): string => (path === '' ? root : root === '/' ? `/${path}` : `${root}/${path}`);

  const visit = async (dir: RelPath): Promise<void> => {
    options.signal?.throwIfAborted();
    let listing;
    try {
      requests++;
      // The root's listing is always read: it tells the upload policy.
      const known = dir === '' ? undefined : asBefore?.fingerprint(dir);
      listing = known === undefined || !remote.listUnlessUnchanged ? await remote.list(absolute(dir)) : await remote.listUnlessUnchanged(absolute(dir), known);
    } catch (error) {
      if (dir !== '' && isRemoteError(error, 'not-found')) {
        (last ? unknown : vanished).push(dir);
        return;
      }
      throw error;
    }
    if (listing === 'unchanged') {
      for (const node of asBefore?.take(dir) ?? []) enqueue(node.path);
      return;
    }
    policy ??= listing.policy;
    const skip = (entry: RemoteEntry, reason: string): void => {
      skipped.push({ side: 'remote', path: joinPath(dir, entry.name), kind: entry.kind, reason });
      skippedIds.push(entry.id);
    };
    // The entries to sync, by kind and NFC name: of two NFC twins, one is kept.
    const kept = new Map<string, RemoteEntry>();
    const twins: { readonly entry: RemoteEntry; readonly key: string }[] = [];
    const asTwin = (entry: RemoteEntry): TwinCandidate & { readonly entry: RemoteEntry } => ({ name: entry.name, identity: entry.id, entry });
    for (const entry of listing.entries) {
      const path = joinPath(dir, entry.name);
      if (entry.kind === 'file' && isOwnTempFileName(entry.name)) {
        leftovers.push({ path, id: entry.id });
        continue;
      }
      const unusable = unusableServerNameReason(entry.name);
      // A path too long to download into is no trouble for an entry synced there (sent from
      // the local side, which took the path).
      const tooLong = pathTooLong(path, options.maxLocalPathBytes) && options.recorded?.(path)?.identity !== entry.id;
      const problem = unusable !== undefined ? `${unusable}; rename it on the server to sync it` : tooLong ? 'path is too long for the local filesystem' : undefined;
      if (problem !== undefined) {
        skip(entry, problem);
        continue;
      }
      const key = `${entry.kind}:${pathKey(entry.name)}`;
      const other = kept.get(key);
      if (other === undefined) {
        kept.set(key, entry);
        continue;
      }
      const keep = preferredTwin(asTwin(other), asTwin(entry), options.recorded?.(path)).entry;
      kept.set(key, keep);
      twins.push({ entry: keep === entry ? other : entry, key });
    }
    for (const twin of twins) {
      const keeper = kept.get(twin.key);
      if (keeper) skip(twin.entry, nfcTwinReason(keeper.name));
    }
    const found: RemoteNode[] = [];
    for (const entry of [...kept.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const path = joinPath(dir, entry.name);
      if (options.rules.ignores(path, entry.kind)) {
        ignored.push(path);
        continue;
      }
      found.push({ path, kind: entry.kind, id: entry.id, size: entry.size, modifiedMs: entry.modifiedMs });
    }
    emitFolder(dir, found, found.length === listing.entries.length ? listing.fingerprint : undefined);
    for (const node of found) if (node.kind === 'dir') enqueue(node.path);
  };

  try {
    await visit('');
  } catch (error) {
    if (isRemoteError(error, 'not-found')) {
      return { rootExists: false, nodes: [], ignored: [], unknown: [], skipped: [], skippedIds: [], leftovers: [], policy: undefined, requests, vanished: [] };
    }
    throw error;
  }
  await queue.onIdle();
  if (failure !== undefined) throw failure;
  return { rootExists: true, nodes, ignored, unknown, skipped, skippedIds, leftovers, policy, requests, vanished };
}

function pathTooLong(path: RelPath, maxBytes: number | undefined): boolean {
  return maxBytes !== undefined && Buffer.byteLength(path) > maxBytes;
}
