/**
 * Go's `path` and `net/url` string rules. Cloudreve's quirks (which paths are cleaned, how a
 * name ends up in a URL) come straight from these functions, so they are reproduced exactly.
 */

/** Go `path.Clean`. */
export function clean(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  // Index in `out` below which `..` may not backtrack.
  let dotdot = 0;
  if (rooted) {
    out.push('/');
    dotdot = 1;
  }
  let r = rooted ? 1 : 0;
  const n = p.length;
  while (r < n) {
    if (p[r] === '/') {
      r++;
    } else if (p[r] === '.' && (r + 1 === n || p[r + 1] === '/')) {
      r++;
    } else if (p[r] === '.' && p[r + 1] === '.' && (r + 2 === n || p[r + 2] === '/')) {
      r += 2;
      if (out.length > dotdot) {
        out.pop();
        while (out.length > dotdot && out[out.length - 1] !== '/') out.pop();
        if (out.length > dotdot) out.pop();
      } else if (!rooted) {
        if (out.length > 0) out.push('/');
        out.push('.', '.');
        dotdot = out.length;
      }
    } else {
      if ((rooted && out.length !== 1) || (!rooted && out.length !== 0)) out.push('/');
      while (r < n && p[r] !== '/') {
        out.push(p[r] as string);
        r++;
      }
    }
  }
  return out.length === 0 ? '.' : out.join('');
}

/** Go `path.Join`. */
export function join(...elems: string[]): string {
  const parts = elems.filter((e) => e !== '');
  return parts.length === 0 ? '' : clean(parts.join('/'));
}

/** Go `path.Dir`. */
export function dir(p: string): string {
  return clean(p.slice(0, p.lastIndexOf('/') + 1));
}

/** Go `path.Base`. */
export function base(p: string): string {
  if (p === '') return '.';
  const trimmed = p.replace(/\/+$/, '');
  if (trimmed === '') return '/';
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

/** Go `path.Ext` / `filepath.Ext` on a slash-separated path. */
export function ext(p: string): string {
  for (let i = p.length - 1; i >= 0 && p[i] !== '/'; i--) {
    if (p[i] === '.') return p.slice(i);
  }
  return '';
}

const unreserved = /[A-Za-z0-9\-_.~]/;

function escape(s: string, alsoAllowed: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const ch = String.fromCharCode(byte);
    if (byte < 0x80 && (unreserved.test(ch) || alsoAllowed.includes(ch))) out += ch;
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Go `url.PathEscape`: one path segment. */
export function pathEscape(segment: string): string {
  return escape(segment, '$&+:=@');
}

/** Go `url.URL.EscapedPath` for a whole path. */
export function escapePath(path: string): string {
  return escape(path, '$&+,/:;=@');
}
