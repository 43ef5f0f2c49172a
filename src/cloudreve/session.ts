import { CookieJar, type SerializedCookieJar } from 'tough-cookie';
import * as z from 'zod';
import type { Logger } from '../log/logger.js';
import { RemoteError } from '../remote/errors.js';
import { Code } from './codes.js';
import type { Cookies } from './cookies.js';
import { codeError, protocolError, type FailureContext } from './failures.js';
import { apiPrefix, apiUrl, type HttpMethod, type HttpTransport, type ParsedAnswer } from './http.js';
import { withoutCredentials } from './redact.js';
import { siteUserSchema, type Envelope } from './wire.js';

/** Where the session cookie survives a restart. `save(undefined)` forgets it (logout). */
export interface SessionStore {
  load(): string | undefined;
  save(serialized: string | undefined): void;
}

export interface Credentials {
  readonly username: string;
  readonly password: string;
  readonly totpSecret?: string | undefined;
}

/** What a previous run left in the store, or a fresh jar. */
export interface RestoredSession {
  readonly jar: CookieJar;
  /** When the server last issued the cookie (client clock, epoch ms); 0 when unknown. */
  readonly issuedAt: number;
}

const sessionCookieName = 'cloudreve-session';

const captchaRequired = 'The server requires a captcha to log in, which cloudreve-sync cannot solve; turn the login captcha off';
const loginSummaries = new Map<number, string>([
  [Code.twoFactorCodeErr, "The server rejected the TOTP code; check totpSecret and this machine's clock"],
  [Code.captchaError, captchaRequired],
  [Code.captchaRefreshNeeded, captchaRequired],
]);

const persistedSchema = z.object({
  v: z.literal(1),
  /** Server URL and user name: a cookie of another account is never reused. */
  account: z.string(),
  issuedAt: z.number(),
  jar: z.unknown(),
});

export function accountKey(baseUrl: string, username: string): string {
  // Without a proxy's user and password that the URL may carry: the key is stored.
  return `${withoutCredentials(baseUrl)}\n${username}`;
}

export function restoreSession(store: SessionStore | undefined, account: string, logger: Logger): RestoredSession {
  const fresh = { jar: new CookieJar(), issuedAt: 0 };
  let raw: string | undefined;
  try {
    raw = store?.load();
  } catch (error) {
    logger.warn({ err: error }, 'could not read the saved Cloudreve session; logging in afresh');
    return fresh;
  }
  if (raw === undefined) return fresh;
  try {
    const saved = persistedSchema.parse(JSON.parse(raw));
    if (saved.account !== account) return fresh;
    return { jar: CookieJar.deserializeSync(saved.jar as SerializedCookieJar), issuedAt: saved.issuedAt };
  } catch {
    logger.warn('the saved Cloudreve session is unreadable; logging in afresh');
    return fresh;
  }
}

export interface SessionOptions {
  readonly baseUrl: string;
  readonly account: string;
  readonly credentials: Credentials;
  /** When the server last issued the restored cookie (ms since the epoch; 0 for none). */
  readonly issuedAt: number;
  /** The restored jar, shared with the transport. */
  readonly cookies: Cookies;
  readonly transport: HttpTransport;
  /** Re-issue the cookie through `GET /site/config` when it is older than this. */
  readonly refreshMs: number;
  readonly store?: SessionStore | undefined;
  readonly logger: Logger;
}

/**
 * The login state behind the cookie jar. Logs in lazily, once for any number of concurrent
 * callers; keeps the cookie younger than securecookie's 30-day limit by having the server re-issue
 * it; and persists it so that a restart does not log in again.
 */
export class Session {
  private readonly cookies: Cookies;
  private issuedAt: number;
  private loggedIn: boolean;
  /** Bumped by every login, so that callers failing on an old cookie trigger one re-login, not one each. */
  private generation = 0;
  private pendingLogin: Promise<void> | undefined;
  private pendingRefresh: Promise<void> | undefined;

  constructor(private readonly options: SessionOptions) {
    this.cookies = options.cookies;
    this.issuedAt = options.issuedAt;
    this.loggedIn = this.hasCookie();
  }

  /** Makes sure there is a (fresh) session; returns its generation for `renew`. */
  async ensure(): Promise<number> {
    if (!this.loggedIn) await this.login();
    else if (Date.now() - this.issuedAt >= this.options.refreshMs) await this.refresh();
    return this.generation;
  }

  /** The server answered "login required" to a request made with session `generation`. */
  async renew(generation: number): Promise<void> {
    if (generation === this.generation) this.loggedIn = false;
    if (!this.loggedIn) await this.login();
  }

  login(): Promise<void> {
    this.pendingLogin ??= this.performLogin().finally(() => {
      this.pendingLogin = undefined;
    });
    return this.pendingLogin;
  }

