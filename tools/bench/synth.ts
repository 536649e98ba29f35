/**
 * Scenario 1 — synth: whole-process wall time and peak RSS of synthesizing every stack the
 * project's way (`node dist/main.js`: compiled JavaScript, deep provider imports) against the
 * naive way (ts-node in transpile-only mode, the provider's root namespace import), alternating
 * in the same run.
 */
import { readdirSync, readFileSync, rmSync } from "fs";
import * as path from "path";
import type { BenchContext } from "./context";
import { pick } from "./context";
import { generateNaiveApp } from "./naive";
import { runTimed, TimedRun } from "./procs";
import { ratio, roundSummary, Summary, summarize } from "./stats";

export interface SynthResult {
  readonly runs: number;
  /** Warm-up runs of each way (--quick skips the naive way's, which alone takes 7–9 s). */
  readonly warmupRuns: { project: number; naive: number };
  readonly project: { command: string; wallMs: Summary; peakRssMB: Summary };
  readonly naive: { command: string; transpiler: string; importsRewritten: number; filesRewritten: number; wallMs: Summary; peakRssMB: Summary };
  /** project / naive, of the medians. */
  readonly wallRatio: number;
  readonly rssRatio: number;
  readonly rssSource: string;
  /** Both ways produced the same Terraform JSON for every stack (bundle hashes and the state path masked). */
  readonly identicalOutput: boolean;
  readonly stacks: string[];
}

/**
 * Each stack's Terraform JSON with what legitimately differs between the two copies masked: the
 * bundles' content hashes (their source maps name node_modules relative to the copy) and the
 * local-backend state path (absolute).
 */
function stackJsons(outDir: string, appDir: string): Map<string, string> {
  const dir = path.join(outDir, "stacks");
  const m = new Map<string, string>();
  for (const s of readdirSync(dir)) {
    const json = readFileSync(path.join(dir, s, "cdk.tf.json"), "utf8")
      .split(appDir).join("<app>")
      .replace(/[0-9a-f]{64}/g, "<sha256>")
      .replace(/("source_code_hash": )"[^"]*"/g, '$1"<sha256>"');
    m.set(s, json);
  }
  return m;
}

export async function runSynth(ctx: BenchContext): Promise<SynthResult & { outDir: string }> {
  const runs = pick(ctx, 7, 1);
  const warmupRuns = 1;
  const naiveWarmup = pick(ctx, true, false);
  const naive = generateNaiveApp(ctx.root);
  ctx.progress(`naive copy in ${naive.dir}: ${naive.importsRewritten} deep imports in ${naive.filesRewritten} files rewritten to the root namespace`);
  const projectOut = path.join(ctx.tmp, "synth-project");
  const naiveOut = path.join(naive.dir, "out");
  const env = (out: string): NodeJS.ProcessEnv => ({ ...process.env, CDKTF_OUTDIR: out, NODE_OPTIONS: "" });
  const tsNode = path.join(ctx.root, "node_modules", "ts-node", "dist", "bin.js");

  const project = () => runTimed(process.execPath, [path.join(ctx.root, "dist", "main.js")], { cwd: ctx.root, env: env(projectOut) });
  const naiveRun = () => runTimed(process.execPath, [tsNode, "--transpile-only", "--project", naive.tsconfig, naive.entry], { cwd: naive.dir, env: env(naiveOut) });
  const check = (what: string, r: TimedRun) => {
    if (r.code !== 0) throw new Error(`${what} synth failed (exit ${r.code}):\n${r.stderrTail}`);
    return r;
  };

  const p: TimedRun[] = [];
  const n: TimedRun[] = [];
  const total = warmupRuns + runs;
  for (let i = 0; i < total; i++) {
    const warm = i < warmupRuns;
    // Alternate which goes first, so drift (thermal, page cache, neighbours) hits both alike.
    const order = i % 2 === 0 ? (["project", "naive"] as const) : (["naive", "project"] as const);
    for (const which of order) {
      if (warm && which === "naive" && !naiveWarmup) continue;
      const r = which === "project" ? check("project", await project()) : check("naive", await naiveRun());
      ctx.progress(`${warm ? "warm-up" : `run ${i - warmupRuns + 1}/${runs}`} ${which}: ${(r.wallMs / 1000).toFixed(2)} s, peak RSS ${(r.peakRssBytes / 2 ** 20).toFixed(0)} MB`);
      if (!warm) (which === "project" ? p : n).push(r);
    }
  }
  const a = stackJsons(projectOut, ctx.root);
  const b = stackJsons(naiveOut, naive.dir);
  const identicalOutput = a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
  const mb = (rs: TimedRun[]) => roundSummary(summarize(rs.map((r) => r.peakRssBytes / 2 ** 20)), 1);
  const ms = (rs: TimedRun[]) => roundSummary(summarize(rs.map((r) => r.wallMs)), 1);
  const result = {
    runs,
    warmupRuns: { project: warmupRuns, naive: naiveWarmup ? warmupRuns : 0 },
    project: { command: "node dist/main.js", wallMs: ms(p), peakRssMB: mb(p) },
    naive: {
      command: "node node_modules/ts-node/dist/bin.js --transpile-only main.ts (copy with root provider imports)",
      transpiler: "ts-node --transpile-only (TypeScript transpileModule, no type check)",
      importsRewritten: naive.importsRewritten,
      filesRewritten: naive.filesRewritten,
      wallMs: ms(n),
      peakRssMB: mb(n),
    },
    wallRatio: ratio(summarize(p.map((r) => r.wallMs)).p50, summarize(n.map((r) => r.wallMs)).p50),
    rssRatio: ratio(summarize(p.map((r) => r.peakRssBytes)).p50, summarize(n.map((r) => r.peakRssBytes)).p50),
    rssSource: p[0]?.rssSource ?? "n/a",
    identicalOutput,
    stacks: [...a.keys()].sort(),
    outDir: projectOut,
  };
  rmSync(naive.dir, { recursive: true, force: true });
  return result;
}
