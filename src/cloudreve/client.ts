import { silentLogger, type Logger } from '../log/logger.js';
import { RemoteError, isRemoteError } from '../remote/errors.js';
import type {
  ByteSource,
  EntryKind,
  ObjectRef,
  Quota,
  Remote,
  RemoteEntry,
  RemoteInfo,
  RemoteListing,
  RemoteSharer,
  ShareOptions,
  TransferOptions,
  UploadOptions,
  UploadPolicy,
} from '../remote/types.js';
import type * as z from 'zod';
import { Api, type ApiRequest, type Fingerprinted } from './api.js';
import { toEntry, toPolicy, toProperties, toUser, toWebDavAccount } from './convert.js';
import { Cookies } from './cookies.js';
import { downloadFile, storedSize, type DownloadDeps } from './download.js';
import { reclassified } from './failures.js';
import { HttpTransport, apiPrefix } from './http.js';
import { invalidNameReason } from './names.js';
import { defaults, type CloudreveV3Options } from './options.js';
import { checkName, checkedPath, encodePath, joinPath, segments, splitPath } from './paths.js';
import { ProgressTracker } from './progress.js';
import { urlOrigin } from './redact.js';
import { Session, accountKey, restoreSession } from './session.js';
import type { ObjectProperties, SiteConfig, UserInfo, WebDavAccount } from './types.js';
import { cancelUploadSession, uploadFile } from './upload/driver.js';
import { UploadGate } from './upload/gate.js';
import {
  listingSchema,
  propertySchema,
  siteConfigSchema,
  sourceLinksSchema,
  storageSchema,
  stringDataSchema,
  userSchema,
  webdavAccountsSchema,
} from './wire.js';

const info: RemoteInfo = {
  name: 'cloudreve-v3',
  // Name lookups are plain SQL comparisons: case-sensitive on the default SQLite database. On
  // MySQL they are not, and the server then reports a clash, which is safe.
  caseSensitive: true,
  fileAndDirMayShareName: true,
  invalidNameReason,
};

/** A Cloudreve v3 (3.x community edition) account, through the server's web API. */
export class CloudreveV3 implements Remote, RemoteSharer {
  readonly info = info;
  private readonly baseUrl: string;
  private readonly logger: Logger;
  private readonly transport: HttpTransport;
  private readonly session: Session;
  private readonly api: Api;
  private readonly chunkRetries: number;
  /** The user's upload policy as the latest listing reported it. */
  private policy: UploadPolicy | undefined;
  readonly #uploads = new UploadGate();

  constructor(options: CloudreveV3Options) {
    this.baseUrl = baseUrlOf(options.url);
    this.logger = (options.logger ?? silentLogger).child({ component: 'cloudreve' });
    this.chunkRetries = options.chunkRetries ?? defaults.chunkRetries;
    if (options.tls?.insecureSkipVerify === true) {
      this.logger.warn({ url: urlOrigin(new URL(this.baseUrl)) }, 'TLS certificates are not verified (tls.insecureSkipVerify)');
    }
    const account = accountKey(this.baseUrl, options.username);
    const restored = restoreSession(options.sessionStore, account, this.logger);
    const cookies = new Cookies(restored.jar);
    this.transport = new HttpTransport({
      connectMs: options.timeouts?.connectMs ?? defaults.connectMs,
      responseMs: options.timeouts?.responseMs ?? defaults.responseMs,
      idleMs: options.timeouts?.idleMs ?? defaults.idleMs,
      ca: options.tls?.ca,
      insecureSkipVerify: options.tls?.insecureSkipVerify ?? false,
      cookies,
      logger: this.logger,
      onRequest: options.onRequest,
      onSessionCookie: () => this.session.cookieIssued(),
    });
    this.session = new Session({
      baseUrl: this.baseUrl,
      account,
      credentials: { username: options.username, password: options.password, totpSecret: options.totpSecret },
      issuedAt: restored.issuedAt,
      cookies,
      transport: this.transport,
      refreshMs: options.sessionRefreshMs ?? defaults.sessionRefreshMs,
      store: options.sessionStore,
      logger: this.logger,
    });
    this.api = new Api({
      baseUrl: this.baseUrl,
      transport: this.transport,
      session: this.session,
      retries: options.retries ?? defaults.retries,
    });
  }

  // ---- Remote --------------------------------------------------------------------------------

  async list(path: string): Promise<RemoteListing> {
    return this.#listing(path, await this.api.fingerprinted(listingRequest(path), listingSchema, undefined));
  }

  async listUnlessUnchanged(path: string, fingerprint: string): Promise<RemoteListing | 'unchanged'> {
    const answer = await this.api.fingerprinted(listingRequest(path), listingSchema, fingerprint);
    return answer.unchanged ? 'unchanged' : this.#listing(path, answer);
  }

