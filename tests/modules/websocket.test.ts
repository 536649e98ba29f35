/**
 * WebSocketApi: routes from the contract's socket spec, `$connect` authorized (JWT as a REQUEST
 * authorizer on the `token` query parameter, sharing the REST API's function; IAM; Cognito refused),
 * the stage (access logs, execution log group, throttling, no data trace), the pusher outside the VPC
 * with ManageConnections on this API's @connections only, the function's invoke grant and its path
 * to the pusher through the VPC's Lambda endpoint, and one synth error per rule.
 */
import { Construct } from "constructs";
import { CONNECTIONS, SOCKET_ROUTE } from "../../functions/lib/contract";
import { TOKEN_QUERY_PARAMETER } from "../../functions/authorizer/contract";
import {
  Authorization, CacheApi, CacheAsideFunction, CacheTable, JwtAuthorizerFunction, Network, PRODUCTS, RedisCache, SESSIONS,
  SESSIONS_TABLE, WebSocketApi, WebSocketApiProps,
} from "../../modules";
import { onlyResource, resourcesOf, rolePolicies, synthJson, SynthJson, testStack } from "../helpers/synth";
import { Testing } from "cdktf";
import { propsError } from "../helpers/props-error";

const AZS = ["us-east-1a", "us-east-1b"];
const JWT = { issuer: "https://login.example.test/", audience: "sessions" };

interface Built {
  readonly fn: CacheAsideFunction;
  readonly network: Network;
  readonly api?: CacheApi;
  readonly ws: WebSocketApi;
}

/** The session function (table, cache wired unless `cache: false`), optionally behind the REST API, and a WebSocketApi on it. */
function build(scope: Construct, opts: { props?: Partial<WebSocketApiProps>; cache?: boolean; rest?: boolean } = {}): Built {
  const network = new Network(scope, "network", { availabilityZones: AZS });
  const table = new CacheTable(scope, "sessions", SESSIONS_TABLE);
  const fn = new CacheAsideFunction(scope, "fn", { network, contract: SESSIONS });
  fn.useTable(table, { write: true });
  if (opts.cache !== false) fn.useCache(new RedisCache(scope, "cache", { network }));
  const api = opts.rest ? new CacheApi(scope, "api", { functions: [fn], authorization: Authorization.jwt(JWT) }) : undefined;
  const ws = new WebSocketApi(scope, "realtime", { function: fn, authorization: Authorization.jwt(JWT), authorizerFunction: api?.authorization?.function, ...opts.props });
  return { fn, network, api, ws };
}

function synth(opts: Parameters<typeof build>[1] = {}, profile: "dev" | "prod" = "prod"): { json: SynthJson; built: Built } {
  let built: Built | undefined;
  const json = synthJson((s) => (built = build(s, opts)), profile);
  return { json, built: built! };
}

const errorOf = propsError;

const routesByKey = (json: SynthJson) => Object.fromEntries(resourcesOf(json, "aws_apigatewayv2_route").map(([, r]) => [r.route_key, r]));

