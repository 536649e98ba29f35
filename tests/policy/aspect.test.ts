/**
 * The pack as a cdktf Aspect, end to end through real constructs: errors fail `app.synth()`
 * with the construct path, resource, attribute and fix; warnings are printed; suppressions
 * need a reason and show in the report; the default app passes.
 */
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Aspects, TerraformStack, Testing } from "cdktf";
import { spawnSync } from "child_process";
import { mkdtempSync, readFileSync, rmSync } from "fs";
import * as os from "os";
import * as path from "path";
import { PROFILE_CONTEXT_KEY } from "../../modules/core/profile";
import { DaxCluster } from "../../modules/dax";
import { Network } from "../../modules/network";
import { CacheTable } from "../../modules/table";
import {
  applyPolicy,
  checkSynthesizedStack,
  PolicyPack,
  POLICY_MODE_ENV,
  policyProfile,
  StackReport,
  suppressRule,
} from "../../modules/policy";
import { buildApp } from "../../stacks/app";
import { CacheStack } from "../../stacks/base";
import { EnvironmentStack } from "../../stacks/environment";
import { TODAY } from "./fixtures";

/** A team's stack: an open security group and a log group kept forever. */
function teamStack(name: string, build?: (stack: TerraformStack) => void) {
  const app = Testing.app();
  const stack = new TerraformStack(app, name);
  new AwsProvider(stack, "aws", { region: "us-east-1" });
  const sg = new SecurityGroup(stack, "web-sg", { vpcId: "vpc-0123456789abcdef0", description: "Public web tier" });
  new VpcSecurityGroupIngressRule(stack, "open-https", {
    securityGroupId: sg.id,
    cidrIpv4: "0.0.0.0/0",
    ipProtocol: "tcp",
    fromPort: 443,
    toPort: 443,
    description: "HTTPS from anywhere",
  });
  new CloudwatchLogGroup(stack, "audit-logs", { name: "/team/audit" });
  build?.(stack);
  return { app, stack };
}

const quiet = { onReport: () => undefined, today: TODAY };

/** What `run` writes to stdout and stderr. */
function captureOutput(run: () => void): { stdout: string; stderr: string } {
  const out: string[] = [];
  const err: string[] = [];
  const [write, writeErr] = [process.stdout.write, process.stderr.write];
  process.stdout.write = ((chunk: string) => out.push(String(chunk)) > 0) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => err.push(String(chunk)) > 0) as typeof process.stderr.write;
  try {
    run();
  } finally {
    process.stdout.write = write;
    process.stderr.write = writeErr;
  }
  return { stdout: out.join(""), stderr: err.join("") };
}

afterEach(() => {
  delete process.env[POLICY_MODE_ENV];
});

