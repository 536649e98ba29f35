/** Lambda function and permission rules. */
import { isExpression, TerraformModel, TfResource } from "../model";
import type { RuleOutcome } from "../types";
import { byProps, fail, notApplicable, pass, PolicyRule, setBy, unknown } from "../rule";
import { numberAttr, show, unresolved } from "./util";

const FN = ["aws_lambda_function"];

export const LAMBDA_TRACING: PolicyRule = {
  id: "CF-LAMBDA-1",
  title: "Functions trace with X-Ray (Active)",
  severity: "warning",
  resourceTypes: FN,
  rationale: "A cache-aside request crosses API Gateway, Lambda, the cache and the table; only active tracing shows where its time went.",
  remediation: "Set tracing_config { mode = \"Active\" } and allow xray:PutTraceSegments in the role.",
  references: { checkov: ["CKV_AWS_50"], cdkNag: ["Serverless-LambdaTracing"] },
  props: { "*": setBy("CacheAsideFunction") },
  evaluate(r, { model }) {
    const v = model.value(r, "tracing_config.mode");
    if (v.state === "absent") return fail("tracing_config.mode", "tracing_config is not set (PassThrough: no traces of its own)");
    if (v.state === "unknown") return unresolved("tracing_config.mode", v.expression);
    return v.value === "Active" ? pass() : fail("tracing_config.mode", `tracing_config.mode = ${show(v.value)}; expected "Active"`);
  },
};

export const LAMBDA_LIMITS: PolicyRule = {
  id: "CF-LAMBDA-2",
  title: "Functions set their timeout and memory explicitly",
  severity: "warning",
  resourceTypes: FN,
  rationale:
    "Lambda's defaults (3 s, 128 MB) are rarely right: too short a timeout fails slow cache misses, too little memory " +
    "also means too little CPU. Choosing both is part of the design.",
  remediation: "Set timeout (1-900 s, below API Gateway's 29 s when behind it) and memory_size (128-10240 MB).",
  references: { cdkNag: ["Serverless-LambdaDefaultMemorySize", "Serverless-LambdaDefaultTimeout"] },
  props: { timeout: byProps("CacheAsideFunction.timeoutSeconds"), memory_size: byProps("CacheAsideFunction.memorySize") },
  evaluate(r, { model }) {
    const out: RuleOutcome[] = [
      numberAttr(model, r, "timeout", "timeout is not set (Lambda's default of 3 s)", (n) =>
        Number.isInteger(n) && n >= 1 && n <= 900 ? undefined : "outside 1-900 seconds"),
      numberAttr(model, r, "memory_size", "memory_size is not set (Lambda's default of 128 MB)", (n) =>
        Number.isInteger(n) && n >= 128 && n <= 10240 ? undefined : "outside 128-10240 MB"),
    ];
    const bad = out.filter((o) => o.status !== "pass");
    return bad.length > 0 ? bad : pass();
  },
};

/**
 * Lambda runtimes and the day AWS deprecates them (Lambda runtimes page, as of November 2026).
 * A runtime not listed here is reported as unknown rather than guessed.
 */
export const LAMBDA_RUNTIME_DEPRECATION: Readonly<Record<string, string>> = {
  "nodejs24.x": "2028-04-30",
  "nodejs22.x": "2027-04-30",
  "nodejs20.x": "2026-04-30",
  "nodejs18.x": "2025-09-01",
  "nodejs16.x": "2024-06-12",
  "nodejs14.x": "2023-12-04",
  "nodejs12.x": "2023-03-31",
  "nodejs10.x": "2021-07-30",
  "nodejs8.10": "2020-03-06",
  "python3.14": "2029-06-30",
  "python3.13": "2029-06-30",
  "python3.12": "2028-10-31",
  "python3.11": "2026-06-30",
  "python3.10": "2026-06-30",
  "python3.9": "2025-12-15",
  "python3.8": "2024-10-14",
  "python3.7": "2023-12-04",
  "python3.6": "2022-07-18",
  "python2.7": "2021-07-15",
  "java25": "2029-06-30",
  "java21": "2029-06-30",
  "java17": "2026-06-30",
  "java11": "2026-06-30",
  "java8.al2": "2026-06-30",
  "java8": "2024-01-08",
  "dotnet10": "2028-11-14",
  "dotnet8": "2026-11-10",
  "dotnet7": "2024-05-14",
  "dotnet6": "2024-11-12",
  "dotnetcore3.1": "2023-04-03",
  "ruby3.4": "2028-03-31",
  "ruby3.3": "2027-03-31",
  "ruby3.2": "2026-03-31",
  "ruby2.7": "2023-11-27",
  "provided.al2023": "2029-06-30",
  "provided.al2": "2026-06-30",
  "provided": "2024-01-08",
  "go1.x": "2024-01-08",
};

