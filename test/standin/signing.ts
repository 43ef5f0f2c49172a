import { createHmac } from 'node:crypto';
import type { Clock } from './clock.js';
import { AppError, goJson } from './envelope.js';
import { randomString } from './random.js';

const ErrExpiresMissing = new AppError(403, 'expire timestamp is missing');
const ErrAuthHeaderMissing = new AppError(403, 'authorization header is missing');
const ErrInvalidSign = new AppError(40071, 'invalid sign');
const ErrSignExpired = new AppError(40005, 'signature expired');

/** pkg/auth/hmac.go: `base64url(HMAC-SHA256(key, content + ":" + expires)) + ":" + expires`, 0 = never expires. */
export class Signer {
  readonly #key = randomString(256);

  constructor(private readonly clock: Clock) {}

  sign(content: string, expires: number): string {
    // Go's base64.URLEncoding keeps the padding.
    const mac = createHmac('sha256', this.#key).update(`${content}:${expires}`).digest('base64');
    return `${mac.replace(/\+/g, '-').replace(/\//g, '_')}:${expires}`;
  }

  /** `HMACAuth.Check`; throws the AppError the sign middleware answers with. */
  check(content: string, sign: string): void {
    const last = sign.slice(sign.lastIndexOf(':') + 1);
    if (last === '') throw ErrExpiresMissing;
    if (!/^[+-]?\d+$/.test(last)) throw ErrInvalidSign;
    const expires = Number(last);
    if (expires !== 0 && expires < this.clock.nowSeconds()) throw ErrSignExpired;
    if (this.sign(content, expires) !== sign) throw ErrInvalidSign;
  }

  /** `auth.SignURI`: signs the path only; the query carries `sign` (url.Values encoding). */
  signPath(path: string, ttlSeconds: number): string {
    const expires = ttlSeconds === 0 ? 0 : this.clock.nowSeconds() + ttlSeconds;
    return `?${new URLSearchParams({ sign: this.sign(path, expires) }).toString()}`;
  }

  /** `auth.CheckURI` for GET requests. */
  checkPath(path: string, query: URLSearchParams): void {
    this.check(path, query.get('sign') ?? '');
  }

  /** `auth.SignRequest` as the remote driver uses it: `Bearer <sign>` over path and X-Cr-* headers. */
  signRequest(path: string, ttlSeconds: number): string {
    return `Bearer ${this.sign(requestContent(path, {}), this.clock.nowSeconds() + ttlSeconds)}`;
  }

  /** `auth.CheckRequest` for slave upload paths (body excluded from the signature). */
  checkRequest(path: string, headers: Readonly<Record<string, string | string[] | undefined>>): void {
    const authorization = headers.authorization;
    if (typeof authorization !== 'string') throw ErrAuthHeaderMissing;
    this.check(requestContent(path, headers), authorization.replace(/^Bearer /, ''));
  }
}

/** `getSignContent`: path plus the sorted `X-Cr-*` headers except X-Cr-Filename, body left out. */
function requestContent(path: string, headers: Readonly<Record<string, string | string[] | undefined>>): string {
  const signed = Object.entries(headers)
    .filter(([name]) => name.startsWith('x-cr-') && name !== 'x-cr-filename')
    .map(([name, value]) => `${canonicalHeader(name)}=${Array.isArray(value) ? (value[0] ?? '') : (value ?? '')}`)
    .sort();
  return goJson({ Path: path, Header: signed.join('&'), Body: '' });
}

/** Go's `textproto.CanonicalMIMEHeaderKey`. */
function canonicalHeader(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_m, dash: string, letter: string) => dash + letter.toUpperCase());
}
