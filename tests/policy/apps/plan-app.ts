/**
 * An app for tests/policy/check.test.ts whose log group retentions come from Terraform
 * variables: unknown at synth, known once Terraform plans. Run by the check tool, not by jest.
 */
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { App, TerraformStack, TerraformVariable } from "cdktf";
import { applyPolicy, suppressRule } from "../../../modules/policy";

const app = new App();
const stack = new TerraformStack(app, "plan-demo-prod");
new AwsProvider(stack, "aws", { region: "us-east-1" });
const forever = new TerraformVariable(stack, "audit_retention_days", { type: "number", default: 0 });
const twoWeeks = new TerraformVariable(stack, "debug_retention_days", { type: "number", default: 14 });
new CloudwatchLogGroup(stack, "audit", { name: "/plan-demo/audit", retentionInDays: forever.numberValue });
new CloudwatchLogGroup(stack, "debug", { name: "/plan-demo/debug", retentionInDays: twoWeeks.numberValue });
const legacy = new CloudwatchLogGroup(stack, "legacy", { name: "/plan-demo/legacy", retentionInDays: forever.numberValue });
suppressRule(legacy, "CF-LOGS-1", "kept for the 2019 audit until legal closes the case");
applyPolicy(stack);
app.synth();
