/**
 * An API Gateway WebSocket API serving the socket routes of a function's contract, each a Lambda
 * proxy integration of that function; `$connect` goes through the authorization:
 *   const ws = new WebSocketApi(this, "realtime", { function: fn, authorization: Authorization.jwt({ issuer, audience }) });
 *   new TerraformOutput(this, "websocket_url", { value: ws.url });   // wss://<id>.execute-api.<region>.amazonaws.com/v1
 * Wiring creates the rest: the pusher (functions/pusher, outside the VPC) may post to this API's
 * connections only, the function may invoke the pusher only (through the VPC's `lambda` interface
 * endpoint, created once by the network), and the function's environment names the pusher.
 */
import { Apigatewayv2Api } from "@cdktf/provider-aws/lib/apigatewayv2-api";
import { Apigatewayv2Deployment } from "@cdktf/provider-aws/lib/apigatewayv2-deployment";
import { Apigatewayv2Integration } from "@cdktf/provider-aws/lib/apigatewayv2-integration";
import { Apigatewayv2Route } from "@cdktf/provider-aws/lib/apigatewayv2-route";
import { Apigatewayv2RouteResponse } from "@cdktf/provider-aws/lib/apigatewayv2-route-response";
import { Apigatewayv2Stage } from "@cdktf/provider-aws/lib/apigatewayv2-stage";
import { LambdaPermission } from "@cdktf/provider-aws/lib/lambda-permission";
import { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { createHash } from "crypto";
import { CONNECTION_MAP_BACKENDS, CONNECTIONS, routeSelectionExpression, SOCKET_ROUTE, SocketSpec } from "../../functions/lib/contract";
import type { AccountBaseline } from "../account";
import type { ApiLoggingLevel } from "../api";
import { Authorization, JwtAuthorizerFunction } from "../authorization";
import { physicalName } from "../core/naming";
import { byProfile, Profile, profileOf } from "../core/profile";
import { PropsValidator } from "../core/validation";
import { CacheAsideFunction } from "../function";
import { apiStageLogGroups, LogGroup } from "../logs";
import { BoundSocketAuthorization, bindSocketAuthorization } from "./authorization";
import { ConnectionPusher } from "./pusher";

export { ConnectionPusher } from "./pusher";
export type { ConnectionPusherProps } from "./pusher";
export type { BoundSocketAuthorization } from "./authorization";

/** Props of {@link WebSocketApi}. */
export interface WebSocketApiProps {
  /** The function whose contract's socket routes the API serves (its contract needs a `socket` spec). */
  readonly function: CacheAsideFunction;
  /**
   * How `$connect` verifies the caller: `Authorization.jwt(…)` (a REQUEST authorizer reading the token
   * from the connect URL's `token` query parameter, since browsers cannot set headers on a WebSocket
   * upgrade) or `Authorization.iam()` (SigV4-signed upgrades). `Authorization.cognito(…)` is refused:
   * WebSocket APIs take only Lambda and IAM authorizers (use `jwt` with the user pool as issuer).
   * @default none: refused, since every socket follows a caller's session
   */
  readonly authorization?: Authorization;
  /**
   * The JWT authorizer function to verify tokens with, e.g. the REST API's (`api.authorization.function`):
   * one function, invoked by each API through a permission scoped to that API's authorizer.
   * @default a JwtAuthorizerFunction of this API's own (for a jwt authorization)
   */
  readonly authorizerFunction?: JwtAuthorizerFunction;
  /**
   * API name.
   * @default derived from the construct path
   */
  readonly apiName?: string;
  /**
   * Stage name (letters, digits, `_`, `-`; at most 128), the path of the wss URL.
   * @default "v1"
   */
  readonly stageName?: string;
  /**
   * Steady messages (and connects) per second the stage accepts on each route before refusing them.
   * @default 500 in prod, 50 in dev
   */
  readonly throttlingRateLimit?: number;
  /**
   * Messages the stage accepts in a burst above the steady rate.
   * @default 1000 in prod, 100 in dev
   */
  readonly throttlingBurstLimit?: number;
  /**
   * Execution log level of every route (message bodies are never logged: data trace stays off).
   * @default "ERROR" in prod, "INFO" in dev
   */
  readonly loggingLevel?: ApiLoggingLevel;
  /**
   * Longest one post of the pusher may take, in milliseconds (50-10000).
   * @default 1000
   */
  readonly postTimeoutMs?: number;
  /**
   * Days to keep the access and execution logs, and the pusher's.
   * @default 90 in prod, 14 in dev
   */
  readonly logRetentionDays?: number;
  /**
   * The account's API Gateway settings when they are managed in this stack: the stage waits for
   * them (execution logging needs the account's CloudWatch role).
   * @default none: an AccountBaseline deployed earlier manages them
   */
  readonly accountSettings?: AccountBaseline;
  /**
   * Deployment profile.
   * @default the enclosing stack's profile, else `prod`
   */
  readonly profile?: Profile;
}

const STAGE_NAME_RE = /^[A-Za-z0-9_-]{1,128}$/;
/** The one route response of a route that answers its sender (API Gateway's catch-all key). */
const ROUTE_RESPONSE_KEY = "$default";
/** API Gateway's integration timeout for WebSocket APIs, as for REST. */
const INTEGRATION_TIMEOUT_SECONDS = 29;

/** One JSON object per event; `$context.eventType` tells connects, messages and disconnects apart. */
const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: "$context.requestId",
  ip: "$context.identity.sourceIp",
  principal: "$context.authorizer.principalId",
  requestTime: "$context.requestTime",
  eventType: "$context.eventType",
  routeKey: "$context.routeKey",
  connectionId: "$context.connectionId",
  status: "$context.status",
  integrationLatency: "$context.integrationLatency",
  integrationStatus: "$context.integration.status",
  errorMessage: "$context.error.message",
});

