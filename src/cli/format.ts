import type { GuardAnswer } from '../tree/types.js';

const byteUnits = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  const shown = (v: number): string => v.toFixed(v < 10 ? 1 : 0);
  // 1023.7 MiB is shown as 1.0 GiB, not 1024 MiB.
  while ((unit === 0 ? value : Number(shown(value))) >= 1024 && unit < byteUnits.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${shown(value)} ${byteUnits[unit]}`;
}

/** `1 file`, `2 files`. */
export function counted(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** Local time as `YYYY-MM-DD HH:MM`, the way file managers show it. */
export function formatTime(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** Left-aligned columns separated by two spaces; the last column is not padded. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  '))
    .join('\n');
}

/** What a `resume` agreed to, in the words of the stop it answers. */
export function describeAnswer(answer: GuardAnswer): string {
  switch (answer.guard) {
    case 'root':
      return `an empty ${answer.side === 'local' ? 'local' : 'server'} folder`;
    case 'mass-delete':
      return `deleting up to ${answer.count} files ${answer.side === 'local' ? 'locally' : 'on the server'}`;
    case 'binding':
      return 'the folders the config pairs now';
  }
}

/**
 * A path as one line a terminal shows as written: control characters (a newline would split the
 * line) and bidirectional overrides (which reorder what follows) spelled as escapes, in quotes.
 */
export function formatPath(path: string): string {
  const unsafe = /[\p{Cc}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;
  if (!unsafe.test(path)) return path;
  // Quoted, a backslash and a quote of the name itself are escaped too, so none reads as an escape.
  return `"${path.replace(/["\\]/g, '\\$&').replace(unsafe, (char) => `\\u{${(char.codePointAt(0) ?? 0).toString(16)}}`)}"`;
}
