/**
 * Deterministic crash points for the crash tests. `CLOUDREVE_SYNC_CRASH_AT=<point>[@<n>]` kills
 * the process with SIGKILL the n-th time (default first) the named point is reached; without
 * the variable every call is a no-op. Points are named "<what>:<when>", e.g. "download:before-rename".
 */
const wanted = parse(process.env.CLOUDREVE_SYNC_CRASH_AT);
let reached = 0;

export function crashPoint(name: string): void {
  if (wanted === undefined || wanted.name !== name) return;
  reached++;
  if (reached === wanted.nth) process.kill(process.pid, 'SIGKILL');
}

function parse(value: string | undefined): { name: string; nth: number } | undefined {
  if (value === undefined || value === '') return undefined;
  const [name = '', nth] = value.split('@');
  return { name, nth: nth === undefined ? 1 : Number(nth) };
}
