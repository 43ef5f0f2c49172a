import type { EntryKind, GuardAnswer, LocalNode, RelPath, RemoteNode, Side, SkippedPath, SyncedNode } from '../tree/types.js';

export type SyncMode = 'two-way' | 'upload-only' | 'download-only';

/** Who wins when a file changed on both sides; `keep-both` keeps the local version as a conflict copy. */
export type ConflictPolicy = 'keep-both' | 'newer' | 'local' | 'remote';

export interface MassDeleteLimits {
  /** Deletions on one side above this share of the Synced files (percent) stop the run... */
  readonly maxPercent: number;
  /** ...once there are at least this many of them. */
  readonly minCount: number;
  /** Deletions on one side above this count stop the run whatever the share. */
  readonly maxCount: number;
}

/**
 * Files the passes before deleted on each side within `massDelete.window`: the guard counts them
 * with a pass's own, so that deletes spread over passes (a daemon's, a cron job's) add up.
 */
export type RecentDeletes = Readonly<Record<Side, number>>;

export interface PlanOptions {
  readonly mode: SyncMode;
  /**
   * The source side of a one-way mode that synced this folder before `mode` took over, until a
   * full pass in `mode` leaves nothing held back (see `Plan.heldBack`). The Synced tree still
   * holds what that mode did not mirror: what the other side deleted meanwhile is brought back
   * (frozen, if `mode` may not write the former source), not deleted from the former source.
   */
  readonly formerSource?: Side | undefined;
  readonly conflictPolicy: ConflictPolicy;
  readonly massDelete: MassDeleteLimits;
  /** Which stops of the mass-delete and empty-root guards to run past (never the missing-root guard's). */
  readonly force: Force;
  /** Whether the local filesystem folds case, so `A.txt` and `a.txt` are one name. */
  readonly localCaseInsensitive: boolean;
  /** Why the server would refuse a name, or undefined when it is legal. */
  readonly remoteNameProblem: (name: string) => string | undefined;
  /** Whether a remote delete goes to a trash folder (so folders holding ignored files may go). */
  readonly remoteTrash: boolean;
  /**
   * The state directory's place inside the local folder, if it lies there (ignored): a local
   * folder delete, which moves the folder into the local trash inside that very directory,
   * cannot take it along, so the folders above it stay.
   */
  readonly localStateDir?: RelPath | undefined;
  /**
   * Ignored local names that go to the trash with their folder when the server deleted it: the
   * droppings systems and office suites leave in every folder (`.DS_Store`, lock files), which
   * would otherwise keep each such folder. Any other ignored entry (`.env`, `node_modules`)
   * exists nowhere else, so its folder stays. Undefined: every ignored entry keeps its folder.
   */
  readonly localDropping?: ((name: string) => boolean) | undefined;
  /** Why the local filesystem cannot hold a name, or undefined when it can. */
  readonly localNameProblem: (name: string) => string | undefined;
  /**
   * Formats the moment used in conflict copy names, e.g. "2026-11-29 204512". The planner passes
   * the conflicting local file's mtime, so the name is the same on every run.
   */
  readonly conflictStamp: (mtimeMs: number) => string;
}

export interface LocalSnapshot {
  /** False when the local root folder does not exist (or is not a folder). */
  readonly rootExists: boolean;
  readonly nodes: readonly LocalNode[];
  /** Paths the ignore rules hid; never changed by a sync. */
  readonly ignored: readonly RelPath[];
  /**
   * Paths not seen this time: folders whose contents could not be read, entries the scanner
   * skipped (a symlink where a synced file was). What the Synced tree has there, or below,
   * counts as unchanged on this side, never as deleted.
   */
  readonly unknown: readonly RelPath[];
}

export interface RemoteSnapshot {
  readonly rootExists: boolean;
  readonly nodes: readonly RemoteNode[];
  readonly ignored: readonly RelPath[];
  readonly unknown: readonly RelPath[];
}

export interface PlanInput {
  readonly local: LocalSnapshot;
  readonly remote: RemoteSnapshot;
  readonly synced: readonly SyncedNode[];
  /**
   * Counts over the whole folder when the trees above hold only the part that changed (every
   * folder, plus the entries of folders where something differs): the guards judge by these.
   */
  readonly totals?: PlanTotals;
  readonly recentDeletes?: RecentDeletes;
}

