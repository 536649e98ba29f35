/**
 * `npm run check` (tools/check): argument parsing, the policy-only run over the default app,
 * a failing app, an app that cannot be synthesized, and one run with terraform where the plan
 * decides what synth could not. The apps run from dist/, so `npm test` compiles first.
 */
import { spawnSync } from "child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "fs";
import * as os from "os";
import * as path from "path";
import { parseArgs } from "../../tools/check/main";
import { CheckRunOptions, runCheck } from "../../tools/check/run";

const ROOT = path.resolve(__dirname, "../..");
const DIST = path.join(ROOT, "dist");

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "cachefront-check-test-"));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

function options(over: Partial<CheckRunOptions>): CheckRunOptions & { lines: string[] } {
  const lines: string[] = [];
  return {
    root: ROOT,
    app: path.join(DIST, "main.js"),
    outdir: path.join(tmp, "out"),
    reportDir: path.join(tmp, "reports"),
    terraform: false,
    concurrency: 2,
    strict: false,
    today: "2026-11-22",
    log: (l) => lines.push(l),
    lines,
    ...over,
  };
}

const readJson = (file: string) => JSON.parse(readFileSync(file, "utf8"));

describe("arguments", () => {
  test("defaults: the default app into cdktf.out, reports in the working directory, terraform on, 2 at a time", () => {
    const o = parseArgs([], ROOT);
    expect(o).toMatchObject({ app: path.join(ROOT, "dist/main.js"), outdir: path.join(ROOT, "cdktf.out"), reportDir: process.cwd(), terraform: true, concurrency: 2, strict: false });
  });

  test("flags", () => {
    const o = parseArgs(["--no-terraform", "--strict", "--stacks", "a-dev,b-prod", "--concurrency", "1", "--today", "2027-01-01", "--report-dir", "r", "--outdir", "o", "--app", "x.js"], ROOT);
    expect(o).toMatchObject({ terraform: false, strict: true, stacks: ["a-dev", "b-prod"], concurrency: 1, today: "2027-01-01" });
    expect(o.reportDir).toBe(path.resolve("r"));
  });

  test("bad arguments name the problem and show the usage", () => {
    expect(() => parseArgs(["--bogus"], ROOT)).toThrow(/unknown argument "--bogus"[\s\S]*usage:/);
    expect(() => parseArgs(["--concurrency", "0"], ROOT)).toThrow(/positive integer/);
    expect(() => parseArgs(["--today", "tomorrow"], ROOT)).toThrow(/YYYY-MM-DD/);
    expect(() => parseArgs(["--app"], ROOT)).toThrow(/--app needs a value/);
  });
});

