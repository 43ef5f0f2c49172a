/**
 * Cloudreve's only JSON shape, `{code, data, msg}` (pkg/serializer/response.go), and the
 * application errors whose fixed code and message replace whatever a handler passed.
 */

/** An error that reaches the client as an envelope (HTTP 200 unless `status` says otherwise). */
export class AppError extends Error {
  override readonly name = 'AppError';

  constructor(
    readonly code: number,
    readonly msg: string,
    readonly status = 200,
  ) {
    super(`${code} ${msg}`);
  }
}

/** A Go panic caught by gin's Recovery middleware: HTTP 500 with an empty body. */
export class Panic extends Error {
  override readonly name = 'Panic';
}

// pkg/filesystem/errors.go and friends.
export const ErrFileSizeTooBig = new AppError(40049, 'File is too large');
export const ErrFileExtensionNotAllowed = new AppError(40050, 'File type not allowed');
export const ErrInsufficientCapacity = new AppError(40051, 'Insufficient capacity');
export const ErrIllegalObjectName = new AppError(40052, 'Invalid object name');
export const ErrRootProtected = new AppError(40053, 'Root protected');
export const ErrFileExisted = new AppError(40004, 'Object existed');
export const ErrFileUploadSessionExisted = new AppError(40054, 'Upload session existed');
export const ErrPathNotExist = new AppError(40016, 'Path not exist');
export const ErrObjectNotExist = new AppError(40016, 'Object not exist');
export const ErrDBDeleteObjects = new AppError(50001, 'Failed to delete object records');
export const ErrOneObjectOnly = new AppError(40001, 'You can only copy one object at the same time');
export const ErrLoginRequired = new AppError(401, 'Login required');
export const ErrUploadSessionExpired = new AppError(40011, '');
export const ErrFileNotFound = new AppError(40044, '');
export const ErrParseObjectId = new AppError(40001, 'Failed to parse object ID');

/** `serializer.ParamErr`: 40001 with a fallback message. */
export function paramError(msg: string): AppError {
  return new AppError(40001, msg === '' ? 'Invalid parameters.' : msg);
}

export type Reply =
  | { readonly kind: 'envelope'; readonly status: number; readonly code: number; readonly data?: unknown; readonly msg: string }
  | { readonly kind: 'plain'; readonly status: number; readonly headers: Readonly<Record<string, string>>; readonly body: string }
  /** The handler already wrote the response (file bodies, redirects with extra headers). */
  | { readonly kind: 'streamed' };

export function ok(data?: unknown): Reply {
  return data === undefined ? { kind: 'envelope', status: 200, code: 0, msg: '' } : { kind: 'envelope', status: 200, code: 0, data, msg: '' };
}

export function errorReply(error: AppError): Reply {
  return { kind: 'envelope', status: error.status, code: error.code, msg: error.msg };
}

/** Go's json.Marshal escapes these even inside strings; JSON.stringify does not. */
export function goJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Key order code, data, msg; `data` omitted when nil (omitempty), `error` never (release mode). */
export function envelopeJson(code: number, data: unknown, msg: string): string {
  return goJson(data === undefined || data === null ? { code, msg } : { code, data, msg });
}
