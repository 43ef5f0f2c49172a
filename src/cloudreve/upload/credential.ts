import { protocolError } from '../failures.js';
import { apiUrl } from '../http.js';
import type { SenderContext } from './types.js';

/** A field the policy type needs from the upload credential; its absence is a protocol error. */
export function required<T>(value: T | null | undefined, field: string, ctx: SenderContext): T {
  if (value === undefined || value === null) {
    throw protocolError(`The upload session answer lacks "${field}"`, {
      method: 'PUT',
      url: apiUrl(ctx.baseUrl, '/file/upload'),
      target: ctx.target,
    });
  }
  return value;
}
