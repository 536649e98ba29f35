import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { Construct } from "constructs";
import { PropsValidationError } from "../../modules/core/validation";
import { CacheAsideFunction } from "../../modules/function";
import { Network } from "../../modules/network";
import { Billing, CacheTable, CacheTableProps } from "../../modules/table";
import { KEY_READ_ACTIONS, KEY_WRITE_ACTIONS, READ_DATA_ACTIONS, WRITE_DATA_ACTIONS } from "../../modules/table/perms";
import { onlyResource, resourcesOf, rolePolicies, synthJson, SynthJson, testStack } from "../helpers/synth";
import { PRODUCTS } from "../../modules";

const PK = { name: "productId", type: "S" } as const;
const KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

function synthTable(props: Partial<CacheTableProps> = {}, profile: "dev" | "prod" = "prod"): SynthJson {
  return synthJson((stack) => {
    new CacheTable(stack, "products", { partitionKey: PK, ...props });
  }, profile);
}

function table(json: SynthJson): any {
  return onlyResource(json, "aws_dynamodb_table");
}

/** GIVEN a table and a function WHEN `grant` wires them THEN this JSON. */
function synthGrant(props: Partial<CacheTableProps>, grant: (t: CacheTable, fn: CacheAsideFunction) => void): SynthJson {
  return synthJson((stack: Construct) => {
    const network = new Network(stack, "network", { availabilityZones: ["us-east-1a", "us-east-1b"] });
    const fn = new CacheAsideFunction(stack, "fn", { network, contract: PRODUCTS });
    const t = new CacheTable(stack, "products", { partitionKey: PK, ...props });
    grant(t, fn);
  });
}

function tablePolicies(json: SynthJson): Array<{ name: string; doc: any }> {
  return rolePolicies(json).filter((p) => p.name.startsWith("table-"));
}

function validationError(props: Partial<CacheTableProps>): PropsValidationError {
  const { stack } = testStack("prod");
  try {
    new CacheTable(stack, "products", { partitionKey: PK, ...props });
  } catch (e) {
    expect(e).toBeInstanceOf(PropsValidationError);
    return e as PropsValidationError;
  }
  throw new Error("expected a PropsValidationError");
}

function expectInvalid(props: Partial<CacheTableProps>, field: string, valueText: string): PropsValidationError {
  const err = validationError(props);
  expect(err.message).toContain("test/products");
  expect(err.message).toContain(field);
  expect(err.message).toContain(valueText);
  expect(err.problems.map((p) => p.field)).toContain(field);
  return err;
}

