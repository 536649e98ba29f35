/**
 * What a synthesized stack is, as the cost model sees it: its resources (type, name, construct
 * path, attributes), the references between them, and the traffic the usage profile puts
 * through them (API requests, cache hits and misses, DynamoDB read and write units).
 */
import { DEFAULT_USAGE, UsageProfile } from "./usage";
import { RUNTIME_SETTINGS } from "../../functions/lib/contract";
import { SESSIONS } from "../../functions/sessions/contract";

/** Seconds in the month every usage figure uses (730 hours). */
export const SECONDS_PER_MONTH = 730 * 3600;

/** One resource of a synthesized stack. */
export interface Resource {
  readonly type: string;
  readonly name: string;
  /** `type.name`, as terraform addresses it. */
  readonly address: string;
  /** The construct path cdktf records (`stack/construct/.../id`), or the address when absent. */
  readonly path: string;
  readonly config: Readonly<Record<string, unknown>>;
}

/** The part of a synthesized `cdk.tf.json` the cost model reads. */
export interface SynthesizedStack {
  readonly resource?: Readonly<Record<string, Readonly<Record<string, Readonly<Record<string, unknown>>>>>>;
  readonly provider?: Readonly<Record<string, unknown>>;
}

/** Every resource of a synthesized stack, in a stable order. */
export function resourcesOf(json: SynthesizedStack): readonly Resource[] {
  const out: Resource[] = [];
  for (const [type, byName] of Object.entries(json.resource ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    for (const [name, config] of Object.entries(byName).sort(([a], [b]) => a.localeCompare(b))) {
      const meta = (config["//"] as { metadata?: { path?: string } } | undefined)?.metadata;
      out.push({ type, name, address: `${type}.${name}`, path: meta?.path ?? `${type}.${name}`, config });
    }
  }
  return out;
}

/** The AWS provider's region of a synthesized stack, if it names one. */
export function regionOf(json: SynthesizedStack): string | undefined {
  const aws = json.provider?.aws;
  const first = Array.isArray(aws) ? aws[0] : aws;
  const region = (first as { region?: unknown } | undefined)?.region;
  return typeof region === "string" ? region : undefined;
}

/** True when `config` mentions `${type.name.` anywhere (a terraform reference to that resource). */
export function references(config: unknown, target: Resource): boolean {
  return JSON.stringify(config).includes(`${target.type}.${target.name}.`);
}

/** A numeric attribute, or `fallback` when it is absent or not a literal number. */
export function num(config: Readonly<Record<string, unknown>>, key: string, fallback: number): number {
  const v = config[key];
  if (typeof v === "number") return v;
  if (typeof v === "string" && /^\d+(\.\d+)?$/.test(v)) return Number(v);
  return fallback;
}

/** An array attribute (cdktf writes single blocks as objects and repeated ones as arrays). */
export function list(v: unknown): readonly Record<string, unknown>[] {
  if (Array.isArray(v)) return v as Record<string, unknown>[];
  return v && typeof v === "object" ? [v as Record<string, unknown>] : [];
}

/** Which read/write shape the stack has. */
export type StackKind = "product-catalog" | "session-store" | "generic";

/** The traffic the usage profile puts through one stack, per month. */
export interface Workload {
  readonly kind: StackKind;
  /** The rate priced: the profile's, or the stage throttle when lower. */
  readonly requestsPerSecond: number;
  /** Why the rate differs from the profile's, when it does. */
  readonly cappedBy?: string;
  readonly requestsPerMonth: number;
  readonly readsPerMonth: number;
  readonly writesPerMonth: number;
  /** Reads a CloudFront edge answers from its cache (0 without a distribution that caches). */
  readonly edgeServedReadsPerMonth: number;
  /** Requests that reach the API: every request less those the edge answered. */
  readonly originRequestsPerMonth: number;
  /** A Redis/Valkey (or Memcached) cache-aside layer exists. */
  readonly hasCache: boolean;
  /** A DAX cluster exists. */
  readonly hasDax: boolean;
  readonly hitRatio: number;
  readonly hitRatioSource: string;
  readonly daxHitRatio: number;
  /** Reads that reach DynamoDB after the caches. */
  readonly tableReadsPerMonth: number;
  /** Read request units one API read costs when it reaches DynamoDB (eventually consistent). */
  readonly rruPerRead: number;
  /** Write request units one API write costs (base table plus index). */
  readonly wruPerWrite: number;
  /** Size of one cached value, KB. */
  readonly cacheValueKB: number;
  /** Cache commands a month (GET, SET on miss, DEL on write, rate limits and locks). */
  readonly cacheOpsPerMonth: number;
  /** Billed Lambda milliseconds a month across the API's functions. */
  readonly lambdaMsPerMonth: number;
  /** Data in the table, GB. */
  readonly tableGB: number;
  /** How the read and write unit figures were reached (shown in the report). */
  readonly explain: readonly string[];
}

/** Options of {@link deriveWorkload}. */
export interface WorkloadOptions {
  readonly usage?: UsageProfile;
  /** The stack's name (its prefix names the kind when no function says). */
  readonly stackName?: string;
  /** The measured hit ratio, when the profile asks for "measured". */
  readonly measured?: { readonly ratio: number; readonly source: string };
}

const CACHE_TYPES = ["aws_elasticache_replication_group", "aws_elasticache_serverless_cache", "aws_elasticache_cluster"];

function envOf(fn: Resource): Readonly<Record<string, unknown>> {
  const env = list(fn.config.environment)[0]?.variables;
  return env && typeof env === "object" ? (env as Record<string, unknown>) : {};
}

/** The stack's kind: a function's SERVICE_NAME, else the stack name prefix, else generic. */
export function kindOf(resources: readonly Resource[], stackName = ""): StackKind {
  for (const fn of resources.filter((r) => r.type === "aws_lambda_function")) {
    const s = envOf(fn)[RUNTIME_SETTINGS.serviceName.env];
    if (s === "product-catalog" || s === "session-store") return s;
  }
  if (stackName.startsWith("session-store")) return "session-store";
  if (stackName.startsWith("product-catalog")) return "product-catalog";
  return "generic";
}

/** Read units of one eventually consistent read of `kb` (0.5 per started 4 KB). */
export function eventualRru(kb: number): number {
  return 0.5 * Math.max(1, Math.ceil(kb / 4));
}

/** Derives the month's traffic of a stack from its resources and the usage profile. */
export function deriveWorkload(resources: readonly Resource[], opts: WorkloadOptions = {}): Workload {
  const usage = opts.usage ?? DEFAULT_USAGE;
  const kind = kindOf(resources, opts.stackName);
  const explain: string[] = [];

  // API Gateway cannot serve more than the stage throttle; pricing the profile's rate above it
  // would price traffic the stack rejects (dev is throttled at 50 rps).
  const throttles = resources
    .filter((r) => r.type === "aws_api_gateway_method_settings")
    .map((r) => num(list(r.config.settings)[0] ?? {}, "throttling_rate_limit", Infinity));
  const throttle = throttles.length ? Math.max(...throttles) : Infinity;
  const rps = Math.min(usage.requestsPerSecond, throttle);
  const cappedBy = rps < usage.requestsPerSecond ? `stage throttle ${throttle} rps` : undefined;

  const requestsPerMonth = rps * SECONDS_PER_MONTH;
  const shape = kind === "session-store" ? usage.sessions : usage.products;
  const readsPerMonth = requestsPerMonth * shape.readShare;
  const writesPerMonth = requestsPerMonth - readsPerMonth;
  // A distribution whose cache policy keeps anything answers that share of the reads at the edge.
  const edgeCaches = resources.some((r) => r.type === "aws_cloudfront_cache_policy" && num(r.config, "max_ttl", 0) > 0) &&
    resources.some((r) => r.type === "aws_cloudfront_distribution");
  const edgeServedReadsPerMonth = edgeCaches ? readsPerMonth * usage.edgeHitRatio : 0;
  const originReads = readsPerMonth - edgeServedReadsPerMonth;
  if (edgeCaches) explain.push(`edge: ${Math.round(usage.edgeHitRatio * 100)} % of reads answered by CloudFront (usage.edgeHitRatio); the rest reach the API`);

  // A cluster that is a member of a replication group is part of that cache, not another one.
  const hasCache = resources.some((r) => CACHE_TYPES.includes(r.type) &&
    !(r.type === "aws_elasticache_cluster" && r.config.replication_group_id !== undefined));
  const hasDax = resources.some((r) => r.type === "aws_dax_cluster");
  let hitRatio: number;
  let hitRatioSource: string;
  if (usage.hitRatio === "measured") {
    if (!opts.measured) throw new Error("hit ratio \"measured\" needs the benchmark results");
    hitRatio = opts.measured.ratio;
    hitRatioSource = `measured: ${opts.measured.source}`;
  } else {
    hitRatio = usage.hitRatio;
    hitRatioSource = usage.hitRatio === DEFAULT_USAGE.hitRatio ? "default (seed 004: 80-90 % fewer RCUs)" : "configured";
  }
  const afterCache = originReads * (hasCache ? 1 - hitRatio : 1);
  const tableReadsPerMonth = afterCache * (hasDax ? 1 - usage.daxHitRatio : 1);

  let rruPerRead: number;
  let wruPerWrite: number;
  let cacheValueKB: number;
  let cacheOpsPerMonth = originReads + (originReads * (1 - hitRatio)) + writesPerMonth;
  if (kind === "session-store") {
    const s = usage.sessions;
    const fnTurns = resources.filter((r) => r.type === "aws_lambda_function").map((f) => Number(envOf(f)[SESSIONS.settings.contextTurns.env])).find((n) => n > 0);
    const turns = fnTurns ?? s.contextTurns;
    // A context read is GetItem META + Query of the newest N turns + Query of the latest summary;
    // a Query is billed on the summed item sizes rounded up to 4 KB, not per item.
    rruPerRead = eventualRru(s.metaKB) + eventualRru(turns * s.turnKB) + eventualRru(s.summaryKB);
    const hasIndex = resources.some((r) => r.type === "aws_dynamodb_table" && list(r.config.global_secondary_index).length > 0);
    // Appending a turn updates META and puts the turn; META's lastActivityAt is the by-customer
    // index's sort key, and changing an index key is a delete plus a put in the index.
    wruPerWrite = Math.ceil(s.metaKB) + Math.ceil(s.turnKB) + (hasIndex ? 2 : 0);
    cacheValueKB = s.metaKB + turns * s.turnKB + s.summaryKB;
    cacheOpsPerMonth += writesPerMonth * s.cacheOpsPerWrite;
    explain.push(`context read = META ${eventualRru(s.metaKB)} + ${turns} turns ${eventualRru(turns * s.turnKB)} + summary ${eventualRru(s.summaryKB)} RRU (eventually consistent)`);
    explain.push(`turn write = META ${Math.ceil(s.metaKB)} + turn ${Math.ceil(s.turnKB)}${hasIndex ? " + index key change 2" : ""} WRU`);
  } else {
    const p = usage.products;
    rruPerRead = eventualRru(p.itemKB);
    wruPerWrite = Math.max(1, Math.ceil(p.itemKB));
    cacheValueKB = p.itemKB;
    explain.push(`read = GetItem of ${p.itemKB} KB = ${rruPerRead} RRU (eventually consistent: 0.5 per 4 KB)`);
    explain.push(`write = PutItem/DeleteItem of ${p.itemKB} KB = ${wruPerWrite} WRU`);
  }
  if (!hasCache) cacheOpsPerMonth = 0;

  const readHits = hasCache ? originReads * hitRatio : 0;
  const lambdaMsPerMonth = readHits * usage.lambdaHitMs + (originReads - readHits) * usage.lambdaMissMs + writesPerMonth * usage.lambdaWriteMs;

  return {
    kind,
    requestsPerSecond: rps,
    cappedBy,
    requestsPerMonth,
    readsPerMonth,
    writesPerMonth,
    edgeServedReadsPerMonth,
    originRequestsPerMonth: requestsPerMonth - edgeServedReadsPerMonth,
    hasCache,
    hasDax,
    hitRatio,
    hitRatioSource,
    daxHitRatio: usage.daxHitRatio,
    tableReadsPerMonth,
    rruPerRead,
    wruPerWrite,
    cacheValueKB,
    cacheOpsPerMonth,
    lambdaMsPerMonth,
    tableGB: shape.tableGB,
    explain,
  };
}
