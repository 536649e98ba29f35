/** The table, SARIF 2.1.0 and the generated rule table of help/policy.md. */
import { readFileSync } from "fs";
import * as path from "path";
import {
  CACHEFRONT_RULES,
  cellStatus,
  lineOfResource,
  renderRulesMarkdown,
  renderTable,
  toSarif,
} from "../../modules/policy";
import { BEGIN_MARKER, END_MARKER, POLICY_PAGE, withRuleTable } from "../../tools/check/policy-doc";
import { check, golden, set } from "./fixtures";

const R = "resource";
const ROOT = path.resolve(__dirname, "../..");

/** Three stacks: clean, one with a failure and a warning, one with a suppression and an unknown. */
function reports() {
  const clean = check(golden());
  const broken = golden();
  broken["//"].metadata.stackName = "broken-prod";
  set(broken, `${R}.aws_dax_cluster.dax.cluster_endpoint_encryption_type`, "NONE");
  set(broken, `${R}.aws_lambda_function.fn.tracing_config`, undefined);
  const mixed = golden();
  mixed["//"].metadata.stackName = "mixed-dev";
  set(mixed, `${R}.aws_secretsmanager_secret_rotation`, undefined);
  set(mixed, `${R}.aws_cloudwatch_log_group.flow.retention_in_days`, "${var.days}");
  return [
    clean,
    check(broken),
    check(mixed, "dev", { suppressions: [{ ruleId: "CF-SM-2", reason: "rotation needs a rotator Lambda first", path: "fixture-prod/cache" }] }),
  ];
}

describe("the stack × rule table", () => {
  const rs = reports();

  test("has a row per rule and a column per stack, with the worst status of each cell", () => {
    const lines = renderTable(rs, CACHEFRONT_RULES);
    expect(lines[0].split(/\s+/)).toEqual(["rule", "fixture-prod", "broken-prod", "mixed-dev"]);
    expect(lines.length).toBe(2 + CACHEFRONT_RULES.length);
    const row = (id: string) => lines.find((l) => l.startsWith(`${id} `))!.split(/\s+/).slice(1);
    expect(row("CF-DAX-2")).toEqual(["pass", "FAIL", "pass"]);
    expect(row("CF-LAMBDA-1")).toEqual(["pass", "warn", "pass"]);
    expect(row("CF-SM-2")).toEqual(["pass", "pass", "suppressed"]);
    expect(row("CF-LOGS-1")).toEqual(["pass", "pass", "unknown"]);
    expect(row("CF-DAX-3")).toEqual(["pass", "pass", "-"]); // prod only
    expect(cellStatus(rs[0], "CF-VPC-1")).toBe("pass");
  });
});