describe("CacheTable secure defaults", () => {
  test("PITR on, SSE on with the AWS-managed key, TTL on expiresAt, on-demand", () => {
    // GIVEN a table with default props / WHEN synthesized
    const t = table(synthTable());
    // THEN
    expect(t.point_in_time_recovery).toEqual({ enabled: true });
    expect(t.server_side_encryption.enabled).toBe(true);
    expect(t.server_side_encryption.kms_key_arn).toBeUndefined();
    expect(t.ttl).toEqual({ attribute_name: "expiresAt", enabled: true });
    expect(t.billing_mode).toBe("PAY_PER_REQUEST");
    expect(t.read_capacity).toBeUndefined();
    expect(t.write_capacity).toBeUndefined();
    expect(t.hash_key).toBe("productId");
    expect(t.range_key).toBeUndefined();
    expect(t.attribute).toEqual([{ name: "productId", type: "S" }]);
    expect(t.name).toMatch(/^[a-zA-Z0-9_.-]{3,255}$/);
  });

  test("deletion protection is on in prod and off in dev", () => {
    expect(table(synthTable({}, "prod")).deletion_protection_enabled).toBe(true);
    expect(table(synthTable({}, "dev")).deletion_protection_enabled).toBe(false);
    expect(table(synthTable({ deletionProtection: true }, "dev")).deletion_protection_enabled).toBe(true);
  });

  test("a customer KMS key is used for SSE when given", () => {
    const t = table(synthTable({ kmsKeyArn: KEY_ARN }));
    expect(t.server_side_encryption).toEqual({ enabled: true, kms_key_arn: KEY_ARN });
  });

  test("a custom TTL attribute is enabled", () => {
    expect(table(synthTable({ timeToLiveAttribute: "ttl" })).ttl).toEqual({ attribute_name: "ttl", enabled: true });
  });

  test("no stream unless set; a stream is enabled with its view type when set", () => {
    const none = table(synthTable());
    expect(none.stream_enabled).toBeUndefined();
    expect(none.stream_view_type).toBeUndefined();
    const withStream = table(synthTable({ stream: "NEW_AND_OLD_IMAGES" }));
    expect(withStream.stream_enabled).toBe(true);
    expect(withStream.stream_view_type).toBe("NEW_AND_OLD_IMAGES");
  });

  test("GSIs are rendered and each key attribute is declared exactly once", () => {
    // GIVEN two indexes that reuse the table's partition key and each other's attribute
    const t = table(synthTable({
      sortKey: { name: "SK", type: "S" },
      globalSecondaryIndexes: [
        { indexName: "byCategory", partitionKey: { name: "category", type: "S" }, sortKey: { name: "productId", type: "S" } },
        { indexName: "byCategoryPrice", partitionKey: { name: "category", type: "S" }, sortKey: { name: "price", type: "N" }, projection: ["title"] },
        { indexName: "bySk", partitionKey: { name: "SK", type: "S" }, projection: "KEYS_ONLY" },
      ],
    }));
    // THEN
    const names = t.attribute.map((a: any) => a.name);
    expect(names.length).toBe(new Set(names).size);
    expect(t.attribute).toEqual(expect.arrayContaining([
      { name: "productId", type: "S" }, { name: "SK", type: "S" }, { name: "category", type: "S" }, { name: "price", type: "N" },
    ]));
    expect(t.attribute).toHaveLength(4);
    const gsis = Object.fromEntries(t.global_secondary_index.map((g: any) => [g.name, g]));
    expect(gsis.byCategory).toMatchObject({ hash_key: "category", range_key: "productId", projection_type: "ALL" });
    expect(gsis.byCategoryPrice).toMatchObject({ hash_key: "category", range_key: "price", projection_type: "INCLUDE", non_key_attributes: ["title"] });
    expect(gsis.bySk).toMatchObject({ hash_key: "SK", projection_type: "KEYS_ONLY" });
    expect(gsis.bySk.range_key).toBeUndefined();
    expect(gsis.byCategory.read_capacity).toBeUndefined();
  });

  test("on-demand creates no autoscaling", () => {
    const json = synthTable();
    expect(resourcesOf(json, "aws_appautoscaling_target")).toHaveLength(0);
    expect(resourcesOf(json, "aws_appautoscaling_policy")).toHaveLength(0);
    expect(table(json).lifecycle).toBeUndefined();
  });
});

describe("CacheTable provisioned billing", () => {
  test("creates read and write autoscaling targets and target-tracking policies, and ignores capacity drift", () => {
    // GIVEN provisioned billing / WHEN synthesized
    const json = synthTable({ billing: Billing.provisioned({ readCapacity: 5, writeCapacity: 2, maxWriteCapacity: 8, targetUtilizationPercent: 50 }) });
    const t = table(json);
    // THEN
    expect(t.billing_mode).toBe("PROVISIONED");
    expect(t.read_capacity).toBe(5);
    expect(t.write_capacity).toBe(2);
    expect(t.lifecycle.ignore_changes).toEqual(expect.arrayContaining(["read_capacity", "write_capacity"]));

    const targets = resourcesOf(json, "aws_appautoscaling_target").map(([, r]) => r);
    expect(targets).toHaveLength(2);
    const byDim = Object.fromEntries(targets.map((r) => [r.scalable_dimension, r]));
    expect(byDim["dynamodb:table:ReadCapacityUnits"]).toMatchObject({ min_capacity: 5, max_capacity: 50, service_namespace: "dynamodb" });
    expect(byDim["dynamodb:table:WriteCapacityUnits"]).toMatchObject({ min_capacity: 2, max_capacity: 8, service_namespace: "dynamodb" });
    for (const r of targets) expect(r.resource_id).toMatch(/^table\/\$\{aws_dynamodb_table\.[^}]+\.name\}$/);

    const policies = resourcesOf(json, "aws_appautoscaling_policy").map(([, r]) => r);
    expect(policies).toHaveLength(2);
    expect(policies.map((p) => p.target_tracking_scaling_policy_configuration.predefined_metric_specification.predefined_metric_type).sort())
      .toEqual(["DynamoDBReadCapacityUtilization", "DynamoDBWriteCapacityUtilization"]);
    for (const p of policies) {
      expect(p.policy_type).toBe("TargetTrackingScaling");
      expect(p.target_tracking_scaling_policy_configuration.target_value).toBe(50);
      expect(p.resource_id).toMatch(/^\$\{aws_appautoscaling_target\./);
    }
  });

  test("target utilization defaults to 70 %", () => {
    const json = synthTable({ billing: Billing.provisioned({ readCapacity: 1, writeCapacity: 1 }) });
    for (const [, p] of resourcesOf(json, "aws_appautoscaling_policy")) {
      expect(p.target_tracking_scaling_policy_configuration.target_value).toBe(70);
    }
  });
});

