/**
 * Internal: the tiers in front of the cache on a dashboard: the function's in-process L1 (hits it
 * answered beside those the cache answered, from the runtime's `L1Hit` and `CacheHit`) and the
 * CloudFront edge (requests, cache hit rate, 4xx/5xx rates, from AWS/CloudFront, which CloudWatch
 * keeps in us-east-1 whatever the stack's region).
 */
import { DIMENSION, METRIC } from "../../functions/lib/contract";
import { CLOUDFRONT_REGION } from "../edge/region";
import { expressionLine, filledSum, GridLayout, metricLine, MetricSpec } from "./metric";

/** The distribution as its metrics name it. */
export interface EdgeWatch {
  /** The distribution id (the `DistributionId` dimension). */
  readonly distributionId: string;
  /** Whether CloudFront's additional metrics (CacheHitRate among them) are on. */
  readonly additionalMetrics: boolean;
}

/** What the runtime metrics are filed under. */
interface RuntimeDims {
  readonly namespace: string;
  readonly serviceName: string;
  readonly cacheRoutes: readonly string[];
}

type Graph = (title: string, metrics: unknown[], extra?: Record<string, unknown>) => void;

/**
 * "L1 hits beside cache hits": per cached route, hits answered by the function's own L1 next to
 * hits answered by the cache (L1Hit is counted in CacheHit too, so the cache's are the difference).
 */
export function l1Graph(graph: Graph, rt: RuntimeDims): void {
  const m = (name: string, route: string): MetricSpec =>
    ({ namespace: rt.namespace, metricName: name, dimensions: { [DIMENSION.Service]: rt.serviceName, [DIMENSION.Route]: route }, stat: "Sum" });
  const l1 = rt.cacheRoutes.map((_, i) => `l${i}`);
  const hits = rt.cacheRoutes.map((_, i) => `c${i}`);
  graph("Hits by tier: function L1 and cache", [
    ...rt.cacheRoutes.map((r, i) => metricLine(m(METRIC.L1Hit, r), { id: l1[i], visible: false, label: `${METRIC.L1Hit} ${r}` })),
    ...rt.cacheRoutes.map((r, i) => metricLine(m(METRIC.CacheHit, r), { id: hits[i], visible: false, label: `${METRIC.CacheHit} ${r}` })),
    expressionLine(filledSum(l1), "L1 hits (no cache round trip)", "l1hits"),
    expressionLine(`${filledSum(hits)} - (${filledSum(l1)})`, "Cache hits", "cachehits"),
  ], { stacked: true });
}

/** The CloudFront section of the dashboard. */
export function edgeWidgets(grid: GridLayout, w: EdgeWatch, periodSeconds: number, widthUnits: number, heightUnits: number): void {
  const cf = (metricName: string, stat: string, label: string): MetricSpec =>
    ({ namespace: "AWS/CloudFront", metricName, dimensions: { DistributionId: w.distributionId, Region: "Global" }, stat, label });
  const graph = (title: string, metrics: unknown[], extra: Record<string, unknown> = {}) =>
    grid.add("metric", widthUnits, heightUnits, { title, region: CLOUDFRONT_REGION, view: "timeSeries", stacked: false, period: periodSeconds, metrics, ...extra });
  grid.heading(`## CloudFront edge (\`${w.distributionId}\`)`);
  graph("Edge requests", [metricLine(cf("Requests", "Sum", "Requests"))]);
  if (w.additionalMetrics) {
    graph("Edge cache hit rate (%)", [metricLine(cf("CacheHitRate", "Average", "Cache hit rate"))], { yAxis: { left: { min: 0, max: 100 } } });
  }
  graph("Edge 4xx and 5xx (% of requests)", [metricLine(cf("4xxErrorRate", "Average", "4xx")), metricLine(cf("5xxErrorRate", "Average", "5xx"))],
    { yAxis: { left: { min: 0 } } });
}
