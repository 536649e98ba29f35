/**
 * CloudWatch Embedded Metric Format: one JSON line per request, which CloudWatch Logs turns
 * into metrics with no API call on the request path. The names, units and dimensions are defined
 * in `./contract/metrics.ts` (which the dashboard and alarms read too); this file writes them.
 */
import { DIMENSION, METRIC_DIMENSIONS, METRIC_UNITS, MetricName, UNMATCHED_ROUTE } from "./contract/metrics";

export { DIMENSION, METRIC, METRIC_DEFINITIONS, METRIC_DIMENSIONS, METRIC_UNITS, routeDimension, UNMATCHED_ROUTE } from "./contract/metrics";
export type { DimensionName, MetricName, MetricUnit } from "./contract/metrics";

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