export const LAMBDA_RUNTIME: PolicyRule = {
  id: "CF-LAMBDA-3",
  title: "Functions use a supported runtime",
  severity: "error",
  resourceTypes: FN,
  rationale: "A deprecated runtime gets no security patches, and Lambda later blocks creating and updating functions on it.",
  remediation: "Move to a runtime still in standard support (e.g. nodejs22.x or newer) and redeploy.",
  references: { checkov: ["CKV_AWS_363"], securityHub: ["Lambda.2"], cdkNag: ["AwsSolutions-L1", "Serverless-LambdaLatestVersion"] },
  props: { "*": byProps("CacheAsideFunction.runtime") },
  evaluate(r, { model, today }) {
    const pkg = model.value(r, "package_type");
    if (pkg.state === "known" && pkg.value === "Image") return notApplicable();
    const v = model.value(r, "runtime");
    if (v.state === "absent") return fail("runtime", "runtime is not set (required for zip packages)");
    if (v.state === "unknown") return unresolved("runtime", v.expression);
    const runtime = String(v.value);
    const until = LAMBDA_RUNTIME_DEPRECATION[runtime];
    if (until === undefined) return unknown("runtime", `runtime ${show(runtime)} is not in the pack's runtime table; check AWS's runtime support dates`);
    return today >= until ? fail("runtime", `runtime ${runtime} was deprecated on ${until}`) : pass();
  },
};

/** Resource types that live in a VPC: a function using them must be in one too. */
export const VPC_BOUND_TYPES: readonly string[] = [
  "aws_elasticache_replication_group", "aws_elasticache_cluster", "aws_elasticache_serverless_cache", "aws_memorydb_cluster",
  "aws_dax_cluster", "aws_db_instance", "aws_rds_cluster", "aws_rds_cluster_instance", "aws_db_proxy", "aws_docdb_cluster",
  "aws_neptune_cluster", "aws_mq_broker", "aws_msk_cluster", "aws_redshift_cluster", "aws_efs_file_system",
  "aws_efs_access_point", "aws_efs_mount_target",
];

function vpcDependencies(model: TerraformModel, r: TfResource): TfResource[] {
  return [
    ...model.referencedResources(r, "environment"),
    ...model.referencedResources(r, "file_system_config"),
  ].filter((x) => VPC_BOUND_TYPES.includes(x.type));
}

export const LAMBDA_VPC: PolicyRule = {
  id: "CF-LAMBDA-4",
  title: "Functions that use VPC resources run in a VPC across at least 2 AZs",
  severity: "error",
  resourceTypes: FN,
  rationale:
    "Caches, DAX and databases answer only inside their VPC; a function attached to subnets of a single AZ stops " +
    "when that AZ does.",
  remediation: "Set vpc_config with private subnets in two or more availability zones and a security group.",
  references: { checkov: ["CKV_AWS_117"], securityHub: ["Lambda.5"], cdkNag: ["NIST.800.53.R5-LambdaInsideVPC"] },
  props: { "*": byProps("CacheAsideFunction.network") },
  evaluate(r, { model }) {
    const deps = vpcDependencies(model, r);
    const subnets = model.followAll(r, "vpc_config.subnet_ids");
    if (subnets.length === 0) {
      if (deps.length === 0) return notApplicable();
      return fail("vpc_config.subnet_ids",
        `uses ${deps.map((d) => d.address).join(", ")} but has no vpc_config, so it cannot reach them`);
    }
    const azs = new Set<string>();
    for (const p of subnets) {
      const subnet = model.resolve(p, "aws_subnet", "id");
      if (!subnet) {
        return unknown("vpc_config.subnet_ids", p.kind === "literal"
          ? `subnet ${show(p.value)} is not defined in this stack, so its AZ is unknown`
          : "a subnet id is an expression, so its AZ is unknown");
      }
      const az = model.value(subnet, "availability_zone");
      const azId = model.value(subnet, "availability_zone_id");
      const known = az.state === "known" ? az.value : azId.state === "known" ? azId.value : undefined;
      if (known === undefined) return unknown("vpc_config.subnet_ids", `the AZ of ${subnet.address} is not known before apply`);
      azs.add(String(known));
    }
    if (azs.size < 2) {
      return fail("vpc_config.subnet_ids", `subnets span ${azs.size} availability zone (${[...azs].join(", ")}); at least 2 are needed`);
    }
    return pass();
  },
};

