/**
 * What `npm run check` does, as functions (main.ts is the command line around them):
 * synthesize every stack of an app, apply the policy pack to each `cdk.tf.json`, run
 * `terraform init/validate/plan` offline per stack with the test harness, decide from the plan
 * what synth left unknown, and write check-report.json and check-report.sarif.
 */
import { spawnSync } from "child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "fs";
import * as path from "path";
import {
  CACHEFRONT_RULES,
  checkDeployTogether,
  checkSynthesizedStack,
  DeployConflict,
  refineWithPlanJson,
  renderTable,
  StackFile,
  StackReport,
  toSarif,
  totals,
  PolicyRule,
  POLICY_MODE_ENV,
  formatFinding,
  severityIn,
  cellStatus,
} from "../../modules/policy";
import {
  disposeHarnessSession,
  expectOk,
  harnessSession,
  limiter,
  noMirrorHint,
  prepareStack,
  runTerraform,
  TerraformResult,
} from "../lib/terraform-harness";
import { CheckCostSummary, checkCostSummary } from "../cost/run";

/** Options of {@link runCheck}. */
export interface CheckRunOptions {
  /** Package root (cwd of the synth, base of relative paths in reports). */
  readonly root: string;
  /** The app to synthesize (compiled JS). */
  readonly app: string;
  /** Where the app synthesizes to. */
  readonly outdir: string;
  /** Where check-report.json and check-report.sarif are written. */
  readonly reportDir: string;
  /** Only these stacks (names); all when empty. */
  readonly stacks?: readonly string[];
  /** Run terraform init/validate/plan per stack. */
  readonly terraform: boolean;
  /** Stacks planned at once. */
  readonly concurrency: number;
  /** Unknown outcomes of error-level rules fail the check too. */
  readonly strict: boolean;
  /** Evaluation date `YYYY-MM-DD` (default today). */
  readonly today?: string;
  /** Skip synthesis and check what is already in `outdir`. */
  readonly skipSynth?: boolean;
  /** Output lines (default stdout). */
  readonly log?: (line: string) => void;
}

/** One terraform step of one stack. */
export interface StepResult {
  readonly command: string;
  readonly exitCode: number;
  readonly ms: number;
}

/** Terraform outcome of one stack. */
export interface TerraformOutcome {
  readonly ran: boolean;
  readonly ok: boolean;
  readonly steps: readonly StepResult[];
  /** First failure, with terraform's stderr. */
  readonly error?: string;
  /** Findings the plan decided (were unknown after synth). */
  readonly decidedByPlan: number;
}

/** Everything one stack produced. */
export interface StackCheck {
  readonly stack: string;
  /** The synthesized file, relative to the package root. */
  readonly file: string;
  readonly report: StackReport;
  readonly terraform: TerraformOutcome;
}

/** The result of a whole check. */
export interface CheckResult {
  readonly ok: boolean;
  /** 0 passed, 1 policy errors or terraform failures, 2 the app could not be synthesized. */
  readonly exitCode: number;
  readonly stacks: readonly StackCheck[];
  readonly synthMs: number;
  readonly totalMs: number;
  /** Set when synthesis failed. */
  readonly synthError?: string;
  readonly reportFiles: { readonly json: string; readonly sarif: string };
  /** Monthly cost per stack under the default usage profile, and unknown billable types (help/cost.md). */
  readonly cost?: CheckCostSummary;
  /** The cost section's console lines. */
  readonly costLines?: readonly string[];
  /** Singletons managed twice and unique names used twice across every stack of the app. */
  readonly deployConflicts?: readonly DeployConflict[];
}

/** Stack names of a synthesized output folder, from cdktf's manifest (else the `stacks/` folders). */
export function stacksOf(outdir: string): string[] {
  const manifest = path.join(outdir, "manifest.json");
  if (existsSync(manifest)) {
    const m = JSON.parse(readFileSync(manifest, "utf8")) as { stacks?: Record<string, unknown> };
    if (m.stacks) return Object.keys(m.stacks).sort();
  }
  const dir = path.join(outdir, "stacks");
  return existsSync(dir) ? readdirSync(dir).filter((n) => existsSync(path.join(dir, n, "cdk.tf.json"))).sort() : [];
}

