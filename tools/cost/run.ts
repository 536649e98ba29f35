/**
 * What `npm run cost` does, as functions (main.ts is the command line around them): read every
 * synthesized stack, price it under the usage profile, print the report, write the JSON (and,
 * on request, the figures in help/cost.md). Also the short cost section of `npm run check`.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "fs";
import * as path from "path";
import { estimateStack, seedComparison, StackCost } from "./estimate";
import { docFigures, jsonReport, renderReport, replaceDocFigures, totalText } from "./report";
import { DEFAULT_USAGE, measuredHitRatio, UsageProfile } from "./usage";
import { SynthesizedStack } from "./workload";

/** Options of {@link runCost}. */
export interface CostRunOptions {
  /** Package root (reports and the doc page are relative to it). */
  readonly root: string;
  /** The synthesized output folder (`cdktf.out`). */
  readonly outdir: string;
  /** Stack names; all when empty. */
  readonly stacks: readonly string[];
  readonly usage: UsageProfile;
  /** Price every stack in this region instead of its provider's. */
  readonly region?: string;
  /** Where the JSON report goes. */
  readonly out: string;
  /** Print the JSON report instead of the table. */
  readonly json: boolean;
  /** Rewrite the generated figures in help/cost.md. */
  readonly writeDoc: boolean;
  /** Output lines (default stdout). */
  readonly log?: (line: string) => void;
}

/** What a run produced. */
export interface CostRunResult {
  readonly costs: readonly StackCost[];
  /** 0 every billable resource priced; 1 something was not (the totals are lower bounds). */
  readonly exitCode: number;
  readonly report: Record<string, unknown>;
}

/** The synthesized JSON of `stack` under `outdir`. */
export function readStack(outdir: string, stack: string): SynthesizedStack {
  const file = path.join(outdir, "stacks", stack, "cdk.tf.json");
  if (!existsSync(file)) throw new Error(`${file} does not exist: no synthesized stack ${stack}`);
  return JSON.parse(readFileSync(file, "utf8")) as SynthesizedStack;
}

/** JSON with Infinity (open-ended price tiers) spelled out instead of null. */
export function toJson(value: unknown): string {
  return `${JSON.stringify(value, (_k, v) => (v === Infinity ? "Infinity" : v), 2)}\n`;
}

/** The benchmark results file the "measured" hit ratio comes from. */
export function benchResultsFile(root: string): string {
  return path.join(root, "tools", "bench", "results", "latest.json");
}

/** Prices `names` (already synthesized under `opts.outdir`) and reports. */
export function runCost(names: readonly string[], opts: CostRunOptions): CostRunResult {
  const log = opts.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  const rel = (p: string) => path.relative(opts.root, p).split(path.sep).join("/") || ".";
  const bench = benchResultsFile(opts.root);
  const measured = opts.usage.hitRatio === "measured" ? { ...measuredHitRatio(bench), source: `${rel(bench)} (scenarios.hitRatio.warm.hitRatio)` } : undefined;
  const costs = names.map((stack) => estimateStack(readStack(opts.outdir, stack), { stack, usage: opts.usage, region: opts.region, measured }));
  const seed = seedComparison(opts.region ?? costs[0]?.region ?? "us-east-1");
  const report = jsonReport({ costs, seed, usage: opts.usage, synthesizedFrom: rel(opts.outdir) });
  mkdirSync(path.dirname(opts.out), { recursive: true });
  writeFileSync(opts.out, toJson(report));
  if (opts.json) process.stdout.write(toJson(report));
  else {
    for (const l of renderReport(costs, seed)) log(l);
    log(`wrote ${rel(opts.out)}`);
  }
  if (opts.writeDoc) {
    const page = path.join(opts.root, "help", "cost.md");
    writeFileSync(page, replaceDocFigures(readFileSync(page, "utf8"), docFigures(costs, seed)));
    if (!opts.json) log(`updated the figures in ${rel(page)}`);
  }
  return { costs, report, exitCode: costs.every((c) => c.complete) ? 0 : 1 };
}

/** The cost part of `npm run check`'s report. */
export interface CheckCostSummary {
  readonly stacks: readonly { readonly stack: string; readonly monthlyUsd: number; readonly complete: boolean; readonly unknownTypes: readonly string[] }[];
  /** Set when the stacks could not be priced at all (e.g. a region missing from the table). */
  readonly error?: string;
}

/**
 * Prices already-parsed stacks under the default usage profile for `npm run check`: a figure
 * per stack and the unknown billable types. Never throws: a pricing error becomes `error`.
 */
export function checkCostSummary(stacks: readonly { readonly stack: string; readonly json: unknown }[]): { summary: CheckCostSummary; lines: string[] } {
  try {
    const costs = stacks.map((s) => estimateStack(s.json as SynthesizedStack, { stack: s.stack, usage: DEFAULT_USAGE }));
    const summary: CheckCostSummary = {
      stacks: costs.map((c) => ({ stack: c.stack, monthlyUsd: Math.round(c.totalUsd * 100) / 100, complete: c.complete, unknownTypes: [...new Set(c.unpriced.map((u) => u.type))] })),
    };
    const lines = [`cost (default usage profile, ${DEFAULT_USAGE.requestsPerSecond} rps capped by each stage's throttle; details: npm run cost):`];
    for (const c of costs) {
      const unknown = [...new Set(c.unpriced.map((u) => u.type))];
      lines.push(`  ${c.stack}: ${totalText(c)} a month${unknown.length ? `; unknown billable types: ${unknown.join(", ")}` : ""}`);
    }
    const unknownAll = [...new Set(summary.stacks.flatMap((s) => s.unknownTypes))];
    lines.push(`  unknown billable types: ${unknownAll.length ? unknownAll.join(", ") : "none"}`);
    return { summary, lines };
  } catch (e) {
    const error = (e as Error).message;
    return { summary: { stacks: [], error }, lines: [`cost: not computed: ${error}`] };
  }
}
