import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandin } from './index.js';
import type { Standin } from './index.js';
import { Client } from './test-client.js';

let standin: Standin;
let admin: Client;

beforeAll(async () => {
  standin = await startStandin();
  admin = new Client(standin.url);
  await admin.login(standin.admin.email, standin.admin.password);
});
afterAll(() => standin.close());

describe('envelope', () => {
  it('answers with code, data, msg in that order and no error key', async () => {
    const answer = await admin.raw('GET', '/api/v3/site/ping');
    expect(answer.status).toBe(200);
    expect(answer.text).toBe('{"code":0,"data":"3.8.3","msg":""}');
    expect(answer.headers.get('content-type')).toBe('application/json; charset=utf-8');
  });

  it('omits data when there is none', async () => {
    const answer = await admin.raw('PUT', '/api/v3/directory', { body: JSON.stringify({ path: '/envelope' }) });
    expect(answer.text).toBe('{"code":0,"msg":""}');
  });

  it('escapes <, > and & like Go', async () => {
    await admin.api('PUT', '/directory', { path: '/a&b' });
    const answer = await admin.raw('GET', '/api/v3/directory/');
    expect(answer.text).toContain('"name":"a\\u0026b"');
  });

  it('answers anonymous calls to login routes with HTTP 200 and code 401', async () => {
    const anonymous = new Client(standin.url);
    const answer = await anonymous.raw('GET', '/api/v3/directory/');
    expect(answer.status).toBe(200);
    expect(answer.text).toBe('{"code":401,"msg":"Login required"}');
  });

  it('sets Cache-Control on the /api/v3 group', async () => {
    const answer = await admin.raw('GET', '/api/v3/site/ping');
    expect(answer.headers.get('cache-control')).toBe('private, no-cache');
  });
});

describe('routing', () => {
  it('answers unknown routes and wrong methods with a text 404', async () => {
    for (const [method, path] of [['GET', '/api/v3/nope'], ['POST', '/api/v3/site/ping'], ['GET', '/unknown']] as const) {
      const answer = await admin.raw(method, path);
      expect(answer.status).toBe(404);
      expect(answer.text).toBe('404 page not found');
      expect(answer.headers.get('content-type')).toBe('text/plain');
    }
  });

  it('does not map HEAD to GET', async () => {
    expect((await admin.raw('HEAD', '/api/v3/site/ping')).status).toBe(404);
  });

  it('redirects a path that only lacks or has an extra trailing slash', async () => {
    const list = await admin.raw('GET', '/api/v3/directory');
    expect(list.status).toBe(301);
    expect(list.headers.get('location')).toBe('/api/v3/directory/');
    const mkdir = await admin.raw('PUT', '/api/v3/directory/');
    expect(mkdir.status).toBe(307);
    expect(mkdir.headers.get('location')).toBe('/api/v3/directory');
    const me = await admin.raw('GET', '/api/v3/user/me/?x=1');
    expect(me.status).toBe(301);
    expect(me.headers.get('location')).toBe('/api/v3/user/me?x=1');
  });
});

describe('request binding', () => {
  const anonymous = (): Client => new Client(standin.url);

  it('reports the first failing rule with Cloudreve field names', async () => {
    expect(await anonymous().api('POST', '/user/session', { userName: 'nope', Password: 'secret' })).toEqual({
      code: 40001,
      msg: 'Email format error',
    });
    expect(await anonymous().api('POST', '/user/session', { userName: 'a@b.io', Password: 'abc' })).toEqual({ code: 40001, msg: 'Password too short' });
    expect(await anonymous().api('POST', '/user/session', {})).toEqual({ code: 40001, msg: 'Email cannot be empty' });
    expect(await admin.api('POST', '/object/rename', { src: { items: [] }, new_name: 'x'.repeat(256) })).toEqual({
      code: 40001,
      msg: 'NewName too long',
    });
  });

  it('tells type errors from unreadable bodies', async () => {
    expect(await admin.api('PUT', '/directory', { path: 3 })).toEqual({ code: 40001, msg: 'JSON marshall error' });
    expect(await admin.api('PUT', '/directory', [])).toEqual({ code: 40001, msg: 'JSON marshall error' });
    const broken = await admin.raw('PUT', '/api/v3/directory', { body: '{"path":' });
    expect(broken.body).toEqual({ code: 40001, msg: 'Parameter error' });
    expect((await admin.raw('PUT', '/api/v3/directory')).body).toEqual({ code: 40001, msg: 'Parameter error' });
  });

  it('matches JSON keys case-insensitively', async () => {
    const client = anonymous();
    const answer = await client.api('POST', '/user/session', { USERNAME: standin.admin.email, password: standin.admin.password });
    expect(answer.code).toBe(0);
  });
});