/** Runs `node <app>` with CDKTF_OUTDIR; the pack only records metadata there (the check evaluates the files). */
export function synthesize(opts: Pick<CheckRunOptions, "root" | "app" | "outdir">): { ok: boolean; ms: number; output: string } {
  const start = Date.now();
  if (!existsSync(opts.app)) {
    return { ok: false, ms: 0, output: `${opts.app} does not exist; compile first (npm run check does: tsc -p tsconfig.json)` };
  }
  const res = spawnSync(process.execPath, [opts.app], {
    cwd: opts.root,
    env: { ...process.env, CDKTF_OUTDIR: opts.outdir, [POLICY_MODE_ENV]: "off" },
    encoding: "utf8",
    timeout: 300_000,
  });
  const output = `${res.stdout ?? ""}${res.stderr ?? ""}${res.error ? `\n${res.error.message}` : ""}`;
  return { ok: res.status === 0, ms: Date.now() - start, output };
}

/** True when the report has a finding that fails the check. */
export function failsCheck(report: StackReport, strict: boolean): boolean {
  return report.findings.some(
    (f) => (f.status === "fail" && f.severity === "error") || (strict && f.status === "unknown" && f.severity === "error"),
  );
}

async function planStack(
  stack: string,
  stackDir: string,
  report: StackReport,
  synthJson: unknown,
  init: ReturnType<typeof limiter>,
  today: string | undefined,
): Promise<{ report: StackReport; terraform: TerraformOutcome }> {
  const steps: StepResult[] = [];
  const step = async (run: () => Promise<TerraformResult>) => {
    const r = await run();
    steps.push({ command: r.args[0], exitCode: r.code, ms: r.ms });
    return expectOk(r, stack);
  };
  try {
    const { dir } = prepareStack(stackDir);
    const tf = (args: string[]) => () => runTerraform(args, dir);
    try {
      await step(() => init(tf(["init", "-input=false"])));
    } catch (e) {
      throw harnessSession().mirror ? e : new Error(`${(e as Error).message}\n${noMirrorHint()}`);
    }
    await step(tf(["validate"]));
    await step(tf(["plan", "-input=false", "-lock=false", "-refresh=false", "-out=tfplan"]));
    // `show -json` takes seconds per stack; it is only needed when synth left something undecided.
    const undecided = report.findings.filter((f) => f.status === "unknown" || f.suppressedStatus === "unknown").length;
    if (undecided === 0) return { report, terraform: { ran: true, ok: true, steps, decidedByPlan: 0 } };
    const shown = await step(tf(["show", "-json", "tfplan"]));
    const refined = refineWithPlanJson(report, synthJson, JSON.parse(shown.stdout), { today });
    const decided = refined.findings.filter((f) => f.source === "plan" && f.status !== "unknown").length;
    return { report: refined, terraform: { ran: true, ok: true, steps, decidedByPlan: decided } };
  } catch (e) {
    return { report, terraform: { ran: true, ok: false, steps, error: (e as Error).message, decidedByPlan: 0 } };
  }
}

