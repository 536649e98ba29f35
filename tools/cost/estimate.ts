/**
 * The monthly cost of one synthesized stack: every resource priced, listed free, or reported
 * as an unknown billable type (which makes the total a lower bound, never a silent zero); what
 * each cache costs with everything that exists only for it; and the break-even of each cache
 * against the DynamoDB reads it removes.
 */
import { CostLine, classify, daxNodePrice, elasticacheNodePrice, FREE_TYPES, PRICED_TYPES, PricingContext, Unpriceable } from "./catalog";
import { HOURS_PER_MONTH, PRICING, RegionPrices } from "./prices";
import { DEFAULT_USAGE, UsageProfile } from "./usage";
import { deriveWorkload, Resource, resourcesOf, regionOf, references, SECONDS_PER_MONTH, SynthesizedStack, Workload } from "./workload";

/** A resource the estimate could not price. */
export interface UnpricedResource {
  readonly address: string;
  readonly type: string;
  readonly path: string;
  /** `unknown billable type` for a type on neither list; otherwise why the priced type has no price. */
  readonly reason: string;
}

/** The caches break-even is computed for. */
export type CacheName = "redis" | "dax";

/** One cache against the DynamoDB reads it removes. */
export interface BreakEven {
  readonly cache: CacheName;
  /** Its node/serverless lines plus whatever exists only for it (AUTH secret, its endpoint, logs, alarms). */
  readonly monthlyUsd: number;
  readonly lines: readonly string[];
  /** The hit ratio priced, and where it came from. */
  readonly hitRatio: number;
  readonly hitRatioSource: string;
  /** API reads a month and the read units each costs at DynamoDB. */
  readonly readsPerMonth: number;
  readonly rruPerRead: number;
  /** DynamoDB's read cost for those reads with no cache at all. */
  readonly uncachedReadUsd: number;
  /** The read cost this cache removes at `hitRatio`, were it the only cache. */
  readonly removedUsd: number;
  /** removedUsd − monthlyUsd. */
  readonly netUsd: number;
  /** Hit ratio at which removedUsd equals monthlyUsd; null when even 100 % does not pay. */
  readonly breakEvenHitRatio: number | null;
  /** Average reads per second at which it pays for itself at `hitRatio`. */
  readonly breakEvenReadsPerSecond: number | null;
  readonly verdict: string;
}

/** The priced month of one stack. */
export interface StackCost {
  readonly stack: string;
  readonly region: string;
  readonly totalUsd: number;
  readonly fixedUsd: number;
  readonly usageUsd: number;
  /** False when something billable could not be priced: the total is then a lower bound. */
  readonly complete: boolean;
  readonly lines: readonly CostLine[];
  readonly unpriced: readonly UnpricedResource[];
  /** Free resources, counted by type. */
  readonly free: readonly { readonly type: string; readonly count: number; readonly reason: string }[];
  readonly workload: Workload;
  /** Total of the lines whose price was not found in the corpora (see prices.ts). */
  readonly unverifiedUsd: number;
  readonly breakEven: readonly BreakEven[];
}

/** Options of {@link estimateStack}. */
export interface EstimateOptions {
  readonly stack: string;
  readonly usage?: UsageProfile;
  /** Price in this region instead of the provider's. */
  readonly region?: string;
  readonly measured?: { readonly ratio: number; readonly source: string };
  /** A pricing table to use instead of the region's (tests pin arithmetic on round prices). */
  readonly prices?: RegionPrices;
}

/** The pricing of `region`; throws listing the regions the table has. */
export function regionPrices(region: string): RegionPrices {
  const prices = PRICING[region];
  if (!prices) throw new Error(`no pricing for region ${region}; the table has ${Object.keys(PRICING).join(", ")} (tools/cost/prices.ts)`);
  return prices;
}

const sum = (lines: readonly CostLine[]) => lines.reduce((a, l) => a + l.monthlyUsd, 0);

/** Types a cache's own references lead to that exist only for that cache (never shared ones like KMS keys or tables). */
const CACHE_PARTS = new Set([
  "aws_secretsmanager_secret_version", "aws_secretsmanager_secret", "aws_cloudwatch_log_group", "aws_elasticache_subnet_group",
  "aws_elasticache_parameter_group", "aws_elasticache_user_group", "aws_elasticache_user", "aws_dax_subnet_group", "aws_dax_parameter_group",
]);

