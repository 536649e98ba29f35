/**
 * `Cache-Control` of every response, decided by the runtime from the route's contract, never by a
 * route's code, so no handler can put an authenticated answer into a shared cache:
 *
 *   public, cached GET, 2xx  → public, max-age=<n>, s-maxage=<n>[, stale-while-revalidate=<n>]
 *   access caller or apiKey  → private, no-store     (whatever the status)
 *   anything else            → no-store             (errors, health, writes, unknown routes)
 *
 * The CloudFront edge (modules/edge) keeps only what the first line allows: its cache policy has a
 * minimum TTL of 0, so `private` and `no-store` are never cached there.
 */
import { RouteSpec, sharedCacheable } from "./contract";

export { sharedCacheable } from "./contract";

/** The three figures of a shared-cacheable answer (`CACHE_CONTROL_*` settings). */
export interface CacheControlSettings {
  /** `max-age`: how long a browser may reuse the answer. */
  readonly maxAgeSeconds: number;
  /** `s-maxage`: how long a shared cache (the edge) may keep it. */
  readonly sharedMaxAgeSeconds: number;
  /** `stale-while-revalidate`: how long past `s-maxage` the edge may serve it while refetching; 0 leaves it out. */
  readonly staleWhileRevalidateSeconds: number;
}

/** What a response of a route that no shared cache may keep says. */
export const PRIVATE_NO_STORE = "private, no-store";
/** What every other uncacheable response says. */
export const NO_STORE = "no-store";

/**
 * The `Cache-Control` of a response of `route` (undefined: no route matched) with `statusCode`.
 * Any route that needs an API key or a verified caller answers `private, no-store`, errors
 * included; only a successful answer of a public cached GET is shareable.
 */
export function cacheControlOf(route: Pick<RouteSpec, "access" | "cached" | "method"> | undefined, statusCode: number, s: CacheControlSettings): string {
  if (route && route.access !== "public") return PRIVATE_NO_STORE;
  if (!route || !sharedCacheable(route) || statusCode < 200 || statusCode > 299) return NO_STORE;
  const parts = ["public", `max-age=${s.maxAgeSeconds}`, `s-maxage=${s.sharedMaxAgeSeconds}`];
  if (s.staleWhileRevalidateSeconds > 0) parts.push(`stale-while-revalidate=${s.staleWhileRevalidateSeconds}`);
  return parts.join(", ");
}

/** `headers` with every spelling of `cache-control` replaced by `value`. */
export function withCacheControl(headers: Readonly<Record<string, string>>, value: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() !== "cache-control") out[k] = v;
  out["cache-control"] = value;
  return out;
}
