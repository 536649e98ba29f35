/**
 * Internal: the cache behaviours of a `CacheEdge`, derived from the API's routes (the contracts'),
 * so what the edge keeps, what it forwards and what the runtime's `Cache-Control` allows are one
 * rule. A behaviour covers a path pattern (CloudFront matches paths, not methods):
 *
 * - cached: some route on it is a public cached GET. Its cache policy keys on the path and the
 *   query strings those routes declare, TTLs follow the origin's `Cache-Control` (min 0, so
 *   `private`/`no-store` are never kept). When a route on the same pattern needs a verified caller,
 *   `Authorization` is in the key too: that is the only way CloudFront forwards it while caching,
 *   and it means no answer is ever shared between two Authorization values.
 * - pass-through: no route on it may be cached (the session store's routes, the health check):
 *   caching disabled; when a route needs a verified caller every viewer header but Host is
 *   forwarded (CloudFront forwards Authorization with caching off only that way, and API Gateway
 *   refuses a Host that is not its own).
 */
import { routeKey } from "../../functions/lib/contract";
import type { ApiRoute } from "../api";

/** What a cache policy keys on. */
export interface EdgeCacheKey {
  /** Query strings in the key (and forwarded). */
  readonly queryStrings: readonly string[];
  /** `Authorization` is in the key (and so forwarded). */
  readonly authorization: boolean;
}

/** What an origin request policy forwards besides the cache key. */
export interface EdgeForwarding {
  /** Every viewer header except Host (a pass-through behaviour with caller routes), else the `headers` listed. */
  readonly allViewerHeadersExceptHost: boolean;
  /** Headers forwarded (lower case), when not all. */
  readonly headers: readonly string[];
  /** Query strings forwarded. */
  readonly queryStrings: readonly string[];
}

/** One cache behaviour of the distribution. */
export interface EdgeBehavior {
  /** CloudFront path pattern, below the stage (`/products/*`). */
  readonly pathPattern: string;
  /** The routes it serves, `"<METHOD> <path>"`. */
  readonly routes: readonly string[];
  /** Answers may be kept (some route is a public cached GET); else caching is disabled. */
  readonly cached: boolean;
  /** The cache key, when cached. */
  readonly cacheKey?: EdgeCacheKey;
  /** What is forwarded to the API. */
  readonly forwarding: EdgeForwarding;
  /** Methods CloudFront accepts on it: GET and HEAD only where every route is a GET, else all seven. */
  readonly allowedMethods: readonly string[];
}

/** The methods CloudFront accepts when a behaviour serves anything but reads. */
export const ALL_METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"] as const;

/** `/products/{productId}` → `/products/*`; `/health` → `/health`: the literal prefix before the first parameter. */
export function pathPatternOf(path: string): string {
  const segments = path === "/" ? [] : path.slice(1).split("/");
  const i = segments.findIndex((s) => s.startsWith("{"));
  if (i < 0) return path;
  return `/${[...segments.slice(0, i), "*"].join("/")}`;
}

const shared = (r: ApiRoute) => r.method === "GET" && (r.cached ?? true) && !r.callerRequired && !r.apiKeyRequired;
const queryOf = (r: ApiRoute) => [...(r.requiredQueryParameters ?? []), ...(r.optionalQueryParameters ?? [])];
const sorted = (xs: Iterable<string>) => [...new Set(xs)].sort();

/** The behaviours of `routes`, most specific pattern first (CloudFront takes the first that matches). */
export function edgeBehaviors(routes: readonly ApiRoute[]): EdgeBehavior[] {
  const byPattern = new Map<string, ApiRoute[]>();
  for (const r of routes) {
    const p = pathPatternOf(r.path);
    (byPattern.get(p) ?? byPattern.set(p, []).get(p)!).push(r);
  }
  const out: EdgeBehavior[] = [];
  for (const [pathPattern, rs] of byPattern) {
    const cachedRoutes = rs.filter(shared);
    const caller = rs.some((r) => r.callerRequired);
    const headers = sorted([
      ...(rs.some((r) => r.bodySchema !== undefined || r.method !== "GET") ? ["content-type"] : []),
      ...(rs.some((r) => r.apiKeyRequired) ? ["x-api-key"] : []),
    ]);
    const queryStrings = sorted(rs.flatMap(queryOf));
    const cached = cachedRoutes.length > 0;
    out.push({
      pathPattern,
      routes: rs.map(routeKey),
      cached,
      cacheKey: cached ? { queryStrings: sorted(cachedRoutes.flatMap(queryOf)), authorization: caller } : undefined,
      forwarding: { allViewerHeadersExceptHost: !cached && caller, headers, queryStrings },
      allowedMethods: rs.every((r) => r.method === "GET") ? ["GET", "HEAD"] : [...ALL_METHODS],
    });
  }
  // Longer literal prefixes first; `/a/*` after `/a/b`.
  const literal = (p: string) => p.replace(/\*$/, "").length + (p.endsWith("*") ? 0 : 0.5);
  return out.sort((a, b) => literal(b.pathPattern) - literal(a.pathPattern) || a.pathPattern.localeCompare(b.pathPattern));
}
