/**
 * What the twin serves, read from one stack's synthesized Terraform JSON
 * (`cdktf.out/stacks/<stack>/cdk.tf.json`), never from the TypeScript that produced it:
 *   const model = readStack(loadStackJson(outDir, "product-catalog-dev"));
 * Tables, the REST API (resources, methods, validators, models, API keys, gateway responses,
 * stage throttling), the Lambda functions (bundle, handler, environment) and the outputs.
 */
import { existsSync, readFileSync } from "fs";
import * as path from "path";
import { CONNECTIONS } from "../../functions/lib/contract";
import { Schema } from "./schema";

/** The synthesized JSON of a stack (the parts the twin reads). */
export interface StackJson {
  readonly provider?: { aws?: Array<{ region?: string }> };
  readonly resource?: Record<string, Record<string, Record<string, unknown>>>;
  readonly output?: Record<string, { value: unknown; sensitive?: boolean; description?: string }>;
}

export interface KeyAttr {
  readonly name: string;
  readonly type: "S" | "N" | "B";
}

export interface IndexDef {
  readonly name: string;
  readonly hashKey: string;
  readonly rangeKey?: string;
  readonly projectionType: string;
  readonly nonKeyAttributes?: string[];
}

export interface TableDef {
  readonly logicalId: string;
  readonly name: string;
  readonly hashKey: string;
  readonly rangeKey?: string;
  readonly attributes: KeyAttr[];
  readonly globalSecondaryIndexes: IndexDef[];
  readonly localSecondaryIndexes: IndexDef[];
  /** The TTL attribute when TTL is enabled. */
  readonly ttlAttribute?: string;
}

export interface FunctionDef {
  readonly logicalId: string;
  readonly name: string;
  /** `index.handler`: file (without extension) and export. */
  readonly handler: string;
  readonly runtime: string;
  readonly timeoutSeconds: number;
  readonly memorySize: number;
  readonly reservedConcurrency?: number;
  /** Absolute path of the deployment zip (`filename`, relative to the stack folder). */
  readonly zipPath: string;
  /** Environment variables as synthesized (values may hold Terraform references). */
  readonly environment: Record<string, string>;
}

export interface ModelDef {
  readonly name: string;
  readonly contentType: string;
  readonly schema: Schema;
}

/** An `aws_api_gateway_authorizer` of the served API. */
export interface AuthorizerDef {
  readonly logicalId: string;
  /** `TOKEN`, `REQUEST` or `COGNITO_USER_POOLS`. */
  readonly type: string;
  /** The header the token is read from (`method.request.header.<name>` identity source). */
  readonly header?: string;
  /** The TOKEN authorizer's identity validation expression: a token not matching is 401 without an invocation. */
  readonly validationExpression?: string;
  /** Seconds a result is cached per token (API Gateway's default: 300). */
  readonly ttlSeconds: number;
  /** Logical id of the Lambda function a TOKEN/REQUEST authorizer invokes. */
  readonly functionLogicalId?: string;
  /** The user pools of a COGNITO_USER_POOLS authorizer (literal ARNs; references cannot be resolved locally). */
  readonly providerArns: string[];
}

export interface MethodDef {
  /** `GET`, `PUT`, … or `ANY`. */
  readonly httpMethod: string;
  /** Full resource path, e.g. `/products/{productId}`. */
  readonly resourcePath: string;
  /** `NONE`, `AWS_IAM`, `CUSTOM` or `COGNITO_USER_POOLS`. */
  readonly authorization: string;
  /** The authorizer of a CUSTOM or COGNITO_USER_POOLS method. */
  readonly authorizer?: AuthorizerDef;
  /** OAuth scopes of which a Cognito access token must carry one (none: ID tokens). */
  readonly authorizationScopes: string[];
  readonly apiKeyRequired: boolean;
  /** `method.request.path.id` → required. */
  readonly requestParameters: Record<string, boolean>;
  readonly validateBody: boolean;
  readonly validateParameters: boolean;
  /** Models by content type (`application/json`). */
  readonly models: Record<string, ModelDef>;
  readonly integration?: {
    readonly type: string;
    /** Logical id of the Lambda function an AWS_PROXY integration invokes. */
    readonly functionLogicalId?: string;
    readonly timeoutMs: number;
  };
}

