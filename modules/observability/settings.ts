/**
 * Alarm settings: which alarms exist, their defaults (each missing-data choice explained) and the
 * validation a construct or an environment config applies to overrides.
 */
import { PropsValidator } from "../core/validation";

/** What an alarm does when a period has no datapoint. */
export type TreatMissingData = "missing" | "ignore" | "breaching" | "notBreaching";
/** Every `TreatMissingData` value CloudWatch accepts. */
export const TREAT_MISSING_DATA: readonly TreatMissingData[] = ["missing", "ignore", "breaching", "notBreaching"];

/** The alarms this construct can create, by key. */
export const ALARM_KEYS = [
  "cacheHitRatio",
  "cacheCircuitOpen",
  "redisEvictions",
  "redisCpu",
  "redisMemory",
  "redisReplicationLag",
  "daxErrors",
  "dynamoDbThrottles",
  "lambdaErrorRate",
  "lambdaThrottles",
  "apiServerErrorRate",
  "apiLatencyP99",
  "invalidationIteratorAge",
  "invalidationFailuresQueued",
  "invalidatorErrors",
  "serverlessThrottles",
  "serverlessDataStorage",
  "memcachedEvictions",
  "memcachedCpu",
  "pushFailureRatio",
] as const;
/** One of {@link ALARM_KEYS}. */
export type AlarmKey = (typeof ALARM_KEYS)[number];

/** How one alarm evaluates. Every field left out takes the alarm's default ({@link DEFAULT_ALARM_SETTINGS}). */
export interface AlarmSettings {
  /**
   * Create this alarm (when alarms are on at all).
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * The threshold, in the alarm's unit (percent, count per period, seconds or milliseconds; see help/operations.md).
   * @default the alarm's entry in DEFAULT_ALARM_SETTINGS
   */
  readonly threshold?: number;
  /**
   * Length of one evaluation period in seconds: a multiple of 60 (every metric watched is standard resolution).
   * @default the alarm's entry in DEFAULT_ALARM_SETTINGS
   */
  readonly periodSeconds?: number;
  /**
   * Periods looked at (at least 1; periods × seconds at most one day).
   * @default the alarm's entry in DEFAULT_ALARM_SETTINGS
   */
  readonly evaluationPeriods?: number;
  /**
   * Breaching periods among `evaluationPeriods` that fire the alarm ("M out of N").
   * @default `evaluationPeriods` when that is given, else the alarm's entry in DEFAULT_ALARM_SETTINGS
   */
  readonly datapointsToAlarm?: number;
  /**
   * What a period without data counts as.
   * @default the alarm's entry in DEFAULT_ALARM_SETTINGS (each chosen on purpose, see help/operations.md)
   */
  readonly treatMissingData?: TreatMissingData;
}

/** Settings of a rate alarm that only judges periods with enough traffic. */
export interface TrafficGatedAlarmSettings extends AlarmSettings {
  /**
   * Requests (or invocations) a period needs before the ratio is judged; quieter periods count
   * as healthy, so a handful of requests cannot page anyone.
   * @default the alarm's entry in DEFAULT_ALARM_SETTINGS
   */
  readonly minRequests?: number;
}

