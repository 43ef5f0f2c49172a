import * as z from 'zod';

const units: Readonly<Record<string, number>> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

/** A byte count written as a number or with a unit (`512KiB`, `100MB`, `1GiB`). */
export const byteSize = z.union([z.number(), z.string()]).transform((value, ctx) => {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value) && value >= 0) return value;
    ctx.addIssue({ code: 'custom', message: `expected a whole number of bytes or a size such as 512KiB, 100MB or 1GiB, got ${value}` });
    return z.NEVER;
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmg]i?b|b)?\s*$/i.exec(value);
  if (!match) {
    ctx.addIssue({ code: 'custom', message: `expected a size such as 512KiB, 100MB or 1GiB, got "${value}"` });
    return z.NEVER;
  }
  return Math.round(Number(match[1]) * (units[(match[2] ?? 'b').toLowerCase()] ?? 1));
});
