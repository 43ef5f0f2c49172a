import { routeShape } from './route.js';
import type { Fault, RequestWindow } from './types.js';

const faults: readonly Fault[] = ['http502', 'http413', 'reset', 'code50001', 'lostAnswer', 'clientGone'];

function nonNegativeInteger(what: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${what} expects an integer >= 0, got ${value}`);
}

/** What the tests asked to go wrong, and what the stand-in saw: the control-side state of the server. */
export class FaultPlan {
  readonly #shapes: ReadonlyMap<string, string>;
  readonly #queued = new Map<string, Fault[]>();
  readonly #counts = new Map<string, number>();
  readonly #windows = new Map<string, { firstStartMs: number; lastEndMs: number }>();
  #latencyMs = 0;
  readonly #delays = new Map<string, number>();
  #dropAfter: number | null = null;

  /** `routeKeys`: every real route key, so that a mistyped key fails loudly instead of never firing. */
  constructor(routeKeys: readonly string[]) {
    this.#shapes = new Map(routeKeys.map((key) => [routeShape(key), key]));
  }

  failNext(route: string, count: number, fault: Fault): void {
    const key = this.#key(route);
    nonNegativeInteger('failNext count', count);
    if (!faults.includes(fault)) throw new RangeError(`unknown fault "${String(fault)}"; known: ${faults.join(', ')}`);
    // The next `count` requests, whatever was planned before: a count of 0 clears the route.
    this.#queued.set(key, Array.from({ length: count }, () => fault));
  }

  delayNext(route: string, ms: number): void {
    nonNegativeInteger('delayNext', ms);
    this.#delays.set(this.#key(route), ms);
  }

  /** The delay armed for the next request of `key`, disarmed by taking it. */
  takeDelay(key: string): number {
    const ms = this.#delays.get(key) ?? 0;
    this.#delays.delete(key);
    return ms;
  }

  #key(route: string): string {
    const key = this.#shapes.get(routeShape(route));
    if (key === undefined) throw new RangeError(`unknown route key "${route}"; known: ${[...this.#shapes.values()].join(', ')}`);
    return key;
  }

  /** Counts the request and returns the fault it must suffer, if any. */
  arrive(key: string): Fault | undefined {
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
    const now = performance.now();
    if (!this.#windows.has(key)) this.#windows.set(key, { firstStartMs: now, lastEndMs: now });
    return this.#queued.get(key)?.shift();
  }

  /** Marks the end of a request of `key` (its response sent or its connection gone). */
  depart(key: string): void {
    const window = this.#windows.get(key);
    if (window !== undefined) window.lastEndMs = performance.now();
  }

  get latencyMs(): number {
    return this.#latencyMs;
  }

  setLatency(ms: number): void {
    nonNegativeInteger('setLatency', ms);
    this.#latencyMs = ms;
  }

  dropNextChunk(afterBytes: number): void {
    nonNegativeInteger('dropNextChunk', afterBytes);
    this.#dropAfter = afterBytes;
  }

  /** Request faults still queued, plus one for a chunk drop still armed. */
  pending(): number {
    let count = this.#dropAfter === null ? 0 : 1;
    for (const queue of this.#queued.values()) count += queue.length;
    return count;
  }

  /** The armed chunk drop, disarmed by taking it. */
  takeDrop(): number | null {
    const drop = this.#dropAfter;
    this.#dropAfter = null;
    return drop;
  }

  counts(): Record<string, number> {
    return Object.fromEntries(this.#counts);
  }

  /** Per route key, when the first request arrived and the last one ended, in ms on one clock. */
  windows(): Record<string, RequestWindow> {
    return Object.fromEntries([...this.#windows].map(([key, window]) => [key, { ...window }]));
  }

  resetCounts(): void {
    this.#counts.clear();
    this.#windows.clear();
  }
}
