import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import type { TerraformProvider } from "cdktf";
import { Construct } from "constructs";
import { physicalName } from "../core/naming";
import { byProfile, Profile, profileOf } from "../core/profile";
import { LOG_RETENTION_DAYS, PropsValidator } from "../core/validation";

/** Props of {@link LogGroup}. */
export interface LogGroupProps {
  /** Log group name, e.g. `/aws/lambda/<function>`. */
  readonly name: string;
  /**
   * Days to keep events; one of CloudWatch's allowed values (1, 3, 5, 7, 14, 30, 60, 90, …, 3653).
   * @default 90 in prod, 14 in dev
   */
  readonly retentionDays?: number;
  /**
   * Customer-managed KMS key ARN to encrypt the log group with.
   * @default CloudWatch Logs' own encryption
   */
  readonly kmsKeyArn?: string;
  /**
   * The AWS provider (region) the group is created with, e.g. a us-east-1 alias for a CloudFront web ACL's logs.
   * @default the stack's default AWS provider
   */
  readonly provider?: TerraformProvider;
  /**
   * Deployment profile.
   * @default the enclosing stack's profile, else `prod`
   */
  readonly profile?: Profile;
}

/** A CloudWatch log group that always has a retention period. */
export class LogGroup extends Construct {
  /** The Terraform `aws_cloudwatch_log_group` resource. */
  public readonly resource: CloudwatchLogGroup;
  /** @attribute The log group's name. */
  public readonly logGroupName: string;
  /** @attribute The log group's ARN (without the trailing `:*`). */
  public readonly logGroupArn: string;
  /** The retention in force, after defaults. */
  public readonly retentionDays: number;

  constructor(scope: Construct, id: string, props: LogGroupProps) {
    super(scope, id);
    const profile = profileOf(this, props.profile);
    this.retentionDays = props.retentionDays ?? byProfile(profile, { dev: 14, prod: 90 });
    PropsValidator.for(this)
      .oneOf("retentionDays", this.retentionDays, LOG_RETENTION_DAYS)
      .matches("name", props.name, /^[.\-_/#A-Za-z0-9]{1,512}$/, "1-512 characters of a-z, A-Z, 0-9, '.', '-', '_', '/', '#'")
      .throwIfAny();
    this.resource = new CloudwatchLogGroup(this, "group", {
      name: props.name,
      retentionInDays: this.retentionDays,
      kmsKeyId: props.kmsKeyArn,
      provider: props.provider,
    });
    this.logGroupName = this.resource.name;
    this.logGroupArn = this.resource.arn;
  }
}

/**
 * The two log groups of an API Gateway stage (`scope`, the API construct), both with retention:
 * access logs under `/aws/apigateway/<scope's physical name>/access`, and the execution log group
 * API Gateway names itself (`executionLogGroupName`) and would otherwise create without retention.
 */
export function apiStageLogGroups(
  scope: Construct,
  props: { readonly executionLogGroupName: string; readonly retentionDays?: number; readonly profile?: Profile },
): { access: LogGroup; execution: LogGroup } {
  const { retentionDays, profile } = props;
  return {
    access: new LogGroup(scope, "access-logs", { name: `/aws/apigateway/${physicalName(scope, 128)}/access`, retentionDays, profile }),
    execution: new LogGroup(scope, "execution-logs", { name: props.executionLogGroupName, retentionDays, profile }),
  };
}