describe("CacheTable provisioned billing with global secondary indexes", () => {
  const BY_CATEGORY = { indexName: "byCategory", partitionKey: { name: "category", type: "S" } } as const;
  const BY_PRICE = { indexName: "byPrice", partitionKey: { name: "category", type: "S" }, sortKey: { name: "price", type: "N" }, projection: ["title"] } as const;
  const targetsOf = (json: SynthJson) => resourcesOf(json, "aws_appautoscaling_target").map(([, r]) => r);

  test("GIVEN two indexes WHEN provisioned THEN each index autoscales reads and writes on its own, with the table's floor, ceiling and target", () => {
    // GIVEN / WHEN
    const json = synthTable({
      globalSecondaryIndexes: [BY_CATEGORY, BY_PRICE],
      billing: Billing.provisioned({ readCapacity: 5, writeCapacity: 2, maxWriteCapacity: 8, targetUtilizationPercent: 60 }),
    });
    // THEN a target and a policy per dimension of the table and of each index
    const targets = targetsOf(json);
    expect(targets).toHaveLength(6);
    const index = (name: string, dim: "Read" | "Write") =>
      targets.find((t) => t.scalable_dimension === `dynamodb:index:${dim}CapacityUnits` && t.resource_id.endsWith(`/index/${name}`));
    for (const name of ["byCategory", "byPrice"]) {
      expect(index(name, "Read")).toMatchObject({ min_capacity: 5, max_capacity: 50, service_namespace: "dynamodb" });
      expect(index(name, "Write")).toMatchObject({ min_capacity: 2, max_capacity: 8, service_namespace: "dynamodb" });
      expect(index(name, "Read").resource_id).toMatch(new RegExp(`^table/\\$\\{aws_dynamodb_table\\.[^}]+\\.name\\}/index/${name}$`));
    }
    const policies = resourcesOf(json, "aws_appautoscaling_policy").map(([, r]) => r);
    expect(policies).toHaveLength(6);
    for (const p of policies) expect(p.target_tracking_scaling_policy_configuration.target_value).toBe(60);
    expect(new Set(policies.map((p) => `${p.resource_id} ${p.scalable_dimension}`)).size).toBe(6);
    // AND the indexes are created at their floor
    for (const g of table(json).global_secondary_index) expect(g).toMatchObject({ read_capacity: 5, write_capacity: 2 });
  });

  test("GIVEN an index's own capacity WHEN provisioned THEN it overrides the table's for that index only", () => {
    const json = synthTable({
      globalSecondaryIndexes: [BY_CATEGORY, BY_PRICE],
      billing: Billing.provisioned({
        readCapacity: 5, writeCapacity: 2,
        indexes: { byPrice: { readCapacity: 20, maxWriteCapacity: 4, targetUtilizationPercent: 40 } },
      }),
    });
    const targets = targetsOf(json);
    const byPrice = targets.filter((t) => t.resource_id.endsWith("/index/byPrice"));
    expect(byPrice.find((t) => t.scalable_dimension.includes("Read"))).toMatchObject({ min_capacity: 20, max_capacity: 200 });
    expect(byPrice.find((t) => t.scalable_dimension.includes("Write"))).toMatchObject({ min_capacity: 2, max_capacity: 4 });
    expect(targets.filter((t) => t.resource_id.endsWith("/index/byCategory")).map((t) => t.min_capacity).sort()).toEqual([2, 5]);
    const gsis = Object.fromEntries(table(json).global_secondary_index.map((g: any) => [g.name, g]));
    expect(gsis.byPrice).toMatchObject({ read_capacity: 20, write_capacity: 2 });
    const policyTargets = resourcesOf(json, "aws_appautoscaling_policy").map(([, p]) => p.target_tracking_scaling_policy_configuration.target_value).sort();
    expect(policyTargets).toEqual([40, 40, 70, 70, 70, 70]);
  });

  test("GIVEN indexes WHEN provisioned THEN Terraform ignores them once created, and a postcondition fails a plan whose layout differs", () => {
    const t = table(synthTable({ globalSecondaryIndexes: [BY_CATEGORY, BY_PRICE], billing: Billing.provisioned({ readCapacity: 1, writeCapacity: 1 }) }));
    expect(t.lifecycle.ignore_changes).toEqual(["read_capacity", "write_capacity", "global_secondary_index"]);
    expect(t.lifecycle.postcondition).toHaveLength(1);
    const condition: string = t.lifecycle.postcondition[0].condition;
    expect(condition).toContain("self.global_secondary_index");
    expect(condition).toContain('"byCategory|category||ALL|"');
    expect(condition).toContain('"byPrice|category|price|INCLUDE|title"');
    expect(t.lifecycle.postcondition[0].error_message).toContain("applyIndexChanges: true");
  });

  test("GIVEN applyIndexChanges WHEN provisioned THEN Terraform applies index changes (and no postcondition stands in the way)", () => {
    const t = table(synthTable({ globalSecondaryIndexes: [BY_CATEGORY], billing: Billing.provisioned({ readCapacity: 1, writeCapacity: 1, applyIndexChanges: true }) }));
    expect(t.lifecycle.ignore_changes).toEqual(["read_capacity", "write_capacity"]);
    expect(t.lifecycle.postcondition).toBeUndefined();
  });

  test("GIVEN no index WHEN provisioned THEN nothing about indexes is ignored or checked", () => {
    const t = table(synthTable({ billing: Billing.provisioned({ readCapacity: 1, writeCapacity: 1 }) }));
    expect(t.lifecycle.ignore_changes).toEqual(["read_capacity", "write_capacity"]);
    expect(t.lifecycle.postcondition).toBeUndefined();
  });

  test("GIVEN capacity for an index the table does not have THEN it fails naming the index and the ones there are", () => {
    const err = expectInvalid({ globalSecondaryIndexes: [BY_CATEGORY], billing: Billing.provisioned({ readCapacity: 1, writeCapacity: 1, indexes: { byBrand: { readCapacity: 2 } } }) },
      "billing.indexes.byBrand", '"byBrand"');
    expect(err.message).toContain('"byCategory"');
  });

  test("GIVEN an index floor above the table's ceiling it inherits THEN it fails naming the index's ceiling and where it came from", () => {
    const err = expectInvalid({
      globalSecondaryIndexes: [BY_CATEGORY],
      billing: Billing.provisioned({ readCapacity: 1, writeCapacity: 1, maxReadCapacity: 10, indexes: { byCategory: { readCapacity: 20, targetUtilizationPercent: 95 } } }),
    }, "billing.indexes.byCategory.maxReadCapacity", "10");
    expect(err.message).toContain("the table's maxReadCapacity");
    expect(err.problems.map((p) => p.field)).toContain("billing.indexes.byCategory.targetUtilizationPercent");
    // without a table ceiling, the index's is 10 × its floor, which must stay within DynamoDB's 40000
    const tenfold = expectInvalid({
      globalSecondaryIndexes: [BY_CATEGORY],
      billing: Billing.provisioned({ readCapacity: 1, writeCapacity: 1, indexes: { byCategory: { writeCapacity: 5000 } } }),
    }, "billing.indexes.byCategory.maxWriteCapacity", "50000");
    expect(tenfold.message).toContain("10 × the index's writeCapacity");
  });
});

