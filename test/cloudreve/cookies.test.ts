import { CookieJar } from 'tough-cookie';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Cookies } from '../../src/cloudreve/cookies.js';

const base = 'https://cloud.example.com';
const url = (path: string): URL => new URL(`${base}${path}`);

afterEach(() => {
  vi.useRealTimers();
});

describe('Cookies', () => {
  it('sends what the server set, from the first request after the response', async () => {
    const cookies = new Cookies(new CookieJar());
    expect(cookies.header(url('/api/v3/user/session'), 'POST /api/v3/user/session')).toBe('');
    await cookies.store(['cloudreve-session=abc; Path=/; HttpOnly'], url('/api/v3/user/session'));
    expect(cookies.header(url('/api/v3/file/upload/s1/0'), 'POST /api/v3/file/upload/:sessionId/:index')).toBe('cloudreve-session=abc');
    await cookies.store(['cloudreve-session=def; Path=/; HttpOnly'], url('/api/v3/site/config'));
    expect(cookies.header(url('/api/v3/file/upload/s2/0'), 'POST /api/v3/file/upload/:sessionId/:index')).toBe('cloudreve-session=def');
    expect(cookies.has('cloudreve-session', url('/api/v3/'))).toBe(true);
  });

  it('keeps the cookies it can when the jar refuses one', async () => {
    const cookies = new Cookies(new CookieJar());
    await cookies.store(['proxy=1; Domain=other.example.org; Path=/', 'cloudreve-session=abc; Path=/'], url('/api/v3/user/session'));
    expect(cookies.header(url('/api/v3/user/me'), 'GET /api/v3/user/me')).toBe('cloudreve-session=abc');
  });

  it('asks the jar per route, so a cookie for one path goes only where it belongs', async () => {
    const cookies = new Cookies(new CookieJar());
    await cookies.store(['a=1; Path=/', 'b=2; Path=/api/v3/file'], url('/api/v3/file/upload'));
    expect(cookies.header(url('/api/v3/file/upload'), 'PUT /api/v3/file/upload')).toBe('b=2; a=1');
    expect(cookies.header(url('/api/v3/user/me'), 'GET /api/v3/user/me')).toBe('a=1');
  });

  it('sends nothing once cleared', async () => {
    const cookies = new Cookies(new CookieJar());
    await cookies.store(['cloudreve-session=abc; Path=/'], url('/api/v3/user/session'));
    expect(cookies.header(url('/api/v3/directory/'), 'GET /api/v3/directory/*path')).toBe('cloudreve-session=abc');
    cookies.clear();
    expect(cookies.header(url('/api/v3/directory/'), 'GET /api/v3/directory/*path')).toBe('');
    expect(cookies.has('cloudreve-session', url('/api/v3/'))).toBe(false);
    expect(cookies.serialize()?.cookies).toEqual([]);
  });

  it('asks the jar again after a second, so an expired cookie is not sent for long', async () => {
    // On a whole second: Expires has no finer resolution.
    vi.useFakeTimers({ toFake: ['Date', 'performance'], now: new Date('2026-01-01T00:00:00Z') });
    const jar = new CookieJar();
    const cookies = new Cookies(jar);
    // Expires rather than Max-Age, which tough-cookie counts from the cookie's last use.
    await cookies.store([`short=1; Path=/; Expires=${new Date(Date.now() + 2000).toUTCString()}`], url('/'));
    const route = 'GET /api/v3/user/me';
    expect(cookies.header(url('/api/v3/user/me'), route)).toBe('short=1');
    vi.advanceTimersByTime(1500);
    expect(cookies.header(url('/api/v3/user/me'), route)).toBe('short=1');
    vi.advanceTimersByTime(1000);
    expect(cookies.header(url('/api/v3/user/me'), route)).toBe('');
  });
});
