import { Panic } from './envelope.js';
import { join } from './gopath.js';
import type { PolicyType } from './types.js';

/**
 * The stand-in's database: every table of Cloudreve the API can observe, held in Maps. Each
 * folder indexes its children by name, which is also how the unique indexes of the real schema
 * (folders on (name, parent), files on (name, user, folder)) are enforced.
 */

export interface Policy {
  readonly id: number;
  readonly name: string;
  readonly type: PolicyType;
  readonly chunkSize: number;
  readonly maxSize: number;
  readonly fileTypes: readonly string[];
  /** A local policy's CDN `BaseURL`: download URLs are resolved against it instead of left relative. */
  readonly baseUrl?: string;
}

export type GroupId = 1 | 2 | 3;

export interface Group {
  readonly id: GroupId;
  readonly name: string;
  quota: number;
  policyId: number;
  readonly shareEnabled: boolean;
  readonly webdav: boolean;
  readonly sourceBatch: number;
  readonly advanceDelete: boolean;
  readonly aria2: boolean;
  readonly archiveDownload: boolean;
  readonly archiveTask: boolean;
  readonly shareDownload: boolean;
}

export interface User {
  readonly id: number;
  readonly email: string;
  readonly password: string;
  readonly nick: string;
  readonly groupId: GroupId;
  readonly createdAt: number;
  readonly totpSecret: string | null;
  readonly rootId: number;
  /** Bytes charged against the group quota. */
  used: number;
}

export interface Folder {
  readonly id: number;
  name: string;
  parentId: number | null;
  readonly ownerId: number;
  readonly createdAt: number;
  updatedAt: number;
  readonly folders: Map<string, number>;
  readonly files: Map<string, number>;
}

export interface FileRecord {
  readonly id: number;
  name: string;
  folderId: number;
  readonly ownerId: number;
  size: number;
  /** Name of the physical object in the blob store; copies share it. */
  blob: string;
  readonly policyId: number;
  readonly createdAt: number;
  updatedAt: number;
  /** Set while the record is an upload placeholder: hidden from listings, but it holds the name. */
  uploadSessionId: string | null;
}

export interface Share {
  readonly id: number;
  readonly userId: number;
  readonly isDir: boolean;
  readonly sourceId: number;
  readonly password: string;
  readonly remainDownloads: number;
  readonly expires: number | null;
  readonly preview: boolean;
  readonly createdAt: number;
  views: number;
  readonly downloads: number;
}

export interface SourceLink {
  readonly id: number;
  readonly fileId: number;
  downloads: number;
}

export interface WebdavAccount {
  readonly id: number;
  readonly createdAt: number;
  readonly name: string;
  readonly password: string;
  readonly userId: number;
  readonly root: string;
}

const GiB = 1024 ** 3;

function defaultGroups(quota: number): Map<GroupId, Group> {
  const common = { quota, policyId: 1, shareEnabled: true, webdav: true, shareDownload: true };
  return new Map<GroupId, Group>([
    [1, { ...common, id: 1, name: 'Admin', sourceBatch: 1000, advanceDelete: true, aria2: true, archiveDownload: true, archiveTask: true }],
    [2, { ...common, id: 2, name: 'User', sourceBatch: 10, advanceDelete: false, aria2: false, archiveDownload: false, archiveTask: false }],
    [
      3,
      {
        id: 3, name: 'Anonymous', quota: 0, policyId: 0, shareEnabled: false, webdav: false, shareDownload: true,
        sourceBatch: 0, advanceDelete: false, aria2: false, archiveDownload: false, archiveTask: false,
      },
    ],
  ]);
}

export class Store {
  readonly users = new Map<number, User>();
  readonly groups: Map<GroupId, Group>;
  readonly policies = new Map<number, Policy>();
  readonly folders = new Map<number, Folder>();
  readonly files = new Map<number, FileRecord>();
  /** Upload placeholders: session id → file id. */
  readonly placeholders = new Map<string, number>();
  readonly shares = new Map<number, Share>();
  readonly sourceLinks = new Map<number, SourceLink>();
  readonly webdav = new Map<number, WebdavAccount>();
  readonly #usersByEmail = new Map<string, User>();
  readonly #sourceLinkByFile = new Map<number, SourceLink>();
  readonly #next = { user: 1, folder: 1, file: 1, policy: 1, share: 1, sourceLink: 1, webdav: 1 };

  constructor(policy: Omit<Policy, 'id' | 'name'>, quota = GiB) {
    this.groups = defaultGroups(quota);
    this.addPolicy(policy);
  }

