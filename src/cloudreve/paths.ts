import { RemoteError } from '../remote/errors.js';
import { invalidNameReason } from './names.js';

/*
 * Remote paths as the Remote contract uses them: absolute, '/'-separated, "/" for the root, never
 * URL-encoded. Cloudreve looks listing and move paths up literally (no cleaning), so anything but
 * the canonical spelling would silently name nothing.
 */

/** The segments of a canonical remote path; throws kind `bad-request` for anything else. */
export function segments(path: string): string[] {
  if (!path.startsWith('/')) throw badPath(path, 'it does not start with "/"');
  if (path === '/') return [];
  const parts = path.slice(1).split('/');
  for (const part of parts) {
    if (part === '') throw badPath(path, 'it has an empty segment or a trailing "/"');
    if (part === '.' || part === '..') throw badPath(path, `it has a "${part}" segment`);
  }
  return parts;
}

/** Checks that `path` is canonical and returns it. */
export function checkedPath(path: string): string {
  segments(path);
  return path;
}

/** `path` with each segment percent-encoded for a URL; "/" stays "/". */
export function encodePath(path: string): string {
  return `/${segments(path).map(encodeURIComponent).join('/')}`;
}

export function joinPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

/** The parent folder and the last segment; the root has no parent. */
export function splitPath(path: string): { parent: string; name: string } | undefined {
  const parts = segments(path);
  const name = parts.pop();
  if (name === undefined) return undefined;
  return { parent: `/${parts.join('/')}`, name };
}

/** Throws kind `invalid-name` before a request that the server would refuse for the name. */
export function checkName(name: string, target: string): void {
  const reason = invalidNameReason(name);
  if (reason !== undefined) throw new RemoteError(`Invalid name: ${reason}`, { kind: 'invalid-name', target });
}

function badPath(path: string, why: string): RemoteError {
  return new RemoteError(`Not a canonical remote path because ${why}`, { kind: 'bad-request', target: path });
}
