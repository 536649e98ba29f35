/**
 * The three lists every resource type falls into: priced types (each with the function that
 * prices one resource from its attributes and the workload), free types (with why they cost
 * nothing), and everything else, which is an unknown billable type: reported, never zero.
 */
import { HOURS_PER_MONTH, Price, RegionPrices, ServicePriceKey, tieredCost } from "./prices";
import { UsageProfile } from "./usage";
import { list, num, references, Resource, SECONDS_PER_MONTH, Workload } from "./workload";

/** One priced component of one resource. */
export interface CostLine {
  readonly address: string;
  readonly type: string;
  readonly path: string;
  /** What is billed, e.g. "node-hours (2 × cache.r7g.large, valkey)". */
  readonly item: string;
  readonly quantity: number;
  readonly unit: string;
  /** USD per `unit`. */
  readonly unitUsd: number;
  readonly monthlyUsd: number;
  /** `fixed` lines come from the JSON alone; `usage` lines from the usage profile. */
  readonly basis: "fixed" | "usage";
  readonly evidence: Price["evidence"];
  readonly priceSource: string;
  readonly note?: string;
}

/** Thrown by a pricer that recognises the type but has no price for this resource's attributes. */
export class Unpriceable extends Error {}

/** What a pricer sees. */
export interface PricingContext {
  readonly prices: RegionPrices;
  readonly usage: UsageProfile;
  readonly workload: Workload;
  /** Every resource of the stack (for references and counts). */
  readonly resources: readonly Resource[];
}

/** Prices one resource. */
export type Pricer = (r: Resource, ctx: PricingContext) => readonly CostLine[];

function line(r: Resource, item: string, quantity: number, price: Price, perUnits: number, basis: CostLine["basis"], note?: string, monthlyUsd?: number): CostLine {
  const usd = monthlyUsd ?? (quantity / perUnits) * price.usd;
  return {
    address: r.address,
    type: r.type,
    path: r.path,
    item,
    quantity,
    unit: perUnits === 1 ? price.unit : `${price.unit} (per ${perUnits.toLocaleString("en-US")})`,
    unitUsd: price.usd,
    monthlyUsd: usd,
    basis,
    evidence: price.evidence,
    priceSource: price.source,
    ...(note ?? price.note ? { note: [note, price.note].filter(Boolean).join("; ") } : {}),
  };
}

/** A zero line that says why (a priced type whose configuration costs nothing). */
function zero(r: Resource, item: string, note: string): CostLine {
  return { address: r.address, type: r.type, path: r.path, item, quantity: 0, unit: "-", unitUsd: 0, monthlyUsd: 0, basis: "fixed", evidence: "aws", priceSource: "-", note };
}

const svc = (ctx: PricingContext, key: ServicePriceKey): Price => ctx.prices.services[key];

/** The node-hour price of an ElastiCache node type for an engine; Valkey is the Redis OSS rate less the discount. */
export function elasticacheNodePrice(prices: RegionPrices, nodeType: string, engine: string): Price {
  const base = prices.elasticacheNodeHour[nodeType];
  if (!base) throw new Unpriceable(`no ElastiCache price for node type ${nodeType} in ${prices.region}`);
  if (engine !== "valkey") return base;
  const discount = prices.services["elasticache.valkeyNodeDiscount"];
  const worst = [base.evidence, discount.evidence].includes("not-found") ? "not-found" : base.evidence === "aws" && discount.evidence === "aws" ? "aws" : "third-party";
  return { ...base, usd: base.usd * (1 - discount.usd), evidence: worst, note: `Valkey: Redis OSS rate less ${discount.usd * 100} %` };
}

/** The node-hour price of a DAX node type. */
export function daxNodePrice(prices: RegionPrices, nodeType: string): Price {
  const price = prices.daxNodeHour[nodeType];
  if (!price) throw new Unpriceable(`no DAX price for node type ${nodeType} in ${prices.region}`);
  return price;
}

/** Nodes of a replication group: num_cache_clusters, else shards × (replicas + 1). */
export function replicationGroupNodes(config: Readonly<Record<string, unknown>>): number {
  if (config.num_cache_clusters !== undefined) return num(config, "num_cache_clusters", 1);
  return num(config, "num_node_groups", 1) * (num(config, "replicas_per_node_group", 0) + 1);
}

/** Functions an API route reaches (their integration URI references the function). */
function apiFunctions(ctx: PricingContext): readonly Resource[] {
  const integrations = ctx.resources.filter((r) => r.type === "aws_api_gateway_integration" || r.type === "aws_apigatewayv2_integration");
  return ctx.resources.filter((r) => r.type === "aws_lambda_function" && integrations.some((i) => references(i.config, r)));
}

