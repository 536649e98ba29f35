/**
 * S3 bucket rules: KMS encryption, versioning, public access blocked, TLS only. Since AWS provider
 * v4 each is a separate resource naming the bucket (`aws_s3_bucket_versioning.bucket = …`), so each
 * rule finds the bucket's companion; the deprecated inline blocks on `aws_s3_bucket` count too.
 */
import { readPolicyDocument, StatementView } from "../documents";
import { asBool, many, TerraformModel, TfResource, valueAt } from "../model";
import type { RuleOutcome } from "../types";
import { fail, pass, PolicyRule, setBy, unknown } from "../rule";
import { show } from "./util";

const BUCKET = ["aws_s3_bucket"];

/**
 * The resources of `type` whose `bucket` names `bucket` (a reference to it, or its literal name),
 * and whether some other one's `bucket` is an expression that might.
 */
function companions(model: TerraformModel, bucket: TfResource, type: string): { found: TfResource[]; undecided: boolean } {
  const found: TfResource[] = [];
  let undecided = false;
  for (const c of model.ofType(type)) {
    const p = model.follow(c, "bucket");
    if (p.kind === "resource") {
      if (p.resource.address === bucket.address) found.push(c);
    } else if (p.kind === "literal") {
      if (p.value === valueAt(bucket.values, "bucket")) found.push(c);
    } else if (p.kind === "unknown") undecided = true;
  }
  return { found, undecided };
}

/** The outcome when no companion of `type` names the bucket. */
function missing(type: string, undecided: boolean, what: string): RuleOutcome {
  return undecided ? unknown(`${type}.bucket`, `a ${type}'s bucket is an expression; cannot tell whether it ${what}`) : fail(`${type}.bucket`, `no ${type} in the stack ${what}`);
}

export const S3_KMS_ENCRYPTION: PolicyRule = {
  id: "CF-S3-1",
  title: "S3 buckets encrypt with a customer-managed KMS key",
  severity: "error",
  resourceTypes: BUCKET,
  rationale:
    "By default S3 encrypts with its own keys (SSE-S3), so anyone allowed s3:GetObject reads the objects; with a customer key, " +
    "reading also needs kms:Decrypt on a key you audit, rotate and can disable.",
  remediation:
    "Add an aws_s3_bucket_server_side_encryption_configuration with sse_algorithm = \"aws:kms\" and kms_master_key_id set to a customer-managed key (PipelineBucket does).",
  references: { checkov: ["CKV_AWS_145"], securityHub: ["S3.17"], cdkNag: ["NIST.800.53.R5-S3DefaultEncryptionKMS"] },
  props: { "*": setBy("PipelineBucket") },
  evaluate(r, { model }) {
    const type = "aws_s3_bucket_server_side_encryption_configuration";
    const inline = valueAt(r.values, "server_side_encryption_configuration");
    const { found, undecided } = companions(model, r, type);
    const configs: Array<[string, unknown]> = [
      ...found.map((c) => [`${c.address}.rule`, c.values.rule] as [string, unknown]),
      ...(inline !== undefined ? [["server_side_encryption_configuration.rule", valueAt(inline, "rule")] as [string, unknown]] : []),
    ];
    if (configs.length === 0) return missing(type, undecided, "configures its encryption (objects get SSE-S3, an AWS-owned key)");
    const out: RuleOutcome[] = [];
    for (const [at, rules] of configs) {
      for (const rule of many(rules)) {
        const def = valueAt(rule, "apply_server_side_encryption_by_default");
        const algorithm = valueAt(def, "sse_algorithm");
        const key = valueAt(def, "kms_master_key_id");
        if (algorithm !== "aws:kms" && algorithm !== "aws:kms:dsse") out.push(fail(`${at}.sse_algorithm`, `sse_algorithm = ${show(algorithm)}; expected "aws:kms"`));
        else if (key === undefined || key === null || key === "") out.push(fail(`${at}.kms_master_key_id`, "kms_master_key_id is not set (the AWS-managed key aws/s3)"));
        else if (/(^|\/|:)alias\/aws\/s3$/.test(String(key))) out.push(fail(`${at}.kms_master_key_id`, `kms_master_key_id = ${show(key)} is the AWS-managed key`));
      }
    }
    return out.length > 0 ? out : pass();
  },
};

