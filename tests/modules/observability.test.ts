/**
 * CacheObservability: alarms (settings from props/config, on in prod, off in dev), the
 * KMS-encrypted alarm topic, the email subscription, the dashboard's widgets, and one synth-time
 * validation error per rule.
 */
import { TerraformStack, Testing } from "cdktf";
import { LambdaFunction } from "@cdktf/provider-aws/lib/lambda-function";
import { Construct } from "constructs";
import * as path from "path";
import { METRIC } from "../../functions/lib/contract";

/** The namespace CacheAsideFunction derives for the fixture's service (`serviceName: "product-catalog"`). */
const DEFAULT_METRICS_NAMESPACE = "Cachefront/product-catalog";
import { CacheApi } from "../../modules/api";
import { PROFILE_CONTEXT_KEY, Profile } from "../../modules/core/profile";
import { PropsValidationError, PropsValidator } from "../../modules/core/validation";
import { DaxCluster } from "../../modules/dax";
import { CacheAsideFunction } from "../../modules/function";
import { StreamInvalidator } from "../../modules/invalidation";
import { Network } from "../../modules/network";
import {
  ALARM_KEYS,
  AlarmKey,
  CacheAlarmsProps,
  CacheObservability,
  CacheObservabilityProps,
  DEFAULT_ALARM_SETTINGS,
  validateCacheAlarms,
} from "../../modules/observability";
import { ICache, MemcachedCache, RedisCache, RedisCacheProps, ServerlessCache } from "../../modules/redis";
import { CacheTable } from "../../modules/table";
import { analyzeModules } from "../../tools/docs/gen-reference";
import { decodeJsonencode, onlyResource, resourcesOf, SynthJson, testStack } from "../helpers/synth";
import { Authorization, FunctionSettings, PRODUCTS } from "../../modules";

const AZS = ["us-east-1a", "us-east-1b", "us-east-1c"];
/** The alarms of this fixture: the product catalog has no WebSocket API (its push alarm: realtime-observability.test.ts). */
const KEYS = ALARM_KEYS.filter((k) => k !== "pushFailureRatio");
const GET_ROUTE = "GET /products/{productId}";

interface Options {
  /** Redis props, another kind of cache, or false for no cache. */
  readonly cache?: Partial<RedisCacheProps> | "serverless" | "memcached" | false;
  readonly dax?: boolean;
  /** A stream invalidator of the function's entries (needs the cache). @default true */
  readonly invalidator?: boolean;
  readonly props?: Partial<CacheObservabilityProps>;
  readonly settings?: FunctionSettings;
}

interface Built {
  readonly obs: CacheObservability;
  readonly fn: CacheAsideFunction;
  readonly api: CacheApi;
  /** The cache when it is Redis/Valkey nodes (the default). */
  readonly cache?: RedisCache;
}

/** The product-catalog composition (as stacks/product-catalog.ts builds it) plus observability. */
function build(scope: Construct, opts: Options = {}): Built {
  const network = new Network(scope, "network", { availabilityZones: AZS });
  const table = new CacheTable(scope, "products", { partitionKey: { name: "productId", type: "S" } });
  const fn = new CacheAsideFunction(scope, "fn", {
    network,
    contract: PRODUCTS,
    settings: opts.settings ?? { serviceName: "product-catalog" },
  });
  fn.useTable(table, { write: true });
  const cache: ICache | undefined = opts.cache === false ? undefined
    : opts.cache === "serverless" ? new ServerlessCache(scope, "cache", { network })
    : opts.cache === "memcached" ? new MemcachedCache(scope, "cache", { network })
    : new RedisCache(scope, "cache", { network, ...opts.cache });
  if (cache) fn.useCache(cache);
  const dax = opts.dax === false ? undefined : new DaxCluster(scope, "dax", { network, tables: [table] });
  if (dax) fn.useDax(dax);
  const api = new CacheApi(scope, "api", { functions: [fn], authorization: Authorization.iam() });
  const invalidator = cache && opts.cache !== "memcached" && opts.invalidator !== false ? new StreamInvalidator(scope, "invalidator", { function: fn, table, cache }) : undefined;
  const obs = new CacheObservability(scope, "observability", { api, function: fn, table, cache, dax, invalidator, ...opts.props });
  return { obs, fn, api, cache: cache instanceof RedisCache ? cache : undefined };
}

function synth(opts: Options = {}, profile: Profile = "prod"): { json: SynthJson; built: Built } {
  const { stack } = testStack(profile);
  const built = build(stack, opts);
  return { json: JSON.parse(Testing.synth(stack)), built };
}

const kebab = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();

/** Alarms only a serverless or a Memcached cache has; every other key belongs to a stack on Redis/Valkey nodes. */
const OTHER_CACHE_KEYS = new Set<AlarmKey>(["serverlessThrottles", "serverlessDataStorage", "memcachedEvictions", "memcachedCpu"]);
const NODE_KEYS = KEYS.filter((k) => !OTHER_CACHE_KEYS.has(k));
/** The cache a stack needs for alarm `key` to exist. */
const cacheFor = (key: AlarmKey): Options["cache"] => (key.startsWith("serverless") ? "serverless" : key.startsWith("memcached") ? "memcached" : undefined);

/** Alarms of the synthesized stack by key (from the alarm name's suffix). */
function alarmsOf(json: SynthJson): Map<string, any> {
  const out = new Map<string, any>();
  for (const [, a] of resourcesOf(json, "aws_cloudwatch_metric_alarm")) {
    const key = ALARM_KEYS.find((k) => new RegExp(`-${kebab(k)}(-\\d+)?$`).test(a.alarm_name));
    if (!key) throw new Error(`alarm ${a.alarm_name} matches no key`);
    const suffix = /-(\d+)$/.exec(a.alarm_name.slice(a.alarm_name.indexOf(kebab(key))));
    out.set(suffix ? `${key}-${suffix[1]}` : key, a);
  }
  return out;
}

