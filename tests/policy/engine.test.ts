/**
 * The engine around the rules: references, unknown values (never passed silently), plan
 * refinement, suppressions, document forms and messages.
 */
import {
  CACHEFRONT_RULES,
  checkSynthesizedStack,
  evaluateModel,
  formatFinding,
  PolicyRule,
  refineWithPlan,
  refineWithPlanJson,
  TerraformModel,
  UNKNOWN_AFTER_APPLY,
  validateSuppression,
} from "../../modules/policy";
import { parseDocument, parseHclValue } from "../../modules/policy/documents";
import { referencedAddresses, valueAt, wholeReference } from "../../modules/policy/model";
import { check, failing, golden, set, TODAY, undecided } from "./fixtures";

const R = "resource";

describe("references in synthesized JSON", () => {
  test("a whole reference names its resource and attribute; templates and functions are not whole references", () => {
    expect(wholeReference("${aws_iam_role.fn_role_6520858F.arn}")).toEqual({ address: "aws_iam_role.fn_role_6520858F", attribute: "arn" });
    expect(wholeReference("${aws_cloudwatch_log_group.cache_slow-log_group_C1EBE830.name}")).toEqual({
      address: "aws_cloudwatch_log_group.cache_slow-log_group_C1EBE830",
      attribute: "name",
    });
    expect(wholeReference("${data.aws_iam_policy_document.d.json}")).toEqual({ address: "data.aws_iam_policy_document.d", attribute: "json" });
    expect(wholeReference("${aws_subnet.a[0].id}")).toEqual({ address: "aws_subnet.a", attribute: "id" });
    expect(wholeReference("daxs://${aws_dax_cluster.d.cluster_address}:9111")).toBeUndefined();
    expect(wholeReference("${var.retention}")).toBeUndefined();
    expect(wholeReference("plain")).toBeUndefined();
  });

  test("every resource an expression mentions, without variables, locals or functions", () => {
    expect(referencedAddresses("daxs://${aws_dax_cluster.dax.cluster_address}:${aws_dax_cluster.dax.port}")).toEqual(["aws_dax_cluster.dax"]);
    expect(referencedAddresses('${replace("${uuid()}${uuid()}", "-", "")}')).toEqual([]);
    expect(referencedAddresses("${var.x}-${local.y}-${aws_s3_bucket.b.id}")).toEqual(["aws_s3_bucket.b"]);
  });

  test("valueAt steps into blocks written as objects or one-element lists", () => {
    expect(valueAt({ tracing_config: { mode: "Active" } }, "tracing_config.mode")).toBe("Active");
    expect(valueAt({ tracing_config: [{ mode: "Active" }] }, "tracing_config.mode")).toBe("Active");
    expect(valueAt({ ingress: [{ a: 1 }, { a: 2 }] }, "ingress.1.a")).toBe(2);
    expect(valueAt({ ingress: [{ a: 1 }, { a: 2 }] }, "ingress.a")).toBeUndefined();
  });

  test("a resource keeps its construct path from cdktf's metadata, else its address", () => {
    const model = TerraformModel.fromSynth(golden());
    expect(model.get("aws_lambda_function.fn")!.path).toBe("fixture-prod/fn/function");
    const doc = set(golden(), `${R}.aws_s3_bucket.raw`, { bucket: "b" });
    expect(TerraformModel.fromSynth(doc).get("aws_s3_bucket.raw")!.path).toBe("aws_s3_bucket.raw");
  });
});

describe("unknown values are reported, never passed", () => {
  test("a retention from a variable is unknown, not compliant", () => {
    const doc = set(golden(), `${R}.aws_cloudwatch_log_group.access.retention_in_days`, "${var.retention}");
    const report = check(doc);
    expect(failing(report)).toEqual([]);
    expect(undecided(report)).toEqual(["CF-LOGS-1"]);
    const f = report.findings.find((x) => x.status === "unknown")!;
    expect(f.attribute).toBe("retention_in_days");
    expect(f.message).toMatch(/known only after planning/);
    expect(report.summary.unknown).toBe(1);
  });

  test("a reference to a resource outside the stack is unknown (the DAX role's trust cannot be read)", () => {
    const doc = set(golden(), `${R}.aws_dax_cluster.dax.iam_role_arn`, "arn:aws:iam::123456789012:role/platform-dax");
    expect(undecided(check(doc))).toEqual(["CF-DAX-4"]);
  });

  test("environment values from variables are unknown for the secrets rule", () => {
    const doc = set(golden(), `${R}.aws_lambda_function.fn.environment.variables.UPSTREAM`, "${var.upstream}");
    const report = check(doc);
    expect(undecided(report)).toEqual(["CF-LAMBDA-5"]);
    expect(report.findings.find((f) => f.status === "unknown")!.attribute).toBe("environment.variables.UPSTREAM");
  });

  test("a rule that throws yields unknown, never pass", () => {
    const broken: PolicyRule = {
      ...CACHEFRONT_RULES[0],
      id: "CF-TEST-1",
      evaluate: () => {
        throw new Error("boom");
      },
    };
    const report = evaluateModel(TerraformModel.fromSynth(golden()), { profile: "prod", rules: [broken], today: TODAY });
    expect(report.findings.map((f) => [f.status, f.message])).toEqual([["unknown", "the rule failed: boom"]]);
  });
});