  addPolicy(fields: Omit<Policy, 'id' | 'name'>): Policy {
    const policy: Policy = { ...fields, id: this.#next.policy++, name: 'Default storage policy' };
    this.policies.set(policy.id, policy);
    return policy;
  }

  group(id: GroupId): Group {
    const group = this.groups.get(id);
    if (group === undefined) throw new Panic(`group ${id} missing`);
    return group;
  }

  policy(id: number): Policy {
    const policy = this.policies.get(id);
    if (policy === undefined) throw new Panic(`policy ${id} missing`);
    return policy;
  }

  /** The user's upload policy: the first (only) policy of the group. */
  currentPolicy(user: User): Policy {
    return this.policy(this.group(user.groupId).policyId);
  }

  remainingCapacity(user: User): number {
    return Math.max(0, this.group(user.groupId).quota - user.used);
  }

  userByEmail(email: string): User | undefined {
    return this.#usersByEmail.get(email);
  }

  addUser(email: string, password: string, groupId: GroupId, totpSecret: string | null, now: number): User {
    if (this.#usersByEmail.has(email)) throw new Error(`user ${email} already exists`);
    const id = this.#next.user++;
    const root = this.#insertFolder(id, null, '/', now);
    const nick = email.slice(0, Math.max(0, email.indexOf('@')));
    const user: User = { id, email, password, nick, groupId, createdAt: now, totpSecret, rootId: root.id, used: 0 };
    this.users.set(id, user);
    this.#usersByEmail.set(email, user);
    return user;
  }

  folder(id: number): Folder {
    const folder = this.folders.get(id);
    if (folder === undefined) throw new Panic(`folder ${id} missing`);
    return folder;
  }

  /** A file of this user (`GetFilesByIDs(ids, uid)`), placeholders included. */
  fileOf(userId: number, id: number | undefined): FileRecord | undefined {
    const file = id === undefined ? undefined : this.files.get(id);
    return file?.ownerId === userId ? file : undefined;
  }

  folderOf(userId: number, id: number | undefined): Folder | undefined {
    const folder = id === undefined ? undefined : this.folders.get(id);
    return folder?.ownerId === userId ? folder : undefined;
  }

  childFolder(parent: Folder, name: string): Folder | undefined {
    const id = parent.folders.get(name);
    return id === undefined ? undefined : this.folders.get(id);
  }

  childFile(parent: Folder, name: string): FileRecord | undefined {
    const id = parent.files.get(name);
    return id === undefined ? undefined : this.files.get(id);
  }

  /** Children in DB order (ascending id), which is creation order. */
  children(folder: Folder): { folders: Folder[]; files: FileRecord[] } {
    const pick = <T extends { id: number }>(ids: Iterable<number>, table: Map<number, T>): T[] =>
      [...ids].sort((a, b) => a - b).flatMap((id) => table.get(id) ?? []);
    return { folders: pick(folder.folders.values(), this.folders), files: pick(folder.files.values(), this.files) };
  }

  /** Full path from the names of the ancestors, `path.Join` style (a renamed root shows through). */
  folderPath(folder: Folder): string {
    const names: string[] = [];
    const seen = new Set<number>();
    for (let f: Folder | undefined = folder; f !== undefined; f = f.parentId === null ? undefined : this.folders.get(f.parentId)) {
      // A folder moved into its own descendant is an orphaned cycle; Go would recurse forever.
      if (seen.has(f.id)) throw new Panic('folder cycle');
      seen.add(f.id);
      names.unshift(f.name);
    }
    return join(...names);
  }

  createFolder(parent: Folder, name: string, now: number): Folder {
    return this.#insertFolder(parent.ownerId, parent, name, now);
  }

  #insertFolder(ownerId: number, parent: Folder | null, name: string, now: number): Folder {
    const folder: Folder = {
      id: this.#next.folder++, name, parentId: parent?.id ?? null, ownerId, createdAt: now, updatedAt: now,
      folders: new Map(), files: new Map(),
    };
    this.folders.set(folder.id, folder);
    parent?.folders.set(name, folder.id);
    return folder;
  }

  createFile(fields: Omit<FileRecord, 'id'>): FileRecord {
    const file: FileRecord = { ...fields, id: this.#next.file++ };
    this.files.set(file.id, file);
    this.folder(file.folderId).files.set(file.name, file.id);
    if (file.uploadSessionId !== null) this.placeholders.set(file.uploadSessionId, file.id);
    this.#owner(file).used += file.size;
    return file;
  }

  /** `File.UpdateSize`: quota follows the size; gorm bumps updated_at. */
  setFileSize(file: FileRecord, size: number, now: number): void {
    this.#owner(file).used += size - file.size;
    file.size = size;
    file.updatedAt = now;
  }

  /** `PopChunkToFile`: the placeholder becomes a visible file. */
  promote(file: FileRecord, updatedAt: number): void {
    if (file.uploadSessionId !== null) this.placeholders.delete(file.uploadSessionId);
    file.uploadSessionId = null;
    file.updatedAt = updatedAt;
  }

  /** `GetFilesByUploadSession`. */
  placeholder(sessionId: string, ownerId: number): FileRecord | undefined {
    const id = this.placeholders.get(sessionId);
    const file = id === undefined ? undefined : this.files.get(id);
    return file?.ownerId === ownerId ? file : undefined;
  }

  moveFolder(folder: Folder, destination: Folder, now: number): void {
    this.#parentOf(folder).folders.delete(folder.name);
    destination.folders.set(folder.name, folder.id);
    folder.parentId = destination.id;
    folder.updatedAt = now;
  }

  moveFile(file: FileRecord, destination: Folder, now: number): void {
    this.folder(file.folderId).files.delete(file.name);
    destination.files.set(file.name, file.id);
    file.folderId = destination.id;
    file.updatedAt = now;
  }

  /** Folder rename is a column update: updated_at stays. */
  renameFolder(folder: Folder, name: string): void {
    const parent = folder.parentId === null ? undefined : this.folder(folder.parentId);
    parent?.folders.delete(folder.name);
    parent?.folders.set(name, folder.id);
    folder.name = name;
  }

  renameFile(file: FileRecord, name: string, now: number): void {
    const parent = this.folder(file.folderId);
    parent.files.delete(file.name);
    parent.files.set(name, file.id);
    file.name = name;
    file.updatedAt = now;
  }

  removeFile(file: FileRecord): void {
    this.folders.get(file.folderId)?.files.delete(file.name);
    this.files.delete(file.id);
    if (file.uploadSessionId !== null) this.placeholders.delete(file.uploadSessionId);
    this.#owner(file).used -= file.size;
  }

  removeFolder(folder: Folder): void {
    if (folder.parentId !== null) this.folders.get(folder.parentId)?.folders.delete(folder.name);
    this.folders.delete(folder.id);
  }

  /** `GetRecursiveChildFolder(ids, uid, includeSelf=true)`: breadth first, owned folders only. */
  descendants(ids: readonly number[], ownerId: number): Folder[] {
    const result: Folder[] = [];
    const seen = new Set<number>();
    let level = ids.flatMap((id) => this.folderOf(ownerId, id) ?? []);
    while (level.length > 0) {
      const fresh = level.filter((f) => !seen.has(f.id));
      for (const f of fresh) seen.add(f.id);
      result.push(...fresh);
      level = fresh.flatMap((f) => this.children(f).folders);
    }
    return result;
  }

  /** `GetChildFilesOfFolders`: every file (placeholders included) directly in these folders. */
  filesIn(folders: readonly Folder[]): FileRecord[] {
    return folders.flatMap((f) => this.children(f).files).sort((a, b) => a.id - b.id);
  }

  addShare(fields: Omit<Share, 'id'>): Share {
    const share: Share = { ...fields, id: this.#next.share++ };
    this.shares.set(share.id, share);
    return share;
  }

  deleteSharesOf(isDir: boolean, sourceIds: ReadonlySet<number>): void {
    for (const share of this.shares.values()) {
      if (share.isDir === isDir && sourceIds.has(share.sourceId)) this.shares.delete(share.id);
    }
  }

  /** `CreateOrGetSourceLink`: one link per file. */
  sourceLinkFor(file: FileRecord): SourceLink {
    let link = this.#sourceLinkByFile.get(file.id);
    if (link === undefined) {
      link = { id: this.#next.sourceLink++, fileId: file.id, downloads: 0 };
      this.sourceLinks.set(link.id, link);
      this.#sourceLinkByFile.set(file.id, link);
    }
    return link;
  }

  addWebdavAccount(fields: Omit<WebdavAccount, 'id'>): WebdavAccount {
    const account: WebdavAccount = { ...fields, id: this.#next.webdav++ };
    this.webdav.set(account.id, account);
    return account;
  }

  #owner(file: FileRecord): User {
    const user = this.users.get(file.ownerId);
    if (user === undefined) throw new Panic(`user ${file.ownerId} missing`);
    return user;
  }

  #parentOf(folder: Folder): Folder {
    if (folder.parentId === null) throw new Panic('root has no parent');
    return this.folder(folder.parentId);
  }
}
