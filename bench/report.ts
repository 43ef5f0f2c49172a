/** What each benchmark returns, and how the runner prints it. */

export interface Row {
  readonly figure: string;
  /** What cloudreve-sync achieved. */
  readonly value: string;
  readonly floor?: string;
  /** cloudreve-sync against the floor, e.g. "1.12x". */
  readonly ratio?: string;
  readonly goal?: string;
  /** Undefined when the figure has no goal. */
  readonly pass?: boolean;
}

export interface BenchResult {
  readonly id: number;
  readonly title: string;
  /** What was measured, e.g. "10,000 files of 4 KiB in 100 folders". */
  readonly scale: string;
  readonly rows: readonly Row[];
  readonly notes: readonly string[];
  /** Set when the benchmark could not run; `rows` is then empty. */
  readonly skipped?: string;
}

export interface BenchContext {
  readonly quick: boolean;
  /** Progress lines, to stderr. */
  log(message: string): void;
}

export interface Benchmark {
  readonly id: number;
  readonly name: string;
  run(context: BenchContext): Promise<BenchResult>;
}

/**
 * How many times a timed benchmark runs each side, alternating, keeping each side's best. The
 * machine may be busy with other work: on a shared two-core machine a floor of #1 took 5.96 s
 * in one round and 7.67 s in the next, and a third round narrows what one slow minute does to
 * either side.
 */
const timedRounds = 3;

/** Rounds of a timed benchmark: one in a smoke run. */
export function roundsOf(context: BenchContext): number {
  return context.quick ? 1 : timedRounds;
}

export function verdict(pass: boolean | undefined): string {
  return pass === undefined ? '' : pass ? 'pass' : 'MISS';
}

export function ratio(value: number, floor: number): string {
  return floor > 0 ? `${(value / floor).toFixed(2)}x` : 'n/a';
}

export function count(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** A plain-text table with aligned columns. */
export function textTable(result: BenchResult): string {
  const head = `#${result.id} ${result.title} (${result.scale})`;
  if (result.skipped !== undefined) return `${head}\n  skipped: ${result.skipped}\n`;
  const header = ['figure', 'cloudreve-sync', 'floor', 'ratio', 'goal', 'result'];
  const lines = result.rows.map((r) => [r.figure, r.value, r.floor ?? '', r.ratio ?? '', r.goal ?? '', verdict(r.pass)]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const format = (cells: readonly string[]): string => `  ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ')}`.trimEnd();
  const notes = result.notes.map((n) => `  - ${n}`);
  return [head, format(header), format(widths.map((w) => '-'.repeat(w))), ...lines.map(format), ...notes, ''].join('\n');
}

/** One markdown table over every benchmark, for the README. */
export function markdownTable(results: readonly BenchResult[], machine: string): string {
  const escape = (text: string): string => text.replace(/\|/g, '\\|');
  const lines = [
    machine,
    '',
    '| # | benchmark | figure | cloudreve-sync | floor | ratio | goal | result |',
    '|---|---|---|---:|---:|---:|---|---|',
  ];
  for (const result of results) {
    const name = `${result.title} (${result.scale})`;
    if (result.skipped !== undefined) {
      lines.push(`| ${result.id} | ${escape(name)} | skipped: ${escape(result.skipped)} | | | | | |`);
      continue;
    }
    result.rows.forEach((r, i) => {
      lines.push(
        `| ${i === 0 ? String(result.id) : ''} | ${i === 0 ? escape(name) : ''} | ${escape(r.figure)} | ${escape(r.value)} | ${escape(r.floor ?? '')} | ${escape(r.ratio ?? '')} | ${escape(r.goal ?? '')} | ${verdict(r.pass)} |`,
      );
    });
  }
  const notes = results.flatMap((r) => r.notes.map((n) => `- #${r.id}: ${n}`));
  if (notes.length > 0) lines.push('', ...notes);
  return `${lines.join('\n')}\n`;
}