/** Alarm switches, thresholds and the notification address. */
export interface CacheAlarmsProps {
  /**
   * Create the alarms. The dashboard and the topic exist either way.
   * @default true in prod, false in dev
   */
  readonly enabled?: boolean;
  /**
   * Address subscribed to the alarm topic (AWS sends a confirmation mail first).
   * @default no subscription
   */
  readonly email?: string;
  /**
   * Cache hit ratio (%) over the cached GET routes below the threshold, judged only with at least `minRequests` reads.
   * @default threshold 80 (%), 5-minute periods, 3 of 3, at least 100 reads per period
   */
  readonly cacheHitRatio?: TrafficGatedAlarmSettings;
  /**
   * Reads that skipped the cache because the circuit breaker was open (count per period) above the threshold.
   * @default threshold 0, 1-minute periods, 3 of 5
   */
  readonly cacheCircuitOpen?: AlarmSettings;
  /**
   * Redis/Valkey evictions (count per period, summed over the nodes) above the threshold, sustained.
   * @default threshold 0, 5-minute periods, 3 of 3
   */
  readonly redisEvictions?: AlarmSettings;
  /**
   * Redis/Valkey EngineCPUUtilization (%) of the busiest node above the threshold.
   * @default threshold 80 (%), 5-minute periods, 3 of 3
   */
  readonly redisCpu?: AlarmSettings;
  /**
   * Redis/Valkey DatabaseMemoryUsagePercentage of the fullest node above the threshold.
   * @default threshold 85 (%), 5-minute periods, 3 of 3
   */
  readonly redisMemory?: AlarmSettings;
  /**
   * Redis/Valkey ReplicationLag (seconds) of the slowest replica above the threshold; only created when the cache has replicas.
   * @default threshold 10 (s), 1-minute periods, 5 of 5
   */
  readonly redisReplicationLag?: AlarmSettings;
  /**
   * DAX ErrorRequestCount + FaultRequestCount (count per period) above the threshold.
   * @default threshold 10, 5-minute periods, 2 of 2
   */
  readonly daxErrors?: AlarmSettings;
  /**
   * DynamoDB ReadThrottleEvents + WriteThrottleEvents on the table (count per period) above the threshold.
   * @default threshold 0, 1-minute periods, 3 of 5
   */
  readonly dynamoDbThrottles?: AlarmSettings;
  /**
   * Lambda Errors / Invocations (%) above the threshold, judged only with at least `minRequests` invocations.
   * @default threshold 2 (%), 5-minute periods, 2 of 2, at least 20 invocations per period
   */
  readonly lambdaErrorRate?: TrafficGatedAlarmSettings;
  /**
   * Lambda Throttles (count per period) above the threshold.
   * @default threshold 0, 1-minute periods, 3 of 5
   */
  readonly lambdaThrottles?: AlarmSettings;
  /**
   * API Gateway 5XXError / Count (%) above the threshold, judged only with at least `minRequests` requests.
   * @default threshold 1 (%), 5-minute periods, 2 of 2, at least 20 requests per period
   */
  readonly apiServerErrorRate?: TrafficGatedAlarmSettings;
  /**
   * API Gateway Latency p99 (ms) above the threshold; periods with too few requests for a p99 are ignored.
   * @default threshold 1000 (ms), 5-minute periods, 3 of 3
   */
  readonly apiLatencyP99?: AlarmSettings;
  /**
   * Stream invalidator IteratorAge (ms: how old the newest record of its last batch was) above the
   * threshold: cache entries stay stale about that long after a change. Only with an invalidator.
   * @default threshold 30000 (ms), 1-minute periods, 3 of 5
   */
  readonly invalidationIteratorAge?: AlarmSettings;
  /**
   * Messages in the invalidator's on-failure queue (batches it gave up on) above the threshold:
   * their entries may be served stale until their TTL. Only with an invalidator.
   * @default threshold 0, 1-minute periods, 1 of 1
   */
  readonly invalidationFailuresQueued?: AlarmSettings;
  /**
   * Invalidator Lambda Errors plus records it reported as failed (count per period) above the
   * threshold, sustained: the cache is unreachable from it, or records it cannot map. Only with an invalidator.
   * @default threshold 0, 1-minute periods, 3 of 5
   */
  readonly invalidatorErrors?: AlarmSettings;
  /**
   * ElastiCache Serverless ThrottledCmds (count per period) above the threshold: the cache is at its
   * ECPU/s usage limit and refuses commands. Only with a ServerlessCache.
   * @default threshold 0, 1-minute periods, 3 of 5
   */
  readonly serverlessThrottles?: AlarmSettings;
  /**
   * ElastiCache Serverless BytesUsedForCache as a percentage of the cache's data storage limit above
   * the threshold: at the limit it evicts. Only with a ServerlessCache.
   * @default threshold 80 (%), 5-minute periods, 3 of 3
   */
  readonly serverlessDataStorage?: AlarmSettings;
  /**
   * Memcached Evictions (count per period, summed over the nodes) above the threshold, sustained. Only with a MemcachedCache.
   * @default threshold 0, 5-minute periods, 3 of 3
   */
  readonly memcachedEvictions?: AlarmSettings;
  /**
   * Memcached CPUUtilization (%) of the busiest node above the threshold. Only with a MemcachedCache.
   * @default threshold 80 (%), 5-minute periods, 3 of 3
   */
  readonly memcachedCpu?: AlarmSettings;
  /**
   * WebSocket pushes that failed (`PushFailure`) as a percentage of pushes attempted (`Push` +
   * `PushFailure`; gone clients, pruned, are not failures), judged only with at least `minRequests`
   * pushes. Only with a WebSocket API.
   * @default threshold 5 (%), 5-minute periods, 2 of 2, at least 20 pushes per period
   */
  readonly pushFailureRatio?: TrafficGatedAlarmSettings;
}