/** A minimal `terraform show -json` of two log groups; `c`'s retention is unknown after apply. */
function planJson(retention: { a: unknown; c: unknown }) {
  return {
    format_version: "1.2",
    planned_values: {
      root_module: {
        resources: [
          { address: "aws_cloudwatch_log_group.access", mode: "managed", type: "aws_cloudwatch_log_group", name: "access",
            values: { name: "/aws/apigateway/api/access", retention_in_days: retention.a } },
          { address: "aws_dax_cluster.dax", mode: "managed", type: "aws_dax_cluster", name: "dax", values: { cluster_name: "dax" } },
          { address: "aws_iam_role.dax", mode: "managed", type: "aws_iam_role", name: "dax",
            values: { name: "dax", assume_role_policy: golden().resource.aws_iam_role.dax.assume_role_policy } },
        ],
      },
    },
    resource_changes: [
      { address: "aws_cloudwatch_log_group.access", change: { actions: ["create"], after_unknown: { retention_in_days: retention.c } } },
      { address: "aws_dax_cluster.dax", change: { actions: ["create"], after_unknown: { iam_role_arn: true, arn: true } } },
    ],
    configuration: {
      root_module: {
        resources: [
          { address: "aws_dax_cluster.dax", expressions: { iam_role_arn: { references: ["aws_iam_role.dax.arn", "aws_iam_role.dax"] } } },
        ],
      },
    },
  };
}

describe("plan refinement", () => {
  const synth = set(golden(), `${R}.aws_cloudwatch_log_group.access.retention_in_days`, "${var.retention}");

  test("GIVEN a value unknown at synth WHEN the plan knows it THEN the plan's outcome replaces unknown (fail)", () => {
    const refined = refineWithPlanJson(check(synth), synth, planJson({ a: 0, c: false }), { today: TODAY });
    const f = refined.findings.filter((x) => x.ruleId === "CF-LOGS-1" && x.address === "aws_cloudwatch_log_group.access");
    expect(f.map((x) => [x.status, x.source, x.path])).toEqual([["fail", "plan", "fixture-prod/api/access-logs"]]);
    expect(refined.summary).toMatchObject({ errors: 1, unknown: 0 });
  });

  test("GIVEN the plan knows a compliant value THEN it passes, marked as decided by the plan", () => {
    const refined = refineWithPlanJson(check(synth), synth, planJson({ a: 30, c: false }), { today: TODAY });
    const f = refined.findings.filter((x) => x.ruleId === "CF-LOGS-1" && x.address === "aws_cloudwatch_log_group.access");
    expect(f.map((x) => [x.status, x.source])).toEqual([["pass", "plan"]]);
    expect(failing(refined)).toEqual([]);
    expect(undecided(refined)).toEqual([]);
  });

  test("GIVEN the value is unknown even after the plan THEN it stays unknown", () => {
    const refined = refineWithPlanJson(check(synth), synth, planJson({ a: undefined, c: true }), { today: TODAY });
    expect(undecided(refined)).toEqual(["CF-LOGS-1"]);
  });

  test("findings decided at synth are left alone", () => {
    const before = check(synth);
    const refined = refineWithPlanJson(before, synth, planJson({ a: 30, c: false }), { today: TODAY });
    expect(refined.findings.filter((f) => f.source === "synth").length).toBe(before.findings.length - 1);
  });

  test("a plan model follows references from the plan's configuration when values are unknown after apply", () => {
    const plan = TerraformModel.fromPlan(planJson({ a: 30, c: false }), { stackName: "s" });
    const dax = plan.get("aws_dax_cluster.dax")!;
    expect(dax.values.iam_role_arn).toBe(UNKNOWN_AFTER_APPLY);
    const p = plan.follow(dax, "iam_role_arn");
    expect(p.kind === "resource" && p.resource.address).toBe("aws_iam_role.dax");
    const report = evaluateModel(plan, { profile: "prod", rules: CACHEFRONT_RULES.filter((r) => r.id === "CF-DAX-4"), today: TODAY });
    expect(report.findings.map((f) => f.status)).toEqual(["pass"]);
  });

  test("refineWithPlan keeps suppressions: a suppressed unknown that the plan decides stays suppressed", () => {
    const suppressed = check(synth, "prod", { suppressions: [{ ruleId: "CF-LOGS-1", reason: "retention comes from the platform team's variable", path: "fixture-prod/api" }] });
    expect(suppressed.summary.suppressed).toBe(1);
    const plan = TerraformModel.fromPlan(planJson({ a: 0, c: false }), { stackName: "fixture-prod", paths: new Map([["aws_cloudwatch_log_group.access", "fixture-prod/api/access-logs"]]) });
    const refined = refineWithPlan(suppressed, plan, { profile: "prod", today: TODAY });
    const f = refined.findings.find((x) => x.ruleId === "CF-LOGS-1" && x.address === "aws_cloudwatch_log_group.access")!;
    expect([f.status, f.suppressedStatus, f.source]).toEqual(["suppressed", "fail", "plan"]);
  });
});