  #listing(path: string, { data, fingerprint }: Fingerprinted<z.output<typeof listingSchema>>): RemoteListing {
    const policy = toPolicy(data.policy);
    this.policy = policy;
    return { path, folderId: data.parent, entries: (data.objects ?? []).map(toEntry), policy, ...(fingerprint === undefined ? {} : { fingerprint }) };
  }

  async stat(path: string, kind?: EntryKind): Promise<RemoteEntry | undefined> {
    const split = splitPath(path);
    if (split === undefined) return kind === 'file' ? undefined : this.rootEntry();
    let listing: RemoteListing;
    try {
      listing = await this.list(split.parent);
    } catch (error) {
      if (isRemoteError(error, 'not-found')) return undefined;
      throw error;
    }
    const named = listing.entries.filter((entry) => entry.name === split.name);
    if (kind !== undefined) return named.find((entry) => entry.kind === kind);
    return named.find((entry) => entry.kind === 'dir') ?? named[0];
  }

  async mkdir(path: string): Promise<void> {
    // The server would silently trim a trailing space from a folder name; refuse instead.
    for (const segment of segments(path)) checkName(segment, path);
    await this.api.run({ method: 'PUT', route: '/directory', path: '/directory', json: { path }, idempotent: true, target: path });
  }

  async createEmptyFile(path: string): Promise<void> {
    checkFilePath(path);
    await this.api.run({ method: 'POST', route: '/file/create', path: '/file/create', json: { path }, idempotent: false, target: path });
  }

  upload(dir: string, name: string, source: ByteSource, options: UploadOptions = {}): Promise<void> {
    return this.#uploads.upload(() => this.#upload(dir, name, source, options));
  }

  async #upload(dir: string, name: string, source: ByteSource, options: UploadOptions): Promise<void> {
    checkedPath(dir);
    const target = joinPath(dir, name);
    checkName(name, target);
    const policy = this.policy ?? (await this.currentPolicy(dir));
    if (source.size === 0 && policy.type === 'onedrive') {
      // Graph refuses empty upload sessions, so the empty file is created directly.
      await this.createEmptyFile(target);
      return;
    }
    await uploadFile(
      {
        api: this.api,
        transport: this.transport,
        baseUrl: this.baseUrl,
        chunkRetries: this.chunkRetries,
        logger: this.logger,
        freshPolicy: (folder) => this.currentPolicy(folder),
        findFile: (path) => this.stat(path, 'file'),
        storedSize: (fileId) => storedSize(this.#downloadDeps(), fileId, options.signal),
        deleteFile: (fileId) => this.delete([{ kind: 'file', id: fileId }]),
      },
      { dir, name, target, source, policy, options },
    );
  }

  async replace(fileId: string, source: ByteSource, options: TransferOptions = {}): Promise<void> {
    const progress = new ProgressTracker(options.onProgress);
    await this.api.run({
      method: 'PUT',
      route: '/file/update/:id',
      path: `/file/update/${encodeURIComponent(fileId)}`,
      headers: { 'content-type': 'application/octet-stream' },
      body: { source, start: 0, end: source.size },
      // Writing the same content twice would leave the same file, but the caller looks at the
      // file before each attempt: a server edit made while a retry waited would be overwritten.
      idempotent: false,
      target: fileId,
      signal: options.signal,
      onUploadProgress: (sent) => progress.reach(sent),
    });
  }

  download(fileId: string, destination: string, options: TransferOptions = {}): Promise<number> {
    return downloadFile(this.#downloadDeps(), fileId, destination, options);
  }

  #downloadDeps(): DownloadDeps {
    return { api: this.api, transport: this.transport, baseUrl: this.baseUrl, retries: this.chunkRetries, logger: this.logger };
  }

  async move(fromDir: string, objects: readonly ObjectRef[], toDir: string): Promise<void> {
    if (objects.length === 0) return;
    const target = `${fromDir} -> ${toDir}`;
    await this.api.run({
      method: 'PATCH',
      route: '/object',
      path: '/object',
      json: { src_dir: checkedPath(fromDir), src: refsBody(objects), dst: checkedPath(toDir) },
      // A repeated move finds nothing left in fromDir and succeeds without doing anything.
      idempotent: true,
      target,
    });
    // The server silently skips objects that are not direct children of fromDir.
    const arrived = (await this.list(toDir)).entries;
    const missing = objects.filter((object) => !arrived.some(isRef(object)));
    if (missing.length > 0) {
      throw new RemoteError(`${missing.length} of ${objects.length} object(s) were not moved: not direct children of ${fromDir}`, {
        kind: 'not-found',
        target,
      });
    }
  }

  async rename(object: ObjectRef, newName: string): Promise<void> {
    checkName(newName, newName);
    await this.api.run({
      method: 'POST',
      route: '/object/rename',
      path: '/object/rename',
      json: { src: refsBody([object]), new_name: newName },
      // Renaming to the name an object already has succeeds.
      idempotent: true,
      target: object.id,
    });
  }

  async copy(fromDir: string, object: ObjectRef, toDir: string): Promise<void> {
    const target = `${fromDir} -> ${toDir}`;
    // The server silently copies nothing when the object is not a direct child of fromDir: looked
    // for there first, and its copy in toDir after (another device may move it in between).
    const original = (await this.list(fromDir)).entries.find(isRef(object));
    if (original === undefined) {
      throw new RemoteError(`Not copied: not a direct child of ${fromDir}`, { kind: 'not-found', target });
    }
    try {
      await this.api.run({
        method: 'POST',
        route: '/object/copy',
        path: '/object/copy',
        json: { src_dir: checkedPath(fromDir), src: refsBody([object]), dst: checkedPath(toDir) },
        idempotent: false,
        target,
      });
    } catch (error) {
      // Cloudreve reports a name clash at the destination as "object not exist" (40016).
      if (!isRemoteError(error, 'not-found')) throw error;
      const destination = await this.list(toDir).catch(() => undefined);
      const clash = destination?.entries.some((entry) => entry.kind === original.kind && entry.name === original.name);
      throw clash === true ? reclassified(error, 'exists', `An object of that name already exists in ${toDir}`) : error;
    }
    const copied = (await this.list(toDir)).entries.some((entry) => entry.kind === original.kind && entry.name === original.name && (entry.kind === 'dir' || entry.size === original.size));
    if (!copied) throw new RemoteError(`Not copied: moved out of ${fromDir} or changed before the copy`, { kind: 'not-found', target });
  }

  async delete(objects: readonly ObjectRef[]): Promise<void> {
    if (objects.length === 0) return;
    // Not retried here: a folder's delete takes what is in it by then, and Cloudreve can answer
    // an error after removing part of it. The executor's retry looks at the folder again first.
    await this.api.run({ method: 'DELETE', route: '/object', path: '/object', json: refsBody(objects), idempotent: false });
  }

  cancelUpload(sessionId: string): Promise<void> {
    return cancelUploadSession(this.api, sessionId);
  }

  async cancelAllUploads(): Promise<void> {
    await this.#uploads.cancel(async () => {
      await this.api.run({ method: 'DELETE', route: '/file/upload', path: '/file/upload', idempotent: true });
    });
  }

  async quota(): Promise<Quota> {
    const storage = await this.api.data(
      { method: 'GET', route: '/user/storage', path: '/user/storage', idempotent: true },
      storageSchema,
    );
    return { used: storage.used, total: storage.total, free: storage.free };
  }

  // ---- RemoteSharer --------------------------------------------------------------------------

  async share(object: ObjectRef, options: ShareOptions = {}): Promise<string> {
    const { downloads, expireSeconds } = options;
    const limited = downloads !== undefined && downloads > 0;
    // Cloudreve applies the expiry only together with a download limit, and starts the clock at
    // once: a limit without an expiry would make a link that is dead on arrival.
    if (limited !== (expireSeconds !== undefined && expireSeconds > 0)) {
      throw new RemoteError('Cloudreve needs a download limit and an expiry together (downloads > 0 and expireSeconds > 0), or neither', {
        kind: 'bad-request',
        target: object.id,
      });
    }
    return this.api.data(
      {
        method: 'POST',
        route: '/share',
        path: '/share',
        json: {
          id: object.id,
          is_dir: object.kind === 'dir',
          password: options.password ?? '',
          downloads: limited ? downloads : -1,
          expire: limited ? expireSeconds : 0,
          preview: options.preview ?? true,
        },
        idempotent: false,
        target: object.id,
      },
      stringDataSchema,
    );
  }

  async directLink(fileId: string): Promise<string> {
    const [link] = await this.api.data(
      { method: 'POST', route: '/file/source', path: '/file/source', json: { items: [fileId] }, idempotent: true, target: fileId },
      sourceLinksSchema,
    );
    if (link === undefined) throw new RemoteError('No direct link was returned', { kind: 'not-found', target: fileId });
    // Per-file refusals come inside a successful answer.
    if (link.error !== undefined && link.error !== '') {
      throw new RemoteError('The server refused a direct link', {
        kind: 'forbidden',
        method: 'POST',
        path: `${apiPrefix}/file/source`,
        serverMessage: link.error,
        target: fileId,
      });
    }
    return link.url;
  }

  // ---- Cloudreve v3 extras -------------------------------------------------------------------

  /** The server's version, e.g. "3.8.3"; needs no login. */
  ping(): Promise<string> {
    return this.api.data(
      { method: 'GET', route: '/site/ping', path: '/site/ping', idempotent: true, anonymous: true },
      stringDataSchema,
    );
  }

  /** Public site settings and who the session belongs to; needs no login. */
  async siteConfig(): Promise<SiteConfig> {
    const site = await this.api.data(
      { method: 'GET', route: '/site/config', path: '/site/config', idempotent: true, anonymous: true },
      siteConfigSchema,
    );
    return {
      title: site.title,
      loginCaptcha: site.loginCaptcha,
      registerEnabled: site.registerEnabled,
      user: site.user.anonymous ? undefined : toUser(site.user),
    };
  }

  async me(): Promise<UserInfo> {
    return toUser(await this.api.data({ method: 'GET', route: '/user/me', path: '/user/me', idempotent: true }, userSchema));
  }

  /** Details of one object; for a folder, totals over everything below it. */
  async properties(object: ObjectRef): Promise<ObjectProperties> {
    try {
      const props = await this.api.data(
        {
          method: 'GET',
          route: '/object/property/:id',
          path: `/object/property/${encodeURIComponent(object.id)}`,
          query: { trace_root: 'true', is_folder: String(object.kind === 'dir') },
          // Not retried: the known HTTP 500 below is not transient.
          idempotent: false,
          target: object.id,
        },
        propertySchema,
      );
      return toProperties(props);
    } catch (error) {
      // The server panics (HTTP 500, empty body) on a well-formed ID that names nothing of ours.
      if (isRemoteError(error, 'server') && error.status === 500 && error.code === undefined) {
        throw reclassified(error, 'not-found', 'No such object');
      }
      throw error;
    }
  }

  async webdavAccounts(): Promise<WebDavAccount[]> {
    const data = await this.api.data(
      { method: 'GET', route: '/webdav/accounts', path: '/webdav/accounts', idempotent: true },
      webdavAccountsSchema,
    );
    return data.accounts.map(toWebDavAccount);
  }

  /** Logs in now rather than on the first call that needs it, e.g. to check the credentials. */
  async login(): Promise<UserInfo> {
    await this.session.login();
    return this.me();
  }

  /** Ends the session on the server and forgets the saved cookie. */
  logout(): Promise<void> {
    return this.session.logout();
  }

  /** Closes idle connections; the client stays usable and reconnects when called again. */
  close(): void {
    this.transport.close();
  }

  // ---- helpers -------------------------------------------------------------------------------

  /** Lists `dir` for the current upload policy; a folder the upload will create is not there yet. */
  private async currentPolicy(dir: string): Promise<UploadPolicy> {
    try {
      return (await this.list(dir)).policy;
    } catch (error) {
      if (!isRemoteError(error, 'not-found') || dir === '/') throw error;
      return (await this.list('/')).policy;
    }
  }

  private async rootEntry(): Promise<RemoteEntry> {
    const { folderId } = await this.list('/');
    const props = await this.properties({ kind: 'dir', id: folderId });
    return { kind: 'dir', id: folderId, name: '', size: 0, modifiedMs: props.modifiedMs, createdMs: props.createdMs };
  }
}

