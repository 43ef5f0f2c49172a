import { z } from 'zod';

const units: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A duration written as a number of seconds (`30`) or with a unit (`500ms`, `10s`, `5m`, `1h`,
 * `30d`); parsed to milliseconds.
 */
export const duration = z.union([z.number().nonnegative(), z.string()]).transform((value, ctx) => {
  if (typeof value === 'number') return value * 1000;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(value);
  if (!match) {
    ctx.addIssue({ code: 'custom', message: `expected a duration such as 30s, 5m, 1h or 7d, got "${value}"` });
    return z.NEVER;
  }
  return Number(match[1]) * (units[match[2] ?? 's'] ?? 1000);
});
