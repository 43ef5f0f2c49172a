import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { App } from './app.js';
import { BlobStore } from './blobs.js';
import { Clock } from './clock.js';
import { controlEndpoint, createControl, mergePolicy } from './control.js';
import { directoryRoutes } from './directory.js';
import { downloadRoutes } from './download.js';
import { FaultPlan } from './faults.js';
import { IdCodec } from './ids.js';
import { KeyedLock } from './keyed-lock.js';
import { objectRoutes } from './objects.js';
import { onedriveProvider } from './onedrive.js';
import { randomString } from './random.js';
import { remoteProvider } from './remote.js';
import { Router } from './router.js';
import { s3Provider } from './s3.js';
import { createStandinServer } from './server.js';
import { SessionStore } from './sessions.js';
import { shareRoutes } from './share.js';
import { Signer } from './signing.js';
import { Store } from './store.js';
import type { AddUserOptions, Standin, StandinOptions, StandinUser } from './types.js';
import { updateRoute } from './update.js';
import { localProvider, uploadRoutes } from './upload.js';
import { UploadSessions } from './upload-sessions.js';
import { userRoutes } from './users.js';
import { webdavRoutes } from './webdav.js';

const GiB = 1024 ** 3;

function seconds(what: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`${what} expects an integer > 0, got ${value}`);
  return value;
}

/** Starts a Cloudreve 3.8.3 stand-in on its own port, ready once the promise resolves. */
export async function startStandin(options: StandinOptions = {}): Promise<Standin> {
  const policy = mergePolicy(
    { type: 'local', chunkSize: 26_214_400, maxSize: 0, fileTypes: [] },
    { type: options.policy ?? 'local', chunkSize: options.chunkSize ?? 26_214_400, maxSize: options.maxSize ?? 0, fileTypes: options.fileTypes ?? [] },
  );
  const quota = options.quota ?? GiB;
  if (!Number.isSafeInteger(quota) || quota < 0) throw new RangeError(`quota expects an integer >= 0, got ${quota}`);
  const settings = {
    uploadSessionTtlSeconds: seconds('uploadSessionTtlSeconds', options.uploadSessionTtlSeconds ?? 86_400),
    downloadTtlSeconds: seconds('downloadTtlSeconds', options.downloadTtlSeconds ?? 600),
  };
  const temporary = options.storageDir === undefined;
  const storageDir = options.storageDir ?? (await mkdtemp(join(tmpdir(), 'cloudreve-standin-')));

  const clock = new Clock();
  const blobs = new BlobStore(storageDir);
  await blobs.init();
  let url = '';
  const app: App = {
    clock, blobs, settings,
    ids: new IdCodec(options.hashIdSalt ?? randomString(64)),
    store: new Store(policy, quota),
    sessions: new SessionStore(clock),
    signer: new Signer(clock),
    uploads: new UploadSessions(clock),
    locks: new KeyedLock(),
    siteUrl: () => url,
  };

  function addUser(email: string, password: string, extra: AddUserOptions = {}): StandinUser {
    if (typeof email !== 'string' || typeof password !== 'string') throw new TypeError('addUser expects an e-mail and a password');
    const { totpSecret, group = 2 } = extra;
    if (group !== 1 && group !== 2) throw new RangeError(`group must be 1 or 2, got ${String(group)}`);
    if (totpSecret !== undefined && typeof totpSecret !== 'string') throw new TypeError('totpSecret expects a base32 string');
    app.store.addUser(email, password, group, totpSecret ?? null, clock.now());
    return totpSecret === undefined ? { email, password } : { email, password, totpSecret };
  }

  const admin = addUser('admin@cloudreve.org', randomString(8), { group: 1 });
  const providers = { local: localProvider, remote: remoteProvider(app), onedrive: onedriveProvider(app), s3: s3Provider(app) };
  const router = new Router([
    ...userRoutes(app),
    ...directoryRoutes(app),
    ...objectRoutes(app),
    ...uploadRoutes(app, providers),
    ...Object.values(providers).flatMap((p) => p.routes),
    updateRoute(app),
    ...downloadRoutes(app),
    ...shareRoutes(app),
    ...webdavRoutes(app),
  ]);
  const plan = new FaultPlan(router.keys());
  const control = createControl(app, plan);
  const { server, settled } = createStandinServer({
    app, router, plan, control: options.controls === true ? controlEndpoint(control, addUser) : null,
  });

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    url, admin, addUser, control,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await settled();
      if (temporary) await rm(storageDir, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}
