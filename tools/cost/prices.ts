/**
 * The pricing table `npm run cost` prices against: AWS on-demand list prices in USD per region,
 * each with its unit, where the figure was read, when, and how good that evidence is.
 *
 * The figures were looked up on 2026-11-30 in the stored public pages the project's search
 * tool reaches (not the live web). AWS's own pricing pages there mostly render their tables
 * with JavaScript, so the stored copies carry the prose but not the numbers: most figures come
 * from third-party pages that quote AWS's page, and say so. A figure that could not be found at
 * all is marked `not-found`, with the value it is believed to have; `npm run cost` counts and
 * lists the lines that depend on such figures instead of presenting them as checked.
 * Refresh: look each figure up again, change `usd`, `seen` and `asOf`.
 */

/** How good the evidence for a figure is. */
export type Evidence =
  /** Read on an AWS-operated page (aws.amazon.com, aws.eu, docs.aws.amazon.com). */
  | "aws"
  /** Read on a third-party page quoting AWS's price list (named in `seen`). */
  | "third-party"
  /** Not found in the search corpora; the value is the one believed current, to be verified. */
  | "not-found";

/** One price with its provenance. */
export interface Price {
  /** USD per `unit`. */
  readonly usd: number;
  /** What one `usd` buys, e.g. "node-hour", "1M requests", "GB-month". */
  readonly unit: string;
  /** AWS's pricing page for the figure (the authority to re-check against). */
  readonly source: string;
  /** Where the figure was actually read (a stored page URL), or why it was not found. */
  readonly seen: string;
  /** Date the figure is valid for, as the page dates it (YYYY-MM or YYYY-MM-DD). */
  readonly asOf: string;
  readonly evidence: Evidence;
  /** Volume tiers, cheapest last: `usd` applies up to `upTo` units a month (Infinity for the last). */
  readonly tiers?: readonly { readonly upTo: number; readonly usd: number }[];
  readonly note?: string;
}

/** The date the figures were looked up (stored copies, not the live web). */
export const PRICES_CHECKED = "2026-11-30";

/** Hours in the month every monthly figure uses (AWS's own calculator uses 730). */
export const HOURS_PER_MONTH = 730;

/** Every non-node price key; each region must define them all (the type enforces it). */
export const SERVICE_PRICE_KEYS = [
  "dynamodb.ondemand.readRequestMillion",
  "dynamodb.ondemand.writeRequestMillion",
  "dynamodb.provisioned.rcuHour",
  "dynamodb.provisioned.wcuHour",
  "dynamodb.storageGbMonth",
  "dynamodb.pitrGbMonth",
  "dynamodb.streamsRead100k",
  "elasticache.valkeyNodeDiscount",
  "elasticache.backupGbMonth",
  "lambda.arm.gbSecond",
  "lambda.x86.gbSecond",
  "lambda.requestMillion",
  "xray.traceMillion",
  "apigw.rest.requestMillion",
  "apigw.rest.cache05GbHour",
  "apigw.http.requestMillion",
  "apigw.websocket.messageMillion",
  "apigw.websocket.connectionMinuteMillion",
  "cloudfront.httpsRequest10k",
  "cloudfront.dataOutGb",
  "cloudfront.invalidationPath",
  "cloudfront.originShieldRequest10k",
  "cloudfront.additionalMetricsMonth",
  "waf.webAclMonth",
  "waf.ruleMonth",
  "waf.requestMillion",
  "cloudwatch.alarmMetricMonth",
  "cloudwatch.highResAlarmMetricMonth",
  "cloudwatch.compositeAlarmMonth",
  "cloudwatch.dashboardMonth",
  "cloudwatch.logsIngestGb",
  "cloudwatch.vendedLogsGb",
  "cloudwatch.logsStorageGbMonth",
  "kms.keyMonth",
  "kms.request10k",
  "secretsmanager.secretMonth",
  "secretsmanager.api10k",
  "vpc.natGatewayHour",
  "vpc.natGatewayGb",
  "vpc.publicIpv4Hour",
  "vpc.interfaceEndpointAzHour",
  "vpc.interfaceEndpointGb",
  "sqs.requestMillion",
  "scheduler.invocationMillion",
  "sns.publishMillion",
  "codepipeline.v1PipelineMonth",
  "codepipeline.v2ActionMinute",
  "codebuild.general1SmallMinute",
  "codebuild.armSmallMinute",
  "s3.standardGbMonth",
  "s3.put1k",
  "route53.zoneMonth",
] as const;