const SECRET_NAME = /(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL)/i;
const REFERENCE_NAME = /(_ARN|_NAME|_ID)$/i;
const SECRET_VALUE_PATTERNS: ReadonlyArray<[RegExp, string]> = [
  [/\b(AKIA|ASIA)[A-Z0-9]{16}\b/, "an AWS access key id"],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, "a private key"],
  [/\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/, "a JSON web token"],
  [/\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})/, "a GitHub token"],
  [/\bxox[abposr]-[A-Za-z0-9-]{10,}/, "a Slack token"],
  [/\b[sr]k_live_[A-Za-z0-9]{16,}/, "a Stripe key"],
  [/\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i, "a URL with a password"],
];
/** Attributes whose value is a secret: referencing one from an environment variable copies it there. */
const SECRET_ATTRIBUTES = /\.(secret_string|secret_binary|auth_token|password|master_password|result|secret|private_key_pem|private_key_openssh|ses_smtp_password_v4|value)$/;
const SECRET_SOURCES = /^(aws_secretsmanager_secret_version|data\.aws_secretsmanager_secret_version|random_password|aws_iam_access_key|tls_private_key|aws_elasticache_replication_group|aws_db_instance|aws_rds_cluster|data\.aws_ssm_parameter|aws_ssm_parameter)\./;

export const LAMBDA_NO_SECRETS_IN_ENV: PolicyRule = {
  id: "CF-LAMBDA-5",
  title: "No secrets in environment variables",
  severity: "error",
  resourceTypes: FN,
  rationale:
    "Environment variables are readable by anyone with lambda:GetFunctionConfiguration, are stored in the Terraform " +
    "state and appear in plans; secrets belong in Secrets Manager, fetched at runtime by ARN.",
  remediation: "Store the value in Secrets Manager and pass only its ARN (a variable ending in _ARN); read it at runtime.",
  references: { checkov: ["CKV_AWS_45"] },
  props: { "*": byProps("CacheAsideFunction.environment") },
  evaluate(r, { model }) {
    const vars = model.value(r, "environment.variables");
    if (vars.state === "absent") return notApplicable();
    if (vars.state === "unknown") return unresolved("environment.variables", vars.expression);
    const out: RuleOutcome[] = [];
    for (const [name, value] of Object.entries((vars.value ?? {}) as Record<string, unknown>)) {
      const at = `environment.variables.${name}`;
      const refs = model.rawReferences(r, at);
      const secretRef = refs.find((ref) => SECRET_SOURCES.test(ref) && SECRET_ATTRIBUTES.test(ref));
      if (secretRef) {
        out.push(fail(at, `${name} copies the secret ${secretRef} into the environment`));
        continue;
      }
      if (typeof value === "string" && isExpression(value)) {
        // References to ids, names, ARNs and endpoints are fine; anything else (variables, functions) waits for the plan.
        const opaque = refs.some((ref) => /^(var|local)\./.test(ref)) || refs.length === 0;
        if (opaque) out.push(unknown(at, `${name} is the expression ${show(value)}; its value is known only after planning`));
        continue;
      }
      const text = typeof value === "string" ? value : JSON.stringify(value);
      const pattern = SECRET_VALUE_PATTERNS.find(([re]) => re.test(text));
      if (pattern) {
        out.push(fail(at, `${name} holds what looks like ${pattern[1]}`));
        continue;
      }
      const trivial = text.trim() === "" || /^(-?\d+(\.\d+)?|true|false)$/i.test(text.trim()) || /^arn:aws[a-z-]*:/.test(text);
      if (SECRET_NAME.test(name) && !REFERENCE_NAME.test(name) && !trivial) {
        out.push(fail(at, `${name} looks like a secret (its name) and holds a literal value`));
      }
    }
    return out.length > 0 ? out : pass();
  },
};

