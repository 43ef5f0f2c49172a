import type { CookieJar, SerializedCookieJar } from 'tough-cookie';

/** How long an answer of the jar is reused; far below any cookie's lifetime. */
const reuseMs = 1000;

/**
 * The session's cookie jar, with the Cookie header of each route kept for a second. Asking the
 * jar takes some 40 µs (domain, path and expiry matching, sorting), more than got spends
 * building the rest of a request, and an upload asks it twice per file with the same answer.
 * A route's URLs differ only below its fixed prefix, and Cloudreve sets its cookie for `/`, so
 * they share one header (a cookie set without a path, which would get the path of the request
 * that set it, could tell them apart). What the server sets, and clearing the jar, take effect
 * at once.
 */
export class Cookies {
  readonly #jar: CookieJar;
  readonly #headers = new Map<string, { readonly value: string; readonly until: number }>();

  constructor(jar: CookieJar) {
    this.#jar = jar;
  }

  /** The Cookie header for a request to `url`, one of `route`'s URLs ('' when there is none). */
  header(url: URL, route: string): string {
    const key = `${url.origin} ${route}`;
    const now = performance.now();
    const cached = this.#headers.get(key);
    if (cached !== undefined && cached.until > now) return cached.value;
    const value = this.#jar.getCookieStringSync(url.toString());
    this.#headers.set(key, { value, until: now + reuseMs });
    return value;
  }

  /**
   * Keeps the cookies a response to `url` set. One the jar refuses (set for another domain, say,
   * by a proxy) is left out, as a browser leaves it out, and the others are kept.
   */
  async store(setCookies: readonly string[], url: URL): Promise<void> {
    if (setCookies.length === 0) return;
    try {
      for (const cookie of setCookies) await this.#jar.setCookie(cookie, url.toString(), { ignoreError: true });
    } finally {
      this.#headers.clear();
    }
  }

  has(name: string, url: URL): boolean {
    return this.#jar.getCookiesSync(url.toString()).some((cookie) => cookie.key === name);
  }

  clear(): void {
    this.#jar.removeAllCookiesSync();
    this.#headers.clear();
  }

  serialize(): SerializedCookieJar | undefined {
    return this.#jar.serializeSync();
  }
}
