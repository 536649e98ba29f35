/**
 * A dashboard and alarms for one cache-aside service, added with one line per stack:
 *
 *   new CacheObservability(this, "observability", { api, function: fn, table, cache, dax, alarms: cfg.observability.alarms });
 *
 * The runtime metrics it reads (namespace, names, dimensions, service) come from the function's
 * settings and `functions/lib/contract/metrics.ts`, the same definitions the handlers write with.
 * What is alarmed on is in ./alarms.ts, the alarm settings and their defaults in ./settings.ts.
 */
import { CloudwatchDashboard } from "@cdktf/provider-aws/lib/cloudwatch-dashboard";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import type { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import { Fn, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { allowedText, routeKey, RUNTIME_SETTINGS, settingProblem } from "../../functions/lib/contract";
import type { CacheApi } from "../api";
import { customerKey } from "../core/kms";
import { physicalName } from "../core/naming";
import { byProfile, Profile, profileOf } from "../core/profile";
import { PropsValidator } from "../core/validation";
import type { DaxCluster } from "../dax";
import type { CacheEdge } from "../edge";
import type { CacheAsideFunction } from "../function";
import type { StreamInvalidator } from "../invalidation";
import { ICache, MemcachedCache, RedisCache, ServerlessCache } from "../redis";
import type { WebSocketApi } from "../websocket";

import type { CacheTable } from "../table";
import { alarmCatalog, kebab, MAX_ALARM_METRICS } from "./alarms";
import { dashboardBody } from "./dashboard";
import { escapeForHcl } from "./hcl";
import { CacheKindWatch, cacheKindAlarms } from "./cache-kinds";
import { coverageAlarms, uncovered } from "./coverage";
import { invalidationAlarms } from "./invalidation";
import { realtimeAlarms, realtimeWatch } from "./realtime";
import { alarmDescription, defaultRunbookUrl } from "./runbook";
import { alarmQueries } from "./metric";
import {
  ALARM_KEYS, AlarmKey, CacheAlarmsProps, resolveAlarmSettings, ResolvedAlarmSettings, TrafficGatedAlarmSettings, validateCacheAlarms,
} from "./settings";

export * from "./settings";
export type { AlarmDefinition } from "./alarms";
export { ALARM_FIRST_CHECKS } from "./runbook";

/** Props of {@link CacheObservability}. */
export interface CacheObservabilityProps {
  /** The API in front of the function: its `ApiName` and stage, and the routes the runtime reports under. */
  readonly api: CacheApi;
  /** The cache-aside function: its Lambda metrics, and the service whose runtime metrics are read. */
  readonly function: CacheAsideFunction;
  /** The DynamoDB table behind the cache. */
  readonly table: CacheTable;
  /**
   * The cache: Redis/Valkey nodes (`RedisCache`), ElastiCache Serverless (`ServerlessCache`) or
   * Memcached (`MemcachedCache`) get the widgets and alarms of their kind; a cache another stack owns
   * (`RedisCache.fromAttributes`) is that stack's to watch.
   * @default none: no cache widgets or alarms
   */
  readonly cache?: ICache;
  /**
   * The DAX cluster in front of the table.
   * @default none: no DAX widgets or alarms
   */
  readonly dax?: DaxCluster;
  /**
   * The stream invalidator of the function's entries: alarms on its iterator age, on-failure
   * queue and errors, and an invalidation-lag section on the dashboard.
   * @default none: no invalidation widgets or alarms
   */
  readonly invalidator?: StreamInvalidator;
  /**
   * The WebSocket API on the function: an alarm on the share of pushes that failed, and a real-time
   * section on the dashboard (connections, messages, pushes, prunes, failures, the pusher).
   * @default none: no real-time widgets or alarm
   */
  readonly realtime?: WebSocketApi;
  /**
   * The CloudFront distribution in front of the API: its requests, cache hit rate and error rates on the dashboard.
   * @default none: no edge widgets
   */
  readonly edge?: CacheEdge;

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
   * Also watch every other Lambda function and DynamoDB table of the stack (an authorizer, a second
   * table): errors and throttles, with the service's alarm settings, on the same topic and dashboard.
   * They are found when this construct is created, so create it last (the ready-made stacks do).
   * @default true
   */
  readonly watchRestOfStack?: boolean;
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
   * Page the alarm descriptions link to, followed by `#<alarm>`: an absolute URL an on-call engineer
   * can open from the notification.
   * @default help/operations.md of this package's version on its repository (`…/blob/v<version>/help/operations.md`)
   */
  readonly runbookUrl?: string;
  /**
   * Deployment profile.
   * @default the enclosing stack's profile, else `prod`
   */
  readonly profile?: Profile;
}

const DASHBOARD_NAME_RE = /^[A-Za-z0-9_-]{1,255}$/;
const REGION_RE = /^[a-z]{2}(?:-gov)?-[a-z]+-\d$/;

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
  /** The other functions and tables of the stack it watches (construct paths below the stack). */
  public readonly restOfStack: readonly string[];

  constructor(scope: Construct, id: string, props: CacheObservabilityProps) {
    super(scope, id);
    const profile = profileOf(this, props.profile);
    const alarmsProps = props.alarms ?? {};
    const fn = props.function;
    const fnSettings = fn.settings;
    const serviceName = props.serviceName ?? String(fnSettings.serviceName);
    const namespace = props.metricsNamespace ?? String(fnSettings.metricsNamespace);
    const routes = props.api.routes.filter((r) => r.function === fn).map((r) => routeKey(r));
    const cacheRoutes = props.cacheRoutes ?? props.api.routes
      .filter((r) => r.function === fn && (r.cached ?? r.method === "GET"))
      .map((r) => routeKey(r));
    const region = props.region ?? providerRegion(this);
    const dashboardName = props.dashboardName ?? physicalName(this, 255);

    const v = PropsValidator.for(this);
    for (const [field, given] of [["serviceName", props.serviceName], ["metricsNamespace", props.metricsNamespace]] as const) {
      const spec = RUNTIME_SETTINGS[field];
      const existing = fnSettings[field];
      v.check(given === undefined || !settingProblem(spec, given), field, given, allowedText(spec));
      v.check(given === undefined || given === existing, field, given,
        `the function's ${spec.env} (${JSON.stringify(existing)}): the runtime writes under that value, so the alarms must read it too`);
    }
    v.check(routes.length > 0, "api.routes", props.api.routes.map((r) => routeKey(r)),
      `at least one route handled by ${fn.node.path}`);
    v.check(cacheRoutes.length >= 1 && cacheRoutes.length <= MAX_ALARM_METRICS / 2, "cacheRoutes", cacheRoutes,
      `1 to ${MAX_ALARM_METRICS / 2} routes (an alarm reads at most ${MAX_ALARM_METRICS} metrics, a hit and a miss per route)` +
        (props.cacheRoutes === undefined ? `; ${fn.node.path} has no cached GET route on the API, so name them` : ""));
    cacheRoutes.forEach((r, i) => v.check(routes.includes(r), `cacheRoutes[${i}]`, r,
      `a route of the API handled by the function, "<METHOD> <path>": ${routes.map((x) => JSON.stringify(x)).join(", ")}`));
    v.check(!props.invalidator || props.invalidator.fronts === fn, "invalidator", props.invalidator?.node.path,
      `an invalidator of ${fn.node.path}'s entries: its metrics are filed under that function's service`);
    v.check(!props.realtime || props.realtime.function === fn, "realtime", props.realtime?.node.path,
      `a WebSocket API on ${fn.node.path}: its metrics are filed under that function's service`);
    v.check(region !== undefined, "region", region, "a region: pass it, or give the stack an AwsProvider with a region");
    if (region !== undefined) v.matches("region", region, REGION_RE, "an AWS region name such as \"us-east-1\"");
    v.matches("dashboardName", dashboardName, DASHBOARD_NAME_RE, "1-255 characters of letters, digits, '-' and '_'");
    v.matches("runbookUrl", props.runbookUrl, /^https?:\/\/[^\s#]+$/, "an absolute http(s) URL without a fragment (the alarm's #anchor is appended)");
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

    // --- topic, under a key of our own
    const base = physicalName(this, 200);
    this.key = customerKey(this, "key", {
      description: `Encrypts the alarm topic of ${this.node.path}`,
      arnInStack: fn.role.roleArn,
      profile,
      // CloudWatch alarms publish to the encrypted topic; SNS encrypts with a data key made for them.
      services: [{ sid: "CloudWatchAlarmsPublish", service: "cloudwatch.amazonaws.com", actions: ["kms:GenerateDataKey*", "kms:Decrypt"] }],
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

    // --- the cache, by kind
    const redis = props.cache instanceof RedisCache ? props.cache : undefined;
    const otherCache: CacheKindWatch | undefined = props.cache instanceof ServerlessCache
      ? { kind: "serverless", cacheName: props.cache.cacheName, ...props.cache.limits }
      : props.cache instanceof MemcachedCache
        ? { kind: "memcached", clusterId: props.cache.clusterId, nodeIds: Array.from({ length: props.cache.numNodes }, (_, i) => String(i + 1).padStart(4, "0")) }
        : undefined;

    // --- the rest of the stack: functions and tables the service's own alarms do not cover
    // The pusher is watched by the real-time section: its failures are the push-failure alarm's.
    const covered = [fn, props.table, ...(props.invalidator ? [props.invalidator] : []), ...(props.realtime ? [props.realtime.pusher] : [])];
    const rest = props.watchRestOfStack ?? true ? uncovered(this, covered) : { functions: [], tables: [] };
    this.restOfStack = [...rest.functions, ...rest.tables].map((r) => r.label);

    // --- alarms
    const alarms = new Map<string, CloudwatchMetricAlarm>();
    const runbookUrl = props.runbookUrl ?? defaultRunbookUrl();
    const realtime = props.realtime && realtimeWatch(props.realtime, fn, props.api.routes);
    if (this.alarmsEnabled) {
      const invalidation = props.invalidator
        ? invalidationAlarms(props.invalidator, { namespace, serviceName }, this.alarmSettings)
        : [];
      const pushes = realtime ? realtimeAlarms(realtime, { namespace, serviceName }, this.alarmSettings) : [];
      const definitions = [...alarmCatalog({
        path: this.node.path,
        namespace,
        serviceName,
        cacheRoutes,
        settings: this.alarmSettings,
        cache: redis,
        daxClusterName: props.dax?.clusterName,
        tableName: props.table.tableName,
        functionName: fn.functionName,
        api: { apiName: props.api.apiName, stageName: props.api.stageName },
      }), ...(otherCache ? cacheKindAlarms(otherCache, this.alarmSettings) : []), ...invalidation, ...pushes, ...coverageAlarms(rest, this.alarmSettings)];

      for (const a of definitions) {
        const st = this.alarmSettings[a.setting];
        if (!st.enabled) continue;
        const common = {
          alarmName: `${base}-${kebab(a.key)}`,
          alarmDescription: alarmDescription(a.summary, a.setting, runbookUrl),
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
        redisMembers: redis?.memberClusterIds,
        redisLabel: redis ? `${redis.engine.label} ${redis.engineVersion}` : undefined,
        otherCache: otherCache,
        daxClusterName: props.dax?.clusterName,
        edge: props.edge && { distributionId: props.edge.distributionId, additionalMetrics: props.edge.additionalMetrics },
        invalidation: props.invalidator && {
          functionName: props.invalidator.functionName,
          queueName: props.invalidator.queueName,
          iteratorAgeAlarmMs: this.alarmSettings.invalidationIteratorAge.threshold,
        },
        realtime: realtime && { ...realtime, failureAlarmPercent: this.alarmSettings.pushFailureRatio.threshold },
        thresholds: {
          hitRatioPercent: this.alarmSettings.cacheHitRatio.threshold,
          apiLatencyP99Ms: this.alarmSettings.apiLatencyP99.threshold,
          redisCpuPercent: this.alarmSettings.redisCpu.threshold,
          redisMemoryPercent: this.alarmSettings.redisMemory.threshold,
        },
        rest,
        alarmArns: [...alarms.values()].map((a) => a.arn),
      }))),
    });
  }

}

/** Region of the stack's unaliased AwsProvider, if it has one with a literal region. */
function providerRegion(scope: Construct): string | undefined {
  const stack = TerraformStack.of(scope);
  for (const c of stack.node.findAll()) {
    if (c instanceof AwsProvider && c.alias === undefined) return c.region;
  }
  return undefined;
}
