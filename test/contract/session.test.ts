import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudreveV3 } from '../../src/cloudreve/index.js';
import { failure, memoryStore, requestLog, routes } from './helpers.js';
import { hasTwoFactorAccount, onRealServer, openTarget, standinOf, type Target } from './target.js';

const day = 86_400_000;
/** A fixed base32 secret for the stand-in's two-factor user. */
const totpSecret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

let target: Target;
beforeAll(async () => {
  target = await openTarget();
});
afterAll(async () => {
  await target.close();
});

describe('login', () => {
  it('logs in lazily, once, however many calls need it at the same time', async () => {
    const log = requestLog();
    const client = target.client({ onRequest: log.onRequest });
    expect(log.events).toHaveLength(0);
    await Promise.all([client.list(target.root), client.list(target.root), client.quota()]);
    expect(log.count(routes.login)).toBe(1);
  });

  it('reports a wrong password as kind auth, without the password', async () => {
    const password = 'definitely-Wrong-passw0rd';
    const error = await failure(target.client({ password }).list(target.root));
    expect(error.kind).toBe('auth');
    expect(error.retryable).toBe(false);
    expect(error.code).toBe(40020);
    expect(error.message).not.toContain(password);
  });

  it('returns the user on an explicit login', async () => {
    const user = await target.client().login();
    expect(user.email).toBe(target.username);
  });
});

describe('two-factor login', () => {
  /** A two-factor account: the stand-in's, or the real one when it has a TOTP secret. */
  function twoFactorAccount(): { url: string; username: string; password: string; secret: string } {
    if (target.standin === undefined) {
      return { url: target.url, username: target.username, password: target.password, secret: target.totpSecret ?? '' };
    }
    const user = target.standin.addUser(`twofa-${Math.random().toString(36).slice(2)}@example.com`, 'two-factor-pw', { totpSecret });
    return { url: target.url, username: user.email, password: user.password, secret: totpSecret };
  }

  it.skipIf(!hasTwoFactorAccount)('finishes the login with a TOTP code on the same cookie', async () => {
    const account = twoFactorAccount();
    const log = requestLog();
    const client = target.client({ username: account.username, password: account.password, totpSecret: account.secret, onRequest: log.onRequest });
    expect((await client.me()).email).toBe(account.username);
    expect(log.count(routes.twoFactor)).toBe(1);
  });

  it.skipIf(!hasTwoFactorAccount)('asks for a TOTP secret when none is configured', async () => {
    const account = twoFactorAccount();
    const client = new CloudreveV3({ url: account.url, username: account.username, password: account.password });
    try {
      const error = await failure(client.me());
      expect(error.kind).toBe('auth');
      expect(error.message).toContain('TOTP secret');
    } finally {
      client.close();
    }
  });

  it.skipIf(!hasTwoFactorAccount)('reports a wrong TOTP secret as kind auth, without the secret', async () => {
    const account = twoFactorAccount();
    const wrong = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
    const error = await failure(target.client({ username: account.username, password: account.password, totpSecret: wrong }).me());
    expect(error.kind).toBe('auth');
    expect(error.code).toBe(40022);
    expect(error.message).not.toContain(wrong);
  });
});

describe('session lifetime', () => {
  it.skipIf(onRealServer)('logs in again once when the server forgot the session', async () => {
    const log = requestLog();
    const client = target.client({ onRequest: log.onRequest });
    await client.list(target.root);
    standinOf(target).control.expireLoginSessions();
    await Promise.all([client.list(target.root), client.quota()]);
    expect(log.count(routes.login)).toBe(2);
  });

  it('restores a persisted session without logging in again', async () => {
    const store = memoryStore();
    await target.client({ sessionStore: store }).list(target.root);
    expect(store.value).toBeDefined();
    const log = requestLog();
    await target.client({ sessionStore: store, onRequest: log.onRequest }).list(target.root);
    expect(log.count(routes.login)).toBe(0);
  });

  it.skipIf(onRealServer)('does not reuse the stored session of another account', async () => {
    const store = memoryStore();
    await target.client({ sessionStore: store }).list(target.root);
    const other = standinOf(target).addUser('other@example.com', 'other-password');
    const log = requestLog();
    const client = target.client({ username: other.email, password: other.password, sessionStore: store, onRequest: log.onRequest });
    expect((await client.me()).email).toBe(other.email);
    expect(log.count(routes.login)).toBe(1);
  });

  it.skipIf(onRealServer)('keeps the session alive past the 30-day cookie limit by having it re-issued', async () => {
    const { control } = standinOf(target);
    const refreshed = memoryStore();
    const neglected = memoryStore();
    await target.client({ sessionStore: refreshed, sessionRefreshMs: 0 }).list(target.root);
    await target.client({ sessionStore: neglected }).list(target.root);

    control.advanceClock(20 * day);
    const keeper = requestLog();
    await target.client({ sessionStore: refreshed, sessionRefreshMs: 0, onRequest: keeper.onRequest }).list(target.root);
    expect(keeper.count(routes.siteConfig)).toBe(1);
    expect(keeper.count(routes.login)).toBe(0);

    control.advanceClock(20 * day);
    // Both cookies were issued less than a (client) day ago, so neither client refreshes now: the
    // re-issued one is 20 days old on the server, the other one 40.
    const afterRefresh = requestLog();
    await target.client({ sessionStore: refreshed, onRequest: afterRefresh.onRequest }).list(target.root);
    expect(afterRefresh.count(routes.login)).toBe(0);
    const withoutRefresh = requestLog();
    await target.client({ sessionStore: neglected, onRequest: withoutRefresh.onRequest }).list(target.root);
    expect(withoutRefresh.count(routes.login)).toBe(1);
  });

  it('forgets the stored session on logout and logs in again afterwards', async () => {
    const store = memoryStore();
    const log = requestLog();
    const client = target.client({ sessionStore: store, onRequest: log.onRequest });
    await client.list(target.root);
    await client.logout();
    expect(store.value).toBeUndefined();
    await client.list(target.root);
    expect(log.count(routes.login)).toBe(2);
  });
});
