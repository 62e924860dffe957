/**
 * Which of Juice Shop's audited routes a request is for, decided before Express routes it (the audits run
 * first, where req.params is still empty). Matching follows Express's defaults so that a request the app
 * routes is a request we see: case-insensitive, a trailing slash allowed, and duplicate slashes collapsed
 * (Juice Shop collapses them itself before routing).
 */

export type AuditedRouteName =
  | 'login'
  | 'change-password'
  | 'basket'
  | 'checkout'
  | 'coupon'
  | 'basket-items'
  | 'basket-item'
  | 'search';

export interface AuditedRoute {
  readonly name: AuditedRouteName;
  /** The Express pattern, for `where.route`. */
  readonly pattern: string;
  /** Route parameters as the app will see them (percent-decoded). */
  readonly params: Readonly<Record<string, string>>;
}

/** The routes without parameters, shared: every login would otherwise allocate the same answer. */
const fixedRoute = (name: AuditedRouteName, pattern: string): AuditedRoute => Object.freeze({ name, pattern, params: Object.freeze({}) });
const LOGIN = fixedRoute('login', '/rest/user/login');
const CHANGE_PASSWORD = fixedRoute('change-password', '/rest/user/change-password');
const SEARCH = fixedRoute('search', '/rest/products/search');
const BASKET_ITEMS = fixedRoute('basket-items', '/api/BasketItems');

/** The path of a URL (no query), duplicate slashes collapsed, one trailing slash dropped. */
export function routingPath(url: string): string {
  const queryAt = url.indexOf('?');
  let path = queryAt === -1 ? url : url.slice(0, queryAt);
  if (path.includes('//')) path = path.replace(/\/{2,}/g, '/');
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  return path;
}

function decodeParam(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

const isRead = (method: string): boolean => method === 'GET' || method === 'HEAD';

/** The audited route a request is for, or undefined (most requests: one lower-casing and a prefix test). */
export function matchAuditedRoute(method: string, path: string): AuditedRoute | undefined {
  const lower = path.toLowerCase();
  if (lower.startsWith('/rest/')) {
    if (lower === '/rest/user/login') return method === 'POST' ? LOGIN : undefined;
    if (lower === '/rest/user/change-password') return isRead(method) ? CHANGE_PASSWORD : undefined;
    if (lower === '/rest/products/search') return isRead(method) ? SEARCH : undefined;
    if (lower.startsWith('/rest/basket/')) {
      const segments = path.split('/'); // ['', 'rest', 'basket', id, ...]
      const id = segments[3];
      if (id === undefined || id === '') return undefined;
      const params: Record<string, string> = { id: decodeParam(id) };
      if (segments.length === 4 && isRead(method)) return { name: 'basket', pattern: '/rest/basket/:id', params };
      const action = segments[4]?.toLowerCase();
      if (segments.length === 5 && action === 'checkout' && method === 'POST') {
        return { name: 'checkout', pattern: '/rest/basket/:id/checkout', params };
      }
      if (segments.length === 6 && action === 'coupon' && method === 'PUT' && segments[5] !== '') {
        params.coupon = decodeParam(segments[5] ?? '');
        return { name: 'coupon', pattern: '/rest/basket/:id/coupon/:coupon', params };
      }
    }
    return undefined;
  }
  if (lower.startsWith('/api/basketitems')) {
    if (lower === '/api/basketitems') return method === 'POST' ? BASKET_ITEMS : undefined;
    const segments = path.split('/');
    if (segments.length === 4 && segments[3] !== '' && method === 'PUT' && lower.startsWith('/api/basketitems/')) {
      return { name: 'basket-item', pattern: '/api/BasketItems/:id', params: { id: decodeParam(segments[3] ?? '') } };
    }
  }
  return undefined;
}

/**
 * A path as a file server would resolve it, for matching guarded locations: percent-decoded, backslashes
 * as slashes, dot segments resolved, lower-cased. Over-matching here only refuses more, never less.
 */
export function resolvedPath(path: string): string {
  let decoded = path;
  for (let round = 0; round < 3 && decoded.includes('%'); round++) {
    const next = decodeParam(decoded);
    if (next === decoded) break;
    decoded = next;
  }
  const out: string[] = [];
  for (const segment of decoded.replace(/\\/g, '/').split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') out.pop();
    else out.push(segment);
  }
  return ('/' + out.join('/')).toLowerCase();
}