describe("routes and authorization", () => {
  const { json } = synth({ rest: true });

  test("a WEBSOCKET API selecting routes by the message's action, one route per socket route of the contract", () => {
    expect(onlyResource(json, "aws_apigatewayv2_api")).toMatchObject({ protocol_type: "WEBSOCKET", route_selection_expression: "$request.body.action" });
    const routes = routesByKey(json);
    expect(Object.keys(routes).sort()).toEqual(SESSIONS.socket!.routes.map((r) => r.routeKey).sort());
    const integration = resourcesOf(json, "aws_apigatewayv2_integration");
    expect(integration).toHaveLength(1);
    expect(integration[0][1]).toMatchObject({ integration_type: "AWS_PROXY", integration_method: "POST", integration_uri: expect.stringMatching(/aws_lambda_function\.fn_function_\w+\.invoke_arn/) });
    for (const r of Object.values(routes) as any[]) expect(r.target).toBe(`integrations/\${aws_apigatewayv2_integration.${integration[0][0]}.id}`);
  });

  test("only $connect is authorized: a REQUEST authorizer on the token query parameter, run by the REST API's authorizer function", () => {
    const routes = routesByKey(json);
    expect(routes[SOCKET_ROUTE.connect]).toMatchObject({ authorization_type: "CUSTOM", authorizer_id: expect.stringContaining("aws_apigatewayv2_authorizer") });
    for (const [k, r] of Object.entries(routes) as Array<[string, any]>) if (k !== SOCKET_ROUTE.connect) expect(r.authorization_type).toBe("NONE");
    expect(onlyResource(json, "aws_apigatewayv2_authorizer")).toMatchObject({
      authorizer_type: "REQUEST", identity_sources: [`route.request.querystring.${TOKEN_QUERY_PARAMETER}`],
      authorizer_uri: expect.stringMatching(/aws_lambda_function\.api_authorizer-fn_function_\w+\.invoke_arn/),
    });
    // One authorizer function, two permissions, each scoped to its API's authorizer.
    expect(resourcesOf(json, "aws_lambda_function").filter(([id]) => id.includes("authorizer"))).toHaveLength(1);
    const scoped = resourcesOf(json, "aws_lambda_permission").map(([, p]) => p.source_arn).filter((a: string) => a.includes("/authorizers/"));
    expect(scoped).toEqual(expect.arrayContaining([expect.stringMatching(/^\$\{aws_apigatewayv2_api\.\w+\.execution_arn\}\/authorizers\/\$\{aws_apigatewayv2_authorizer/)]));
  });

  test("routes that answer their sender have a $default route response; $connect and $disconnect none", () => {
    const routes = routesByKey(json);
    const responses = resourcesOf(json, "aws_apigatewayv2_route_response").map(([, r]) => r.route_id);
    const replying = SESSIONS.socket!.routes.filter((r) => r.reply).map((r) => r.routeKey).sort();
    expect(replying).toEqual(["$default", "sendTurn"]);
    expect(responses).toHaveLength(replying.length);
    for (const k of Object.keys(routes)) expect(routes[k].route_response_selection_expression).toBe(replying.includes(k) ? "$default" : undefined);
  });

  test("without a REST API to share with, a JwtAuthorizerFunction of its own; IAM: AWS_IAM on $connect and no authorizer", () => {
    const own = synth().json;
    expect(resourcesOf(own, "aws_lambda_function").filter(([id]) => id.startsWith("realtime_authorizer-fn"))).toHaveLength(1);
    const iam = synth({ props: { authorization: Authorization.iam() } }).json;
    expect(routesByKey(iam)[SOCKET_ROUTE.connect].authorization_type).toBe("AWS_IAM");
    expect(resourcesOf(iam, "aws_apigatewayv2_authorizer")).toEqual([]);
    const env = resourcesOf(iam, "aws_lambda_function").find(([id]) => id.startsWith("fn_"))![1].environment.variables;
    expect(env[CONNECTIONS.callerIdentity.env]).toBe("iam");
  });

  test("the deployment follows the routes (a new hash with another authorization) and the stage points at it", () => {
    const a = synth().built.ws.redeploymentHash;
    const b = synth({ props: { authorization: Authorization.iam() } }).built.ws.redeploymentHash;
    expect(a).not.toBe(b);
    expect(onlyResource(json, "aws_apigatewayv2_deployment").lifecycle).toEqual({ create_before_destroy: true });
  });
});

describe("the stage", () => {
  test("JSON access logs to a group with retention, execution logs in a group it creates, throttling, no data trace; prod and dev defaults", () => {
    for (const [profile, rate, burst, level, days] of [["prod", 500, 1000, "ERROR", 90], ["dev", 50, 100, "INFO", 14]] as const) {
      const { json } = synth({}, profile);
      const stage = onlyResource(json, "aws_apigatewayv2_stage");
      expect(stage.default_route_settings).toEqual({
        throttling_rate_limit: rate, throttling_burst_limit: burst, logging_level: level, data_trace_enabled: false, detailed_metrics_enabled: true,
      });
      expect(JSON.parse(stage.access_log_settings.format)).toMatchObject({ requestId: "$context.requestId", routeKey: "$context.routeKey", connectionId: "$context.connectionId" });
      const groups = Object.fromEntries(resourcesOf(json, "aws_cloudwatch_log_group").map(([id, g]) => [id, g]));
      const access = Object.entries(groups).find(([id]) => id.startsWith("realtime_access-logs"))![1];
      expect(stage.access_log_settings.destination_arn).toMatch(/realtime_access-logs_group_\w+\.arn/);
      expect(access.retention_in_days).toBe(days);
      const exec = Object.entries(groups).find(([id]) => id.startsWith("realtime_execution-logs"))![1];
      expect(exec.name).toBe(`/aws/apigateway/\${aws_apigatewayv2_api.${resourcesOf(json, "aws_apigatewayv2_api")[0][0]}.id}/v1`);
    }
  });
});

describe("the pusher and the wiring it creates", () => {
  const { json, built } = synth();
  const fnOf = (prefix: string) => resourcesOf(json, "aws_lambda_function").find(([id]) => id.startsWith(prefix))![1];

  test("the pusher runs outside the VPC and may post to this API's stage's @connections only", () => {
    const pusher = fnOf("realtime_pusher_function");
    expect(pusher.vpc_config).toBeUndefined();
    // From the API's endpoint, not the stage's invoke URL: the stage depends on the function, which names the pusher.
    expect(pusher.environment.variables.WEBSOCKET_STAGE_URL).toMatch(/^\$\{aws_apigatewayv2_api\.\w+\.api_endpoint\}\/v1$/);
    const grant = rolePolicies(json).find((p) => p.name === "manage-connections")!;
    expect(grant.doc.Statement).toEqual([{
      Effect: "Allow", Action: ["execute-api:ManageConnections"],
      Resource: [expect.stringMatching(/^\$\{aws_apigatewayv2_api\.\w+\.execution_arn\}\/v1\/POST\/@connections\/\*$/)],
    }]);
  });

  test("the function may invoke the pusher (and nothing else), reaches it through the VPC's Lambda endpoint, and is told its name", () => {
    const grant = rolePolicies(json).find((p) => p.name === "invoke-pusher")!;
    expect(grant.doc.Statement).toEqual([{ Effect: "Allow", Action: ["lambda:InvokeFunction"], Resource: [expect.stringMatching(/aws_lambda_function\.realtime_pusher_function_\w+\.arn/)] }]);
    expect(resourcesOf(json, "aws_vpc_endpoint").map(([, e]) => e.service_name)).toContain("com.amazonaws.us-east-1.lambda");
    expect(resourcesOf(json, "aws_vpc_endpoint").map(([, e]) => e.service_name)).not.toContain("com.amazonaws.us-east-1.execute-api");
    const egress = resourcesOf(json, "aws_vpc_security_group_egress_rule").map(([, r]) => r).filter((r) => String(r.description).includes("lambda"));
    expect(egress).toHaveLength(1);
    expect(egress[0]).toMatchObject({ from_port: 443, to_port: 443 });
    expect(fnOf("fn_function").environment.variables[CONNECTIONS.pusherFunction.env]).toMatch(/aws_lambda_function\.realtime_pusher_function_\w+\.function_name/);
    expect(built.ws.pusher.settings.postTimeoutMs).toBe(1000);
  });
});

describe("synth errors", () => {
  const stack = () => testStack("prod").stack;

  test("a contract without a socket spec, and no authorization, are named with the construct path", () => {
    const s = stack();
    const network = new Network(s, "network", { availabilityZones: AZS });
    const fn = new CacheAsideFunction(s, "products", { network, contract: PRODUCTS });
    const e = errorOf(() => new WebSocketApi(s, "ws", { function: fn }));
    expect(e.constructPath).toBe("test/ws");
    expect(e.problems.map((p) => p.field)).toEqual(["function.contract.socket", "authorization"]);
    expect(e.message).toMatch(/products serves no WebSocket routes/);
  });

  test("Cognito is refused with what to use instead", () => {
    const e = errorOf(() => build(stack(), { props: { authorization: Authorization.cognito("arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_abcDEF123") } }));
    expect(e.problems[0].field).toBe("authorization");
    expect(e.message).toMatch(/WebSocket APIs take only Lambda \(REQUEST\) and IAM authorizers.*Authorization\.jwt\(\{ issuer: "https:\/\/cognito-idp/);
  });

  test("bad stage name, throttling, and a push that could outlast the function", () => {
    const s = stack();
    const network = new Network(s, "network", { availabilityZones: AZS });
    const fn = new CacheAsideFunction(s, "fn", { network, contract: SESSIONS, timeoutSeconds: 3, settings: { pushTimeoutMs: 5_000 } });
    const e = errorOf(() => new WebSocketApi(s, "ws", { function: fn, authorization: Authorization.iam(), stageName: "v 1", throttlingRateLimit: 0, throttlingBurstLimit: 0 }));
    expect(e.problems.map((p) => p.field)).toEqual(["stageName", "throttlingRateLimit", "throttlingBurstLimit", "function.settings.pushTimeoutMs"]);
  });

  test("a function without a cache that can hold the connection map fails synthesis (the cache may be wired after the API)", () => {
    const { app, stack: s } = testStack("prod");
    build(s, { cache: false });
    expect(() => Testing.synth(s, true)).toThrow(/function\(test\/fn\)\.cache = "no cache wired": a cache that can hold the connection map \(redis, memory\)/);
    void app;
    const later = testStack("prod").stack;
    const b = build(later, { cache: false });
    b.fn.useCache(new RedisCache(later, "cache", { network: b.network }));
    expect(() => Testing.synth(later, true)).not.toThrow();
  });

  test("an authorizer function can be shared: the WebSocket API reuses the one given", () => {
    const s = stack();
    const shared = new JwtAuthorizerFunction(s, "shared-authorizer", JWT);
    const b = build(s, { props: { authorizerFunction: shared } });
    expect(b.ws.authorization.function).toBe(shared);
  });
});
