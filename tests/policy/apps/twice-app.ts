/**
 * An app for tests/policy/check.test.ts whose two stacks pass the policy pack one by one but cannot
 * be deployed side by side: both manage the account's API Gateway settings, and both name a
 * table "orders". Run by the check tool, not by jest.
 */
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { App, TerraformStack } from "cdktf";
import { AccountBaseline, CacheTable, PRODUCTS_TABLE } from "../../../modules";
import { PROFILE_CONTEXT_KEY } from "../../../modules/core/profile";
import { applyPolicy } from "../../../modules/policy";

const app = new App();
for (const id of ["team-a-dev", "team-b-dev"]) {
  const stack = new TerraformStack(app, id);
  stack.node.setContext(PROFILE_CONTEXT_KEY, "dev");
  new AwsProvider(stack, "aws", { region: "us-east-1" });
  new AccountBaseline(stack, "account");
  new CacheTable(stack, "orders", { ...PRODUCTS_TABLE, tableName: "orders" });
}
applyPolicy(app);
app.synth();
