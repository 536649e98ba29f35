/**
 * The alarm catalog: every alarm a cache-aside service gets, as metric specs or metric math, before
 * its settings (threshold, periods, switches) are applied by the construct. One function of the
 * service's resources, so the construct stays about wiring and the catalog about what is watched.
 */
import { DIMENSION, METRIC, MetricName } from "../../functions/lib/contract";
import type { RedisCache } from "../redis";
import { AlarmQuery, filledSum, metricCount, MetricSpec } from "./metric";
import type { AlarmKey, ResolvedAlarmSettings } from "./settings";

/** CloudWatch's limit on metrics one alarm may read. */
export const MAX_ALARM_METRICS = 10;

/** One alarm before its settings are applied: one metric, or metric math whose last query is watched. */
export type AlarmDefinition = {
  readonly key: string;
  readonly setting: AlarmKey;
  readonly summary: string;
  readonly comparison: "LessThanThreshold" | "GreaterThanThreshold";
} & ({ readonly metric: MetricSpec } | { readonly queries: readonly AlarmQuery[] });

/** What the catalog needs to know of a service. */
export interface AlarmCatalogInput {
  /** Construct path of the observability construct (for errors). */
  readonly path: string;
  /** Namespace of the runtime metrics. */
  readonly namespace: string;
  /** `Service` dimension of the runtime metrics. */
  readonly serviceName: string;
  /** `Route` values whose cache reads the hit ratio and circuit-open alarms watch. */
  readonly cacheRoutes: readonly string[];
  /** Settings of every alarm after defaults. */
  readonly settings: Readonly<Record<AlarmKey, ResolvedAlarmSettings>>;
  /** The Redis/Valkey cache, if any. */
  readonly cache?: Pick<RedisCache, "memberClusterIds" | "engine" | "replicasPerShard">;
  /** The DAX cluster's name, if any. */
  readonly daxClusterName?: string;
  /** The table's name. */
  readonly tableName: string;
  /** The function's name. */
  readonly functionName: string;
  /** The API's name and stage. */
  readonly api: { readonly apiName: string; readonly stageName: string };
}

