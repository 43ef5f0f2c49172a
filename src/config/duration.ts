import * as z from 'zod';

const units: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds in `500ms`, `10s`, `5m`, `1h` or `30d`; throws a message that says what was expected. */
export function parseDuration(value: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(value);
  if (!match) throw new Error(`expected a duration such as 30s, 5m, 1h or 7d, got "${value}"`);
  return Number(match[1]) * (units[match[2] ?? 's'] ?? 1000);
}

/**
 * The longest duration a setting takes. Every one ends up in a timer, and node's timers hold at
 * most 2^31 - 1 ms (24.8 days): a longer one fires at once, so `fullRescanInterval: 30d` would
 * rescan without pause.
 */
const maxDays = 24;

/** A duration written as a number of seconds (`30`) or with a unit; parsed to milliseconds. */
export const duration = z.union([z.number().nonnegative(), z.string()]).transform((value, ctx) => {
  let ms: number;
  try {
    ms = typeof value === 'number' ? value * 1000 : parseDuration(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
  if (ms > maxDays * units.d!) {
    ctx.addIssue({ code: 'custom', message: `expected a duration of at most ${maxDays}d, got ${typeof value === 'number' ? `${value} seconds` : `"${value}"`}` });
    return z.NEVER;
  }
  return ms;
});

/** A `duration` of at least one second: the time between passes, which at 0 would follow each other without pause. */
export const interval = duration.refine((ms) => ms >= 1000, { message: 'expected a duration of at least 1s' });
