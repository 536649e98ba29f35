/**
 * Can these stacks be deployed into the same accounts and regions side by side? Each stack plans
 * on its own, so nothing else sees that two of them manage the same account-wide singleton (they
 * overwrite each other, and destroying one unsets the other's), or give two resources a name that
 * must be unique per account and region (the second apply fails). This reads every synthesized
 * stack of an app and reports both.
 *
 *   const conflicts = checkDeployTogether(stacks.map((name) => ({ name, json: readJson(name) })));
 */
import { TerraformModel } from "./model";

/** One synthesized stack: its name and parsed `cdk.tf.json`. */
export interface SynthesizedStack {
  /** The stack's name. */
  readonly name: string;
  /** The parsed `cdk.tf.json`. */
  readonly json: unknown;
}

/** Where a resource is deployed: the provider's account (when pinned) and region. */
interface Place {
  readonly account: string;
  readonly region: string;
}

/** One place two stacks collide. */
export interface DeployConflict {
  /** A singleton managed twice, or a physical name used twice. */
  readonly kind: "singleton" | "name";
  /** Resource type, e.g. `aws_api_gateway_account`. */
  readonly type: string;
  /** The account/region and, for names, the name that collide. */
  readonly key: string;
  /** Every resource in the collision: stack, address and construct path. */
  readonly resources: ReadonlyArray<{ readonly stack: string; readonly address: string; readonly path: string }>;
  /** One line saying what collides and what to do. */
  readonly message: string;
}

/**
 * Resources of which an account holds one per region (or one per key, where given): a second stack
 * managing one overwrites the first's settings.
 */
export const ACCOUNT_SINGLETONS: Readonly<Record<string, { readonly key?: readonly string[]; readonly global?: boolean }>> = {
  aws_api_gateway_account: {},
  aws_xray_encryption_config: {},
  aws_ebs_encryption_by_default: {},
  aws_ebs_default_kms_key: {},
  aws_s3_account_public_access_block: { global: true },
  aws_iam_account_password_policy: { global: true },
  aws_iam_account_alias: { global: true },
  aws_guardduty_detector: {},
  aws_securityhub_account: {},
  aws_macie2_account: {},
  aws_config_configuration_recorder: {},
  aws_iam_service_linked_role: { key: ["aws_service_name", "custom_suffix"], global: true },
  aws_cloudwatch_log_resource_policy: { key: ["policy_name"] },
};

/**
 * Attributes that name a resource and must be unique per account and region (or per account,
 * `global`), by type. A name given as an expression is not compared (it is known only at apply);
 * `name_prefix` is never a collision (Terraform appends a unique suffix).
 */
export const UNIQUE_NAMES: Readonly<Record<string, { readonly attrs: readonly string[]; readonly global?: boolean }>> = {
  aws_iam_role: { attrs: ["name"], global: true },
  aws_iam_policy: { attrs: ["name", "path"], global: true },
  aws_iam_user: { attrs: ["name"], global: true },
  aws_iam_instance_profile: { attrs: ["name"], global: true },
  aws_s3_bucket: { attrs: ["bucket"], global: true },
  aws_cloudfront_cache_policy: { attrs: ["name"], global: true },
  aws_cloudfront_origin_request_policy: { attrs: ["name"], global: true },
  aws_cloudfront_response_headers_policy: { attrs: ["name"], global: true },
  aws_lambda_function: { attrs: ["function_name"] },
  aws_cloudwatch_log_group: { attrs: ["name"] },
  aws_dynamodb_table: { attrs: ["name"] },
  aws_elasticache_replication_group: { attrs: ["replication_group_id"] },
  aws_elasticache_cluster: { attrs: ["cluster_id"] },
  aws_elasticache_serverless_cache: { attrs: ["name"] },
  aws_elasticache_subnet_group: { attrs: ["name"] },
  aws_elasticache_parameter_group: { attrs: ["name"] },
  aws_elasticache_user: { attrs: ["user_id"] },
  aws_elasticache_user_group: { attrs: ["user_group_id"] },
  aws_dax_cluster: { attrs: ["cluster_name"] },
  aws_dax_subnet_group: { attrs: ["name"] },
  aws_dax_parameter_group: { attrs: ["name"] },
  aws_secretsmanager_secret: { attrs: ["name"] },
  aws_sns_topic: { attrs: ["name"] },
  aws_sqs_queue: { attrs: ["name"] },
  aws_kms_alias: { attrs: ["name"] },
  aws_cloudwatch_dashboard: { attrs: ["dashboard_name"] },
  aws_cloudwatch_metric_alarm: { attrs: ["alarm_name"] },
  aws_cloudwatch_composite_alarm: { attrs: ["alarm_name"] },
  aws_cloudwatch_event_rule: { attrs: ["name", "event_bus_name"] },
  aws_scheduler_schedule: { attrs: ["name", "group_name"] },
  aws_scheduler_schedule_group: { attrs: ["name"] },
  aws_api_gateway_rest_api: { attrs: ["name"] },
  aws_apigatewayv2_api: { attrs: ["name"] },
  aws_api_gateway_usage_plan: { attrs: ["name"] },
  aws_api_gateway_api_key: { attrs: ["name"] },
  aws_api_gateway_domain_name: { attrs: ["domain_name"] },
  aws_wafv2_web_acl: { attrs: ["name", "scope"] },
  aws_ssm_parameter: { attrs: ["name"] },
  aws_codebuild_project: { attrs: ["name"] },
  aws_codepipeline: { attrs: ["name"] },
};