function listingRequest(path: string): ApiRequest {
  return { method: 'GET', route: '/directory/*path', path: `/directory${encodePath(path)}`, idempotent: true, target: path };
}

/** Checks that `path` names a file that could be created, before asking the server. */
function checkFilePath(path: string): void {
  const split = splitPath(path);
  if (split === undefined) throw new RemoteError('The root folder is not a file', { kind: 'bad-request', target: path });
  checkName(split.name, path);
}

/** Matches entries that are `object` (IDs are unique per kind only). */
function isRef(object: ObjectRef): (entry: ObjectRef) => boolean {
  return (entry) => entry.id === object.id && entry.kind === object.kind;
}

function refsBody(objects: readonly ObjectRef[]): { items: string[]; dirs: string[] } {
  return {
    items: objects.filter((object) => object.kind === 'file').map((object) => object.id),
    dirs: objects.filter((object) => object.kind === 'dir').map((object) => object.id),
  };
}

function baseUrlOf(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RemoteError('The server URL is not a valid URL', { kind: 'bad-request' });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new RemoteError(`The server URL must start with http:// or https://, not ${parsed.protocol}//`, { kind: 'bad-request' });
  }
  parsed.search = '';
  parsed.hash = '';
  return parsed.toString().replace(/\/+$/, '');
}
