import type { App } from './app.js';
import { IdType } from './ids.js';
import type { FileRecord, Folder, Group, Policy, User } from './store.js';
import { rfc3339, zeroTime } from './timefmt.js';

/** JSON shapes of pkg/serializer, keys in Go struct order. */

/** `BuildUser`; `null` = the anonymous user (group id 0 because it is read from `user.GroupID`). */
export function userJson(app: App, user: User | null): Record<string, unknown> {
  const group = app.store.group(user?.groupId ?? 3);
  return {
    id: app.ids.encode(user?.id ?? 0, IdType.user),
    user_name: user?.email ?? '',
    nickname: user?.nick ?? '',
    status: 0,
    avatar: '',
    created_at: user === null ? zeroTime : rfc3339(user.createdAt),
    preferred_theme: '',
    anonymous: user === null,
    group: groupJson(group, user === null ? 0 : group.id),
    tags: [],
  };
}

function groupJson(group: Group, id: number): Record<string, unknown> {
  return {
    id,
    name: group.name,
    allowShare: group.shareEnabled,
    allowRemoteDownload: group.aria2,
    allowArchiveDownload: group.archiveDownload,
    shareDownload: group.shareDownload,
    compress: group.archiveTask,
    webdav: group.webdav,
    sourceBatch: group.sourceBatch,
    advanceDelete: group.advanceDelete,
    allowWebDAVProxy: false,
  };
}

/** `serializer.Object` of a listing; `path` is the listed folder's path for every entry. */
export function folderObject(app: App, folder: Folder, path: string): Record<string, unknown> {
  return {
    id: app.ids.encode(folder.id, IdType.folder),
    name: folder.name,
    path,
    thumb: false,
    size: 0,
    type: 'dir',
    date: rfc3339(folder.updatedAt),
    create_date: rfc3339(folder.createdAt),
    source_enabled: false,
  };
}

export function fileObject(app: App, file: FileRecord, path: string): Record<string, unknown> {
  return {
    id: app.ids.encode(file.id, IdType.file),
    name: file.name,
    path,
    // No thumbnail is ever attempted, so none is marked unavailable.
    thumb: true,
    size: file.size,
    type: 'file',
    date: rfc3339(file.updatedAt),
    create_date: rfc3339(file.createdAt),
    // No stand-in policy enables source links.
    source_enabled: false,
  };
}

export function policySummary(app: App, policy: Policy): Record<string, unknown> {
  return {
    id: app.ids.encode(policy.id, IdType.policy),
    name: policy.name,
    type: policy.type,
    max_size: policy.maxSize,
    // A fresh install's policy has no FileType option: Go writes the nil slice as null.
    file_type: policy.fileTypes.length === 0 ? null : policy.fileTypes,
  };
}
