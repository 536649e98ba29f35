/**
 * CloudWatch Embedded Metric Format: one JSON line per request, which CloudWatch Logs turns
 * into metrics with no API call on the request path.
 *
 * This file is the one definition of the runtime's metrics: the namespace, the dimension names,
 * the metric names and their units. The handlers write with it, and `modules/observability`
 * (dashboard and alarms) reads the same constants, so what is emitted and what is watched cannot
 * drift apart. It stays pure data plus the writer: no cdktf, no constructs, no AWS SDK.
 */

/** Namespace the runtime writes to when `METRICS_NAMESPACE` is not set. */
export const DEFAULT_METRICS_NAMESPACE = "Cachefront";

/** `Service` dimension value when `SERVICE_NAME` is not set. */
export const DEFAULT_SERVICE_NAME = "cachefront";

/** Environment variables that choose the namespace and the `Service` dimension value. */
export const METRICS_ENV = {
  namespace: "METRICS_NAMESPACE",
  serviceName: "SERVICE_NAME",
} as const;

/** Dimension names of every runtime metric. */
export const DIMENSION = {
  /** The service (`SERVICE_NAME`), e.g. `product-catalog`. */
  Service: "Service",
  /** The matched route, `"<METHOD> <path template>"`, e.g. `GET /products/{productId}`. */
  Route: "Route",
} as const;
export type DimensionName = (typeof DIMENSION)[keyof typeof DIMENSION];

/** Dimension set of every runtime metric (one set, in this order). */
export const METRIC_DIMENSIONS = [DIMENSION.Service, DIMENSION.Route] as const;

/** `Route` value of a request no route matched. */
export const UNMATCHED_ROUTE = "unknown";

/** The `Route` dimension value of a route: its method and path template, as the API declares them. */
export function routeDimension(method: string, path: string): string {
  return `${method} ${path}`;
}

/**
 * Paths of routes that never read through the cache (the health check), so they emit no
 * `CacheHit`/`CacheMiss` and are left out of hit-ratio math.
 */
export const UNCACHED_ROUTE_PATHS: readonly string[] = ["/health"];

/** Metric names the runtime emits (and the dashboard and alarms read). */
export const METRIC = {
  CacheHit: "CacheHit",
  CacheMiss: "CacheMiss",
  CacheError: "CacheError",
  CircuitOpen: "CircuitOpen",
  Fallback: "Fallback",
  LoadLatency: "LoadLatency",
  StampedeWait: "StampedeWait",
  RateLimited: "RateLimited",
  LockContention: "LockContention",
} as const;
/** A metric name of {@link METRIC}. */
export type MetricName = (typeof METRIC)[keyof typeof METRIC];

/** CloudWatch units the runtime uses. */
export type MetricUnit = "Count" | "Milliseconds";

/** Unit and meaning of each metric. */
export const METRIC_DEFINITIONS: Readonly<Record<MetricName, { readonly unit: MetricUnit; readonly description: string }>> = {
  CacheHit: { unit: "Count", description: "a read answered from the cache (including a follower served after a stampede wait)" },
  CacheMiss: { unit: "Count", description: "a read that found nothing cached and went to the table" },
  CacheError: { unit: "Count", description: "a cache command that failed or timed out (read, fill or invalidation)" },
  CircuitOpen: { unit: "Count", description: "a read that skipped the cache because the circuit breaker was open" },
  Fallback: { unit: "Count", description: "work done without a dependency: a read bypassing the cache, a rate limit or lock failing open, DAX bypassed for the table" },
  LoadLatency: { unit: "Milliseconds", description: "time of one table (or DAX) load on a miss or bypass" },
  StampedeWait: { unit: "Milliseconds", description: "time a follower waited for the lease holder to fill the cache" },
  RateLimited: { unit: "Count", description: "a request refused by the per-customer rate limit (sessions)" },
  LockContention: { unit: "Count", description: "a failed attempt to take a session's write lock (sessions)" },
};

/** Unit of each metric. */
export const METRIC_UNITS: Readonly<Record<MetricName, MetricUnit>> = Object.fromEntries(
  Object.entries(METRIC_DEFINITIONS).map(([name, d]) => [name, d.unit]),
) as Record<MetricName, MetricUnit>;

type Sink = (line: string) => void;
// Raw stdout, not console.log: in Lambda's text log format console.log prefixes each line
// with a timestamp and request id, and CloudWatch would not see the JSON as EMF.
let sink: Sink = (line) => process.stdout.write(line + "\n");

/** Redirects EMF lines (tests collect them; the local twin may print them). */
export function setMetricsSink(s: Sink): Sink {
  const prior = sink;
  sink = s;
  return prior;
}

/** Metrics of one request; `flush()` writes them as one EMF line. */
export class RequestMetrics {
  private readonly values = new Map<MetricName, number[]>();
  private route: string = UNMATCHED_ROUTE;

  constructor(
    private readonly namespace: string,
    private readonly service: string,
  ) {}

  /** Sets the `Route` dimension (`"<METHOD> <path template>"`). */
  setRoute(route: string): void {
    this.route = route;
  }

  /** Adds `n` to a count metric. */
  count(name: MetricName, n = 1): void {
    const prior = this.values.get(name);
    if (prior && METRIC_UNITS[name] === "Count") prior[0] += n;
    else this.values.set(name, [n]);
  }

  /** Records one duration, in milliseconds. */
  timing(name: MetricName, ms: number): void {
    const list = this.values.get(name) ?? [];
    list.push(Math.round(ms * 1000) / 1000);
    this.values.set(name, list);
  }

  /** Writes what was recorded as one EMF line (nothing when empty) and starts over. */
  flush(): void {
    if (this.values.size === 0) return;
    const names = [...this.values.keys()];
    const doc: Record<string, unknown> = {
      _aws: {
        Timestamp: Date.now(),
        CloudWatchMetrics: [
          {
            Namespace: this.namespace,
            Dimensions: [[...METRIC_DIMENSIONS]],
            Metrics: names.map((n) => ({ Name: n, Unit: METRIC_UNITS[n] })),
          },
        ],
      },
      [DIMENSION.Service]: this.service,
      [DIMENSION.Route]: this.route,
    };
    for (const n of names) {
      const v = this.values.get(n)!;
      doc[n] = v.length === 1 ? v[0] : v;
    }
    this.values.clear();
    sink(JSON.stringify(doc));
  }
}
