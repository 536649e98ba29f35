import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { Testing } from "cdktf";
import { buildApp } from "../../stacks/app";
import { EnvironmentStack } from "../../stacks/environment";
import { ProductCatalogStack } from "../../stacks/product-catalog";
import { CACHE_VARIANTS } from "../terraform/apps/cache-variants-app";
import { classify, FREE_TYPES, PRICED_TYPES, scheduleInvocations, alarmMetrics } from "../../tools/cost/catalog";
import { breakEven, estimateStack, seedComparison, StackCost } from "../../tools/cost/estimate";
import { Price, PRICING, RegionPrices, SERVICE_PRICE_KEYS, tieredCost } from "../../tools/cost/prices";
import { docFigures, DOC_BEGIN, DOC_END, jsonReport, renderReport, usd as usdText } from "../../tools/cost/report";
import { checkCostSummary, runCost } from "../../tools/cost/run";
import { parseCostArgs } from "../../tools/cost/main";
import { DEFAULT_USAGE, mergeUsage, UsageProfile } from "../../tools/cost/usage";
import { deriveWorkload, resourcesOf, SECONDS_PER_MONTH, SynthesizedStack, Workload } from "../../tools/cost/workload";

/** Round prices so the expected figures below can be worked out by hand. */
function fixturePrices(): RegionPrices {
  const base = PRICING["us-east-1"];
  const at = (price: Price, usd: number): Price => ({ ...price, usd, tiers: undefined });
  const services = { ...base.services };
  const set = (k: keyof typeof services, usd: number) => (services[k] = at(services[k], usd));
  set("elasticache.valkeyNodeDiscount", 0.2);
  set("vpc.natGatewayHour", 0.05);
  set("vpc.natGatewayGb", 0.05);
  set("vpc.interfaceEndpointAzHour", 0.01);
  set("vpc.interfaceEndpointGb", 0.01);
  set("dynamodb.ondemand.readRequestMillion", 0.25);
  set("dynamodb.ondemand.writeRequestMillion", 1.25);
  set("dynamodb.storageGbMonth", 0.25);
  set("lambda.arm.gbSecond", 0.00001);
  set("lambda.requestMillion", 0.2);
  set("cloudwatch.alarmMetricMonth", 0.1);
  set("cloudwatch.highResAlarmMetricMonth", 0.3);
  set("secretsmanager.secretMonth", 0.4);
  services["apigw.rest.requestMillion"] = { ...base.services["apigw.rest.requestMillion"], usd: 4, tiers: [{ upTo: 10e6, usd: 4 }, { upTo: Infinity, usd: 2 }] };
  return {
    ...base,
    elasticacheNodeHour: { "cache.t4g.micro": at(base.elasticacheNodeHour["cache.t4g.micro"], 0.02) },
    daxNodeHour: { "dax.t3.small": at(base.daxNodeHour["dax.t3.small"], 0.05) },
    services,
  };
}

/** 10 rps, 90 % reads of 1 KB items, 80 % Redis hits, 50 % DAX hits, no extras. */
const USAGE: UsageProfile = mergeUsage(DEFAULT_USAGE, {
  requestsPerSecond: 10,
  hitRatio: 0.8,
  daxHitRatio: 0.5,
  natGBPerMonth: 10,
  endpointGBPerMonth: 1,
  secretCallsPerMonth: 0,
  products: { readShare: 0.9, itemKB: 1, tableGB: 2 },
});

const meta = (p: string) => ({ "//": { metadata: { path: `fix/${p}` } } });