export const LAMBDA_LOG_RETENTION: PolicyRule = {
  id: "CF-LAMBDA-6",
  title: "Functions log to a managed log group with retention",
  severity: "warning",
  prodSeverity: "error",
  resourceTypes: FN,
  rationale:
    "When no log group exists, Lambda creates /aws/lambda/<name> on first write with no retention, so logs (and " +
    "any data in them) are kept forever.",
  remediation:
    "Create the function's aws_cloudwatch_log_group (name /aws/lambda/<function_name>, or the one in logging_config) with retention_in_days.",
  references: {},
  props: { retention_in_days: byProps("CacheAsideFunction.logRetentionDays"), "*": setBy("CacheAsideFunction, which creates the log group") },
  evaluate(r, { model }) {
    const configured = model.follow(r, "logging_config.log_group");
    let group: TfResource | undefined;
    let attr = "logging_config.log_group";
    if (configured.kind === "unknown") return unresolved(attr, configured.expression);
    if (configured.kind === "absent") {
      const name = model.value(r, "function_name");
      if (name.state !== "known") return unknown("function_name", "the function name (and so its default log group) is not known before apply");
      attr = "(log group /aws/lambda/<function_name>)";
      group = model.resolve({ kind: "literal", value: `/aws/lambda/${String(name.value)}` }, "aws_cloudwatch_log_group");
      if (!group) {
        return fail(attr, `no aws_cloudwatch_log_group named /aws/lambda/${String(name.value)} in the stack: Lambda creates it without retention`);
      }
    } else {
      group = model.resolve(configured, "aws_cloudwatch_log_group");
      if (!group) {
        if (configured.kind === "resource") return fail(attr, `logging_config.log_group refers to ${configured.resource.address}, not a log group`);
        return unknown(attr, `log group ${show(configured.value)} is not defined in this stack`);
      }
    }
    const retention = model.value(group, "retention_in_days");
    if (retention.state === "unknown") return unresolved(`${group.address}.retention_in_days`, retention.expression);
    if (retention.state === "absent" || Number(retention.value) === 0) {
      return fail(`${group.address}.retention_in_days`, `the function's log group ${group.address} keeps logs forever (no retention_in_days)`);
    }
    return pass();
  },
};

export const LAMBDA_NOT_PUBLIC: PolicyRule = {
  id: "CF-LAMBDA-7",
  title: "No one-and-all invoke permissions",
  severity: "error",
  resourceTypes: ["aws_lambda_permission", "aws_lambda_function_url"],
  rationale: "A permission for principal `*` (or a function URL with auth NONE) lets any AWS account or anyone on the internet invoke the function.",
  remediation: "Name the calling service or account as principal (with source_arn), and use AWS_IAM auth for function URLs.",
  references: { checkov: ["CKV_AWS_301", "CKV_AWS_258"], securityHub: ["Lambda.1"], cdkNag: ["NIST.800.53.R5-LambdaFunctionPublicAccessProhibited"] },
  props: { "*": setBy("CacheApi, whose permission names API Gateway (the constructs create no function URL)") },
  evaluate(r, { model }) {
    if (r.type === "aws_lambda_function_url") {
      const auth = model.value(r, "authorization_type");
      if (auth.state === "absent") return fail("authorization_type", "authorization_type is not set");
      if (auth.state === "unknown") return unresolved("authorization_type", auth.expression);
      return auth.value === "NONE" ? fail("authorization_type", "authorization_type = \"NONE\": anyone with the URL can invoke") : pass();
    }
    const principal = model.value(r, "principal");
    if (principal.state === "absent") return fail("principal", "principal is not set");
    if (principal.state === "unknown") return unresolved("principal", principal.expression);
    return String(principal.value).trim() === "*" ? fail("principal", "principal = \"*\": any account can invoke") : pass();
  },
};

export const LAMBDA_SOURCE_ARN: PolicyRule = {
  id: "CF-LAMBDA-8",
  title: "Service principals are limited by source_arn",
  severity: "error",
  resourceTypes: ["aws_lambda_permission"],
  rationale:
    "A permission for a service principal (apigateway.amazonaws.com, s3.amazonaws.com…) without source_arn lets that " +
    "service invoke the function on behalf of any account's resources: the confused-deputy problem.",
  remediation: "Set source_arn to the calling resource, e.g. \"${aws_api_gateway_rest_api.api.execution_arn}/*/*\".",
  references: { checkov: ["CKV_AWS_364"] },
  props: { "*": setBy("CacheApi, whose permission names the API's execution ARN") },
  evaluate(r, { model }) {
    const principal = model.value(r, "principal");
    if (principal.state === "unknown") return unresolved("principal", principal.expression);
    if (principal.state !== "known" || !/\.amazonaws\.com(\.cn)?$/.test(String(principal.value))) return notApplicable();
    const source = model.value(r, "source_arn");
    if (source.state === "absent") return fail("source_arn", `source_arn is not set for service principal ${String(principal.value)}`);
    if (source.state === "known" && (String(source.value).trim() === "" || String(source.value).trim() === "*")) {
      return fail("source_arn", `source_arn = ${show(source.value)} does not limit the caller`);
    }
    return pass();
  },
};

export const LAMBDA_RULES: readonly PolicyRule[] = [
  LAMBDA_TRACING, LAMBDA_LIMITS, LAMBDA_RUNTIME, LAMBDA_VPC, LAMBDA_NO_SECRETS_IN_ENV, LAMBDA_LOG_RETENTION, LAMBDA_NOT_PUBLIC, LAMBDA_SOURCE_ARN,
];
