/**
 * A provisioned CacheTable with global secondary indexes against the real AWS provider, offline:
 * every index gets its own autoscaling, Terraform leaves capacity that autoscaling raised alone
 * (table and indexes), and a changed index layout fails the plan instead of being ignored.
 * Prior state is written by hand from the first plan's values, as AWS would hold it after
 * autoscaling raised capacity; plans run with -refresh=false, so nothing reaches AWS.
 */
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { App, TerraformStack } from "cdktf";
import { mkdtempSync, writeFileSync } from "fs";
import * as os from "os";
import * as path from "path";
import { Billing, CacheTable, CacheTableProps } from "../../modules/table";
import { disposeUnlessKept, expectOk, harnessSession, noMirrorHint, PreparedStack, prepareStack, runTerraform, TerraformResult } from "../../tools/lib/terraform-harness";

jest.setTimeout(240_000);

const STACK = "tables-dev";
const LAYOUT: CacheTableProps = {
  partitionKey: { name: "PK", type: "S" },
  sortKey: { name: "SK", type: "S" },
  globalSecondaryIndexes: [
    { indexName: "by-customer", partitionKey: { name: "customerId", type: "S" }, sortKey: { name: "SK", type: "S" } },
    { indexName: "by-status", partitionKey: { name: "status", type: "S" }, projection: ["title"] },
  ],
};
/** What autoscaling raised every capacity to before the next deploy. */
const SCALED = 40;

type PlanJson = {
  planned_values: { root_module: { resources: Array<{ address: string; type: string; values: Record<string, any> }> } };
  resource_changes: Array<{ address: string; type: string; change: { actions: string[]; before: any; after: any } }>;
};

const outdir = mkdtempSync(path.join(os.tmpdir(), "cachefront-tables-"));
let stack: PreparedStack;
let firstPlan: PlanJson;

function synth(): void {
  const app = new App({ outdir });
  const s = new TerraformStack(app, STACK);
  new AwsProvider(s, "aws", { region: "us-east-1" });
  // the default: Terraform must leave index capacity to autoscaling
  new CacheTable(s, "ignoring", { ...LAYOUT, billing: Billing.provisioned({ readCapacity: 5, writeCapacity: 5 }) });
  // the counterfactual: applyIndexChanges hands the indexes back to Terraform (and their capacity with them)
  new CacheTable(s, "applying", { ...LAYOUT, billing: Billing.provisioned({ readCapacity: 5, writeCapacity: 5, applyIndexChanges: true }) });
  app.synth();
}

const tf = (args: string[]) => runTerraform(args, stack.dir);

async function plan(out: string): Promise<{ result: TerraformResult; json?: PlanJson }> {
  const result = await tf(["plan", "-input=false", "-lock=false", "-refresh=false", `-out=${out}`]);
  if (result.code !== 0) return { result };
  const shown = expectOk(await tf(["show", "-json", out]), STACK);
  return { result, json: JSON.parse(shown.stdout) };
}

/** State holding the two tables as planned, with `edit` applied to each table's attributes. */
function writeState(edit: (attrs: Record<string, any>, address: string) => void): void {
  const tables = firstPlan.planned_values.root_module.resources.filter((r) => r.type === "aws_dynamodb_table");
  const state = {
    version: 4,
    terraform_version: "1.11.4",
    serial: 1,
    lineage: "6c5d8f1e-0c6b-4c57-9f6e-3a1f2b7c9d10",
    outputs: {},
    resources: tables.map((t) => {
      const attrs: Record<string, any> = JSON.parse(JSON.stringify(t.values));
      // what the provider computes on create, as it would read it back
      attrs.id = attrs.name;
      attrs.arn = `arn:aws:dynamodb:us-east-1:123456789012:table/${attrs.name}`;
      attrs.tags_all = {};
      attrs.point_in_time_recovery[0].recovery_period_in_days = 35;
      edit(attrs, t.address);
      return {
        mode: "managed",
        type: "aws_dynamodb_table",
        name: t.address.split(".")[1],
        provider: 'provider["registry.terraform.io/hashicorp/aws"]',
        instances: [{ schema_version: 1, attributes: attrs, sensitive_attributes: [] }],
      };
    }),
  };
  writeFileSync(stack.statePath, JSON.stringify(state, null, 2));
}

