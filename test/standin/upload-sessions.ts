import type { Clock } from './clock.js';
import type { Policy } from './store.js';

/** What `CreateUploadSession` caches under `callback_<id>`. */
export interface UploadSession {
  readonly id: string;
  readonly userId: number;
  /** A snapshot: later policy changes do not affect an open session. */
  readonly policy: Policy;
  readonly name: string;
  readonly size: number;
  /** `last_modified` in ms, null when not given. */
  readonly lastModified: number | null;
  readonly blob: string;
  readonly expiresAt: number;
  readonly fileId: number;
  /** The driver's `CancelToken`, run when a live session is deleted. */
  readonly cancel: (() => Promise<void>) | undefined;
}

const collectEveryMs = 90 * 60_000;

/** Cloudreve's cache of upload sessions; entries vanish at expiry, placeholders do not. */
export class UploadSessions {
  readonly #live = new Map<string, UploadSession>();
  /** How long `DELETE /file/upload` takes between finding the placeholders and deleting them. */
  cancelAllPauseMs = 0;
  #nextCollectMs: number;

  constructor(private readonly clock: Clock) {
    this.#nextCollectMs = clock.now() + collectEveryMs;
  }

  /**
   * Whether Cloudreve's `cron_recycle_upload_session` (every 1 h 30 min by default) is due: it
   * deletes the placeholders whose session is gone, which until then keep holding their names.
   */
  collectDue(): boolean {
    const now = this.clock.now();
    if (now < this.#nextCollectMs) return false;
    this.#nextCollectMs = now + collectEveryMs;
    return true;
  }

  add(session: UploadSession): void {
    this.#live.set(session.id, session);
  }

  get(id: string): UploadSession | undefined {
    const session = this.#live.get(id);
    if (session !== undefined && session.expiresAt <= this.clock.now()) {
      this.#live.delete(id);
      return undefined;
    }
    return session;
  }

  delete(id: string): void {
    this.#live.delete(id);
  }

  /** Deleting a placeholder cancels its session at the provider, if the session is still cached. */
  async cancel(id: string): Promise<void> {
    const session = this.get(id);
    this.#live.delete(id);
    await session?.cancel?.();
  }

  expireAll(): void {
    this.#live.clear();
  }
}
