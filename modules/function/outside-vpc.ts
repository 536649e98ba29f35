/**
 * Internal: the parts of a Lambda function that runs outside the VPC because it reads no private
 * resource (the JWT authorizer, the edge invalidator): its bundle, a log group with retention, a
 * role that may write its logs and traces (grants add the rest), and the function, arm64 and traced.
 */
import { LambdaFunction } from "@cdktf/provider-aws/lib/lambda-function";
import { AssetType, TerraformAsset } from "cdktf";
import { Construct } from "constructs";
import { physicalName } from "../core/naming";
import type { Profile } from "../core/profile";
import { Role } from "../iam";
import { LogGroup } from "../logs";
import { bundleHandler, Bundle } from "./bundle";

/** What {@link outsideVpcFunction} made, in `scope`. */
export interface OutsideVpcFunction {
  readonly bundle: Bundle;
  readonly logGroup: LogGroup;
  readonly role: Role;
  readonly resource: LambdaFunction;
}

/** The function of `entry` (absolute path) in `scope`, as constructs `code`, `logs`, `role` and `function`. */
export function outsideVpcFunction(scope: Construct, o: {
  readonly entry: string;
  readonly description: string;
  readonly memorySize: number;
  readonly timeoutSeconds: number;
  readonly environment: Readonly<Record<string, string>>;
  readonly logRetentionDays?: number;
  readonly profile: Profile;
}): OutsideVpcFunction {
  const name = physicalName(scope, 64);
  const bundle = bundleHandler({ entry: o.entry, target: "node22", externals: ["@aws-sdk/*", "@smithy/*"], sourceMap: true });
  const asset = new TerraformAsset(scope, "code", { path: bundle.zipPath, type: AssetType.FILE, assetHash: bundle.sha256Hex });
  const logGroup = new LogGroup(scope, "logs", { name: `/aws/lambda/${name}`, retentionDays: o.logRetentionDays, profile: o.profile });
  const role = new Role(scope, "role", { assumedBy: "lambda.amazonaws.com", description: `Execution role of ${scope.node.path}` });
  role.addToPrincipalPolicy("write-logs", [
    { actions: ["logs:CreateLogStream", "logs:PutLogEvents"], resources: [`${logGroup.logGroupArn}:*`] },
  ]);
  // X-Ray has no resource-level permissions.
  role.addToPrincipalPolicy("xray-tracing", [{ actions: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources: ["*"] }]);
  const resource = new LambdaFunction(scope, "function", {
    functionName: name,
    description: o.description,
    runtime: "nodejs22.x",
    architectures: ["arm64"],
    handler: "index.handler",
    filename: asset.path,
    sourceCodeHash: bundle.sha256Base64,
    role: role.roleArn,
    memorySize: o.memorySize,
    timeout: o.timeoutSeconds,
    tracingConfig: { mode: "Active" },
    loggingConfig: { logFormat: "Text", logGroup: logGroup.logGroupName },
    environment: { variables: { NODE_OPTIONS: "--enable-source-maps", ...o.environment } },
    dependsOn: [logGroup.resource, role.policyResource("write-logs")!],
  });
  return { bundle, logGroup, role, resource };
}
