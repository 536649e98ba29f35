/** The account-and-region singletons, owned by one construct so no service stack manages them. */
import { AccountBaseline } from "../../modules/account";
import { onlyResource, resourcesOf, rolePolicies, synthJson } from "../helpers/synth";

describe("AccountBaseline", () => {
  const json = synthJson((stack) => new AccountBaseline(stack, "account"));

  test("registers a role only API Gateway can assume, with log-writing rights, as the account's CloudWatch role", () => {
    const account = onlyResource(json, "aws_api_gateway_account");
    expect(account.cloudwatch_role_arn).toMatch(/^\$\{aws_iam_role\.[^.]+\.arn\}$/);
    const roleId = /aws_iam_role\.([^.]+)\.arn/.exec(account.cloudwatch_role_arn)![1];
    const trust = JSON.parse(json.resource!.aws_iam_role[roleId].assume_role_policy);
    expect(trust.Statement).toEqual([expect.objectContaining({ Principal: { Service: "apigateway.amazonaws.com" }, Action: "sts:AssumeRole" })]);
    const policy = rolePolicies(json).find((p) => p.name === "push-to-cloudwatch-logs")!;
    expect(policy.doc.Statement[0].Action).toEqual(expect.arrayContaining(["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]));
    // the settings are applied only once the role can write logs
    expect(account.depends_on).toEqual([expect.stringMatching(/^aws_iam_role_policy\./)]);
  });

  test("destroying it resets the account's setting instead of leaving it on a deleted role", () => {
    expect(onlyResource(json, "aws_api_gateway_account").reset_on_delete).toBe(true);
  });

  test("apiGatewayLogging: false manages nothing", () => {
    const off = synthJson((stack) => new AccountBaseline(stack, "account", { apiGatewayLogging: false }));
    expect(resourcesOf(off, "aws_api_gateway_account")).toEqual([]);
    expect(resourcesOf(off, "aws_iam_role")).toEqual([]);
  });
});