/** Synthesizes, checks, plans, reports. Never throws for a failing stack: the result says so. */
export async function runCheck(opts: CheckRunOptions): Promise<CheckResult> {
  const log = opts.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  const start = Date.now();
  const rel = (p: string) => path.relative(opts.root, p).split(path.sep).join("/") || ".";
  const reportFiles = { json: path.join(opts.reportDir, "check-report.json"), sarif: path.join(opts.reportDir, "check-report.sarif") };

  let synthMs = 0;
  if (!opts.skipSynth) {
    log(`synth: node ${rel(opts.app)} -> ${rel(opts.outdir)}`);
    const s = synthesize(opts);
    synthMs = s.ms;
    if (!s.ok) {
      log(`synth FAILED after ${(s.ms / 1000).toFixed(1)} s:\n${s.output.trim()}`);
      const result: CheckResult = { ok: false, exitCode: 2, stacks: [], synthMs, totalMs: Date.now() - start, synthError: s.output, reportFiles };
      writeReports(result, opts, []);
      return result;
    }
  }
  const names = stacksOf(opts.outdir).filter((n) => !opts.stacks?.length || opts.stacks.includes(n));
  log(`policy: ${CACHEFRONT_RULES.length} rules on ${names.length} stack(s)${opts.terraform ? `; terraform init/validate/plan, ${opts.concurrency} at a time` : ""}`);

  const readStack = (stack: string) => {
    const stackDir = path.join(opts.outdir, "stacks", stack);
    const file = path.join(stackDir, "cdk.tf.json");
    const text = readFileSync(file, "utf8");
    return { stack, stackDir, file, text, json: JSON.parse(text) as unknown };
  };
  // Every stack of the app, checked or not: references across stacks are followed into them.
  const all = stacksOf(opts.outdir).map(readStack);
  const otherStacks = Object.fromEntries(all.map((s) => [s.stack, s.json]));
  const inputs = all
    .filter((s) => names.includes(s.stack))
    .map((s) => ({ ...s, report: checkSynthesizedStack(s.json, { stackName: s.stack, today: opts.today, otherStacks }) }));

  let checks: StackCheck[];
  if (opts.terraform && inputs.length > 0) {
    harnessSession();
    const stacksAtOnce = limiter(Math.max(1, opts.concurrency));
    const init = limiter(1); // the shared plugin cache is not safe for concurrent writers
    try {
      checks = await Promise.all(
        inputs.map((i) =>
          stacksAtOnce(async () => {
            const r = await planStack(i.stack, i.stackDir, i.report, i.json, init, opts.today);
            return { stack: i.stack, file: rel(i.file), report: r.report, terraform: r.terraform };
          }),
        ),
      );
    } finally {
      if (process.env.CACHEFRONT_TF_KEEP) log(`kept (CACHEFRONT_TF_KEEP): ${harnessSession().root}`);
      else disposeHarnessSession();
    }
  } else {
    checks = inputs.map((i) => ({ stack: i.stack, file: rel(i.file), report: i.report, terraform: { ran: false, ok: true, steps: [], decidedByPlan: 0 } }));
  }

  const policyFails = checks.some((c) => failsCheck(c.report, opts.strict));
  const tfFails = checks.some((c) => !c.terraform.ok);
  // Every stack of the app, as they will be deployed side by side into their accounts and regions.
  const deployConflicts = checkDeployTogether(all.map((s) => ({ name: s.stack, json: s.json })));
  const exitCode = names.length === 0 ? 2 : policyFails || tfFails || deployConflicts.length > 0 ? 1 : 0;
  // Informational: pricing never fails the check (npm run cost does the full report).
  const cost = checkCostSummary(inputs.map((i) => ({ stack: i.stack, json: i.json })));
  const result: CheckResult = {
    ok: exitCode === 0, exitCode, stacks: checks, synthMs, totalMs: Date.now() - start, reportFiles, cost: cost.summary, costLines: cost.lines, deployConflicts,
  };
  printResult(result, opts, log);
  writeReports(result, opts, inputs.map((i) => ({ stack: i.stack, uri: rel(i.file), text: i.text })));
  log(`reports: ${rel(reportFiles.json)}, ${rel(reportFiles.sarif)}`);
  log(`${result.ok ? "check passed" : "check FAILED"} in ${(result.totalMs / 1000).toFixed(1)} s (synth ${(synthMs / 1000).toFixed(1)} s)`);
  return result;
}

