/** A fetch-based Cloudreve client with a one-cookie jar, for the stand-in's own tests. */
import { request } from 'node:http';
import { TOTP } from 'otpauth';
import type { Standin } from './index.js';

export interface Envelope {
  readonly code: number;
  readonly data?: unknown;
  readonly msg: string;
}

export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The parsed body; only meaningful for JSON answers. */
  readonly body: Envelope;
}

export class Client {
  cookie: string | null = null;

  constructor(readonly base: string) {}

  async raw(method: string, path: string, init: { body?: RequestInit['body']; headers?: Record<string, string> } = {}): Promise<Answer> {
    const headers: Record<string, string> = { ...init.headers };
    if (this.cookie !== null) headers.cookie = this.cookie;
    const response = await fetch(this.base + path, { method, headers, body: init.body ?? null, redirect: 'manual' });
    const setCookie = response.headers.get('set-cookie');
    if (setCookie !== null) this.cookie = setCookie.split(';')[0] ?? null;
    const text = await response.text();
    let body: Envelope = { code: Number.NaN, msg: '' };
    if (response.headers.get('content-type')?.startsWith('application/json') === true) body = JSON.parse(text) as Envelope;
    return { status: response.status, headers: response.headers, text, body };
  }

  /** Sends the path verbatim (fetch would resolve `.` and `..` segments first). */
  async verbatim(method: string, path: string): Promise<Envelope> {
    const answer = await rawRequest(this.base, path, { method, headers: this.cookie === null ? {} : { cookie: this.cookie } });
    if (answer === 'aborted') throw new Error('request aborted');
    return JSON.parse(answer.text) as Envelope;
  }

  /** A JSON API call; resolves to the envelope. */
  async api(method: string, path: string, json?: unknown): Promise<Envelope> {
    const init = json === undefined ? {} : { body: JSON.stringify(json), headers: { 'content-type': 'application/json' } };
    return (await this.raw(method, `/api/v3${path}`, init)).body;
  }

  async login(email: string, password: string): Promise<Envelope> {
    return this.api('POST', '/user/session', { userName: email, Password: password });
  }

  async list(path: string): Promise<ListedObject[]> {
    const answer = await this.api('GET', `/directory${path.split('/').map(encodeURIComponent).join('/')}`);
    if (answer.code !== 0) throw new Error(`listing ${path}: ${JSON.stringify(answer)}`);
    return (answer.data as { objects: ListedObject[] }).objects;
  }

  async policyId(): Promise<string> {
    const answer = await this.api('GET', '/directory/');
    return (answer.data as { policy: { id: string } }).policy.id;
  }

  /** Uploads `content` with the local policy's chunks; resolves to the answer of each chunk. */
  async uploadLocal(dir: string, name: string, content: Buffer, extra: Record<string, unknown> = {}): Promise<Envelope[]> {
    const session = await this.api('PUT', '/file/upload', { path: dir, size: content.length, name, policy_id: await this.policyId(), ...extra });
    if (session.code !== 0) return [session];
    const { sessionID, chunkSize } = session.data as { sessionID: string; chunkSize: number };
    const answers: Envelope[] = [];
    const step = chunkSize === 0 ? Math.max(content.length, 1) : chunkSize;
    for (let index = 0, offset = 0; index === 0 || offset < content.length; index++, offset += step) {
      answers.push((await this.raw('POST', `/api/v3/file/upload/${sessionID}/${index}`, { body: content.subarray(offset, offset + step) })).body);
    }
    return answers;
  }

  async download(id: string, headers: Record<string, string> = {}): Promise<Answer> {
    const url = (await this.api('PUT', `/file/download/${id}`)).data as string;
    const saved = this.cookie;
    this.cookie = null;
    try {
      return await this.raw('GET', url.startsWith('http') ? url.slice(this.base.length) : url, { headers });
    } finally {
      this.cookie = saved;
    }
  }
}

export interface ListedObject {
  readonly id: string;
  readonly name: string;
  readonly path: string;
  readonly type: 'dir' | 'file';
  readonly size: number;
  readonly date: string;
  readonly create_date: string;
}

/** A new user of the User group, logged in. */
export async function signUp(standin: Standin, email: string): Promise<Client> {
  const user = standin.addUser(email, 'password');
  const client = new Client(standin.url);
  await client.login(user.email, user.password);
  return client;
}

export function totpNow(secret: string): string {
  return new TOTP({ secret, algorithm: 'SHA1', digits: 6, period: 30 }).generate();
}

/**
 * Sends the path and body verbatim, with full control over the headers (fetch resolves dot
 * segments and frames the body itself); `abortAfter` sends that many bytes, then drops the connection.
 */
export function rawRequest(
  origin: string,
  path: string,
  options: { method: string; headers?: Record<string, string>; body?: Buffer; abortAfter?: number },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string } | 'aborted'> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method: options.method, headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', (error) => (options.abortAfter === undefined ? reject(error) : resolve('aborted')));
    if (options.abortAfter !== undefined) {
      req.write(options.body?.subarray(0, options.abortAfter) ?? Buffer.alloc(0), () => {
        // Give the server a moment to receive the bytes before the connection goes.
        setTimeout(() => {
          req.destroy();
          resolve('aborted');
        }, 50);
      });
      return;
    }
    req.end(options.body);
  });
}

export const find = (objects: readonly ListedObject[], name: string, type: 'dir' | 'file' = 'file'): ListedObject | undefined =>
  objects.find((o) => o.name === name && o.type === type);
