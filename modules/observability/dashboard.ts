/**
 * Internal: the CloudWatch dashboard body of a CacheObservability, as a plain object (values may
 * be Terraform tokens; the construct wraps it in `Fn.jsonencode`).
 */
import { DIMENSION, METRIC, METRIC_DIMENSIONS } from "../../functions/lib/contract";
import { CacheKindWatch, cacheKindWidgets } from "./cache-kinds";
import { CoveredResource, coverageWidgets } from "./coverage";
import { edgeWidgets, EdgeWatch, l1Graph } from "./edge";
import { invalidationWidgets, InvalidationWatch } from "./invalidation";
import { realtimeWidgets, RealtimeWatch } from "./realtime";
import { expressionLine, filledSum, GridLayout, metricLine, MetricSpec, searchExpression } from "./metric";

/** What the dashboard shows, resolved by the construct. */
export interface DashboardInput {
  readonly title: string;
  readonly region: string;
  /** Period of every graph, seconds. */
  readonly periodSeconds: number;
  readonly runtime: {
    readonly namespace: string;
    readonly serviceName: string;
    /** Route dimension values whose cache reads make up hits, misses and the hit ratio. */
    readonly cacheRoutes: readonly string[];
  };
  readonly api: { readonly apiName: string; readonly stageName: string };
  readonly functionName: string;
  readonly tableName: string;
  /** Member cache cluster ids; absent without Redis. */
  readonly redisMembers?: readonly string[];
  readonly redisLabel?: string;
  /** A serverless or Memcached cache; absent with Redis/Valkey nodes or no cache. */
  readonly otherCache?: CacheKindWatch;
  /** DAX cluster name; absent without DAX. */
  readonly daxClusterName?: string;
  /** The CloudFront distribution in front of the API; absent without one. */
  readonly edge?: EdgeWatch;
  /** The stream invalidator and its iterator-age alarm threshold; absent without one. */
  readonly invalidation?: InvalidationWatch & { readonly iteratorAgeAlarmMs: number };
  /** The WebSocket API and its push-failure alarm threshold; absent without one. */
  readonly realtime?: RealtimeWatch & { readonly failureAlarmPercent: number };
  /** Threshold lines drawn on the graphs. */
  readonly thresholds: {
    readonly hitRatioPercent: number;
    readonly apiLatencyP99Ms: number;
    readonly redisCpuPercent: number;
    readonly redisMemoryPercent: number;
  };
  /** The stack's other functions and tables; absent or empty: none. */
  readonly rest?: { readonly functions: readonly CoveredResource[]; readonly tables: readonly CoveredResource[] };
  /** ARNs of the alarms, for a status widget; empty without alarms. */
  readonly alarmArns: readonly string[];
}

const W = 8;
const H = 6;