/**
 * A WebSocket API (`aws_apigatewayv2_api`, protocol WEBSOCKET, routes selected by the message's
 * action) on a function: routes from its contract's socket spec, `$connect` authorized, a stage
 * with JSON access logs, execution logs and default-route throttling, and the pusher that posts to
 * its connections. API Gateway offers no X-Ray tracing on WebSocket (or HTTP) API stages, only on
 * REST APIs: traces start at the function, whose tracing is on.
 */
export class WebSocketApi extends Construct {
  /** The Terraform `aws_apigatewayv2_api` resource. */
  public readonly api: Apigatewayv2Api;
  /** The Lambda proxy integration every route targets. */
  public readonly integration: Apigatewayv2Integration;
  /** Routes by route key (`$connect`, `sendTurn`, …). */
  public readonly routes: ReadonlyMap<string, Apigatewayv2Route>;
  /** Route responses of the routes that answer their sender, by route key. */
  public readonly routeResponses: ReadonlyMap<string, Apigatewayv2RouteResponse>;
  /** The deployment, replaced (create before destroy) whenever `redeploymentHash` changes. */
  public readonly deployment: Apigatewayv2Deployment;
  /** The stage: access logs, execution logs, default-route throttling. */
  public readonly stage: Apigatewayv2Stage;
  /** The group the stage writes JSON access logs to. */
  public readonly accessLogGroup: LogGroup;
  /** The group API Gateway writes execution logs to, created here so it has a retention. */
  public readonly executionLogGroup: LogGroup;
  /** Lets API Gateway invoke the function, from this API only. */
  public readonly permission: LambdaPermission;
  /** The authorization bound to `$connect`. */
  public readonly authorization: BoundSocketAuthorization;
  /** Posts to this API's connections on the function's behalf. */
  public readonly pusher: ConnectionPusher;
  /** The function behind every route. */
  public readonly function: CacheAsideFunction;
  /** The socket spec served. */
  public readonly socket: SocketSpec;
  /** @attribute — the stage's URL, `wss://<id>.execute-api.<region>.amazonaws.com/<stage>`. */
  public readonly url: string;
  /** @attribute The API's id (the `ApiId` dimension of its CloudWatch metrics). */
  public readonly apiId: string;
  /** @attribute The API's execution ARN (`arn:…:execute-api:<region>:<account>:<api id>`). */
  public readonly executionArn: string;
  /** @attribute — the `@connections` ARN of the stage the pusher may post to. */
  public readonly connectionsArn: string;
  /** The API's name. */
  public readonly apiName: string;
  /** The stage's name. */
  public readonly stageName: string;
  /** sha256 of the canonical route list: the deployment is replaced whenever it changes. */
  public readonly redeploymentHash: string;
  /** Throttling in force, after defaults. */
  public readonly throttlingRateLimit: number;
  /** Burst limit in force, after defaults. */
  public readonly throttlingBurstLimit: number;
  /** Execution log level in force, after defaults. */
  public readonly loggingLevel: ApiLoggingLevel;

