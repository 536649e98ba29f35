/**
 * A dashboard and alarms for one cache-aside service, added with one line per stack:
 *
 *   new CacheObservability(this, "observability", { api, function: fn, table, cache, dax, alarms: cfg.observability.alarms });
 *
 * The runtime metrics it reads (namespace, names, dimensions) come from functions/lib/metrics.ts,
 * the same definition the handlers write with.
 */
import { CloudwatchDashboard } from "@cdktf/provider-aws/lib/cloudwatch-dashboard";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import { Fn, TerraformStack, Token } from "cdktf";
import { Construct } from "constructs";
import {
  DEFAULT_METRICS_NAMESPACE,
  DEFAULT_SERVICE_NAME,
  DIMENSION,
  METRIC,
  METRICS_ENV,
  MetricName,
  routeDimension,
  UNCACHED_ROUTE_PATHS,
} from "../../functions/lib/metrics";
import type { CacheApi } from "../api";
import { physicalName } from "../core/naming";
import { byProfile, Profile, profileOf } from "../core/profile";
import { PropsValidator } from "../core/validation";
import type { DaxCluster } from "../dax";
import type { CacheAsideFunction } from "../function";
import type { RedisCache } from "../redis";
import type { CacheTable } from "../table";
import { dashboardBody } from "./dashboard";
import { AlarmQuery, alarmQueries, filledSum, metricCount, MetricSpec } from "./metric";

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
   * @default unset except on the traffic-gated alarms (cacheHitRatio, lambdaErrorRate, apiServerErrorRate)
   */
  readonly minRequests?: number;
}

const s = (threshold: number, periodSeconds: number, evaluationPeriods: number, datapointsToAlarm: number,
  treatMissingData: TreatMissingData, minRequests?: number): ResolvedAlarmSettings =>
  ({ enabled: true, threshold, periodSeconds, evaluationPeriods, datapointsToAlarm, treatMissingData, ...(minRequests !== undefined ? { minRequests } : {}) });

/**
 * Defaults of every alarm (help/operations.md explains each, and its missing-data choice).
 * A stack's environment config overrides them field by field.
 */
export const DEFAULT_ALARM_SETTINGS: Readonly<Record<AlarmKey, ResolvedAlarmSettings>> = {
  // No reads = nothing to judge; a cache that is down produces no hits or misses at all, which is
  // the circuit-open alarm's job.
  cacheHitRatio: s(80, 300, 3, 3, "notBreaching", 100),
  // The runtime writes CircuitOpen only when it happens: no datapoint means no event.
  cacheCircuitOpen: s(0, 60, 5, 3, "notBreaching"),
  // Sums are FILLed with 0; a node not reporting is not evidence of evictions.
  redisEvictions: s(0, 300, 3, 3, "notBreaching"),
  // Nodes report every minute; no data means no node reported, which INSUFFICIENT_DATA shows honestly.
  redisCpu: s(80, 300, 3, 3, "missing"),
  // As for CPU: silence is a reporting gap, not a full cache.
  redisMemory: s(85, 300, 3, 3, "missing"),
  // Only replicas report lag (the primary never does): no datapoint means no lag reported.
  redisReplicationLag: s(10, 60, 5, 5, "notBreaching"),
  // DAX counts only failures that happen: no datapoint means no failed request.
  daxErrors: s(10, 300, 2, 2, "notBreaching"),
  // DynamoDB publishes throttle events only when there are some.
  dynamoDbThrottles: s(0, 60, 5, 3, "notBreaching"),
  // No invocations, no errors (Lambda publishes nothing for an idle function).
  lambdaErrorRate: s(2, 300, 2, 2, "notBreaching", 20),
  // Throttles are published only when they occur.
  lambdaThrottles: s(0, 60, 5, 3, "notBreaching"),
  // No requests, no server errors.
  apiServerErrorRate: s(1, 300, 2, 2, "notBreaching", 20),
  // No requests, no latency to judge (and too few for a p99 are ignored, see evaluate_low_sample_count_percentiles).
  apiLatencyP99: s(1000, 300, 3, 3, "notBreaching"),
};