/** A stack with 2 Valkey nodes, a DAX cluster of 3, a NAT gateway, 2 interface endpoints × 3 AZs, an on-demand table, a Lambda behind a REST API, 3 alarms. */
function fixture(): Record<string, any> {
  const subnets = ["s-a", "s-b", "s-c"];
  return {
    provider: { aws: [{ region: "us-east-1" }] },
    resource: {
      aws_elasticache_replication_group: { cache: { ...meta("cache/replication-group"), replication_group_id: "fix-cache", engine: "valkey", node_type: "cache.t4g.micro", num_cache_clusters: 2 } },
      aws_secretsmanager_secret: { auth: { ...meta("cache/auth-secret"), name_prefix: "fix-cache-auth-" } },
      aws_dax_cluster: { dax: { ...meta("dax/cluster"), cluster_name: "fix-dax", node_type: "dax.t3.small", replication_factor: 3 } },
      aws_nat_gateway: { nat: { ...meta("network/nat") } },
      aws_vpc_endpoint: {
        secrets: { ...meta("network/secrets"), vpc_endpoint_type: "Interface", service_name: "com.amazonaws.us-east-1.secretsmanager", subnet_ids: subnets },
        logs: { ...meta("network/logs"), vpc_endpoint_type: "Interface", service_name: "com.amazonaws.us-east-1.logs", subnet_ids: subnets },
        ddb: { ...meta("network/ddb"), vpc_endpoint_type: "Gateway", service_name: "com.amazonaws.us-east-1.dynamodb" },
      },
      aws_dynamodb_table: { table: { ...meta("table"), billing_mode: "PAY_PER_REQUEST", hash_key: "id" } },
      aws_lambda_function: { fn: { ...meta("fn"), memory_size: 1024, architectures: ["arm64"], environment: { variables: { SERVICE_NAME: "product-catalog" } } } },
      aws_api_gateway_rest_api: { api: { ...meta("api") } },
      aws_api_gateway_integration: { get: { ...meta("api/get"), uri: "${aws_lambda_function.fn.invoke_arn}" } },
      aws_cloudwatch_metric_alarm: {
        single: { ...meta("alarm-single"), metric_name: "Errors", period: 60 },
        math: { ...meta("alarm-math"), metric_query: [{ id: "a", metric: { metric_name: "A", period: 300 } }, { id: "b", metric: { metric_name: "B", period: 300 } }, { id: "e", expression: "a/b" }] },
        fast: { ...meta("alarm-fast"), metric_name: "Throttles", period: 10 },
      },
      aws_iam_role: { role: { ...meta("role") } },
      aws_security_group: { sg: { ...meta("sg") } },
    },
  };
}

const est = (json: unknown, usage = USAGE): StackCost =>
  estimateStack(json as SynthesizedStack, { stack: "fixture", usage, prices: fixturePrices() });
const lineUsd = (c: StackCost, address: string, item: RegExp) => {
  const l = c.lines.filter((x) => x.address === address && item.test(x.item));
  if (l.length !== 1) throw new Error(`expected one ${address} line matching ${item}, found ${l.length}`);
  return l[0].monthlyUsd;
};

