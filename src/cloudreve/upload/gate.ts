/**
 * Keeps a client's uploads and its cancel of all the account's uploads apart. Cloudreve finds the
 * account's unfinished uploads and then deletes their files by ID, so an upload whose last chunk
 * lands in between has its finished file deleted, after the caller was told it was sent. The
 * cancel therefore waits for the uploads under way to end, and none starts until it is done.
 */
export class UploadGate {
  #sending = 0;
  #idle: (() => void)[] = [];
  /** The cancel under way, settled either way once it is over. */
  #closed: Promise<void> | undefined;

  /** Runs one upload (its session, chunks and all), once no cancel is under way. */
  async upload<T>(send: () => Promise<T>): Promise<T> {
    while (this.#closed !== undefined) await this.#closed;
    this.#sending++;
    try {
      return await send();
    } finally {
      this.#sending--;
      if (this.#sending === 0) for (const wake of this.#idle.splice(0)) wake();
    }
  }

  /** Runs `cancel` once the uploads under way have ended, holding new ones until it is done. */
  async cancel(cancel: () => Promise<void>): Promise<void> {
    while (this.#closed !== undefined) await this.#closed;
    const idle = this.#sending === 0 ? Promise.resolve() : new Promise<void>((wake) => this.#idle.push(wake));
    const done = idle.then(cancel);
    const closed = done.then(
      () => undefined,
      () => undefined,
    );
    this.#closed = closed;
    try {
      await done;
    } finally {
      if (this.#closed === closed) this.#closed = undefined;
    }
  }
}