/** A non-node price key. */
export type ServicePriceKey = (typeof SERVICE_PRICE_KEYS)[number];

/** ElastiCache engines as the node-based price list splits them. */
export type CacheEngineName = "redis" | "valkey" | "memcached";

/** Everything priced in one region. */
export interface RegionPrices {
  readonly region: string;
  /**
   * ElastiCache on-demand node-hours for Redis OSS (Memcached is billed at the same node rates);
   * Valkey is these less `elasticache.valkeyNodeDiscount`.
   */
  readonly elasticacheNodeHour: Readonly<Record<string, Price>>;
  /** ElastiCache Serverless per engine: data stored (GB-hour), ECPUs (per million) and the metered minimum (GB). */
  readonly elasticacheServerless: Readonly<Record<CacheEngineName, {
    readonly storageGbHour: Price;
    readonly ecpuMillion: Price;
    readonly minimumGb: Price;
  }>>;
  /** DAX on-demand node-hours. */
  readonly daxNodeHour: Readonly<Record<string, Price>>;
  readonly services: Readonly<Record<ServicePriceKey, Price>>;
}

const EC_PAGE = "https://aws.amazon.com/elasticache/pricing/";
const DDB_OD = "https://aws.amazon.com/dynamodb/pricing/on-demand/";
const DDB_PROV = "https://aws.amazon.com/dynamodb/pricing/provisioned/";
const LAMBDA = "https://aws.amazon.com/lambda/pricing/";
const APIGW = "https://aws.amazon.com/api-gateway/pricing/";
const CF_PAGE = "https://aws.amazon.com/cloudfront/pricing/";
const CW = "https://aws.amazon.com/cloudwatch/pricing/";
const VPC = "https://aws.amazon.com/vpc/pricing/";
const PRIVATELINK = "https://aws.amazon.com/privatelink/pricing/";
const NOT_FOUND = "not found in the search corpora (AWS's page renders its table with JavaScript; no third-party copy found)";

/** Shorthand for a price: usd, unit, source, seen, asOf, evidence, extras. */
function p(usd: number, unit: string, source: string, seen: string, asOf: string, evidence: Evidence, extra: Partial<Price> = {}): Price {
  return { usd, unit, source, seen, asOf, evidence, ...extra };
}

/** A node price not found in the corpora: the believed list price, flagged. */
function nodeNotFound(usd: number, source: string, note?: string): Price {
  return p(usd, "node-hour", source, NOT_FOUND, "2025", "not-found", note ? { note } : {});
}