function onDemandTables(ctx: PricingContext): readonly Resource[] {
  return ctx.resources.filter((r) => r.type === "aws_dynamodb_table" && r.config.billing_mode === "PAY_PER_REQUEST");
}

/** Share of the API's traffic one of `n` peers of a kind gets (split evenly: a documented limit). */
const share = (n: number) => (n > 0 ? 1 / n : 0);

function priceLambda(r: Resource, ctx: PricingContext): readonly CostLine[] {
  const memoryGB = num(r.config, "memory_size", 128) / 1024;
  const arch = (r.config.architectures as string[] | undefined)?.[0] ?? "x86_64";
  const gbSecond = svc(ctx, arch === "arm64" ? "lambda.arm.gbSecond" : "lambda.x86.gbSecond");
  const behindApi = apiFunctions(ctx);
  const onApi = behindApi.some((f) => f.address === r.address);
  const invocations = onApi ? ctx.workload.originRequestsPerMonth * share(behindApi.length) : ctx.usage.backgroundInvocationsPerMonth;
  const ms = onApi ? ctx.workload.lambdaMsPerMonth * share(behindApi.length) : invocations * ctx.usage.lambdaMissMs;
  const lines = [
    line(r, "requests", invocations, svc(ctx, "lambda.requestMillion"), 1e6, "usage", onApi ? undefined : "not behind an API route: usage.backgroundInvocationsPerMonth"),
    line(r, `compute (${num(r.config, "memory_size", 128)} MB ${arch})`, (ms / 1000) * memoryGB, gbSecond, 1, "usage"),
  ];
  const tracing = list(r.config.tracing_config)[0]?.mode;
  if (tracing === "Active") {
    // X-Ray's default sampling rule: the first request each second, then 5 % of the rest.
    const rps = invocations / SECONDS_PER_MONTH;
    const traces = (Math.min(rps, 1) + 0.05 * Math.max(0, rps - 1)) * SECONDS_PER_MONTH;
    lines.push(line(r, "X-Ray traces (default sampling: 1/s + 5 %)", traces, svc(ctx, "xray.traceMillion"), 1e6, "usage"));
  }
  return lines;
}

function priceTable(r: Resource, ctx: PricingContext): readonly CostLine[] {
  const w = ctx.workload;
  const lines: CostLine[] = [];
  const onDemand = r.config.billing_mode === "PAY_PER_REQUEST";
  if (onDemand) {
    const s = share(onDemandTables(ctx).length);
    lines.push(line(r, `reads (${w.rruPerRead} RRU each, after caches)`, w.tableReadsPerMonth * w.rruPerRead * s, svc(ctx, "dynamodb.ondemand.readRequestMillion"), 1e6, "usage"));
    lines.push(line(r, `writes (${w.wruPerWrite} WRU each)`, w.writesPerMonth * w.wruPerWrite * s, svc(ctx, "dynamodb.ondemand.writeRequestMillion"), 1e6, "usage"));
  } else {
    const gsis = list(r.config.global_secondary_index);
    const rcu = num(r.config, "read_capacity", 0) + gsis.reduce((a, g) => a + num(g, "read_capacity", 0), 0);
    const wcu = num(r.config, "write_capacity", 0) + gsis.reduce((a, g) => a + num(g, "write_capacity", 0), 0);
    lines.push(line(r, `provisioned reads (${rcu} RCU incl. indexes)`, rcu * HOURS_PER_MONTH, svc(ctx, "dynamodb.provisioned.rcuHour"), 1, "fixed"));
    lines.push(line(r, `provisioned writes (${wcu} WCU incl. indexes)`, wcu * HOURS_PER_MONTH, svc(ctx, "dynamodb.provisioned.wcuHour"), 1, "fixed"));
  }
  const gb = w.tableGB * (onDemand ? share(onDemandTables(ctx).length) : 1);
  lines.push(line(r, "storage", gb, svc(ctx, "dynamodb.storageGbMonth"), 1, "usage"));
  if (list(r.config.point_in_time_recovery)[0]?.enabled === true) lines.push(line(r, "point-in-time recovery", gb, svc(ctx, "dynamodb.pitrGbMonth"), 1, "usage"));
  if (r.config.stream_enabled === true) {
    // A Lambda event source mapping polls each shard about four times a second.
    lines.push(line(r, "streams reads (4 GetRecords/s, one shard)", 4 * SECONDS_PER_MONTH, svc(ctx, "dynamodb.streamsRead100k"), 1e5, "usage"));
  }
  return lines;
}

