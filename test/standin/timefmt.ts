/** Time as Go's encoding/json and net/http write it. */

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** Go's zero `time.Time` as JSON. */
export const zeroTime = '0001-01-01T00:00:00Z';

/** RFC 3339 in the local zone, fraction without trailing zeros, `Z` when the offset is 0 (Go RFC3339Nano). */
export function rfc3339(ms: number): string {
  const d = new Date(ms);
  let out =
    `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}` +
    `T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  const millis = d.getMilliseconds();
  if (millis !== 0) out += `.${pad(millis, 3).replace(/0+$/, '')}`;
  const offset = -d.getTimezoneOffset();
  if (offset === 0) return `${out}Z`;
  const abs = Math.abs(offset);
  return `${out}${offset > 0 ? '+' : '-'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** `http.TimeFormat`, e.g. for Last-Modified and cookie Expires. */
export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}
