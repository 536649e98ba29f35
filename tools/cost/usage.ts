/**
 * The usage profile: the traffic a stack is priced under. Fixed lines (node-hours, endpoints,
 * alarms) come from the synthesized JSON; usage lines (DynamoDB requests, Lambda, API Gateway,
 * logs) come from this profile. Defaults are taken from the seed documents where they give a
 * figure (`USAGE_SOURCES` says which line), from the project's own benchmark where it measured
 * one, and are labelled assumptions otherwise.
 */
import { existsSync, readFileSync } from "fs";
import { SESSIONS } from "../../functions/sessions/contract";

/** The session store's read and write shape. */
export interface SessionUsage {
  /** Share of API requests that are context reads (the rest append turns). */
  readonly readShare: number;
  /** Turns assembled into a context when the function does not say (its CONTEXT_TURNS env var wins). */
  readonly contextTurns: number;
  /** Size of one TURN# item, KB. */
  readonly turnKB: number;
  /** Size of the META item, KB. */
  readonly metaKB: number;
  /** Size of the SUMMARY# item, KB. */
  readonly summaryKB: number;
  /** Cache operations per appended turn besides the invalidation (rate-limit window, lock take and release). */
  readonly cacheOpsPerWrite: number;
  /** Data kept in the table, GB. */
  readonly tableGB: number;
}

/** The product catalog's read and write shape (also used for stacks of unknown kind). */
export interface ProductUsage {
  /** Share of API requests that are reads (GET); the rest are PUT/DELETE. */
  readonly readShare: number;
  /** Size of one product item, KB. */
  readonly itemKB: number;
  /** Data kept in the table, GB. */
  readonly tableGB: number;
}

/** Everything usage-based lines are computed from. */
export interface UsageProfile {
  /** Average API requests per second over the month (capped by the stage's throttle when lower). */
  readonly requestsPerSecond: number;
  /** Redis/Valkey (cache-aside) hit ratio, 0–1, or "measured" for the benchmark's warm hit ratio. */
  readonly hitRatio: number | "measured";
  /** DAX hit ratio for reads that reach DAX, 0–1. */
  readonly daxHitRatio: number;
  /** Share of public reads a CloudFront edge answers from its cache (Origin Shield is billed on the rest), 0–1. */
  readonly edgeHitRatio: number;
  /** Billed Lambda duration of a read served from the cache, ms. */
  readonly lambdaHitMs: number;
  /** Billed Lambda duration of a read that goes to DynamoDB (or DAX), ms. */
  readonly lambdaMissMs: number;
  /** Billed Lambda duration of a write, ms. */
  readonly lambdaWriteMs: number;
  /** Invocations a month of functions no API route reaches (rotators, consumers, schedules). */
  readonly backgroundInvocationsPerMonth: number;
  /** Log bytes per Lambda invocation (START/END/REPORT lines plus the odd warning). */
  readonly lambdaLogBytesPerInvocation: number;
  /** VPC flow-log volume per VPC, GB a month. */
  readonly flowLogGBPerMonth: number;
  /** Engine and slow-log volume of one cache, GB a month. */
  readonly cacheLogGBPerMonth: number;
  /** WAF log bytes per inspected request. */
  readonly wafLogBytesPerRequest: number;
  /** Compressed size / raw size of stored logs (CloudWatch bills storage compressed). */
  readonly logCompressionRatio: number;
  /** Months of logs kept by a log group without retention (steady state is never reached). */
  readonly logHorizonMonths: number;
  /** GB a month through each NAT gateway. */
  readonly natGBPerMonth: number;
  /** GB a month through each interface endpoint. */
  readonly endpointGBPerMonth: number;
  /** Secrets Manager API calls a month per secret (cold starts fetching the AUTH token). */
  readonly secretCallsPerMonth: number;
  /** Messages a month per SQS queue. */
  readonly queueMessagesPerMonth: number;
  /** Average WebSocket connections open (for API Gateway v2 WebSocket APIs). */
  readonly websocketConnections: number;
  /** WebSocket messages per turn written: pushed to each open socket of its session, plus the one it came in on. */
  readonly websocketMessagesPerWrite: number;
  /** Data a serverless cache holds, GB (the engine's metered minimum applies). */
  readonly cacheDataGB: number;
  /** Pipeline runs a month and minutes of build per run (CodePipeline / CodeBuild). */
  readonly pipelineRunsPerMonth: number;
  readonly buildMinutesPerRun: number;
  /** Data per S3 bucket, GB. */
  readonly bucketGB: number;
  readonly products: ProductUsage;
  readonly sessions: SessionUsage;
}

