import type { App } from './app.js';
import {
  ErrDBDeleteObjects,
  ErrFileExisted,
  ErrFileExtensionNotAllowed,
  ErrFileSizeTooBig,
  ErrFileUploadSessionExisted,
  ErrIllegalObjectName,
  ErrRootProtected,
} from './envelope.js';
import { base, clean, dir } from './gopath.js';
import { isAllowedExtension, isLegalName } from './names.js';
import type { FileRecord, Folder, Policy, Store, User } from './store.js';

/**
 * Cloudreve's filesystem layer (pkg/filesystem) on top of the store: path walks, recursive
 * folder creation and deletion, and the file checks shared by uploads, empty files and updates.
 */

/** `IsPathExist`: an exact walk, nothing cleaned; only the root may end in a slash. */
export function resolvePath(store: Store, user: User, path: string): Folder | undefined {
  if (!path.startsWith('/')) return undefined;
  let folder: Folder | undefined = store.folder(user.rootId);
  if (path === '/') return folder;
  for (const name of path.slice(1).split('/')) {
    folder = store.childFolder(folder, name);
    if (folder === undefined) return undefined;
  }
  return folder;
}

/**
 * `CreateDirectory`: recursive find-or-create on a cleaned path, each created segment with its
 * trailing spaces trimmed; a same-named file in the way is a clash, a relative path ends at
 * "." and is refused as the root.
 */
export function createDirectory(app: App, user: User, fullPath: string): Folder {
  const { store } = app;
  if (fullPath === '.' || fullPath === '') throw ErrRootProtected;
  if (fullPath === '/') return store.folder(user.rootId);
  const cleaned = clean(fullPath);
  const name = base(cleaned).replace(/ +$/, '');
  if (!isLegalName(name)) throw ErrIllegalObjectName;
  const parentPath = dir(cleaned);
  const parent = resolvePath(store, user, parentPath) ?? createDirectory(app, user, parentPath);
  if (store.childFile(parent, name) !== undefined) throw ErrFileExisted;
  return store.childFolder(parent, name) ?? store.createFolder(parent, name, app.clock.now());
}

/** A file of that name exists (40004), or an upload in progress reserves it (40054). Folders never clash. */
export function assertNameFree(file: FileRecord | undefined): void {
  if (file !== undefined) throw file.uploadSessionId === null ? ErrFileExisted : ErrFileUploadSessionExisted;
}

/** `HookValidateFile`: size against MaxSize, then the name, then the extension filter. */
export function validateFile(policy: Policy, name: string, size: number): void {
  if (policy.maxSize > 0 && size > policy.maxSize) throw ErrFileSizeTooBig;
  if (!isLegalName(name)) throw ErrIllegalObjectName;
  if (!isAllowedExtension(policy.fileTypes, name)) throw ErrFileExtensionNotAllowed;
}

/**
 * `FileSystem.Delete`: folders recursively (the root itself and the files directly in it are
 * spared), files by id; ids of other users are ignored. Placeholders take their upload session
 * with them; shares of deleted objects go too.
 */
export async function deleteObjects(app: App, user: User, dirIds: readonly number[], fileIds: readonly number[]): Promise<void> {
  const { store, blobs } = app;
  const folders = store.descendants(dirIds, user.id);
  const root = folders.findIndex((f) => f.parentId === null);
  if (root >= 0) folders.splice(root, 1);
  const direct = [...new Set(fileIds)].flatMap((id) => store.fileOf(user.id, id) ?? []);
  const targets = [...store.filesIn(folders), ...direct];
  const targetIds = new Set(targets.map((f) => f.id));

  if (targetIds.size !== targets.length) {
    // A file listed directly and also inside a listed folder: `DeleteFiles` deletes its row twice,
    // the size guard fails and the transaction rolls back, after the physical objects are gone.
    for (const blob of blobsOnlyUsedBy(app, [...new Map(targets.map((f) => [f.id, f])).values()])) await blobs.discard(blob);
    throw ErrDBDeleteObjects;
  }
  for (const file of targets) await deleteFile(app, file);
  store.deleteSharesOf(false, targetIds);
  for (const folder of folders) store.removeFolder(folder);
  store.deleteSharesOf(true, new Set(folders.map((f) => f.id)));
}

export async function deleteFile(app: App, file: FileRecord): Promise<void> {
  if (file.uploadSessionId !== null) await app.uploads.cancel(file.uploadSessionId);
  app.store.removeFile(file);
  await app.blobs.unref(file.blob);
}

function blobsOnlyUsedBy(app: App, files: readonly FileRecord[]): string[] {
  const uses = new Map<string, number>();
  for (const file of files) uses.set(file.blob, (uses.get(file.blob) ?? 0) + 1);
  return [...uses].filter(([blob, count]) => count >= app.blobs.references(blob)).map(([blob]) => blob);
}