  async logout(): Promise<void> {
    try {
      if (this.loggedIn) {
        const { envelope, status } = await this.send('DELETE', '/user/session');
        if (envelope.code !== Code.ok && envelope.code !== Code.checkLogin) {
          throw codeError(envelope, this.context('DELETE', '/user/session'), { status });
        }
      }
    } finally {
      this.cookies.clear();
      this.loggedIn = false;
      this.generation += 1;
      this.save(undefined);
    }
  }

  /** Called by the transport whenever a response sets the session cookie. */
  cookieIssued(): void {
    this.issuedAt = Date.now();
    if (this.loggedIn) this.persist();
  }

  private async performLogin(): Promise<void> {
    const { username, password } = this.options.credentials;
    const { envelope, status } = await this.send('POST', '/user/session', { userName: username, Password: password });
    if (envelope.code === Code.notFullySuccess) {
      await this.secondFactor();
    } else if (envelope.code !== Code.ok) {
      throw this.loginError(envelope, status, '/user/session');
    }
    this.loggedIn = true;
    this.generation += 1;
    this.persist();
    this.options.logger.info({ user: username }, 'logged in to Cloudreve');
  }

  private async secondFactor(): Promise<void> {
    const code = await this.totpCode();
    const { envelope, status } = await this.send('POST', '/user/2fa', { code });
    if (envelope.code !== Code.ok) throw this.loginError(envelope, status, '/user/2fa');
  }

  private async totpCode(): Promise<string> {
    const secret = this.options.credentials.totpSecret;
    const where = { kind: 'auth' as const, method: 'POST', path: `${apiPrefix}/user/session`, code: Code.notFullySuccess };
    if (secret === undefined || secret.trim() === '') {
      throw new RemoteError(
        `Two-factor authentication is enabled for ${this.options.credentials.username}; a TOTP secret (totpSecret) is needed to log in`,
        where,
      );
    }
    // Loaded only by the accounts that need it: every process pays for what it imports.
    const { Secret, TOTP } = await import('otpauth');
    let parsed: InstanceType<typeof Secret>;
    try {
      parsed = Secret.fromBase32(secret.replace(/[\s-]/g, '').toUpperCase());
    } catch {
      throw new RemoteError('The configured TOTP secret (totpSecret) is not valid base32', where);
    }
    return new TOTP({ secret: parsed, algorithm: 'SHA1', digits: 6, period: 30 }).generate();
  }

  private loginError(envelope: Envelope, status: number, path: string): RemoteError {
    const ctx = this.context('POST', path);
    if (envelope.code >= 50000) return codeError(envelope, ctx, { status });
    const summary =
      envelope.code === Code.credentialInvalid
        ? `Wrong e-mail or password for ${this.options.credentials.username}`
        : (loginSummaries.get(envelope.code) ?? 'Login failed');
    return codeError(envelope, ctx, { status, kind: 'auth', summary });
  }

  private refresh(): Promise<void> {
    this.pendingRefresh ??= this.performRefresh().finally(() => {
      this.pendingRefresh = undefined;
    });
    return this.pendingRefresh;
  }

  /** `GET /site/config` writes the session, so the server re-signs the cookie with a new timestamp. */
  private async performRefresh(): Promise<void> {
    const { envelope, status } = await this.send('GET', '/site/config');
    if (envelope.code !== Code.ok) throw codeError(envelope, this.context('GET', '/site/config'), { status });
    const site = siteUserSchema.safeParse(envelope.data);
    if (!site.success) throw protocolError('Unexpected site configuration', this.context('GET', '/site/config'), status);
    // The cookie was already too old: the server treated us as a visitor. Log in now rather than
    // let the caller's request fail with "login required" first.
    if (site.data.user.anonymous) {
      this.loggedIn = false;
      await this.login();
    }
  }

  private send(method: HttpMethod, path: string, json?: unknown): Promise<ParsedAnswer> {
    return this.options.transport.envelope({
      method,
      url: apiUrl(this.options.baseUrl, path),
      route: `${method} ${apiPrefix}${path}`,
      cookies: true,
      ...(json === undefined ? {} : { json }),
    });
  }

  private context(method: HttpMethod, path: string): FailureContext {
    return { method, url: apiUrl(this.options.baseUrl, path) };
  }

  private hasCookie(): boolean {
    return this.cookies.has(sessionCookieName, apiUrl(this.options.baseUrl, '/'));
  }

  private persist(): void {
    const jar = this.cookies.serialize();
    if (jar === undefined) return;
    this.save(JSON.stringify({ v: 1, account: this.options.account, issuedAt: this.issuedAt, jar }));
  }

  private save(serialized: string | undefined): void {
    try {
      this.options.store?.save(serialized);
    } catch (error) {
      this.options.logger.warn({ err: error }, 'could not save the Cloudreve session');
    }
  }
}
