import { inspect } from 'node:util';
import { CookieJar } from 'tough-cookie';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteError } from '../../src/remote/errors.js';
import { capturedLogger, memoryStore, payload, scratchDir, sourceOf } from './helpers.js';
import { openTarget, type Target } from './target.js';

/*
 * Passwords, TOTP secrets, session cookies and URL signatures never reach a log line or an error.
 * The stand-in runs the S3 policy here, so that pre-signed URLs are part of the traffic too.
 */

const totpSecret = 'KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU';

let target: Target;
let downloads: Awaited<ReturnType<typeof scratchDir>>;
beforeAll(async () => {
  target = await openTarget({ policy: 's3', chunkSize: 64 * 1024 });
  downloads = await scratchDir();
});
afterAll(async () => {
  await downloads.remove();
  await target.close();
});

function account(): { username: string; password: string; totpSecret: string | undefined } {
  if (target.standin === undefined) return { username: target.username, password: target.password, totpSecret: target.totpSecret };
  const user = target.standin.addUser('secretive@example.com', 'Sup3r-Secret-Passw0rd', { totpSecret, group: 1 });
  return { username: user.email, password: user.password, totpSecret };
}

function cookieValue(serialized: string | undefined): string {
  const saved = JSON.parse(serialized ?? '{}') as { jar?: unknown };
  const jar = CookieJar.deserializeSync(saved.jar as Parameters<typeof CookieJar.deserializeSync>[0]);
  const cookie = jar.getCookiesSync(target.url).find((each) => each.key === 'cloudreve-session');
  if (cookie === undefined) throw new Error('no session cookie was stored');
  return cookie.value;
}

describe('secrets', () => {
  it('keeps credentials, cookies and signatures out of logs and errors', async () => {
    const { username, password, totpSecret: secret } = account();
    const captured = capturedLogger();
    const store = memoryStore();
    const errors: unknown[] = [];
    const client = target.client({ username, password, logger: captured.logger, sessionStore: store, ...(secret === undefined ? {} : { totpSecret: secret }) });

    const dir = target.path('secrets');
    await client.upload(dir, 'payload.bin', sourceOf(payload(200 * 1024)));
    const file = await client.stat(`${dir}/payload.bin`, 'file');
    await client.download(file?.id ?? '', downloads.path('payload.bin'));
    await client.share(file ?? { kind: 'file', id: '' }, { password: 'share-passw0rd' });
    await client.delete(file === undefined ? [] : [file]);
    await client.download(file?.id ?? '', downloads.path('gone.bin')).catch((error: unknown) => errors.push(error));
    await target
      .client({ username, password: `${password}-wrong`, logger: captured.logger })
      .me()
      .catch((error: unknown) => errors.push(error));
    await target
      .client({ url: 'http://127.0.0.1:1', username, password, logger: captured.logger, retries: 0 })
      .me()
      .catch((error: unknown) => errors.push(error));

    const secrets = [password, `${password}-wrong`, 'share-passw0rd', cookieValue(store.value), ...(secret === undefined ? [] : [secret])];
    const logs = captured.text();
    expect(logs).toContain('cloudreve request');
    expect(errors).toHaveLength(3);
    const errorTexts = errors.map((error) => `${String(error)}\n${JSON.stringify(error)}\n${inspect(error, { depth: 6 })}`);
    for (const text of [logs, ...errorTexts]) {
      for (const value of secrets) expect(text).not.toContain(value);
      expect(text).not.toMatch(/sign=(?!\[redacted\])/i);
      expect(text).not.toMatch(/x-amz-signature=(?!\[redacted\])/i);
    }
    for (const error of errors) {
      expect(error).toBeInstanceOf(RemoteError);
      expect(Object.keys(error as object).some((key) => ['request', 'response', 'options'].includes(key))).toBe(false);
    }
  });
});
