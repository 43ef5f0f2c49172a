import type { ByteSource } from '../../remote/types.js';
import type { Api } from '../api.js';
import type { HttpTransport } from '../http.js';
import type { UploadCredential } from '../wire.js';

/** Bytes [start, end) of the source, sent as chunk `index` (0-based). */
export interface Chunk {
  readonly index: number;
  readonly start: number;
  readonly end: number;
}

/** What one storage policy type needs to move the bytes of an open upload session. */
export interface ChunkSender {
  /**
   * Whether chunk 0 may be sent again within the same session after a failure that may have
   * reached the server. Cloudreve's local writer (also used by slave nodes) opens the file for
   * chunk 0 without overwrite permission, so there the session must be started over.
   */
  readonly chunkZeroResendable: boolean;
  /** Sends one chunk; `onSent` hears how many of its bytes went out so far. */
  send(chunk: Chunk, onSent: (sentBytes: number) => void): Promise<void>;
  /** Completes the upload where the policy needs the client to (OneDrive, S3). */
  finish(): Promise<void>;
}

export interface SenderContext {
  readonly api: Api;
  readonly transport: HttpTransport;
  readonly baseUrl: string;
  readonly credential: UploadCredential;
  readonly source: ByteSource;
  /** The remote path being uploaded, for error messages. */
  readonly target: string;
  readonly signal?: AbortSignal | undefined;
}
