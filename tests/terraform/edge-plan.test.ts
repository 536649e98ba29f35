/**
 * The product catalog with every edge and warming option on, against the real AWS provider,
 * offline: a dev stack in eu-west-1 (so the CLOUDFRONT web ACL and its log group go through the
 * us-east-1 provider alias), a custom domain (TLSv1.2_2021), Origin Shield, writes invalidating the
 * edge (the edge invalidator and its stream mapping), the origin lock ahead of the API's WAF rules,
 * and the warm function's schedule and after-deploy run. The default app's product-catalog-prod
 * (edge on) is planned by plan.test.ts.
 */
import { App } from "cdktf";
import { mkdtempSync } from "fs";
import * as os from "os";
import * as path from "path";
import { loadConfig } from "../../stacks/config";
import { ProductCatalogStack } from "../../stacks/product-catalog";
import { disposeUnlessKept, expectOk, harnessSession, noMirrorHint, PreparedStack, prepareStack, runTerraform } from "../../tools/lib/terraform-harness";

jest.setTimeout(240_000);

const STACK = "catalog-edge-dev";
const outdir = mkdtempSync(path.join(os.tmpdir(), "cachefront-edge-plan-"));
let stack: PreparedStack;
type Change = { address: string; type: string; provider_name: string; change: { actions: string[]; after: Record<string, any> } };
let changes: Change[];
/** `provider_config_key` of each resource in the plan's configuration (`aws` or `aws.us-east-1`). */
let providerOf: Record<string, string>;

beforeAll(async () => {
  const app = new App({ outdir });
  new ProductCatalogStack(app, STACK, {
    config: loadConfig("dev", {
      region: "eu-west-1",
      availabilityZones: ["eu-west-1a", "eu-west-1b"],
      api: { waf: true }, // dev has none by default; with it the edge gets a CLOUDFRONT one too
      productCatalog: {
        edge: {
          invalidateOnWrite: true,
          originShieldRegion: "eu-west-1",
          domain: { domainName: "shop.example.com", certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab" },
        },
        warm: { schedule: "rate(1 hour)", runAfterDeploy: true, top: 50 },
      },
    }),
  });
  app.synth();
  stack = prepareStack(path.join(outdir, "stacks", STACK));
  const tf = (args: string[]) => runTerraform(args, stack.dir);
  const init = await tf(["init", "-input=false"]);
  if (init.code !== 0 && !harnessSession().mirror) throw new Error(`terraform init failed: ${init.stderr}\n${noMirrorHint()}`);
  expectOk(init, STACK);
  // (plan validates the configuration too; a separate `validate` would only cost time)
  expectOk(await tf(["plan", "-input=false", "-lock=false", "-refresh=false", "-out=tfplan"]), STACK);
  const shown = JSON.parse(expectOk(await tf(["show", "-json", "tfplan"]), STACK).stdout);
  changes = shown.resource_changes;
  providerOf = Object.fromEntries((shown.configuration.root_module.resources as Array<{ address: string; provider_config_key: string }>)
    .map((r) => [r.address, r.provider_config_key]));
});

afterAll(() => disposeUnlessKept(outdir));

const of = (type: string) => changes.filter((c) => c.type === type);

test("plans, creating only", () => {
  expect(changes.every((c) => c.change.actions.join() === "create")).toBe(true);
});

test("the distribution: a custom domain under TLSv1.2_2021, Origin Shield, HTTPS to the API, errors never cached", () => {
  const [d] = of("aws_cloudfront_distribution");
  expect(d.change.after.viewer_certificate[0]).toMatchObject({ minimum_protocol_version: "TLSv1.2_2021", ssl_support_method: "sni-only" });
  expect(d.change.after.origin[0].origin_shield[0]).toEqual({ enabled: true, origin_shield_region: "eu-west-1" });
  expect(d.change.after.origin[0].custom_origin_config[0].origin_protocol_policy).toBe("https-only");
  expect(d.change.after.custom_error_response.every((e: any) => e.error_caching_min_ttl === 0)).toBe(true);
});

test("the CLOUDFRONT web ACL and its log group are made through the us-east-1 alias; the API's origin lock in the stack's region", () => {
  const acls = of("aws_wafv2_web_acl");
  const edge = acls.find((a) => a.change.after.scope === "CLOUDFRONT");
  const origin = acls.find((a) => a.change.after.scope === "REGIONAL");
  expect(providerOf[edge!.address]).toBe("aws.us-east-1");
  expect(providerOf[origin!.address]).toBe("aws");
  const edgeLogs = of("aws_cloudwatch_log_group").find((g) => String(g.change.after.name).startsWith("aws-waf-logs-") && providerOf[g.address] === "aws.us-east-1");
  expect(edgeLogs).toBeDefined();
  expect(origin?.change.after.rule.map((r: any) => [r.priority, r.name]).sort((a: any, b: any) => a[0] - b[0])).toEqual([
    [0, "require-x-origin-verify"], [1, "AWSManagedRulesCommonRuleSet"], [2, "AWSManagedRulesKnownBadInputsRuleSet"], [3, "rate-per-ip"],
  ]);
});

test("the edge invalidator, the schedule and the after-deploy run are planned", () => {
  expect(of("aws_lambda_function").some((f) => /edge-invalidator/.test(f.change.after.function_name))).toBe(true);
  expect(of("aws_scheduler_schedule")[0].change.after).toMatchObject({ schedule_expression: "rate(1 hour)" });
  expect(JSON.parse(of("aws_lambda_invocation")[0].change.after.input)).toEqual({ top: 50, list: "bestsellers" });
  expect(of("aws_lambda_event_source_mapping")).toHaveLength(2); // the stream invalidator and the edge invalidator
});