/** An alarm's settings after defaults. */
export interface ResolvedAlarmSettings {
  /** Create the alarm. */
  readonly enabled: boolean;
  /** Threshold in the alarm's unit. */
  readonly threshold: number;
  /** Seconds per period. */
  readonly periodSeconds: number;
  /** Periods looked at. */
  readonly evaluationPeriods: number;
  /** Breaching periods that fire the alarm. */
  readonly datapointsToAlarm: number;
  /** Missing-data behaviour. */
  readonly treatMissingData: TreatMissingData;
  /**
   * Traffic below which a period counts as healthy.
   * @default unset except on the traffic-gated alarms (cacheHitRatio, lambdaErrorRate, apiServerErrorRate, pushFailureRatio)
   */
  readonly minRequests?: number;
}

/**
 * Defaults of every alarm (help/operations.md explains each, and its missing-data choice).
 * A stack's environment config overrides them field by field.
 */
export const DEFAULT_ALARM_SETTINGS: Readonly<Record<AlarmKey, ResolvedAlarmSettings>> = {
  // No reads = nothing to judge; a cache that is down produces no hits or misses at all, which is
  // the circuit-open alarm's job.
  cacheHitRatio: { enabled: true, threshold: 80, periodSeconds: 300, evaluationPeriods: 3, datapointsToAlarm: 3, treatMissingData: "notBreaching", minRequests: 100 },
  // The runtime writes CircuitOpen only when it happens: no datapoint means no event.
  cacheCircuitOpen: { enabled: true, threshold: 0, periodSeconds: 60, evaluationPeriods: 5, datapointsToAlarm: 3, treatMissingData: "notBreaching" },
  // Sums are FILLed with 0; a node not reporting is not evidence of evictions.
  redisEvictions: { enabled: true, threshold: 0, periodSeconds: 300, evaluationPeriods: 3, datapointsToAlarm: 3, treatMissingData: "notBreaching" },
  // Nodes report every minute; no data means no node reported, which INSUFFICIENT_DATA shows honestly.
  redisCpu: { enabled: true, threshold: 80, periodSeconds: 300, evaluationPeriods: 3, datapointsToAlarm: 3, treatMissingData: "missing" },
  // As for CPU: silence is a reporting gap, not a full cache.
  redisMemory: { enabled: true, threshold: 85, periodSeconds: 300, evaluationPeriods: 3, datapointsToAlarm: 3, treatMissingData: "missing" },
  // Only replicas report lag (the primary never does): no datapoint means no lag reported.
  redisReplicationLag: { enabled: true, threshold: 10, periodSeconds: 60, evaluationPeriods: 5, datapointsToAlarm: 5, treatMissingData: "notBreaching" },
  // DAX counts only failures that happen: no datapoint means no failed request.
  daxErrors: { enabled: true, threshold: 10, periodSeconds: 300, evaluationPeriods: 2, datapointsToAlarm: 2, treatMissingData: "notBreaching" },
  // DynamoDB publishes throttle events only when there are some.
  dynamoDbThrottles: { enabled: true, threshold: 0, periodSeconds: 60, evaluationPeriods: 5, datapointsToAlarm: 3, treatMissingData: "notBreaching" },
  // No invocations, no errors (Lambda publishes nothing for an idle function).
  lambdaErrorRate: { enabled: true, threshold: 2, periodSeconds: 300, evaluationPeriods: 2, datapointsToAlarm: 2, treatMissingData: "notBreaching", minRequests: 20 },
  // Throttles are published only when they occur.
  lambdaThrottles: { enabled: true, threshold: 0, periodSeconds: 60, evaluationPeriods: 5, datapointsToAlarm: 3, treatMissingData: "notBreaching" },
  // No requests, no server errors.
  apiServerErrorRate: { enabled: true, threshold: 1, periodSeconds: 300, evaluationPeriods: 2, datapointsToAlarm: 2, treatMissingData: "notBreaching", minRequests: 20 },
  // No requests, no latency to judge (and too few for a p99 are ignored, see evaluate_low_sample_count_percentiles).
  apiLatencyP99: { enabled: true, threshold: 1000, periodSeconds: 300, evaluationPeriods: 3, datapointsToAlarm: 3, treatMissingData: "notBreaching" },
  // Lambda publishes IteratorAge only for invocations: no records, nothing behind.
  invalidationIteratorAge: { enabled: true, threshold: 30_000, periodSeconds: 60, evaluationPeriods: 5, datapointsToAlarm: 3, treatMissingData: "notBreaching" },
  // A queue holding messages is active and reports every minute; silence means an empty, idle queue.
  invalidationFailuresQueued: { enabled: true, threshold: 0, periodSeconds: 60, evaluationPeriods: 1, datapointsToAlarm: 1, treatMissingData: "notBreaching" },
  // Errors and reported records are published only when they happen.
  invalidatorErrors: { enabled: true, threshold: 0, periodSeconds: 60, evaluationPeriods: 5, datapointsToAlarm: 3, treatMissingData: "notBreaching" },
  // ThrottledCmds is published only when commands are throttled.
  serverlessThrottles: { enabled: true, threshold: 0, periodSeconds: 60, evaluationPeriods: 5, datapointsToAlarm: 3, treatMissingData: "notBreaching" },
  // A serverless cache reports its size every minute: silence is a reporting gap.
  serverlessDataStorage: { enabled: true, threshold: 80, periodSeconds: 300, evaluationPeriods: 3, datapointsToAlarm: 3, treatMissingData: "missing" },
  // As for Redis: a node not reporting is not evidence of evictions.
  memcachedEvictions: { enabled: true, threshold: 0, periodSeconds: 300, evaluationPeriods: 3, datapointsToAlarm: 3, treatMissingData: "notBreaching" },
  // Nodes report every minute; silence is a reporting gap.
  memcachedCpu: { enabled: true, threshold: 80, periodSeconds: 300, evaluationPeriods: 3, datapointsToAlarm: 3, treatMissingData: "missing" },
  // The runtime writes push metrics only when a turn is pushed: no pushes, nothing failed.
  pushFailureRatio: { enabled: true, threshold: 5, periodSeconds: 300, evaluationPeriods: 2, datapointsToAlarm: 2, treatMissingData: "notBreaching", minRequests: 20 },
};

