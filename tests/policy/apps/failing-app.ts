/**
 * An app for tests/policy/check.test.ts: one prod stack with an error (a Lambda permission for
 * principal "*"), one dev stack that only has a warning. Run by the check tool, not by jest.
 */
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { LambdaPermission } from "@cdktf/provider-aws/lib/lambda-permission";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { App, TerraformStack } from "cdktf";
import { applyPolicy } from "../../../modules/policy";

const app = new App();
const prod = new TerraformStack(app, "team-prod");
new AwsProvider(prod, "aws", { region: "us-east-1" });
new LambdaPermission(prod, "anyone", { functionName: "team-fn", action: "lambda:InvokeFunction", principal: "*" });
const dev = new TerraformStack(app, "team-dev");
new AwsProvider(dev, "aws", { region: "us-east-1" });
new CloudwatchLogGroup(dev, "forever", { name: "/team/forever" });
applyPolicy(app);
app.synth();
