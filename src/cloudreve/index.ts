export { CloudreveV3 } from './client.js';
export type { CloudreveV3Options } from './options.js';
export type { SessionStore } from './session.js';
export type { RequestEvent } from './http.js';
export type { ObjectProperties, SiteConfig, UserInfo, WebDavAccount } from './types.js';
export { invalidNameReason } from './names.js';
export { withoutCredentials } from './redact.js';