export interface GatewayResponseDef {
  readonly type: string;
  readonly statusCode?: number;
  readonly templates: Record<string, string>;
  readonly parameters: Record<string, string>;
}

export interface ThrottleLimit {
  readonly rate: number;
  readonly burst: number;
}

/** An `aws_api_gateway_usage_plan` that covers the served stage: its per-key limits. */
export interface UsagePlanDef {
  readonly logicalId: string;
  /** Steady rate and burst per API key (`throttle_settings`); absent: only the stage's limits apply. */
  readonly throttle?: ThrottleLimit;
  /** Requests per key per DAY, WEEK or MONTH (`quota_settings`). */
  readonly quota?: { readonly limit: number; readonly period: "DAY" | "WEEK" | "MONTH" };
}

/** An `aws_api_gateway_api_key` of the stack. */
export interface ApiKeyDef {
  readonly logicalId: string;
  /** The literal value when the stack sets one. */
  readonly value?: string;
  readonly enabled: boolean;
  /** The usage plan, among those covering the served stage, the key belongs to (API Gateway allows one per stage). */
  readonly usagePlan?: UsagePlanDef;
}

export interface ApiDef {
  readonly logicalId: string;
  readonly name: string;
  readonly stageName: string;
  readonly stageVariables: Record<string, string>;
  readonly binaryMediaTypes: string[];
  /** `endpoint_configuration.types[0]`: `EDGE` (the default), `REGIONAL` or `PRIVATE`; it sets the URL length limit. */
  readonly endpointType: string;
  /** Every resource path, `/` included. */
  readonly resourcePaths: string[];
  readonly methods: MethodDef[];
  readonly gatewayResponses: Record<string, GatewayResponseDef>;
  /** Stage default (`*\/*`) and per-method (`<path>/<METHOD>` without the leading slash) throttling. */
  readonly throttle: { readonly defaults: ThrottleLimit; readonly perMethod: Record<string, ThrottleLimit> };
  /**
   * API keys of the stack. API Gateway accepts a key for this stage only when it is enabled and
   * in a usage plan that covers the stage.
   */
  readonly apiKeys: ApiKeyDef[];
  /** Authorizers of the API (their methods point at them). */
  readonly authorizers: AuthorizerDef[];
}

export interface OutputDef {
  readonly value: unknown;
  readonly sensitive: boolean;
}

/** An `aws_elasticache_user` of the stack: what the twin's redis-server gets with `ACL SETUSER`. */
export interface CacheUserDef {
  readonly logicalId: string;
  readonly userId: string;
  readonly userName: string;
  /** The rules, as ElastiCache takes them (`on ~svc:{* -@all +get …`). */
  readonly accessString: string;
  /** `iam`, `password` or `no-password-required`. */
  readonly authType: string;
}

export interface StackModel {
  readonly name: string;
  readonly dir: string;
  readonly region: string;
  readonly tables: TableDef[];
  readonly functions: FunctionDef[];
  readonly api: ApiDef;
  readonly outputs: Record<string, OutputDef>;
  /** ElastiCache users with a literal id, name and access string (per-function users of the cache). */
  readonly cacheUsers: CacheUserDef[];
  /** The stack has a DAX cluster (which has no local equivalent). */
  readonly hasDax: boolean;
  /** Things the twin does not emulate, one line each (printed at start). */
  readonly warnings: string[];
  readonly json: StackJson;
}

/** `${aws_x.name.attr}` → its parts; anything else → undefined. */
export const REF_RE = /\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z0-9_]+)\}/g;

export function singleRef(value: unknown): { type: string; name: string; attr: string } | undefined {
  if (typeof value !== "string") return undefined;
  const m = /^\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z0-9_]+)\}$/.exec(value);
  return m ? { type: m[1], name: m[2], attr: m[3] } : undefined;
}

