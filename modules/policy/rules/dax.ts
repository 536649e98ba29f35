/** DynamoDB Accelerator (DAX) cluster rules. */
import { readPolicyDocument } from "../documents";
import { byProps, fail, pass, PolicyRule, setBy, unknown } from "../rule";
import { boolAttr, numberAttr, show, unresolved } from "./util";

const DAX = ["aws_dax_cluster"];
const DAX_PRINCIPAL = "dax.amazonaws.com";

export const DAX_SSE: PolicyRule = {
  id: "CF-DAX-1",
  title: "DAX clusters are encrypted at rest",
  severity: "error",
  resourceTypes: DAX,
  rationale: "DAX keeps table items in memory and on node storage; without server-side encryption they sit there in clear (the default).",
  remediation: "Set server_side_encryption { enabled = true } (forces a new cluster when changed).",
  references: { checkov: ["CKV_AWS_47"], securityHub: ["DynamoDB.3"], cdkNag: ["AwsSolutions-DDB4"] },
  props: { "*": setBy("DaxCluster") },
  evaluate(r, { model }) {
    return boolAttr(model, r, "server_side_encryption.enabled", true, "non-compliant",
      "server_side_encryption is not set (DAX does not encrypt at rest by default)");
  },
};

export const DAX_TLS: PolicyRule = {
  id: "CF-DAX-2",
  title: "DAX endpoints use TLS",
  severity: "error",
  resourceTypes: DAX,
  rationale: "The plaintext endpoint (port 8111) carries items and credentials-signed requests unencrypted inside the VPC.",
  remediation: "Set cluster_endpoint_encryption_type = \"TLS\" and connect with daxs:// on port 9111.",
  references: { checkov: ["CKV_AWS_239"], securityHub: ["DynamoDB.7"] },
  props: { "*": setBy("DaxCluster") },
  evaluate(r, { model }) {
    const v = model.value(r, "cluster_endpoint_encryption_type");
    if (v.state === "absent") return fail("cluster_endpoint_encryption_type", "cluster_endpoint_encryption_type is not set (NONE: plaintext endpoint)");
    if (v.state === "unknown") return unresolved("cluster_endpoint_encryption_type", v.expression);
    return v.value === "TLS" ? pass() : fail("cluster_endpoint_encryption_type", `cluster_endpoint_encryption_type = ${show(v.value)}; expected "TLS"`);
  },
};

export const DAX_REPLICATION: PolicyRule = {
  id: "CF-DAX-3",
  title: "Prod DAX clusters have at least 3 nodes",
  severity: "error",
  profiles: ["prod"],
  resourceTypes: DAX,
  rationale: "AWS recommends three nodes, one per AZ, for production: fewer nodes lose the cache (and its write-through path) with an AZ.",
  remediation: "Set replication_factor to 3 or more in prod.",
  references: {},
  props: { "*": byProps("DaxCluster.replicationFactor") },
  evaluate(r, { model }) {
    return numberAttr(model, r, "replication_factor", "replication_factor is not set",
      (n) => (n >= 3 ? undefined : "prod needs at least 3 nodes (one per AZ)"));
  },
};

export const DAX_ROLE_TRUST: PolicyRule = {
  id: "CF-DAX-4",
  title: "The DAX service role trusts only dax.amazonaws.com",
  severity: "error",
  resourceTypes: DAX,
  rationale:
    "The role DAX assumes can read and write the fronted tables; any other principal in its trust policy gets that " +
    "access too.",
  remediation: "Make the role's assume_role_policy allow sts:AssumeRole to the service principal dax.amazonaws.com only.",
  references: { checkov: ["CKV_AWS_60"] },
  props: { "*": setBy("DaxCluster") },
  evaluate(r, { model }) {
    const p = model.follow(r, "iam_role_arn");
    if (p.kind === "absent") return fail("iam_role_arn", "iam_role_arn is not set");
    if (p.kind === "unknown") return unresolved("iam_role_arn", p.expression);
    const role = model.resolve(p, "aws_iam_role", "arn");
    if (!role) return unknown("iam_role_arn", `the role ${p.kind === "literal" ? show(p.value) : ""} is not defined in this stack, so its trust policy cannot be read`);
    const doc = readPolicyDocument(model, role, "assume_role_policy");
    if (!doc.ok) return unknown(`${role.address}.assume_role_policy`, `cannot read the trust policy: ${doc.reason}`);
    const allows = doc.statements.filter((s) => s.effect === "Allow");
    if (allows.length === 0) return fail(`${role.address}.assume_role_policy`, "the trust policy allows no one");
    for (const s of allows) {
      const entries = Object.entries(s.principals);
      const others = entries.filter(([type, ids]) => type !== "Service" || ids.some((id) => id !== DAX_PRINCIPAL));
      if (others.length > 0 || entries.length === 0) {
        const who = entries.map(([t, ids]) => `${t}: ${ids.join(", ")}`).join("; ") || "no principal";
        return fail(`${role.address}.assume_role_policy`, `the trust policy also admits ${who}`);
      }
    }
    return pass();
  },
};

export const DAX_RULES: readonly PolicyRule[] = [DAX_SSE, DAX_TLS, DAX_REPLICATION, DAX_ROLE_TRUST];