/** Every alarm of one service, before the per-alarm switches. */
export function alarmCatalog(input: AlarmCatalogInput): AlarmDefinition[] {
  const defs: AlarmDefinition[] = [];
  const ns = input.namespace;
  const runtime = (metricName: MetricName, route: string): MetricSpec => ({
    namespace: ns,
    metricName,
    dimensions: { [DIMENSION.Service]: input.serviceName, [DIMENSION.Route]: route },
    stat: "Sum",
  });
  const st = input.settings;

  // --- runtime (EMF): per-route metrics of the cached routes (alarms cannot use SEARCH)
  const hits = input.cacheRoutes.map((r, i) => ({ id: `h${i}`, metric: runtime(METRIC.CacheHit, r) }));
  const misses = input.cacheRoutes.map((r, i) => ({ id: `m${i}`, metric: runtime(METRIC.CacheMiss, r) }));
  defs.push({
    key: "cacheHitRatio",
    setting: "cacheHitRatio",
    summary: `Cache hit ratio of ${input.serviceName} (${input.cacheRoutes.join(", ")}) below ${st.cacheHitRatio.threshold} % ` +
      `with at least ${st.cacheHitRatio.minRequests} reads per period: TTL too short, or a working set larger than the cache.`,
    comparison: "LessThanThreshold",
    queries: [
      ...hits,
      ...misses,
      { id: "hits", expression: filledSum(hits.map((q) => q.id)), label: "Hits" },
      { id: "misses", expression: filledSum(misses.map((q) => q.id)), label: "Misses" },
      { id: "requests", expression: "hits + misses", label: "Cached reads" },
      {
        id: "ratio",
        expression: `IF(requests >= ${st.cacheHitRatio.minRequests}, 100 * hits / requests, 100)`,
        label: "Hit ratio % (100 when traffic is too low to judge)",
      },
    ],
  });
  const opens = input.cacheRoutes.map((r, i) => ({ id: `c${i}`, metric: runtime(METRIC.CircuitOpen, r) }));
  defs.push({
    key: "cacheCircuitOpen",
    setting: "cacheCircuitOpen",
    summary: `Reads of ${input.serviceName} skip the cache because its circuit breaker is open: the cache is unreachable or too slow; every read is going to the table.`,
    comparison: "GreaterThanThreshold",
    queries: [...opens, { id: "opens", expression: filledSum(opens.map((q) => q.id)), label: "Circuit-open reads" }],
  });

  // --- Redis / Valkey: MAX (or SUM) over member nodes, at most 10 metrics per alarm
  const cache = input.cache;
  if (cache) {
    const groups = chunk(cache.memberClusterIds, MAX_ALARM_METRICS);
    const suffix = (i: number) => (groups.length > 1 ? `-${i + 1}` : "");
    const node = (metricName: string, stat: string, member: string): MetricSpec =>
      ({ namespace: "AWS/ElastiCache", metricName, dimensions: { CacheClusterId: member }, stat });
    groups.forEach((members, g) => {
      const nodes = `${cache.engine.label} nodes ${members.join(", ")}`;
      const ids = members.map((_, i) => `n${i}`);
      defs.push({
        key: `redisEvictions${suffix(g)}`,
        setting: "redisEvictions",
        summary: `${nodes} keep evicting keys: the node type is too small for the working set, or keys are written without a TTL.`,
        comparison: "GreaterThanThreshold",
        queries: [...members.map((m, i) => ({ id: ids[i], metric: node("Evictions", "Sum", m) })),
          { id: "evictions", expression: filledSum(ids), label: "Evictions (all nodes)" }],
      });
      defs.push({
        key: `redisCpu${suffix(g)}`,
        setting: "redisCpu",
        summary: `EngineCPUUtilization of the busiest of ${nodes} above ${st.redisCpu.threshold} %: hot keys, expensive commands (check the slow log) or too little capacity.`,
        comparison: "GreaterThanThreshold",
        queries: [...members.map((m, i) => ({ id: ids[i], metric: node("EngineCPUUtilization", "Average", m) })),
          { id: "cpu", expression: `MAX([${ids.join(", ")}])`, label: "Busiest node engine CPU %" }],
      });
      defs.push({
        key: `redisMemory${suffix(g)}`,
        setting: "redisMemory",
        summary: `DatabaseMemoryUsagePercentage of the fullest of ${nodes} above ${st.redisMemory.threshold} %: evictions follow; check TTLs and the node type.`,
        comparison: "GreaterThanThreshold",
        queries: [...members.map((m, i) => ({ id: ids[i], metric: node("DatabaseMemoryUsagePercentage", "Average", m) })),
          { id: "memory", expression: `MAX([${ids.join(", ")}])`, label: "Fullest node memory %" }],
      });
      if (cache.replicasPerShard > 0) {
        // Only replicas report ReplicationLag; FILL keeps the primary's empty series out of the MAX.
        const filled = ids.map((id) => `f${id}`);
        defs.push({
          key: `redisReplicationLag${suffix(g)}`,
          setting: "redisReplicationLag",
          summary: `ReplicationLag of the slowest replica of ${nodes} above ${st.redisReplicationLag.threshold} s: replicas (and the reader endpoint) serve stale data and a failover would lose writes.`,
          comparison: "GreaterThanThreshold",
          queries: [
            ...members.map((m, i) => ({ id: ids[i], metric: node("ReplicationLag", "Maximum", m) })),
            ...ids.map((id, i) => ({ id: filled[i], expression: `FILL(${id}, 0)` })),
            { id: "lag", expression: `MAX([${filled.join(", ")}])`, label: "Slowest replica lag (s)" },
          ],
        });
      }
    });
  }

  // --- DAX
  const daxClusterName = input.daxClusterName;
  if (daxClusterName) {
    const dax = (metricName: string): MetricSpec =>
      ({ namespace: "AWS/DAX", metricName, dimensions: { ClusterId: daxClusterName }, stat: "Sum" });
    defs.push({
      key: "daxErrors",
      setting: "daxErrors",
      summary: `DAX cluster requests failing (ErrorRequestCount + FaultRequestCount above ${st.daxErrors.threshold} per period): throttling, node trouble or a bad request pattern; the runtime falls back to DynamoDB.`,
      comparison: "GreaterThanThreshold",
      queries: [
        { id: "err", metric: dax("ErrorRequestCount") },
        { id: "fault", metric: dax("FaultRequestCount") },
        { id: "errors", expression: filledSum(["err", "fault"]), label: "DAX failed requests" },
      ],
    });
  }

  // --- DynamoDB and Lambda
  defs.push(tableThrottleAlarm(input.tableName, "the table", "dynamoDbThrottles"));
  defs.push(...lambdaAlarms(input.functionName, "Lambda", "", st));

  // --- API Gateway
  const api = (metricName: string, stat: string): MetricSpec => ({
    namespace: "AWS/ApiGateway",
    metricName,
    dimensions: { ApiName: input.api.apiName, Stage: input.api.stageName },
    stat,
  });
  defs.push({
    key: "apiServerErrorRate",
    setting: "apiServerErrorRate",
    summary: `API 5xx rate above ${st.apiServerErrorRate.threshold} %: the table is unreachable (503), the function fails or is throttled.`,
    comparison: "GreaterThanThreshold",
    queries: [
      { id: "errors", metric: api("5XXError", "Sum") },
      { id: "requests", metric: api("Count", "Sum") },
      {
        id: "rate",
        expression: `IF(requests >= ${st.apiServerErrorRate.minRequests}, 100 * FILL(errors, 0) / requests, 0)`,
        label: "5xx rate % (0 when traffic is too low to judge)",
      },
    ],
  });
  defs.push({
    key: "apiLatencyP99",
    setting: "apiLatencyP99",
    summary: `API p99 latency above ${st.apiLatencyP99.threshold} ms: cache misses, a slow table or DAX, cold starts, or a cache timing out.`,
    comparison: "GreaterThanThreshold",
    metric: api("Latency", "p99"),
  });

  for (const d of defs) {
    if ("queries" in d && metricCount(d.queries) > MAX_ALARM_METRICS) {
      throw new Error(`${input.path}: alarm ${d.key} would read ${metricCount(d.queries)} metrics; CloudWatch allows ${MAX_ALARM_METRICS}`);
    }
  }
  return defs;
}