/** Stack names of a synthesized output folder, from its manifest. */
export function listStacks(outDir: string): string[] {
  const manifest = path.join(outDir, "manifest.json");
  if (!existsSync(manifest)) return [];
  const parsed = JSON.parse(readFileSync(manifest, "utf8")) as { stacks?: Record<string, unknown> };
  return Object.keys(parsed.stacks ?? {}).filter((s) => existsSync(path.join(outDir, "stacks", s, "cdk.tf.json")));
}

export function stackDir(outDir: string, stack: string): string {
  return path.join(outDir, "stacks", stack);
}

export function loadStackJson(outDir: string, stack: string): StackJson {
  return JSON.parse(readFileSync(path.join(stackDir(outDir, stack), "cdk.tf.json"), "utf8")) as StackJson;
}

type Resources = Record<string, Record<string, unknown>>;

function str(v: unknown, fallback = ""): string {
  return typeof v === "string" ? v : v === undefined || v === null ? fallback : String(v);
}

function num(v: unknown, fallback: number): number {
  const n = typeof v === "number" ? v : typeof v === "string" && v !== "" ? Number(v) : NaN;
  return Number.isFinite(n) ? n : fallback;
}

function arr<T = Record<string, unknown>>(v: unknown): T[] {
  if (Array.isArray(v)) return v as T[];
  return v && typeof v === "object" ? [v as T] : [];
}

/** The logical id a `${type.id.attr}` reference points at, when it is of `type`. */
function refTo(value: unknown, type: string): string | undefined {
  const r = singleRef(value);
  return r && r.type === type ? r.name : undefined;
}

export function readStack(name: string, dir: string, json: StackJson): StackModel {
  const res = json.resource ?? {};
  const of = (type: string): Resources => (res[type] ?? {}) as Resources;
  const warnings: string[] = [];
  const region = json.provider?.aws?.[0]?.region ?? "us-east-1";

  const tables: TableDef[] = Object.entries(of("aws_dynamodb_table")).map(([id, t]) => {
    const index = (i: Record<string, unknown>): IndexDef => ({
      name: str(i.name),
      hashKey: str(i.hash_key),
      rangeKey: i.range_key ? str(i.range_key) : undefined,
      projectionType: str(i.projection_type, "ALL"),
      nonKeyAttributes: Array.isArray(i.non_key_attributes) ? (i.non_key_attributes as string[]) : undefined,
    });
    const ttl = arr(t.ttl)[0];
    if (typeof t.name !== "string" || t.name.includes("${")) throw new Error(`table ${id}: its name is not a literal in the synthesized JSON`);
    return {
      logicalId: id,
      name: t.name,
      hashKey: str(t.hash_key),
      rangeKey: t.range_key ? str(t.range_key) : undefined,
      attributes: arr(t.attribute).map((a) => ({ name: str(a.name), type: str(a.type, "S") as KeyAttr["type"] })),
      globalSecondaryIndexes: arr(t.global_secondary_index).map(index),
      localSecondaryIndexes: arr(t.local_secondary_index).map(index),
      ttlAttribute: ttl && ttl.enabled !== false && ttl.attribute_name ? str(ttl.attribute_name) : undefined,
    };
  });

  const functions: FunctionDef[] = Object.entries(of("aws_lambda_function")).map(([id, f]) => {
    const filename = str(f.filename);
    if (!filename) throw new Error(`function ${id}: no filename (the twin runs zip deployments only)`);
    const zipPath = path.resolve(dir, filename);
    const env = arr(f.environment)[0];
    const variables = (env?.variables ?? {}) as Record<string, unknown>;
    return {
      logicalId: id,
      name: str(f.function_name, id),
      handler: str(f.handler, "index.handler"),
      runtime: str(f.runtime, "nodejs22.x"),
      timeoutSeconds: num(f.timeout, 3),
      memorySize: num(f.memory_size, 128),
      reservedConcurrency: f.reserved_concurrent_executions === undefined ? undefined : num(f.reserved_concurrent_executions, -1),
      zipPath,
      environment: Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, str(v)])),
    };
  });
  for (const f of functions) {
    if (!f.runtime.startsWith("nodejs")) throw new Error(`function ${f.name}: runtime ${f.runtime} (the twin runs Node.js functions only)`);
  }

  const api = readApi(of, json, warnings);
  const outputs = Object.fromEntries(
    Object.entries(json.output ?? {}).map(([k, o]) => [k, { value: o.value, sensitive: o.sensitive === true }]),
  );
  const hasDax = Object.keys(of("aws_dax_cluster")).length > 0 || functions.some((f) => f.environment[CONNECTIONS.daxEndpoint.env]);
  for (const m of api.methods) {
    if (m.integration?.functionLogicalId && !functions.some((f) => f.logicalId === m.integration!.functionLogicalId)) {
      throw new Error(`${m.httpMethod} ${m.resourcePath}: integration points at a function not in this stack`);
    }
  }
  const cacheUsers: CacheUserDef[] = Object.entries(of("aws_elasticache_user")).flatMap(([logicalId, u]) => {
    const [userId, userName, accessString] = [u.user_id, u.user_name, u.access_string].map((v) => (typeof v === "string" && !v.includes("${") ? v : undefined));
    if (!userId || !userName || !accessString) return [];
    return [{ logicalId, userId, userName, accessString, authType: str(arr(u.authentication_mode)[0]?.type, "password") }];
  });
  return { name, dir, region, tables, functions, api, outputs, cacheUsers, hasDax, warnings, json };
}

