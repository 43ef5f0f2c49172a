import type { RemoteErrorKind } from '../remote/errors.js';

/** Cloudreve v3 numeric codes (pkg/serializer/error.go) that the client acts on by name. */
export const Code = {
  ok: 0,
  notFullySuccess: 203,
  checkLogin: 401,
  notFound: 404,
  objectExist: 40004,
  signExpired: 40005,
  policyNotAllowed: 40006,
  uploadSessionExpired: 40011,
  parentNotExist: 40016,
  credentialInvalid: 40020,
  twoFactorCodeErr: 40022,
  captchaError: 40026,
  captchaRefreshNeeded: 40027,
  invalidSign: 40071,
} as const;

const kinds: ReadonlyMap<number, RemoteErrorKind> = new Map<number, RemoteErrorKind>([
  [203, 'server'], // partial success: some physical deletions failed
  [401, 'auth'],
  [403, 'forbidden'],
  [404, 'not-found'],
  [409, 'exists'],
  [40002, 'server'],
  [40003, 'server'],
  [40004, 'exists'],
  [40005, 'forbidden'],
  [40006, 'forbidden'],
  [40007, 'forbidden'],
  [40008, 'forbidden'],
  [40009, 'server'],
  [40011, 'upload-session-expired'],
  [40016, 'not-found'],
  [40017, 'auth'],
  [40018, 'auth'],
  [40019, 'forbidden'],
  [40020, 'auth'],
  [40021, 'auth'],
  [40022, 'auth'],
  [40023, 'auth'],
  [40024, 'auth'],
  [40025, 'auth'],
  [40026, 'auth'],
  [40027, 'auth'],
  [40029, 'forbidden'],
  [40030, 'forbidden'],
  [40035, 'forbidden'],
  [40044, 'not-found'],
  [40049, 'file-too-large'],
  [40050, 'file-type-not-allowed'],
  [40051, 'quota-exceeded'],
  [40052, 'invalid-name'],
  [40053, 'forbidden'],
  [40054, 'upload-in-progress'],
  [40055, 'server'],
  [40058, 'not-found'],
  [40071, 'forbidden'],
]);

export function kindForCode(code: number): RemoteErrorKind {
  const known = kinds.get(code);
  if (known !== undefined) return known;
  if (code >= 50000 && code < 60000) return 'server';
  if (code >= 40000 && code < 50000) return 'bad-request';
  return 'server';
}

/**
 * Whether repeating the same request may succeed. 5xxxx codes are the server's own failures; the
 * 4xxxx "server" kinds (40002 write failed, 40055 size mismatch, partial delete 203) need a new
 * upload session or a human, not the same request again.
 */
export function isRetryableCode(code: number): boolean {
  return code >= 50000 && code < 60000;
}