describe("cost arithmetic on a hand-written stack", () => {
  const c = est(fixture());

  test("fixed lines: node-hours, NAT, endpoint-hours per AZ, alarms", () => {
    // 2 Valkey nodes × 730 h × ($0.02 − 20 %) = 1460 × 0.016 = 23.36
    expect(lineUsd(c, "aws_elasticache_replication_group.cache", /node-hours/)).toBeCloseTo(23.36, 6);
    // 3 DAX nodes × 730 h × $0.05 = 109.50
    expect(lineUsd(c, "aws_dax_cluster.dax", /node-hours/)).toBeCloseTo(109.5, 6);
    // NAT: 730 h × $0.05 = 36.50, plus 10 GB × $0.05 = 0.50
    expect(lineUsd(c, "aws_nat_gateway.nat", /gateway-hours/)).toBeCloseTo(36.5, 6);
    expect(lineUsd(c, "aws_nat_gateway.nat", /data/)).toBeCloseTo(0.5, 6);
    // Each interface endpoint: 3 AZ × 730 h × $0.01 = 21.90 (and 1 GB × $0.01); the gateway one is $0
    expect(lineUsd(c, "aws_vpc_endpoint.secrets", /endpoint-hours/)).toBeCloseTo(21.9, 6);
    expect(lineUsd(c, "aws_vpc_endpoint.logs", /endpoint-hours/)).toBeCloseTo(21.9, 6);
    expect(lineUsd(c, "aws_vpc_endpoint.logs", /data/)).toBeCloseTo(0.01, 6);
    expect(lineUsd(c, "aws_vpc_endpoint.ddb", /gateway/)).toBe(0);
    // Alarms: one metric $0.10; metric math over 2 metrics 2 × $0.10; a 10-second alarm $0.30
    expect(lineUsd(c, "aws_cloudwatch_metric_alarm.single", /single/)).toBeCloseTo(0.1, 6);
    expect(lineUsd(c, "aws_cloudwatch_metric_alarm.math", /2 metrics/)).toBeCloseTo(0.2, 6);
    expect(lineUsd(c, "aws_cloudwatch_metric_alarm.fast", /high resolution/)).toBeCloseTo(0.3, 6);
  });

  test("usage lines: DynamoDB after both caches, Lambda, tiered API requests", () => {
    // 10 rps × 2,628,000 s = 26,280,000 requests; 90 % reads = 23,652,000; writes 2,628,000.
    // Reads after Redis (80 % hits) 4,730,400, after DAX (50 %) 2,365,200, × 0.5 RRU (1 KB,
    // eventually consistent) = 1,182,600 RRU × $0.25/M = 0.29565
    expect(lineUsd(c, "aws_dynamodb_table.table", /reads/)).toBeCloseTo(0.29565, 6);
    // 2,628,000 writes × 1 WRU × $1.25/M = 3.285; 2 GB × $0.25 = 0.50
    expect(lineUsd(c, "aws_dynamodb_table.table", /writes/)).toBeCloseTo(3.285, 6);
    expect(lineUsd(c, "aws_dynamodb_table.table", /storage/)).toBeCloseTo(0.5, 6);
    // Lambda: 26,280,000 × $0.20/M = 5.256. Billed ms: 18,921,600 hits × 3 + 4,730,400 misses × 10
    // + 2,628,000 writes × 12 = 135,604,800 ms = 135,604.8 s × 1 GB × $0.00001 = 1.356048
    expect(lineUsd(c, "aws_lambda_function.fn", /requests/)).toBeCloseTo(5.256, 6);
    expect(lineUsd(c, "aws_lambda_function.fn", /compute/)).toBeCloseTo(1.356048, 6);
    // REST API tiers: 10M × $4/M = 40, the other 16.28M × $2/M = 32.56 → 72.56
    expect(lineUsd(c, "aws_api_gateway_rest_api.api", /requests/)).toBeCloseTo(72.56, 6);
  });

  test("totals add up, and free types are listed, not priced", () => {
    // fixed: 23.36 + 0.40 (secret) + 109.50 + 36.50 + 43.80 + 0.60 = 214.16
    // usage: 0.50 + 0.02 + 0.29565 + 3.285 + 0.50 + 5.256 + 1.356048 + 72.56 + 0 (secret calls) = 83.772698
    expect(c.fixedUsd).toBeCloseTo(214.16, 6);
    expect(c.usageUsd).toBeCloseTo(83.772698, 6);
    expect(c.totalUsd).toBeCloseTo(297.932698, 6);
    expect(c.complete).toBe(true);
    expect(c.free.map((f) => f.type)).toEqual(["aws_api_gateway_integration", "aws_iam_role", "aws_security_group"]);
  });

  test("the Redis cache's cost includes what exists only for it: its AUTH secret and the Secrets Manager endpoint", () => {
    const redis = c.breakEven.find((b) => b.cache === "redis")!;
    expect([...redis.lines].sort()).toEqual(["aws_elasticache_replication_group.cache", "aws_secretsmanager_secret.auth", "aws_vpc_endpoint.secrets"]);
    // 23.36 + 0.40 + 21.90 + 0.01 = 45.67 against 23,652,000 reads × 0.5 RRU × $0.25/M = 2.9565
    expect(redis.monthlyUsd).toBeCloseTo(45.67, 6);
    expect(redis.uncachedReadUsd).toBeCloseTo(2.9565, 6);
    expect(redis.breakEvenHitRatio).toBeNull();
    expect(redis.verdict).toMatch(/^never at this traffic/);
  });
});

