/**
 * The pusher of a WebSocket API (`functions/pusher`): a function outside the VPC that may post to
 * this API's connections and nothing else. `WebSocketApi` creates it and lets its function invoke it:
 *   const pusher = new ConnectionPusher(this, "pusher", { stageUrl: stage.invokeUrl, connectionsArn });
 */
import { Token } from "cdktf";
import { Construct } from "constructs";
import { PUSHER } from "../../functions/pusher/contract";
import { Profile } from "../core/profile";
import { PropsValidator } from "../core/validation";
import { Bundle } from "../function/bundle";
import { resolveSettings } from "../function/settings";
import { outsideVpcFunction } from "../function/standalone";
import { IGrantable, IPrincipal, Role } from "../iam";
import { LogGroup } from "../logs";
import { LambdaFunction } from "@cdktf/provider-aws/lib/lambda-function";

/** Props of {@link ConnectionPusher}. */
export interface ConnectionPusherProps {
  /** The WebSocket stage URL (`wss://<api>.execute-api.<region>.amazonaws.com/<stage>`); its management API is the same URL over HTTPS. */
  readonly stageUrl: string;
  /**
   * The `@connections` ARN the pusher may post to, and nothing else:
   * `arn:<partition>:execute-api:<region>:<account>:<api id>/<stage>/POST/@connections/*`.
   */
  readonly connectionsArn: string;
  /**
   * Longest one PostToConnection may take (50-10000 ms) before the connection counts as failed.
   * @default 1000
   */
  readonly postTimeoutMs?: number;
  /**
   * Days to keep the pusher's logs.
   * @default 90 in prod, 14 in dev
   */
  readonly logRetentionDays?: number;
  /**
   * Deployment profile.
   * @default the enclosing stack's profile, else `prod`
   */
  readonly profile?: Profile;
}

/**
 * Posts to a WebSocket API's connections from outside the VPC: the management API is public, and
 * the VPC has no NAT (an `execute-api` interface endpoint serves private REST APIs only). Its role
 * may write its logs and traces and call `execute-api:ManageConnections` on `connectionsArn` only.
 */
export class ConnectionPusher extends Construct implements IGrantable {
  /** The Terraform `aws_lambda_function` resource. */
  public readonly resource: LambdaFunction;
  /** The execution role: logs, X-Ray, and ManageConnections on this API's connections. */
  public readonly role: Role;
  /** The execution role, for grants. */
  public readonly grantPrincipal: IPrincipal;
  /** The function's log group, with a retention. */
  public readonly logGroup: LogGroup;
  /** The bundle deployed. */
  public readonly bundle: Bundle;
  /** The pusher's settings in force (the environment holds the same values). */
  public readonly settings: Readonly<Record<string, string | number | boolean>>;
  /** @attribute The function's name. */
  public readonly functionName: string;
  /** @attribute The function's ARN (what `lambda:InvokeFunction` is granted on). */
  public readonly functionArn: string;

  constructor(scope: Construct, id: string, props: ConnectionPusherProps) {
    super(scope, id);
    const v = PropsValidator.for(this);
    // The stage URL is a reference at synth time; the runtime checks its form at cold start.
    const literalUrl = Token.isUnresolved(props.stageUrl) ? undefined : props.stageUrl;
    const settings = resolveSettings(v, PUSHER.settings, { stageUrl: literalUrl, postTimeoutMs: props.postTimeoutMs }, "");
    v.check(Token.isUnresolved(props.connectionsArn) || /\/@connections\/\*$/.test(props.connectionsArn), "connectionsArn", props.connectionsArn,
      "an execute-api ARN ending in /@connections/* (one API's stage)");
    v.throwIfAny();
    this.settings = { ...settings.values, stageUrl: props.stageUrl };
    const postTimeoutMs = settings.values.postTimeoutMs as number;
    const parts = outsideVpcFunction(this, {
      entry: PUSHER.entry,
      description: PUSHER.description,
      environment: { ...settings.environment, [PUSHER.settings.stageUrl.env]: props.stageUrl },
      memorySize: 256,
      // Every post of one invocation runs in parallel, each bounded by the post timeout.
      timeoutSeconds: Math.ceil(postTimeoutMs / 1000) + 2,
      logRetentionDays: props.logRetentionDays,
      profile: props.profile,
    });
    this.resource = parts.resource;
    this.role = parts.role;
    this.grantPrincipal = parts.role;
    this.logGroup = parts.logGroup;
    this.bundle = parts.bundle;
    this.functionName = parts.resource.functionName;
    this.functionArn = parts.resource.arn;
    this.role.addToPrincipalPolicy("manage-connections", [{ actions: ["execute-api:ManageConnections"], resources: [props.connectionsArn] }]);
  }
}
