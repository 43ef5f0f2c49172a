import * as z from 'zod';

const units: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds in `500ms`, `10s`, `5m`, `1h`, `30d` or `30` (seconds); throws a message that says what was expected. */
export function parseDuration(value: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(value);
  if (!match) throw new Error(`expected a duration such as 30s, 5m, 1h or 7d, got "${value}"`);
  return Number(match[1]) * (units[match[2] ?? 's'] ?? 1000);
}

/**
 * The longest duration a setting takes. Every one ends up in a timer, and node's timers hold at
 * most 2^31 - 1 ms (24.8 days): a longer one fires at once, so `fullRescanInterval: 30d` would
 * rescan without pause.
 */
const maxDays = 24;

/**
 * A duration written as a number of seconds (`30`) or with a unit, of at least `minSeconds`;
 * parsed to milliseconds. Limits are checked here, where the value as written can be shown.
 */
function durationOf(minSeconds: number) {
  return z.union([z.number().nonnegative(), z.string()]).transform((value, ctx) => {
    const written = typeof value === 'number' ? `${value} seconds` : `"${value}"`;
    let ms: number;
    try {
      ms = typeof value === 'number' ? value * 1000 : parseDuration(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
    if (ms > maxDays * units.d!) {
      ctx.addIssue({ code: 'custom', message: `expected a duration of at most ${maxDays}d, got ${written}` });
      return z.NEVER;
    }
    if (ms < minSeconds * 1000) {
      ctx.addIssue({ code: 'custom', message: `expected a duration of at least ${minSeconds}s, got ${written}` });
      return z.NEVER;
    }
    return ms;
  });
}

export const duration = durationOf(0);

/** At least one second: the time between passes, which at 0 would follow each other without pause. */
export const interval = durationOf(1);