export const S3_VERSIONING: PolicyRule = {
  id: "CF-S3-2",
  title: "S3 buckets keep versions",
  severity: "warning",
  prodSeverity: "error",
  resourceTypes: BUCKET,
  rationale: "Without versioning an overwrite or delete is final: one bad write loses a Terraform state file or the artifact a deploy is running from.",
  remediation: "Add an aws_s3_bucket_versioning with versioning_configuration { status = \"Enabled\" }, and a lifecycle that expires old versions.",
  references: { checkov: ["CKV_AWS_21"], securityHub: ["S3.14"], cdkNag: ["NIST.800.53.R5-S3BucketVersioningEnabled"] },
  props: { "*": setBy("PipelineBucket") },
  evaluate(r, { model }) {
    const type = "aws_s3_bucket_versioning";
    const inline = valueAt(r.values, "versioning.enabled");
    if (inline !== undefined && asBool(inline) === true) return pass();
    const { found, undecided } = companions(model, r, type);
    if (found.length === 0) return missing(type, undecided, "turns versioning on");
    const out = found.map((c) => {
      const status = valueAt(c.values, "versioning_configuration.status");
      return status === "Enabled" ? pass() : fail(`${c.address}.versioning_configuration.status`, `status = ${show(status)}; expected "Enabled"`);
    });
    return out.some((o) => o.status === "pass") ? pass() : out;
  },
};

const BLOCKS = ["block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"];

export const S3_PUBLIC_ACCESS_BLOCK: PolicyRule = {
  id: "CF-S3-3",
  title: "S3 buckets block every kind of public access",
  severity: "error",
  resourceTypes: BUCKET,
  rationale: "A bucket without all four public access blocks can be opened to the internet by one ACL or one policy statement, by mistake or by an attacker.",
  remediation: "Add an aws_s3_bucket_public_access_block with block_public_acls, block_public_policy, ignore_public_acls and restrict_public_buckets all true.",
  references: { checkov: ["CKV2_AWS_6", "CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56"], securityHub: ["S3.8"], cdkNag: ["NIST.800.53.R5-S3BucketLevelPublicAccessProhibited"] },
  props: { "*": setBy("PipelineBucket") },
  evaluate(r, { model }) {
    const type = "aws_s3_bucket_public_access_block";
    const { found, undecided } = companions(model, r, type);
    if (found.length === 0) return missing(type, undecided, "blocks public access to it");
    const out: RuleOutcome[] = [];
    for (const c of found) {
      for (const b of BLOCKS) {
        const v = valueAt(c.values, b);
        if (asBool(v) !== true) out.push(fail(`${c.address}.${b}`, `${b} = ${show(v)}; every block must be true (absent means false)`));
      }
    }
    return out.length > 0 ? out : pass();
  },
};

/** True when `s` denies every S3 action to everyone when the request is not over TLS. */
function deniesPlainHttp(s: StatementView): boolean {
  if (s.effect !== "Deny") return false;
  const everyone = Object.entries(s.principals).some(([t, ids]) => (t === "*" || t === "AWS") && ids.includes("*"));
  const allS3 = s.actions.some((a) => a === "*" || a.toLowerCase() === "s3:*");
  const tls = s.conditions.Bool?.["aws:SecureTransport"] ?? [];
  const objects = s.resources.some((res) => res.endsWith("/*"));
  return everyone && allS3 && objects && tls.length > 0 && tls.every((v) => v === "false");
}

export const S3_TLS_ONLY: PolicyRule = {
  id: "CF-S3-4",
  title: "S3 buckets refuse requests without TLS",
  severity: "error",
  resourceTypes: BUCKET,
  rationale: "S3 answers plain HTTP unless the bucket policy denies it; objects and signed requests would then cross networks unencrypted.",
  remediation:
    "Add an aws_s3_bucket_policy with a statement that denies s3:* to Principal \"*\" on the bucket and bucket/* when aws:SecureTransport is \"false\".",
  references: { securityHub: ["S3.5"], cdkNag: ["AwsSolutions-S10", "NIST.800.53.R5-S3BucketSSLRequestsOnly"] },
  props: { "*": setBy("PipelineBucket") },
  evaluate(r, { model }) {
    const type = "aws_s3_bucket_policy";
    const { found, undecided } = companions(model, r, type);
    if (found.length === 0) return missing(type, undecided, "denies requests without TLS");
    for (const c of found) {
      const doc = readPolicyDocument(model, c, "policy");
      if (!doc.ok) return unknown(`${c.address}.policy`, `cannot read the bucket policy: ${doc.reason}`);
      if (doc.statements.some(deniesPlainHttp)) return pass();
    }
    return fail(`${found[0].address}.policy`, "no statement denies s3:* to everyone on bucket/* when aws:SecureTransport is \"false\"");
  },
};

export const S3_RULES: readonly PolicyRule[] = [S3_KMS_ENCRYPTION, S3_VERSIONING, S3_PUBLIC_ACCESS_BLOCK, S3_TLS_ONLY];