  constructor(scope: Construct, id: string, props: WebSocketApiProps) {
    super(scope, id);
    const profile = profileOf(this, props.profile);
    const fn = props.function;
    const socket = fn.contract.socket;
    this.function = fn;
    this.stageName = props.stageName ?? "v1";
    this.apiName = props.apiName ?? physicalName(this, 128);
    this.throttlingRateLimit = props.throttlingRateLimit ?? byProfile(profile, { dev: 50, prod: 500 });
    this.throttlingBurstLimit = props.throttlingBurstLimit ?? byProfile(profile, { dev: 100, prod: 1000 });
    this.loggingLevel = props.loggingLevel ?? byProfile<ApiLoggingLevel>(profile, { dev: "INFO", prod: "ERROR" });

    const v = PropsValidator.for(this)
      .check(!!socket, "function.contract.socket", fn.contract.name, `a contract with a socket spec (defineSocket): ${fn.contract.name} serves no WebSocket routes`)
      .matches("stageName", this.stageName, STAGE_NAME_RE, "1-128 characters of letters, digits, '_' and '-'")
      .check(this.throttlingRateLimit > 0, "throttlingRateLimit", this.throttlingRateLimit, "a positive number of messages per second")
      .intRange("throttlingBurstLimit", this.throttlingBurstLimit, 1, 100_000)
      .oneOf("loggingLevel", this.loggingLevel, ["OFF", "ERROR", "INFO"] as ApiLoggingLevel[])
      .check(fn.timeoutSeconds <= INTEGRATION_TIMEOUT_SECONDS, "function.timeoutSeconds", fn.timeoutSeconds,
        `at most ${INTEGRATION_TIMEOUT_SECONDS}, API Gateway's WebSocket integration timeout`);
    const pushTimeoutMs = Number(fn.settings.pushTimeoutMs);
    v.check(!Number.isFinite(pushTimeoutMs) || pushTimeoutMs < fn.timeoutSeconds * 1000, "function.settings.pushTimeoutMs", pushTimeoutMs,
      `less than the function's timeout (${fn.timeoutSeconds * 1000} ms): a push must end before the append's answer is due`);
    v.check(props.authorization !== undefined, "authorization", props.authorization,
      "Authorization.jwt(…) or Authorization.iam(): $connect needs a verified caller (the customer whose session the socket follows)");
    v.throwIfAny();
    this.socket = socket!;
    // The backend is known once useCache ran, which may come after this construct.
    this.node.addValidation({ validate: () => cacheProblems(this, fn) });

    this.api = new Apigatewayv2Api(this, "api", {
      name: this.apiName,
      description: `WebSocket API of ${fn.contract.name} (${this.node.path})`,
      protocolType: "WEBSOCKET",
      routeSelectionExpression: routeSelectionExpression(this.socket),
    });
    this.apiId = this.api.id;
    this.executionArn = this.api.executionArn;
    this.connectionsArn = `${this.api.executionArn}/${this.stageName}/POST/@connections/*`;

    this.authorization = bindSocketAuthorization(this, props.authorization!, {
      function: props.authorizerFunction,
      logRetentionDays: props.logRetentionDays,
      profile,
    });
    fn.addEnvironment(CONNECTIONS.callerIdentity.env, this.authorization.callerIdentitySource);

    this.integration = new Apigatewayv2Integration(this, "integration", {
      apiId: this.api.id,
      integrationType: "AWS_PROXY",
      // Lambda is always invoked with POST.
      integrationMethod: "POST",
      integrationUri: fn.invokeArn,
    });
    const routes = new Map<string, Apigatewayv2Route>();
    const responses = new Map<string, Apigatewayv2RouteResponse>();
    for (const r of this.socket.routes) {
      const slug = r.routeKey.replace(/^\$/, "").replace(/[^A-Za-z0-9_-]/g, "-");
      const guarded = r.routeKey === SOCKET_ROUTE.connect;
      const route = new Apigatewayv2Route(this, `route-${slug}`, {
        apiId: this.api.id,
        routeKey: r.routeKey,
        target: `integrations/${this.integration.id}`,
        authorizationType: guarded ? this.authorization.authorizationType : "NONE",
        authorizerId: guarded ? this.authorization.authorizer?.id : undefined,
        // API Gateway's catch-all route response: whatever the integration answers goes back.
        routeResponseSelectionExpression: r.reply ? ROUTE_RESPONSE_KEY : undefined,
      });
      routes.set(r.routeKey, route);
      if (r.reply) {
        responses.set(r.routeKey, new Apigatewayv2RouteResponse(this, `route-response-${slug}`, {
          apiId: this.api.id,
          routeId: route.id,
          routeResponseKey: ROUTE_RESPONSE_KEY,
        }));
      }
    }
    this.routes = routes;
    this.routeResponses = responses;

    this.redeploymentHash = createHash("sha256").update(JSON.stringify({
      selection: routeSelectionExpression(this.socket),
      routes: [...this.socket.routes].map((r) => ({ key: r.routeKey, reply: r.reply === true })).sort((a, b) => a.key.localeCompare(b.key)),
      authorization: this.authorization.fingerprint,
      function: fn.node.path,
    })).digest("hex");
    const dependsOn: ITerraformDependable[] = [...routes.values(), ...responses.values(), this.integration];
    if (this.authorization.authorizer) dependsOn.push(this.authorization.authorizer);
    this.deployment = new Apigatewayv2Deployment(this, "deployment", {
      apiId: this.api.id,
      description: `Routes ${this.redeploymentHash.slice(0, 12)}`,
      triggers: { redeployment: this.redeploymentHash },
      lifecycle: { createBeforeDestroy: true },
      dependsOn,
    });

    // API Gateway names a WebSocket stage's execution log group itself and would create it without retention.
    const logs = apiStageLogGroups(this, {
      executionLogGroupName: `/aws/apigateway/${this.api.id}/${this.stageName}`,
      retentionDays: props.logRetentionDays,
      profile,
    });
    this.accessLogGroup = logs.access;
    this.executionLogGroup = logs.execution;

    const stageDependsOn: ITerraformDependable[] = [this.executionLogGroup.resource];
    if (props.accountSettings?.apiGatewayAccount) stageDependsOn.push(props.accountSettings.apiGatewayAccount);
    this.stage = new Apigatewayv2Stage(this, "stage", {
      apiId: this.api.id,
      name: this.stageName,
      deploymentId: this.deployment.id,
      accessLogSettings: { destinationArn: this.accessLogGroup.logGroupArn, format: ACCESS_LOG_FORMAT },
      defaultRouteSettings: {
        throttlingRateLimit: this.throttlingRateLimit,
        throttlingBurstLimit: this.throttlingBurstLimit,
        loggingLevel: this.loggingLevel,
        // Data trace would log every message, i.e. customer conversations, into CloudWatch.
        dataTraceEnabled: false,
        detailedMetricsEnabled: true,
      },
      dependsOn: stageDependsOn,
    });
    this.url = this.stage.invokeUrl;

    this.permission = new LambdaPermission(this, "invoke", {
      functionName: fn.functionName,
      action: "lambda:InvokeFunction",
      principal: "apigateway.amazonaws.com",
      sourceArn: `${this.api.executionArn}/*/*`,
    });

    this.pusher = new ConnectionPusher(this, "pusher", {
      // From the API, not the stage: the stage depends (through its deployment, routes and
      // integration) on the function, whose environment names the pusher: a cycle.
      stageUrl: `${this.api.apiEndpoint}/${this.stageName}`,
      connectionsArn: this.connectionsArn,
      postTimeoutMs: props.postTimeoutMs,
      logRetentionDays: props.logRetentionDays,
      profile,
    });
    // The function reaches the pusher through the Lambda API's interface endpoint: its security
    // group has no route to the internet, and needs none.
    fn.grantPrincipal.addToPrincipalPolicy("invoke-pusher", [{ actions: ["lambda:InvokeFunction"], resources: [this.pusher.functionArn] }]);
    fn.network.addInterfaceEndpoint("lambda").connections.allowDefaultPortFrom(fn);
    fn.addEnvironment(CONNECTIONS.pusherFunction.env, this.pusher.functionName);
  }
}

/** Problems of the function's cache for a contract that needs a connection map (a validation: useCache may come later). */
function cacheProblems(api: WebSocketApi, fn: CacheAsideFunction): string[] {
  if (!fn.contract.needs?.connectionMap) return [];
  const backend = fn.environment[CONNECTIONS.cacheBackend.env];
  const e = PropsValidator.for(api)
    .check(backend !== undefined && CONNECTION_MAP_BACKENDS.includes(backend), `function(${fn.node.path}).cache`, backend ?? "no cache wired",
      `a cache that can hold the connection map (${CONNECTION_MAP_BACKENDS.join(", ")}): ${fn.contract.name} keeps WebSocket connections ` +
        "and presence in sorted sets updated atomically. Wire a Redis/Valkey cache with fn.useCache(cache)")
    .error;
  return e ? [e.message] : [];
}