export interface PlanTotals {
  /** Entries the local scan found (not ignored). */
  readonly localEntries: number;
  readonly remoteEntries: number;
  readonly syncedEntries: number;
  readonly syncedFiles: number;
}

/** Local facts an action expects to still hold when it runs; checked again just before. */
export interface LocalFacts {
  readonly size: number;
  readonly mtimeMs: number;
  readonly inode: string;
}

/** Remote facts seen by the scan. */
export interface RemoteFacts {
  readonly id: string;
  readonly size: number;
  readonly modifiedMs: number;
}

/** A server entry as a scan saw it. */
export interface ScannedRemote extends RemoteFacts {
  readonly kind: EntryKind;
}

/** A local entry as a scan saw it (or, not read by the pass, as the Synced tree remembers it). */
export interface ScannedLocal extends LocalFacts {
  readonly path: RelPath;
  readonly kind: EntryKind;
}

/**
 * Names a Synced row: an existing one by its ID (0 is the root), or an entry that gets its row
 * during this plan, by a number unique within the plan.
 */
export type NodeRef = { readonly row: number } | { readonly fresh: number };

/** Where an entry sits on one side: its parent entry and its name there. */
export interface Placement {
  readonly parent: NodeRef;
  readonly name: string;
}

/**
 * The Synced row to write once an action succeeded: the entry's place on both sides, plus the
 * remote facts when the plan knows them (otherwise a listing fills them in). Local facts come
 * from a fresh stat, or from the transfer itself.
 */
export interface RowWrite {
  readonly node: NodeRef;
  readonly kind: EntryKind;
  readonly local: Placement;
  readonly remote: Placement;
  readonly remoteFacts?: RemoteFacts;
  /** The remote object's ID when its facts are not known (our own move bumped its date). */
  readonly remoteId?: string;
}

interface ActionBase {
  /** Position in the plan; `after` refers to these. */
  readonly id: number;
  /** Runs after every action of an earlier stage; see `stageOf`. */
  readonly stage: Stage;
  /** Actions that must have succeeded before this one may start; a failure skips dependents. */
  readonly after: readonly number[];
}

/**
 * Stages run one after another: deletions that free names, then folders and moves (shallow
 * first), then deletions of folders emptied by those moves, then transfers, then bookkeeping.
 */
export type Stage = 1 | 2 | 3 | 4 | 5;

/** Create a folder on one side. */
export interface MkdirAction extends ActionBase {
  readonly type: 'mkdir';
  readonly side: Side;
  /** The folder's path on that side. */
  readonly path: RelPath;
  /** Set when the folder then exists on both sides. */
  readonly row?: RowWrite;
  /** The local folder's facts, when the folder is created on the server. */
  readonly local?: LocalFacts;
}

/** Send a local file to the server, as a new file or (with `replace`) over an existing one. */
export interface UploadAction extends ActionBase {
  readonly type: 'upload';
  readonly localPath: RelPath;
  readonly remotePath: RelPath;
  readonly local: LocalFacts;
  /** The remote file whose content is replaced in place, keeping its ID. */
  readonly replace?: RemoteFacts;
  readonly row: RowWrite;
}

/** Fetch a remote file into place locally; what it replaces goes to the trash. */
export interface DownloadAction extends ActionBase {
  readonly type: 'download';
  readonly localPath: RelPath;
  readonly remotePath: RelPath;
  readonly remote: RemoteFacts;
  /** What the local path holds now; the download only lands if it still does. */
  readonly existing?: LocalFacts;
  readonly row: RowWrite;
}

