import { request } from 'node:http';
import { parseListen } from '../daemon/status-server.js';

/** Where to reach the status server a running daemon listens on, from its `listen` setting. */
function target(listen: string): { host: string; port: number } | undefined {
  if (listen === 'off') return undefined;
  const { host, port } = parseListen(listen);
  // A daemon listening on every interface is reached through loopback.
  if (host === undefined || host === '0.0.0.0') return { host: '127.0.0.1', port };
  if (host === '::') return { host: '::1', port };
  return { host, port };
}

/**
 * Asks the running daemon that keeps the state database `state` (see stateIdentity); undefined
 * when none answers (not running, status server off) or the one answering keeps another
 * database (another install's daemon on the same address), so the caller falls back to its
 * own state database.
 */
export async function askDaemon(listen: string, state: string, method: 'GET' | 'POST', path: string): Promise<{ status: number; body: unknown } | undefined> {
  const reply = await ask(listen, method, `${path}?state=${encodeURIComponent(state)}`);
  // A daemon of a version before the identity does not name one: it may be anyone's.
  return (reply?.body as { state?: unknown } | null | undefined)?.state === state ? reply : undefined;
}

function ask(listen: string, method: 'GET' | 'POST', path: string): Promise<{ status: number; body: unknown } | undefined> {
  const to = target(listen);
  if (!to) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const req = request({ ...to, method, path, timeout: 2000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown });
        } catch {
          resolve(undefined);
        }
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}