/** The dashboard body (`widgets`), every graph on `input.region`. */
export function dashboardBody(input: DashboardInput): Record<string, unknown> {
  const grid = new GridLayout();
  const graph = (title: string, metrics: unknown[], extra: Record<string, unknown> = {}) =>
    grid.add("metric", W, H, {
      title,
      region: input.region,
      view: "timeSeries",
      stacked: false,
      period: input.periodSeconds,
      metrics,
      ...extra,
    });
  const line = (label: string, value: number) => ({ annotations: { horizontal: [{ label, value }] } });
  const { namespace, serviceName, cacheRoutes } = input.runtime;
  const p = input.periodSeconds;

  grid.heading(`# ${input.title}\nService \`${serviceName}\`, runtime metrics in namespace \`${namespace}\`. What each alarm means: help/operations.md.`);

  // --- API Gateway
  const apiDims = { ApiName: input.api.apiName, Stage: input.api.stageName };
  const api = (metricName: string, stat: string, label?: string): MetricSpec => ({ namespace: "AWS/ApiGateway", metricName, dimensions: apiDims, stat, label });
  grid.heading("## API Gateway");
  graph("API requests", [metricLine(api("Count", "Sum", "Requests"))]);
  graph("API 4xx and 5xx", [metricLine(api("4XXError", "Sum", "4xx")), metricLine(api("5XXError", "Sum", "5xx"))]);
  graph("API latency p50 / p99 (ms)", [
    metricLine(api("Latency", "p50", "p50")),
    metricLine(api("Latency", "p99", "p99")),
  ], line("p99 alarm", input.thresholds.apiLatencyP99Ms));

  // --- Lambda
  const fnDims = { FunctionName: input.functionName };
  const fn = (metricName: string, stat: string, label?: string): MetricSpec => ({ namespace: "AWS/Lambda", metricName, dimensions: fnDims, stat, label });
  grid.heading("## Lambda");
  graph("Lambda invocations, errors, throttles", [
    metricLine(fn("Invocations", "Sum")),
    metricLine(fn("Errors", "Sum")),
    metricLine(fn("Throttles", "Sum")),
  ]);
  graph("Lambda duration p50 / p99 (ms)", [metricLine(fn("Duration", "p50", "p50")), metricLine(fn("Duration", "p99", "p99"))]);
  graph("Lambda concurrent executions", [metricLine(fn("ConcurrentExecutions", "Maximum"))]);

  // --- runtime (EMF)
  const routeMetric = (metricName: string, route: string): MetricSpec => ({
    namespace,
    metricName,
    dimensions: { [DIMENSION.Service]: serviceName, [DIMENSION.Route]: route },
    stat: "Sum",
  });
  const hitIds = cacheRoutes.map((_, i) => `h${i}`);
  const missIds = cacheRoutes.map((_, i) => `m${i}`);
  const perRoute = () => [
    ...cacheRoutes.map((r, i) => metricLine(routeMetric(METRIC.CacheHit, r), { id: hitIds[i], visible: false, label: `${METRIC.CacheHit} ${r}` })),
    ...cacheRoutes.map((r, i) => metricLine(routeMetric(METRIC.CacheMiss, r), { id: missIds[i], visible: false, label: `${METRIC.CacheMiss} ${r}` })),
  ];
  const search = (metricName: string, stat: string) =>
    searchExpression(namespace, METRIC_DIMENSIONS, metricName, { [DIMENSION.Service]: serviceName }, stat, p);
  grid.heading(`## Cache (runtime metrics, routes ${cacheRoutes.map((r) => `\`${r}\``).join(", ")})`);
  graph("Cache hits and misses", [
    ...perRoute(),
    expressionLine(filledSum(hitIds), "Hits", "hits"),
    expressionLine(filledSum(missIds), "Misses", "misses"),
  ]);
  l1Graph(graph, input.runtime);
  graph("Cache hit ratio (%)", [
    ...perRoute(),
    expressionLine(filledSum(hitIds), "Hits", "hits", false),
    expressionLine(filledSum(missIds), "Misses", "misses", false),
    expressionLine("100 * hits / (hits + misses)", "Hit ratio %", "ratio"),
  ], { yAxis: { left: { min: 0, max: 100 } }, ...line("alarm below", input.thresholds.hitRatioPercent) });
  graph("Cache fallbacks, circuit-open events, cache errors", [
    expressionLine(`SUM(${search(METRIC.Fallback, "Sum")})`, "Fallbacks (table without cache, fail-open)", "fallbacks"),
    expressionLine(`SUM(${search(METRIC.CircuitOpen, "Sum")})`, "Circuit open (cache skipped)", "circuit"),
    expressionLine(`SUM(${search(METRIC.CacheError, "Sum")})`, "Cache errors", "errors"),
  ]);
  graph("Table loads on a miss, by route (ms)", [
    expressionLine(search(METRIC.LoadLatency, "p50"), "p50", "loadp50"),
    expressionLine(search(METRIC.LoadLatency, "p99"), "p99", "loadp99"),
  ]);

  // --- Redis / Valkey
  if (input.redisMembers && input.redisMembers.length > 0) {
    const members = input.redisMembers;
    const node = (metricName: string, stat: string) => members.map((id) =>
      metricLine({ namespace: "AWS/ElastiCache", metricName, dimensions: { CacheClusterId: id }, stat, label: id }));
    grid.heading(`## ${input.redisLabel ?? "Redis"} (${members.length} node${members.length === 1 ? "" : "s"})`);
    graph("Engine CPU (%)", node("EngineCPUUtilization", "Average"), { yAxis: { left: { min: 0, max: 100 } }, ...line("alarm", input.thresholds.redisCpuPercent) });
    graph("Memory used (% of maxmemory)", node("DatabaseMemoryUsagePercentage", "Average"),
      { yAxis: { left: { min: 0, max: 100 } }, ...line("alarm", input.thresholds.redisMemoryPercent) });
    graph("Evictions", node("Evictions", "Sum"));
    graph("Client connections", node("CurrConnections", "Maximum"));
    graph("Replication lag (s, replicas only)", node("ReplicationLag", "Maximum"));
    graph("Engine cache hit rate (%)", node("CacheHitRate", "Average"), { yAxis: { left: { min: 0, max: 100 } } });
  }

  if (input.otherCache) cacheKindWidgets(grid, graph, input.otherCache);

  // --- DAX
  if (input.daxClusterName !== undefined) {
    const dax = (metricName: string, stat: string): MetricSpec =>
      ({ namespace: "AWS/DAX", metricName, dimensions: { ClusterId: input.daxClusterName! }, stat });
    grid.heading("## DAX");
    graph("DAX item cache hits / misses", [metricLine(dax("ItemCacheHits", "Sum")), metricLine(dax("ItemCacheMisses", "Sum"))]);
    graph("DAX query cache hits / misses", [metricLine(dax("QueryCacheHits", "Sum")), metricLine(dax("QueryCacheMisses", "Sum"))]);
    graph("DAX errors", [metricLine(dax("ErrorRequestCount", "Sum")), metricLine(dax("FaultRequestCount", "Sum"))]);
    graph("DAX CPU (%)", [metricLine(dax("CPUUtilization", "Average"))], { yAxis: { left: { min: 0, max: 100 } } });
  }

  // --- DynamoDB
  const table = (metricName: string, stat: string): MetricSpec =>
    ({ namespace: "AWS/DynamoDB", metricName, dimensions: { TableName: input.tableName }, stat });
  const byOperation = (metricName: string) =>
    searchExpression("AWS/DynamoDB", ["Operation", "TableName"], metricName, { TableName: input.tableName }, "Sum", p);
  grid.heading("## DynamoDB");
  graph("Consumed read / write capacity units", [
    metricLine(table("ConsumedReadCapacityUnits", "Sum")),
    metricLine(table("ConsumedWriteCapacityUnits", "Sum")),
  ]);
  graph("Throttled requests", [
    metricLine(table("ReadThrottleEvents", "Sum")),
    metricLine(table("WriteThrottleEvents", "Sum")),
    expressionLine(byOperation("ThrottledRequests"), "ThrottledRequests", "throttled"),
  ]);
  graph("System errors (by operation)", [expressionLine(byOperation("SystemErrors"), "SystemErrors", "systemerrors")]);

  if (input.edge) edgeWidgets(grid, input.edge, p, W, H);

  if (input.invalidation) {
    invalidationWidgets(grid, graph, input.invalidation, input.runtime, input.invalidation.iteratorAgeAlarmMs);
  }
  if (input.realtime) realtimeWidgets(grid, graph, input.realtime, input.runtime, p, input.realtime.failureAlarmPercent);

  if (input.rest) coverageWidgets(grid, graph, input.rest);

  if (input.alarmArns.length > 0) {
    grid.heading("## Alarms");
    grid.add("alarm", 24, Math.max(2, Math.ceil(input.alarmArns.length / 4) + 1), { title: "Alarm states", alarms: [...input.alarmArns] });
  }

  return { start: "-PT6H", periodOverride: "inherit", widgets: grid.widgets };
}
