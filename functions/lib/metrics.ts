/**
 * CloudWatch Embedded Metric Format: one JSON line per request, which CloudWatch Logs turns
 * into metrics with no API call on the request path.
 */

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
export type MetricName = (typeof METRIC)[keyof typeof METRIC];

/** Dimension set of every runtime metric. */
export const METRIC_DIMENSIONS = ["Service", "Route"] as const;

const UNITS: Record<MetricName, "Count" | "Milliseconds"> = {
  CacheHit: "Count",
  CacheMiss: "Count",
  CacheError: "Count",
  CircuitOpen: "Count",
  Fallback: "Count",
  LoadLatency: "Milliseconds",
  StampedeWait: "Milliseconds",
  RateLimited: "Count",
  LockContention: "Count",
};

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
  private route = "unknown";

  constructor(
    private readonly namespace: string,
    private readonly service: string,
  ) {}

  setRoute(route: string): void {
    this.route = route;
  }

  count(name: MetricName, n = 1): void {
    const prior = this.values.get(name);
    if (prior && UNITS[name] === "Count") prior[0] += n;
    else this.values.set(name, [n]);
  }

  timing(name: MetricName, ms: number): void {
    const list = this.values.get(name) ?? [];
    list.push(Math.round(ms * 1000) / 1000);
    this.values.set(name, list);
  }

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
            Metrics: names.map((n) => ({ Name: n, Unit: UNITS[n] })),
          },
        ],
      },
      Service: this.service,
      Route: this.route,
    };
    for (const n of names) {
      const v = this.values.get(n)!;
      doc[n] = v.length === 1 ? v[0] : v;
    }
    this.values.clear();
    sink(JSON.stringify(doc));
  }
}
