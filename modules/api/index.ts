/**
 * A REST API serving the routes of functions' contracts (or routes declared by hand), each a
 * Lambda proxy integration of a CacheAsideFunction; `caller` routes go through its authorization:
 *   new CacheApi(this, "api", { functions: [productsFn], authorization: Authorization.jwt({ issuer, audience }) });
 */
import { ApiGatewayApiKey } from "@cdktf/provider-aws/lib/api-gateway-api-key";
import { ApiGatewayDeployment } from "@cdktf/provider-aws/lib/api-gateway-deployment";
import { ApiGatewayGatewayResponse } from "@cdktf/provider-aws/lib/api-gateway-gateway-response";
import { ApiGatewayIntegration } from "@cdktf/provider-aws/lib/api-gateway-integration";
import { ApiGatewayMethod } from "@cdktf/provider-aws/lib/api-gateway-method";
import { ApiGatewayMethodSettings } from "@cdktf/provider-aws/lib/api-gateway-method-settings";
import { ApiGatewayModel } from "@cdktf/provider-aws/lib/api-gateway-model";
import { ApiGatewayRequestValidator } from "@cdktf/provider-aws/lib/api-gateway-request-validator";
import { ApiGatewayResource } from "@cdktf/provider-aws/lib/api-gateway-resource";
import { ApiGatewayRestApi } from "@cdktf/provider-aws/lib/api-gateway-rest-api";
import { ApiGatewayStage } from "@cdktf/provider-aws/lib/api-gateway-stage";
import { ApiGatewayUsagePlan } from "@cdktf/provider-aws/lib/api-gateway-usage-plan";
import { ApiGatewayUsagePlanKey } from "@cdktf/provider-aws/lib/api-gateway-usage-plan-key";
import { LambdaPermission } from "@cdktf/provider-aws/lib/lambda-permission";
import { Wafv2WebAclAssociation } from "@cdktf/provider-aws/lib/wafv2-web-acl-association";
import { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { createHash } from "crypto";
import { CONNECTIONS, HttpMethod, JSON_SCHEMA_DRAFT_04, JsonSchema, pathParameters, routeKey } from "../../functions/lib/contract";
import type { AccountBaseline } from "../account";
import { Authorization, BoundAuthorization } from "../authorization";
import { CacheAsideFunction } from "../function";
import { apiStageLogGroups, LogGroup } from "../logs";
import { physicalName } from "../core/naming";
import { byProfile, Profile, profileOf } from "../core/profile";
import { PropsValidator } from "../core/validation";
import { suppressRule } from "../policy";
import { WebAcl, WebAclProps } from "../waf";
import { ApiDomain, ApiDomainProps, validateDomain } from "./domain";

export { ApiDomain, validateDomain } from "./domain";
export type { ApiDomainConstructProps, ApiDomainProps } from "./domain";
export type { HttpMethod, JsonSchema, JsonValue } from "../../functions/lib/contract";
export { JSON_SCHEMA_DRAFT_04 } from "../../functions/lib/contract";
/** Every {@link HttpMethod}. */
export const HTTP_METHODS: readonly HttpMethod[] = ["GET", "PUT", "POST", "DELETE", "PATCH"];
/** Methods that carry a request body, and so may have a body schema. */
export const BODY_METHODS: readonly HttpMethod[] = ["PUT", "POST", "PATCH"];

/** API Gateway execution log levels. */
export type ApiLoggingLevel = "OFF" | "ERROR" | "INFO";
/** Every {@link ApiLoggingLevel}. */
export const API_LOGGING_LEVELS: readonly ApiLoggingLevel[] = ["OFF", "ERROR", "INFO"];


/** One route: a method on a path, proxied to a function. */
export interface ApiRoute {
  /** HTTP method of the route. */
  readonly method: HttpMethod;
  /**
   * Resource path, e.g. `/products/{productId}`: starts with `/`, segments of letters, digits,
   * `.`, `_`, `-`, or a path parameter `{name}`; a greedy `{name+}` only as the last segment.
   */
  readonly path: string;
  /** The function that handles the route (Lambda proxy integration). */
  readonly function: CacheAsideFunction;
  /**
   * JSON schema (draft-04) the request body must match; API Gateway rejects other bodies with
   * 400 before the function runs. Only for PUT, POST and PATCH.
   * @default no body validation
   */
  readonly bodySchema?: JsonSchema;
  /**
   * Query string parameters that must be present (API Gateway answers 400 otherwise).
   * @default none
   */
  readonly requiredQueryParameters?: readonly string[];
  /**
   * Query string parameters that may be present (documented on the method, not enforced).
   * @default none
   */
  readonly optionalQueryParameters?: readonly string[];
  /**
   * Callers must send an API key (`x-api-key` header) registered in this API's usage plan. A key
   * names a calling application (usage plans, quotas); it does not prove who the caller is.
   * @default false
   */
  readonly apiKeyRequired?: boolean;
  /**
   * Callers must be verified by the API's `authorization` (JWT, Cognito or IAM), and the function
   * receives the verified identity. May be combined with `apiKeyRequired`.
   * @default false
   */
  readonly callerRequired?: boolean;
  /**
   * Why anyone may call this route without authorization (at least 10 characters): recorded as the
   * reason of the policy pack's CF-APIGW-7 suppression on the method, so every report shows it.
   * @default none (an unauthorized route other than a health check fails CF-APIGW-7)
   */
  readonly publicReason?: string;
  /**
   * Reads go through the cache: the route counts in the hit ratio and the circuit-open alarm.
   * @default true for GET routes
   */
  readonly cached?: boolean;
}

/** The routes of `fn`'s contract, as `CacheApi` routes to `fn`. */
export function routesOf(fn: CacheAsideFunction): ApiRoute[] {
  return fn.contract.routes.map((r) => {
    const query = Object.entries(r.query ?? {});
    return {
      method: r.method,
      path: r.path,
      function: fn,
      bodySchema: r.body,
      requiredQueryParameters: query.filter(([, required]) => required).map(([q]) => q),
      optionalQueryParameters: query.filter(([, required]) => !required).map(([q]) => q),
      apiKeyRequired: r.access === "apiKey",
      callerRequired: r.access === "caller",
      publicReason: r.publicReason,
      cached: r.cached,
    };
  });
}

/** Props of {@link CacheApi}. */
export interface CacheApiProps {
  /**
   * Functions whose contract routes the API serves, all of them.
   * @default none
   */
  readonly functions?: readonly CacheAsideFunction[];
  /**
   * Routes declared by hand, on top of the functions' contract routes; together at least one, no
   * method + path twice.
   * @default none
   */
  readonly routes?: readonly ApiRoute[];
  /**
   * REST API name.
   * @default derived from the construct path
   */
  readonly apiName?: string;
  /**
   * What the API is for.
   * @default "Cache-aside API <construct path>"
   */
  readonly description?: string;
  /**
   * Stage name (letters, digits, `_`, `-`; at most 128), the first segment of every URL.
   * @default "v1"
   */
  readonly stageName?: string;
  /**
   * Steady-state requests per second the stage accepts before answering 429.
   * @default 1000 in prod, 50 in dev
   */
  readonly throttlingRateLimit?: number;
  /**
   * Requests the stage accepts in a burst above the steady rate.
   * @default 2000 in prod, 100 in dev
   */
  readonly throttlingBurstLimit?: number;
  /**
   * Execution log level of every method. `INFO` logs every request's processing, which costs
   * more and is noisy under load, so prod keeps only errors. Full request/response bodies
   * (data trace) are never logged: they would put cached customer data into CloudWatch.
   * @default "ERROR" in prod, "INFO" in dev
   */
  readonly loggingLevel?: ApiLoggingLevel;
  /**
   * Days to keep the access and execution logs.
   * @default 90 in prod, 14 in dev
   */
  readonly logRetentionDays?: number;
  /**
   * The account's API Gateway settings, when they are managed in this same stack (a self-contained
   * stack): the stage then waits for them. Logging is refused until the account and region have a
   * CloudWatch role ("CloudWatch Logs role ARN must be set in account settings"), so deploy an
   * {@link AccountBaseline} once per account and region before any API; this construct never
   * manages those settings itself, so two APIs can neither overwrite nor, destroyed, unset them.
   * @default none: the settings are managed by an AccountBaseline in a stack deployed earlier
   */
  readonly accountSettings?: AccountBaseline;
  /**
   * How `caller` routes verify their callers: `Authorization.jwt({ issuer, audience })`,
   * `Authorization.cognito(userPoolArn)` or `Authorization.iam()`.
   * @default none: a route that needs a verified caller fails synthesis
   */
  readonly authorization?: Authorization;
  /**
   * AWS WAF in front of the stage: the web ACL's settings (a new one is made), an existing
   * `WebAcl` (shared by several APIs), or `false`.
   * @default a WebAcl with its defaults in prod (managed common and known-bad-inputs rules, 2000 requests per IP per 5 minutes); none in dev
   */
  readonly waf?: WebAclProps | WebAcl | false;
  /**
   * A custom domain (ACM certificate ARN, TLS 1.2) mapped to the stage.
   * @default none: the execute-api URL only
   */
  readonly domain?: ApiDomainProps;
  /**
   * Deployment profile.
   * @default the enclosing stack's profile, else `prod`
   */
  readonly profile?: Profile;
}

const PATH_SEGMENT_RE = /^(?:[A-Za-z0-9._-]+|\{[A-Za-z0-9._-]+\+?\})$/;
const QUERY_PARAM_RE = /^[A-Za-z0-9._-]+$/;
const STAGE_NAME_RE = /^[A-Za-z0-9_-]{1,128}$/;
/**
 * The REST integration timeout every route gets (API Gateway's default: CacheApi never raises it,
 * which regional APIs can only do with a quota increase, and then at a cost in throttling quota).
 */
const INTEGRATION_TIMEOUT_SECONDS = 29;

/** Gateway responses are part of the deployed API, so they are part of the redeployment hash. */
const GATEWAY_RESPONSES = {
  DEFAULT_4XX: `{"message":$context.error.messageString}`,
  DEFAULT_5XX: `{"message":$context.error.messageString}`,
} as const;

/**
 * One JSON object per request, so CloudWatch Logs Insights can query fields directly. The
 * error message is quoted like the rest (it is rarely set and never contains request data).
 */
const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: "$context.requestId",
  ip: "$context.identity.sourceIp",
  caller: "$context.identity.caller",
  principal: "$context.authorizer.principalId",
  user: "$context.identity.user",
  requestTime: "$context.requestTime",
  httpMethod: "$context.httpMethod",
  resourcePath: "$context.resourcePath",
  status: "$context.status",
  protocol: "$context.protocol",
  responseLength: "$context.responseLength",
  integrationLatency: "$context.integrationLatency",
  integrationStatus: "$context.integrationStatus",
  errorMessage: "$context.error.message",
});