/** Alarms whose threshold is a ratio judged only with enough traffic. */
const GATED: ReadonlySet<AlarmKey> = new Set<AlarmKey>(["cacheHitRatio", "lambdaErrorRate", "apiServerErrorRate"]);

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

/** Props of {@link CacheObservability}. */
export interface CacheObservabilityProps {
  /** The API in front of the function: its `ApiName` and stage, and the routes the runtime reports under. */
  readonly api: CacheApi;
  /** The cache-aside function: its Lambda metrics, and the service whose runtime metrics are read. */
  readonly function: CacheAsideFunction;
  /** The DynamoDB table behind the cache. */
  readonly table: CacheTable;
  /**
   * The Redis/Valkey cache.
   * @default none: no Redis widgets or alarms
   */
  readonly cache?: RedisCache;
  /**
   * The DAX cluster in front of the table.
   * @default none: no DAX widgets or alarms
   */
  readonly dax?: DaxCluster;
  /**
   * `Service` dimension of the runtime metrics. Set on the function as `SERVICE_NAME`; a function
   * that already has another value is refused, so the alarms always read what the code writes.
   * @default the function's `SERVICE_NAME`, else "cachefront" (the runtime's own default)
   */
  readonly serviceName?: string;
  /**
   * Namespace of the runtime metrics. Set on the function as `METRICS_NAMESPACE` (a different
   * existing value is refused).
   * @default the function's `METRICS_NAMESPACE`, else "Cachefront" (the runtime's own default)
   */
  readonly metricsNamespace?: string;
  /**
   * Routes (`"<METHOD> <path>"`, as the API declares them) whose cache reads the hit ratio and the
   * circuit-open alarm watch; at most 5 (an alarm reads at most 10 metrics, two per route).
   * @default every GET route of `api` that `function` handles, except the health check
   */
  readonly cacheRoutes?: readonly string[];
  /**
   * Alarm switch, email and per-alarm thresholds, periods, evaluation counts and missing-data behaviour.
   * @default on in prod, off in dev; every alarm at DEFAULT_ALARM_SETTINGS; no email
   */
  readonly alarms?: CacheAlarmsProps;
  /**
   * Dashboard name (1–255 of letters, digits, `-`, `_`).
   * @default derived from the construct path
   */
  readonly dashboardName?: string;
  /**
   * Region the dashboard's graphs read from.
   * @default the region of the stack's (unaliased) AwsProvider
   */
  readonly region?: string;
  /**
   * Deployment profile.
   * @default the enclosing stack's profile, else `prod`
   */
  readonly profile?: Profile;
}