function priceReplicationGroup(r: Resource, ctx: PricingContext): readonly CostLine[] {
  const nodeType = String(r.config.node_type);
  const engine = String(r.config.engine ?? "redis");
  const nodes = replicationGroupNodes(r.config);
  const price = elasticacheNodePrice(ctx.prices, nodeType, engine);
  return [line(r, `node-hours (${nodes} × ${nodeType}, ${engine})`, nodes * HOURS_PER_MONTH, price, 1, "fixed")];
}

function priceCacheCluster(r: Resource, ctx: PricingContext): readonly CostLine[] {
  if (r.config.replication_group_id !== undefined) return [zero(r, "member of a replication group", "its nodes are billed on the replication group")];
  const nodeType = String(r.config.node_type);
  const engine = String(r.config.engine ?? "memcached");
  const nodes = num(r.config, "num_cache_nodes", 1);
  // Memcached nodes are billed at the Redis OSS node rates.
  const price = elasticacheNodePrice(ctx.prices, nodeType, engine === "valkey" ? "valkey" : "redis");
  return [line(r, `node-hours (${nodes} × ${nodeType}, ${engine})`, nodes * HOURS_PER_MONTH, price, 1, "fixed")];
}

function priceServerlessCache(r: Resource, ctx: PricingContext): readonly CostLine[] {
  const engine = String(r.config.engine ?? "redis") as keyof RegionPrices["elasticacheServerless"];
  const prices = ctx.prices.elasticacheServerless[engine];
  if (!prices) throw new Unpriceable(`no ElastiCache Serverless price for engine ${engine}`);
  const gb = Math.max(prices.minimumGb.usd, ctx.usage.cacheDataGB);
  // One ECPU per KB a command transfers, at least one per command.
  const ecpus = ctx.workload.cacheOpsPerMonth * Math.max(1, ctx.workload.cacheValueKB);
  return [
    line(r, `data stored (${gb} GB, minimum ${prices.minimumGb.usd} GB)`, gb * HOURS_PER_MONTH, prices.storageGbHour, 1, "usage"),
    line(r, `ECPUs (${Math.max(1, ctx.workload.cacheValueKB).toFixed(1)} per command)`, ecpus, prices.ecpuMillion, 1e6, "usage"),
  ];
}

function priceDax(r: Resource, ctx: PricingContext): readonly CostLine[] {
  const nodeType = String(r.config.node_type);
  const nodes = num(r.config, "replication_factor", 1);
  return [line(r, `node-hours (${nodes} × ${nodeType})`, nodes * HOURS_PER_MONTH, daxNodePrice(ctx.prices, nodeType), 1, "fixed")];
}

function priceVpcEndpoint(r: Resource, ctx: PricingContext): readonly CostLine[] {
  const kind = String(r.config.vpc_endpoint_type ?? "Gateway");
  if (kind === "Gateway") return [zero(r, "gateway endpoint", "gateway endpoints (S3, DynamoDB) have no hourly or data charge")];
  if (kind !== "Interface") throw new Unpriceable(`no price for ${kind} VPC endpoints`);
  const azs = Math.max(1, (r.config.subnet_ids as unknown[] | undefined)?.length ?? 1);
  const service = String(r.config.service_name ?? "").split(".").pop();
  return [
    line(r, `endpoint-hours (${service}, ${azs} AZ)`, azs * HOURS_PER_MONTH, svc(ctx, "vpc.interfaceEndpointAzHour"), 1, "fixed"),
    line(r, "data processed", ctx.usage.endpointGBPerMonth, svc(ctx, "vpc.interfaceEndpointGb"), 1, "usage"),
  ];
}

function priceNat(r: Resource, ctx: PricingContext): readonly CostLine[] {
  // A public NAT gateway's Elastic IP is an aws_eip of its own, priced there.
  return [
    line(r, "NAT gateway-hours", HOURS_PER_MONTH, svc(ctx, "vpc.natGatewayHour"), 1, "fixed"),
    line(r, "data processed", ctx.usage.natGBPerMonth, svc(ctx, "vpc.natGatewayGb"), 1, "usage"),
  ];
}