/** Alarms whose threshold is a ratio judged only with enough traffic. */
const GATED: ReadonlySet<AlarmKey> = new Set<AlarmKey>(["cacheHitRatio", "lambdaErrorRate", "apiServerErrorRate", "pushFailureRatio"]);

const finite = (n: number) => typeof n === "number" && Number.isFinite(n);
const THRESHOLD_RULES: Readonly<Record<AlarmKey, { ok: (n: number) => boolean; allowed: string }>> = {
  cacheHitRatio: { ok: (n) => finite(n) && n >= 0 && n <= 100, allowed: "a hit ratio in percent, from 0 to 100" },
  cacheCircuitOpen: { ok: (n) => finite(n) && n >= 0, allowed: "a count per period of at least 0" },
  redisEvictions: { ok: (n) => finite(n) && n >= 0, allowed: "a count per period of at least 0" },
  redisCpu: { ok: (n) => finite(n) && n >= 1 && n <= 100, allowed: "a CPU percentage from 1 to 100" },
  redisMemory: { ok: (n) => finite(n) && n >= 1 && n <= 100, allowed: "a memory percentage from 1 to 100" },
  redisReplicationLag: { ok: (n) => finite(n) && n > 0 && n <= 3600, allowed: "a lag in seconds greater than 0 and at most 3600" },
  daxErrors: { ok: (n) => finite(n) && n >= 0, allowed: "a count per period of at least 0" },
  dynamoDbThrottles: { ok: (n) => finite(n) && n >= 0, allowed: "a count per period of at least 0" },
  lambdaErrorRate: { ok: (n) => finite(n) && n >= 0 && n < 100, allowed: "an error percentage from 0 up to (not including) 100" },
  lambdaThrottles: { ok: (n) => finite(n) && n >= 0, allowed: "a count per period of at least 0" },
  apiServerErrorRate: { ok: (n) => finite(n) && n >= 0 && n < 100, allowed: "an error percentage from 0 up to (not including) 100" },
  apiLatencyP99: { ok: (n) => finite(n) && n > 0 && n <= 300_000, allowed: "a latency in milliseconds greater than 0 and at most 300000" },
  invalidationIteratorAge: { ok: (n) => finite(n) && n > 0 && n <= 86_400_000, allowed: "an age in milliseconds greater than 0 and at most 86400000 (the stream's 24 hours)" },
  invalidationFailuresQueued: { ok: (n) => finite(n) && n >= 0, allowed: "a count of messages of at least 0" },
  invalidatorErrors: { ok: (n) => finite(n) && n >= 0, allowed: "a count per period of at least 0" },
  serverlessThrottles: { ok: (n) => finite(n) && n >= 0, allowed: "a count per period of at least 0" },
  serverlessDataStorage: { ok: (n) => finite(n) && n >= 1 && n <= 100, allowed: "a percentage of the data storage limit from 1 to 100" },
  memcachedEvictions: { ok: (n) => finite(n) && n >= 0, allowed: "a count per period of at least 0" },
  memcachedCpu: { ok: (n) => finite(n) && n >= 1 && n <= 100, allowed: "a CPU percentage from 1 to 100" },
  pushFailureRatio: { ok: (n) => finite(n) && n >= 0 && n < 100, allowed: "a failure percentage from 0 up to (not including) 100" },
};

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** An alarm's evaluation window may not exceed one day. */
const MAX_EVALUATION_SECONDS = 86_400;

