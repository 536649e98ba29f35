/**
 * Internal: what is watched of the caches that are not Redis/Valkey nodes. ElastiCache Serverless
 * reports per cache (dimension `clusterId`) and fails by throttling at its ECPU/s limit or evicting
 * at its storage limit; Memcached reports per node (`CacheClusterId` + `CacheNodeId`) and fails by
 * evicting or running out of CPU. Redis/Valkey nodes are in alarms.ts and dashboard.ts.
 */
import type { AlarmDefinition } from "./alarms";
import { filledSum, GridLayout, metricLine, MetricSpec } from "./metric";
import type { AlarmKey, ResolvedAlarmSettings } from "./settings";

/** A serverless cache as its metrics name it, with the limits its alarms compare against. */
export interface ServerlessWatch {
  readonly kind: "serverless";
  /** The cache's name (the `clusterId` dimension). */
  readonly cacheName: string;
  /** Its data storage limit, GB. */
  readonly maxDataStorageGb: number;
  /** Its ECPU per second limit. */
  readonly maxEcpuPerSecond: number;
}

/** A Memcached cluster as its metrics name it. */
export interface MemcachedWatch {
  readonly kind: "memcached";
  /** The cluster's id (`CacheClusterId`). */
  readonly clusterId: string;
  /** Its nodes' ids (`CacheNodeId`: `0001`, `0002`, …). */
  readonly nodeIds: readonly string[];
}

/** One of the caches watched here. */
export type CacheKindWatch = ServerlessWatch | MemcachedWatch;

const serverless = (w: ServerlessWatch, metricName: string, stat: string, label?: string): MetricSpec =>
  ({ namespace: "AWS/ElastiCache", metricName, dimensions: { clusterId: w.cacheName }, stat, label });
const node = (w: MemcachedWatch, metricName: string, stat: string, id: string): MetricSpec =>
  ({ namespace: "AWS/ElastiCache", metricName, dimensions: { CacheClusterId: w.clusterId, CacheNodeId: id }, stat, label: id });

/** The alarms of `w`, before their settings are applied. */
export function cacheKindAlarms(w: CacheKindWatch, st: Readonly<Record<AlarmKey, ResolvedAlarmSettings>>): AlarmDefinition[] {
  if (w.kind === "serverless") {
    const limitBytes = w.maxDataStorageGb * 1024 ** 3;
    return [
      {
        key: "serverlessThrottles",
        setting: "serverlessThrottles",
        summary: `The serverless cache throttles commands (ThrottledCmds): it is at its limit of ${w.maxEcpuPerSecond} ECPU/s; reads fall back to the table as cache errors.`,
        comparison: "GreaterThanThreshold",
        metric: serverless(w, "ThrottledCmds", "Sum"),
      },
      {
        key: "serverlessDataStorage",
        setting: "serverlessDataStorage",
        summary: `The serverless cache holds more than ${st.serverlessDataStorage.threshold} % of its ${w.maxDataStorageGb} GB data storage limit; at the limit it evicts.`,
        comparison: "GreaterThanThreshold",
        queries: [
          { id: "bytes", metric: serverless(w, "BytesUsedForCache", "Maximum") },
          { id: "used", expression: `100 * bytes / ${limitBytes}`, label: "% of the data storage limit" },
        ],
      },
    ];
  }
  const ids = w.nodeIds.map((_, i) => `n${i}`);
  return [
    {
      key: "memcachedEvictions",
      setting: "memcachedEvictions",
      summary: `Memcached nodes of ${w.clusterId} keep evicting values: the nodes are too small for the working set.`,
      comparison: "GreaterThanThreshold",
      queries: [...w.nodeIds.map((id, i) => ({ id: ids[i], metric: node(w, "Evictions", "Sum", id) })),
        { id: "evictions", expression: filledSum(ids), label: "Evictions (all nodes)" }],
    },
    {
      key: "memcachedCpu",
      setting: "memcachedCpu",
      summary: `CPUUtilization of the busiest Memcached node of ${w.clusterId} above ${st.memcachedCpu.threshold} %.`,
      comparison: "GreaterThanThreshold",
      queries: [...w.nodeIds.map((id, i) => ({ id: ids[i], metric: node(w, "CPUUtilization", "Average", id) })),
        { id: "cpu", expression: `MAX([${ids.join(", ")}])`, label: "Busiest node CPU %" }],
    },
  ];
}

/** The cache's section of the dashboard. */
export function cacheKindWidgets(
  grid: GridLayout,
  graph: (title: string, metrics: unknown[], extra?: Record<string, unknown>) => void,
  w: CacheKindWatch,
): void {
  const percent = { yAxis: { left: { min: 0, max: 100 } } };
  if (w.kind === "serverless") {
    grid.heading(`## ElastiCache Serverless (\`${w.cacheName}\`, limits ${w.maxDataStorageGb} GB, ${w.maxEcpuPerSecond} ECPU/s)`);
    graph("ECPUs consumed", [metricLine(serverless(w, "ElastiCacheProcessingUnits", "Sum", "ECPUs"))]);
    graph("Throttled commands", [metricLine(serverless(w, "ThrottledCmds", "Sum", "ThrottledCmds"))]);
    graph("Data stored (bytes)", [metricLine(serverless(w, "BytesUsedForCache", "Maximum", "BytesUsedForCache"))],
      { annotations: { horizontal: [{ label: "limit", value: w.maxDataStorageGb * 1024 ** 3 }] } });
    graph("Engine cache hit rate (%)", [metricLine(serverless(w, "CacheHitRate", "Average", "CacheHitRate"))], percent);
    graph("Client connections", [metricLine(serverless(w, "CurrConnections", "Maximum", "CurrConnections"))]);
    return;
  }
  const nodes = (metricName: string, stat: string) => w.nodeIds.map((id) => metricLine(node(w, metricName, stat, id)));
  grid.heading(`## Memcached (\`${w.clusterId}\`, ${w.nodeIds.length} node${w.nodeIds.length === 1 ? "" : "s"})`);
  graph("CPU (%)", nodes("CPUUtilization", "Average"), percent);
  graph("Evictions", nodes("Evictions", "Sum"));
  graph("Bytes used", nodes("BytesUsedForCacheItems", "Maximum"));
  graph("Gets: hits and misses", [...nodes("GetHits", "Sum"), ...nodes("GetMisses", "Sum")]);
  graph("Client connections", nodes("CurrConnections", "Maximum"));
}
