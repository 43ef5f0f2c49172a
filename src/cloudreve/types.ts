/** What Cloudreve v3 offers beyond the Remote contract; plain data, no wire names. */

export interface UserInfo {
  readonly id: string;
  /** The login e-mail address. */
  readonly email: string;
  readonly nickname: string;
  /** 0 active, 1 not activated, 2 banned, 3 banned for over-use. */
  readonly status: number;
  readonly createdMs: number;
  readonly group: {
    readonly id: number;
    readonly name: string;
    readonly allowShare: boolean;
    readonly webdav: boolean;
    /** How many files one direct-link request may name. */
    readonly sourceBatch: number;
  };
}

export interface SiteConfig {
  readonly title: string;
  /** A login captcha makes unattended logins impossible. */
  readonly loginCaptcha: boolean;
  readonly registerEnabled: boolean;
  /** The logged-in user, or undefined for a visitor. */
  readonly user: UserInfo | undefined;
}

export interface ObjectProperties {
  readonly createdMs: number;
  readonly modifiedMs: number;
  /** Bytes; for a folder the sum over everything below it (the server caches folder totals for 5 minutes). */
  readonly size: number;
  /** Folders and files below a folder, at any depth; 0 for files. */
  readonly childFolders: number;
  readonly childFiles: number;
  /** Name of the file's storage policy; undefined for folders. */
  readonly policyName: string | undefined;
  /** Full path of the folder that holds the object ("" for the root folder itself). */
  readonly parentPath: string | undefined;
  /** When the server computed the answer. */
  readonly queriedMs: number;
}

/** A WebDAV account of the user; its password is deliberately not exposed. */
export interface WebDavAccount {
  readonly id: number;
  readonly name: string;
  /** The folder the account sees as its root. */
  readonly root: string;
  readonly readonly: boolean;
  readonly useProxy: boolean;
  readonly createdMs: number;
}