/**
 * An API Gateway REST API with request validation, JSON access logs, X-Ray, stage throttling,
 * JSON error responses and (when a route asks for it) an API key with a usage plan.
 */
export class CacheApi extends Construct {
  /** The Terraform `aws_api_gateway_rest_api` resource (regional endpoint). */
  public readonly restApi: ApiGatewayRestApi;
  /** Resources by full path (e.g. `/products/{productId}`); the root `/` is the API's own. */
  public readonly resources: ReadonlyMap<string, ApiGatewayResource>;
  /** Methods by `"<METHOD> <path>"`. */
  public readonly methods: ReadonlyMap<string, ApiGatewayMethod>;
  /** Integrations by `"<METHOD> <path>"`. */
  public readonly integrations: ReadonlyMap<string, ApiGatewayIntegration>;
  /** Body models by `"<METHOD> <path>"`. */
  public readonly models: ReadonlyMap<string, ApiGatewayModel>;
  /** Validates path and query parameters; present when some route has parameters. */
  public readonly paramsValidator?: ApiGatewayRequestValidator;
  /** Validates body and parameters; present when some route has a body schema. */
  public readonly bodyValidator?: ApiGatewayRequestValidator;
  /** JSON `DEFAULT_4XX` and `DEFAULT_5XX` gateway responses. */
  public readonly gatewayResponses: readonly ApiGatewayGatewayResponse[];
  /** The deployment, replaced (create before destroy) whenever `redeploymentHash` changes. */
  public readonly deployment: ApiGatewayDeployment;
  /** The stage: access logs, X-Ray tracing. */
  public readonly stage: ApiGatewayStage;
  /** Stage-wide method settings: throttling, execution log level, metrics. */
  public readonly methodSettings: ApiGatewayMethodSettings;
  /** The group the stage writes JSON access logs to. */
  public readonly accessLogGroup: LogGroup;
  /** The group API Gateway writes execution logs to, created here so it has a retention. */
  public readonly executionLogGroup: LogGroup;
  /** One per distinct function. */
  public readonly permissions: readonly LambdaPermission[];
  /** The authorization bound to the `caller` routes, with what it created (authorizer, its function). */
  public readonly authorization?: BoundAuthorization;
  /** The web ACL in front of the stage, when there is one. */
  public readonly webAcl?: WebAcl;
  /** Puts `webAcl` in front of the stage. */
  public readonly wafAssociation?: Wafv2WebAclAssociation;
  /** The custom domain, when one is set. */
  public readonly domain?: ApiDomain;
  /** Present when a route requires an API key. */
  public readonly usagePlan?: ApiGatewayUsagePlan;
  /** Present when a route requires an API key. */
  public readonly apiKey?: ApiGatewayApiKey;
  /** Present when a route requires an API key. */
  public readonly usagePlanKey?: ApiGatewayUsagePlanKey;

