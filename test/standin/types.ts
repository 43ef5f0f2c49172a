/** Public types of the Cloudreve 3.8.3 stand-in; `index.ts` re-exports them. */

export type PolicyType = 'local' | 'remote' | 'onedrive' | 's3';

export interface StandinOptions {
  /** Storage policy type of the default policy. @default 'local' */
  policy?: PolicyType;
  /** Policy chunk size in bytes; 0 = whole file in one piece. @default 26214400 */
  chunkSize?: number;
  /** Policy MaxSize in bytes, 0 = unlimited. @default 0 */
  maxSize?: number;
  /** Policy extension filter without dots, lower case. @default [] (all) */
  fileTypes?: string[];
  /** Quota of the Admin and User groups in bytes. @default 1 GiB */
  quota?: number;
  /** Lifetime of upload sessions. @default 86400 */
  uploadSessionTtlSeconds?: number;
  /** Lifetime of download sessions and their signatures. @default 600 */
  downloadTtlSeconds?: number;
  /** Where file contents live. @default a fresh temp dir, removed by close() */
  storageDir?: string;
  /** Expose `POST /__standin/control`. @default false */
  controls?: boolean;
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 0 (ephemeral) */
  port?: number;
  /** hashids salt. @default random */
  hashIdSalt?: string;
}

export interface StandinUser {
  readonly email: string;
  readonly password: string;
  readonly totpSecret?: string;
}

export interface AddUserOptions {
  /** Base32 TOTP secret; the user then needs the 2FA step to log in. */
  totpSecret?: string;
  /** @default 2 (User) */
  group?: 1 | 2;
}

export interface Standin {
  /** 'http://127.0.0.1:PORT', no trailing slash. */
  readonly url: string;
  /** admin@cloudreve.org with a random 8-character password. */
  readonly admin: StandinUser;
  addUser(email: string, password: string, options?: AddUserOptions): StandinUser;
  readonly control: StandinControl;
  /** Closes the server and every socket, removes the temp storage dir. */
  close(): Promise<void>;
}

export type Fault = 'http502' | 'http413' | 'reset' | 'code50001' | 'lostAnswer' | 'clientGone';

export interface PolicyChange {
  type?: PolicyType;
  chunkSize?: number;
  maxSize?: number;
  fileTypes?: string[];
  /** The policy's CDN `BaseURL` (local policy); '' clears it. */
  baseUrl?: string;
}

export interface OpenUploadSession {
  readonly sessionId: string;
  /** E-mail of the owner. */
  readonly user: string;
  /** Full path of the folder holding the placeholder. */
  readonly path: string;
  readonly name: string;
}

export interface RequestWindow {
  readonly firstStartMs: number;
  readonly lastEndMs: number;
}

export interface StandinControl {
  /**
   * Makes the next `count` requests to `route` fail with `fault` without reaching the handler,
   * replacing what was planned for that route before (a count of 0 clears it).
   * Route key = "METHOD pattern" with gin-style params as in Appendix A of the API doc, e.g.
   * "PUT /api/v3/file/upload" or "POST /api/v3/file/upload/:sessionId/:index"; parameter names
   * are not significant. The keys of the fake storage endpoints are listed in README.md.
   */
  failNext(route: string, count: number, fault: Fault): void;
  /** How many of the faults armed by `failNext` and `dropNextChunk` no request has met yet. */
  pendingFaults(): number;
  /** Added to every request. */
  setLatency(ms: number): void;
  /** The next request to `route` waits `ms` before it is counted and handled (on top of the latency). */
  delayNext(route: string, ms: number): void;
  /** The next chunk-carrying request (any policy) reads `afterBytes` of its body, then its socket is destroyed. */
  dropNextChunk(afterBytes: number): void;
  /** `DELETE /file/upload` waits `ms` between finding the user's placeholders and deleting them. */
  pauseCancelAll(ms: number): void;
  /** Every existing cookie becomes anonymous. */
  expireLoginSessions(): void;
  /** Every open upload session answers 40011 from now on; placeholders keep reserving names. */
  expireUploadSessions(): void;
  /** Moves the stand-in's clock forward (cookie age, session and signature expiry, timestamps). */
  advanceClock(ms: number): void;
  /** Moves the date of the file with this (hashid) ID `ms` into the past, as if another device had written it then. */
  backdateFile(id: string, ms: number): void;
  /** Quota of every group (Admin and User). */
  setQuota(bytes: number): void;
  /** Changes the current policy; a type change creates a new policy id (stale policy_id → 40006). */
  setPolicy(change: PolicyChange): void;
  /** Requests per route key since start or the last reset. */
  requestCounts(): Record<string, number>;
  /** Per route key, when the first request arrived and the last one ended (ms, for differences only). */
  requestWindows(): Record<string, RequestWindow>;
  /** Clears the counts and the windows. */
  resetCounts(): void;
  /** Placeholders that reserve a name, whether or not their session expired. */
  openUploadSessions(): OpenUploadSession[];
}