describe("suppressions", () => {
  // A secret that does not rotate, and no password user depending on it (so only CF-SM-2 is at stake).
  const noRotation = () => set(set(golden(), `${R}.aws_secretsmanager_secret_rotation`, undefined), `${R}.aws_elasticache_user.svc.authentication_mode`, { type: "iam" });
  const reason = "rotation needs a Lambda rotator that does not exist yet";

  test("a construct-path suppression covers the resources below it and is listed with its reason", () => {
    const report = check(noRotation(), "prod", { suppressions: [{ ruleId: "CF-SM-2", reason, path: "fixture-prod/cache" }] });
    expect(failing(report)).toEqual([]);
    const f = report.findings.find((x) => x.status === "suppressed")!;
    expect(f).toMatchObject({ ruleId: "CF-SM-2", suppressedStatus: "fail", severity: "error", suppression: { reason, scope: "fixture-prod/cache" } });
    expect(report.suppressions).toEqual([expect.objectContaining({ ruleId: "CF-SM-2", path: "fixture-prod/cache", matched: 1 })]);
  });

  test("a suppression elsewhere in the tree does not cover the resource", () => {
    const report = check(noRotation(), "prod", { suppressions: [{ ruleId: "CF-SM-2", reason, path: "fixture-prod/ca" }] });
    expect(failing(report)).toEqual(["CF-SM-2"]);
    expect(report.suppressions[0].matched).toBe(0);
  });

  test("a per-resource suppression (by address) covers that resource only", () => {
    const doc = noRotation();
    set(doc, `${R}.aws_secretsmanager_secret.other`, { name_prefix: "other-", kms_key_id: "${aws_kms_key.key.arn}" });
    const report = check(doc, "prod", { suppressions: [{ ruleId: "CF-SM-2", reason, address: "aws_secretsmanager_secret.auth" }] });
    expect(report.findings.filter((f) => f.ruleId === "CF-SM-2").map((f) => [f.address, f.status])).toEqual([
      ["aws_secretsmanager_secret.auth", "suppressed"],
      ["aws_secretsmanager_secret.other", "fail"],
    ]);
  });

  test("a suppression of another rule does not hide this one", () => {
    const report = check(noRotation(), "prod", { suppressions: [{ ruleId: "CF-SM-1", reason, path: "" }] });
    expect(failing(report)).toEqual(["CF-SM-2"]);
  });

  test("suppressions recorded in the stack's metadata are applied by the JSON checker", () => {
    const doc = noRotation();
    doc["//"].cachefront_policy = { pack: "cachefront", profile: "prod", suppressions: [{ ruleId: "CF-SM-2", reason, path: "fixture-prod/cache/auth-secret" }] };
    expect(failing(check(doc))).toEqual([]);
  });

  test("a suppression needs a known rule id and a reason of at least 10 characters", () => {
    expect(() => validateSuppression({ ruleId: "CF-SM-2", reason: "because" })).toThrow(/reason "because" is too short/);
    expect(() => validateSuppression({ ruleId: "CF-SM-2", reason: "   " })).toThrow(/too short/);
    expect(() => validateSuppression({ ruleId: "CF-NOPE-1", reason })).toThrow(/ruleId "CF-NOPE-1" is not a rule of the pack/);
    expect(() => validateSuppression({ ruleId: "CF-SM-2", reason })).not.toThrow();
  });
});