  /** @attribute — base URL of the stage, e.g. `https://abc.execute-api.eu-west-1.amazonaws.com/v1`. */
  public readonly url: string;
  /** @attribute The REST API's id. */
  public readonly restApiId: string;
  /** @attribute The REST API's execution ARN (what Lambda permissions name as source). */
  public readonly executionArn: string;
  /** @attribute The stage's name, the first segment of every URL. */
  public readonly stageName: string;
  /** @attribute — the API key's id, when a route requires a key. */
  public readonly apiKeyId?: string;
  /** @attribute — the API key itself, when a route requires a key; only ever put it in a sensitive output. */
  public readonly apiKeyValue?: string;
  /** The routes as declared (method, path, function), in order. */
  public readonly routes: readonly ApiRoute[];
  /** @attribute — the REST API's name, the `ApiName` dimension of its CloudWatch metrics. */
  public readonly apiName: string;
  /** sha256 of the canonical route list: the deployment is replaced whenever it changes. */
  public readonly redeploymentHash: string;
  /** Throttling and logging in force, after defaults. */
  public readonly throttlingRateLimit: number;
  /** Burst limit in force, after defaults. */
  public readonly throttlingBurstLimit: number;
  /** Execution log level in force, after defaults. */
  public readonly loggingLevel: ApiLoggingLevel;