describe("the CloudFront edge", () => {
  /** The fixture behind a distribution that caches (max TTL 60), with WAF at both ends and an edge invalidator. */
  function withEdge(o: { shield?: boolean; invalidator?: boolean } = {}): Record<string, any> {
    const doc = fixture();
    const r = doc.resource;
    r.aws_cloudfront_cache_policy = { cached: { ...meta("edge/cache"), name: "c", min_ttl: 0, default_ttl: 0, max_ttl: 60 } };
    r.aws_cloudfront_distribution = { edge: { ...meta("edge/distribution"), origin: [{ origin_id: "api", ...(o.shield ? { origin_shield: { enabled: true, origin_shield_region: "us-east-1" } } : {}) }] } };
    r.aws_wafv2_web_acl = { edge: { ...meta("edge/waf"), scope: "CLOUDFRONT", rule: [] }, api: { ...meta("api/waf"), scope: "REGIONAL", rule: [] } };
    if (o.invalidator) {
      r.aws_lambda_function.inv = { ...meta("edge-invalidator"), memory_size: 256, architectures: ["arm64"], environment: { variables: { EDGE_DISTRIBUTION_ID: "${aws_cloudfront_distribution.edge.id}" } } };
    }
    return doc;
  }
  const usage = mergeUsage(USAGE, { edgeHitRatio: 0.5 });

  test("the edge answers edgeHitRatio of the reads: the API, Lambda and the regional WAF see the rest; the edge's WAF sees all", () => {
    const c = est(withEdge(), usage);
    // 26,280,000 requests, 23,652,000 reads; half of them at the edge: 11,826,000 → 14,454,000 reach the API.
    // REST tiers: 10M × $4/M + 4.454M × $2/M = 48.908
    expect(lineUsd(c, "aws_api_gateway_rest_api.api", /requests/)).toBeCloseTo(48.908, 6);
    expect(lineUsd(c, "aws_lambda_function.fn", /requests/)).toBeCloseTo(14.454 * 0.2, 6);
    const waf = fixturePrices().services["waf.requestMillion"].usd;
    expect(lineUsd(c, "aws_wafv2_web_acl.edge", /every request/)).toBeCloseTo(26.28 * waf, 6);
    expect(lineUsd(c, "aws_wafv2_web_acl.api", /reaching the API/)).toBeCloseTo(14.454 * waf, 6);
  });

  test("requests at $0.01 per 10k, data out tiered from the first 10 TB at $0.085/GB", () => {
    const c = est(withEdge(), usage);
    expect(lineUsd(c, "aws_cloudfront_distribution.edge", /HTTPS requests/)).toBeCloseTo(2628 * 0.01, 6);
    // 26,280,000 × 1 KB = 26.28 GB, all in the first tier
    expect(lineUsd(c, "aws_cloudfront_distribution.edge", /data out/)).toBeCloseTo(26.28 * 0.085, 6);
    const big = tieredCost(PRICING["us-east-1"].services["cloudfront.dataOutGb"], 60_000, 1);
    expect(big).toBeCloseTo(10_000 * 0.085 + 40_000 * 0.08 + 10_000 * 0.06, 6);
  });

  test("an edge invalidator costs a path per write ($5 per 1,000 paths), and Origin Shield the requests that reach it", () => {
    const c = est(withEdge({ invalidator: true, shield: true }), usage);
    // 2,628,000 writes × $0.005
    expect(lineUsd(c, "aws_cloudfront_distribution.edge", /invalidation paths/)).toBeCloseTo(13_140, 6);
    expect(PRICING["us-east-1"].services["cloudfront.invalidationPath"]).toMatchObject({ usd: 0.005, evidence: "aws" });
    expect(lineUsd(c, "aws_cloudfront_distribution.edge", /Origin Shield/)).toBeCloseTo(1445.4 * 0.0075, 6);
    expect(est(withEdge(), usage).lines.some((l) => /invalidation/.test(l.item))).toBe(false);
  });
});

