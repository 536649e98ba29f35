/**
 * Deploying every stack of an app into one account and region: no account singleton managed
 * twice, no physical name used twice. The default app passes; fixtures that break either fail,
 * naming the stacks and construct paths.
 */
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { App, TerraformStack, Testing } from "cdktf";
import { readFileSync } from "fs";
import * as path from "path";
import { AccountBaseline, CacheTable, PRODUCTS_TABLE } from "../../modules";
import { checkDeployTogether, SynthesizedStack } from "../../modules/policy";
import { PROFILE_CONTEXT_KEY } from "../../modules/core/profile";
import { buildApp } from "../../stacks";

/** Every stack of `app`, synthesized as `cdktf synth` writes it (construct paths in the metadata). */
function synthesized(app: App): SynthesizedStack[] {
  app.synth();
  return app.node.children
    .filter((c): c is TerraformStack => TerraformStack.isStack(c))
    .map((s) => ({ name: s.node.id, json: JSON.parse(readFileSync(path.join(app.outdir, "stacks", s.node.id, "cdk.tf.json"), "utf8")) }));
}

/** An app of stacks named by `ids`, each with a provider in `region` (and `account`, when given), built by `build`. */
function fixtureApp(stacks: ReadonlyArray<{ id: string; region?: string; account?: string; build: (s: TerraformStack) => void }>): App {
  const app = Testing.app();
  for (const { id, region = "us-east-1", account, build } of stacks) {
    const s = new TerraformStack(app, id);
    s.node.setContext(PROFILE_CONTEXT_KEY, "prod");
    new AwsProvider(s, "aws", { region, allowedAccountIds: account ? [account] : undefined });
    build(s);
  }
  return app;
}

describe("the default app deployed into one account and region", () => {
  test("manages every account singleton once and uses every unique name once", () => {
    const stacks = synthesized(buildApp(Testing.app()));
    expect(stacks.length).toBeGreaterThanOrEqual(4);
    expect(checkDeployTogether(stacks).map((c) => c.message)).toEqual([]);
    // the check saw what it checks: the singleton and named resources are there
    const types = new Set(stacks.flatMap((s) => Object.keys((s.json as { resource?: object }).resource ?? {})));
    for (const t of ["aws_api_gateway_account", "aws_iam_role", "aws_lambda_function", "aws_dynamodb_table", "aws_cloudwatch_log_group", "aws_cloudwatch_dashboard"]) {
      expect(types).toContain(t);
    }
  });
});

describe("checkDeployTogether", () => {
  test("two stacks managing the API Gateway account settings: one singleton conflict naming both", () => {
    const app = fixtureApp(["svc-a", "svc-b"].map((id) => ({ id, build: (s: TerraformStack) => void new AccountBaseline(s, "account") })));
    const conflicts = checkDeployTogether(synthesized(app));
    const singleton = conflicts.filter((c) => c.kind === "singleton");
    expect(singleton).toHaveLength(1);
    expect(singleton[0]).toMatchObject({ type: "aws_api_gateway_account", key: "account (unpinned account), us-east-1" });
    expect(singleton[0].resources.map((r) => r.stack)).toEqual(["svc-a", "svc-b"]);
    expect(singleton[0].message).toMatch(/svc-a: svc-a\/account\/apigateway.*svc-b: svc-b\/account\/apigateway.*AccountBaseline/);
  });

  test("a table name given twice is a name conflict; derived names never are", () => {
    const app = fixtureApp(["svc-a", "svc-b"].map((id) => ({
      id,
      build: (s: TerraformStack) => {
        new CacheTable(s, "orders", { ...PRODUCTS_TABLE, tableName: "orders" });
        new CacheTable(s, "derived", PRODUCTS_TABLE);
      },
    })));
    const conflicts = checkDeployTogether(synthesized(app));
    expect(conflicts.map((c) => [c.kind, c.type, c.key])).toEqual([["name", "aws_dynamodb_table", "account (unpinned account), us-east-1: orders"]]);
  });

  test("regional names may repeat across regions and pinned accounts; IAM names are per account, in every region", () => {
    const both = (s: TerraformStack) => {
      new CacheTable(s, "orders", { ...PRODUCTS_TABLE, tableName: "orders" });
      new AccountBaseline(s, "account");
    };
    const regions = checkDeployTogether(synthesized(fixtureApp([
      { id: "east", region: "us-east-1", build: both },
      { id: "west", region: "eu-west-1", build: both },
    ])));
    // the table and the per-region API Gateway setting are fine; the baseline's IAM role, named from its
    // path, is not the same name in both stacks (the stack is part of it), so nothing collides either
    expect(regions).toEqual([]);

    const accounts = checkDeployTogether(synthesized(fixtureApp([
      { id: "a", account: "111111111111", build: both },
      { id: "b", account: "222222222222", build: both },
    ])));
    expect(accounts).toEqual([]);
  });

  test("an IAM role name used in two regions of one account collides; a name given as an expression is not compared", () => {
    const role = (name: string) => (s: TerraformStack) => {
      s.addOverride("resource.aws_iam_role.r", { name, assume_role_policy: "{}" });
    };
    const same = checkDeployTogether(synthesized(fixtureApp([
      { id: "east", region: "us-east-1", build: role("deployer") },
      { id: "west", region: "eu-west-1", build: role("deployer") },
    ])));
    expect(same.map((c) => [c.kind, c.type, c.key])).toEqual([["name", "aws_iam_role", "account (unpinned account): deployer"]]);
    const expr = checkDeployTogether(synthesized(fixtureApp([
      { id: "east", build: role("${var.prefix}-deployer") },
      { id: "west", build: role("${var.prefix}-deployer") },
    ])));
    expect(expr).toEqual([]);
  });
});
