/**
 * What a deploy build may do: derived from the stacks it deploys, at synth, so adding a resource
 * type to a stack widens the deploy role in the same change (or fails synthesis when the type's
 * IAM service is not known here), instead of failing the first deploy with AccessDenied.
 *
 *   const statements = deployStatements({ stacks, partition, accountId, pipelineKeyArn });
 */
import { TerraformDataSource, TerraformResource, TerraformStack } from "cdktf";
import { nameStem } from "../core/naming";

/**
 * IAM service prefix of Terraform resource (and data source) types, by type-name prefix; the
 * longest matching prefix wins. `null`: the type calls no AWS API that needs a permission.
 */
export const DEPLOY_SERVICE_OF_TYPE: Readonly<Record<string, string | null>> = {
  aws_acm_: "acm",
  aws_api_gateway_: "apigateway",
  aws_apigatewayv2_: "apigateway",
  aws_appautoscaling_: "application-autoscaling",
  aws_availability_zones: "ec2",
  aws_caller_identity: null, // sts:GetCallerIdentity needs no permission
  aws_cloudfront_: "cloudfront",
  aws_cloudwatch_: "cloudwatch",
  aws_cloudwatch_event_: "events",
  aws_cloudwatch_log_: "logs",
  aws_codebuild_: "codebuild",
  aws_codepipeline: "codepipeline",
  aws_codestarconnections_: "codestar-connections",
  aws_cognito_: "cognito-idp",
  aws_dax_: "dax",
  aws_default_network_acl: "ec2",
  aws_default_route_table: "ec2",
  aws_default_security_group: "ec2",
  aws_default_subnet: "ec2",
  aws_default_vpc: "ec2",
  aws_dynamodb_: "dynamodb",
  aws_ec2_: "ec2",
  aws_egress_only_internet_gateway: "ec2",
  aws_eip: "ec2",
  aws_elasticache_: "elasticache",
  aws_flow_log: "ec2",
  aws_iam_: "iam",
  aws_iam_policy_document: null, // rendered by Terraform itself
  aws_internet_gateway: "ec2",
  aws_kms_: "kms",
  aws_lambda_: "lambda",
  aws_main_route_table_association: "ec2",
  aws_nat_gateway: "ec2",
  aws_network_: "ec2",
  aws_partition: null,
  aws_pipes_: "pipes",
  aws_region: null,
  aws_route53_: "route53",
  aws_route: "ec2",
  aws_s3_: "s3",
  aws_scheduler_: "scheduler",
  aws_secretsmanager_: "secretsmanager",
  aws_security_group: "ec2",
  aws_sns_: "sns",
  aws_sqs_: "sqs",
  aws_ssm_: "ssm",
  aws_subnet: "ec2",
  aws_vpc: "ec2",
  aws_wafv2_: "wafv2",
  aws_xray_: "xray",
  terraform_data: null, // Terraform's own resource (CacheEdge's origin secret): no AWS API
};

/** The IAM service a resource type needs (`null`: none), or undefined when no prefix matches. */
export function serviceOfType(type: string): string | null | undefined {
  let best: string | undefined;
  for (const prefix of Object.keys(DEPLOY_SERVICE_OF_TYPE)) {
    if (type.startsWith(prefix) && (best === undefined || prefix.length > best.length)) best = prefix;
  }
  return best === undefined ? undefined : DEPLOY_SERVICE_OF_TYPE[best];
}

/** Every Terraform type of AWS's provider that `stacks` declare, with the stacks declaring it. */
export function awsTypesOf(stacks: readonly TerraformStack[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const stack of stacks) {
    for (const c of stack.node.findAll()) {
      if (!(c instanceof TerraformResource || c instanceof TerraformDataSource)) continue;
      const type = c.terraformResourceType;
      if (!type.startsWith("aws_")) continue; // other providers (random, archive, null) call no AWS API
      const list = out.get(type) ?? [];
      if (!list.includes(stack.node.id)) list.push(stack.node.id);
      out.set(type, list);
    }
  }
  return out;
}

/** Types of `stacks` whose IAM service is unknown here, as `type (stack, …)`. */
export function unmappedTypes(stacks: readonly TerraformStack[]): string[] {
  return [...awsTypesOf(stacks)].filter(([t]) => serviceOfType(t) === undefined).map(([t, s]) => `${t} (${s.join(", ")})`);
}

/** One statement of the deploy policy, in IAM's JSON shape. */
export interface DeployStatement {
  /** What the statement is for, e.g. `ServicesOfTheStacks`. */
  readonly Sid: string;
  /** Allow, or Deny for what the build must never touch. */
  readonly Effect: "Allow" | "Deny";
  /** IAM actions. */
  readonly Action: readonly string[];
  /** ARNs (or `*` where a create call cannot be scoped). */
  readonly Resource: readonly string[];
}

/** What {@link deployStatements} needs. */
export interface DeployStatementsInput {
  /** The stacks one deploy build applies. */
  readonly stacks: readonly TerraformStack[];
  /** Partition of the pipeline's account, e.g. `aws` (a token is fine). */
  readonly partition: string;
  /** The pipeline's account id (a token is fine). */
  readonly accountId: string;
  /** The pipeline's own key: the build may use it, never manage it. */
  readonly pipelineKeyArn: string;
}

/**
 * The deploy policy: every action of the services the stacks' resources belong to, on `*`
 * (Terraform creates, reads, updates and deletes them, and most create calls cannot be scoped to a
 * name that does not exist yet); IAM only on roles and policies named after the stacks
 * ({@link nameStem}, as `physicalName` names them) plus service-linked roles; and a Deny on
 * managing the pipeline's own key.
 */
export function deployStatements(input: DeployStatementsInput): DeployStatement[] {
  const services = new Set<string>();
  for (const type of awsTypesOf(input.stacks).keys()) {
    const s = serviceOfType(type);
    if (s) services.add(s);
  }
  const iam = `arn:${input.partition}:iam::${input.accountId}`;
  const stems = input.stacks.map((s) => nameStem(s.node.id));
  const out: DeployStatement[] = [];
  const broad = [...services].filter((s) => s !== "iam").sort();
  if (broad.length > 0) {
    out.push({ Sid: "ServicesOfTheStacks", Effect: "Allow", Action: broad.map((s) => `${s}:*`), Resource: ["*"] });
  }
  if (services.has("iam")) {
    out.push({
      Sid: "RolesAndPoliciesOfTheStacks",
      Effect: "Allow",
      Action: ["iam:*"],
      Resource: stems.flatMap((stem) => ["role", "policy", "instance-profile"].map((kind) => `${iam}:${kind}/${stem}-*`)),
    });
  }
  // ElastiCache, DAX and others create their service-linked role on first use in an account.
  out.push({ Sid: "ServiceLinkedRoles", Effect: "Allow", Action: ["iam:CreateServiceLinkedRole"], Resource: [`${iam}:role/aws-service-role/*`] });
  out.push({
    Sid: "NotThePipelinesOwnKey",
    Effect: "Deny",
    Action: ["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:CreateGrant", "kms:UpdateKeyDescription"],
    Resource: [input.pipelineKeyArn],
  });
  return out;
}