/** Move and/or rename on one side. */
export interface MoveAction extends ActionBase {
  readonly type: 'move';
  readonly side: Side;
  readonly kind: EntryKind;
  readonly from: RelPath;
  readonly to: RelPath;
  /** The remote object, for moves on the remote side. */
  readonly remoteId?: string;
  /** The entry's Synced row, updated on this side (and on the other when `other` is set). */
  readonly node: NodeRef;
  readonly placement: Placement;
  /** Where the entry already sits on the other side, when the row must learn that too. */
  readonly other?: Placement;
  /** What the server now says of an entry another client moved (the move bumped its date). */
  readonly remoteFacts?: RemoteFacts;
  /** Set when the entry has no row yet and is in place on both sides after this move. */
  readonly row?: RowWrite;
  /** The local entry's facts, with `row`: a rename keeps them, and the other side's move leaves them. */
  readonly local?: LocalFacts;
}

/** Delete on one side (to a trash), mirroring a delete on the other side. */
export interface DeleteAction extends ActionBase {
  readonly type: 'delete';
  readonly side: Side;
  readonly kind: EntryKind;
  readonly path: RelPath;
  readonly remoteId?: string;
  /** For local files: the delete only happens if the file still has these facts. */
  readonly local?: LocalFacts;
  /**
   * For local folders: the folder, then everything below it, as scanned. The folder goes to the
   * trash whole, so the delete only happens if it holds nothing else, as it was.
   */
  readonly localTree?: readonly ScannedLocal[];
  /**
   * For the server: the entry, then everything below it, as scanned. Cloudreve deletes a folder
   * with whatever it holds, so the delete only happens if the server holds nothing else.
   */
  readonly remote?: readonly ScannedRemote[];
  /** The Synced rows that go with it (the entry and whatever below it is not kept). */
  readonly rows: readonly number[];
}

/**
 * How a file changed on both sides is settled, once the executor found the contents differ
 * (identical contents just record the pair):
 * - `keep-both`: the local version moves to `conflictPath` and both versions end up on both
 *   sides (in download-only mode the copy stays local; in upload-only mode the remote version
 *   is the one renamed, on the server);
 * - `local-wins` / `remote-wins`: the loser goes to the trash.
 */
export type ConflictResolution = 'keep-both' | 'local-wins' | 'remote-wins';

export interface ConflictAction extends ActionBase {
  readonly type: 'conflict';
  readonly resolution: ConflictResolution;
  readonly mode: SyncMode;
  readonly localPath: RelPath;
  readonly remotePath: RelPath;
  readonly local: LocalFacts;
  readonly remote: RemoteFacts;
  /** Collision-free path for the conflict copy, in the same folder. */
  readonly conflictPath: RelPath;
  readonly row: RowWrite;
}

/** Both sides already agree; only the Synced tree changes. */
export interface RecordAction extends ActionBase {
  readonly type: 'record';
  readonly localPath: RelPath;
  readonly local: LocalFacts;
  readonly row: RowWrite;
}

/** Entries gone from both sides; drop their rows. */
export interface ForgetAction extends ActionBase {
  readonly type: 'forget';
  readonly rows: readonly number[];
}

export type Action =
  | MkdirAction
  | UploadAction
  | DownloadAction
  | MoveAction
  | DeleteAction
  | ConflictAction
  | RecordAction
  | ForgetAction;

export type ActionType = Action['type'];

export type GuardTrip =
  /** `missing`: the folder is not there at all, a stop nothing runs past. */
  | { readonly guard: 'root'; readonly side: Side; readonly missing: boolean; readonly reason: string }
  | { readonly guard: 'mass-delete'; readonly side: Side; readonly count: number; readonly total: number; readonly reason: string }
  /** The config now pairs another local folder, server folder or account under the folder's name. */
  | { readonly guard: 'binding'; readonly side: Side; readonly to: string; readonly reason: string };

/** Every stop (`--force`), none, or the one a `resume` agreed to. */
export type Force = boolean | GuardAnswer;

export interface Plan {
  readonly actions: readonly Action[];
  readonly skipped: readonly SkippedPath[];
  /** Set when a safety guard stopped the run; `actions` is then empty. */
  readonly stopped?: GuardTrip;
  /** Deletions the plan makes on each side, counted in files (folders count their contents). */
  readonly deletes: { readonly local: number; readonly remote: number };
  /** Entries the former one-way mode's unmirrored deletes left that this plan keeps (see PlanOptions.formerSource). */
  readonly heldBack: number;
}
