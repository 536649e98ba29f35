/** DynamoDB table rules. */
import { isExpression, many, TerraformModel, TfResource, valueAt } from "../model";
import type { RuleOutcome } from "../types";
import { byProps, fail, pass, PolicyRule, setBy, unknown } from "../rule";
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
  props: { "*": byProps("CacheTable.pointInTimeRecovery") },
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
  props: { "*": setBy("CacheTable, whose kmsKeyArn chooses the key") },
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
  props: { "*": byProps("CacheTable.deletionProtection") },
  evaluate(r, { model }) {
    return boolAttr(model, r, "deletion_protection_enabled", true, "non-compliant", "deletion_protection_enabled is not set (off)");
  },
};

/**
 * What an autoscaling target scales of `table`: the table itself (`""`), one of its indexes (the
 * index name, from a resource_id ending in `/index/<name>`), nothing (undefined), or "unknown" when
 * its resource_id is an expression that cannot be followed.
 */
function scaledPart(model: TerraformModel, target: TfResource, table: TfResource): string | undefined | "unknown" {
  const id = target.values.resource_id;
  if (typeof id !== "string") return undefined;
  const part = /\/index\/([^/]+)$/.exec(id)?.[1] ?? "";
  if (id.includes(`\${${table.address}.`)) return part;
  const name = table.values.name;
  if (typeof name === "string" && !isExpression(name) && id === `table/${name}${part ? `/index/${part}` : ""}`) return part;
  if (model.source === "plan") {
    const p = model.follow(target, "resource_id");
    if (p.kind === "resource" && p.resource.address === table.address) return part;
  }
  return isExpression(id) && !/\$\{aws_dynamodb_table\./.test(id) ? "unknown" : undefined;
}

export const DDB_CAPACITY: PolicyRule = {
  id: "CF-DDB-4",
  title: "Tables and their indexes are on-demand or autoscaled",
  severity: "warning",
  resourceTypes: TABLE,
  rationale:
    "Fixed provisioned capacity throttles on the first spike, which a cache miss storm is; on-demand or autoscaling absorbs " +
    "it. DynamoDB scales each global secondary index apart from its table, and a write to the table throttles when an index cannot absorb it.",
  remediation:
    "Set billing_mode = \"PAY_PER_REQUEST\", or add aws_appautoscaling_target resources for read and write capacity of the table " +
    "and of each global secondary index (resource_id table/<name>/index/<index>).",
  references: { checkov: ["CKV2_AWS_16"], securityHub: ["DynamoDB.1"], cdkNag: ["NIST.800.53.R5-DynamoDBAutoScalingEnabled"] },
  props: { "*": byProps("CacheTable.billing") },
  evaluate(r, { model }) {
    const mode = model.value(r, "billing_mode");
    if (mode.state === "unknown") return unresolved("billing_mode", mode.expression);
    if (mode.state === "known" && mode.value === "PAY_PER_REQUEST") return pass();
    if (mode.state === "known" && mode.value !== "PROVISIONED") return fail("billing_mode", `billing_mode = ${show(mode.value)} is not a billing mode`);
    const scaled = new Map<string, Set<string>>();
    let undecided = false;
    for (const t of model.ofType("aws_appautoscaling_target")) {
      const part = scaledPart(model, t, r);
      if (part === "unknown") undecided = true;
      else if (part !== undefined && typeof t.values.scalable_dimension === "string") {
        scaled.set(part, (scaled.get(part) ?? new Set()).add(t.values.scalable_dimension));
      }
    }
    const missing = (part: string, kind: "table" | "index") =>
      ["Read", "Write"].map((d) => `${d}CapacityUnits`).filter((d) => !scaled.get(part)?.has(`dynamodb:${kind}:${d}`));
    const out: RuleOutcome[] = [];
    const how = mode.state === "absent" ? "billing_mode is not set (PROVISIONED)" : "billing_mode = \"PROVISIONED\"";
    const table = missing("", "table");
    if (table.length > 0) out.push(fail("billing_mode", `${how} with no autoscaling of ${table.join(" and ")}`));
    const gsis = model.value(r, "global_secondary_index");
    if (gsis.state === "unknown") out.push(unresolved("global_secondary_index", gsis.expression));
    for (const g of many(gsis.state === "known" ? gsis.value : [])) {
      const name = valueAt(g, "name");
      if (typeof name !== "string" || isExpression(name)) {
        out.push(unknown("global_secondary_index", "an index name is an expression"));
        continue;
      }
      const index = missing(name, "index");
      if (index.length > 0) {
        out.push(fail(`global_secondary_index.${name}`, `index ${name} has no autoscaling of ${index.join(" and ")}: its capacity stays fixed while the table's scales`));
      }
    }
    if (out.length === 0) return pass();
    if (undecided) return unknown("billing_mode", "an autoscaling target's resource_id is an expression");
    return out;
  },
};

export const DYNAMODB_RULES: readonly PolicyRule[] = [DDB_PITR, DDB_SSE, DDB_DELETION_PROTECTION, DDB_CAPACITY];
