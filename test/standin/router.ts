import { type Route, routeKey } from './route.js';

interface Compiled {
  readonly route: Route;
  readonly key: string;
  readonly segments: readonly string[];
  readonly catchAll: string | null;
}

export interface Match {
  readonly route: Route;
  readonly key: string;
  readonly params: Readonly<Record<string, string>>;
}

/** gin's matching on the decoded path: static and `:param` segments, an optional trailing `*catchAll`. */
export class Router {
  readonly #routes: Compiled[];

  constructor(routes: readonly Route[]) {
    this.#routes = routes.map((route) => {
      const parts = route.pattern.slice(1).split('/');
      const last = parts[parts.length - 1] ?? '';
      const catchAll = last.startsWith('*') ? last.slice(1) : null;
      return { route, key: routeKey(route), segments: catchAll === null ? parts : parts.slice(0, -1), catchAll };
    });
  }

  keys(): string[] {
    return this.#routes.map((r) => r.key);
  }

  match(method: string, path: string): Match | null {
    if (!path.startsWith('/')) return null;
    const parts = path.slice(1).split('/');
    for (const compiled of this.#routes) {
      if (compiled.route.method !== method) continue;
      const params = matchSegments(compiled, parts);
      if (params !== null) return { route: compiled.route, key: compiled.key, params };
    }
    return null;
  }

  /** gin's RedirectTrailingSlash: the path that differs only by a trailing slash and matches, if any. */
  trailingSlashAlternative(method: string, path: string): string | null {
    const alternative = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : `${path}/`;
    return this.match(method, alternative) === null ? null : alternative;
  }
}

function matchSegments(compiled: Compiled, parts: readonly string[]): Record<string, string> | null {
  const { segments, catchAll } = compiled;
  if (catchAll === null ? parts.length !== segments.length : parts.length <= segments.length) return null;
  const params: Record<string, string> = {};
  for (const [i, segment] of segments.entries()) {
    const part = parts[i] ?? '';
    if (segment.startsWith(':')) {
      if (part === '') return null;
      params[segment.slice(1)] = part;
    } else if (segment !== part) {
      return null;
    }
  }
  if (catchAll !== null) params[catchAll] = `/${parts.slice(segments.length).join('/')}`;
  return params;
}