/**
 * Resources that exist only for a cache: the parts its configuration references (AUTH token →
 * secret version → secret, log delivery → log groups), everything under its construct's scope
 * when cdktf recorded construct paths, the alarms that watch it, and the Secrets Manager endpoint
 * when every secret of the stack is the cache's.
 */
function ownedBy(cache: Resource, resources: readonly Resource[], name: CacheName): readonly Resource[] {
  const owned: Resource[] = [cache];
  for (let i = 0; i < owned.length; i++) {
    for (const r of resources) {
      if (!owned.includes(r) && CACHE_PARTS.has(r.type) && references(owned[i].config, r)) owned.push(r);
    }
  }
  if (cache.path.includes("/")) {
    const scope = `${cache.path.slice(0, cache.path.lastIndexOf("/"))}/`;
    owned.push(...resources.filter((r) => r.path.startsWith(scope) && !owned.includes(r)));
  }
  const id = String(cache.config.replication_group_id ?? cache.config.cluster_id ?? cache.config.cluster_name ?? cache.config.name ?? "\u0000");
  for (const alarm of resources.filter((r) => r.type === "aws_cloudwatch_metric_alarm")) {
    const text = JSON.stringify(alarm.config);
    // Cache-aside hit/miss and circuit-breaker alarms exist because of the Redis cache.
    const cacheAside = name === "redis" && /"metric_name":"(CacheHit|CacheMiss|CircuitOpen)"/.test(text);
    if (text.includes(id) || cacheAside || references(alarm.config, cache)) owned.push(alarm);
  }
  // The Secrets Manager endpoint exists only to fetch the AUTH token or user passwords when every secret is the
  // cache's; the ElastiCache API endpoint only for the cache's password rotation function.
  const secrets = resources.filter((r) => r.type === "aws_secretsmanager_secret");
  if (secrets.length && secrets.every((s) => owned.includes(s))) {
    owned.push(...resources.filter((r) => r.type === "aws_vpc_endpoint" && /\.(secretsmanager|elasticache)$/.test(String(r.config.service_name ?? ""))));
  }
  return owned;
}

/** Break-even of one cache that removes `hitRatio` of the reads, at a monthly cost. */
export function breakEven(cache: CacheName, monthlyUsd: number, lines: readonly string[], w: Workload, readPriceUsdPerRru: number,
  hitRatio: number, hitRatioSource: string): BreakEven {
  const uncachedReadUsd = w.readsPerMonth * w.rruPerRead * readPriceUsdPerRru;
  const removedUsd = uncachedReadUsd * hitRatio;
  const h = uncachedReadUsd > 0 ? monthlyUsd / uncachedReadUsd : Infinity;
  const breakEvenHitRatio = h <= 1 ? h : null;
  // What one read per second, sustained for the month, saves at this hit ratio.
  const savedPerReadPerSecond = SECONDS_PER_MONTH * hitRatio * w.rruPerRead * readPriceUsdPerRru;
  const breakEvenReadsPerSecond = savedPerReadPerSecond > 0 ? monthlyUsd / savedPerReadPerSecond : null;
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  const verdict = breakEvenHitRatio === null
    ? `never at this traffic: even a 100 % hit ratio removes only $${uncachedReadUsd.toFixed(2)} of reads a month`
    : hitRatio >= breakEvenHitRatio
      ? `pays for itself: needs ${pct(breakEvenHitRatio)}, gets ${pct(hitRatio)}`
      : `does not pay at ${pct(hitRatio)}: needs ${pct(breakEvenHitRatio)}`;
  return {
    cache, monthlyUsd, lines, hitRatio, hitRatioSource, readsPerMonth: w.readsPerMonth, rruPerRead: w.rruPerRead,
    uncachedReadUsd, removedUsd, netUsd: removedUsd - monthlyUsd, breakEvenHitRatio, breakEvenReadsPerSecond, verdict,
  };
}

/** USD of one read request unit at the stack's table (on-demand, or a fully used provisioned RCU-second). */
export function readUnitPrice(resources: readonly Resource[], prices: RegionPrices): number {
  const table = resources.find((r) => r.type === "aws_dynamodb_table");
  if (table && table.config.billing_mode !== "PAY_PER_REQUEST") return prices.services["dynamodb.provisioned.rcuHour"].usd / 3600;
  return prices.services["dynamodb.ondemand.readRequestMillion"].usd / 1e6;
}