function logProducer(r: Resource, ctx: PricingContext): { gb: number; vended: boolean; what: string } {
  const u = ctx.usage;
  const w = ctx.workload;
  const name = String(r.config.name ?? "");
  const by = (type: string) => ctx.resources.filter((x) => x.type === type && references(x.config, r));
  const fns = by("aws_lambda_function");
  if (fns.length) {
    const behindApi = apiFunctions(ctx);
    const inv = fns.reduce((a, f) => a + (behindApi.some((b) => b.address === f.address) ? w.originRequestsPerMonth * share(behindApi.length) : u.backgroundInvocationsPerMonth), 0);
    return { gb: (inv * u.lambdaLogBytesPerInvocation) / 1e9, vended: false, what: "Lambda logs" };
  }
  const stages = by("aws_api_gateway_stage");
  if (stages.length) {
    const format = String(list(stages[0].config.access_log_settings)[0]?.format ?? "");
    // An access-log line is the format with each $context variable replaced by its value; 12
    // bytes a value is a typical request id / IP / status mix.
    const vars = format.match(/\$context\.[A-Za-z.]+/g) ?? [];
    const bytes = format.length - vars.join("").length + vars.length * 12 + 1;
    return { gb: (w.originRequestsPerMonth * bytes) / 1e9, vended: false, what: `API access logs (~${bytes} B a request, from the format)` };
  }
  if (name.startsWith("API-Gateway-Execution-Logs_")) {
    const level = ctx.resources.filter((x) => x.type === "aws_api_gateway_method_settings").map((x) => list(x.config.settings)[0]?.logging_level)[0];
    if (level === "INFO") return { gb: (w.originRequestsPerMonth * 1500) / 1e9, vended: false, what: "API execution logs (INFO, ~1.5 KB a request)" };
    return { gb: 0, vended: false, what: `API execution logs (${level ?? "OFF"}: errors only, assumed none)` };
  }
  if (by("aws_flow_log").length) return { gb: u.flowLogGBPerMonth, vended: true, what: "VPC flow logs (usage.flowLogGBPerMonth)" };
  if (by("aws_elasticache_replication_group").length || by("aws_elasticache_cluster").length) {
    return { gb: u.cacheLogGBPerMonth, vended: true, what: "ElastiCache engine/slow logs" };
  }
  const wafLogging = by("aws_wafv2_web_acl_logging_configuration");
  if (wafLogging.length) {
    const acl = ctx.resources.find((a) => a.type === "aws_wafv2_web_acl" && references({ arn: wafLogging[0].config.resource_arn }, a));
    return { gb: (inspectedBy(acl, w) * u.wafLogBytesPerRequest) / 1e9, vended: true, what: `WAF logs (${acl?.config.scope ?? "REGIONAL"})` };
  }
  return { gb: 0, vended: false, what: "no producer recognised: ingestion assumed 0 GB" };
}

function priceLogGroup(r: Resource, ctx: PricingContext): readonly CostLine[] {
  const { gb, vended, what } = logProducer(r, ctx);
  const retentionDays = num(r.config, "retention_in_days", 0);
  const months = retentionDays > 0 ? retentionDays / (365 / 12) : ctx.usage.logHorizonMonths;
  const storedGB = gb * ctx.usage.logCompressionRatio * months;
  return [
    line(r, `ingestion: ${what}`, gb, svc(ctx, vended ? "cloudwatch.vendedLogsGb" : "cloudwatch.logsIngestGb"), 1, "usage",
      gb === 0 ? "nothing priced: set the usage field for its producer if it logs" : undefined),
    line(r, `storage (${retentionDays > 0 ? `${retentionDays} d retention` : `no retention: ${months} months`}, compressed ×${ctx.usage.logCompressionRatio})`,
      storedGB, svc(ctx, "cloudwatch.logsStorageGbMonth"), 1, "usage", gb === 0 ? "nothing ingested, nothing stored" : undefined),
  ];
}

/** Alarm metrics an alarm is billed for: one per queried metric (metric math), three for anomaly detection. */
export function alarmMetrics(config: Readonly<Record<string, unknown>>): { readonly metrics: number; readonly highResolution: boolean } {
  const queries = list(config.metric_query);
  const periods: number[] = [];
  let metrics = 1;
  if (queries.length) {
    const queried = queries.filter((q) => q.metric !== undefined);
    metrics = Math.max(1, queried.length);
    for (const q of queried) periods.push(num(list(q.metric)[0] ?? {}, "period", 60));
    if (queries.some((q) => /ANOMALY_DETECTION_BAND/.test(String(q.expression ?? "")))) metrics *= 3;
  } else {
    periods.push(num(config, "period", 60));
  }
  return { metrics, highResolution: periods.some((p) => p < 60) };
}