  constructor(scope: Construct, id: string, props: CacheApiProps) {
    super(scope, id);
    const profile = profileOf(this, props.profile);
    const routes = [...(props.functions ?? []).flatMap(routesOf), ...(props.routes ?? [])];
    this.stageName = props.stageName ?? "v1";
    this.throttlingRateLimit = props.throttlingRateLimit ?? byProfile(profile, { dev: 50, prod: 1000 });
    this.throttlingBurstLimit = props.throttlingBurstLimit ?? byProfile(profile, { dev: 100, prod: 2000 });
    this.loggingLevel = props.loggingLevel ?? byProfile(profile, { dev: "INFO", prod: "ERROR" });
    const apiName = props.apiName ?? physicalName(this, 128);

    const v = PropsValidator.for(this)
      .check(routes.length > 0, "routes", routes, "at least one route")
      .matches("stageName", this.stageName, STAGE_NAME_RE, "1-128 characters of letters, digits, '_' and '-'")
      .check(Number.isFinite(this.throttlingRateLimit) && this.throttlingRateLimit > 0,
        "throttlingRateLimit", this.throttlingRateLimit, "a number of requests per second greater than 0")
      .check(Number.isInteger(this.throttlingBurstLimit) && this.throttlingBurstLimit >= 1,
        "throttlingBurstLimit", this.throttlingBurstLimit, "an integer of at least 1")
      .oneOf("loggingLevel", this.loggingLevel, API_LOGGING_LEVELS)
      .matches("apiName", apiName, /^.{1,1024}$/, "1-1024 characters");
    validateRoutes(v, routes);
    validateAccess(v, routes, props.authorization);
    if (props.domain) validateDomain(v, "domain", props.domain);
    v.throwIfAny();
    this.routes = [...routes];
    this.apiName = apiName;

    this.restApi = new ApiGatewayRestApi(this, "api", {
      name: apiName,
      description: props.description ?? `Cache-aside API ${this.node.path}`,
      endpointConfiguration: { types: ["REGIONAL"] },
      disableExecuteApiEndpoint: false,
    });
    this.restApiId = this.restApi.id;
    this.executionArn = this.restApi.executionArn;
    this.authorization = props.authorization?.bind(this, { logRetentionDays: props.logRetentionDays, profile });
    const auth = this.authorization;

    // Unknown routes and rejected requests answer JSON like the handlers do, not HTML.
    this.gatewayResponses = Object.entries(GATEWAY_RESPONSES).map(
      ([type, template]) =>
        new ApiGatewayGatewayResponse(this, `response-${type.toLowerCase()}`, {
          restApiId: this.restApi.id,
          responseType: type,
          responseTemplates: { "application/json": template },
          responseParameters: { "gatewayresponse.header.Content-Type": "'application/json'" },
        }),
    );

    const hasParams = routes.some((r) => pathParams(r.path).length > 0 || queryParams(r).length > 0);
    const hasBody = routes.some((r) => r.bodySchema !== undefined);
    if (hasParams) {
      this.paramsValidator = new ApiGatewayRequestValidator(this, "validate-params", {
        restApiId: this.restApi.id,
        name: "params-only",
        validateRequestParameters: true,
        validateRequestBody: false,
      });
    }
    if (hasBody) {
      this.bodyValidator = new ApiGatewayRequestValidator(this, "validate-body", {
        restApiId: this.restApi.id,
        name: "body-and-params",
        validateRequestParameters: true,
        validateRequestBody: true,
      });
    }

    const resources = new Map<string, ApiGatewayResource>();
    const methods = new Map<string, ApiGatewayMethod>();
    const integrations = new Map<string, ApiGatewayIntegration>();
    const models = new Map<string, ApiGatewayModel>();
    const ids = new IdAllocator();
    const modelNames = new Set<string>();

    const resourceIdOf = (path: string): string => {
      if (path === "/") return this.restApi.rootResourceId;
      const existing = resources.get(path);
      if (existing) return existing.id;
      const cut = path.lastIndexOf("/");
      const parentPath = cut === 0 ? "/" : path.slice(0, cut);
      const parentId = resourceIdOf(parentPath);
      const resource = new ApiGatewayResource(this, ids.next("resource", path), {
        restApiId: this.restApi.id,
        parentId,
        pathPart: path.slice(cut + 1),
      });
      resources.set(path, resource);
      return resource.id;
    };

    for (const route of routes) {
      const key = routeKey(route);
      const requestParameters: Record<string, boolean> = {};
      for (const p of pathParams(route.path)) requestParameters[`method.request.path.${p}`] = true;
      for (const q of route.requiredQueryParameters ?? []) requestParameters[`method.request.querystring.${q}`] = true;
      for (const q of route.optionalQueryParameters ?? []) requestParameters[`method.request.querystring.${q}`] = false;

      let model: ApiGatewayModel | undefined;
      if (route.bodySchema) {
        const name = uniqueModelName(route, modelNames);
        model = new ApiGatewayModel(this, ids.next("model", key), {
          restApiId: this.restApi.id,
          name,
          description: `Request body of ${key}`,
          contentType: "application/json",
          schema: JSON.stringify(withDraft04(route.bodySchema)),
        });
        models.set(key, model);
      }
      const validator = model ? this.bodyValidator : Object.keys(requestParameters).length > 0 ? this.paramsValidator : undefined;

      const resourceId = resourceIdOf(route.path);
      const guarded = route.callerRequired && auth ? auth : undefined;
      const method = new ApiGatewayMethod(this, ids.next("method", key), {
        restApiId: this.restApi.id,
        resourceId,
        httpMethod: route.method,
        authorization: guarded?.authorizationType ?? "NONE",
        authorizerId: guarded?.authorizer?.id,
        authorizationScopes: guarded?.scopes ? [...guarded.scopes] : undefined,
        apiKeyRequired: route.apiKeyRequired ?? false,
        requestParameters: Object.keys(requestParameters).length > 0 ? requestParameters : undefined,
        requestValidatorId: validator?.id,
        requestModels: model ? { "application/json": model.name } : undefined,
      });
      methods.set(key, method);
      if (route.publicReason && !guarded) suppressRule(method, "CF-APIGW-7", route.publicReason);
      if (guarded) route.function.addEnvironment(CONNECTIONS.callerIdentity.env, guarded.callerIdentitySource);
      integrations.set(
        key,
        new ApiGatewayIntegration(this, ids.next("integration", key), {
          restApiId: this.restApi.id,
          resourceId,
          httpMethod: method.httpMethod,
          type: "AWS_PROXY",
          // Lambda is always invoked with POST, whatever the client's method.
          integrationHttpMethod: "POST",
          uri: route.function.invokeArn,
        }),
      );
    }
    this.resources = resources;
    this.methods = methods;
    this.integrations = integrations;
    this.models = models;

    // API Gateway only serves what a deployment snapshotted; a new hash replaces the deployment
    // (created before the old one is destroyed so the stage never points at nothing).
    this.redeploymentHash = redeploymentHash(routes, auth?.fingerprint);
    const dependsOn: ITerraformDependable[] = [...methods.values(), ...integrations.values(), ...this.gatewayResponses];
    if (auth?.authorizer) dependsOn.push(auth.authorizer);
    this.deployment = new ApiGatewayDeployment(this, "deployment", {
      restApiId: this.restApi.id,
      description: `Routes ${this.redeploymentHash.slice(0, 12)}`,
      triggers: { redeployment: this.redeploymentHash },
      lifecycle: { createBeforeDestroy: true },
      dependsOn,
    });

    // API Gateway names its execution log group itself and would create it without retention.
    const logs = apiStageLogGroups(this, {
      executionLogGroupName: `API-Gateway-Execution-Logs_${this.restApi.id}/${this.stageName}`,
      retentionDays: props.logRetentionDays,
      profile,
    });
    this.accessLogGroup = logs.access;
    this.executionLogGroup = logs.execution;

    // Logging settings are refused until the account has a CloudWatch role.
    const stageDependsOn: ITerraformDependable[] = [this.executionLogGroup.resource];
    if (props.accountSettings?.apiGatewayAccount) stageDependsOn.push(props.accountSettings.apiGatewayAccount);

    this.stage = new ApiGatewayStage(this, "stage", {
      restApiId: this.restApi.id,
      deploymentId: this.deployment.id,
      stageName: this.stageName,
      xrayTracingEnabled: true,
      accessLogSettings: { destinationArn: this.accessLogGroup.logGroupArn, format: ACCESS_LOG_FORMAT },
      dependsOn: stageDependsOn,
    });
    this.url = this.stage.invokeUrl;

    const waf = props.waf ?? byProfile<WebAclProps | false>(profile, { dev: false, prod: {} });
    if (waf !== false) {
      this.webAcl = waf instanceof WebAcl ? waf : new WebAcl(this, "waf", { logRetentionDays: props.logRetentionDays, profile, ...waf });
      this.wafAssociation = new Wafv2WebAclAssociation(this, "waf-association", { resourceArn: this.stage.arn, webAclArn: this.webAcl.webAclArn });
    }
    if (props.domain) {
      this.domain = new ApiDomain(this, "domain", { ...props.domain, restApiId: this.restApi.id, stageName: this.stage.stageName });
    }

    this.methodSettings = new ApiGatewayMethodSettings(this, "method-settings", {
      restApiId: this.restApi.id,
      stageName: this.stage.stageName,
      methodPath: "*/*",
      settings: {
        metricsEnabled: true,
        loggingLevel: this.loggingLevel,
        dataTraceEnabled: false,
        throttlingRateLimit: this.throttlingRateLimit,
        throttlingBurstLimit: this.throttlingBurstLimit,
      },
      dependsOn: stageDependsOn,
    });

    const functions = [...new Set(routes.map((r) => r.function))];
    this.permissions = functions.map(
      (fn) =>
        new LambdaPermission(this, ids.next("invoke", fn.node.path), {
          functionName: fn.functionName,
          action: "lambda:InvokeFunction",
          principal: "apigateway.amazonaws.com",
          sourceArn: `${this.restApi.executionArn}/*/*`,
        }),
    );

    if (routes.some((r) => r.apiKeyRequired)) {
      this.usagePlan = new ApiGatewayUsagePlan(this, "usage-plan", {
        name: physicalName(this, 128, "plan"),
        description: `Callers of ${this.node.path}`,
        apiStages: [{ apiId: this.restApi.id, stage: this.stage.stageName }],
        throttleSettings: { rateLimit: this.throttlingRateLimit, burstLimit: this.throttlingBurstLimit },
      });
      this.apiKey = new ApiGatewayApiKey(this, "api-key", {
        name: physicalName(this, 128, "key"),
        description: `API key of ${this.node.path}`,
        enabled: true,
      });
      this.usagePlanKey = new ApiGatewayUsagePlanKey(this, "usage-plan-key", {
        keyId: this.apiKey.id,
        keyType: "API_KEY",
        usagePlanId: this.usagePlan.id,
      });
      this.apiKeyId = this.apiKey.id;
      this.apiKeyValue = this.apiKey.value;
    }
  }
}