const scaledUp = (attrs: Record<string, any>) => {
  attrs.read_capacity = SCALED;
  attrs.write_capacity = SCALED;
  for (const g of attrs.global_secondary_index) Object.assign(g, { read_capacity: SCALED, write_capacity: SCALED });
};
const tableChange = (p: PlanJson, id: "ignoring" | "applying") =>
  p.resource_changes.find((c) => c.type === "aws_dynamodb_table" && c.address.includes(`.${id}_`))!;
const capacities = (table: any) =>
  Object.fromEntries((table.global_secondary_index as any[]).map((g) => [g.name, [g.read_capacity, g.write_capacity]]));

beforeAll(async () => {
  synth();
  stack = prepareStack(path.join(outdir, "stacks", STACK));
  const init = await tf(["init", "-input=false"]);
  if (init.code !== 0 && !harnessSession().mirror) throw new Error(`terraform init failed: ${init.stderr}\n${noMirrorHint()}`);
  expectOk(init, STACK);
  expectOk(await tf(["validate"]), STACK);
  const first = await plan("tfplan");
  expectOk(first.result, STACK);
  firstPlan = first.json!;
});

afterAll(() => disposeUnlessKept(outdir));

test("GIVEN a new provisioned table with two indexes WHEN planned THEN a scalable target and a policy per dimension of the table and of each index are created", () => {
  const created = (type: string) => firstPlan.resource_changes.filter((c) => c.type === type && c.change.actions.join() === "create");
  const targets = created("aws_appautoscaling_target").filter((c) => c.address.includes(".ignoring_"));
  expect(targets.map((t) => t.change.after.scalable_dimension).sort()).toEqual([
    "dynamodb:index:ReadCapacityUnits", "dynamodb:index:ReadCapacityUnits", "dynamodb:index:WriteCapacityUnits",
    "dynamodb:index:WriteCapacityUnits", "dynamodb:table:ReadCapacityUnits", "dynamodb:table:WriteCapacityUnits",
  ]);
  expect(created("aws_appautoscaling_policy").filter((c) => c.address.includes(".ignoring_"))).toHaveLength(6);
  expect(capacities(tableChange(firstPlan, "ignoring").change.after)).toEqual({ "by-customer": [5, 5], "by-status": [5, 5] });
});

test("GIVEN autoscaling raised the table's and its indexes' capacity WHEN planned again THEN Terraform keeps it; only applyIndexChanges resets the indexes", async () => {
  writeState(scaledUp);
  const { result, json } = await plan("tfplan-scaled");
  expectOk(result, STACK);
  const ignoring = tableChange(json!, "ignoring");
  expect(ignoring.change.actions).toEqual(["no-op"]);
  expect(capacities(ignoring.change.after)).toEqual({ "by-customer": [SCALED, SCALED], "by-status": [SCALED, SCALED] });
  expect([ignoring.change.after.read_capacity, ignoring.change.after.write_capacity]).toEqual([SCALED, SCALED]);
  // the counterfactual: without global_secondary_index in ignore_changes, the plan drops every index to its floor
  const applying = tableChange(json!, "applying");
  expect(applying.change.actions).toEqual(["update"]);
  expect(capacities(applying.change.after)).toEqual({ "by-customer": [5, 5], "by-status": [5, 5] });
});

test("GIVEN the configuration changes an index's projection WHEN planned THEN the plan fails naming the construct and applyIndexChanges", async () => {
  // (an index on a new key attribute fails earlier, in the provider: "all attributes must be indexed")
  writeState((attrs, address) => {
    scaledUp(attrs);
    if (!address.includes(".ignoring_")) return;
    const byStatus = attrs.global_secondary_index.find((g: any) => g.name === "by-status");
    Object.assign(byStatus, { projection_type: "ALL", non_key_attributes: [] });
  });
  const { result } = await plan("tfplan-layout");
  expect(result.code).not.toBe(0);
  const stderr = result.stderr.replace(/\s+/g, " "); // terraform wraps the message
  expect(stderr).toContain("Resource postcondition failed");
  expect(stderr).toContain(`${STACK}/ignoring differ from its configuration`);
  expect(stderr).toContain("applyIndexChanges: true");
});
