/**
 * Settings that exist once per AWS account and region, whichever stack sets them. Deploy one
 * AccountBaseline per account and region, before the stacks that need it; service stacks never
 * manage these settings, so two of them can neither overwrite nor, when destroyed, unset them.
 *
 *   const baseline = new AccountBaseline(baselineStack, "account");
 *   serviceStack.addDependency(baselineStack);
 *
 * What else is account-wide in this module set, and why it is not here: the service-linked roles
 * of ElastiCache, DAX and Application Auto Scaling, which AWS creates on first use (declaring them
 * in Terraform would make the second account that already has them fail to apply).
 */
import { ApiGatewayAccount } from "@cdktf/provider-aws/lib/api-gateway-account";
import { Construct } from "constructs";
import { Role } from "../iam";

/** Props of {@link AccountBaseline}. */
export interface AccountBaselineProps {
  /**
   * Register a role that lets API Gateway write access and execution logs
   * (`aws_api_gateway_account`): a REST API stage with logging is refused until the account has
   * one ("CloudWatch Logs role ARN must be set in account settings").
   * @default true
   */
  readonly apiGatewayLogging?: boolean;
}

/** The account-and-region singletons the stacks of this module set rely on. */
export class AccountBaseline extends Construct {
  /** The role API Gateway writes logs with; absent when `apiGatewayLogging` is off. */
  public readonly apiGatewayCloudWatchRole?: Role;
  /**
   * The account's API Gateway settings; a stage in the same stack should depend on it (CacheApi's
   * `accountSettings`), one in another stack on this construct's stack.
   */
  public readonly apiGatewayAccount?: ApiGatewayAccount;

  constructor(scope: Construct, id: string, props: AccountBaselineProps = {}) {
    super(scope, id);
    if (props.apiGatewayLogging ?? true) {
      const role = new Role(this, "apigateway-cloudwatch-role", {
        assumedBy: "apigateway.amazonaws.com",
        description: "Lets API Gateway write access and execution logs of the account's REST APIs",
      });
      // "*" because API Gateway writes execution logs to groups it names itself
      // (API-Gateway-Execution-Logs_<api id>/<stage>), for every API of the account and region, not
      // one; logs is not a data-plane service, so Role allows it.
      role.addToPrincipalPolicy("push-to-cloudwatch-logs", [
        {
          actions: [
            "logs:CreateLogGroup",
            "logs:CreateLogStream",
            "logs:DescribeLogGroups",
            "logs:DescribeLogStreams",
            "logs:PutLogEvents",
            "logs:GetLogEvents",
            "logs:FilterLogEvents",
          ],
          resources: ["*"],
        },
      ]);
      this.apiGatewayCloudWatchRole = role;
      this.apiGatewayAccount = new ApiGatewayAccount(this, "apigateway", {
        cloudwatchRoleArn: role.roleArn,
        // Destroying the baseline clears the setting instead of leaving it on a deleted role.
        resetOnDelete: true,
        dependsOn: [role.policyResource("push-to-cloudwatch-logs")!],
      });
    }
  }
}
