import type * as z from 'zod';
import type { RemoteEntry, UploadPolicy } from '../remote/types.js';
import type { ObjectProperties, UserInfo, WebDavAccount } from './types.js';
import type { objectSchema, policySchema, propertySchema, userSchema, webdavAccountsSchema } from './wire.js';

/* Wire shapes to the model: the only place that knows both. */

export function toEntry(object: z.output<typeof objectSchema>): RemoteEntry {
  return {
    kind: object.type,
    id: object.id,
    name: object.name,
    size: object.type === 'dir' ? 0 : object.size,
    modifiedMs: object.date,
    createdMs: object.create_date,
  };
}

export function toPolicy(policy: z.output<typeof policySchema>): UploadPolicy {
  return {
    id: policy.id,
    name: policy.name,
    type: policy.type,
    maxSize: policy.max_size,
    allowedExtensions: (policy.file_type ?? []).map((extension) => extension.toLowerCase()),
  };
}

export function toUser(user: z.output<typeof userSchema>): UserInfo {
  return {
    id: user.id,
    email: user.user_name,
    nickname: user.nickname,
    status: user.status,
    createdMs: user.created_at,
    group: { ...user.group },
  };
}

export function toProperties(props: z.output<typeof propertySchema>): ObjectProperties {
  return {
    createdMs: props.created_at,
    modifiedMs: props.updated_at,
    size: props.size,
    childFolders: props.child_folder_num,
    childFiles: props.child_file_num,
    policyName: props.policy,
    parentPath: props.path,
    queriedMs: props.query_date,
  };
}

export function toWebDavAccount(account: z.output<typeof webdavAccountsSchema>['accounts'][number]): WebDavAccount {
  return {
    id: account.ID,
    name: account.Name,
    root: account.Root,
    readonly: account.Readonly,
    useProxy: account.UseProxy,
    createdMs: account.CreatedAt,
  };
}
