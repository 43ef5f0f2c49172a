import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from './clock.js';
import { randomString } from './random.js';
import { httpDate } from './timefmt.js';

const cookieName = 'cloudreve-session';
const cookieMaxAgeSeconds = 5_184_000;
/** securecookie's default MaxAge, never changed by Cloudreve: older cookie values decode to nothing. */
const cookieValidSeconds = 30 * 86_400;
/** The server-side store keeps a session 60 days after each save. */
const storeTtlMs = 60 * 86_400_000;

/** The per-request view of a session; writing to it re-issues the cookie. */
export class Session {
  #dirty = false;

  constructor(
    readonly id: string | null,
    readonly values: Map<string, unknown>,
  ) {}

  get dirty(): boolean {
    return this.#dirty;
  }

  get(key: string): unknown {
    return this.values.get(key);
  }

  set(key: string, value: unknown): void {
    this.values.set(key, value);
    this.#dirty = true;
  }

  delete(key: string): void {
    this.values.delete(key);
    this.#dirty = true;
  }
}

/**
 * gorilla/sessions with a signed (not encrypted) session id in the cookie and the values in a
 * server-side store. The cookie value carries the time it was issued, so its 30-day limit is
 * measured from the last re-issue, on the stand-in's clock.
 */
export class SessionStore {
  readonly #key = randomBytes(32);
  readonly #store = new Map<string, { values: Map<string, unknown>; expiresAt: number }>();

  constructor(private readonly clock: Clock) {}

  load(cookieHeader: string | undefined): Session {
    const id = this.#decode(readCookie(cookieHeader, cookieName));
    if (id === null) return new Session(null, new Map());
    const stored = this.#store.get(id);
    const live = stored !== undefined && stored.expiresAt > this.clock.now();
    return new Session(id, new Map(live ? stored.values : []));
  }

  /** Saves the session and returns the Set-Cookie header value. */
  save(session: Session): string {
    const id = session.id ?? randomString(52);
    const now = this.clock.now();
    this.#store.set(id, { values: new Map(session.values), expiresAt: now + storeTtlMs });
    const value = this.#encode(id, Math.floor(now / 1000));
    return `${cookieName}=${value}; Path=/; Expires=${httpDate(now + cookieMaxAgeSeconds * 1000)}; Max-Age=${cookieMaxAgeSeconds}; HttpOnly`;
  }

  /** Every existing cookie now decodes to an empty (anonymous) session. */
  clear(): void {
    this.#store.clear();
  }

  #mac(payload: string): Buffer {
    return createHmac('sha256', this.#key).update(`${cookieName}|${payload}`).digest();
  }

  #encode(id: string, issuedAt: number): string {
    const payload = `${id}|${issuedAt}`;
    return Buffer.from(`${payload}|${this.#mac(payload).toString('base64url')}`).toString('base64url');
  }

  #decode(value: string | undefined): string | null {
    if (value === undefined) return null;
    const [id, issued, mac] = Buffer.from(value, 'base64url').toString().split('|');
    if (id === undefined || issued === undefined || mac === undefined) return null;
    const expected = this.#mac(`${id}|${issued}`);
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    if (Number(issued) < this.clock.nowSeconds() - cookieValidSeconds) return null;
    return id;
  }
}

/** The first cookie of that name, as Go's `Request.Cookie` picks it. */
function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