/** The account (when the provider pins one) and region a stack deploys to. */
function placeOf(json: unknown): Place {
  const aws = (json as { provider?: { aws?: unknown } })?.provider?.aws;
  const provider = (Array.isArray(aws) ? aws.find((p) => !(p as { alias?: string }).alias) ?? aws[0] : aws) as
    | { region?: string; allowed_account_ids?: string[] }
    | undefined;
  const accounts = provider?.allowed_account_ids;
  return { account: accounts?.length === 1 ? accounts[0] : "(unpinned account)", region: provider?.region ?? "(no region)" };
}

const isExpression = (v: unknown) => typeof v === "string" && v.includes("${");

/** Every singleton managed twice and every unique name used twice across `stacks`, in a stable order. */
export function checkDeployTogether(stacks: readonly SynthesizedStack[]): DeployConflict[] {
  const seen = new Map<string, { kind: DeployConflict["kind"]; type: string; key: string; resources: DeployConflict["resources"][number][] }>();
  const note = (kind: DeployConflict["kind"], type: string, key: string, r: DeployConflict["resources"][number]) => {
    const id = `${kind}|${type}|${key}`;
    const entry = seen.get(id) ?? { kind, type, key, resources: [] };
    entry.resources.push(r);
    seen.set(id, entry);
  };
  for (const stack of stacks) {
    const place = placeOf(stack.json);
    const model = TerraformModel.fromSynth(stack.json, stack.name);
    for (const r of model.resources) {
      if (r.mode !== "managed") continue;
      const at = { stack: stack.name, address: r.address, path: r.path };
      const singleton = ACCOUNT_SINGLETONS[r.type];
      if (singleton) {
        const where = singleton.global ? `account ${place.account}` : `account ${place.account}, ${place.region}`;
        const parts = (singleton.key ?? []).map((k) => r.values[k]).filter((v) => v !== undefined);
        if (!parts.some(isExpression)) note("singleton", r.type, [where, ...parts.map(String)].join(", "), at);
      }
      const unique = UNIQUE_NAMES[r.type];
      if (unique) {
        const values = unique.attrs.map((a) => r.values[a]);
        if (values[0] === undefined || values.some(isExpression)) continue;
        const where = unique.global ? `account ${place.account}` : `account ${place.account}, ${place.region}`;
        note("name", r.type, `${where}: ${values.filter((v) => v !== undefined).map(String).join(" / ")}`, at);
      }
    }
  }
  return [...seen.values()]
    .filter((e) => e.resources.length > 1)
    .map((e) => ({
      ...e,
      message:
        e.kind === "singleton"
          ? `${e.type} (${e.key}) is managed by ${e.resources.length} resources (${e.resources.map((r) => `${r.stack}: ${r.path}`).join("; ")}): ` +
            "they overwrite each other and destroying one unsets the rest; manage it once (AccountBaseline) and depend on that stack"
          : `${e.type} name ${e.key} is used by ${e.resources.length} resources (${e.resources.map((r) => `${r.stack}: ${r.path}`).join("; ")}): ` +
            "the second apply fails; give each a distinct name (or let the construct derive it from its path)",
    }))
    .sort((a, b) => (a.kind + a.type + a.key < b.kind + b.type + b.key ? -1 : 1));
}