function readApi(of: (type: string) => Resources, json: StackJson, warnings: string[]): ApiDef {
  const apis = Object.entries(of("aws_api_gateway_rest_api"));
  if (apis.length === 0) throw new Error("the stack has no aws_api_gateway_rest_api: nothing to serve");
  // The API whose stage the api_url output names, else the first.
  const urlStage = refTo(json.output?.api_url?.value, "aws_api_gateway_stage");
  const stages = of("aws_api_gateway_stage");
  const chosenId = (urlStage && refTo(stages[urlStage]?.rest_api_id, "aws_api_gateway_rest_api")) ?? apis[0][0];
  if (apis.length > 1) warnings.push(`the stack has ${apis.length} REST APIs; the twin serves ${chosenId} only`);
  const [apiId, apiCfg] = apis.find(([id]) => id === chosenId) ?? apis[0];
  const belongs = (r: Record<string, unknown>) => refTo(r.rest_api_id, "aws_api_gateway_rest_api") === apiId;

  const stageEntry = Object.entries(stages).find(([, s]) => belongs(s));
  const stageName = stageEntry ? str(stageEntry[1].stage_name) : "";
  if (!stageName || stageName.includes("${")) throw new Error(`REST API ${apiId} has no aws_api_gateway_stage with a literal stage_name`);
  const stageVariables = (stageEntry?.[1].variables ?? {}) as Record<string, string>;

  // Resource paths from parent links.
  const resources = Object.fromEntries(Object.entries(of("aws_api_gateway_resource")).filter(([, r]) => belongs(r)));
  const pathCache = new Map<string, string>();
  const pathOfResourceRef = (ref: unknown, depth = 0): string => {
    const r = singleRef(ref);
    if (!r) throw new Error(`cannot follow resource reference ${JSON.stringify(ref)}`);
    if (r.type === "aws_api_gateway_rest_api" && r.attr === "root_resource_id") return "/";
    if (r.type !== "aws_api_gateway_resource" || !resources[r.name]) throw new Error(`unknown resource ${JSON.stringify(ref)}`);
    const cached = pathCache.get(r.name);
    if (cached) return cached;
    if (depth > 50) throw new Error("resource tree too deep (a cycle?)");
    const parent = pathOfResourceRef(resources[r.name].parent_id, depth + 1);
    const p = `${parent === "/" ? "" : parent}/${str(resources[r.name].path_part)}`;
    pathCache.set(r.name, p);
    return p;
  };
  const resourcePaths = ["/", ...Object.keys(resources).map((id) => pathOfResourceRef(`\${aws_api_gateway_resource.${id}.id}`))];

  const validators = of("aws_api_gateway_request_validator");
  const models = of("aws_api_gateway_model");
  const integrations = Object.values(of("aws_api_gateway_integration")).filter(belongs);
  const methodsRaw = Object.entries(of("aws_api_gateway_method")).filter(([, m]) => belongs(m));

  const authorizers = new Map<string, AuthorizerDef>();
  for (const [logicalId, a] of Object.entries(of("aws_api_gateway_authorizer")).filter(([, a]) => belongs(a))) {
    const header = /^method\.request\.header\.(.+)$/.exec(str(a.identity_source, "method.request.header.Authorization"))?.[1];
    const fn = /aws_lambda_function\.([A-Za-z0-9_-]+)\./.exec(str(a.authorizer_uri));
    authorizers.set(logicalId, {
      logicalId,
      type: str(a.type, "TOKEN").toUpperCase(),
      header,
      validationExpression: a.identity_validation_expression ? str(a.identity_validation_expression) : undefined,
      ttlSeconds: num(a.authorizer_result_ttl_in_seconds, 300),
      functionLogicalId: fn?.[1],
      providerArns: (Array.isArray(a.provider_arns) ? a.provider_arns : []).map((x) => str(x)),
    });
  }

  const methods: MethodDef[] = methodsRaw.map(([methodId, m]) => {
    const httpMethod = str(m.http_method).toUpperCase();
    const resourcePath = pathOfResourceRef(m.resource_id);
    const validatorId = refTo(m.request_validator_id, "aws_api_gateway_request_validator");
    const validator = validatorId ? validators[validatorId] : undefined;
    const methodModels: Record<string, ModelDef> = {};
    for (const [contentType, ref] of Object.entries((m.request_models ?? {}) as Record<string, string>)) {
      const modelId = refTo(ref, "aws_api_gateway_model");
      const modelCfg = modelId ? models[modelId] : Object.values(models).find((x) => x.name === ref && belongs(x));
      if (!modelCfg) {
        if (ref !== "Empty" && ref !== "Error") warnings.push(`${httpMethod} ${resourcePath}: model ${ref} not found; body not validated`);
        continue;
      }
      methodModels[contentType.toLowerCase()] = {
        name: str(modelCfg.name),
        contentType,
        schema: JSON.parse(str(modelCfg.schema, "{}")) as Schema,
      };
    }
    const integ = integrations.find((i) => {
      const sameResource = str(i.resource_id) === str(m.resource_id);
      const im = str(i.http_method);
      const sameMethod = im === httpMethod || refTo(im, "aws_api_gateway_method") === methodId;
      return sameResource && sameMethod;
    });
    const fnMatch = integ ? /aws_lambda_function\.([A-Za-z0-9_-]+)\./.exec(str(integ.uri)) : null;
    const authorization = str(m.authorization, "NONE").toUpperCase();
    const authorizer = authorizers.get(refTo(m.authorizer_id, "aws_api_gateway_authorizer") ?? "");
    const unsupported = authorization === "CUSTOM" ? (!authorizer ? "no authorizer in this stack" : authorizer.type !== "TOKEN" ? `a ${authorizer.type} authorizer`
      : !authorizer.functionLogicalId ? "an authorizer whose function is not in this stack" : undefined)
      : authorization === "COGNITO_USER_POOLS" && !authorizer ? "no authorizer in this stack"
        : !["NONE", "AWS_IAM", "CUSTOM", "COGNITO_USER_POOLS"].includes(authorization) ? `authorization ${authorization}` : undefined;
    if (unsupported) warnings.push(`${httpMethod} ${resourcePath}: ${unsupported} is not emulated; the twin answers 401`);
    if (!integ) warnings.push(`${httpMethod} ${resourcePath}: no integration; the twin answers 500`);
    else if (str(integ.type) !== "AWS_PROXY") warnings.push(`${httpMethod} ${resourcePath}: integration type ${str(integ.type)} is not emulated; the twin answers 500`);
    return {
      httpMethod,
      resourcePath,
      authorization: unsupported ? "UNSUPPORTED" : authorization,
      authorizer,
      authorizationScopes: Array.isArray(m.authorization_scopes) ? (m.authorization_scopes as unknown[]).map((x) => str(x)) : [],
      apiKeyRequired: m.api_key_required === true || m.api_key_required === "true",
      requestParameters: (m.request_parameters ?? {}) as Record<string, boolean>,
      validateBody: validator ? validator.validate_request_body === true : false,
      validateParameters: validator ? validator.validate_request_parameters === true : false,
      models: methodModels,
      integration: integ
        ? { type: str(integ.type), functionLogicalId: fnMatch?.[1], timeoutMs: num(integ.timeout_milliseconds, 29_000) }
        : undefined,
    };
  });

  const gatewayResponses: Record<string, GatewayResponseDef> = {};
  for (const g of Object.values(of("aws_api_gateway_gateway_response")).filter(belongs)) {
    const type = str(g.response_type);
    gatewayResponses[type] = {
      type,
      statusCode: g.status_code === undefined ? undefined : num(g.status_code, 0) || undefined,
      templates: (g.response_templates ?? {}) as Record<string, string>,
      parameters: (g.response_parameters ?? {}) as Record<string, string>,
    };
  }

  // API Gateway's account-level default when the stage sets nothing.
  let defaults: ThrottleLimit = { rate: 10_000, burst: 5_000 };
  const perMethod: Record<string, ThrottleLimit> = {};
  for (const s of Object.values(of("aws_api_gateway_method_settings")).filter(belongs)) {
    const settings = arr(s.settings)[0] ?? {};
    const limit = { rate: num(settings.throttling_rate_limit, -1), burst: num(settings.throttling_burst_limit, -1) };
    const mp = str(s.method_path);
    if (limit.rate < 0 && limit.burst < 0) continue;
    const merged = { rate: limit.rate >= 0 ? limit.rate : defaults.rate, burst: limit.burst >= 0 ? limit.burst : defaults.burst };
    if (mp === "*/*") defaults = merged;
    else perMethod[mp] = merged;
  }

  // Usage plans covering this API's served stage (by literal stage name or a reference to its stage).
  const stageId = stageEntry?.[0];
  const plans = new Map<string, UsagePlanDef>();
  for (const [logicalId, p] of Object.entries(of("aws_api_gateway_usage_plan"))) {
    const covers = arr(p.api_stages).some((st) => {
      const stageRef = singleRef(st.stage);
      const sameStage = stageRef ? stageRef.type === "aws_api_gateway_stage" && stageRef.name === stageId : str(st.stage) === stageName;
      return refTo(st.api_id, "aws_api_gateway_rest_api") === apiId && sameStage;
    });
    if (!covers) continue;
    const t = arr(p.throttle_settings)[0];
    const q = arr(p.quota_settings)[0];
    const period = str(q?.period).toUpperCase();
    plans.set(logicalId, {
      logicalId,
      throttle: t ? { rate: num(t.rate_limit, defaults.rate), burst: num(t.burst_limit, defaults.burst) } : undefined,
      quota: q && (period === "DAY" || period === "WEEK" || period === "MONTH") ? { limit: num(q.limit, Infinity), period } : undefined,
    });
  }
  const planOfKey = new Map<string, UsagePlanDef>();
  for (const pk of Object.values(of("aws_api_gateway_usage_plan_key"))) {
    const plan = plans.get(refTo(pk.usage_plan_id, "aws_api_gateway_usage_plan") ?? "");
    const key = refTo(pk.key_id, "aws_api_gateway_api_key");
    if (plan && key) planOfKey.set(key, plan);
  }
  const apiKeys: ApiKeyDef[] = Object.entries(of("aws_api_gateway_api_key")).map(([logicalId, k]) => ({
    logicalId,
    value: typeof k.value === "string" && !k.value.includes("${") ? k.value : undefined,
    enabled: k.enabled !== false && k.enabled !== "false",
    usagePlan: planOfKey.get(logicalId),
  }));

  return {
    logicalId: apiId,
    name: str(apiCfg.name, apiId),
    stageName,
    stageVariables,
    binaryMediaTypes: Array.isArray(apiCfg.binary_media_types) ? (apiCfg.binary_media_types as string[]) : [],
    endpointType: str((arr(apiCfg.endpoint_configuration)[0]?.types as unknown[] | undefined)?.[0], "EDGE").toUpperCase(),
    resourcePaths,
    methods,
    gatewayResponses,
    throttle: { defaults, perMethod },
    apiKeys,
    authorizers: [...authorizers.values()],
  };
}