function priceAlarm(r: Resource, ctx: PricingContext): readonly CostLine[] {
  const { metrics, highResolution } = alarmMetrics(r.config);
  const kind = list(r.config.metric_query).length ? "metric math" : "single metric";
  return [line(r, `${kind}, ${metrics} metric${metrics > 1 ? "s" : ""}${highResolution ? ", high resolution" : ""}`, metrics,
    svc(ctx, highResolution ? "cloudwatch.highResAlarmMetricMonth" : "cloudwatch.alarmMetricMonth"), 1, "fixed")];
}

function priceRestApi(r: Resource, ctx: PricingContext): readonly CostLine[] {
  const apis = ctx.resources.filter((x) => x.type === "aws_api_gateway_rest_api").length;
  const requests = ctx.workload.originRequestsPerMonth * share(apis);
  const price = svc(ctx, "apigw.rest.requestMillion");
  const note = ctx.workload.cappedBy ? `rate capped by the ${ctx.workload.cappedBy}` : undefined;
  return [line(r, `requests (${ctx.workload.requestsPerSecond} rps)`, requests, price, 1e6, "usage", note, tieredCost(price, requests, 1e6))];
}

function priceStage(r: Resource, ctx: PricingContext): readonly CostLine[] {
  if (r.config.cache_cluster_enabled !== true) return [zero(r, "stage", "no stage cache cluster; requests are priced on the REST API")];
  const size = String(r.config.cache_cluster_size ?? "0.5");
  if (size !== "0.5") throw new Unpriceable(`no price for a ${size} GB API Gateway stage cache`);
  return [line(r, "stage cache (0.5 GB) hours", HOURS_PER_MONTH, svc(ctx, "apigw.rest.cache05GbHour"), 1, "fixed")];
}

function priceApiV2(r: Resource, ctx: PricingContext): readonly CostLine[] {
  const w = ctx.workload;
  if (r.config.protocol_type === "WEBSOCKET") {
    return [
      // Every turn written is pushed to the open sockets of its session, and may have come in on one;
      // messages are metered per 32 KB.
      line(r, `messages (${ctx.usage.websocketMessagesPerWrite} per turn written, ${Math.ceil(w.cacheValueKB / 32)} unit(s) of 32 KB each)`,
        w.writesPerMonth * ctx.usage.websocketMessagesPerWrite * Math.max(1, Math.ceil(w.cacheValueKB / 32)), svc(ctx, "apigw.websocket.messageMillion"), 1e6, "usage"),
      line(r, `connection-minutes (${ctx.usage.websocketConnections} open)`, ctx.usage.websocketConnections * HOURS_PER_MONTH * 60,
        svc(ctx, "apigw.websocket.connectionMinuteMillion"), 1e6, "usage"),
    ];
  }
  const price = svc(ctx, "apigw.http.requestMillion");
  return [line(r, "requests", w.originRequestsPerMonth, price, 1e6, "usage", undefined, tieredCost(price, w.originRequestsPerMonth, 1e6))];
}

function priceDistribution(r: Resource, ctx: PricingContext): readonly CostLine[] {
  const w = ctx.workload;
  const gb = (w.requestsPerMonth * w.cacheValueKB) / 1e6;
  const dataOut = svc(ctx, "cloudfront.dataOutGb");
  const lines = [
    line(r, "HTTPS requests (every API request through the edge)", w.requestsPerMonth, svc(ctx, "cloudfront.httpsRequest10k"), 1e4, "usage"),
    line(r, `data out (${w.cacheValueKB} KB a response)`, gb, dataOut, 1, "usage", undefined, tieredCost(dataOut, gb, 1)),
  ];
  // Edge misses reach the shield: what the edge could not answer (usage.edgeHitRatio) and every write.
  if (list(r.config.origin).some((o) => list(o.origin_shield)[0]?.enabled === true)) {
    lines.push(line(r, `Origin Shield requests (edge misses at usage.edgeHitRatio ${ctx.usage.edgeHitRatio})`, w.originRequestsPerMonth,
      svc(ctx, "cloudfront.originShieldRequest10k"), 1e4, "usage"));
  }
  // An edge invalidator (its function names this distribution) sends a path per product write.
  const invalidators = ctx.resources.filter((f) => f.type === "aws_lambda_function" && references(list(f.config.environment)[0]?.variables, r));
  if (invalidators.length > 0) {
    lines.push(line(r, "invalidation paths (one per write, by the edge invalidator)", w.writesPerMonth, svc(ctx, "cloudfront.invalidationPath"), 1, "usage"));
  }
  return lines;
}

