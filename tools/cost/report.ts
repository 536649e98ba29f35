/**
 * What `npm run cost` prints and writes: a summary table of every stack, a detail block per
 * stack (top lines, by service, cache vs the reads it removes, break-even, unknown billable
 * types), seed 000's DAX-vs-Redis row recomputed, and the JSON report with the pricing table
 * and the usage profile it was computed from.
 */
import { CostLine } from "./catalog";
import { BreakEven, SeedComparison, StackCost } from "./estimate";
import { PRICES_CHECKED, PRICING } from "./prices";
import { USAGE_SOURCES, UsageProfile } from "./usage";

/** Dollars with thousands separators, two decimals. */
export function usd(x: number): string {
  return `$${x.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

/** An hourly rate: four decimals, as AWS lists node-hours. */
const hourly = (x: number) => `$${x.toFixed(4)}`;

/** A stack's total as printed: a lower bound ("≥") when something billable was not priced. */
export function totalText(c: StackCost): string {
  return c.complete ? usd(c.totalUsd) : `≥ ${usd(c.totalUsd)} (INCOMPLETE)`;
}

const SERVICES: readonly [RegExp, string][] = [
  [/^aws_api_gateway_|^aws_apigatewayv2_/, "API Gateway"],
  [/^aws_lambda_/, "Lambda"],
  [/^aws_dynamodb_/, "DynamoDB"],
  [/^aws_elasticache_/, "ElastiCache"],
  [/^aws_dax_/, "DAX"],
  [/^aws_cloudwatch_log_/, "CloudWatch Logs"],
  [/^aws_cloudwatch_/, "CloudWatch alarms/dashboards"],
  [/^aws_vpc_endpoint$/, "VPC endpoints"],
  [/^aws_nat_gateway$|^aws_eip$/, "NAT / public IPv4"],
  [/^aws_kms_/, "KMS"],
  [/^aws_secretsmanager_/, "Secrets Manager"],
  [/^aws_cloudfront_/, "CloudFront"],
  [/^aws_wafv2_/, "WAF"],
  [/^aws_sqs_/, "SQS"],
  [/^aws_scheduler_/, "EventBridge Scheduler"],
  [/^aws_codepipeline|^aws_codebuild_/, "CodePipeline/CodeBuild"],
  [/^aws_s3_/, "S3"],
];

/** The service a resource type is billed under, for the by-service breakdown. */
export function serviceOf(type: string): string {
  return SERVICES.find(([re]) => re.test(type))?.[1] ?? type;
}

/** Monthly USD by service, largest first. */
export function byService(lines: readonly CostLine[]): readonly { readonly service: string; readonly usd: number }[] {
  const m = new Map<string, number>();
  for (const l of lines) m.set(serviceOf(l.type), (m.get(serviceOf(l.type)) ?? 0) + l.monthlyUsd);
  return [...m.entries()].map(([service, v]) => ({ service, usd: v })).sort((a, b) => b.usd - a.usd);
}

function pad(cells: readonly string[], widths: readonly number[], right: readonly boolean[]): string {
  return cells.map((c, i) => (right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ").trimEnd();
}

/** Renders rows as aligned columns under a header. */
export function columns(header: readonly string[], rows: readonly (readonly string[])[], right: readonly boolean[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [pad(header, widths, right), pad(widths.map((w) => "-".repeat(w)), widths, right), ...rows.map((r) => pad(r, widths, right))];
}

/** The cache's break-even in one line. */
export function breakEvenText(b: BreakEven): string {
  const rps = b.breakEvenReadsPerSecond === null ? "" : `; at ${pct(b.hitRatio)} it pays from ${Math.ceil(b.breakEvenReadsPerSecond).toLocaleString("en-US")} reads/s`;
  return `${b.cache}: costs ${usd(b.monthlyUsd)}/month (${b.lines.length} resource${b.lines.length === 1 ? "" : "s"}), removes ${usd(b.removedUsd)} of ${usd(b.uncachedReadUsd)} ` +
    `DynamoDB reads at ${pct(b.hitRatio)} hit ratio → ${b.verdict}${rps}`;
}

/** The summary table: one row per stack × environment. */
export function summaryTable(costs: readonly StackCost[]): string[] {
  const be = (c: StackCost, name: string) => c.breakEven.find((b) => b.cache === name);
  const beCell = (b: BreakEven | undefined) => (!b ? "-" : b.breakEvenHitRatio === null ? "never" : pct(b.breakEvenHitRatio));
  return columns(
    ["stack", "region", "rps", "total/month", "fixed", "usage", "unknown types", "redis break-even", "dax break-even"],
    costs.map((c) => [
      c.stack, c.region, String(c.workload.requestsPerSecond), totalText(c), usd(c.fixedUsd), usd(c.usageUsd),
      String(new Set(c.unpriced.map((u) => u.type)).size), beCell(be(c, "redis")), beCell(be(c, "dax")),
    ]),
    [false, false, true, true, true, true, true, true, true],
  );
}

/** The detail block of one stack. */
export function stackDetail(c: StackCost, top = 8): string[] {
  const w = c.workload;
  const out: string[] = [];
  out.push(`${c.stack} (${c.region}, ${w.kind}): ${totalText(c)} a month — fixed ${usd(c.fixedUsd)}, usage ${usd(c.usageUsd)}`);
  out.push(`  traffic: ${w.requestsPerSecond} rps${w.cappedBy ? ` (${w.cappedBy})` : ""}, ${pct(w.readsPerMonth / Math.max(w.requestsPerMonth, 1))} reads; ` +
    `hit ratio ${pct(w.hitRatio)} [${w.hitRatioSource}]${w.hasDax ? `, DAX ${pct(w.daxHitRatio)}` : ""}`);
  for (const e of w.explain) out.push(`  ${e}`);
  out.push("  top lines:");
  const sorted = [...c.lines].sort((a, b) => b.monthlyUsd - a.monthlyUsd).slice(0, top);
  for (const row of columns(["monthly", "", "resource", "item"], sorted.map((l) => [usd(l.monthlyUsd), l.evidence === "not-found" ? "*" : "", l.address, l.item]), [true, false, false, false])) {
    out.push(`    ${row}`);
  }
  out.push(`  by service: ${byService(c.lines).filter((s) => s.usd >= 0.005).map((s) => `${s.service} ${usd(s.usd)}`).join(", ")}`);
  for (const b of c.breakEven) out.push(`  cache vs savings — ${breakEvenText(b)}`);
  if (c.unverifiedUsd > 0) out.push(`  * ${usd(c.unverifiedUsd)} of the total rests on prices not found in the search corpora (tools/cost/prices.ts says which)`);
  if (c.unpriced.length === 0) out.push("  unknown billable types: none");
  for (const u of c.unpriced) out.push(`  NOT PRICED ${u.address} [${u.path}]: ${u.reason}`);
  return out;
}

/** Seed 000's cost row next to ours. */
export function seedComparisonLines(s: SeedComparison): string[] {
  return [
    `seed 000 says "Cost (3 nodes): DAX ~$300/month (t3.medium) vs ElastiCache Redis ~$150/month (cache.t3.medium)"; our table (${s.region}):`,
    ...columns(["cache", "nodes", "node type", "hourly", "monthly", "seed claim"], [
      [s.dax.label, "3", s.dax.nodeType, hourly(s.dax.hourlyUsd), usd(s.dax.monthlyUsd), usd(s.seedClaim.daxUsd)],
      [s.redis.label, "3", s.redis.nodeType, hourly(s.redis.hourlyUsd), usd(s.redis.monthlyUsd), usd(s.seedClaim.redisUsd)],
      [s.valkey.label, "3", s.valkey.nodeType, hourly(s.valkey.hourlyUsd), usd(s.valkey.monthlyUsd), "-"],
    ], [false, true, false, true, true, true]).map((l) => `  ${l}`),
  ];
}

/** The whole console report. */
export function renderReport(costs: readonly StackCost[], seed: SeedComparison): string[] {
  const out = [...summaryTable(costs), ""];
  for (const c of costs) out.push(...stackDetail(c), "");
  out.push(...seedComparisonLines(seed));
  const unknown = [...new Set(costs.flatMap((c) => c.unpriced.map((u) => u.type)))];
  out.push("", unknown.length ? `INCOMPLETE: not priced: ${unknown.join(", ")} — the totals above are lower bounds` : "every billable resource was priced");
  return out;
}

/** Options of {@link jsonReport}. */
export interface JsonReportInput {
  readonly costs: readonly StackCost[];
  readonly seed: SeedComparison;
  readonly usage: UsageProfile;
  readonly synthesizedFrom: string;
}

/** The JSON report: inputs (usage, prices with sources), per-stack costs, the seed comparison. */
export function jsonReport(input: JsonReportInput): Record<string, unknown> {
  const regions = [...new Set(input.costs.map((c) => c.region).concat(input.seed.region))];
  const unknownTypes = [...new Set(input.costs.flatMap((c) => c.unpriced.map((u) => u.type)))];
  return {
    tool: "cachefront-cost",
    pricesChecked: PRICES_CHECKED,
    synthesizedFrom: input.synthesizedFrom,
    complete: unknownTypes.length === 0,
    unknownTypes,
    usage: input.usage,
    usageSources: USAGE_SOURCES,
    stacks: input.costs.map((c) => ({
      ...c,
      byService: byService(c.lines),
      totalText: totalText(c),
    })),
    seedComparison: input.seed,
    prices: Object.fromEntries(regions.map((r) => [r, PRICING[r]])),
  };
}

/** Markers of the generated figures in help/cost.md. */
export const DOC_BEGIN = "<!-- cost-figures:begin (npm run cost -- --write-doc) -->";
export const DOC_END = "<!-- cost-figures:end -->";

const md = (header: readonly string[], rows: readonly (readonly string[])[]) =>
  [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)];

/**
 * The figures help/cost.md shows, from the default usage profile: every stack's month, seed
 * 000's DAX-vs-Redis row from our table, and each cache's break-even in the session store.
 */
export function docFigures(unsorted: readonly StackCost[], seed: SeedComparison): string[] {
  const costs = [...unsorted].sort((a, b) => a.stack.localeCompare(b.stack));
  const be = (b: BreakEven | undefined) => (!b ? "-" : `${usd(b.monthlyUsd)}; ${b.breakEvenHitRatio === null ? "never" : pct(b.breakEvenHitRatio)}`);
  const out = [
    DOC_BEGIN,
    "",
    "Every stack × environment under the default usage profile (prices as of the table's dates, us-east-1):",
    "",
    ...md(["stack", "rps priced", "total / month", "largest services", "Redis/Valkey: cost; break-even hit ratio", "DAX: cost; break-even hit ratio"],
      costs.map((c) => [
        c.stack, String(c.workload.requestsPerSecond), totalText(c),
        byService(c.lines).slice(0, 3).map((s) => `${s.service} ${usd(s.usd)}`).join(", "),
        be(c.breakEven.find((b) => b.cache === "redis")), be(c.breakEven.find((b) => b.cache === "dax")),
      ])),
    "",
    "Seed 000's cost row (3 nodes), recomputed from our pricing table:",
    "",
    ...md(["cache", "node type", "hourly", "3 nodes / month", "seed 000 says"], [
      [seed.dax.label, seed.dax.nodeType, hourly(seed.dax.hourlyUsd), usd(seed.dax.monthlyUsd), "~$300"],
      [seed.redis.label, seed.redis.nodeType, hourly(seed.redis.hourlyUsd), usd(seed.redis.monthlyUsd), "~$150"],
      [seed.valkey.label, seed.valkey.nodeType, hourly(seed.valkey.hourlyUsd), usd(seed.valkey.monthlyUsd), "-"],
    ]),
  ];
  for (const c of costs.filter((x) => x.breakEven.length > 1)) {
    out.push("", `${c.stack}: each cache as if it were the only one in front of the sessions table (${c.workload.requestsPerSecond} rps, ` +
      `${pct(c.workload.readsPerMonth / Math.max(c.workload.requestsPerMonth, 1))} reads, ${c.workload.rruPerRead} RRU a context read):`, "");
    out.push(...md(["cache", "monthly cost (with what exists only for it)", "hit ratio priced", "DynamoDB reads removed", "break-even hit ratio", "pays from (reads/s)"],
      c.breakEven.map((b) => [b.cache, usd(b.monthlyUsd), pct(b.hitRatio), `${usd(b.removedUsd)} of ${usd(b.uncachedReadUsd)}`,
        b.breakEvenHitRatio === null ? "never at this traffic" : pct(b.breakEvenHitRatio),
        b.breakEvenReadsPerSecond === null ? "-" : Math.ceil(b.breakEvenReadsPerSecond).toLocaleString("en-US")])));
  }
  out.push("", DOC_END);
  return out;
}

/** `page` with the generated figures replaced (or appended when the markers are missing). */
export function replaceDocFigures(page: string, figures: readonly string[]): string {
  const start = page.indexOf(DOC_BEGIN);
  const end = page.indexOf(DOC_END);
  const block = figures.join("\n");
  if (start < 0 || end < start) return `${page.trimEnd()}\n\n${block}\n`;
  return page.slice(0, start) + block + page.slice(end + DOC_END.length);
}
