/**
 * The WebSocket API of a stack as the twin serves it, read from the synthesized Terraform JSON (an
 * `aws_apigatewayv2_api` with protocol WEBSOCKET, its routes, integrations, route responses,
 * authorizer and stage), never from the TypeScript that produced it:
 *   const { api, warnings } = readSocketApi(model);   // undefined when the stack has none
 */
import { REF_RE, singleRef, StackModel } from "./stack";

/** A REQUEST authorizer of `$connect`. */
export interface SocketAuthorizerDef {
  readonly logicalId: string;
  /** The Lambda function it invokes. */
  readonly functionLogicalId?: string;
  /** `route.request.querystring.<name>` / `route.request.header.<name>`: a connect lacking one is 401 without an invocation. */
  readonly identitySources: readonly string[];
}

/** One route. */
export interface SocketRouteDef {
  readonly routeKey: string;
  /** `NONE`, `CUSTOM` or `AWS_IAM` (only `$connect` may be authorized). */
  readonly authorizationType: string;
  readonly authorizer?: SocketAuthorizerDef;
  /** The Lambda function of its AWS_PROXY integration. */
  readonly functionLogicalId?: string;
  /** The route has a route response: what the integration answers goes back to the sender. */
  readonly reply: boolean;
}

/** A WebSocket API and its stage. */
export interface SocketApiDef {
  readonly logicalId: string;
  readonly name: string;
  readonly stageName: string;
  /** The message's JSON field that selects the route (`$request.body.<field>`). */
  readonly actionField: string;
  readonly routes: ReadonlyMap<string, SocketRouteDef>;
  /** Default route throttling of the stage (API Gateway's account default when unset). */
  readonly throttle: { readonly rate: number; readonly burst: number };
}

type Resources = Record<string, Record<string, unknown>>;

function refName(value: unknown, type: string): string | undefined {
  const r = singleRef(value);
  return r && r.type === type ? r.name : undefined;
}

/** The first `${aws_lambda_function.<id>.…}` a value refers to. */
function functionOf(value: unknown): string | undefined {
  for (const m of String(value ?? "").matchAll(REF_RE)) if (m[1] === "aws_lambda_function") return m[2];
  return undefined;
}

/** The stack's WebSocket API (the first, with a warning when there are several), or undefined. */
export function readSocketApi(model: StackModel): { api?: SocketApiDef; warnings: string[] } {
  const res = model.json.resource ?? {};
  const of = (type: string): Resources => (res[type] ?? {}) as Resources;
  const warnings: string[] = [];
  const apis = Object.entries(of("aws_apigatewayv2_api")).filter(([, a]) => a.protocol_type === "WEBSOCKET");
  if (apis.length === 0) return { warnings };
  if (apis.length > 1) warnings.push(`the stack has ${apis.length} WebSocket APIs; the twin serves ${apis[0][0]} only`);
  const [apiId, apiCfg] = apis[0];
  const belongs = (r: Record<string, unknown>) => refName(r.api_id, "aws_apigatewayv2_api") === apiId;

  const selection = String(apiCfg.route_selection_expression ?? "");
  const field = /^\$request\.body\.([A-Za-z0-9_]+)$/.exec(selection)?.[1];
  if (!field) throw new Error(`WebSocket API ${apiId}: route selection ${JSON.stringify(selection)} is not emulated (only $request.body.<field>)`);

  const stage = Object.values(of("aws_apigatewayv2_stage")).find(belongs);
  const stageName = typeof stage?.name === "string" && !stage.name.includes("${") ? stage.name : undefined;
  if (!stageName) throw new Error(`WebSocket API ${apiId} has no aws_apigatewayv2_stage with a literal name`);
  const settings = ([] as Array<Record<string, unknown>>).concat((stage?.default_route_settings ?? []) as never)[0] ?? {};
  // API Gateway's account-level defaults when the stage sets nothing.
  const throttle = { rate: Number(settings.throttling_rate_limit ?? 10_000), burst: Number(settings.throttling_burst_limit ?? 5_000) };

  const integrations = of("aws_apigatewayv2_integration");
  const authorizers = new Map<string, SocketAuthorizerDef>();
  for (const [id, a] of Object.entries(of("aws_apigatewayv2_authorizer")).filter(([, a]) => belongs(a))) {
    if (a.authorizer_type !== "REQUEST") warnings.push(`authorizer ${id}: type ${String(a.authorizer_type)} is not emulated; $connect answers 401`);
    authorizers.set(id, { logicalId: id, functionLogicalId: functionOf(a.authorizer_uri), identitySources: (a.identity_sources ?? []) as string[] });
  }
  const withResponse = new Set(Object.values(of("aws_apigatewayv2_route_response")).filter(belongs).map((r) => refName(r.route_id, "aws_apigatewayv2_route")));
  const routes = new Map<string, SocketRouteDef>();
  for (const [id, r] of Object.entries(of("aws_apigatewayv2_route")).filter(([, r]) => belongs(r))) {
    const routeKey = String(r.route_key);
    const integration = /^integrations\/\$\{aws_apigatewayv2_integration\.([A-Za-z0-9_-]+)\.id\}$/.exec(String(r.target ?? ""))?.[1];
    const integ = integration ? integrations[integration] : undefined;
    if (!integ) warnings.push(`route ${routeKey}: no integration; the twin answers it with an error`);
    else if (integ.integration_type !== "AWS_PROXY") warnings.push(`route ${routeKey}: integration type ${String(integ.integration_type)} is not emulated`);
    const authorizerId = refName(r.authorizer_id, "aws_apigatewayv2_authorizer");
    routes.set(routeKey, {
      routeKey,
      authorizationType: String(r.authorization_type ?? "NONE"),
      authorizer: authorizerId ? authorizers.get(authorizerId) : undefined,
      functionLogicalId: integ?.integration_type === "AWS_PROXY" ? functionOf(integ.integration_uri) : undefined,
      reply: withResponse.has(id),
    });
  }
  for (const r of routes.values()) {
    if (r.functionLogicalId && !model.functions.some((f) => f.logicalId === r.functionLogicalId)) {
      throw new Error(`WebSocket route ${r.routeKey}: integration points at a function not in this stack`);
    }
  }
  return { api: { logicalId: apiId, name: String(apiCfg.name ?? apiId), stageName, actionField: field, routes, throttle }, warnings };
}