/**
 * An alarm's settings after defaults: a field given wins; `datapointsToAlarm` follows a given
 * `evaluationPeriods` when it is not given itself.
 */
export function resolveAlarmSettings(key: AlarmKey, given: TrafficGatedAlarmSettings = {}): ResolvedAlarmSettings {
  const d = DEFAULT_ALARM_SETTINGS[key];
  const evaluationPeriods = given.evaluationPeriods ?? d.evaluationPeriods;
  return {
    enabled: given.enabled ?? d.enabled,
    threshold: given.threshold ?? d.threshold,
    periodSeconds: given.periodSeconds ?? d.periodSeconds,
    evaluationPeriods,
    datapointsToAlarm: given.datapointsToAlarm ?? (given.evaluationPeriods !== undefined ? evaluationPeriods : d.datapointsToAlarm),
    treatMissingData: given.treatMissingData ?? d.treatMissingData,
    ...(GATED.has(key) ? { minRequests: given.minRequests ?? d.minRequests } : {}),
  };
}

/**
 * Records every problem of an alarms config in `v`, fields named `<field>.<alarm>.<setting>`.
 * The construct calls it with `alarms`; an environment config can call it with its own prefix,
 * so a bad threshold fails when the config loads.
 */
export function validateCacheAlarms(v: PropsValidator, field: string, alarms: CacheAlarmsProps | undefined): void {
  if (!alarms) return;
  v.check(alarms.enabled === undefined || typeof alarms.enabled === "boolean", `${field}.enabled`, alarms.enabled, "true or false");
  v.matches(`${field}.email`, alarms.email, EMAIL_RE, "an email address such as \"oncall@example.com\"");
  const known = new Set<string>([...ALARM_KEYS, "enabled", "email"]);
  for (const k of Object.keys(alarms)) {
    v.check(known.has(k), `${field}.${k}`, k, `one of ${[...known].join(", ")}`);
  }
  for (const key of ALARM_KEYS) {
    const given = alarms[key] as TrafficGatedAlarmSettings | undefined;
    if (given === undefined) continue;
    const f = `${field}.${key}`;
    const r = resolveAlarmSettings(key, given);
    const rule = THRESHOLD_RULES[key];
    v.check(rule.ok(r.threshold), `${f}.threshold`, r.threshold, rule.allowed);
    v.check(Number.isInteger(r.periodSeconds) && r.periodSeconds >= 60 && r.periodSeconds % 60 === 0, `${f}.periodSeconds`,
      r.periodSeconds, "a multiple of 60 seconds (60, 120, 300, …): every metric watched is published at 1-minute resolution");
    v.check(Number.isInteger(r.evaluationPeriods) && r.evaluationPeriods >= 1, `${f}.evaluationPeriods`, r.evaluationPeriods,
      "an integer of at least 1");
    v.check(!(Number.isInteger(r.evaluationPeriods) && r.periodSeconds * r.evaluationPeriods > MAX_EVALUATION_SECONDS),
      `${f}.evaluationPeriods`, r.evaluationPeriods,
      `at most ${Math.floor(MAX_EVALUATION_SECONDS / Math.max(1, r.periodSeconds))} with ${r.periodSeconds}-second periods (an alarm looks back one day at most)`);
    v.check(Number.isInteger(r.datapointsToAlarm) && r.datapointsToAlarm >= 1 && r.datapointsToAlarm <= r.evaluationPeriods,
      `${f}.datapointsToAlarm`, r.datapointsToAlarm, `an integer from 1 to evaluationPeriods (${r.evaluationPeriods})`);
    v.oneOf(`${f}.treatMissingData`, r.treatMissingData, TREAT_MISSING_DATA);
    v.check(typeof r.enabled === "boolean", `${f}.enabled`, r.enabled, "true or false");
    if (GATED.has(key)) {
      v.check(Number.isInteger(r.minRequests) && r.minRequests! >= 1, `${f}.minRequests`, r.minRequests, "an integer of at least 1");
    } else {
      v.check(given.minRequests === undefined, `${f}.minRequests`, given.minRequests,
        `unset: only ${[...GATED].join(", ")} are gated on traffic`);
    }
  }
}