/** Where each default comes from: a seed line, our benchmark, or an assumption. */
export const USAGE_SOURCES: Readonly<Record<string, string>> = {
  requestsPerSecond: "seed 000 §1: \"2-3 DynamoDB reads per user message × 1000 msg/sec = 3000 RCU\"; seed 002: \"At 1000 requests per second\"",
  hitRatio: "seed 004 (Results): \"Reduced DynamoDB RCU consumption ... by 80-90%\" → 0.85; seed 001: \"Target >80% for reads\"",
  daxHitRatio: "seed 000 §8: \"If DAX hit ratio drops below 80% ... re-evaluate\" and seed 004's 80-90 % → 0.85",
  lambdaHitMs: "seed 002: \"A Redis GET takes 0.1-0.5 milliseconds\" plus handler time, billed in whole ms → 3 ms (assumption)",
  lambdaMissMs: "seed 000 §1: \"DynamoDB's 5-10ms\" → 10 ms",
  lambdaWriteMs: "seed 000 §7: DAX write-through \"~2ms overhead\" on a 5-10 ms write → 12 ms",
  "products.readShare": "our benchmark (npm run bench, hit-ratio scenario): 1 % writes → 0.99",
  "products.itemKB": "our benchmark: itemBytes 864 → 0.85 KB; seed 001: \"< 10KB ideal\"",
  "products.tableGB": "our benchmark: 10,000 ids × 864 B → 0.01 GB",
  "sessions.readShare": "seed 000 §1/§5: every user message loads the context (read) and appends a turn (write) → 0.5",
  "sessions.contextTurns": `seed 000 §3: turn_limit = 20 (the function's ${SESSIONS.settings.contextTurns.env} wins)`,
  "sessions.turnKB": "assumption: a compressed chat turn (seed 000 stores content_compressed) ≈ 1 KB",
  "sessions.tableGB": "seed 000 §1: \"50K+ concurrent sessions\" × ~25 KB (META + 20 turns + summary) → 1.25 GB",
  flowLogGBPerMonth: "assumption: Lambda keeps connections open, so few flows a minute → 1 GB",
  edgeHitRatio: "seed 001: \"Target >80% for reads\" (the cache's target, taken for the edge too) → 0.8 (assumption)",
  lambdaLogBytesPerInvocation: "START/END/REPORT lines of the Text log format ≈ 400 B (assumption)",
  websocketConnections: "seed 000 §1: \"50K+ concurrent sessions\"; assumption: 2 % of them hold a socket open on average → 1000",
  websocketMessagesPerWrite: "assumption: a turn comes in on the socket (1 message received) and is pushed to the session's one open socket (1 sent) → 2",
};

/** The defaults, per the sources above. */
export const DEFAULT_USAGE: UsageProfile = {
  requestsPerSecond: 1000,
  hitRatio: 0.85,
  daxHitRatio: 0.85,
  edgeHitRatio: 0.8,
  lambdaHitMs: 3,
  lambdaMissMs: 10,
  lambdaWriteMs: 12,
  backgroundInvocationsPerMonth: 10_000,
  lambdaLogBytesPerInvocation: 400,
  flowLogGBPerMonth: 1,
  cacheLogGBPerMonth: 0.01,
  wafLogBytesPerRequest: 1500,
  logCompressionRatio: 0.2,
  logHorizonMonths: 12,
  natGBPerMonth: 10,
  endpointGBPerMonth: 1,
  secretCallsPerMonth: 100_000,
  queueMessagesPerMonth: 1_000_000,
  websocketConnections: 1000,
  websocketMessagesPerWrite: 2,
  cacheDataGB: 1,
  pipelineRunsPerMonth: 60,
  buildMinutesPerRun: 5,
  bucketGB: 1,
  products: { readShare: 0.99, itemKB: 0.85, tableGB: 0.01 },
  sessions: { readShare: 0.5, contextTurns: 20, turnKB: 1, metaKB: 0.5, summaryKB: 2, cacheOpsPerWrite: 4, tableGB: 1.25 },
};

type DeepPartial<T> = { readonly [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

/** An override of any subset of the profile, at any depth (what `--usage file.json` holds). */
export type UsageOverride = DeepPartial<UsageProfile>;

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === "object" && !Array.isArray(v);
}

/**
 * The profile with `override` merged in; throws naming the field on an unknown key or a value
 * of the wrong kind, so a typo in a usage file does not silently price the default.
 */
export function mergeUsage(base: UsageProfile, override: unknown, where = "usage"): UsageProfile {
  if (!isObject(override)) throw new Error(`${where}: expected an object`);
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(override)) {
    const field = `${where}.${k}`;
    if (!(k in base)) throw new Error(`${field}: unknown field; known: ${Object.keys(base).join(", ")}`);
    const current = (base as unknown as Record<string, unknown>)[k];
    if (isObject(current)) {
      out[k] = mergeUsage(current as unknown as UsageProfile, v, field);
    } else if (k === "hitRatio" && v === "measured") {
      out[k] = v;
    } else {
      if (typeof v !== "number" || !Number.isFinite(v) || v < 0) throw new Error(`${field}: expected a non-negative number, got ${JSON.stringify(v)}`);
      if (/(Ratio|Share)$/.test(k) && v > 1) throw new Error(`${field}: expected a fraction from 0 to 1, got ${v}`);
      out[k] = v;
    }
  }
  return out as unknown as UsageProfile;
}

/** Reads a `--usage` file (JSON, any subset of the profile) over the defaults. */
export function loadUsageFile(file: string, base: UsageProfile = DEFAULT_USAGE): UsageProfile {
  if (!existsSync(file)) throw new Error(`--usage: ${file} does not exist`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`--usage: ${file} is not JSON: ${(e as Error).message}`);
  }
  return mergeUsage(base, parsed, file);
}

/** The benchmark's measured hit ratio (warm phase), and the file it came from. */
export function measuredHitRatio(benchResultsFile: string): { readonly ratio: number; readonly source: string } {
  if (!existsSync(benchResultsFile)) throw new Error(`hit ratio "measured": ${benchResultsFile} does not exist (run npm run bench)`);
  const r = JSON.parse(readFileSync(benchResultsFile, "utf8")) as { scenarios?: { hitRatio?: { warm?: { hitRatio?: number } } } };
  const ratio = r.scenarios?.hitRatio?.warm?.hitRatio;
  if (typeof ratio !== "number") throw new Error(`hit ratio "measured": ${benchResultsFile} has no scenarios.hitRatio.warm.hitRatio`);
  return { ratio, source: `${benchResultsFile} (scenarios.hitRatio.warm.hitRatio)` };
}