describe("CacheTable grants", () => {
  const arn = (json: SynthJson) => `\${${"aws_dynamodb_table"}.${resourcesOf(json, "aws_dynamodb_table")[0][0]}.arn}`;

  test("grantReadData gives exactly the read actions on the table and its indexes", () => {
    const json = synthGrant({}, (t, fn) => t.grantReadData(fn));
    const policies = tablePolicies(json);
    expect(policies).toHaveLength(1);
    expect(policies[0].name).toMatch(/^table-test-products-[0-9a-f]{6}-read$/); // unique per table path
    const stmts = policies[0].doc.Statement;
    expect(stmts).toHaveLength(1);
    expect(stmts[0].Effect).toBe("Allow");
    expect(stmts[0].Action).toEqual([...READ_DATA_ACTIONS]);
    expect(stmts[0].Resource).toEqual([arn(json), `${arn(json)}/index/*`]);
  });

  test("grantReadWriteData gives exactly the read and write actions on the table and its indexes", () => {
    const json = synthGrant({}, (t, fn) => t.grantReadWriteData(fn));
    const policies = tablePolicies(json);
    expect(policies).toHaveLength(1);
    const stmts = policies[0].doc.Statement;
    expect(stmts).toHaveLength(1);
    expect(stmts[0].Action).toEqual([...READ_DATA_ACTIONS, ...WRITE_DATA_ACTIONS]);
    expect(stmts[0].Resource).toEqual([arn(json), `${arn(json)}/index/*`]);
  });

  test("no table grant ever uses a * resource or a * action, nor table-management actions", () => {
    const json = synthGrant({ kmsKeyArn: KEY_ARN }, (t, fn) => { t.grantReadData(fn); t.grantReadWriteData(fn); });
    for (const p of tablePolicies(json)) {
      for (const s of p.doc.Statement) {
        expect(s.Resource).not.toContain("*");
        expect(s.Action).not.toContain("*");
        expect(s.Action).not.toContain("dynamodb:*");
        expect(s.Action).not.toContain("dynamodb:DeleteTable");
        expect(s.Action).not.toContain("dynamodb:UpdateTable");
      }
    }
  });

  test("KMS actions on the key only when a customer key is given", () => {
    const without = synthGrant({}, (t, fn) => t.grantReadWriteData(fn));
    expect(tablePolicies(without).flatMap((p) => p.doc.Statement).flatMap((s: any) => s.Action)
      .filter((a: string) => a.startsWith("kms:"))).toEqual([]);

    const read = synthGrant({ kmsKeyArn: KEY_ARN }, (t, fn) => t.grantReadData(fn));
    const readStmts = tablePolicies(read)[0].doc.Statement;
    expect(readStmts).toHaveLength(2);
    expect(readStmts[1]).toMatchObject({ Action: [...KEY_READ_ACTIONS], Resource: [KEY_ARN] });

    const write = synthGrant({ kmsKeyArn: KEY_ARN }, (t, fn) => t.grantReadWriteData(fn));
    const writeStmts = tablePolicies(write)[0].doc.Statement;
    expect(writeStmts[1]).toMatchObject({ Action: [...KEY_READ_ACTIONS, ...KEY_WRITE_ACTIONS], Resource: [KEY_ARN] });
  });

  test("granting twice is idempotent", () => {
    const json = synthGrant({}, (t, fn) => { t.grantReadData(fn); t.grantReadData(fn); });
    expect(tablePolicies(json)).toHaveLength(1);
  });

  test("the policy is attached to the grantee's role", () => {
    const json = synthGrant({}, (t, fn) => t.grantReadData(fn));
    const [, policy] = resourcesOf(json, "aws_iam_role_policy").find(([, p]) => /^table-test-products-[0-9a-f]{6}-read$/.test(p.name))!;
    const fnRoleId = resourcesOf(json, "aws_iam_role").find(([id]) => id.startsWith("fn_"))![0];
    expect(policy.role).toBe(`\${aws_iam_role.${fnRoleId}.id}`);
  });
});

