/**
 * The runtime's metrics, defined once: names, units, meanings and dimensions. The handlers write
 * them (functions/lib/metrics.ts, as CloudWatch EMF lines) and `modules/observability` builds its
 * dashboard and alarms from the same constants, so what is emitted and what is watched cannot
 * drift apart.
 */
import { routeKey } from "./language";

/** Dimension names of every runtime metric. */
export const DIMENSION = {
  /** The service (`SERVICE_NAME`), e.g. `product-catalog`. */
  Service: "Service",
  /** The matched route, `"<METHOD> <path template>"`, e.g. `GET /products/{productId}`. */
  Route: "Route",
} as const;
/** A dimension name of {@link DIMENSION}. */
export type DimensionName = (typeof DIMENSION)[keyof typeof DIMENSION];

/** Dimension set of every runtime metric (one set, in this order). */
export const METRIC_DIMENSIONS = [DIMENSION.Service, DIMENSION.Route] as const;

/** `Route` value of a request no route matched. */
export const UNMATCHED_ROUTE = "unknown";

/** The `Route` dimension value of a route: its method and path template, as the API declares them. */
export const routeDimension = (method: string, path: string): string => routeKey({ method: method as never, path });

/** CloudWatch units the runtime uses. */
export type MetricUnit = "Count" | "Milliseconds";

/** Every metric the runtime can emit, with its unit and meaning: the one definition of their names. */
export const METRIC_DEFINITIONS = {
  CacheHit: { unit: "Count", description: "a read answered from the cache (including a follower served after a stampede wait, and an L1 hit)" },
  L1Hit: { unit: "Count", description: "a read answered from the function's own in-process L1, without a cache round trip (also counted as CacheHit)" },
  CacheMiss: { unit: "Count", description: "a read that found nothing cached and went to the table" },
  CacheError: { unit: "Count", description: "a cache command that failed or timed out (read, fill or invalidation)" },
  CircuitOpen: { unit: "Count", description: "a read that skipped the cache because the circuit breaker was open" },
  Fallback: { unit: "Count", description: "work done without a dependency: a read bypassing the cache, a rate limit or lock failing open, DAX bypassed for the table" },
  LoadLatency: { unit: "Milliseconds", description: "time of one table (or DAX) load on a miss or bypass" },
  StampedeWait: { unit: "Milliseconds", description: "time a follower waited for the lease holder to fill the cache" },
  RateLimited: { unit: "Count", description: "a request refused by the per-customer rate limit (sessions)" },
  LockContention: { unit: "Count", description: "a failed attempt to take a session's write lock (sessions)" },
  Invalidation: { unit: "Count", description: "a cache key invalidated by the stream invalidator because its table item changed (any writer, TTL deletes included)" },
  InvalidationFailure: {
    unit: "Count",
    description: "a stream record the invalidator reported as failed (cache unreachable, or a record it cannot map); Lambda retries it, then sends it to the on-failure queue",
  },
  InvalidationLag: {
    unit: "Milliseconds",
    description: "per invocation of the stream invalidator, the longest time from a change (its stream record's ApproximateCreationDateTime, whole seconds) to its cache keys being invalidated",
  },
  SocketConnect: { unit: "Count", description: "a WebSocket connection accepted on `$connect` (registered in the connection map, or degraded without it)" },
  SocketDisconnect: { unit: "Count", description: "a WebSocket connection closed (`$disconnect`), its map entries and presence removed" },
  Push: { unit: "Count", description: "a turn delivered to one live WebSocket connection of its session" },
  PushPruned: { unit: "Count", description: "a connection the push found gone (GoneException: its client vanished without `$disconnect`), removed from the map" },
  PushFailure: { unit: "Count", description: "a push to one connection that failed for another reason (throttled, timed out, the pusher failing): the turn is stored, the client reads it on its next fetch" },
  PushDegraded: {
    unit: "Count",
    description: "a connect or a turn handled without the connection map (the cache unreachable): the connect succeeds and the turn is stored, but nobody is pushed",
  },
  EdgeInvalidation: {
    unit: "Count",
    description: "a path the edge invalidator asked CloudFront to invalidate because its table item changed (CloudFront bills each path after the account's first 1,000 a month)",
  },
} as const satisfies Record<string, { readonly unit: MetricUnit; readonly description: string }>;

/** A metric name. */
export type MetricName = keyof typeof METRIC_DEFINITIONS;

/** Metric names as constants (`METRIC.CacheHit === "CacheHit"`), derived from {@link METRIC_DEFINITIONS}. */
export const METRIC: { readonly [K in MetricName]: K } = Object.fromEntries(
  Object.keys(METRIC_DEFINITIONS).map((k) => [k, k]),
) as { readonly [K in MetricName]: K };

/** Unit of each metric. */
export const METRIC_UNITS: Readonly<Record<MetricName, MetricUnit>> = Object.fromEntries(
  Object.entries(METRIC_DEFINITIONS).map(([name, d]) => [name, d.unit]),
) as Record<MetricName, MetricUnit>;

/**
 * `Route` value of the stream invalidator's metrics: it serves no HTTP route, and its metrics share
 * the `Service` of the function whose entries it invalidates.
 */
export const STREAM_ROUTE = "stream";

/** Metrics every handler built on the runtime may emit (cache-aside reads, the breaker, DAX fallback). */
export const RUNTIME_METRICS: readonly MetricName[] = [
  METRIC.CacheHit, METRIC.L1Hit, METRIC.CacheMiss, METRIC.CacheError, METRIC.CircuitOpen, METRIC.Fallback, METRIC.LoadLatency, METRIC.StampedeWait,
];

/** Metrics of a handler with a WebSocket API: connections, pushes, prunes, failures, degradation. */
export const REALTIME_METRICS: readonly MetricName[] = [
  METRIC.SocketConnect, METRIC.SocketDisconnect, METRIC.Push, METRIC.PushPruned, METRIC.PushFailure, METRIC.PushDegraded,
];
/** `Route` value of the edge invalidator's metrics (it serves no HTTP route either). */
export const EDGE_ROUTE = "edge";

/** Metrics the edge invalidator emits. */
export const EDGE_INVALIDATION_METRICS: readonly MetricName[] = [METRIC.EdgeInvalidation, METRIC.InvalidationFailure];

/** Metrics the stream invalidator emits (besides `CacheError` for a cache it could not reach). */
export const INVALIDATION_METRICS: readonly MetricName[] = [METRIC.Invalidation, METRIC.InvalidationFailure, METRIC.InvalidationLag, METRIC.CacheError];
