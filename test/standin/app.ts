import type { BlobStore } from './blobs.js';
import type { Clock } from './clock.js';
import type { IdCodec } from './ids.js';
import type { KeyedLock } from './keyed-lock.js';
import type { SessionStore } from './sessions.js';
import type { Signer } from './signing.js';
import type { Store } from './store.js';
import type { UploadSessions } from './upload-sessions.js';

export interface Settings {
  readonly uploadSessionTtlSeconds: number;
  readonly downloadTtlSeconds: number;
}

/** The services every route handler works with. */
export interface App {
  readonly clock: Clock;
  readonly ids: IdCodec;
  readonly store: Store;
  readonly blobs: BlobStore;
  readonly sessions: SessionStore;
  readonly signer: Signer;
  readonly uploads: UploadSessions;
  readonly locks: KeyedLock;
  readonly settings: Settings;
  /** The stand-in's own URL, Cloudreve's `siteURL`; known once the server listens. */
  siteUrl(): string;
}