const usEast1: RegionPrices = {
  region: "us-east-1",
  elasticacheNodeHour: {
    "cache.t3.micro": p(0.017, "node-hour", EC_PAGE, "https://dragonflydb.io/finops/elasticache/cache.t3.micro", "2025", "third-party"),
    "cache.t3.small": nodeNotFound(0.034, EC_PAGE),
    "cache.t3.medium": nodeNotFound(0.068, EC_PAGE, "the node type seed 000 quotes (~$150/month for 3 nodes)"),
    "cache.t4g.micro": p(0.016, "node-hour", EC_PAGE,
      "a public design note quoting ~$12/month for cache.t4g.micro (= $0.016 x 730 h); AWS's own table not in the corpora", "2025", "third-party"),
    "cache.t4g.small": nodeNotFound(0.032, EC_PAGE),
    "cache.t4g.medium": nodeNotFound(0.065, EC_PAGE),
    "cache.m7g.large": nodeNotFound(0.158, EC_PAGE),
    "cache.r6g.large": nodeNotFound(0.206, EC_PAGE),
    "cache.r7g.large": nodeNotFound(0.219, EC_PAGE),
    "cache.r7g.xlarge": nodeNotFound(0.437, EC_PAGE),
  },
  elasticacheServerless: {
    redis: {
      storageGbHour: p(0.125, "GB-hour", EC_PAGE, "https://www.gomomento.com/blog/a-look-into-elasticache-serverless-pricing/", "2024-02-21", "third-party"),
      ecpuMillion: p(0.0034, "1M ECPUs", EC_PAGE, "https://www.gomomento.com/blog/a-look-into-elasticache-serverless-pricing/", "2024-02-21", "third-party"),
      minimumGb: p(1, "GB metered minimum", EC_PAGE, "https://aws.eu/it/elasticache/pricing (AWS page: 1 GB for Redis OSS and Memcached)", "2025", "aws"),
    },
    memcached: {
      storageGbHour: p(0.125, "GB-hour", EC_PAGE, "https://www.usage.ai/blogs/aws/database-savings-plans/elasticache/serverless-pricing/", "2026-06", "third-party"),
      ecpuMillion: p(0.0034, "1M ECPUs", EC_PAGE, "https://www.usage.ai/blogs/aws/database-savings-plans/elasticache/serverless-pricing/", "2026-06", "third-party"),
      minimumGb: p(1, "GB metered minimum", EC_PAGE, "https://aws.eu/it/elasticache/pricing (AWS page)", "2025", "aws"),
    },
    valkey: {
      storageGbHour: p(0.084, "GB-hour", EC_PAGE, "https://www.usage.ai/blogs/aws/database-savings-plans/elasticache/serverless-pricing/", "2026-06", "third-party",
        { note: "33 % below Redis OSS, as AWS's own page states (aws.eu/it/elasticache/pricing)" }),
      ecpuMillion: p(0.0023, "1M ECPUs", EC_PAGE, "https://www.usage.ai/blogs/aws/database-savings-plans/elasticache/serverless-pricing/", "2026-06", "third-party"),
      minimumGb: p(0.1, "GB metered minimum", EC_PAGE, "https://aws.eu/it/elasticache/pricing (AWS page: 100 MB for Valkey)", "2025", "aws"),
    },
  },
  daxNodeHour: {
    "dax.t3.small": p(0.04, "node-hour", "https://aws.amazon.com/dynamodb/pricing/", "https://www.usage.ai/blog/aws-reserved-instances-dynamodb-dax-pricing", "2026-04", "third-party"),
    "dax.t3.medium": nodeNotFound(0.08, "https://aws.amazon.com/dynamodb/pricing/", "the node type seed 000 quotes (~$300/month for 3 nodes); twice dax.t3.small, as DAX sizes double"),
    "dax.r5.large": p(0.269, "node-hour", "https://aws.amazon.com/dynamodb/pricing/", "https://awsi.click/en/articles/dax-dynamodb-caching/ (\"approximately $0.269 per hour\")", "2025", "third-party",
      { note: "the page says approximately; AWS's table was not in the corpora" }),
    "dax.r5.xlarge": nodeNotFound(0.538, "https://aws.amazon.com/dynamodb/pricing/"),
  },
  services: {
    "dynamodb.ondemand.readRequestMillion": p(0.125, "1M read request units", DDB_OD, "https://airbyte.com/data-engineering-resources/dynamodb-pricing", "2025-07-21", "third-party",
      { note: "after AWS's 50 % on-demand cut of November 2024" }),
    "dynamodb.ondemand.writeRequestMillion": p(0.625, "1M write request units", DDB_OD, "https://airbyte.com/data-engineering-resources/dynamodb-pricing", "2025-07-21", "third-party"),
    "dynamodb.provisioned.rcuHour": p(0.00013, "RCU-hour", DDB_PROV, "https://zeonedge.com/en/blog/dynamodb-cost-optimization-on-demand-provisioned-dax-single-table", "2025", "third-party"),
    "dynamodb.provisioned.wcuHour": p(0.00065, "WCU-hour", DDB_PROV, "https://zeonedge.com/en/blog/dynamodb-cost-optimization-on-demand-provisioned-dax-single-table", "2025", "third-party"),
    "dynamodb.storageGbMonth": p(0.25, "GB-month", DDB_OD, NOT_FOUND, "2025", "not-found", { note: "first 25 GB a month are free per account (not applied)" }),
    "dynamodb.pitrGbMonth": p(0.2, "GB-month", DDB_OD, NOT_FOUND, "2025", "not-found"),
    "dynamodb.streamsRead100k": p(0.02, "100k streams read request units", DDB_OD, NOT_FOUND, "2025", "not-found"),
    "elasticache.valkeyNodeDiscount": p(0.2, "fraction off the Redis OSS node-hour", EC_PAGE,
      "not found in the search corpora as a figure (AWS's Oct 2024 Valkey launch: node-based 20 % lower; https://help.nops.io/inform/supported-recommendations/upgrade-elasticache-redis-oss-to-valkey confirms a lower hourly price)",
      "2024-10", "not-found"),
    "elasticache.backupGbMonth": p(0.085, "GB-month", EC_PAGE, NOT_FOUND, "2025", "not-found", { note: "one backup per cluster is free; not priced by this tool" }),
    "lambda.arm.gbSecond": p(0.0000133334, "GB-second", LAMBDA, "https://cloudchipr.com/blog/aws-lambda-pricing", "2024", "third-party",
      { note: "first tier (7.5 billion GB-s a month); lower tiers beyond" }),
    "lambda.x86.gbSecond": p(0.0000166667, "GB-second", LAMBDA, "https://cloudchipr.com/blog/aws-lambda-pricing", "2024", "third-party"),
    "lambda.requestMillion": p(0.2, "1M requests", LAMBDA, "https://git.mcrn.ar/mariano/lambda_local_runner (docs/lambdas-md/lambda-13-cost.md)", "2025", "third-party"),
    "xray.traceMillion": p(5, "1M traces recorded", "https://aws.amazon.com/xray/pricing/", NOT_FOUND, "2025", "not-found", { note: "first 100k traces a month are free (not applied)" }),
    "apigw.rest.requestMillion": p(3.5, "1M requests", APIGW, "https://www.wring.co/blog/aws-api-gateway-pricing-guide", "2025", "third-party", {
      tiers: [
        { upTo: 333e6, usd: 3.5 },
        { upTo: 1000e6, usd: 2.8 },
        { upTo: 20000e6, usd: 2.38 },
        { upTo: Infinity, usd: 1.51 },
      ],
    }),
    "apigw.rest.cache05GbHour": p(0.02, "hour (0.5 GB stage cache)", APIGW, "https://amnic.com/blogs/aws-api-gateway-pricing", "2025", "third-party"),
    "apigw.http.requestMillion": p(1, "1M requests", APIGW, "https://www.wring.co/blog/aws-api-gateway-pricing-guide", "2025", "third-party",
      { tiers: [{ upTo: 300e6, usd: 1 }, { upTo: Infinity, usd: 0.9 }] }),
    "apigw.websocket.messageMillion": p(1, "1M messages (32 KB each)", APIGW, "https://www.wring.co/blog/aws-api-gateway-pricing-guide", "2025", "third-party",
      { note: "messages sent and received, metered in 32 KB increments (aws.amazon.com/api-gateway/pricing, stored copy, read 2026-11-30); $1.00 for the first 1B (awsforengineers.com/blog/aws-api-gateway-pricing-explained)" }),
    "apigw.websocket.connectionMinuteMillion": p(0.25, "1M connection-minutes", APIGW, "https://www.wring.co/blog/aws-api-gateway-pricing-guide", "2025", "third-party"),
    "cloudfront.httpsRequest10k": p(0.01, "10k HTTPS requests", CF_PAGE,
      "https://kindatechnical.com/aws-certification-associate-developer/lesson-87-cloudfront-pricing.html (\"HTTPS Requests $0.0100\" per 10,000)", "2025", "third-party",
      { note: "United States/Europe edge locations; the first 10M requests a month are free (not applied); flat-rate plans are not modelled" }),
    "cloudfront.dataOutGb": p(0.085, "GB to the internet (United States/Europe)", CF_PAGE,
      "a stored copy of AWS's CloudFront pricing page (aws.amazon.com/cloudfront/pricing: \"First 10TB $0.085\", then $0.080, $0.060, $0.040, $0.030, $0.025, $0.020)",
      "2025", "aws", {
        note: "the first 1 TB a month is free (not applied)",
        tiers: [
          { upTo: 10_000, usd: 0.085 }, { upTo: 50_000, usd: 0.08 }, { upTo: 150_000, usd: 0.06 }, { upTo: 500_000, usd: 0.04 },
          { upTo: 1_024_000, usd: 0.03 }, { upTo: 5_024_000, usd: 0.025 }, { upTo: Infinity, usd: 0.02 },
        ],
      }),
    "cloudfront.invalidationPath": p(0.005, "invalidation path", CF_PAGE,
      "https://docs.aws.amazon.com/whitepapers/latest/how-aws-pricing-works/cloudfront.html (\"the first 1,000 paths ... each month. Thereafter, a charge of $0.005 per path\")",
      "2025", "aws", { note: "$5.00 per 1,000 paths; the first 1,000 paths a month per account are free (not applied); a wildcard path counts as one" }),
    "cloudfront.originShieldRequest10k": p(0.0075, "10k requests through Origin Shield (United States)", CF_PAGE, NOT_FOUND, "2025", "not-found",
      { note: "charged on requests that reach the shield (edge misses), besides the HTTPS request" }),
    "cloudfront.additionalMetricsMonth": p(2.4, "distribution-month of additional metrics (8 CloudWatch metrics)", CF_PAGE, NOT_FOUND, "2025", "not-found",
      { note: "billed at CloudWatch's custom metric rate, $0.30 × 8" }),
    "waf.webAclMonth": p(5, "web ACL-month", "https://aws.amazon.com/waf/pricing/", "https://c3x.dev/blog/aws-waf-cost-explained/", "2026", "third-party"),
    "waf.ruleMonth": p(1, "rule-month", "https://aws.amazon.com/waf/pricing/", "https://c3x.dev/blog/aws-waf-cost-explained/", "2026", "third-party"),
    "waf.requestMillion": p(0.6, "1M requests inspected", "https://aws.amazon.com/waf/pricing/", "https://awsnegotiations.com/waf-pricing-strategy.html", "2026", "third-party"),
    "cloudwatch.alarmMetricMonth": p(0.1, "alarm metric-month (standard resolution)", CW, "https://c3x.dev/resources/aws/aws_cloudwatch_metric_alarm", "2025", "third-party",
      { note: "a metric-math alarm is billed per metric it queries; first 10 alarm metrics free (not applied)" }),
    "cloudwatch.highResAlarmMetricMonth": p(0.3, "alarm metric-month (high resolution)", CW, "https://c3x.dev/resources/aws/aws_cloudwatch_metric_alarm", "2025", "third-party"),
    "cloudwatch.compositeAlarmMonth": p(0.5, "composite alarm-month", CW, "https://c3x.dev/resources/aws/aws_cloudwatch_metric_alarm", "2025", "third-party"),
    "cloudwatch.dashboardMonth": p(3, "dashboard-month", CW, "https://www.factualminds.com/blog/amazon-cloudwatch-pricing-metrics-logs-alarms-dashboards/", "2026-06-13", "third-party",
      { note: "first 3 dashboards per account free (not applied)" }),
    "cloudwatch.logsIngestGb": p(0.5, "GB ingested (standard class)", CW, "https://www.factualminds.com/blog/amazon-cloudwatch-pricing-metrics-logs-alarms-dashboards/", "2026-06-13", "third-party"),
    "cloudwatch.vendedLogsGb": p(0.5, "GB of vended logs (first 10 TB)", CW, NOT_FOUND, "2025", "not-found",
      { note: "flow logs, ElastiCache and WAF logs are vended logs: tiered, same first-tier rate as ingestion" }),
    "cloudwatch.logsStorageGbMonth": p(0.03, "GB-month stored (compressed)", CW, NOT_FOUND, "2025", "not-found"),
    "kms.keyMonth": p(1, "customer-managed key-month", "https://aws.amazon.com/kms/pricing/", "https://www.wring.co/blog/aws-kms-pricing-guide", "2025", "third-party"),
    "kms.request10k": p(0.03, "10k requests", "https://aws.amazon.com/kms/pricing/", "https://www.wring.co/blog/aws-kms-pricing-guide", "2025", "third-party",
      { note: "first 20,000 requests a month free (not applied)" }),
    "secretsmanager.secretMonth": p(0.4, "secret-month", "https://aws.amazon.com/secrets-manager/pricing/",
      "https://hivebook.wiki/wiki/aws-secrets-manager-rotated-secrets-dynamic-db-credentials-kms", "2025", "third-party"),
    "secretsmanager.api10k": p(0.05, "10k API calls", "https://aws.amazon.com/secrets-manager/pricing/",
      "https://hivebook.wiki/wiki/aws-secrets-manager-rotated-secrets-dynamic-db-credentials-kms", "2025", "third-party"),
    "vpc.natGatewayHour": p(0.045, "NAT gateway-hour", VPC, "https://basavytix.com/blog/aws-nat-gateway-pricing", "2026", "third-party"),
    "vpc.natGatewayGb": p(0.045, "GB processed", VPC, "https://basavytix.com/blog/aws-nat-gateway-pricing", "2026", "third-party"),
    "vpc.publicIpv4Hour": p(0.005, "public IPv4 address-hour", VPC, "https://cloudburn.io/blog/aws-nat-gateway-pricing", "2026-02-24", "third-party"),
    "vpc.interfaceEndpointAzHour": p(0.01, "endpoint-hour per AZ", PRIVATELINK, "https://awsnegotiations.com/privatelink-cost-analysis.html", "2026-05", "third-party"),
    "vpc.interfaceEndpointGb": p(0.01, "GB processed (first 1 PB)", PRIVATELINK, "a stored copy of AWS's PrivateLink pricing page (968880.n0h2l.group/privatelink/pricing)", "2025", "aws"),
    "sqs.requestMillion": p(0.4, "1M requests (standard queue, 64 KB chunks)", "https://aws.amazon.com/sqs/pricing/", NOT_FOUND, "2025", "not-found",
      { note: "first 1M requests a month free (not applied)" }),
    "scheduler.invocationMillion": p(1, "1M invocations", "https://aws.amazon.com/eventbridge/pricing/", NOT_FOUND, "2025", "not-found",
      { note: "first 14M invocations a month free (not applied)" }),
    "sns.publishMillion": p(0.5, "1M publishes", "https://aws.amazon.com/sns/pricing/", NOT_FOUND, "2025", "not-found",
      { note: "first 1M publishes a month free (not applied)" }),
    "codepipeline.v1PipelineMonth": p(1, "active V1 pipeline-month", "https://aws.amazon.com/codepipeline/pricing/", "https://aws.amazon.com/codepipeline/pricing/ (stored copy)", "2025", "aws"),
    "codepipeline.v2ActionMinute": p(0.002, "action execution minute (V2)", "https://aws.amazon.com/codepipeline/pricing/", "https://aws.amazon.com/codepipeline/pricing/ (stored copy)", "2025", "aws",
      { note: "first 100 action minutes a month free (not applied)" }),
    "codebuild.general1SmallMinute": p(0.005, "build minute (BUILD_GENERAL1_SMALL, Linux x86)", "https://aws.amazon.com/codebuild/pricing/",
      "https://kindatechnical.com/aws-codebuild/understanding-codebuild-pricing.html (\"assuming the following pricing\")", "2025", "third-party"),
    "codebuild.armSmallMinute": p(0.0034, "build minute (ARM small)", "https://aws.amazon.com/codebuild/pricing/", NOT_FOUND, "2025", "not-found"),
    "s3.standardGbMonth": p(0.023, "GB-month (S3 Standard, first 50 TB)", "https://aws.amazon.com/s3/pricing/",
      "https://kindatechnical.com/aws-codebuild/understanding-codebuild-pricing.html (\"$0.023 per GB per month\")", "2025", "third-party"),
    "s3.put1k": p(0.005, "1k PUT/COPY/POST/LIST requests", "https://aws.amazon.com/s3/pricing/", NOT_FOUND, "2025", "not-found"),
    "route53.zoneMonth": p(0.5, "hosted zone-month", "https://aws.amazon.com/route53/pricing/", NOT_FOUND, "2025", "not-found"),
  },
};

