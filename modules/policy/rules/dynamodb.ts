/** DynamoDB table rules. */
import { isExpression, TerraformModel, TfResource } from "../model";
import { fail, pass, PolicyRule, unknown } from "../rule";
import { boolAttr, show, unresolved } from "./util";

const TABLE = ["aws_dynamodb_table"];

export const DDB_PITR: PolicyRule = {
  id: "CF-DDB-1",
  title: "Tables have point-in-time recovery",
  severity: "error",
  resourceTypes: TABLE,
  rationale: "PITR is the only way back from a bad write or delete within the last 35 days; on-demand backups alone miss everything since the last one.",
  remediation: "Set point_in_time_recovery { enabled = true }.",
  references: { checkov: ["CKV_AWS_28"], securityHub: ["DynamoDB.2"], cdkNag: ["AwsSolutions-DDB3"] },
  evaluate(r, { model }) {
    return boolAttr(model, r, "point_in_time_recovery.enabled", true, "non-compliant", "point_in_time_recovery is not set (off)");
  },
};

export const DDB_SSE: PolicyRule = {
  id: "CF-DDB-2",
  title: "Tables use KMS server-side encryption",
  severity: "warning",
  resourceTypes: TABLE,
  rationale:
    "Without the server_side_encryption block a table is encrypted with an AWS-owned key that leaves no trace in " +
    "CloudTrail and cannot be controlled; a KMS key (AWS-managed or customer-managed) can be audited and revoked.",
  remediation: "Set server_side_encryption { enabled = true } (optionally with kms_key_arn for a customer-managed key).",
  references: { checkov: ["CKV_AWS_119"] },
  evaluate(r, { model }) {
    return boolAttr(model, r, "server_side_encryption.enabled", true, "non-compliant",
      "server_side_encryption is not set (AWS-owned key, not auditable in KMS)");
  },
};

export const DDB_DELETION_PROTECTION: PolicyRule = {
  id: "CF-DDB-3",
  title: "Prod tables have deletion protection",
  severity: "error",
  profiles: ["prod"],
  resourceTypes: TABLE,
  rationale: "A prod table deleted by a mistaken destroy or rename takes its data with it; deletion protection makes DeleteTable fail first.",
  remediation: "Set deletion_protection_enabled = true in prod (CacheTable does by default).",
  references: { securityHub: ["DynamoDB.6"] },
  evaluate(r, { model }) {
    return boolAttr(model, r, "deletion_protection_enabled", true, "non-compliant", "deletion_protection_enabled is not set (off)");
  },
};

/** True when the autoscaling target's resource_id names `table` (literal name or reference to its name). */
function targetsTable(model: TerraformModel, target: TfResource, table: TfResource): boolean | "unknown" {
  const id = target.values.resource_id;
  if (typeof id !== "string") return false;
  if (id.includes(`\${${table.address}.`)) return true;
  const name = table.values.name;
  if (typeof name === "string" && !isExpression(name) && id === `table/${name}`) return true;
  if (model.source === "plan") {
    const p = model.follow(target, "resource_id");
    if (p.kind === "resource" && p.resource.address === table.address) return true;
  }
  return isExpression(id) && !/\$\{aws_dynamodb_table\./.test(id) ? "unknown" : false;
}

export const DDB_CAPACITY: PolicyRule = {
  id: "CF-DDB-4",
  title: "Tables are on-demand or autoscaled",
  severity: "warning",
  resourceTypes: TABLE,
  rationale: "Fixed provisioned capacity throttles on the first spike, which a cache miss storm is; on-demand or autoscaling absorbs it.",
  remediation: "Set billing_mode = \"PAY_PER_REQUEST\", or add aws_appautoscaling_target resources for both read and write capacity.",
  references: { checkov: ["CKV2_AWS_16"], securityHub: ["DynamoDB.1"], cdkNag: ["NIST.800.53.R5-DynamoDBAutoScalingEnabled"] },
  evaluate(r, { model }) {
    const mode = model.value(r, "billing_mode");
    if (mode.state === "unknown") return unresolved("billing_mode", mode.expression);
    if (mode.state === "known" && mode.value === "PAY_PER_REQUEST") return pass();
    if (mode.state === "known" && mode.value !== "PROVISIONED") return fail("billing_mode", `billing_mode = ${show(mode.value)} is not a billing mode`);
    const dims = new Set<string>();
    let undecided = false;
    for (const t of model.ofType("aws_appautoscaling_target")) {
      const hit = targetsTable(model, t, r);
      if (hit === "unknown") undecided = true;
      else if (hit && typeof t.values.scalable_dimension === "string") dims.add(t.values.scalable_dimension);
    }
    const missing = ["dynamodb:table:ReadCapacityUnits", "dynamodb:table:WriteCapacityUnits"].filter((d) => !dims.has(d));
    if (missing.length === 0) return pass();
    if (undecided) return unknown("billing_mode", "an autoscaling target's resource_id is an expression");
    const how = mode.state === "absent" ? "billing_mode is not set (PROVISIONED)" : "billing_mode = \"PROVISIONED\"";
    return fail("billing_mode", `${how} with no autoscaling of ${missing.map((d) => d.split(":").pop()).join(" and ")}`);
  },
};

export const DYNAMODB_RULES: readonly PolicyRule[] = [DDB_PITR, DDB_SSE, DDB_DELETION_PROTECTION, DDB_CAPACITY];