/** Prices one synthesized stack. */
export function estimateStack(json: SynthesizedStack, opts: EstimateOptions): StackCost {
  const usage = opts.usage ?? DEFAULT_USAGE;
  const region = opts.region ?? regionOf(json) ?? "us-east-1";
  const prices = opts.prices ?? regionPrices(region);
  const resources = resourcesOf(json);
  const workload = deriveWorkload(resources, { usage, stackName: opts.stack, measured: opts.measured });
  const ctx: PricingContext = { prices, usage, workload, resources };

  const lines: CostLine[] = [];
  const unpriced: UnpricedResource[] = [];
  const free = new Map<string, number>();
  for (const r of resources) {
    const kind = classify(r.type);
    if (kind === "free") free.set(r.type, (free.get(r.type) ?? 0) + 1);
    else if (kind === "unknown") unpriced.push({ address: r.address, type: r.type, path: r.path, reason: "unknown billable type" });
    else {
      try {
        lines.push(...PRICED_TYPES[r.type](r, ctx));
      } catch (e) {
        if (!(e instanceof Unpriceable)) throw e;
        unpriced.push({ address: r.address, type: r.type, path: r.path, reason: e.message });
      }
    }
  }

  const readPrice = readUnitPrice(resources, prices);
  const caches: BreakEven[] = [];
  const linesOf = (owned: readonly Resource[]) => lines.filter((l) => owned.some((o) => o.address === l.address));
  const redis = resources.find((r) => ["aws_elasticache_replication_group", "aws_elasticache_serverless_cache"].includes(r.type) ||
    (r.type === "aws_elasticache_cluster" && r.config.replication_group_id === undefined));
  if (redis) {
    const owned = linesOf(ownedBy(redis, resources, "redis"));
    caches.push(breakEven("redis", sum(owned), [...new Set(owned.map((l) => l.address))], workload, readPrice, workload.hitRatio, workload.hitRatioSource));
  }
  const dax = resources.find((r) => r.type === "aws_dax_cluster");
  if (dax) {
    const owned = linesOf(ownedBy(dax, resources, "dax"));
    caches.push(breakEven("dax", sum(owned), [...new Set(owned.map((l) => l.address))], workload, readPrice, workload.daxHitRatio, "usage.daxHitRatio"));
  }

  const totalUsd = sum(lines);
  return {
    stack: opts.stack,
    region,
    totalUsd,
    fixedUsd: sum(lines.filter((l) => l.basis === "fixed")),
    usageUsd: sum(lines.filter((l) => l.basis === "usage")),
    complete: unpriced.length === 0,
    lines,
    unpriced,
    free: [...free.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([type, count]) => ({ type, count, reason: FREE_TYPES[type] })),
    workload,
    unverifiedUsd: sum(lines.filter((l) => l.evidence === "not-found")),
    breakEven: caches,
  };
}

/** Monthly cost of `nodes` nodes of a type, and the price used. */
export interface NodeCost {
  readonly label: string;
  readonly nodes: number;
  readonly nodeType: string;
  readonly hourlyUsd: number;
  readonly monthlyUsd: number;
  readonly evidence: string;
}

/** Seed 000's DAX-vs-Redis cost row, recomputed from the pricing table. */
export interface SeedComparison {
  readonly region: string;
  /** What seed 000 claims for 3 nodes. */
  readonly seedClaim: { readonly daxUsd: 300; readonly redisUsd: 150 };
  readonly dax: NodeCost;
  readonly redis: NodeCost;
  readonly valkey: NodeCost;
}

function nodeCost(label: string, nodes: number, nodeType: string, hourly: { usd: number; evidence: string }): NodeCost {
  return { label, nodes, nodeType, hourlyUsd: hourly.usd, monthlyUsd: nodes * hourly.usd * HOURS_PER_MONTH, evidence: hourly.evidence };
}

/** Seed 000's "Cost (3 nodes): DAX ~$300/month (t3.medium) vs Redis ~$150/month (cache.t3.medium)", from our table. */
export function seedComparison(region = "us-east-1"): SeedComparison {
  const prices = regionPrices(region);
  return {
    region,
    seedClaim: { daxUsd: 300, redisUsd: 150 },
    dax: nodeCost("DAX", 3, "dax.t3.medium", daxNodePrice(prices, "dax.t3.medium")),
    redis: nodeCost("ElastiCache Redis OSS", 3, "cache.t3.medium", elasticacheNodePrice(prices, "cache.t3.medium", "redis")),
    valkey: nodeCost("ElastiCache Valkey", 3, "cache.t3.medium", elasticacheNodePrice(prices, "cache.t3.medium", "valkey")),
  };
}