describe("CacheTable validation", () => {
  test.each(["ab", "has space", "x".repeat(256), "bad/name"])("refuses the table name %p", (tableName) => {
    expectInvalid({ tableName }, "tableName", JSON.stringify(tableName));
  });

  test("refuses a sort key named like the partition key", () => {
    expectInvalid({ sortKey: { name: "productId", type: "S" } }, "sortKey.name", '"productId"');
  });

  test("refuses duplicate GSI names", () => {
    expectInvalid({
      globalSecondaryIndexes: [
        { indexName: "byCategory", partitionKey: { name: "category", type: "S" } },
        { indexName: "byCategory", partitionKey: { name: "brand", type: "S" } },
      ],
    }, "globalSecondaryIndexes[1].indexName", '"byCategory"');
  });

  test("refuses a bad GSI name", () => {
    expectInvalid({ globalSecondaryIndexes: [{ indexName: "by", partitionKey: { name: "c", type: "S" } }] },
      "globalSecondaryIndexes[0].indexName", '"by"');
  });

  test("refuses a key attribute declared with two types", () => {
    const err = expectInvalid({ globalSecondaryIndexes: [{ indexName: "byId", partitionKey: { name: "productId", type: "N" } }] },
      "globalSecondaryIndexes[0].partitionKey", '"type":"N"');
    expect(err.message).toContain("type S");
  });

  test("refuses an unknown key type", () => {
    expectInvalid({ partitionKey: { name: "id", type: "X" as unknown as "S" } }, "partitionKey.type", '"X"');
  });

  test.each([
    [{ readCapacity: 0, writeCapacity: 1 }, "billing.readCapacity", "0"],
    [{ readCapacity: 1, writeCapacity: 40001 }, "billing.writeCapacity", "40001"],
    [{ readCapacity: 1.5, writeCapacity: 1 }, "billing.readCapacity", "1.5"],
    [{ readCapacity: 10, writeCapacity: 1, maxReadCapacity: 5 }, "billing.maxReadCapacity", "5"],
  ])("refuses capacity %j", (capacity, field, value) => {
    expectInvalid({ billing: Billing.provisioned(capacity) }, field, value);
  });

  test("refuses a target utilization of 95 %", () => {
    expectInvalid({ billing: Billing.provisioned({ readCapacity: 1, writeCapacity: 1, targetUtilizationPercent: 95 }) },
      "billing.targetUtilizationPercent", "95");
  });

  test("refuses an empty TTL attribute", () => {
    expectInvalid({ timeToLiveAttribute: "" }, "timeToLiveAttribute", '""');
  });

  test.each([
    [{ timeToLiveAttribute: "productId" }, "partitionKey", "S"],
    [{ timeToLiveAttribute: "SK", sortKey: { name: "SK", type: "B" } }, "sortKey", "B"],
    [{ timeToLiveAttribute: "category", globalSecondaryIndexes: [{ indexName: "byCategory", partitionKey: { name: "category", type: "S" } }] },
      "globalSecondaryIndexes[0].partitionKey", "S"],
  ] as Array<[Partial<CacheTableProps>, string, string]>)("refuses a TTL attribute that is a key of type S or B: %j", (props, declaredBy, type) => {
    // TTL only expires items whose TTL attribute is a Number; a key of another type can never hold one
    const err = expectInvalid(props, "timeToLiveAttribute", JSON.stringify(props.timeToLiveAttribute));
    expect(err.message).toContain(`key attribute of type ${type} (${declaredBy})`);
  });

  test("accepts a TTL attribute that is a Number key", () => {
    const t = table(synthTable({ timeToLiveAttribute: "expires", sortKey: { name: "expires", type: "N" } }));
    expect(t.ttl).toEqual({ attribute_name: "expires", enabled: true });
  });

  test.each(["alias/my-key", "1234abcd-12ab-34cd-56ef-1234567890ab", "arn:aws:kms:us-east-1:123456789012:alias/my-key"])(
    "refuses a kmsKeyArn that is not a key ARN: %p", (kmsKeyArn) => {
      const err = expectInvalid({ kmsKeyArn }, "kmsKeyArn", JSON.stringify(kmsKeyArn));
      expect(err.message).toContain("arn:aws:kms:<region>:<account>:key/<id>");
    });

  test("accepts a kmsKeyArn known only at apply time (a reference to a key)", () => {
    const json = synthJson((stack) => {
      const key = new KmsKey(stack, "key", { description: "table key", enableKeyRotation: true });
      new CacheTable(stack, "products", { partitionKey: PK, kmsKeyArn: key.arn });
    });
    expect(table(json).server_side_encryption.kms_key_arn).toMatch(/^\$\{aws_kms_key\.key\.arn\}$/);
  });

  test("reports every problem together", () => {
    const err = validationError({ tableName: "ab", sortKey: { name: "productId", type: "S" } });
    expect(err.problems.map((p) => p.field)).toEqual(expect.arrayContaining(["tableName", "sortKey.name"]));
  });
});

describe("grants to several tables", () => {
  test("two tables with the same id in different scopes each get their own policy on one function", () => {
    const json = synthJson((stack) => {
      const network = new Network(stack, "network", { availabilityZones: ["us-east-1a", "us-east-1b"] });
      const fn = new CacheAsideFunction(stack, "fn", { network, contract: PRODUCTS });
      const a = new CacheTable(new Construct(stack, "a"), "products", { partitionKey: PK });
      const b = new CacheTable(new Construct(stack, "b"), "products", { partitionKey: PK });
      a.grantReadData(fn);
      b.grantReadData(fn);
    });
    const policies = tablePolicies(json);
    expect(policies).toHaveLength(2);
    const resources = policies.map((p) => p.doc.Statement[0].Resource[0]).sort();
    expect(resources[0]).not.toBe(resources[1]);
  });
});