function segmentsOf(path: string): string[] {
  return path === "/" ? [] : path.slice(1).split("/");
}

const pathParams = pathParameters;

function queryParams(route: ApiRoute): string[] {
  return [...(route.requiredQueryParameters ?? []), ...(route.optionalQueryParameters ?? [])];
}

function validateRoutes(v: PropsValidator, routes: readonly ApiRoute[]): void {
  // A function that may run longer than the integration keeps running (and billing) after the client got a 504.
  for (const fn of new Set(routes.map((r) => r.function))) {
    const served = routes.filter((r) => r.function === fn).map(routeKey);
    v.check(fn.timeoutSeconds <= INTEGRATION_TIMEOUT_SECONDS, `function(${fn.node.path}).timeoutSeconds`, fn.timeoutSeconds,
      `at most ${INTEGRATION_TIMEOUT_SECONDS}, API Gateway's REST integration timeout, for a function behind routes ` +
        `(${served.join(", ")}): API Gateway answers 504 after ${INTEGRATION_TIMEOUT_SECONDS} s while the function keeps running. ` +
        "Lower the function's timeoutSeconds");
  }
  const seen = new Set<string>();
  // API Gateway allows one variable segment per parent: /a/{id} and /a/{key} cannot coexist.
  const variableChild = new Map<string, string>();
  routes.forEach((route, i) => {
    const f = `routes[${i}]`;
    v.oneOf(`${f}.method`, route.method, HTTP_METHODS);
    const pathOk = typeof route.path === "string" && route.path.startsWith("/");
    v.check(pathOk, `${f}.path`, route.path, "a path starting with '/', e.g. \"/products/{productId}\"");
    if (pathOk && route.path !== "/") {
      const segments = segmentsOf(route.path);
      segments.forEach((s, j) => {
        v.check(PATH_SEGMENT_RE.test(s), `${f}.path`, route.path,
          `segments of letters, digits, '.', '_', '-' or a parameter {name}; segment ${JSON.stringify(s)} is not`);
        v.check(!s.endsWith("+}") || j === segments.length - 1, `${f}.path`, route.path,
          "a greedy parameter {name+} only as the last segment");
        if (s.startsWith("{")) {
          const parent = "/" + segments.slice(0, j).join("/");
          const other = variableChild.get(parent);
          v.check(other === undefined || other === s, `${f}.path`, route.path,
            `one path parameter per level: ${parent} already has ${other}`);
          if (other === undefined) variableChild.set(parent, s);
        }
      });
      const params = pathParams(route.path);
      v.check(new Set(params).size === params.length, `${f}.path`, route.path, "each path parameter name once");
    }
    const key = routeKey(route);
    v.check(!seen.has(key), f, key, "a method and path not already routed");
    seen.add(key);
    v.check(route.bodySchema === undefined || BODY_METHODS.includes(route.method), `${f}.bodySchema`, route.method,
      `a body schema only on ${BODY_METHODS.join(", ")} routes`);
    if (route.bodySchema) {
      const declared = route.bodySchema["$schema"];
      v.check(declared === undefined || declared === JSON_SCHEMA_DRAFT_04, `${f}.bodySchema.$schema`, declared,
        `${JSON.stringify(JSON_SCHEMA_DRAFT_04)} or unset (API Gateway models are draft-04)`);
    }
    const query = queryParams(route);
    for (const q of query) {
      v.matches(`${f}.queryParameters`, q, QUERY_PARAM_RE, "names of letters, digits, '.', '_' and '-'");
    }
    v.check(new Set(query).size === query.length, `${f}.queryParameters`, query,
      "each name once across requiredQueryParameters and optionalQueryParameters");
  });
}

