/** CloudWatch Logs retention and Secrets Manager rules. */
import { asNumber, valueAt } from "../model";
import { byProps, fail, pass, PolicyRule, unknown } from "../rule";
import { show, unresolved } from "./util";

export const LOGS_RETENTION: PolicyRule = {
  id: "CF-LOGS-1",
  title: "Log groups have a retention period",
  severity: "warning",
  prodSeverity: "error",
  resourceTypes: ["aws_cloudwatch_log_group"],
  rationale: "Without retention_in_days, CloudWatch keeps events forever: the bill grows without bound and logged data outlives any retention promise.",
  remediation: "Set retention_in_days to one of CloudWatch's values (e.g. 14 in dev, 90 or more in prod).",
  references: { checkov: ["CKV_AWS_66"], cdkNag: ["Serverless-CloudWatchLogGroupRetentionPeriod", "NIST.800.53.R5-CloudWatchLogGroupRetentionPeriod"] },
  props: { "*": byProps(["CacheAsideFunction.logRetentionDays", "CacheApi.logRetentionDays", "RedisCache.logRetentionDays", "Network.flowLogRetentionDays"], "of the construct that owns the log group") },
  evaluate(r, { model }) {
    const v = model.value(r, "retention_in_days");
    if (v.state === "absent") return fail("retention_in_days", "retention_in_days is not set (events never expire)");
    if (v.state === "unknown") return unresolved("retention_in_days", v.expression);
    const n = asNumber(v.value);
    if (n === undefined || n <= 0) return fail("retention_in_days", `retention_in_days = ${show(v.value)} (0 means never expire)`);
    return pass();
  },
};

export const SECRETS_CMK: PolicyRule = {
  id: "CF-SM-1",
  title: "Secrets use a customer-managed KMS key",
  severity: "warning",
  resourceTypes: ["aws_secretsmanager_secret"],
  rationale:
    "With the AWS-managed key, anyone allowed secretsmanager:GetSecretValue can read the secret; a customer key adds a " +
    "second, separately audited permission (kms:Decrypt) and can be disabled in an incident. Optional: a warning, not an error.",
  remediation: "Set kms_key_id to a customer-managed KMS key (RedisCache takes kmsKeyArn) and grant kms:Decrypt to readers.",
  references: { checkov: ["CKV_AWS_149"], cdkNag: ["NIST.800.53.R5-SecretsManagerUsingKMSKey"] },
  props: { "*": byProps("RedisCache.kmsKeyArn") },
  evaluate(r, { model }) {
    const v = model.value(r, "kms_key_id");
    if (v.state === "absent") return fail("kms_key_id", "kms_key_id is not set (the AWS-managed key aws/secretsmanager)");
    if (v.state === "known" && /(^|\/|:)alias\/aws\/secretsmanager$/.test(String(v.value))) {
      return fail("kms_key_id", `kms_key_id = ${show(v.value)} is the AWS-managed key`);
    }
    return pass();
  },
};

export const SECRETS_ROTATION: PolicyRule = {
  id: "CF-SM-2",
  title: "Secrets rotate automatically (or carry a suppression saying why not)",
  severity: "error",
  resourceTypes: ["aws_secretsmanager_secret"],
  rationale: "A secret that never rotates stays valid for as long as any copy of it exists, including in logs, laptops and old state files.",
  remediation:
    "Add an aws_secretsmanager_secret_rotation for the secret (rotation_lambda_arn and rotation_rules), or suppress this rule on the construct with the reason rotation is not possible yet.",
  references: { checkov: ["CKV2_AWS_57"], securityHub: ["SecretsManager.1"], cdkNag: ["AwsSolutions-SMG4", "NIST.800.53.R5-SecretsManagerRotationEnabled"] },
  props: { "*": { none: "rotation needs a Lambda rotator, which RedisCache does not have yet; it suppresses this rule on its AUTH secret with that reason" } },
  evaluate(r, { model }) {
    let undecided = false;
    for (const rot of model.ofType("aws_secretsmanager_secret_rotation")) {
      const p = model.follow(rot, "secret_id");
      if (p.kind === "resource" && p.resource.address === r.address) {
        const rules = valueAt(rot.values, "rotation_rules");
        const days = valueAt(rules, "automatically_after_days");
        const schedule = valueAt(rules, "schedule_expression");
        if (rules === undefined || (days === undefined && schedule === undefined)) {
          return fail(`${rot.address}.rotation_rules`, `${rot.address} has no rotation schedule`);
        }
        return pass();
      }
      if (p.kind === "unknown") undecided = true;
    }
    if (undecided) return unknown("aws_secretsmanager_secret_rotation.secret_id", "a rotation's secret_id is an expression");
    return fail("aws_secretsmanager_secret_rotation.secret_id", "no aws_secretsmanager_secret_rotation in the stack rotates this secret");
  },
};

export const LOGS_RULES: readonly PolicyRule[] = [LOGS_RETENTION];
export const SECRETS_RULES: readonly PolicyRule[] = [SECRETS_CMK, SECRETS_ROTATION];
