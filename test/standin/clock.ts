/** The stand-in's "now": real time plus an offset that tests push forward with advanceClock. */
export class Clock {
  #offsetMs = 0;

  now(): number {
    return Date.now() + this.#offsetMs;
  }

  nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`advanceClock expects a finite number >= 0, got ${ms}`);
    this.#offsetMs += ms;
  }
}