describe("break-even", () => {
  const w = { readsPerMonth: 1e9, rruPerRead: 1, requestsPerMonth: 1e9, requestsPerSecond: 1e9 / SECONDS_PER_MONTH } as Workload;

  test("a cache that pays: hit ratio needed = cost / uncached read cost", () => {
    // 1e9 reads × 1 RRU × $0.25/M = $250 uncached; a $100 cache needs 40 %; at 80 % it removes $200.
    const b = breakEven("redis", 100, [], w, 0.25e-6, 0.8, "test");
    expect(b.uncachedReadUsd).toBeCloseTo(250, 9);
    expect(b.breakEvenHitRatio).toBeCloseTo(0.4, 9);
    expect(b.removedUsd).toBeCloseTo(200, 9);
    expect(b.netUsd).toBeCloseTo(100, 9);
    expect(b.verdict).toBe("pays for itself: needs 40.0 %, gets 80.0 %");
    // One read/s for a month saves 2,628,000 × 0.8 × 1 × $0.25/M = $0.5256, so $100 needs 190.26 reads/s.
    expect(b.breakEvenReadsPerSecond).toBeCloseTo(100 / 0.5256, 6);
  });

  test("a cache below its break-even, and one that never pays", () => {
    expect(breakEven("dax", 225, [], w, 0.25e-6, 0.85, "test").verdict).toBe("does not pay at 85.0 %: needs 90.0 %");
    const never = breakEven("dax", 300, [], w, 0.25e-6, 0.85, "test");
    expect(never.breakEvenHitRatio).toBeNull();
    expect(never.verdict).toMatch(/never at this traffic: even a 100 % hit ratio removes only \$250\.00/);
  });

  test("a session context read and a turn write, in request units", () => {
    const json = {
      resource: {
        aws_lambda_function: { fn: { environment: { variables: { SERVICE_NAME: "session-store", CONTEXT_TURNS: "20" } } } },
        aws_dynamodb_table: { t: { billing_mode: "PAY_PER_REQUEST", global_secondary_index: [{ name: "by-customer" }] } },
      },
    };
    const wl = deriveWorkload(resourcesOf(json), { usage: DEFAULT_USAGE });
    // META 0.5 KB → 0.5; 20 turns × 1 KB = 20 KB → 5 × 4 KB → 2.5; summary 2 KB → 0.5
    expect(wl.rruPerRead).toBe(3.5);
    // META 1 + turn 1 + index key change (delete + put) 2
    expect(wl.wruPerWrite).toBe(4);
    // A query is billed on its summed size rounded up: 20 × 1.1 KB = 22 KB → 6 × 4 KB → 3 units
    const bigger = deriveWorkload(resourcesOf(json), { usage: mergeUsage(DEFAULT_USAGE, { sessions: { turnKB: 1.1 } }) });
    expect(bigger.rruPerRead).toBe(0.5 + 3 + 0.5);
    expect(bigger.wruPerWrite).toBe(1 + 2 + 2); // a 1.1 KB turn is 2 write units
  });
});

describe("an unknown billable type", () => {
  const json = fixture();
  json.resource.aws_rds_cluster = { db: { ...meta("db"), engine: "aurora-postgresql" } };
  const c = est(json);

  test("is reported, and the total is marked incomplete rather than counting it as zero", () => {
    expect(c.unpriced).toEqual([{ address: "aws_rds_cluster.db", type: "aws_rds_cluster", path: "fix/db", reason: "unknown billable type" }]);
    expect(c.complete).toBe(false);
    expect(c.totalUsd).toBeCloseTo(297.932698, 6); // what was priced, shown as a lower bound
  });

  test("shows up in the table", () => {
    const text = renderReport([c], seedComparison()).join("\n");
    expect(text).toMatch(/fixture .*≥ \$297\.93 \(INCOMPLETE\)/);
    expect(text).toContain("NOT PRICED aws_rds_cluster.db [fix/db]: unknown billable type");
    expect(text).toContain("INCOMPLETE: not priced: aws_rds_cluster");
  });

  test("shows up in the JSON", () => {
    const report = JSON.parse(JSON.stringify(jsonReport({ costs: [c], seed: seedComparison(), usage: USAGE, synthesizedFrom: "x" })));
    expect(report.complete).toBe(false);
    expect(report.unknownTypes).toEqual(["aws_rds_cluster"]);
    expect(report.stacks[0].complete).toBe(false);
    expect(report.stacks[0].totalText).toBe("≥ $297.93 (INCOMPLETE)");
    expect(report.stacks[0].unpriced[0].reason).toBe("unknown billable type");
  });

  test("a priced type whose node type has no price is unpriced too, with the reason", () => {
    const j = fixture();
    j.resource.aws_elasticache_replication_group.cache.node_type = "cache.x9.huge";
    const u = est(j);
    expect(u.complete).toBe(false);
    expect(u.unpriced[0].reason).toBe("no ElastiCache price for node type cache.x9.huge in us-east-1");
  });
});

