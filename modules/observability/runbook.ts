/**
 * What an on-call engineer reads in the alarm itself (the notification, the console) before
 * opening the runbook: the first thing to check, and a link that resolves outside this repository.
 */
import { helpPageUrl } from "../core/package-info";
import type { AlarmKey } from "./settings";

/**
 * The first check of each alarm, in one sentence; help/operations.md#<alarm> has the rest. A new
 * alarm key does not compile until it has one.
 */
export const ALARM_FIRST_CHECKS: Readonly<Record<AlarmKey, string>> = {
  cacheHitRatio: "Compare the TTL with how often keys are re-read, and look at evictions and memory on the dashboard.",
  cacheCircuitOpen: "Check the replication group's events and the function's log for \"cache unavailable\"; the table now takes every read.",
  redisEvictions: "Compare DatabaseMemoryUsagePercentage with the node size and look for keys written without a TTL.",
  redisCpu: "Read the slow log for expensive commands and hot keys, then consider more shards or a larger node.",
  redisMemory: "Check the working set against the node size, keys without a TTL and value sizes.",
  redisReplicationLag: "Check write volume on the primary and ElastiCache events for a resync after a failover.",
  daxErrors: "Check ThrottledRequestCount and CPUUtilization of the cluster, then its events.",
  dynamoDbThrottles: "Check whether the cache is bypassed (cacheCircuitOpen) or missing often, then look for a hot key.",
  lambdaErrorRate: "Read the stack traces in the function's log group and compare Duration p99 with the timeout.",
  lambdaThrottles: "Compare ConcurrentExecutions with the reserved concurrency, and Duration with its usual value.",
  apiServerErrorRate: "Split 503 (table unreachable), 502/500 (function errors) and throttling in the API's access log.",
  apiLatencyP99: "Check the hit ratio, load latency by route and cold starts on the dashboard.",
  invalidationIteratorAge: "Check the invalidator's Duration and errors (a batch waiting out an unreachable cache holds its shard), then write bursts on one shard.",
  invalidationFailuresQueued: "Read a message of the on-failure queue (it names the shard and sequence numbers), re-read those records within 24 h and invalidate their keys.",
  serverlessThrottles: "Compare ElastiCacheProcessingUnits with the cache's ECPU/s limit (maxEcpuPerSecond), then raise the limit or find the expensive commands.",
  serverlessDataStorage: "Compare BytesUsedForCache with maxDataStorageGb, look for keys without a TTL, then raise the limit.",
  memcachedEvictions: "Compare BytesUsedForCache with the node size and look for values written without a TTL; add nodes or a larger type.",
  memcachedCpu: "Check the busiest node's CurrConnections and commands per second; add nodes (keys spread across them) or a larger type.",
  invalidatorErrors: "Check cacheCircuitOpen and the Redis graphs, then the invalidator's logs: \"function misconfigured\" names a variable, \"cannot be mapped\" a record.",
  pushFailureRatio: "Read the pusher's log for \"post to connection failed\" (throttling or timeouts), then its Lambda errors and the function's \"push failed\" lines.",
};

/** The runbook page alarms link to by default: help/operations.md of this package's version, on its repository. */
export function defaultRunbookUrl(): string {
  return helpPageUrl("operations.md");
}

/** `<summary> Action: <first check> Runbook: <url>#<alarm>`, the text of an alarm's description. */
export function alarmDescription(summary: string, setting: AlarmKey, runbookUrl: string): string {
  return `${summary} Action: ${ALARM_FIRST_CHECKS[setting]} Runbook: ${runbookUrl}#${setting.toLowerCase()}`;
}