export function kebab(s: string): string {
  return s.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Read and write throttles of a table (`what` names it in the summary), as alarm `key`. */
export function tableThrottleAlarm(tableName: string, what: string, key: string): AlarmDefinition {
  const table = (metricName: string): MetricSpec => ({ namespace: "AWS/DynamoDB", metricName, dimensions: { TableName: tableName }, stat: "Sum" });
  return {
    key,
    setting: "dynamoDbThrottles",
    summary: `DynamoDB throttles reads or writes of ${what}: a hot partition key, or provisioned capacity too low.`,
    comparison: "GreaterThanThreshold",
    queries: [
      { id: "rt", metric: table("ReadThrottleEvents") },
      { id: "wt", metric: table("WriteThrottleEvents") },
      { id: "throttles", expression: filledSum(["rt", "wt"]), label: "Throttle events" },
    ],
  };
}

/** A function's error-rate and throttle alarms (`what` names it in the summaries; keys get `keyPrefix`). */
export function lambdaAlarms(functionName: string, what: string, keyPrefix: string, st: Readonly<Record<AlarmKey, ResolvedAlarmSettings>>): AlarmDefinition[] {
  const lambda = (metricName: string): MetricSpec => ({ namespace: "AWS/Lambda", metricName, dimensions: { FunctionName: functionName }, stat: "Sum" });
  return [
    {
      key: `${keyPrefix}lambdaErrorRate`,
      setting: "lambdaErrorRate",
      summary: `${what} error rate above ${st.lambdaErrorRate.threshold} % (unhandled errors and timeouts, not 4xx/503 answers).`,
      comparison: "GreaterThanThreshold",
      queries: [
        { id: "errors", metric: lambda("Errors") },
        { id: "invocations", metric: lambda("Invocations") },
        {
          id: "rate",
          expression: `IF(invocations >= ${st.lambdaErrorRate.minRequests}, 100 * FILL(errors, 0) / invocations, 0)`,
          label: "Error rate % (0 when traffic is too low to judge)",
        },
      ],
    },
    {
      key: `${keyPrefix}lambdaThrottles`,
      setting: "lambdaThrottles",
      summary: `${what} invocations throttled: reserved concurrency or the account's concurrency limit reached; callers get 5xx.`,
      comparison: "GreaterThanThreshold",
      metric: lambda("Throttles"),
    },
  ];
}