describe("errors fail synthesis", () => {
  test("GIVEN an ingress rule from 0.0.0.0/0 WHEN the app synthesizes THEN it throws naming path, resource, attribute and fix", () => {
    const { app, stack } = teamStack("team-dev");
    applyPolicy(stack, quiet);
    let message = "";
    try {
      app.synth();
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain("Validation failed");
    expect(message).toContain("CF-SG-1 (error)");
    expect(message).toContain("team-dev/open-https");
    expect(message).toContain("[aws_vpc_security_group_ingress_rule.open-https]");
    expect(message).toContain("cidr_ipv4: ingress from 0.0.0.0/0 (anywhere)");
    expect(message).toContain("Fix: Replace the CIDR with the peer's security group");
    // a warning-level finding in dev does not fail synthesis
    expect(message).not.toContain("CF-LOGS-1");
  });

  test("GIVEN a prod DAX cluster of one node WHEN the app synthesizes THEN the error names the attribute and the construct prop to change", () => {
    const app = Testing.app();
    const stack = new TerraformStack(app, "svc-prod");
    stack.node.setContext(PROFILE_CONTEXT_KEY, "prod");
    new AwsProvider(stack, "aws", { region: "us-east-1" });
    const network = new Network(stack, "network", { availabilityZones: ["us-east-1a", "us-east-1b", "us-east-1c"] });
    const table = new CacheTable(stack, "sessions", { partitionKey: { name: "PK", type: "S" } });
    new DaxCluster(stack, "dax", { network, tables: [table], replicationFactor: 1 });
    applyPolicy(stack, quiet);
    expect(() => app.synth()).toThrow(
      /CF-DAX-3 \(error\)[^\n]*svc-prod\/dax\/cluster [^\n]*replication_factor: replication_factor = 1[^\n]*Construct prop: DaxCluster\.replicationFactor\. Fix:/);
  });

  test("Testing.synth with validations fails the same way", () => {
    const { stack } = teamStack("team-dev");
    Aspects.of(stack).add(new PolicyPack(quiet));
    expect(() => Testing.synth(stack, true)).toThrow(/CF-SG-1/);
  });

  test("prod escalates: the log group without retention is an error in a prod stack", () => {
    const { app, stack } = teamStack("team-prod");
    applyPolicy(stack, quiet);
    expect(() => app.synth()).toThrow(/CF-LOGS-1 \(error\)[\s\S]*team-prod\/audit-logs/);
  });

  test("applyPolicy(app) covers every stack (cdktf 0.21 never invokes an Aspect added to the App itself)", () => {
    const build = () => {
      const app = Testing.app();
      for (const name of ["a-dev", "b-dev"]) {
        const s = new TerraformStack(app, name);
        new AwsProvider(s, "aws", { region: "us-east-1" });
        new CloudwatchLogGroup(s, "logs", { name: `/${name}`, retentionInDays: 0 });
      }
      return app;
    };
    const onApp = new PolicyPack(quiet);
    const first = build();
    Aspects.of(first).add(onApp);
    first.synth();
    expect(onApp.reports.size).toBe(0); // the limitation, pinned so an upgrade that lifts it is noticed

    const second = build();
    const pack = applyPolicy(second, quiet);
    second.synth();
    expect([...pack.reports.keys()].sort()).toEqual(["a-dev", "b-dev"]);
    expect([...pack.reports.values()].map((r) => r.summary.warnings)).toEqual([1, 1]);
    expect(() => applyPolicy(Testing.app())).toThrow(/holds no TerraformStack yet/);
  });
});

describe("warnings are printed; reports are available", () => {
  test("GIVEN only warnings THEN synthesis succeeds and the default reporter prints them with the summary", () => {
    const { app, stack } = teamStack("team-dev");
    // the only error of the stack, suppressed with a reason
    applyPolicy(stack, { today: TODAY, suppressions: [{ ruleId: "CF-SG-1", path: "open-https", reason: "public HTTPS endpoint behind the team's WAF" }] });
    const { stdout: out, stderr } = captureOutput(() => app.synth());
    // the cdktf CLI shows every stderr line as [ERROR]: nothing that passes may go there
    expect(stderr).toBe("");
    expect(out).toMatch(/policy team-dev \(dev\): 0 error\(s\), 1 warning\(s\), 0 unknown, 1 suppressed/);
    expect(out).toContain("CF-LOGS-1 (warning)");
    expect(out).toContain("team-dev/audit-logs");
    expect(out).toContain("suppressed CF-SG-1 team-dev/open-https [aws_vpc_security_group_ingress_rule.open-https]: public HTTPS endpoint behind the team's WAF");
  });

  test("onReport receives the stack's report", () => {
    const { app, stack } = teamStack("team-dev");
    const reports: StackReport[] = [];
    applyPolicy(stack, { today: TODAY, mode: "report", onReport: (r) => reports.push(r) });
    app.synth();
    expect(reports.map((r) => [r.stack, r.profile, r.summary.errors, r.summary.warnings])).toEqual([["team-dev", "dev", 1, 1]]);
  });
});

describe("suppressions", () => {
  const reason = "public HTTPS endpoint behind the team's WAF";

  test("suppressRule on a construct covers it, travels in the synthesized JSON, and is listed", () => {
    const { app, stack } = teamStack("team-dev");
    suppressRule(stack.node.findChild("open-https"), "CF-SG-1", reason);
    const pack = applyPolicy(stack, quiet);
    app.synth();
    const report = pack.reports.get("team-dev")!;
    expect(report.summary.errors).toBe(0);
    expect(report.suppressions).toEqual([expect.objectContaining({ ruleId: "CF-SG-1", path: "team-dev/open-https", reason, matched: 1 })]);
    // the JSON-only checker sees the same suppression through the recorded metadata
    const json = JSON.parse(readFileSync(path.join(app.outdir, "stacks", "team-dev", "cdk.tf.json"), "utf8"));
    expect(json["//"].cachefront_policy).toEqual({ pack: "cachefront", profile: "dev", suppressions: [{ ruleId: "CF-SG-1", reason, path: "team-dev/open-https" }] });
    expect(checkSynthesizedStack(json, { today: TODAY }).summary).toMatchObject({ errors: 0, suppressed: 1 });
  });

  test("a suppression without a real reason, or for an unknown rule, is refused at once", () => {
    const { stack } = teamStack("team-dev");
    expect(() => suppressRule(stack, "CF-SG-1", "ok")).toThrow(/too short/);
    expect(() => suppressRule(stack, "AwsSolutions-EC23", reason)).toThrow(/not a rule of the pack/);
    expect(() => applyPolicy(stack, { suppressions: [{ ruleId: "CF-SG-1", reason: "" }] })).toThrow(/suppressions\[0\][\s\S]*too short/);
  });

  test("a suppression that matches nothing is reported as stale", () => {
    const { app, stack } = teamStack("team-dev");
    const lines: string[] = [];
    applyPolicy(stack, { today: TODAY, mode: "report", suppressions: [{ ruleId: "CF-DAX-1", reason: "no DAX cluster here after all" }],
      onReport: (r) => r.suppressions.filter((u) => u.matched === 0).forEach((u) => lines.push(u.ruleId)) });
    app.synth();
    expect(lines).toEqual(["CF-DAX-1"]);
  });
});

describe("modes and profiles", () => {
  test(`${POLICY_MODE_ENV}=report prints but never fails; off evaluates nothing`, () => {
    process.env[POLICY_MODE_ENV] = "report";
    const reports: StackReport[] = [];
    const first = teamStack("team-prod");
    applyPolicy(first.stack, { today: TODAY, onReport: (r) => reports.push(r) });
    expect(() => first.app.synth()).not.toThrow();
    expect(reports[0].summary.errors).toBe(2);

    process.env[POLICY_MODE_ENV] = "off";
    const second = teamStack("team-prod");
    const pack = applyPolicy(second.stack, { today: TODAY, onReport: (r) => reports.push(r) });
    expect(() => second.app.synth()).not.toThrow();
    expect(pack.reports.size).toBe(0);
    expect(reports.length).toBe(1);
  });

  test("the profile comes from the stack's context first, then its name, then prod", () => {
    const app = Testing.app();
    const byName = new TerraformStack(app, "svc-dev");
    const byContext = new TerraformStack(app, "svc-dev-but-prod");
    byContext.node.setContext(PROFILE_CONTEXT_KEY, "prod");
    const unnamed = new TerraformStack(app, "svc");
    expect([policyProfile(byName), policyProfile(byContext), policyProfile(unnamed), policyProfile(byName, "prod")]).toEqual(["dev", "prod", "prod", "prod"]);
  });

  test("the synthesized JSON is the same as a fresh toTerraform(): the validation's result is only handed over once", () => {
    const { app, stack } = teamStack("team-dev");
    applyPolicy(stack, { ...quiet, mode: "report" });
    app.synth();
    expect(Object.prototype.hasOwnProperty.call(stack, "toTerraform")).toBe(false);
    const written = JSON.parse(readFileSync(path.join(app.outdir, "stacks", "team-dev", "cdk.tf.json"), "utf8"));
    expect(written).toEqual(JSON.parse(JSON.stringify(stack.toTerraform())));
  });
});

describe("what the cdktf CLI shows", () => {
  const REPO = path.resolve(__dirname, "..", "..");
  /** Runs compiled JS (dist/, built by `npx tsc -p tsconfig.json`) as the cdktf CLI runs an app. */
  const runApp = (args: string[]) => {
    const outdir = mkdtempSync(path.join(os.tmpdir(), "cachefront-app-"));
    try {
      return spawnSync(process.execPath, args, { cwd: REPO, env: { ...process.env, CDKTF_OUTDIR: outdir }, encoding: "utf8", timeout: 120_000 });
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  };

  test("GIVEN the default app WHEN it synthesizes THEN stderr is empty (the CLI prints each stderr line as [ERROR]) and the summaries are on stdout", () => {
    const res = runApp([path.join(REPO, "dist", "main.js")]);
    expect({ status: res.status, stderr: res.stderr }).toEqual({ status: 0, stderr: "" });
    expect(res.stdout).toMatch(/^policy product-catalog-dev \(dev\): 0 error\(s\)/m);
    expect(res.stdout).toContain("suppressed CF-APIGW-7");
    expect(res.stdout).not.toContain("CF-SM-2");
  });

  test("GIVEN an app whose stack fails the pack WHEN it synthesizes THEN the error is on stderr and the exit code is not 0", () => {
    const script = `
      const { App, TerraformStack } = require("cdktf");
      const { AwsProvider } = require("@cdktf/provider-aws/lib/provider");
      const { CloudwatchLogGroup } = require("@cdktf/provider-aws/lib/cloudwatch-log-group");
      const { applyPolicy } = require(${JSON.stringify(path.join(REPO, "dist", "modules", "policy"))});
      const app = new App();
      const stack = new TerraformStack(app, "team-prod");
      new AwsProvider(stack, "aws", { region: "us-east-1" });
      new CloudwatchLogGroup(stack, "audit-logs", { name: "/team/audit" });
      applyPolicy(stack);
      app.synth();`;
    const res = runApp(["-e", script]);
    expect(res.status).not.toBe(0);
    expect(res.stderr).toMatch(/CF-LOGS-1 \(error\)[\s\S]*team-prod\/audit-logs/);
    expect(res.stdout).toMatch(/^policy team-prod \(prod\): 1 error\(s\)/m);
  });
});

describe("the default app", () => {
  const app = buildApp(Testing.app());
  app.synth(); // cross-stack references resolved, as `cdktf synth` does
  const everyStack = app.node.children.filter((c): c is EnvironmentStack => c instanceof EnvironmentStack);
  const stacks = everyStack.filter((c): c is CacheStack => c instanceof CacheStack);
  const pack = new PolicyPack(quiet);
  const allReports = everyStack.map((s) => pack.evaluate(s));
  const reports = allReports.filter((r) => stacks.some((s) => s.node.id === r.stack));

  test("has the platform and service stacks, and every one passes with zero errors and nothing unknown", () => {
    expect(allReports.map((r) => r.stack).sort()).toEqual([
      "account-baseline-us-east-1", "delivery-pipeline", "network-dev", "network-prod",
      "product-catalog-dev", "product-catalog-prod", "session-store-dev", "session-store-prod",
    ]);
    for (const r of allReports) expect({ stack: r.stack, errors: r.summary.errors, unknown: r.summary.unknown }).toEqual({ stack: r.stack, errors: 0, unknown: 0 });
  });

  test("every suppression carries a reason and shows in the report: the catalog's public read and its edge in prod (functions reach the cache as their own IAM users: no shared token to exempt from rotation)", () => {
    for (const r of reports) {
      const suppressed = r.findings.filter((f) => f.status === "suppressed");
      const publicRead = r.stack.startsWith("product-catalog") ? [["CF-APIGW-7", `${r.stack}/api/method-GET-products-by-productId`]] : [];
      // The prod catalog's edge: no custom domain (the *.cloudfront.net certificate's TLS policy).
      const edge = r.stack === "product-catalog-prod" ? [["CF-CF-2", `${r.stack}/edge/distribution`]] : [];
      expect(suppressed.map((f) => [f.ruleId, f.path]).sort()).toEqual([...publicRead, ...edge]);
      expect(r.findings.filter((f) => f.ruleId === "CF-EC-10").map((f) => f.status)).toEqual(["pass"]);

      expect(suppressed.every((f) => f.suppression!.reason.length >= 10)).toBe(true);
      expect(r.suppressions.every((u) => u.reason.trim().length >= 10 && u.matched > 0)).toBe(true);
    }
  });

  test("every route but health and the catalog's read verifies its caller (an authorizer), not an API key or a suppression", () => {
    for (const r of reports) {
      const writes = r.findings.filter((f) => f.ruleId === "CF-APIGW-6");
      expect(writes.length).toBe(r.stack.startsWith("product-catalog") ? 2 : 1); // PUT + DELETE, or POST turns
      expect(writes.every((f) => f.status === "pass")).toBe(true);
      const callers = r.findings.filter((f) => f.ruleId === "CF-APIGW-7" && f.status === "pass");
      expect(callers.length).toBe(r.stack.startsWith("product-catalog") ? 2 : 3); // PUT + DELETE, or GET + POST sessions and GET presence
    }
    for (const s of stacks) {
      const json = JSON.parse(Testing.synth(s));
      expect(json.output.api_key).toBeUndefined(); // no route needs one
      const methods = Object.values(json.resource.aws_api_gateway_method as Record<string, { http_method: string; authorization: string }>);
      expect(methods.filter((m) => m.authorization === "CUSTOM").length).toBe(s.node.id.startsWith("product-catalog") ? 2 : 3);
    }
  });

  test("prod stacks run the prod-only rules; severities follow the profile", () => {
    const prod = reports.find((r) => r.stack === "session-store-prod")!;
    const dev = reports.find((r) => r.stack === "session-store-dev")!;
    expect(prod.ruleIds).toEqual(expect.arrayContaining(["CF-DAX-3", "CF-DDB-3"]));
    expect(dev.ruleIds).not.toContain("CF-DAX-3");
    expect(prod.findings.find((f) => f.ruleId === "CF-LOGS-1")!.severity).toBe("error");
    expect(dev.findings.find((f) => f.ruleId === "CF-LOGS-1")!.severity).toBe("warning");
  });
});