function withDraft04(schema: JsonSchema): JsonSchema {
  return { $schema: JSON_SCHEMA_DRAFT_04, ...schema };
}

/** Model names must be alphanumeric: `PostProductsProductIdBody` for `POST /products/{productId}`. */
function uniqueModelName(route: ApiRoute, taken: Set<string>): string {
  const pascal = (s: string) => s.charAt(0).toUpperCase() + s.slice(1).toLowerCase();
  const parts = segmentsOf(route.path)
    .flatMap((s) => s.replace(/[{}+]/g, "").split(/[^A-Za-z0-9]+/))
    .filter((s) => s.length > 0)
    .map((s) => s.charAt(0).toUpperCase() + s.slice(1));
  const base = `${pascal(route.method)}${parts.length > 0 ? parts.join("") : "Root"}Body`;
  let name = base;
  for (let n = 2; taken.has(name); n++) name = `${base}${n}`;
  taken.add(name);
  return name;
}

/** Construct ids from paths (which contain `/`, `{`, `}`), readable and unique within the API. */
class IdAllocator {
  private readonly used = new Set<string>();

  next(kind: string, raw: string): string {
    const readable = raw
      .replace(/\{([^}]*)\}/g, "by-$1")
      .replace(/\+/g, "-plus")
      .replace(/[^A-Za-z0-9_-]+/g, "-")
      .replace(/^-+|-+$/g, "");
    let id = `${kind}-${readable || "root"}`;
    if (this.used.has(id)) id = `${id}-${createHash("sha256").update(raw).digest("hex").slice(0, 8)}`;
    this.used.add(id);
    return id;
  }
}

