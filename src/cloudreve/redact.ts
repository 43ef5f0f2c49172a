/*
 * Everything that can reach an error message or a log line passes through here: signed URLs carry
 * their signature in the query, provider URLs carry tokens, and bodies of foreign servers may echo
 * either back.
 */

const secretAssignment =
  /\b(sign|signature|x-amz-signature|x-amz-credential|x-amz-security-token|tempauth|token|access_token|credential|password|cloudreve-session)=[^&\s"'<>;]*/gi;
const bearer = /\b(Bearer|UpToken)\s+\S+/gi;

export function redactText(text: string): string {
  return text.replace(secretAssignment, '$1=[redacted]').replace(bearer, '$1 [redacted]');
}

/** The path of a URL, decoded for readability; never the query, which is where signatures live. */
export function urlPath(url: URL): string {
  try {
    return decodeURIComponent(url.pathname);
  } catch {
    return url.pathname;
  }
}

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

/** Scheme, host and port only, without user info. */
export function urlOrigin(url: URL): string {
  return `${url.protocol}//${url.host}`;
}

const snippetBytes = 120;

/** The start of an unexpected body, on one line, for an error message. */
export function bodySnippet(body: string): string {
  const head = Buffer.from(body, 'utf8').subarray(0, snippetBytes).toString('utf8').replace(/\uFFFD+$/, '');
  const line = redactText(head.replace(/\s+/g, ' ').trim());
  return line === '' ? '(empty body)' : JSON.stringify(line);
}