/** Requests a web ACL inspects: every one at the edge (CLOUDFRONT scope), those reaching the API otherwise. */
function inspectedBy(acl: Resource | undefined, w: Workload): number {
  return acl?.config.scope === "CLOUDFRONT" ? w.requestsPerMonth : w.originRequestsPerMonth;
}

function priceWebAcl(r: Resource, ctx: PricingContext): readonly CostLine[] {
  const rules = list(r.config.rule).length;
  return [
    line(r, "web ACL", 1, svc(ctx, "waf.webAclMonth"), 1, "fixed"),
    line(r, `rules (${rules}; a managed group counts as one)`, rules, svc(ctx, "waf.ruleMonth"), 1, "fixed"),
    line(r, `requests inspected (${r.config.scope === "CLOUDFRONT" ? "every request, at the edge" : "those reaching the API"})`, inspectedBy(r, ctx.workload), svc(ctx, "waf.requestMillion"), 1e6, "usage"),
  ];
}

function priceQueue(r: Resource, ctx: PricingContext): readonly CostLine[] {
  // Polled only when a mapping reads it; one that names it as its on-failure destination only sends.
  const polled = ctx.resources.some((x) => x.type === "aws_lambda_event_source_mapping" && references({ event_source_arn: x.config.event_source_arn }, r));
  // Send, receive and delete per message; a Lambda event source mapping also long-polls with
  // five pollers, one 20-second receive each, whether or not messages arrive.
  const idlePolls = polled ? 5 * 3 * 60 * HOURS_PER_MONTH : 0;
  const requests = ctx.usage.queueMessagesPerMonth * 3 + idlePolls;
  return [line(r, `requests (3 per message${polled ? " + event source mapping long polls" : ""})`, requests, svc(ctx, "sqs.requestMillion"), 1e6, "usage")];
}