function printResult(result: CheckResult, opts: CheckRunOptions, log: (l: string) => void): void {
  const reports = result.stacks.map((c) => c.report);
  log("");
  for (const line of renderTable(reports, CACHEFRONT_RULES)) log(line);
  if (opts.terraform) {
    const cell = (c: StackCheck, cmd: string) => {
      const s = c.terraform.steps.find((x) => x.command === cmd);
      return s ? (s.exitCode === 0 ? `ok ${(s.ms / 1000).toFixed(1)}s` : "FAIL") : c.terraform.ok ? "-" : "skipped";
    };
    const widths = [Math.max(4, ...CACHEFRONT_RULES.map((r) => r.id.length)), ...reports.map((r) => r.stack.length)];
    for (const cmd of ["validate", "plan"]) {
      log([`tf ${cmd}`.padEnd(widths[0]), ...result.stacks.map((c, i) => cell(c, cmd).padEnd(widths[i + 1]))].join("  ").trimEnd());
    }
  }
  log("legend: FAIL error, warn warning, unknown undecidable even after the plan, suppressed (with a reason), pass, - not applicable");
  log("");
  for (const c of result.stacks) {
    const s = c.report.summary;
    log(`${c.stack} (${c.report.profile}): ${s.errors} error(s), ${s.warnings} warning(s), ${s.unknown} unknown, ${s.suppressed} suppressed, ${s.passed} passed` +
      (c.terraform.ran ? `; terraform ${c.terraform.ok ? "ok" : "FAILED"}${c.terraform.decidedByPlan ? `, ${c.terraform.decidedByPlan} decided by the plan` : ""}` : ""));
    for (const f of c.report.findings) {
      if (f.status === "pass") continue;
      if (f.status === "suppressed") log(`  suppressed ${f.ruleId} ${f.path} [${f.address}]: ${f.suppression?.reason}`);
      else log(`  ${formatFinding(f)}`);
    }
    for (const u of c.report.suppressions) if (u.matched === 0) log(`  stale suppression ${u.ruleId} on ${u.address ?? u.path}: matches nothing`);
    if (c.terraform.error) log(c.terraform.error.split("\n").map((l) => `  | ${l}`).join("\n"));
  }
  const t = totals(reports);
  log("");
  log(`total: ${t.errors} error(s), ${t.warnings} warning(s), ${t.unknown} unknown, ${t.suppressed} suppressed, ${t.passed} passed`);
  if (result.deployConflicts) {
    log("");
    log(result.deployConflicts.length === 0
      ? "deployed together: no account singleton managed twice, no unique name used twice"
      : `deployed together: ${result.deployConflicts.length} conflict(s)`);
    for (const c of result.deployConflicts) log(`  ${c.kind === "singleton" ? "singleton" : "name"}: ${c.message}`);
  }
  if (result.costLines) {
    log("");
    for (const l of result.costLines) log(l);
  }
}

/** The JSON report: per stack, the rule table, non-passing findings, suppressions and terraform steps. */
export function jsonReport(result: CheckResult, opts: Pick<CheckRunOptions, "root" | "app" | "outdir" | "strict" | "today">, rules: readonly PolicyRule[] = CACHEFRONT_RULES): Record<string, unknown> {
  const rel = (p: string) => path.relative(opts.root, p).split(path.sep).join("/") || ".";
  return {
    tool: "cachefront-check",
    ok: result.ok,
    exitCode: result.exitCode,
    app: rel(opts.app),
    outdir: rel(opts.outdir),
    strict: opts.strict,
    today: opts.today ?? new Date().toISOString().slice(0, 10),
    durationMs: { total: result.totalMs, synth: result.synthMs },
    ...(result.synthError ? { synthError: result.synthError } : {}),
    totals: totals(result.stacks.map((c) => c.report)),
    ...(result.cost ? { cost: result.cost } : {}),
    ...(result.deployConflicts ? { deployConflicts: result.deployConflicts } : {}),
    stacks: result.stacks.map((c) => ({
      stack: c.stack,
      profile: c.report.profile,
      file: c.file,
      summary: c.report.summary,
      rules: Object.fromEntries(rules.map((r) => [r.id, cellStatus(c.report, r.id)])),
      findings: c.report.findings.filter((f) => f.status !== "pass"),
      suppressions: c.report.suppressions,
      terraform: c.terraform,
    })),
    rules: rules.map((r) => ({
      id: r.id,
      title: r.title,
      severity: r.severity,
      prodSeverity: r.prodSeverity ?? r.severity,
      profiles: r.profiles ?? ["dev", "prod"],
      resourceTypes: r.resourceTypes,
      rationale: r.rationale,
      remediation: r.remediation,
      references: r.references,
      effectiveSeverity: { dev: severityIn(r, "dev"), prod: severityIn(r, "prod") },
    })),
  };
}

/** Writes check-report.json and check-report.sarif. */
export function writeReports(result: CheckResult, opts: CheckRunOptions, files: ReadonlyArray<StackFile & { stack: string }>): void {
  mkdirSync(opts.reportDir, { recursive: true });
  writeFileSync(result.reportFiles.json, `${JSON.stringify(jsonReport(result, opts), null, 2)}\n`);
  const byStack = new Map(files.map((f) => [f.stack, { uri: f.uri, text: f.text }] as const));
  const sarif = toSarif(result.stacks.map((c) => c.report), CACHEFRONT_RULES, byStack);
  writeFileSync(result.reportFiles.sarif, `${JSON.stringify(sarif, null, 2)}\n`);
}
