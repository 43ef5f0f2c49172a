/**
 * `url` without the user name and password it may carry (for a proxy's basic authentication),
 * as it may be kept and shown; unchanged when it has none.
 */
export function withoutCredentials(url: string): string {
  const parsed = new URL(url);
  if (parsed.username === '' && parsed.password === '') return url;
  parsed.username = '';
  parsed.password = '';
  return parsed.href.replace(/\/$/, '');
}