describe("policy-only run of the default app", () => {
  test("passes; prints the table; writes check-report.json and check-report.sarif", async () => {
    const o = options({});
    const result = await runCheck(o);
    expect(result.exitCode).toBe(0);
    const names = result.stacks.map((s) => s.stack);
    expect(names).toEqual([
      "account-baseline-us-east-1", "delivery-pipeline", "network-dev", "network-prod", "product-catalog-dev", "product-catalog-prod", "session-store-dev", "session-store-prod",
    ]);
    const services = names.filter((n) => /^(product-catalog|session-store)-/.test(n));
    const cells = (rule: string) => o.lines.find((l) => l.startsWith(`${rule} `))!.split(/\s+/).slice(1);
    const serviceCells = (value: string) => names.map((n) => (services.includes(n) ? value : "-"));

    const table = o.lines.find((l) => l.startsWith("rule "))!;
    expect(table.split(/\s+/).slice(1)).toEqual(names);
    // No secret at all (IAM auth to the cache), so CF-SM-2 has nothing to judge; among the services, the one suppression is the catalog's public read.
    expect(cells("CF-SM-2")).toEqual(names.map(() => "-"));
    expect(cells("CF-EC-10")).toEqual(serviceCells("pass"));
    expect(cells("CF-APIGW-6")).toEqual(serviceCells("pass"));
    // The catalog's public read is suppressed with the contract's reason; the session routes pass.
    expect(cells("CF-APIGW-7")).toEqual(names.map((n) => (n.startsWith("product-catalog") ? "suppressed" : n.startsWith("session-store") ? "pass" : "-")));
    // The pipeline's buckets, and the prod catalog's edge log bucket.
    expect(cells("CF-S3-1")).toEqual(names.map((n) => (n === "delivery-pipeline" || n === "product-catalog-prod" ? "pass" : "-")));
    expect(cells("CF-CF-3")).toEqual(names.map((n) => (n === "product-catalog-prod" ? "pass" : "-")));
    // 2 × CF-APIGW-7, the prod catalog's edge (CF-CF-2: no custom domain), and the pipeline's three deploy policies:
    // CF-IAM-5 on two statements each, CF-IAM-2 on the two that deploy data-plane services (the account stage's stacks
    // have none). No CF-SM-2 and no warning: no AUTH token secrets.
    expect(o.lines.some((l) => /^total: 0 error\(s\), 0 warning\(s\), 0 unknown, 11 suppressed/.test(l))).toBe(true);
    expect(o.lines).toContain("deployed together: no account singleton managed twice, no unique name used twice");

    const json = readJson(path.join(o.reportDir, "check-report.json"));
    expect(json).toMatchObject({ tool: "cachefront-check", ok: true, exitCode: 0, totals: { errors: 0, warnings: 0, unknown: 0, suppressed: 11 }, deployConflicts: [] });

    // The cost section: a monthly figure per stack, every billable type known (help/cost.md).
    expect(json.cost.stacks.map((s: any) => [s.stack, s.complete])).toEqual(names.map((n) => [n, true]));
    expect(json.cost.stacks.filter((s: any) => services.includes(s.stack)).every((s: any) => s.monthlyUsd > 0)).toBe(true);
    expect(o.lines).toContain("  unknown billable types: none");
    for (const s of json.stacks.filter((x: any) => services.includes(x.stack))) {
      expect(s.file).toBe(path.relative(ROOT, path.join(o.outdir, "stacks", s.stack, "cdk.tf.json")));
      if (!services.includes(s.stack)) continue;
      expect(s.rules["CF-SM-2"]).toBe("-");
      // the catalog's public read (CF-APIGW-7), + the prod catalog's edge without a custom domain (CF-CF-2)
      expect(s.suppressions.map((u: { ruleId: string }) => u.ruleId).sort())
        .toEqual(s.stack === "product-catalog-prod" ? ["CF-APIGW-7", "CF-CF-2"] : s.stack.startsWith("product-catalog") ? ["CF-APIGW-7"] : []);

      expect(s.suppressions.every((u: { reason: string }) => u.reason.length >= 10)).toBe(true);
    }
    const pipeline = json.stacks.find((x: any) => x.stack === "delivery-pipeline");
    expect(pipeline.suppressions.map((u: any) => [u.ruleId, u.path.replace(/^delivery-pipeline\/pipeline\//, ""), u.matched])).toEqual([
      ["CF-IAM-5", "deploy-account-role/policy-deploy", 2],
      ["CF-IAM-2", "deploy-dev-role/policy-deploy", 1], ["CF-IAM-5", "deploy-dev-role/policy-deploy", 2],
      ["CF-IAM-2", "deploy-prod-role/policy-deploy", 1], ["CF-IAM-5", "deploy-prod-role/policy-deploy", 2],
    ]);
    expect(json.rules.length).toBeGreaterThanOrEqual(40);

    const sarif = readJson(path.join(o.reportDir, "check-report.sarif"));
    expect(sarif.version).toBe("2.1.0");
    const results = sarif.runs[0].results;
    // The catalog's public read (dev and prod), the prod edge and the pipeline's deploy policies, suppressed; no warning.
    expect(results.filter((r: any) => r.suppressions).length).toBe(11);
    expect(results.filter((r: any) => !r.suppressions)).toEqual([]);
    for (const r of results.filter((x: any) => x.ruleId === "CF-APIGW-7")) {

      const uri = r.locations[0].physicalLocation.artifactLocation.uri;
      const lines = readFileSync(path.join(ROOT, uri), "utf8").split("\n");
      expect(lines[r.locations[0].physicalLocation.region.startLine - 1].trim()).toMatch(/^"api_method-GET-products-by-productId_[0-9A-F]+": \{$/);
    }
  }, 60_000);
});

describe("failing and broken apps", () => {
  test("GIVEN an error in one stack THEN exit code 1, the stack fails, the other only warns", async () => {
    const o = options({ app: path.join(DIST, "tests/policy/apps/failing-app.js") });
    const result = await runCheck(o);
    expect(result.exitCode).toBe(1);
    const byStack = Object.fromEntries(result.stacks.map((s) => [s.stack, s.report.summary]));
    expect(byStack["team-prod"]).toMatchObject({ errors: 1 });
    expect(byStack["team-dev"]).toMatchObject({ errors: 0, warnings: 1 });
    expect(o.lines.find((l) => l.startsWith("CF-LAMBDA-7 "))!.split(/\s+/).slice(1)).toEqual(["-", "FAIL"]);
    expect(o.lines.some((l) => l.includes("team-prod/anyone [aws_lambda_permission.anyone] principal:"))).toBe(true);
    const json = readJson(path.join(o.reportDir, "check-report.json"));
    expect(json).toMatchObject({ ok: false, exitCode: 1, totals: { errors: 1, warnings: 1 } });
    const sarif = readJson(path.join(o.reportDir, "check-report.sarif"));
    expect(sarif.runs[0].results.map((r: any) => [r.ruleId, r.level]).sort()).toEqual([["CF-LAMBDA-7", "error"], ["CF-LOGS-1", "warning"]]);
  }, 60_000);

  test("GIVEN stacks that pass one by one but collide when deployed together THEN exit code 1, each conflict named", async () => {
    const o = options({ app: path.join(DIST, "tests/policy/apps/twice-app.js") });
    const result = await runCheck(o);
    expect(result.stacks.every((s) => s.report.summary.errors === 0)).toBe(true);
    expect(result.exitCode).toBe(1);
    expect(result.deployConflicts!.map((c) => [c.kind, c.type])).toEqual([["name", "aws_dynamodb_table"], ["singleton", "aws_api_gateway_account"]]);
    expect(o.lines).toContain("deployed together: 2 conflict(s)");
    expect(o.lines.some((l) => l.startsWith("  singleton: aws_api_gateway_account") && l.includes("team-a-dev/account/apigateway"))).toBe(true);
    expect(readJson(path.join(o.reportDir, "check-report.json"))).toMatchObject({ ok: false, exitCode: 1, deployConflicts: [{ key: "account (unpinned account), us-east-1: orders" }, {}] });
  }, 60_000);

  test("--strict: unknown outcomes of error-level rules fail; --stacks limits the check", async () => {
    const o = options({ app: path.join(DIST, "tests/policy/apps/plan-app.js"), strict: true });
    expect((await runCheck(o)).exitCode).toBe(1);
    const loose = options({ app: path.join(DIST, "tests/policy/apps/plan-app.js"), outdir: path.join(tmp, "out2") });
    const r = await runCheck(loose);
    expect(r.exitCode).toBe(0);
    expect(r.stacks[0].report.summary).toMatchObject({ errors: 0, unknown: 2, suppressed: 1 });
    const only = options({ stacks: ["session-store-dev"], outdir: path.join(tmp, "out3") });
    expect((await runCheck(only)).stacks.map((s) => s.stack)).toEqual(["session-store-dev"]);
  }, 90_000);

  test("GIVEN an app that does not synthesize THEN exit code 2 and a report saying why", async () => {
    const o = options({ app: path.join(tmp, "missing.js") });
    const result = await runCheck(o);
    expect(result.exitCode).toBe(2);
    expect(o.lines.join("\n")).toMatch(/synth FAILED[\s\S]*does not exist/);
    expect(readJson(path.join(o.reportDir, "check-report.json"))).toMatchObject({ ok: false, exitCode: 2, stacks: [] });
  });

  test("the command line exits with the check's code", () => {
    const run = spawnSync(process.execPath, [path.join(DIST, "tools/check/main.js"), "--no-terraform", "--app", path.join(DIST, "tests/policy/apps/failing-app.js"),
      "--outdir", path.join(tmp, "cli-out"), "--report-dir", path.join(tmp, "cli-reports")], { cwd: ROOT, encoding: "utf8" });
    expect(run.status).toBe(1);
    expect(run.stdout).toContain("check FAILED");
    expect(existsSync(path.join(tmp, "cli-reports", "check-report.sarif"))).toBe(true);
    const bad = spawnSync(process.execPath, [path.join(DIST, "tools/check/main.js"), "--nope"], { cwd: ROOT, encoding: "utf8" });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("usage:");
  }, 60_000);
});

describe("with terraform (offline init, validate, plan, show)", () => {
  test("GIVEN retentions from variables THEN the plan decides them: 0 fails in prod, 14 passes, the suppressed one stays suppressed", async () => {
    const o = options({ app: path.join(DIST, "tests/policy/apps/plan-app.js"), terraform: true, concurrency: 1 });
    const result = await runCheck(o);
    const stack = result.stacks[0];
    if (!stack.terraform.ok) throw new Error(stack.terraform.error);
    expect(stack.terraform.steps.map((s) => [s.command, s.exitCode])).toEqual([["init", 0], ["validate", 0], ["plan", 0], ["show", 0]]);
    expect(result.exitCode).toBe(1);
    const logs = stack.report.findings.filter((f) => f.ruleId === "CF-LOGS-1");
    expect(logs.map((f) => [f.path, f.status, f.source]).sort()).toEqual([
      ["plan-demo-prod/audit", "fail", "plan"],
      ["plan-demo-prod/debug", "pass", "plan"],
      ["plan-demo-prod/legacy", "suppressed", "plan"],
    ]);
    expect(stack.terraform.decidedByPlan).toBe(3);
    expect(o.lines.find((l) => l.startsWith("tf plan"))).toMatch(/ok \d/);
    const json = readJson(path.join(o.reportDir, "check-report.json"));
    expect(json.stacks[0].findings.find((f: any) => f.ruleId === "CF-LOGS-1" && f.status === "fail")).toMatchObject({ source: "plan", path: "plan-demo-prod/audit" });
  }, 240_000);
});