describe("resource type lists", () => {
  /** The least configuration each priced type needs to be priced. */
  const MINIMAL: Record<string, Record<string, unknown>> = {
    aws_elasticache_replication_group: { node_type: "cache.t4g.micro", engine: "valkey", num_cache_clusters: 2 },
    aws_elasticache_cluster: { node_type: "cache.t4g.micro", engine: "memcached", num_cache_nodes: 2 },
    aws_elasticache_serverless_cache: { engine: "valkey" },
    aws_dax_cluster: { node_type: "dax.t3.small", replication_factor: 3 },
    aws_dynamodb_table: { billing_mode: "PAY_PER_REQUEST" },
    aws_lambda_function: { memory_size: 128, architectures: ["arm64"] },
    aws_apigatewayv2_api: { protocol_type: "WEBSOCKET" },
    aws_wafv2_web_acl: { rule: [{ name: "rate" }] },
    aws_cloudwatch_log_group: { retention_in_days: 14 },
    aws_vpc_endpoint: { vpc_endpoint_type: "Interface", subnet_ids: ["a", "b"] },
    aws_scheduler_schedule: { schedule_expression: "rate(5 minutes)" },
    aws_codebuild_project: { environment: { compute_type: "BUILD_GENERAL1_SMALL" } },
  };
  /** Priced types whose minimal configuration legitimately costs nothing (they say why). */
  const ZERO_BY_CONFIG = ["aws_sns_topic", "aws_api_gateway_stage", "aws_cloudwatch_log_group"];

  test.each(Object.keys(PRICED_TYPES))("%s is priced", (type) => {
    const c = est({ provider: { aws: [{ region: "us-east-1" }] }, resource: { [type]: { r: MINIMAL[type] ?? {} } } });
    expect(c.unpriced).toEqual([]);
    expect(c.lines.length).toBeGreaterThan(0);
    if (ZERO_BY_CONFIG.includes(type)) expect(c.lines.filter((l) => l.monthlyUsd === 0).every((l) => l.note)).toBe(true);
    else expect(c.totalUsd).toBeGreaterThan(0);
  });

  test.each(Object.keys(FREE_TYPES))("%s is free", (type) => {
    const c = est({ resource: { [type]: { r: {} } } });
    expect(c.lines).toEqual([]);
    expect(c.unpriced).toEqual([]);
    expect(c.free).toEqual([{ type, count: 1, reason: FREE_TYPES[type] }]);
  });

  test("a queue is long-polled only by a mapping that reads it, not by one that names it as its on-failure destination", () => {
    const polls = (mapping: Record<string, unknown>) => est({
      provider: { aws: [{ region: "us-east-1" }] },
      resource: { aws_sqs_queue: { q: {} }, aws_lambda_event_source_mapping: { m: mapping } },
    }).lines.find((l) => l.type === "aws_sqs_queue")!.item;
    expect(polls({ event_source_arn: "${aws_sqs_queue.q.arn}" })).toMatch(/long polls/);
    expect(polls({ event_source_arn: "${aws_dynamodb_table.t.stream_arn}", destination_config: { on_failure: { destination_arn: "${aws_sqs_queue.q.arn}" } } }))
      .not.toMatch(/long polls/);
  });

  test("no type is on both lists, and a type on neither is unknown", () => {
    expect(Object.keys(PRICED_TYPES).filter((t) => t in FREE_TYPES)).toEqual([]);
    expect(classify("aws_rds_cluster")).toBe("unknown");
  });

  test("every type the stacks will gain is already priced or classified free", () => {
    const coming = [
      "aws_cloudfront_distribution", "aws_wafv2_web_acl", "aws_wafv2_web_acl_logging_configuration", "aws_sqs_queue",
      "aws_lambda_event_source_mapping", "aws_elasticache_serverless_cache", "aws_elasticache_cluster", "aws_elasticache_user",
      "aws_elasticache_user_group", "aws_secretsmanager_secret_rotation", "aws_apigatewayv2_api", "aws_apigatewayv2_stage",
      "aws_apigatewayv2_route", "aws_scheduler_schedule", "aws_codepipeline", "aws_codebuild_project", "aws_s3_bucket",
      "aws_codestarconnections_connection", "aws_api_gateway_domain_name", "aws_api_gateway_base_path_mapping",
    ];
    expect(coming.filter((t) => classify(t) === "unknown")).toEqual([]);
  });
});