const SERVICE_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._:\/-]{0,254}$/;
const NAMESPACE_RE = /^(?!AWS\/)[A-Za-z0-9][A-Za-z0-9._\/#:-]{0,254}$/;
const DASHBOARD_NAME_RE = /^[A-Za-z0-9_-]{1,255}$/;
const REGION_RE = /^[a-z]{2}(?:-gov)?-[a-z]+-\d$/;
/** CloudWatch's limit on metrics one alarm may read. */
const MAX_ALARM_METRICS = 10;

/**
 * Per-stack observability for a cache-aside service: a CloudWatch dashboard (API Gateway,
 * Lambda, cache hit ratio from the runtime's EMF metrics, Redis/Valkey, DAX, DynamoDB), and
 * alarms to an SNS topic encrypted with its own customer-managed KMS key (CloudWatch cannot
 * publish to a topic under the AWS-managed `aws/sns` key). Alarms are on in prod, off in dev.
 */
export class CacheObservability extends Construct {
  /** Customer-managed key of the topic (rotation on; CloudWatch may use it to publish). */
  public readonly key: KmsKey;
  /** `alias/<name>-alarms`, so the key is easy to find in the console. */
  public readonly keyAlias: KmsAlias;
  /** Topic every alarm notifies (ALARM and OK). */
  public readonly topic: SnsTopic;
  /** Present when `alarms.email` is set. */
  public readonly emailSubscription?: SnsTopicSubscription;
  /** The per-stack dashboard (same graphs in dev and prod). */
  public readonly dashboard: CloudwatchDashboard;
  /** Alarms by key (see ALARM_KEYS; Redis alarms over more than 10 nodes get `-1`, `-2`, … suffixes). Empty when alarms are off. */
  public readonly alarms: ReadonlyMap<string, CloudwatchMetricAlarm>;
  /** @attribute — ARN of the alarm topic; subscribe other endpoints to it. */
  public readonly topicArn: string;
  /** @attribute — ARN of the topic's customer-managed key. */
  public readonly keyArn: string;
  /** @attribute — name of the CloudWatch dashboard. */
  public readonly dashboardName: string;
  /** True when the alarms were created. */
  public readonly alarmsEnabled: boolean;
  /** Settings of every alarm, after defaults (also drawn as threshold lines on the dashboard). */
  public readonly alarmSettings: Readonly<Record<AlarmKey, ResolvedAlarmSettings>>;
  /** `Service` dimension read (and set on the function). */
  public readonly serviceName: string;
  /** Namespace of the runtime metrics read (and set on the function). */
  public readonly metricsNamespace: string;
  /** `Route` values of the function's routes on the API. */
  public readonly routes: readonly string[];
  /** `Route` values the hit ratio and circuit-open alarm read. */
  public readonly cacheRoutes: readonly string[];
  /** Region of the dashboard's graphs. */
  public readonly region: string;

  constructor(scope: Construct, id: string, props: CacheObservabilityProps) {
    super(scope, id);
    const profile = profileOf(this, props.profile);
    const alarmsProps = props.alarms ?? {};
    const fn = props.function;
    const fnEnv = fn.environment;
    const serviceName = props.serviceName ?? fnEnv[METRICS_ENV.serviceName] ?? DEFAULT_SERVICE_NAME;
    const namespace = props.metricsNamespace ?? fnEnv[METRICS_ENV.namespace] ?? DEFAULT_METRICS_NAMESPACE;
    const routes = props.api.routes.filter((r) => r.function === fn).map((r) => routeDimension(r.method, r.path));
    const cacheRoutes = props.cacheRoutes ?? props.api.routes
      .filter((r) => r.function === fn && r.method === "GET" && !UNCACHED_ROUTE_PATHS.includes(r.path))
      .map((r) => routeDimension(r.method, r.path));
    const region = props.region ?? providerRegion(this);
    const dashboardName = props.dashboardName ?? physicalName(this, 255);

    const v = PropsValidator.for(this);
    v.matches("serviceName", serviceName, SERVICE_NAME_RE, "1-255 characters of letters, digits, '.', '_', ':', '/', '-', starting with a letter or digit");
    for (const [field, given, envName] of [
      ["serviceName", props.serviceName, METRICS_ENV.serviceName],
      ["metricsNamespace", props.metricsNamespace, METRICS_ENV.namespace],
    ] as const) {
      const existing = fnEnv[envName];
      v.check(given === undefined || existing === undefined || given === existing, field, given,
        `the function's ${envName} (${JSON.stringify(existing)}): the runtime writes under that value, so the alarms must read it too`);
    }
    v.matches("metricsNamespace", namespace, NAMESPACE_RE,
      "a CloudWatch namespace: 1-255 characters of letters, digits, '.', '_', '/', '#', ':', '-', not starting with \"AWS/\"");
    v.check(routes.length > 0, "api.routes", props.api.routes.map((r) => routeDimension(r.method, r.path)),
      `at least one route handled by ${fn.node.path}`);
    v.check(cacheRoutes.length >= 1 && cacheRoutes.length <= MAX_ALARM_METRICS / 2, "cacheRoutes", cacheRoutes,
      `1 to ${MAX_ALARM_METRICS / 2} routes (an alarm reads at most ${MAX_ALARM_METRICS} metrics, a hit and a miss per route)` +
        (props.cacheRoutes === undefined ? `; ${fn.node.path} has no cached GET route on the API, so name them` : ""));
    cacheRoutes.forEach((r, i) => v.check(routes.includes(r), `cacheRoutes[${i}]`, r,
      `a route of the API handled by the function, "<METHOD> <path>": ${routes.map((x) => JSON.stringify(x)).join(", ")}`));
    v.check(region !== undefined, "region", region, "a region: pass it, or give the stack an AwsProvider with a region");
    if (region !== undefined) v.matches("region", region, REGION_RE, "an AWS region name such as \"us-east-1\"");
    v.matches("dashboardName", dashboardName, DASHBOARD_NAME_RE, "1-255 characters of letters, digits, '-' and '_'");
    validateCacheAlarms(v, "alarms", alarmsProps);
    v.throwIfAny();

    this.serviceName = serviceName;
    this.metricsNamespace = namespace;
    this.routes = routes;
    this.cacheRoutes = cacheRoutes;
    this.region = region!;
    this.dashboardName = dashboardName;
    this.alarmsEnabled = alarmsProps.enabled ?? byProfile(profile, { dev: false, prod: true });
    this.alarmSettings = Object.fromEntries(
      ALARM_KEYS.map((k) => [k, resolveAlarmSettings(k, alarmsProps[k] as TrafficGatedAlarmSettings | undefined)]),
    ) as Record<AlarmKey, ResolvedAlarmSettings>;

    // The contract with the runtime: it writes under exactly these values.
    fn.addEnvironment(METRICS_ENV.serviceName, serviceName);
    fn.addEnvironment(METRICS_ENV.namespace, namespace);

    // --- topic, under a key of our own
    // The account comes from an ARN in this stack (no aws_caller_identity: plans run offline).
    const arnParts = Fn.split(":", fn.role.roleArn);
    const partition = Token.asString(Fn.element(arnParts, 1));
    const accountId = Token.asString(Fn.element(arnParts, 4));
    const base = physicalName(this, 200);
    this.key = new KmsKey(this, "key", {
      description: `Encrypts the alarm topic of ${this.node.path}`,
      enableKeyRotation: true,
      deletionWindowInDays: byProfile(profile, { dev: 7, prod: 30 }),
      policy: Fn.jsonencode({
        Version: "2012-10-17",
        Statement: [
          {
            // Without it nobody, not even the account's administrators, could manage the key.
            Sid: "AccountAdministersTheKey",
            Effect: "Allow",
            Principal: { AWS: `arn:${partition}:iam::${accountId}:root` },
            Action: "kms:*",
            Resource: "*",
          },
          {
            // CloudWatch alarms publish to the encrypted topic; SNS encrypts with a data key made for them.
            Sid: "CloudWatchAlarmsPublish",
            Effect: "Allow",
            Principal: { Service: "cloudwatch.amazonaws.com" },
            Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
            Resource: "*",
          },
        ],
      }),
    });
    this.keyAlias = new KmsAlias(this, "key-alias", { name: `alias/${base}-alarms`, targetKeyId: this.key.keyId });
    this.keyArn = this.key.arn;
    this.topic = new SnsTopic(this, "topic", {
      name: `${base}-alarms`,
      displayName: `${serviceName} alarms`,
      kmsMasterKeyId: this.key.arn,
    });
    this.topicArn = this.topic.arn;
    if (alarmsProps.email !== undefined) {
      this.emailSubscription = new SnsTopicSubscription(this, "email", {
        topicArn: this.topic.arn,
        protocol: "email",
        endpoint: alarmsProps.email,
      });
    }

    // --- alarms
    const alarms = new Map<string, CloudwatchMetricAlarm>();
    if (this.alarmsEnabled) {
      for (const a of this.alarmDefinitions(props)) {
        const st = this.alarmSettings[a.setting];
        if (!st.enabled) continue;
        const common = {
          alarmName: `${base}-${kebab(a.key)}`,
          alarmDescription: `${a.summary} Runbook: help/operations.md#${a.setting.toLowerCase()}`,
          comparisonOperator: a.comparison,
          threshold: st.threshold,
          evaluationPeriods: st.evaluationPeriods,
          datapointsToAlarm: st.datapointsToAlarm,
          treatMissingData: st.treatMissingData,
          actionsEnabled: true,
          alarmActions: [this.topic.arn],
          okActions: [this.topic.arn],
        };
        const alarm = "metric" in a
          ? new CloudwatchMetricAlarm(this, `alarm-${kebab(a.key)}`, {
              ...common,
              namespace: a.metric.namespace,
              metricName: a.metric.metricName,
              dimensions: { ...a.metric.dimensions },
              period: st.periodSeconds,
              ...(/^p\d/.test(a.metric.stat)
                ? { extendedStatistic: a.metric.stat, evaluateLowSampleCountPercentiles: "ignore" }
                : { statistic: a.metric.stat }),
            })
          : new CloudwatchMetricAlarm(this, `alarm-${kebab(a.key)}`, {
              ...common,
              metricQuery: alarmQueries(a.queries, st.periodSeconds),
            });
        alarms.set(a.key, alarm);
      }
    }
    this.alarms = alarms;

    // --- dashboard
    this.dashboard = new CloudwatchDashboard(this, "dashboard", {
      dashboardName,
      dashboardBody: Fn.jsonencode(escapeForHcl(dashboardBody({
        title: `${serviceName} (${this.node.path})`,
        region: this.region,
        periodSeconds: 60,
        runtime: { namespace, serviceName, cacheRoutes },
        api: { apiName: props.api.apiName, stageName: props.api.stageName },
        functionName: fn.functionName,
        tableName: props.table.tableName,
        redisMembers: props.cache?.memberClusterIds,
        redisLabel: props.cache ? `${props.cache.engine.label} ${props.cache.engineVersion}` : undefined,
        daxClusterName: props.dax?.clusterName,
        thresholds: {
          hitRatioPercent: this.alarmSettings.cacheHitRatio.threshold,
          apiLatencyP99Ms: this.alarmSettings.apiLatencyP99.threshold,
          redisCpuPercent: this.alarmSettings.redisCpu.threshold,
          redisMemoryPercent: this.alarmSettings.redisMemory.threshold,
        },
        alarmArns: [...alarms.values()].map((a) => a.arn),
      }))),
    });
  }

  /** Every alarm this construct can create for `props`, before the per-alarm switches. */
  private alarmDefinitions(props: CacheObservabilityProps): AlarmDefinition[] {
    const defs: AlarmDefinition[] = [];
    const ns = this.metricsNamespace;
    const runtime = (metricName: MetricName, route: string): MetricSpec => ({
      namespace: ns,
      metricName,
      dimensions: { [DIMENSION.Service]: this.serviceName, [DIMENSION.Route]: route },
      stat: "Sum",
    });
    const st = this.alarmSettings;

    // --- runtime (EMF): per-route metrics of the cached routes (alarms cannot use SEARCH)
    const hits = this.cacheRoutes.map((r, i) => ({ id: `h${i}`, metric: runtime(METRIC.CacheHit, r) }));
    const misses = this.cacheRoutes.map((r, i) => ({ id: `m${i}`, metric: runtime(METRIC.CacheMiss, r) }));
    defs.push({
      key: "cacheHitRatio",
      setting: "cacheHitRatio",
      summary: `Cache hit ratio of ${this.serviceName} (${this.cacheRoutes.join(", ")}) below ${st.cacheHitRatio.threshold} % ` +
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
    const opens = this.cacheRoutes.map((r, i) => ({ id: `c${i}`, metric: runtime(METRIC.CircuitOpen, r) }));
    defs.push({
      key: "cacheCircuitOpen",
      setting: "cacheCircuitOpen",
      summary: `Reads of ${this.serviceName} skip the cache because its circuit breaker is open: the cache is unreachable or too slow; every read is going to the table.`,
      comparison: "GreaterThanThreshold",
      queries: [...opens, { id: "opens", expression: filledSum(opens.map((q) => q.id)), label: "Circuit-open reads" }],
    });

    // --- Redis / Valkey: MAX (or SUM) over member nodes, at most 10 metrics per alarm
    const cache = props.cache;
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
    if (props.dax) {
      const dax = (metricName: string): MetricSpec =>
        ({ namespace: "AWS/DAX", metricName, dimensions: { ClusterId: props.dax!.clusterName }, stat: "Sum" });
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

    // --- DynamoDB
    const table = (metricName: string): MetricSpec =>
      ({ namespace: "AWS/DynamoDB", metricName, dimensions: { TableName: props.table.tableName }, stat: "Sum" });
    defs.push({
      key: "dynamoDbThrottles",
      setting: "dynamoDbThrottles",
      summary: "DynamoDB throttles reads or writes of the table: a hot partition key, or provisioned capacity too low.",
      comparison: "GreaterThanThreshold",
      queries: [
        { id: "rt", metric: table("ReadThrottleEvents") },
        { id: "wt", metric: table("WriteThrottleEvents") },
        { id: "throttles", expression: filledSum(["rt", "wt"]), label: "Throttle events" },
      ],
    });

    // --- Lambda
    const lambda = (metricName: string): MetricSpec =>
      ({ namespace: "AWS/Lambda", metricName, dimensions: { FunctionName: props.function.functionName }, stat: "Sum" });
    defs.push({
      key: "lambdaErrorRate",
      setting: "lambdaErrorRate",
      summary: `Lambda error rate above ${st.lambdaErrorRate.threshold} % (unhandled errors and timeouts, not 4xx/503 answers).`,
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
    });
    defs.push({
      key: "lambdaThrottles",
      setting: "lambdaThrottles",
      summary: "Lambda invocations throttled: reserved concurrency or the account's concurrency limit reached; API callers get 5xx.",
      comparison: "GreaterThanThreshold",
      metric: lambda("Throttles"),
    });

    // --- API Gateway
    const api = (metricName: string, stat: string): MetricSpec => ({
      namespace: "AWS/ApiGateway",
      metricName,
      dimensions: { ApiName: props.api.apiName, Stage: props.api.stageName },
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
        throw new Error(`${this.node.path}: alarm ${d.key} would read ${metricCount(d.queries)} metrics; CloudWatch allows ${MAX_ALARM_METRICS}`);
      }
    }
    return defs;
  }
}

/** One alarm before its settings are applied: one metric, or metric math whose last query is watched. */
type AlarmDefinition = {
  readonly key: string;
  readonly setting: AlarmKey;
  readonly summary: string;
  readonly comparison: "LessThanThreshold" | "GreaterThanThreshold";
} & ({ readonly metric: MetricSpec } | { readonly queries: readonly AlarmQuery[] });

/** Region of the stack's unaliased AwsProvider, if it has one with a literal region. */
function providerRegion(scope: Construct): string | undefined {
  const stack = TerraformStack.of(scope);
  for (const c of stack.node.findAll()) {
    if (c instanceof AwsProvider && c.alias === undefined) return c.region;
  }
  return undefined;
}

/**
 * cdktf 0.21 writes the string literals inside `Fn.jsonencode(...)` into the HCL expression
 * without escaping `"` or `\` (only newlines and `${`), so a SEARCH expression's quotes would end
 * the HCL string early. Escaping them here yields a valid HCL string whose value is the original
 * text. Token markers contain neither character, so references inside strings survive.
 */
function escapeForHcl<T>(value: T): T {
  if (typeof value === "string") return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"') as unknown as T;
  if (Array.isArray(value)) return value.map((v) => escapeForHcl(v)) as unknown as T;
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escapeForHcl(v)])) as T;
  }
  return value;
}

function kebab(s: string): string {
  return s.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