/** Invocations a month of a schedule expression: rate() exactly, cron() approximately, at() once. */
export function scheduleInvocations(expression: string): number {
  const rate = /^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$/.exec(expression.trim());
  if (rate) {
    const n = Number(rate[1]);
    const perHour = rate[2].startsWith("minute") ? 60 / n : rate[2].startsWith("hour") ? 1 / n : 1 / (24 * n);
    return perHour * HOURS_PER_MONTH;
  }
  if (/^at\(/.test(expression.trim())) return 1;
  const cron = /^cron\((.+)\)$/.exec(expression.trim());
  if (!cron) throw new Unpriceable(`cannot read schedule expression ${JSON.stringify(expression)}`);
  const [min = "*", hour = "*", dom = "*", , dow = "*"] = cron[1].trim().split(/\s+/);
  const count = (field: string, size: number): number => {
    if (field === "*" || field === "?") return size;
    const step = /^\*\/(\d+)$/.exec(field);
    if (step) return Math.ceil(size / Number(step[1]));
    return field.split(",").reduce((a, part) => {
      const range = /^(\d+)-(\d+)$/.exec(part);
      return a + (range ? Number(range[2]) - Number(range[1]) + 1 : 1);
    }, 0);
  };
  const days = dom !== "*" && dom !== "?" ? count(dom, 31) : dow !== "*" && dow !== "?" ? count(dow, 7) * (365 / 12 / 7) : 365 / 12;
  return count(min, 60) * count(hour, 24) * days;
}

function priceSchedule(r: Resource, ctx: PricingContext): readonly CostLine[] {
  const expr = String(r.config.schedule_expression ?? "");
  return [line(r, `invocations (${expr})`, scheduleInvocations(expr), svc(ctx, "scheduler.invocationMillion"), 1e6, "usage")];
}

function pricePipeline(r: Resource, ctx: PricingContext): readonly CostLine[] {
  if (r.config.pipeline_type !== "V2") return [line(r, "active V1 pipeline", 1, svc(ctx, "codepipeline.v1PipelineMonth"), 1, "fixed")];
  const actions = list(r.config.stage).reduce((a, s) => a + list(s.action).length, 0);
  // The build action runs for the build's minutes; every other action about a minute.
  const minutes = ctx.usage.pipelineRunsPerMonth * (ctx.usage.buildMinutesPerRun + Math.max(0, actions - 1));
  return [line(r, `action minutes (${ctx.usage.pipelineRunsPerMonth} runs, ${actions} actions)`, minutes, svc(ctx, "codepipeline.v2ActionMinute"), 1, "usage")];
}

function priceBuild(r: Resource, ctx: PricingContext): readonly CostLine[] {
  const env = list(r.config.environment)[0] ?? {};
  const compute = String(env.compute_type ?? "BUILD_GENERAL1_SMALL");
  const arm = String(env.type ?? "").startsWith("ARM");
  if (compute !== "BUILD_GENERAL1_SMALL") throw new Unpriceable(`no CodeBuild price for ${compute}`);
  const minutes = ctx.usage.pipelineRunsPerMonth * ctx.usage.buildMinutesPerRun;
  return [line(r, `build minutes (${compute}${arm ? ", ARM" : ""})`, minutes, svc(ctx, arm ? "codebuild.armSmallMinute" : "codebuild.general1SmallMinute"), 1, "usage")];
}

const fixedMonthly = (key: ServicePriceKey, item: string): Pricer => (r, ctx) => [line(r, item, 1, svc(ctx, key), 1, "fixed")];

/** Priced resource types and how each is priced. */
export const PRICED_TYPES: Readonly<Record<string, Pricer>> = {
  aws_elasticache_replication_group: priceReplicationGroup,
  aws_elasticache_cluster: priceCacheCluster,
  aws_elasticache_serverless_cache: priceServerlessCache,
  aws_dax_cluster: priceDax,
  aws_dynamodb_table: priceTable,
  aws_lambda_function: priceLambda,
  aws_api_gateway_rest_api: priceRestApi,
  aws_api_gateway_stage: priceStage,
  aws_apigatewayv2_api: priceApiV2,
  aws_cloudfront_distribution: priceDistribution,
  aws_cloudfront_monitoring_subscription: fixedMonthly("cloudfront.additionalMetricsMonth", "additional metrics (CacheHitRate and 7 more)"),
  aws_wafv2_web_acl: priceWebAcl,
  aws_cloudwatch_metric_alarm: priceAlarm,
  aws_cloudwatch_composite_alarm: fixedMonthly("cloudwatch.compositeAlarmMonth", "composite alarm"),
  aws_cloudwatch_dashboard: fixedMonthly("cloudwatch.dashboardMonth", "dashboard"),
  aws_cloudwatch_log_group: priceLogGroup,
  aws_kms_key: (r, ctx) => [line(r, "customer-managed key", 1, svc(ctx, "kms.keyMonth"), 1, "fixed",
    r.config.enable_key_rotation === true ? "each of the first two yearly rotations adds $1/month" : undefined)],
  aws_secretsmanager_secret: (r, ctx) => [
    line(r, "secret", 1, svc(ctx, "secretsmanager.secretMonth"), 1, "fixed"),
    line(r, "API calls (usage.secretCallsPerMonth)", ctx.usage.secretCallsPerMonth, svc(ctx, "secretsmanager.api10k"), 1e4, "usage"),
  ],
  aws_vpc_endpoint: priceVpcEndpoint,
  aws_nat_gateway: priceNat,
  aws_eip: (r, ctx) => [line(r, "public IPv4 address-hours", HOURS_PER_MONTH, svc(ctx, "vpc.publicIpv4Hour"), 1, "fixed")],
  aws_sqs_queue: priceQueue,
  aws_scheduler_schedule: priceSchedule,
  aws_codepipeline: pricePipeline,
  aws_codebuild_project: priceBuild,
  aws_s3_bucket: (r, ctx) => [line(r, "S3 Standard storage (usage.bucketGB)", ctx.usage.bucketGB, svc(ctx, "s3.standardGbMonth"), 1, "usage")],
  aws_route53_zone: fixedMonthly("route53.zoneMonth", "hosted zone"),
  aws_sns_topic: (r) => [zero(r, "topic", "no fixed charge; alarm notifications stay far below the 1M free publishes a month")],
};

/** Types that cost nothing by themselves, with why. */
export const FREE_TYPES: Readonly<Record<string, string>> = {
  aws_vpc: "VPCs are free",
  aws_subnet: "subnets are free",
  aws_route_table: "route tables are free",
  aws_route_table_association: "free",
  aws_route: "free",
  aws_internet_gateway: "internet gateways are free (data transfer is not modelled)",
  aws_egress_only_internet_gateway: "free",
  aws_network_acl: "free",
  aws_network_acl_rule: "free",
  aws_default_security_group: "security groups are free",
  aws_security_group: "security groups are free",
  aws_security_group_rule: "free",
  aws_vpc_security_group_ingress_rule: "free",
  aws_vpc_security_group_egress_rule: "free",
  aws_flow_log: "billed as vended log ingestion on its log group",
  aws_iam_role: "IAM is free",
  aws_iam_role_policy: "IAM is free",
  aws_iam_policy: "IAM is free",
  aws_iam_role_policy_attachment: "IAM is free",
  aws_iam_service_linked_role: "IAM is free",
  aws_kms_alias: "aliases are free (the key is priced)",
  aws_secretsmanager_secret_version: "versions are included in the secret's price",
  aws_secretsmanager_secret_rotation: "rotation is free; the rotator Lambda is priced as a function",
  aws_elasticache_subnet_group: "free",
  aws_elasticache_parameter_group: "free",
  aws_elasticache_user: "ElastiCache users are free",
  aws_elasticache_user_group: "free",
  aws_elasticache_user_group_association: "free",
  aws_dax_subnet_group: "free",
  aws_dax_parameter_group: "free",
  aws_lambda_permission: "free",
  aws_lambda_event_source_mapping: "billed as the queue's or stream's requests and the function's invocations",
  aws_lambda_alias: "free",
  aws_api_gateway_account: "account settings are free",
  aws_api_gateway_api_key: "free",
  aws_api_gateway_authorizer: "free (an authorizer Lambda is priced as a function)",
  aws_api_gateway_base_path_mapping: "free",
  aws_api_gateway_deployment: "free",
  aws_api_gateway_domain_name: "custom domain names are free (the ACM certificate is free)",
  aws_api_gateway_gateway_response: "free",
  aws_api_gateway_integration: "free (requests are priced on the REST API)",
  aws_api_gateway_integration_response: "free",
  aws_api_gateway_method: "free",
  aws_api_gateway_method_response: "free",
  aws_api_gateway_method_settings: "free (its throttle caps the priced request rate)",
  aws_api_gateway_model: "free",
  aws_api_gateway_request_validator: "free",
  aws_api_gateway_resource: "free",
  aws_api_gateway_usage_plan: "free",
  aws_api_gateway_usage_plan_key: "free",
  aws_apigatewayv2_stage: "free (messages are priced on the API)",
  aws_apigatewayv2_route: "free",
  aws_apigatewayv2_integration: "free",
  aws_apigatewayv2_deployment: "free",
  aws_apigatewayv2_domain_name: "free",
  aws_apigatewayv2_api_mapping: "free",
  aws_apigatewayv2_authorizer: "free (an authorizer Lambda is priced as a function)",
  aws_apigatewayv2_route_response: "free",
  aws_acm_certificate: "public ACM certificates are free",
  aws_acm_certificate_validation: "free",
  aws_route53_record: "records are free; alias queries to AWS resources are free",
  aws_wafv2_web_acl_association: "free (the web ACL is priced)",
  aws_wafv2_web_acl_logging_configuration: "billed as vended log ingestion on its destination log group",
  aws_wafv2_ip_set: "free (rules that use it are priced on the web ACL)",
  aws_wafv2_regex_pattern_set: "free",
  aws_cloudfront_origin_access_control: "free",
  aws_cloudfront_cache_policy: "free",
  aws_cloudfront_origin_request_policy: "free",
  aws_cloudfront_response_headers_policy: "free",
  aws_lambda_invocation: "billed as the function's invocation",
  aws_sqs_queue_policy: "free",
  aws_sqs_queue_redrive_policy: "free",
  aws_sqs_queue_redrive_allow_policy: "free",
  aws_sns_topic_policy: "free",
  aws_sns_topic_subscription: "free (deliveries are usage on the topic)",
  aws_cloudwatch_log_resource_policy: "free",
  aws_scheduler_schedule_group: "free",
  aws_codestarconnections_connection: "free",
  aws_codepipeline_webhook: "free",
  aws_s3_bucket_versioning: "free (bucket storage is priced)",
  aws_s3_bucket_public_access_block: "free",
  aws_s3_bucket_server_side_encryption_configuration: "free",
  aws_s3_bucket_lifecycle_configuration: "free",
  aws_s3_bucket_policy: "free",
  aws_s3_bucket_ownership_controls: "free",
  aws_appautoscaling_target: "free",
  aws_appautoscaling_policy: "free",
  null_resource: "not an AWS resource",
  terraform_data: "not an AWS resource",
  random_id: "not an AWS resource",
  random_password: "not an AWS resource",
  time_sleep: "not an AWS resource",
};

/** How a type is classified. */
export type Classification = "priced" | "free" | "unknown";

/** The list a resource type is on. */
export function classify(type: string): Classification {
  if (type in PRICED_TYPES) return "priced";
  if (type in FREE_TYPES) return "free";
  return "unknown";
}