/** Routes that need a verified caller need an authorization; a public reason is a sentence. */
function validateAccess(v: PropsValidator, routes: readonly ApiRoute[], authorization: Authorization | undefined): void {
  routes.forEach((route, i) => {
    if (route.callerRequired && !authorization) {
      v.check(false, "authorization", authorization,
        `Authorization.jwt(…), Authorization.cognito(…) or Authorization.iam(): route ${routeKey(route)} (${route.function.contract.name}) needs a verified caller`);
    }
    if (route.publicReason !== undefined) {
      v.check(!route.callerRequired && route.publicReason.trim().length >= 10, `routes[${i}].publicReason`, route.publicReason,
        "a reason of at least 10 characters, on a route that needs no verified caller");
    }
  });
}

/** sha256 of a canonical JSON of every route, independent of route order and object key order. */
function redeploymentHash(routes: readonly ApiRoute[], authorization?: Readonly<Record<string, string | number>>): string {
  const canonical = routes
    .map((r) => ({
      method: r.method,
      path: r.path,
      pathParameters: pathParams(r.path),
      requiredQueryParameters: [...(r.requiredQueryParameters ?? [])].sort(),
      optionalQueryParameters: [...(r.optionalQueryParameters ?? [])].sort(),
      bodySchema: r.bodySchema ? withDraft04(r.bodySchema) : null,
      apiKeyRequired: r.apiKeyRequired ?? false,
      // Only when set, so the hash (and deployment) of an API without authorization is unchanged.
      callerRequired: r.callerRequired || undefined,
      function: r.function.node.path,
    }))
    .sort((a, b) => `${a.path} ${a.method}`.localeCompare(`${b.path} ${b.method}`));
  return createHash("sha256")
    .update(canonicalJson({ routes: canonical, gatewayResponses: GATEWAY_RESPONSES, authorization }))
    .digest("hex");
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
