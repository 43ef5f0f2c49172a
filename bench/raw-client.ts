import { createReadStream, createWriteStream } from 'node:fs';
import { Agent, request, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * The floor: a minimal Cloudreve v3 client on node:http, with nothing but the protocol calls the
 * job needs (login cookie, PUT /directory, PUT /file/upload + POST chunks, PUT /file/download
 * + GET), no retries, no validation beyond the envelope code, no state. Whatever the real client
 * spends beyond this is overhead.
 */

interface Envelope {
  readonly code: number;
  readonly msg?: string;
  readonly data?: unknown;
}

export interface RawListing {
  readonly parent: string;
  readonly objects: readonly { id: string; name: string; type: 'dir' | 'file'; size: number; date: string }[];
  readonly policy: { id: string; type: string };
}

export class RawClient {
  readonly #base: URL;
  readonly #agent: Agent;
  #cookie = '';
  /** Requests sent, for the floor's own request count. */
  requests = 0;

  constructor(url: string, concurrency: number) {
    this.#base = new URL(url);
    this.#agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  }

  close(): void {
    this.#agent.destroy();
  }

  async login(email: string, password: string): Promise<void> {
    const answer = await this.#send('POST', '/api/v3/user/session', { json: { userName: email, Password: password } });
    const cookie = [answer.headers['set-cookie'] ?? []].flat().find((c) => c.startsWith('cloudreve-session='));
    if (cookie === undefined) throw new Error('login: no session cookie');
    this.#cookie = cookie.split(';')[0] ?? '';
    envelope(answer.body, 'login');
  }

  async list(path: string): Promise<RawListing> {
    const answer = await this.#send('GET', `/api/v3/directory${encodePath(path)}`);
    return envelope(answer.body, `list ${path}`) as RawListing;
  }

  async mkdir(path: string): Promise<void> {
    envelope((await this.#send('PUT', '/api/v3/directory', { json: { path } })).body, `mkdir ${path}`);
  }

  async createEmpty(path: string): Promise<void> {
    envelope((await this.#send('POST', '/api/v3/file/create', { json: { path } })).body, `create ${path}`);
  }

  async rename(object: { kind: 'file' | 'dir'; id: string }, newName: string): Promise<void> {
    const src = object.kind === 'dir' ? { items: [], dirs: [object.id] } : { items: [object.id], dirs: [] };
    envelope((await this.#send('POST', '/api/v3/object/rename', { json: { src, new_name: newName } })).body, `rename to ${newName}`);
  }

  /** Replaces a file's content in place (PUT /file/update/:id), as another device's edit would. */
  async update(fileId: string, content: Buffer): Promise<void> {
    const answer = await this.#send('PUT', `/api/v3/file/update/${encodeURIComponent(fileId)}`, { body: Readable.from([content]), length: content.length });
    envelope(answer.body, `update ${fileId}`);
  }

  /** Upload session, then the chunks in order, each streamed from `open`. */
  async upload(
    dir: string,
    name: string,
    size: number,
    lastModified: number,
    policyId: string,
    open: (start: number, end: number) => Readable,
  ): Promise<void> {
    const session = envelope(
      (await this.#send('PUT', '/api/v3/file/upload', { json: { path: dir, name, size, policy_id: policyId, last_modified: lastModified } })).body,
      `upload ${dir}/${name}`,
    ) as { sessionID: string; chunkSize: number };
    const step = session.chunkSize > 0 ? session.chunkSize : Math.max(size, 1);
    for (let index = 0, start = 0; index === 0 || start < size; index++, start += step) {
      const end = Math.min(size, start + step);
      const answer = await this.#send('POST', `/api/v3/file/upload/${session.sessionID}/${index}`, {
        body: end > start ? open(start, end) : Readable.from([]),
        length: end - start,
      });
      envelope(answer.body, `chunk ${index} of ${dir}/${name}`);
    }
  }

  async uploadFile(dir: string, name: string, file: string, size: number, mtimeMs: number, policyId: string): Promise<void> {
    await this.upload(dir, name, size, Math.trunc(mtimeMs), policyId, (start, end) => createReadStream(file, { start, end: end - 1 }));
  }

  /** Download URL, then the bytes streamed into `destination`. */
  async download(fileId: string, destination: string): Promise<number> {
    const url = envelope((await this.#send('PUT', `/api/v3/file/download/${encodeURIComponent(fileId)}`)).body, 'download URL') as string;
    const target = new URL(url, this.#base);
    this.requests++;
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(target, { method: 'GET', agent: this.#agent }, resolve);
      req.on('error', reject);
      req.end();
    });
    if (response.statusCode !== 200) throw new Error(`download: HTTP ${String(response.statusCode)}`);
    let bytes = 0;
    response.on('data', (chunk: Buffer) => (bytes += chunk.length));
    await pipeline(response, createWriteStream(destination));
    return bytes;
  }

  async #send(
    method: string,
    path: string,
    options: { json?: unknown; body?: Readable; length?: number } = {},
  ): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
    this.requests++;
    const headers: Record<string, string> = {};
    if (this.#cookie !== '') headers.cookie = this.#cookie;
    let payload: Buffer | undefined;
    if (options.json !== undefined) {
      payload = Buffer.from(JSON.stringify(options.json));
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(payload.length);
    } else if (options.body !== undefined) {
      headers['content-type'] = 'application/octet-stream';
      headers['content-length'] = String(options.length ?? 0);
    }
    return new Promise((resolve, reject) => {
      const req = request(new URL(path, this.#base), { method, headers, agent: this.#agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', reject);
      if (options.body !== undefined) {
        pipeline(options.body, req).catch(reject);
      } else {
        req.end(payload);
      }
    });
  }
}

function envelope(body: string, what: string): unknown {
  let parsed: Envelope;
  try {
    parsed = JSON.parse(body) as Envelope;
  } catch {
    throw new Error(`${what}: not JSON: ${body.slice(0, 200)}`);
  }
  if (parsed.code !== 0) throw new Error(`${what}: code ${parsed.code} ${parsed.msg ?? ''}`);
  return parsed.data;
}

function encodePath(path: string): string {
  return path === '/' ? '/' : path.split('/').map(encodeURIComponent).join('/');
}

/** Runs `task` over `items` with at most `concurrency` at once, like the client's queue. */
export async function pool<T>(items: readonly T[], concurrency: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await task(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