describe("SARIF 2.1.0", () => {
  const rs = reports();
  const text = JSON.stringify(golden(), null, 2);
  const sarif = toSarif(rs, CACHEFRONT_RULES, new Map([["broken-prod", { uri: "cdktf.out/stacks/broken-prod/cdk.tf.json", text }]])) as any;
  const run = sarif.runs[0];

  test("declares the version and schema, and every rule with help text and its level", () => {
    expect(sarif.version).toBe("2.1.0");
    expect(sarif.$schema).toMatch(/sarif-2\.1\.0/);
    expect(run.tool.driver.name).toBe("cachefront-policy");
    expect(run.tool.driver.rules.map((r: any) => r.id)).toEqual(CACHEFRONT_RULES.map((r) => r.id));
    for (const r of run.tool.driver.rules) {
      expect(r.shortDescription.text).toBeTruthy();
      expect(r.help.text).toContain("Fix:");
      expect(r.help.markdown).toContain("**Fix:**");
      expect(["error", "warning"]).toContain(r.defaultConfiguration.level);
    }
    const ec1 = run.tool.driver.rules.find((r: any) => r.id === "CF-EC-1");
    expect(ec1.properties).toMatchObject({ checkov: ["CKV_AWS_29"], securityHub: ["ElastiCache.4"], cdkNag: ["AwsSolutions-AEC3"] });
  });

  test("has one result per violation, located in the stack file at the resource's line", () => {
    const nonPass = rs.flatMap((r) => r.findings.filter((f) => f.status !== "pass"));
    expect(run.results.length).toBe(nonPass.length);
    const dax = run.results.find((x: any) => x.ruleId === "CF-DAX-2");
    expect(dax.level).toBe("error");
    expect(dax.kind).toBe("fail");
    expect(run.tool.driver.rules[dax.ruleIndex].id).toBe("CF-DAX-2");
    const loc = dax.locations[0];
    expect(loc.physicalLocation.artifactLocation.uri).toBe("cdktf.out/stacks/broken-prod/cdk.tf.json");
    const line = loc.physicalLocation.region.startLine;
    expect(text.split("\n")[line - 1].trim()).toBe('"dax": {');
    expect(text.split("\n").slice(0, line - 1).reverse().find((l) => /^ {4}"aws_/.test(l))!.trim()).toBe('"aws_dax_cluster": {');
    expect(loc.logicalLocations[0]).toEqual({ name: "aws_dax_cluster.dax", fullyQualifiedName: "fixture-prod/dax/cluster", kind: "resource" });
    expect(dax.message.text).toContain("Fix:");
    expect(dax.partialFingerprints["cachefrontFinding/v1"]).toMatch(/^[0-9a-f]{32}$/);
  });

  test("warnings are warnings; suppressions carry their reason; unknowns are results to review", () => {
    expect(run.results.find((x: any) => x.ruleId === "CF-LAMBDA-1").level).toBe("warning");
    const suppressed = run.results.find((x: any) => x.ruleId === "CF-SM-2");
    expect(suppressed.suppressions).toEqual([{ kind: "inSource", status: "accepted", justification: "rotation needs a rotator Lambda first" }]);
    const unknown = run.results.find((x: any) => x.ruleId === "CF-LOGS-1");
    expect([unknown.kind, unknown.level]).toEqual(["review", "none"]);
  });

  test("a result names the construct prop behind the attribute, in its text and its properties", () => {
    const [, broken] = reports();
    const sarif = toSarif([broken], CACHEFRONT_RULES) as any;
    const dax = sarif.runs[0].results.find((r: any) => r.ruleId === "CF-DAX-2");
    expect(dax.message.text).toContain("cluster_endpoint_encryption_type: ");
    expect(dax.message.text).toContain("No construct prop: set by DaxCluster.");
    expect(dax.properties.constructProp).toBe("No construct prop: set by DaxCluster");
    const rule = sarif.runs[0].tool.driver.rules.find((r: any) => r.id === "CF-EC-5");
    expect(rule.help.text).toContain("Constructs: `RedisCache.snapshotRetentionLimit`.");
  });

  test("lineOfResource finds data sources too, and falls back to line 1", () => {
    expect(text.split("\n")[lineOfResource(text, "aws_vpc", "peer", "data") - 1].trim()).toBe('"peer": {');
    expect(lineOfResource(text, "aws_nothing", "x")).toBe(1);
  });
});

describe(`${POLICY_PAGE}`, () => {
  const page = readFileSync(path.join(ROOT, POLICY_PAGE), "utf8");

  test("its rule table is the one generated from the rule definitions", () => {
    if (withRuleTable(page) !== page) {
      throw new Error(`${POLICY_PAGE} is out of date; run \`npx tsc -p tsconfig.json && node dist/tools/check/policy-doc.js\``);
    }
  });

  test("lists every rule with its id, severity, rationale and public equivalents", () => {
    const table = page.slice(page.indexOf(BEGIN_MARKER), page.indexOf(END_MARKER));
    for (const r of CACHEFRONT_RULES) {
      const row = table.split("\n").find((l) => l.startsWith(`| ${r.id} |`));
      expect(row).toBeDefined();
      expect(row).toContain(r.severity);
      expect(row).toContain(r.rationale.slice(0, 30).replace(/\|/g, "\\|"));
      for (const c of r.references.checkov ?? []) expect(row).toContain(c);
      for (const c of r.references.securityHub ?? []) expect(row).toContain(c);
      for (const c of r.references.cdkNag ?? []) expect(row).toContain(c);
    }
  });

  test("says for every rule what sets its attributes in the constructs", () => {
    const table = page.slice(page.indexOf(BEGIN_MARKER), page.indexOf(END_MARKER));
    const rows = CACHEFRONT_RULES.map((r) => table.split("\n").find((l) => l.startsWith(`| ${r.id} |`)) ?? r.id);
    expect(rows.filter((row) => !/ Constructs: (\w+: )?(`[A-Z]\w+\.[a-z]\w+`|no prop, )/.test(row))).toEqual([]);
    expect(rows.find((row) => row.startsWith("| CF-DAX-3 |"))).toContain("Constructs: `DaxCluster.replicationFactor`.");
  });

  test("the generator replaces only the marked block", () => {
    const fake = `# t\n\nintro\n\n${BEGIN_MARKER}\nold\n${END_MARKER}\n\noutro\n`;
    const out = withRuleTable(fake, "| new |\n");
    expect(out).toBe(`# t\n\nintro\n\n${BEGIN_MARKER}\n| new |\n${END_MARKER}\n\noutro\n`);
    expect(renderRulesMarkdown(CACHEFRONT_RULES).split("\n").filter((l) => l.startsWith("| CF-")).length).toBe(CACHEFRONT_RULES.length);
    expect(() => withRuleTable("no markers")).toThrow(/no .*rules:begin/);
  });
});