describe("pricing table", () => {
  const all = (r: RegionPrices): [string, Price][] => [
    ...Object.entries(r.elasticacheNodeHour),
    ...Object.entries(r.daxNodeHour),
    ...Object.entries(r.elasticacheServerless).flatMap(([e, s]) => Object.entries(s).map(([k, v]) => [`${e}.${k}`, v] as [string, Price])),
    ...Object.entries(r.services),
  ];

  test.each(Object.keys(PRICING))("%s: every price has a unit, a source, a date and honest evidence", (region) => {
    for (const [key, price] of all(PRICING[region])) {
      expect([key, price.usd > 0]).toEqual([key, true]);
      expect(price.unit).not.toBe("");
      expect(price.source).toMatch(/^https:\/\/aws\.amazon\.com\//);
      expect(price.asOf).toMatch(/^\d{4}(-\d{2}){0,2}$/);
      if (price.evidence === "not-found") expect(price.seen).toMatch(/not found/);
    }
    expect(Object.keys(PRICING[region].services).sort()).toEqual([...SERVICE_PRICE_KEYS].sort());
  });

  test("both regions price the same node types", () => {
    expect(Object.keys(PRICING["eu-west-1"].elasticacheNodeHour).sort()).toEqual(Object.keys(PRICING["us-east-1"].elasticacheNodeHour).sort());
    expect(Object.keys(PRICING["eu-west-1"].daxNodeHour).sort()).toEqual(Object.keys(PRICING["us-east-1"].daxNodeHour).sort());
  });

  test("tiers, schedules and alarm metrics", () => {
    const tiered = { ...PRICING["us-east-1"].services["apigw.rest.requestMillion"] };
    // 333M × 3.50 + 667M × 2.80 + 1,000M × 2.38
    expect(tieredCost(tiered, 2000e6, 1e6)).toBeCloseTo(333 * 3.5 + 667 * 2.8 + 1000 * 2.38, 6);
    expect(scheduleInvocations("rate(5 minutes)")).toBeCloseTo(12 * 730, 9);
    expect(scheduleInvocations("cron(0 12 * * ? *)")).toBeCloseTo(365 / 12, 9);
    expect(alarmMetrics({ metric_query: [{ metric: {} }, { expression: "ANOMALY_DETECTION_BAND(m, 2)" }] }).metrics).toBe(3);
  });

  test("seed 000's DAX-vs-Redis row from our table: 3 × dax.t3.medium vs 3 × cache.t3.medium", () => {
    const s = seedComparison("us-east-1");
    expect(s.dax.monthlyUsd).toBeCloseTo(3 * 0.08 * 730, 6); // $175.20, not the seed's ~$300
    expect(s.redis.monthlyUsd).toBeCloseTo(3 * 0.068 * 730, 6); // $148.92, the seed's ~$150
    expect(s.valkey.monthlyUsd).toBeCloseTo(3 * 0.068 * 0.8 * 730, 6);
  });
});

describe("command line", () => {
  test("flags override the profile; a typo in a usage file is an error, not a silent default", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "cost-cli-"));
    try {
      const file = path.join(dir, "u.json");
      writeFileSync(file, JSON.stringify({ sessions: { turnKB: 2 } }));
      const cli = parseCostArgs(["--usage", file, "--rps", "200", "--hit-ratio", "measured", "--stack", "a,b"], "/repo");
      expect(cli.usage.requestsPerSecond).toBe(200);
      expect(cli.usage.hitRatio).toBe("measured");
      expect(cli.usage.sessions.turnKB).toBe(2);
      expect(cli.usage.sessions.contextTurns).toBe(20);
      expect(cli.stacks).toEqual(["a", "b"]);
      expect(cli.out).toBe("/repo/cdktf.out/cost-report.json");
      writeFileSync(file, JSON.stringify({ sessions: { turnKb: 2 } }));
      expect(() => parseCostArgs(["--usage", file], "/repo")).toThrow(/sessions\.turnKb: unknown field/);
      expect(() => parseCostArgs(["--hit-ratio", "1.5"], "/repo")).toThrow(/fraction/);
      expect(() => parseCostArgs(["--bogus"], "/repo")).toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the real stacks", () => {
  // The project's own synth, in process: every stack × environment of the default app.
  const app = buildApp(Testing.app());
  const all = app.node.children.filter((c): c is EnvironmentStack => c instanceof EnvironmentStack);
  for (const s of all) s.prepareStack(); // cross-stack references resolved, as synthesis does
  const stacks = all.map((s) => ({ stack: s.node.id, json: JSON.parse(Testing.synth(s)) }));
  const dir = mkdtempSync(path.join(tmpdir(), "cost-real-"));
  for (const s of stacks) {
    mkdirSync(path.join(dir, "stacks", s.stack), { recursive: true });
    writeFileSync(path.join(dir, "stacks", s.stack, "cdk.tf.json"), JSON.stringify(s.json));
  }
  const root = path.resolve(__dirname, "..", "..");
  const printed: string[] = [];
  const result = runCost(stacks.map((s) => s.stack), {
    root, outdir: dir, stacks: [], usage: DEFAULT_USAGE, out: path.join(dir, "cost-report.json"), json: false, writeDoc: false, log: (l) => printed.push(l),
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("every stack × env is priced completely, with a table row and a JSON entry", () => {
    expect(result.exitCode).toBe(0);
    expect(result.costs.map((c) => [c.stack, c.complete])).toEqual(stacks.map((s) => [s.stack, true]));
    const report = JSON.parse(readFileSync(path.join(dir, "cost-report.json"), "utf8"));
    expect(report.stacks.map((s: { stack: string }) => s.stack)).toEqual(stacks.map((s) => s.stack));
    for (const s of stacks) expect(printed.some((l) => l.startsWith(s.stack))).toBe(true);
    const c = (name: string) => result.costs.find((x) => x.stack === name)!;
    expect(c("product-catalog-prod").totalUsd).toBeGreaterThan(c("product-catalog-dev").totalUsd);
    expect(c("session-store-prod").breakEven.map((b) => b.cache)).toEqual(["redis", "dax"]);
    expect(c("session-store-dev").workload.cappedBy).toBe("stage throttle 50 rps");
  });

  test("npm run check's cost section agrees with npm run cost", () => {
    const { summary, lines } = checkCostSummary(stacks);
    expect(summary.stacks.map((s) => s.monthlyUsd)).toEqual(result.costs.map((c) => Math.round(c.totalUsd * 100) / 100));
    expect(lines.slice(1, -1)).toEqual(result.costs.map((c) => `  ${c.stack}: ${usdText(c.totalUsd)} a month`));
    expect(lines[lines.length - 1]).toBe("  unknown billable types: none");
  });

  test("the figures in help/cost.md are the ones the tool computes now", () => {
    const page = readFileSync(path.join(root, "help", "cost.md"), "utf8");
    const current = page.slice(page.indexOf(DOC_BEGIN), page.indexOf(DOC_END) + DOC_END.length);
    expect(current).toBe(docFigures(result.costs, seedComparison()).join("\n")); // refresh: npm run cost -- --write-doc
  });
});

describe("the cache variants (tests/terraform/apps/cache-variants-app.ts)", () => {
  const costs = Object.fromEntries(Object.entries(CACHE_VARIANTS).map(([name, config]) => {
    const json = JSON.parse(Testing.synth(new ProductCatalogStack(Testing.app(), name, { config }))) as SynthesizedStack;
    return [name, estimateStack(json, { stack: name })];
  }));
  const itemsOf = (c: StackCost, type: string) => c.lines.filter((l) => l.address.startsWith(`${type}.`)).map((l) => l.item);

  test("Valkey Serverless: data stored (at least its 100 MB minimum) and ECPUs, both usage lines; priced completely", () => {
    const c = costs["product-catalog-serverless-prod"];
    expect(c.complete).toBe(true);
    expect(itemsOf(c, "aws_elasticache_serverless_cache")).toEqual([expect.stringMatching(/^data stored \(.* GB, minimum 0.1 GB\)$/), expect.stringMatching(/^ECPUs/)]);
    expect(c.breakEven.find((b) => b.cache === "redis")!.lines).toContain(c.lines.find((l) => l.address.startsWith("aws_elasticache_serverless_cache."))!.address);
  });

  test("Memcached: node-hours of its 2 nodes; priced completely", () => {
    const c = costs["product-catalog-memcached-prod"];
    expect(c.complete).toBe(true);
    expect(itemsOf(c, "aws_elasticache_cluster")).toEqual(["node-hours (2 × cache.r7g.large, memcached)"]);
  });

  test("password users: the cache's cost includes its secrets and the endpoints only they need (a monthly rotation costs ~nothing)", () => {
    const c = costs["product-catalog-password-dev"];
    expect(c.complete).toBe(true);
    const redis = c.breakEven.find((b) => b.cache === "redis")!;
    expect(redis.lines.filter((a) => /^aws_(secretsmanager_secret|vpc_endpoint|lambda_function)\./.test(a)).map((a) => a.split(".")[0]).sort())
      // the function's, the invalidator's and the warm function's secrets
      .toEqual(["aws_secretsmanager_secret", "aws_secretsmanager_secret", "aws_secretsmanager_secret", "aws_vpc_endpoint", "aws_vpc_endpoint"]);
  });
});
