/**
 * Internal: a bundled function that runs outside the VPC, for the small helpers that touch no
 * private resource but need AWS's public endpoints, which a VPC without NAT does not reach (the JWT
 * authorizer fetching its issuer's JWKS, the pusher posting to a WebSocket API's connections):
 *   const parts = outsideVpcFunction(this, { entry: PUSHER.entry, description, environment, memorySize: 256, timeoutSeconds: 5 });
 * It gets its own log group (with a retention) and a role that may only write its logs and traces;
 * whatever else it may do is granted by the construct that owns it.
 */
import { LambdaFunction } from "@cdktf/provider-aws/lib/lambda-function";
import { AssetType, TerraformAsset } from "cdktf";
import { Construct } from "constructs";
import * as path from "path";
import { Role } from "../iam";
import { LogGroup } from "../logs";
import { physicalName } from "../core/naming";
import { Profile, profileOf } from "../core/profile";
import { packageRoot } from "../core/project-root";
import { bundleHandler, Bundle } from "./bundle";

/** What {@link outsideVpcFunction} makes. */
export interface OutsideVpcFunctionParts {
  readonly resource: LambdaFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;
  readonly bundle: Bundle;
}

/** Options of {@link outsideVpcFunction}. */
export interface OutsideVpcFunctionOptions {
  /** Handler entry: relative to the package root (a shipped contract's `entry`), or absolute (a contract of your own). */
  readonly entry: string;
  readonly description: string;
  /** The function's own variables (NODE_OPTIONS for source maps is added). */
  readonly environment: Readonly<Record<string, string>>;
  readonly memorySize: number;
  readonly timeoutSeconds: number;
  readonly logRetentionDays?: number;
  readonly profile?: Profile;
}

/** Creates the function's parts in `scope` (ids `code`, `logs`, `role`, `function`). */
export function outsideVpcFunction(scope: Construct, o: OutsideVpcFunctionOptions): OutsideVpcFunctionParts {
  const name = physicalName(scope, 64);
  const bundle = bundleHandler({ entry: path.resolve(packageRoot(), o.entry), target: "node22", externals: ["@aws-sdk/*", "@smithy/*"], sourceMap: true });
  const asset = new TerraformAsset(scope, "code", { path: bundle.zipPath, type: AssetType.FILE, assetHash: bundle.sha256Hex });
  const profile = profileOf(scope, o.profile);
  const logGroup = new LogGroup(scope, "logs", { name: `/aws/lambda/${name}`, retentionDays: o.logRetentionDays, profile });
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
  return { resource, role, logGroup, bundle };
}