function alarm(json: SynthJson, key: string): any {
  const a = alarmsOf(json).get(key);
  if (!a) throw new Error(`no alarm ${key}; have ${[...alarmsOf(json).keys()].join(", ")}`);
  return a;
}

/** Periods of an alarm: the top-level one, or those of its metrics. */
function periodsOf(a: any): number[] {
  if (a.metric_query) return a.metric_query.filter((q: any) => q.metric).map((q: any) => q.metric.period);
  return [a.period];
}

function watchedExpression(a: any): string {
  const last = a.metric_query[a.metric_query.length - 1];
  expect(last.return_data).toBe(true);
  expect(a.metric_query.slice(0, -1).every((q: any) => q.return_data === false)).toBe(true);
  return last.expression;
}

function dashboardOf(json: SynthJson): any {
  const d = onlyResource(json, "aws_cloudwatch_dashboard");
  expect(d.dashboard_body).toMatch(/^\$\{jsonencode\(/);
  return decodeJsonencode(d.dashboard_body);
}

/** Every metric line of every widget: `{ widget, namespace, name, dims, stat }` or `{ widget, expression }`. */
function dashboardLines(body: any): Array<{ widget: string; namespace?: string; name?: string; dims?: Record<string, string>; stat?: string; expression?: string }> {
  const out: Array<any> = [];
  for (const w of body.widgets) {
    for (const m of w.properties.metrics ?? []) {
      if (typeof m[0] === "object") {
        out.push({ widget: w.properties.title, expression: m[0].expression });
        continue;
      }
      const rendering = typeof m[m.length - 1] === "object" ? m[m.length - 1] : {};
      const flat = m.filter((x: unknown) => typeof x === "string");
      const dims: Record<string, string> = {};
      for (let i = 2; i < flat.length; i += 2) dims[flat[i]] = flat[i + 1];
      out.push({ widget: w.properties.title, namespace: flat[0], name: flat[1], dims, stat: rendering.stat });
    }
  }
  return out;
}

function errorOf(opts: Options, profile: Profile = "prod", scope?: Construct): PropsValidationError {
  const stack = scope ?? testStack(profile).stack;
  try {
    build(stack, opts);
  } catch (e) {
    expect(e).toBeInstanceOf(PropsValidationError);
    return e as PropsValidationError;
  }
  throw new Error("expected a PropsValidationError");
}

/** The error names the construct path, the field, the value and what is allowed. */
function expectInvalid(alarms: CacheAlarmsProps | Partial<CacheObservabilityProps>, field: string, valueText: string, allowed: RegExp,
  opts: Omit<Options, "props"> = {}): void {
  const props = "api" in alarms || "serviceName" in alarms || "metricsNamespace" in alarms || "cacheRoutes" in alarms || "region" in alarms || "dashboardName" in alarms
    ? (alarms as Partial<CacheObservabilityProps>)
    : { alarms: alarms as CacheAlarmsProps };
  const err = errorOf({ ...opts, props });
  expect(err.message).toContain("Invalid props for test/observability:");
  const line = err.message.split("\n").find((l) => l.includes(`- ${field} = `));
  expect({ message: err.message, line }).toEqual({ message: err.message, line: expect.stringContaining(`- ${field} = ${valueText}: `) });
  expect(line).toMatch(allowed);
}

describe("CacheObservability", () => {
  describe("alarms by profile", () => {
    test("GIVEN dev and no alarm settings THEN no alarm exists, but the dashboard, topic and key do", () => {
      const { json, built } = synth({ invalidator: false }, "dev");
      expect(resourcesOf(json, "aws_cloudwatch_metric_alarm")).toHaveLength(0);
      expect(built.obs.alarmsEnabled).toBe(false);
      expect(built.obs.alarms.size).toBe(0);
      expect(resourcesOf(json, "aws_cloudwatch_dashboard")).toHaveLength(1);
      expect(resourcesOf(json, "aws_sns_topic")).toHaveLength(1);
      expect(resourcesOf(json, "aws_kms_key")).toHaveLength(1);
    });

    test("GIVEN prod with a replicated cache and DAX THEN every alarm exists, each notifying the topic on ALARM and OK", () => {
      const { json, built } = synth({}, "prod");
      const alarms = alarmsOf(json);
      expect([...alarms.keys()].sort()).toEqual([...NODE_KEYS].sort());
      expect([...built.obs.alarms.keys()].sort()).toEqual([...NODE_KEYS].sort());
      const topic = `\${aws_sns_topic.${resourcesOf(json, "aws_sns_topic")[0][0]}.arn}`;
      for (const a of alarms.values()) {
        expect(a.alarm_actions).toEqual([topic]);
        expect(a.ok_actions).toEqual([topic]);
        expect(a.actions_enabled).toBe(true);
        expect(a.alarm_description).toMatch(/ Runbook: https:\/\/\S+\/help\/operations\.md#[a-z0-9]+$/); // tests/modules/runbook.test.ts
      }
    });

    test("GIVEN dev with alarms.enabled THEN the alarms exist; GIVEN prod with alarms.enabled false THEN none", () => {
      // dev's cache has no replica, so no replication-lag alarm
      expect([...alarmsOf(synth({ props: { alarms: { enabled: true } } }, "dev").json).keys()].sort())
        .toEqual(NODE_KEYS.filter((k) => k !== "redisReplicationLag").sort());
      expect(resourcesOf(synth({ props: { alarms: { enabled: false } } }, "prod").json, "aws_cloudwatch_metric_alarm")).toHaveLength(0);
    });

    test("GIVEN one alarm switched off THEN only that one is missing", () => {
      const keys = [...alarmsOf(synth({ props: { alarms: { redisCpu: { enabled: false } } } }).json).keys()];
      expect(keys).not.toContain("redisCpu");
      expect(keys).toHaveLength(NODE_KEYS.length - 1);
    });

    test("GIVEN a cache without replicas THEN no replication-lag alarm; GIVEN no cache or no DAX THEN none of theirs", () => {
      expect(alarmsOf(synth({ cache: { replicasPerShard: 0 } }).json).has("redisReplicationLag")).toBe(false);
      const noCache = [...alarmsOf(synth({ cache: false }).json).keys()];
      expect(noCache.filter((k) => k.startsWith("redis"))).toEqual([]);
      expect(alarmsOf(synth({ dax: false }).json).has("daxErrors")).toBe(false);
      expect([...alarmsOf(synth({ invalidator: false }).json).keys()].filter((k) => /^invalidat/.test(k))).toEqual([]);
    });
  });

  describe("alarm settings come from props (the environment config)", () => {
    const COMPARISON: Record<AlarmKey, string> = {
      cacheHitRatio: "LessThanThreshold",
      cacheCircuitOpen: "GreaterThanThreshold",
      redisEvictions: "GreaterThanThreshold",
      redisCpu: "GreaterThanThreshold",
      redisMemory: "GreaterThanThreshold",
      redisReplicationLag: "GreaterThanThreshold",
      daxErrors: "GreaterThanThreshold",
      dynamoDbThrottles: "GreaterThanThreshold",
      lambdaErrorRate: "GreaterThanThreshold",
      lambdaThrottles: "GreaterThanThreshold",
      apiServerErrorRate: "GreaterThanThreshold",
      apiLatencyP99: "GreaterThanThreshold",
      invalidationIteratorAge: "GreaterThanThreshold",
      invalidationFailuresQueued: "GreaterThanThreshold",
      invalidatorErrors: "GreaterThanThreshold",
      serverlessThrottles: "GreaterThanThreshold",
      serverlessDataStorage: "GreaterThanThreshold",
      memcachedEvictions: "GreaterThanThreshold",
      memcachedCpu: "GreaterThanThreshold",
      pushFailureRatio: "GreaterThanThreshold",
    };
    const CUSTOM_THRESHOLD: Record<AlarmKey, number> = {
      cacheHitRatio: 75,
      cacheCircuitOpen: 3,
      redisEvictions: 5,
      redisCpu: 70,
      redisMemory: 90,
      redisReplicationLag: 30,
      daxErrors: 50,
      dynamoDbThrottles: 2,
      lambdaErrorRate: 5,
      lambdaThrottles: 1,
      apiServerErrorRate: 3,
      apiLatencyP99: 800,
      invalidationIteratorAge: 60_000,
      invalidationFailuresQueued: 2,
      invalidatorErrors: 4,
      serverlessThrottles: 1,
      serverlessDataStorage: 70,
      memcachedEvictions: 6,
      memcachedCpu: 65,
      pushFailureRatio: 10,
    };

    const defaultsByCache = new Map<Options["cache"], SynthJson>();
    const defaults = (key: AlarmKey) => {
      const c = cacheFor(key);
      if (!defaultsByCache.has(c)) defaultsByCache.set(c, synth({ cache: c }, "prod").json);
      return defaultsByCache.get(c)!;
    };
    test.each([...KEYS])("%s: defaults are DEFAULT_ALARM_SETTINGS", (key) => {
      const a = alarm(defaults(key), key);

      const d = DEFAULT_ALARM_SETTINGS[key];
      expect(a.threshold).toBe(d.threshold);
      expect(a.comparison_operator).toBe(COMPARISON[key]);
      expect(new Set(periodsOf(a))).toEqual(new Set([d.periodSeconds]));
      expect(a.evaluation_periods).toBe(d.evaluationPeriods);
      expect(a.datapoints_to_alarm).toBe(d.datapointsToAlarm);
      expect(a.treat_missing_data).toBe(d.treatMissingData);
    });

    const alarms: CacheAlarmsProps = Object.fromEntries(ALARM_KEYS.map((k) => [k, {
      threshold: CUSTOM_THRESHOLD[k],
      periodSeconds: 120,
      evaluationPeriods: 4,
      datapointsToAlarm: 2,
      treatMissingData: "breaching",
    }]));
    const customByCache = new Map<Options["cache"], SynthJson>();
    const custom = (key: AlarmKey) => {
      const c = cacheFor(key);
      if (!customByCache.has(c)) customByCache.set(c, synth({ cache: c, props: { alarms } }, "prod").json);
      return customByCache.get(c)!;
    };
    test.each([...KEYS])("%s: threshold, comparison, period, evaluation periods, datapoints and missing data as given", (key) => {
      const a = alarm(custom(key), key);

      expect(a.threshold).toBe(CUSTOM_THRESHOLD[key]);
      expect(a.comparison_operator).toBe(COMPARISON[key]);
      expect(new Set(periodsOf(a))).toEqual(new Set([120]));
      expect(a.evaluation_periods).toBe(4);
      expect(a.datapoints_to_alarm).toBe(2);
      expect(a.treat_missing_data).toBe("breaching");
    });

    test("GIVEN only evaluationPeriods THEN datapointsToAlarm follows it (N out of N)", () => {
      const a = alarm(synth({ props: { alarms: { redisCpu: { evaluationPeriods: 7 } } } }).json, "redisCpu");
      expect([a.evaluation_periods, a.datapoints_to_alarm]).toEqual([7, 7]);
    });

    test("GIVEN minRequests THEN the traffic gates of the ratio alarms use them", () => {
      const json = synth({ props: { alarms: { cacheHitRatio: { minRequests: 500 }, lambdaErrorRate: { minRequests: 7 }, apiServerErrorRate: { minRequests: 9 } } } }).json;
      expect(watchedExpression(alarm(json, "cacheHitRatio"))).toBe("IF(requests >= 500, 100 * hits / requests, 100)");
      expect(watchedExpression(alarm(json, "lambdaErrorRate"))).toBe("IF(invocations >= 7, 100 * FILL(errors, 0) / invocations, 0)");
      expect(watchedExpression(alarm(json, "apiServerErrorRate"))).toBe("IF(requests >= 9, 100 * FILL(errors, 0) / requests, 0)");
    });
  });

  describe("what the alarms read", () => {
    const { json, built } = synth({}, "prod");

    test("hit ratio: CacheHit and CacheMiss of the cached GET route (no health check), Service + Route, IF(requests >= N, ratio, 100)", () => {
      const a = alarm(json, "cacheHitRatio");
      const metrics = a.metric_query.filter((q: any) => q.metric).map((q: any) => q.metric);
      expect(metrics).toEqual([
        { namespace: DEFAULT_METRICS_NAMESPACE, metric_name: METRIC.CacheHit, dimensions: { Service: "product-catalog", Route: GET_ROUTE }, period: 300, stat: "Sum" },
        { namespace: DEFAULT_METRICS_NAMESPACE, metric_name: METRIC.CacheMiss, dimensions: { Service: "product-catalog", Route: GET_ROUTE }, period: 300, stat: "Sum" },
      ]);
      expect(watchedExpression(a)).toBe("IF(requests >= 100, 100 * hits / requests, 100)");
      expect(built.obs.cacheRoutes).toEqual([GET_ROUTE]);
      expect(built.obs.routes).toEqual(["GET /health", GET_ROUTE, "PUT /products/{productId}", "DELETE /products/{productId}"]);
    });

    test("Redis alarms: MAX (or SUM) over every member node by CacheClusterId", () => {
      const members = built.cache!.memberClusterIds;
      expect(members).toEqual([1, 2].map((n) => `${onlyResource(json, "aws_elasticache_replication_group").replication_group_id}-00${n}`));
      for (const [key, metricName, expr] of [
        ["redisCpu", "EngineCPUUtilization", "MAX([n0, n1])"],
        ["redisMemory", "DatabaseMemoryUsagePercentage", "MAX([n0, n1])"],
        ["redisEvictions", "Evictions", "FILL(n0, 0) + FILL(n1, 0)"],
        ["redisReplicationLag", "ReplicationLag", "MAX([fn0, fn1])"],
      ] as const) {
        const a = alarm(json, key);
        const metrics = a.metric_query.filter((q: any) => q.metric).map((q: any) => q.metric);
        expect(metrics.map((m: any) => [m.namespace, m.metric_name, m.dimensions.CacheClusterId])).toEqual(members.map((id) => ["AWS/ElastiCache", metricName, id]));
        expect(watchedExpression(a)).toBe(expr);
      }
    });

    test("GIVEN cluster mode with 12 nodes THEN member ids are <id>-000s-00n and each Redis alarm is split so none reads more than 10 metrics", () => {
      const { json: clustered, built: b } = synth({ cache: { numShards: 4, replicasPerShard: 2 } });
      const rg = onlyResource(clustered, "aws_elasticache_replication_group").replication_group_id;
      expect(b.cache!.memberClusterIds).toHaveLength(12);
      expect(b.cache!.memberClusterIds.slice(0, 4)).toEqual([`${rg}-0001-001`, `${rg}-0001-002`, `${rg}-0001-003`, `${rg}-0002-001`]);
      const keys = [...alarmsOf(clustered).keys()];
      for (const k of ["redisCpu", "redisMemory", "redisEvictions", "redisReplicationLag"]) {
        expect(keys).toEqual(expect.arrayContaining([`${k}-1`, `${k}-2`]));
        const read = [`${k}-1`, `${k}-2`].flatMap((key) => alarm(clustered, key).metric_query.filter((q: any) => q.metric).map((q: any) => q.metric.dimensions.CacheClusterId));
        expect(read).toEqual(b.cache!.memberClusterIds);
      }
      for (const a of alarmsOf(clustered).values()) {
        expect((a.metric_query ?? []).filter((q: any) => q.metric).length).toBeLessThanOrEqual(10);
      }
    });

    test("API alarms: ApiName + Stage; p99 latency is an extended statistic that ignores low sample counts", () => {
      const dims = { ApiName: built.api.apiName, Stage: "v1" };
      const latency = alarm(json, "apiLatencyP99");
      expect(latency).toEqual(expect.objectContaining({
        namespace: "AWS/ApiGateway", metric_name: "Latency", dimensions: dims, extended_statistic: "p99",
        evaluate_low_sample_count_percentiles: "ignore", period: 300,
      }));
      expect(latency.statistic).toBeUndefined();
      const rate = alarm(json, "apiServerErrorRate").metric_query.filter((q: any) => q.metric).map((q: any) => [q.metric.metric_name, q.metric.dimensions]);
      expect(rate).toEqual([["5XXError", dims], ["Count", dims]]);
    });

    test("Lambda, DAX and DynamoDB alarms read FunctionName, ClusterId and TableName", () => {
      const fnName = `\${aws_lambda_function.${resourcesOf(json, "aws_lambda_function")[0][0]}.function_name}`;
      expect(alarm(json, "lambdaThrottles")).toEqual(expect.objectContaining({ namespace: "AWS/Lambda", metric_name: "Throttles", statistic: "Sum", dimensions: { FunctionName: fnName } }));
      const errs = alarm(json, "lambdaErrorRate").metric_query.filter((q: any) => q.metric).map((q: any) => q.metric.metric_name);
      expect(errs).toEqual(["Errors", "Invocations"]);
      const dax = alarm(json, "daxErrors").metric_query.filter((q: any) => q.metric).map((q: any) => [q.metric.metric_name, Object.keys(q.metric.dimensions)]);
      expect(dax).toEqual([["ErrorRequestCount", ["ClusterId"]], ["FaultRequestCount", ["ClusterId"]]]);
      const ddb = alarm(json, "dynamoDbThrottles").metric_query.filter((q: any) => q.metric).map((q: any) => [q.metric.metric_name, Object.keys(q.metric.dimensions)]);
      expect(ddb).toEqual([["ReadThrottleEvents", ["TableName"]], ["WriteThrottleEvents", ["TableName"]]]);
    });

    test("no alarm reads more than 10 metrics and no data source is used", () => {
      for (const a of alarmsOf(json).values()) expect((a.metric_query ?? []).filter((q: any) => q.metric).length).toBeLessThanOrEqual(10);
      expect(json.data).toBeUndefined();
    });
  });

  describe("alarm topic", () => {
    const { json, built } = synth({ invalidator: false }, "prod");

    test("is encrypted with a customer-managed key (never aws/sns), rotation on", () => {
      const topic = onlyResource(json, "aws_sns_topic");
      const [keyId, key] = resourcesOf(json, "aws_kms_key")[0];
      expect(topic.kms_master_key_id).toBe(`\${aws_kms_key.${keyId}.arn}`);
      expect(JSON.stringify(json)).not.toContain("alias/aws/sns");
      expect(key.enable_key_rotation).toBe(true);
      expect(key.deletion_window_in_days).toBe(30);
      expect(onlyResource(json, "aws_kms_alias").target_key_id).toBe(`\${aws_kms_key.${keyId}.key_id}`);
      expect(built.obs.topicArn).toBeDefined();
    });

    test("the key policy lets CloudWatch GenerateDataKey*/Decrypt and the account (from an ARN in the stack) administer it", () => {
      const policy = decodeJsonencode(onlyResource(json, "aws_kms_key").policy);
      const cw = policy.Statement.find((s: any) => s.Principal.Service === "cloudwatch.amazonaws.com");
      expect(cw).toEqual(expect.objectContaining({ Effect: "Allow", Resource: "*" }));
      expect([...cw.Action].sort()).toEqual(["kms:Decrypt", "kms:GenerateDataKey*"]);
      const root = policy.Statement.find((s: any) => s.Principal.AWS);
      const roleId = resourcesOf(json, "aws_iam_role").find(([, r]) => JSON.parse(r.assume_role_policy).Statement[0].Principal.Service === "lambda.amazonaws.com")![0];
      expect(root.Principal.AWS).toBe(
        `arn:\${element(split(":", aws_iam_role.${roleId}.arn), 1)}:iam::\${element(split(":", aws_iam_role.${roleId}.arn), 4)}:root`);
      expect(root.Action).toBe("kms:*");
      expect(JSON.stringify(json)).not.toMatch(/aws_caller_identity/);
    });

    test("GIVEN dev THEN the key can be deleted after 7 days", () => {
      expect(onlyResource(synth({ invalidator: false }, "dev").json, "aws_kms_key").deletion_window_in_days).toBe(7);
    });

    test("GIVEN no email THEN no subscription; GIVEN one THEN exactly one email subscription to the topic (in dev too)", () => {
      expect(resourcesOf(json, "aws_sns_topic_subscription")).toHaveLength(0);
      expect(built.obs.emailSubscription).toBeUndefined();
      for (const profile of ["prod", "dev"] as const) {
        const j = synth({ props: { alarms: { email: "oncall@example.com" } } }, profile).json;
        const sub = onlyResource(j, "aws_sns_topic_subscription");
        expect(sub).toEqual({
          topic_arn: `\${aws_sns_topic.${resourcesOf(j, "aws_sns_topic")[0][0]}.arn}`,
          protocol: "email",
          endpoint: "oncall@example.com",
        });
      }
    });
  });

  describe("dashboard", () => {
    const { json, built } = synth({}, "prod");
    const body = dashboardOf(json);
    const lines = dashboardLines(body);
    const has = (namespace: string, name: string, stat?: string) =>
      lines.some((l) => l.namespace === namespace && l.name === name && (stat === undefined || l.stat === stat));

    test.each([
      ["AWS/ApiGateway", "Count", "Sum"],
      ["AWS/ApiGateway", "4XXError", "Sum"],
      ["AWS/ApiGateway", "5XXError", "Sum"],
      ["AWS/ApiGateway", "Latency", "p50"],
      ["AWS/ApiGateway", "Latency", "p99"],
      ["AWS/Lambda", "Invocations", "Sum"],
      ["AWS/Lambda", "Errors", "Sum"],
      ["AWS/Lambda", "Throttles", "Sum"],
      ["AWS/Lambda", "Duration", "p50"],
      ["AWS/Lambda", "Duration", "p99"],
      ["AWS/Lambda", "ConcurrentExecutions", undefined],
      [DEFAULT_METRICS_NAMESPACE, METRIC.CacheHit, "Sum"],
      [DEFAULT_METRICS_NAMESPACE, METRIC.CacheMiss, "Sum"],
      ["AWS/ElastiCache", "EngineCPUUtilization", undefined],
      ["AWS/ElastiCache", "DatabaseMemoryUsagePercentage", undefined],
      ["AWS/ElastiCache", "Evictions", undefined],
      ["AWS/ElastiCache", "CurrConnections", undefined],
      ["AWS/ElastiCache", "ReplicationLag", undefined],
      ["AWS/ElastiCache", "CacheHitRate", undefined],
      ["AWS/DAX", "ItemCacheHits", "Sum"],
      ["AWS/DAX", "ItemCacheMisses", "Sum"],
      ["AWS/DAX", "QueryCacheHits", "Sum"],
      ["AWS/DAX", "QueryCacheMisses", "Sum"],
      ["AWS/DAX", "ErrorRequestCount", "Sum"],
      ["AWS/DAX", "CPUUtilization", undefined],
      ["AWS/DynamoDB", "ConsumedReadCapacityUnits", "Sum"],
      ["AWS/DynamoDB", "ConsumedWriteCapacityUnits", "Sum"],
      ["AWS/DynamoDB", "ReadThrottleEvents", "Sum"],
      ["AWS/DynamoDB", "WriteThrottleEvents", "Sum"],
    ])("graphs %s %s (%s)", (namespace, name, stat) => {
      expect(has(namespace, name, stat)).toBe(true);
    });

    test("dimensions: ApiName + Stage, FunctionName, CacheClusterId per member, ClusterId, TableName", () => {
      const dimsOf = (ns: string) => new Set(lines.filter((l) => l.namespace === ns).map((l) => Object.keys(l.dims!).sort().join(",")));
      expect(dimsOf("AWS/ApiGateway")).toEqual(new Set(["ApiName,Stage"]));
      expect(dimsOf("AWS/Lambda")).toEqual(new Set(["FunctionName"]));
      expect(dimsOf("AWS/ElastiCache")).toEqual(new Set(["CacheClusterId"]));
      expect(dimsOf("AWS/DAX")).toEqual(new Set(["ClusterId"]));
      expect(dimsOf("AWS/DynamoDB")).toEqual(new Set(["TableName"]));
      expect(dimsOf(DEFAULT_METRICS_NAMESPACE)).toEqual(new Set(["Route,Service"]));
      const cpuMembers = lines.filter((l) => l.name === "EngineCPUUtilization").map((l) => l.dims!.CacheClusterId);
      expect(cpuMembers).toEqual(built.cache!.memberClusterIds);
      expect(lines.find((l) => l.namespace === "AWS/ApiGateway")!.dims).toEqual({ ApiName: built.api.apiName, Stage: "v1" });
    });

    test("cache hit ratio is metric math over the runtime's per-route hits and misses", () => {
      const ratio = lines.filter((l) => l.widget === "Cache hit ratio (%)");
      expect(ratio.map((l) => l.expression ?? `${l.name} ${l.dims!.Route}`)).toEqual([
        `CacheHit ${GET_ROUTE}`, `CacheMiss ${GET_ROUTE}`, "FILL(h0, 0)", "FILL(m0, 0)", "100 * hits / (hits + misses)",
      ]);
      const widget = body.widgets.find((w: any) => w.properties.title === "Cache hit ratio (%)");
      expect(widget.properties.annotations.horizontal[0].value).toBe(80);
    });

    test("fallbacks and circuit-open events (and cache errors) are summed over every route with SEARCH", () => {
      const exprs = lines.filter((l) => l.widget === "Cache fallbacks, circuit-open events, cache errors").map((l) => l.expression);
      for (const name of [METRIC.Fallback, METRIC.CircuitOpen, METRIC.CacheError]) {
        expect(exprs).toContain(`SUM(SEARCH('{Cachefront/product-catalog,Service,Route} MetricName="${name}" Service="product-catalog"', 'Sum', 60))`);
      }
    });

    test("DynamoDB throttled requests and SystemErrors are searched by operation", () => {
      const table = `\${aws_dynamodb_table.${resourcesOf(json, "aws_dynamodb_table")[0][0]}.name}`;
      const exprs = lines.filter((l) => l.expression?.includes("AWS/DynamoDB")).map((l) => l.expression);
      expect(exprs).toEqual([
        `SEARCH('{AWS/DynamoDB,Operation,TableName} MetricName="ThrottledRequests" TableName="${table}"', 'Sum', 60)`,
        `SEARCH('{AWS/DynamoDB,Operation,TableName} MetricName="SystemErrors" TableName="${table}"', 'Sum', 60)`,
      ]);
    });

    test("every graph is in the provider's region; widgets fit the 24-column grid without overlapping; an alarm widget lists every alarm", () => {
      const graphs = body.widgets.filter((w: any) => w.type === "metric");
      expect(graphs.length).toBeGreaterThanOrEqual(20);
      expect(new Set(graphs.map((w: any) => w.properties.region))).toEqual(new Set(["us-east-1"]));
      const cells = new Set<string>();
      for (const w of body.widgets) {
        expect(w.x + w.width).toBeLessThanOrEqual(24);
        for (let x = w.x; x < w.x + w.width; x++) {
          for (let y = w.y; y < w.y + w.height; y++) {
            expect(cells.has(`${x},${y}`)).toBe(false);
            cells.add(`${x},${y}`);
          }
        }
      }
      const alarmWidget = body.widgets.find((w: any) => w.type === "alarm");
      expect(alarmWidget.properties.alarms).toHaveLength(NODE_KEYS.length);
    });

    test("GIVEN a region prop THEN the graphs use it; GIVEN dev THEN the same graphs and no alarm widget", () => {
      const eu = dashboardOf(synth({ props: { region: "eu-west-1" } }).json);
      expect(new Set(eu.widgets.filter((w: any) => w.type === "metric").map((w: any) => w.properties.region))).toEqual(new Set(["eu-west-1"]));
      const dev = dashboardOf(synth({}, "dev").json);
      expect(dev.widgets.filter((w: any) => w.type === "metric").map((w: any) => w.properties.title))
        .toEqual(body.widgets.filter((w: any) => w.type === "metric").map((w: any) => w.properties.title));
      expect(dev.widgets.some((w: any) => w.type === "alarm")).toBe(false);
    });

    test("GIVEN no cache and no DAX THEN neither section is drawn", () => {
      const l = dashboardLines(dashboardOf(synth({ cache: false, dax: false }).json));
      expect(l.some((x) => x.namespace === "AWS/ElastiCache" || x.namespace === "AWS/DAX")).toBe(false);
    });
  });

  describe("the contract with the runtime", () => {
    test("SERVICE_NAME and METRICS_NAMESPACE are set on the function to what the alarms read", () => {
      const { json } = synth({ invalidator: false, settings: { serviceName: "product-catalog", metricsNamespace: "Shop/Cache" }, props: { metricsNamespace: "Shop/Cache" } });
      const env = onlyResource(json, "aws_lambda_function").environment.variables;
      expect(env).toEqual(expect.objectContaining({ SERVICE_NAME: "product-catalog", METRICS_NAMESPACE: "Shop/Cache" }));
      const namespaces = alarm(json, "cacheHitRatio").metric_query.filter((q: any) => q.metric).map((q: any) => q.metric.namespace);
      expect(new Set(namespaces)).toEqual(new Set(["Shop/Cache"]));
      // Hits and misses, the hit ratio, and the hits-by-tier graph each read CacheHit.
      expect(dashboardLines(dashboardOf(json)).filter((l) => l.name === METRIC.CacheHit).map((l) => l.namespace)).toEqual(["Shop/Cache", "Shop/Cache", "Shop/Cache"]);
    });

    test("GIVEN a function without serviceName THEN the stack id is the service and names the namespace, pinned on the function", () => {
      const { json, built } = synth({ invalidator: false, settings: {} });
      expect(built.obs.serviceName).toBe("test");
      expect(built.obs.metricsNamespace).toBe("Cachefront/test");
      expect(onlyResource(json, "aws_lambda_function").environment.variables).toMatchObject({ SERVICE_NAME: "test", METRICS_NAMESPACE: "Cachefront/test" });
    });
  });

  describe("validation: a misconfigured threshold is a synth-time error naming path, field, value and what is allowed", () => {
    test("hit ratio above 100", () => expectInvalid({ cacheHitRatio: { threshold: 101 } }, "alarms.cacheHitRatio.threshold", "101", /from 0 to 100/));
    test("hit ratio below 0", () => expectInvalid({ cacheHitRatio: { threshold: -1 } }, "alarms.cacheHitRatio.threshold", "-1", /from 0 to 100/));
    test("CPU percent outside 1–100", () => expectInvalid({ redisCpu: { threshold: 0 } }, "alarms.redisCpu.threshold", "0", /from 1 to 100/));
    test("memory percent outside 1–100", () => expectInvalid({ redisMemory: { threshold: 150 } }, "alarms.redisMemory.threshold", "150", /from 1 to 100/));
    test("error-rate percent of 100 or more", () => expectInvalid({ apiServerErrorRate: { threshold: 100 } }, "alarms.apiServerErrorRate.threshold", "100", /percentage/));
    test("negative count threshold", () => expectInvalid({ redisEvictions: { threshold: -5 } }, "alarms.redisEvictions.threshold", "-5", /at least 0/));
    test("latency of 0 ms", () => expectInvalid({ apiLatencyP99: { threshold: 0 } }, "alarms.apiLatencyP99.threshold", "0", /milliseconds/));
    test("period not a multiple of 60", () => expectInvalid({ redisCpu: { periodSeconds: 90 } }, "alarms.redisCpu.periodSeconds", "90", /multiple of 60/));
    test("period below 10 s", () => expectInvalid({ lambdaThrottles: { periodSeconds: 5 } }, "alarms.lambdaThrottles.periodSeconds", "5", /multiple of 60/));
    test("evaluation periods below 1", () => expectInvalid({ daxErrors: { evaluationPeriods: 0 } }, "alarms.daxErrors.evaluationPeriods", "0", /at least 1/));
    test("evaluation window longer than a day", () =>
      expectInvalid({ redisMemory: { periodSeconds: 3600, evaluationPeriods: 25 } }, "alarms.redisMemory.evaluationPeriods", "25", /at most 24/));
    test("datapoints above evaluation periods", () =>
      expectInvalid({ apiLatencyP99: { evaluationPeriods: 3, datapointsToAlarm: 4 } }, "alarms.apiLatencyP99.datapointsToAlarm", "4", /from 1 to evaluationPeriods \(3\)/));
    test("unknown missing-data behaviour", () =>
      expectInvalid({ redisCpu: { treatMissingData: "zero" as never } }, "alarms.redisCpu.treatMissingData", '"zero"', /one of "missing", "ignore", "breaching", "notBreaching"/));
    test("minRequests below 1", () => expectInvalid({ cacheHitRatio: { minRequests: 0 } }, "alarms.cacheHitRatio.minRequests", "0", /at least 1/));
    test("minRequests on an alarm without a traffic gate", () =>
      expectInvalid({ redisCpu: { minRequests: 5 } as never }, "alarms.redisCpu.minRequests", "5", /only cacheHitRatio, lambdaErrorRate, apiServerErrorRate/));
    test("bad email", () => expectInvalid({ email: "oncall-at-example" }, "alarms.email", '"oncall-at-example"', /email address/));
    test("unknown alarm key (a typo)", () => expectInvalid({ cacheHitRate: {} } as never, "alarms.cacheHitRate", '"cacheHitRate"', /cacheHitRatio/));

    test("serviceName that disagrees with the function's SERVICE_NAME", () =>
      expectInvalid({ serviceName: "catalog" }, "serviceName", '"catalog"', /SERVICE_NAME \("product-catalog"\)/));
    test("a metrics namespace in AWS/", () => expectInvalid({ metricsNamespace: "AWS/Cache" }, "metricsNamespace", '"AWS/Cache"', /not starting with "AWS\/"/));
    test("a cache route the API does not have", () =>
      expectInvalid({ cacheRoutes: ["GET /products"] }, "cacheRoutes[0]", '"GET /products"', /GET \/products\/\{productId\}/));
    test("more cache routes than one alarm can read", () =>
      expectInvalid({ cacheRoutes: Array(6).fill(GET_ROUTE) }, "cacheRoutes", JSON.stringify(Array(6).fill(GET_ROUTE)), /1 to 5 routes/));
    test("no region: no AwsProvider and no prop", () => {
      const app = Testing.app();
      const stack = new TerraformStack(app, "test");
      stack.node.setContext(PROFILE_CONTEXT_KEY, "prod");
      const err = errorOf({}, "prod", stack);
      expect(err.message).toContain("- region = undefined: a region");
    });

    test("every problem is reported at once", () => {
      const err = errorOf({ props: { alarms: { cacheHitRatio: { threshold: 120 }, redisCpu: { periodSeconds: 45 }, email: "x" } } });
      expect(err.problems.map((p) => p.field)).toEqual(["alarms.email", "alarms.cacheHitRatio.threshold", "alarms.redisCpu.periodSeconds"]);
    });

    test("an environment config can run the same checks under its own field names", () => {
      const v = new PropsValidator("config(prod)");
      validateCacheAlarms(v, "observability.alarms", { redisMemory: { threshold: 0 } });
      expect(() => v.throwIfAny()).toThrow(/config\(prod\):\n {2}- observability\.alarms\.redisMemory\.threshold = 0: a memory percentage from 1 to 100/);
    });
  });

  test("every optional field of every props interface of the module documents its @default", () => {
    const mod = analyzeModules(path.resolve(__dirname, "../..")).find((m) => m.name === "observability")!;
    const names = mod.interfaces.map((i) => i.name);
    expect(names).toEqual(expect.arrayContaining(["CacheObservabilityProps", "CacheAlarmsProps", "AlarmSettings", "TrafficGatedAlarmSettings"]));
    const missing = mod.interfaces.flatMap((i) => i.fields.filter((f) => f.optional && !(f.defaultValue ?? "").trim()).map((f) => `${i.name}.${f.name}`));
    expect(missing).toEqual([]);
    const undocumented = mod.interfaces.flatMap((i) => i.fields.filter((f) => !f.description.trim()).map((f) => `${i.name}.${f.name}`));
    expect(undocumented).toEqual([]);
  });
});


describe("the rest of the stack", () => {
  function withExtras(props: Partial<CacheObservabilityProps> = {}) {
    const { stack } = testStack("prod");
    // a function and a table the service's own alarms do not know: a worker and an audit table
    new LambdaFunction(stack, "worker", {
      functionName: "worker", role: "arn:aws:iam::123456789012:role/worker", runtime: "nodejs22.x", handler: "index.handler", filename: "worker.zip",
    });
    new CacheTable(stack, "audit", { partitionKey: { name: "id", type: "S" } });
    const built = build(stack, { props });
    return { json: JSON.parse(Testing.synth(stack)) as SynthJson, built };
  }
  const names = (json: SynthJson) => resourcesOf(json, "aws_cloudwatch_metric_alarm").map(([, a]) => a.alarm_name as string);

  test("every other function gets error-rate and throttle alarms, every other table throttle alarms, on the service's topic", () => {
    const { json, built } = withExtras();
    expect(built.obs.restOfStack).toEqual(["worker", "audit"]);
    const extra = resourcesOf(json, "aws_cloudwatch_metric_alarm").map(([, a]) => a).filter((a) => /-(worker|audit)-/.test(a.alarm_name));
    expect(extra.map((a) => a.alarm_name.replace(/^.*-(worker|audit)-/, "$1-")).sort()).toEqual(["audit-dynamo-db-throttles", "worker-lambda-error-rate", "worker-lambda-throttles"]);
    for (const a of extra) expect(a.alarm_actions).toEqual([expect.stringMatching(/^\$\{aws_sns_topic\.observability_topic_/)]);
    const errors = extra.find((a) => a.alarm_name.endsWith("worker-lambda-error-rate"));
    expect(errors.metric_query.find((q: any) => q.id === "errors").metric.dimensions).toEqual({ FunctionName: "${aws_lambda_function.worker.function_name}" });
    // the service's own function, table and invalidator are not watched twice
    expect(names(json).filter((n) => n.endsWith("lambda-error-rate"))).toHaveLength(2);
    const body = JSON.stringify(onlyResource(json, "aws_cloudwatch_dashboard").dashboard_body);
    expect(body).toContain("## The rest of the stack");
    expect(body).toContain("worker: invocations, errors, throttles");
    expect(body).toContain("audit: throttled reads and writes");
  });

  test("watchRestOfStack: false watches the service only", () => {
    const { json, built } = withExtras({ watchRestOfStack: false });
    expect(built.obs.restOfStack).toEqual([]);
    expect(names(json).some((n) => /-(worker|audit)-/.test(n))).toBe(false);
  });
});

describe("caches that are not Redis/Valkey nodes", () => {
  test("ElastiCache Serverless: throttled commands and data stored against its limits, per cache; no node alarms", () => {
    const { json } = synth({ cache: "serverless" });
    const keys = [...alarmsOf(json).keys()];
    expect(keys).toEqual(expect.arrayContaining(["serverlessThrottles", "serverlessDataStorage"]));
    expect(keys.filter((k) => k.startsWith("redis") || k.startsWith("memcached"))).toEqual([]);
    const cacheName = onlyResource(json, "aws_elasticache_serverless_cache").name;
    expect(alarm(json, "serverlessThrottles")).toMatchObject({ namespace: "AWS/ElastiCache", metric_name: "ThrottledCmds", dimensions: { clusterId: cacheName }, statistic: "Sum" });
    const storage = alarm(json, "serverlessDataStorage");
    const limitGb = onlyResource(json, "aws_elasticache_serverless_cache").cache_usage_limits[0].data_storage[0].maximum;
    expect(storage.metric_query.find((q: any) => q.id === "bytes").metric).toMatchObject({ metric_name: "BytesUsedForCache", dimensions: { clusterId: cacheName } });
    expect(watchedExpression(storage)).toBe(`100 * bytes / ${limitGb * 1024 ** 3}`);
    expect(JSON.stringify(dashboardOf(json))).toContain("ElastiCache Serverless");
  });

  test("Memcached: evictions summed and CPU of the busiest node, one metric per node; no Redis alarms", () => {
    const { json } = synth({ cache: "memcached" });
    const keys = [...alarmsOf(json).keys()];
    expect(keys).toEqual(expect.arrayContaining(["memcachedEvictions", "memcachedCpu"]));
    expect(keys.filter((k) => k.startsWith("redis") || k.startsWith("serverless"))).toEqual([]);
    const cluster = onlyResource(json, "aws_elasticache_cluster");
    const nodes = alarm(json, "memcachedCpu").metric_query.filter((q: any) => q.metric).map((q: any) => q.metric.dimensions);
    expect(nodes).toEqual(Array.from({ length: cluster.num_cache_nodes }, (_, i) => ({ CacheClusterId: cluster.cluster_id, CacheNodeId: String(i + 1).padStart(4, "0") })));
    expect(watchedExpression(alarm(json, "memcachedEvictions"))).toMatch(/^FILL\(n0, 0\)/);
    expect(JSON.stringify(dashboardOf(json))).toContain("## Memcached");
  });
});