/**
 * eu-west-1 (Ireland). Hardly any Ireland figure was found in the corpora: where AWS prices a
 * service the same in every commercial region (Lambda, KMS, Secrets Manager, WAF, CloudWatch
 * alarms and dashboards, CodePipeline), the us-east-1 evidence is kept; every regional figure
 * below is marked `not-found` with the value believed current.
 */
function euWest1(): RegionPrices {
  const same = (k: ServicePriceKey, note = "same price in every commercial region") => ({ ...usEast1.services[k], note });
  const nf = (usd: number, unit: string, source: string, note?: string): Price => p(usd, unit, source, NOT_FOUND, "2025", "not-found", note ? { note } : {});
  const ecNode = (usd: number) => nodeNotFound(usd, EC_PAGE);
  const services: Record<ServicePriceKey, Price> = {
    ...usEast1.services,
    "dynamodb.ondemand.readRequestMillion": nf(0.1415, "1M read request units", DDB_OD, "after the November 2024 cut"),
    "dynamodb.ondemand.writeRequestMillion": nf(0.7075, "1M write request units", DDB_OD, "after the November 2024 cut"),
    "dynamodb.provisioned.rcuHour": nf(0.000147, "RCU-hour", DDB_PROV),
    "dynamodb.provisioned.wcuHour": nf(0.000735, "WCU-hour", DDB_PROV),
    "dynamodb.storageGbMonth": nf(0.283, "GB-month", DDB_OD),
    "dynamodb.pitrGbMonth": nf(0.2264, "GB-month", DDB_OD),
    "dynamodb.streamsRead100k": nf(0.0226, "100k streams read request units", DDB_OD),
    "elasticache.valkeyNodeDiscount": same("elasticache.valkeyNodeDiscount", "the Valkey discount applies in every region"),
    "elasticache.backupGbMonth": nf(0.085, "GB-month", EC_PAGE),
    "lambda.arm.gbSecond": same("lambda.arm.gbSecond"),
    "lambda.x86.gbSecond": same("lambda.x86.gbSecond"),
    "lambda.requestMillion": same("lambda.requestMillion"),
    "apigw.rest.requestMillion": same("apigw.rest.requestMillion", "Ireland lists the same REST tiers as N. Virginia (not found in the corpora)"),
    "cloudwatch.logsIngestGb": nf(0.57, "GB ingested (standard class)", CW),
    "cloudwatch.vendedLogsGb": nf(0.57, "GB of vended logs (first 10 TB)", CW),
    "vpc.natGatewayHour": p(0.048, "NAT gateway-hour", VPC, "https://cloudpipelines.pages.dev/guides/aws-nat-gateway-pricing-2026/ (Europe ~$0.048-$0.052)", "2026", "third-party"),
    "vpc.natGatewayGb": p(0.048, "GB processed", VPC, "https://cloudpipelines.pages.dev/guides/aws-nat-gateway-pricing-2026/ (Europe ~$0.048-$0.052)", "2026", "third-party"),
    "vpc.interfaceEndpointAzHour": nf(0.011, "endpoint-hour per AZ", PRIVATELINK),
    "s3.standardGbMonth": nf(0.023, "GB-month (S3 Standard, first 50 TB)", "https://aws.amazon.com/s3/pricing/"),
  };
  return {
    region: "eu-west-1",
    elasticacheNodeHour: {
      "cache.t3.micro": ecNode(0.018),
      "cache.t3.small": ecNode(0.036),
      "cache.t3.medium": ecNode(0.073),
      "cache.t4g.micro": ecNode(0.018),
      "cache.t4g.small": ecNode(0.036),
      "cache.t4g.medium": ecNode(0.072),
      "cache.m7g.large": ecNode(0.174),
      "cache.r6g.large": ecNode(0.229),
      "cache.r7g.large": ecNode(0.243),
      "cache.r7g.xlarge": ecNode(0.486),
    },
    elasticacheServerless: {
      redis: { ...usEast1.elasticacheServerless.redis, storageGbHour: nf(0.1375, "GB-hour", EC_PAGE), ecpuMillion: nf(0.0037, "1M ECPUs", EC_PAGE) },
      memcached: { ...usEast1.elasticacheServerless.memcached, storageGbHour: nf(0.1375, "GB-hour", EC_PAGE), ecpuMillion: nf(0.0037, "1M ECPUs", EC_PAGE) },
      valkey: { ...usEast1.elasticacheServerless.valkey, storageGbHour: nf(0.0921, "GB-hour", EC_PAGE), ecpuMillion: nf(0.0025, "1M ECPUs", EC_PAGE) },
    },
    daxNodeHour: {
      "dax.t3.small": nf(0.044, "node-hour", "https://aws.amazon.com/dynamodb/pricing/"),
      "dax.t3.medium": nf(0.088, "node-hour", "https://aws.amazon.com/dynamodb/pricing/"),
      "dax.r5.large": nf(0.297, "node-hour", "https://aws.amazon.com/dynamodb/pricing/"),
      "dax.r5.xlarge": nf(0.594, "node-hour", "https://aws.amazon.com/dynamodb/pricing/"),
    },
    services,
  };
}

/** The pricing table, by region. */
export const PRICING: Readonly<Record<string, RegionPrices>> = {
  "us-east-1": usEast1,
  "eu-west-1": euWest1(),
};

/** Monthly cost of `quantity` units under a tiered price (tiers by monthly volume). */
export function tieredCost(price: Price, quantity: number, unitsPerPrice: number): number {
  if (!price.tiers) return (quantity / unitsPerPrice) * price.usd;
  let left = quantity;
  let from = 0;
  let usd = 0;
  for (const tier of price.tiers) {
    if (left <= 0) break;
    const inTier = Math.min(left, tier.upTo - from);
    usd += (inTier / unitsPerPrice) * tier.usd;
    left -= inTier;
    from = tier.upTo;
  }
  return usd;
}