describe("policy documents", () => {
  test("cdktf's jsonencode HCL is read, references kept as expressions", () => {
    const v = parseHclValue('{"Version" = "2012-10-17", "Statement" = [{"Effect" = "Allow", "Action" = ["dynamodb:GetItem"], ' +
      '"Resource" = [aws_dynamodb_table.t.arn, "${aws_dynamodb_table.t.arn}/index/*"], "Condition" = {"Bool" = {"aws:SecureTransport" = true}}}]}');
    expect(v).toEqual({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: ["dynamodb:GetItem"], Resource: ["${aws_dynamodb_table.t.arn}", "${aws_dynamodb_table.t.arn}/index/*"],
        Condition: { Bool: { "aws:SecureTransport": true } } }],
    });
  });

  test("function calls inside jsonencode are kept whole", () => {
    expect(parseHclValue('{"Resource" = [format("arn:aws:s3:::%s/*", var.bucket)], "n" = 3}')).toEqual({
      Resource: ['${format("arn:aws:s3:::%s/*", var.bucket)}'],
      n: 3,
    });
  });

  test("unreadable documents say why", () => {
    expect(parseDocument("${var.policy}")).toMatchObject({ ok: false, reason: "expression ${var.policy}" });
    expect(parseDocument("{not json")).toMatchObject({ ok: false, reason: "not valid JSON" });
    expect(parseDocument('${jsonencode({"Statement" = [)}')).toMatchObject({ ok: false });
  });

  test("a policy given as an expression is unknown to the IAM rules", () => {
    const doc = set(golden(), `${R}.aws_iam_role_policy.fn_table.policy`, "${var.extra_policy}");
    expect(undecided(check(doc))).toEqual(["CF-IAM-1", "CF-IAM-2", "CF-IAM-5", "CF-IAM-6"]);
  });
});

describe("messages", () => {
  test("an error names the rule, the construct path, the resource, the attribute and the fix", () => {
    const report = check(set(golden(), `${R}.aws_lambda_function.fn.tracing_config.mode`, "PassThrough"));
    const f = report.findings.find((x) => x.status === "fail")!;
    const line = formatFinding(f);
    expect(line).toContain("CF-LAMBDA-1");
    expect(line).toContain("fixture-prod/fn/function");
    expect(line).toContain("[aws_lambda_function.fn]");
    expect(line).toContain("tracing_config.mode");
    expect(line).toContain('Fix: Set tracing_config { mode = "Active" }');
  });

  test("every rule has an id, a title, a rationale, a one-sentence remediation and resource types", () => {
    const ids = CACHEFRONT_RULES.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const r of CACHEFRONT_RULES) {
      expect(r.id).toMatch(/^CF-[A-Z][A-Z0-9]*-\d+$/);
      expect(r.title.length).toBeGreaterThan(10);
      expect(r.rationale.length).toBeGreaterThan(40);
      expect(r.remediation).toMatch(/\.$/);
      expect(r.resourceTypes.length).toBeGreaterThan(0);
      expect(["error", "warning"]).toContain(r.severity);
    }
  });
});

describe("references across stacks (cdktf cross-stack references)", () => {
  const input = "cross-stack-reference-input-network-dev";
  const out = (n: number) => `cross-stack-output-aws_subnetnetwork_private-${n}_ABCDid`;
  /** A network stack whose two private subnets are in `azs`. */
  const network = (azs: string[]) => ({
    resource: { aws_subnet: Object.fromEntries(azs.map((az, i) => [`private-${i}`, { availability_zone: az, vpc_id: "vpc-1" }])) },
    output: Object.fromEntries(azs.map((_, i) => [out(i), { value: `\${aws_subnet.private-${i}.id}` }])),
  });
  const service = {
    data: { terraform_remote_state: { [input]: { backend: "local", config: { path: "../../../terraform.network-dev.tfstate" } } } },
    resource: {
      aws_lambda_function: {
        fn: {
          function_name: "f", role: "r", runtime: "nodejs22.x",
          vpc_config: { subnet_ids: [0, 1].map((i) => `\${data.terraform_remote_state.${input}.outputs.${out(i)}}`), security_group_ids: ["sg-1"] },
          environment: { variables: { REDIS_HOST: "h" } },
        },
      },
    },
  };
  const lambda4 = (otherStacks?: Record<string, unknown>) =>
    checkSynthesizedStack(service, { stackName: "svc", profile: "prod", today: TODAY, otherStacks }).findings.find((f) => f.ruleId === "CF-LAMBDA-4")!;

  test("without the other stack a subnet read from its outputs is unknown; with it, the subnet's AZ is read there", () => {
    expect(lambda4().status).toBe("unknown");
    expect(lambda4({ "network-dev": network(["us-east-1a", "us-east-1b"]) }).status).toBe("pass");
  });

  test("followed across stacks, a rule still fails: both subnets in one AZ", () => {
    const f = lambda4({ "network-dev": network(["us-east-1a", "us-east-1a"]) });
    expect(f.status).toBe("fail");
    expect(f.message).toMatch(/1 availability zone/);
  });

  test("an output the other stack does not have stays unknown", () => {
    expect(lambda4({ "network-dev": { resource: {}, output: {} } }).status).toBe("unknown");
  });
});
