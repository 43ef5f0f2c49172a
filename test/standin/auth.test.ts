import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandin } from './index.js';
import type { Standin } from './index.js';
import { Client, totpNow } from './test-client.js';

const day = 86_400_000;
const secret = 'JBSWY3DPEHPK3PXP';
let standin: Standin;

beforeAll(async () => {
  standin = await startStandin({ quota: 5000 });
  standin.addUser('otp@example.com', 'password1', { totpSecret: secret });
});
afterAll(() => standin.close());

const client = (): Client => new Client(standin.url);

describe('password login', () => {
  it('issues the session cookie with the gorilla attributes', async () => {
    const c = client();
    const answer = await c.raw('POST', '/api/v3/user/session', {
      body: JSON.stringify({ userName: standin.admin.email, Password: standin.admin.password }),
    });
    expect(answer.body.code).toBe(0);
    const cookie = answer.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^cloudreve-session=[^;]+; Path=\/; Expires=\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT; Max-Age=5184000; HttpOnly$/);
    expect(answer.body.data).toMatchObject({ user_name: 'admin@cloudreve.org', nickname: 'admin', anonymous: false, group: { id: 1, name: 'Admin' } });
    expect(standin.admin.password).toMatch(/^[0-9a-zA-Z]{8}$/);
  });

  it('refuses wrong credentials with 40020', async () => {
    expect(await client().login(standin.admin.email, 'wrong-password')).toEqual({ code: 40020, msg: 'Wrong password or email address' });
    expect(await client().login('nobody@example.com', 'wrong-password')).toEqual({ code: 40020, msg: 'Wrong password or email address' });
    // E-mail lookup is an exact match.
    expect((await client().login('ADMIN@cloudreve.org', standin.admin.password)).code).toBe(40020);
  });

  it('logs out, leaving an anonymous cookie', async () => {
    const c = client();
    await c.login(standin.admin.email, standin.admin.password);
    expect((await c.api('GET', '/user/me')).code).toBe(0);
    expect(await c.api('DELETE', '/user/session')).toEqual({ code: 0, msg: '' });
    expect(await c.api('GET', '/user/me')).toEqual({ code: 401, msg: 'Login required' });
  });
});

describe('two-factor login', () => {
  it('asks for the code with 203 and finishes on the same cookie', async () => {
    const c = client();
    const first = await c.raw('POST', '/api/v3/user/session', { body: JSON.stringify({ userName: 'otp@example.com', Password: 'password1' }) });
    expect(first.text).toBe('{"code":203,"msg":""}');
    expect(first.headers.get('set-cookie')).not.toBeNull();
    expect(await c.api('GET', '/user/me')).toEqual({ code: 401, msg: 'Login required' });
    expect(await c.api('POST', '/user/2fa', { code: 'abcdef' })).toEqual({
      code: 40022,
      msg: '2FA code not correct',
    });
    const done = await c.api('POST', '/user/2fa', { code: totpNow(secret) });
    expect(done.code).toBe(0);
    expect(done.data).toMatchObject({ user_name: 'otp@example.com', group: { id: 2, name: 'User' } });
    expect((await c.api('GET', '/user/me')).code).toBe(0);
  });

  it('refuses a code without a pending login', async () => {
    expect(await client().api('POST', '/user/2fa', { code: totpNow(secret) })).toEqual({ code: 40023, msg: 'Login session not exist' });
    expect(await client().api('POST', '/user/2fa', {})).toEqual({ code: 40001, msg: 'Code cannot be empty' });
  });
});

describe('cookie lifetime', () => {
  it('expires 30 days after the cookie was last issued, and GET /site/config re-issues it', async () => {
    const c = client();
    await c.login(standin.admin.email, standin.admin.password);
    standin.control.advanceClock(29 * day);
    expect((await c.api('GET', '/user/me')).code).toBe(0);
    const refreshed = await c.raw('GET', '/api/v3/site/config');
    expect(refreshed.headers.get('set-cookie')).not.toBeNull();
    standin.control.advanceClock(29 * day);
    expect((await c.api('GET', '/user/me')).code).toBe(0);
    standin.control.advanceClock(2 * day);
    expect((await c.api('GET', '/user/me')).code).toBe(401);
  });

  it('does not re-issue the cookie on ordinary calls', async () => {
    const c = client();
    await c.login(standin.admin.email, standin.admin.password);
    expect((await c.raw('GET', '/api/v3/user/me')).headers.get('set-cookie')).toBeNull();
    standin.control.advanceClock(31 * day);
    expect((await c.api('GET', '/user/me')).code).toBe(401);
  });

  it('forgets every login on expireLoginSessions', async () => {
    const c = client();
    await c.login(standin.admin.email, standin.admin.password);
    standin.control.expireLoginSessions();
    expect((await c.api('GET', '/user/me')).code).toBe(401);
  });
});

describe('site and account', () => {
  it('describes the anonymous user in /site/config and issues a cookie', async () => {
    const c = client();
    const answer = await c.raw('GET', '/api/v3/site/config');
    expect(answer.headers.get('set-cookie')).toMatch(/^cloudreve-session=/);
    const data = answer.body.data as Record<string, unknown>;
    expect(Object.keys(data)).toEqual([
      'title', 'loginCaptcha', 'regCaptcha', 'forgetCaptcha', 'emailActive', 'themes', 'defaultTheme', 'home_view_method',
      'share_view_method', 'authn', 'user', 'captcha_ReCaptchaKey', 'captcha_type', 'tcaptcha_captcha_app_id', 'registerEnabled',
      'app_promotion', 'wopi_exts',
    ]);
    expect(data.user).toMatchObject({ anonymous: true, created_at: '0001-01-01T00:00:00Z', group: { id: 0, name: 'Anonymous' } });
  });

  it('registers users, refusing a known e-mail', async () => {
    expect(await client().api('POST', '/user', { userName: 'new@example.com', Password: 'secret1' })).toEqual({ code: 0, msg: '' });
    expect((await client().api('POST', '/user', { userName: 'new@example.com', Password: 'secret1' })).code).toBe(40032);
    const c = client();
    const login = await c.login('new@example.com', 'secret1');
    expect(login.data).toMatchObject({ nickname: 'new', group: { id: 2 } });
  });

  it('reports storage against the group quota', async () => {
    const c = client();
    await c.login(standin.admin.email, standin.admin.password);
    expect(await c.api('GET', '/user/storage')).toEqual({ code: 0, data: { used: 0, free: 5000, total: 5000 }, msg: '' });
    standin.control.setQuota(100);
    expect((await c.api('GET', '/user/storage')).data).toEqual({ used: 0, free: 100, total: 100 });
  });
});
