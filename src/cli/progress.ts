import type { ExecEvents } from '../exec/executor.js';
import type { Action } from '../plan/types.js';
import { formatBytes } from './format.js';

/** A one-line progress display on a terminal: actions done, bytes moved, rate. */
export class Progress {
  #done = 0;
  #bytes = 0;
  readonly #started = Date.now();
  readonly #timer: NodeJS.Timeout;

  private constructor(private readonly out: NodeJS.WriteStream) {
    this.#timer = setInterval(() => this.#draw(), 250);
    this.#timer.unref();
  }

  /** Undefined when `out` is not a terminal: logs and pipes get no progress lines. */
  static forTerminal(out: NodeJS.WriteStream): Progress | undefined {
    return out.isTTY ? new Progress(out) : undefined;
  }

  readonly events: ExecEvents = {
    onActionDone: (action: Action) => {
      this.#done++;
      if (action.type === 'upload') this.#bytes += action.local.size;
      if (action.type === 'download') this.#bytes += action.remote.size;
    },
  };

  #draw(): void {
    const seconds = Math.max((Date.now() - this.#started) / 1000, 0.001);
    this.out.write(`\r\x1b[K${this.#done} done, ${formatBytes(this.#bytes)} transferred, ${formatBytes(this.#bytes / seconds)}/s`);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.out.write('\r\x1b[K');
  }
}
