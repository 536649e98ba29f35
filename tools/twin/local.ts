/**
 * Maps a deployed stack's Terraform references onto the twin's local stand-ins: the function
 * environment a Lambda would see (endpoints rewritten to dynalite and the local Redis) and
 * the stack outputs a deployment would report (`cdktf output` shape).
 */
import * as path from "path";
import { CONNECTIONS } from "../../functions/lib/contract";
import { AUTHORIZER } from "../../functions/authorizer/contract";
import { PUSHER } from "../../functions/pusher/contract";
import { FunctionDef, REF_RE, StackModel, singleRef } from "./stack";

/** Where the stand-ins listen. */
export interface LocalEndpoints {
  /** `http://127.0.0.1:3210` */
  readonly baseUrl: string;
  readonly dynamoDbEndpoint: string;
  /** Absent: the in-memory cache backend. */
  readonly redis?: { readonly host: string; readonly port: number; readonly tls: boolean };
  /**
   * Users the local redis-server has (`ACL SETUSER`, from the stack's `aws_elasticache_user`s), by
   * user id: a function whose `REDIS_USER` is one of them connects as it. Absent with `--redis-url`.
   */
  readonly redisUsers?: ReadonlySet<string>;
  /** API key values by the logical id of their aws_api_gateway_api_key. */
  readonly apiKeys: Record<string, { id: string; value: string }>;
  /** Where the twin serves its issuer's JWKS; absent: the stack has no authorizer to issue for. */
  readonly jwksUrl?: string;
  /** The JSONL file standing in for each on-failure queue, by the logical id of its aws_sqs_queue. */
  readonly queues?: Record<string, string>;
  /** `ws://127.0.0.1:3210/ws/v1`: the WebSocket stage; absent: the stack has no WebSocket API. */
  readonly websocketUrl?: string;
  /** The stack's CloudFront distribution, served locally; absent when it has none. */
  readonly edge?: { readonly url: string; readonly distributionId: string };
}

/** The account id the twin pretends to be (AWS's documentation account). */
export const TWIN_ACCOUNT = "123456789012";

/** Credentials that authenticate nowhere: functions never reach a real AWS account from the twin. */
export const FAKE_CREDENTIALS = {
  AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE",
  AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  AWS_SESSION_TOKEN: "cachefront-local-twin",
} as const;

type Resolved = { value: string | number } | { drop: string } | undefined;

/** The local value of `${type.name.attr}`; `{drop}` for things with no local equivalent; undefined if unknown. */
export function resolveRef(model: StackModel, local: LocalEndpoints, type: string, name: string, attr: string): Resolved {
  const cfg = model.json.resource?.[type]?.[name];
  if (!cfg) return undefined;
  switch (type) {
    case "aws_dynamodb_table":
      if (attr === "name" || attr === "id") return { value: String(cfg.name) };
      if (attr === "arn") return { value: `arn:aws:dynamodb:${model.region}:${TWIN_ACCOUNT}:table/${String(cfg.name)}` };
      break;
    case "aws_lambda_function":
      if (attr === "function_name" || attr === "id") return { value: String(cfg.function_name) };
      if (attr === "arn" || attr === "qualified_arn") return { value: `arn:aws:lambda:${model.region}:${TWIN_ACCOUNT}:function:${String(cfg.function_name)}` };
      break;
    case "aws_api_gateway_stage":
      if (attr === "invoke_url") return { value: `${local.baseUrl}/${String(cfg.stage_name)}` };
      if (attr === "stage_name") return { value: String(cfg.stage_name) };
      break;
    case "aws_api_gateway_rest_api":
      if (attr === "id") return { value: "twin" };
      break;
    case "aws_apigatewayv2_stage":
      if (attr === "invoke_url" && local.websocketUrl) return { value: local.websocketUrl };
      break;
    case "aws_apigatewayv2_api":
      if (attr === "id") return { value: "twin-ws" };
      // `ws://127.0.0.1:<port>/ws`: the stage URLs are below it, as below `wss://<id>.execute-api…`.
      if (attr === "api_endpoint" && local.websocketUrl) return { value: local.websocketUrl.slice(0, local.websocketUrl.lastIndexOf("/")) };
      break;
    case "aws_api_gateway_api_key": {
      const key = local.apiKeys[name];
      if (key && attr === "value") return { value: key.value };
      if (key && attr === "id") return { value: key.id };
      break;
    }
    case "aws_elasticache_replication_group":
    case "aws_elasticache_cluster":
    case "aws_elasticache_serverless_cache":
      if (/endpoint_address$|^cache_nodes$|address$/.test(attr)) return local.redis ? { value: local.redis.host } : { drop: "no local Redis (memory cache backend)" };
      if (attr === "port") return local.redis ? { value: local.redis.port } : { drop: "no local Redis (memory cache backend)" };
      break;
    case "aws_cloudfront_distribution":
      if (!local.edge) return { drop: "the twin serves no edge" };
      if (attr === "id") return { value: local.edge.distributionId };
      if (attr === "domain_name") return { value: new URL(local.edge.url).host };
      if (attr === "arn") return { value: `arn:aws:cloudfront::${TWIN_ACCOUNT}:distribution/${local.edge.distributionId}` };
      break;
    case "aws_sqs_queue": {
      const file = local.queues?.[name];
      if (file && (attr === "url" || attr === "arn" || attr === "id")) return { value: file };
      break;
    }
    case "aws_secretsmanager_secret":
    case "aws_secretsmanager_secret_version":
      return { drop: "the local Redis has no AUTH" };
    case "aws_dax_cluster":
      return { drop: "DAX has no local equivalent" };
    case "aws_sns_topic":
    case "aws_kms_key":
    case "aws_cloudwatch_metric_alarm":
      return { drop: "alarms and their topic exist only in CloudWatch" };
  }
  const literal = cfg[attr];
  if (typeof literal === "string" && !literal.includes("${")) return { value: literal };
  if (typeof literal === "number") return { value: literal };
  return undefined;
}

/** A value with every `${…}` reference resolved; `{drop}` or undefined when one cannot be. */
export function resolveValue(model: StackModel, local: LocalEndpoints, value: unknown): Resolved {
  if (typeof value === "number" || typeof value === "boolean") return { value: value as number };
  if (typeof value !== "string") return undefined;
  const whole = singleRef(value);
  if (whole) return resolveRef(model, local, whole.type, whole.name, whole.attr);
  let failure: Resolved = { value: "" };
  const out = value.replace(REF_RE, (_m, type: string, name: string, attr: string) => {
    const r = resolveRef(model, local, type, name, attr);
    if (r && "value" in r) return String(r.value);
    if (failure && "value" in failure) failure = r;
    return "";
  });
  if (failure === undefined || "drop" in failure) return failure;
  if (out.includes("${")) return undefined; // a function call or other expression
  return { value: out };
}

export interface FunctionEnvironment {
  readonly env: Record<string, string>;
  /** What was rewritten or left out, one line each. */
  readonly notes: string[];
}

/**
 * The environment of one function: what Lambda sets, then the synthesized variables with
 * the table, cache and DAX endpoints pointed at the local stand-ins, and fake credentials.
 */
export function functionEnvironment(
  model: StackModel,
  fn: FunctionDef,
  local: LocalEndpoints,
  opts: { taskRoot: string; nodePath: string },
): FunctionEnvironment {
  const notes: string[] = [];
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    LANG: "en_US.UTF-8",
    TZ: "UTC",
    NODE_PATH: opts.nodePath,
    LAMBDA_TASK_ROOT: opts.taskRoot,
    AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
    [CONNECTIONS.region.env]: model.region,
    [CONNECTIONS.defaultRegion.env]: model.region,
    AWS_LAMBDA_FUNCTION_NAME: fn.name,
    AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
    AWS_NODEJS_CONNECTION_REUSE_ENABLED: "1",
    AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: "1",
    // The SDK warns about this machine's Node version, which is not the function's runtime.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    ...FAKE_CREDENTIALS,
    // Any DynamoDB client, even one built without the endpoint variable, talks to dynalite.
    AWS_ENDPOINT_URL_DYNAMODB: local.dynamoDbEndpoint,
    // A function invoking another (the pusher) reaches the twin's Lambda API.
    AWS_ENDPOINT_URL_LAMBDA: local.baseUrl,
  };
  const C = CONNECTIONS;
  // Set below from what the twin's Redis offers: endpoint, and how to log in.
  const redisVars = new Set([C.redisHost, C.redisPort, C.redisTls, C.redisClusterMode, C.redisAuthMode, C.redisUser, C.redisCacheName, C.redisServerless].map((c) => c.env));
  for (const [key, raw] of Object.entries(fn.environment)) {
    if (key === C.daxEndpoint.env) {
      notes.push(`${key} dropped: DAX has no local equivalent, reads go to DynamoDB directly`);
      continue;
    }
    if (key === C.redisAuthSecretArn.env) {
      notes.push(`${key} dropped: the twin's Redis has no secrets (a function logs in as its own user, or as the default user)`);
      continue;
    }
    if (key === C.dynamoDbEndpoint.env) continue; // set below
    if (key === AUTHORIZER.settings.jwksUrl.env && local.jwksUrl) {
      // Only the keys move: issuer and audience stay as deployed, so the authorizer checks them unchanged.
      env[key] = local.jwksUrl;
      notes.push(`${key}=${local.jwksUrl}: the twin's issuer signs the tokens (npm run token)`);
      continue;
    }
    if (key === PUSHER.settings.stageUrl.env && local.websocketUrl) {
      env[key] = local.websocketUrl;
      notes.push(`${key}=${local.websocketUrl}: posts go to the twin's @connections`);
      continue;
    }
    if (redisVars.has(key)) continue; // set below
    const r = resolveValue(model, local, raw);
    if (r && "value" in r) env[key] = String(r.value);
    else notes.push(`${key} left unset: ${r ? r.drop : `cannot resolve ${raw} locally`}`);
  }
  env[C.dynamoDbEndpoint.env] = local.dynamoDbEndpoint;
  if (fn.environment[C.edgeDistributionId.env] !== undefined && local.edge) {
    // The twin answers CloudFront's CreateInvalidation itself (cloudfront-api.ts) and applies it to its edge.
    env[C.cloudfrontEndpoint.env] = local.baseUrl;
    notes.push(`${C.cloudfrontEndpoint.env}=${local.baseUrl}: invalidations go to the twin's edge`);
  }
  const wantsRedis = fn.environment[C.redisHost.env] !== undefined || fn.environment[C.cacheBackend.env] === "redis";
  if (fn.environment[C.cacheBackend.env] === "memcached") {
    // No local memcached: the memory backend has the same operations (and more).
    for (const k of [C.memcachedHost, C.memcachedPort, C.memcachedTls]) delete env[k.env];
    env[C.cacheBackend.env] = "memory";
    notes.push(`${C.cacheBackend.env}=memory: the twin has no memcached`);
  } else if (wantsRedis && local.redis) {
    env[C.redisHost.env] = local.redis.host;
    env[C.redisPort.env] = String(local.redis.port);
    env[C.redisTls.env] = String(local.redis.tls);
    env[C.redisClusterMode.env] = "false";
    const user = resolveValue(model, local, fn.environment[C.redisUser.env]);
    const userId = user && "value" in user ? String(user.value) : undefined;
    if (userId && local.redisUsers?.has(userId)) {
      // The function's own ElastiCache user, with its access string. IAM tokens cannot be checked
      // here (no AWS), so the local user takes any password: the runtime still signs one (with the
      // twin's fake credentials) and logs in as the user, whose ACL is what a deployment enforces.
      env[C.redisAuthMode.env] = "iam";
      env[C.redisUser.env] = userId;
      env[C.redisCacheName.env] = literalOr(model, local, fn.environment[C.redisCacheName.env], "twin");
      notes.push(`${C.redisUser.env}=${userId}: logs in to the twin's Redis as its own user (its ACL; any password stands in for IAM)`);
    } else if (userId) {
      notes.push(`${C.redisUser.env}=${userId} dropped: no such user in the twin's Redis; the function logs in as the default user`);
    }
  } else if (wantsRedis) {
    env[C.cacheBackend.env] = "memory";
    notes.push(`${C.cacheBackend.env}=memory: no local Redis`);
  }
  return { env, notes };
}

/** The local value of `raw` when it resolves to one, else `fallback`. */
function literalOr(model: StackModel, local: LocalEndpoints, raw: string | undefined, fallback: string): string {
  const r = raw === undefined ? undefined : resolveValue(model, local, raw);
  return r && "value" in r ? String(r.value) : fallback;
}

/** Outputs whose local value is fixed by meaning, not by their Terraform expression. */
function knownOutput(name: string, model: StackModel, local: LocalEndpoints): { value: unknown } | undefined {
  switch (name) {
    case "api_url":
      return { value: `${local.baseUrl}/${model.api.stageName}` };
    case "edge_url":
      return local.edge ? { value: local.edge.url } : undefined;
    case "redis_endpoint":
      return { value: local.redis?.host ?? "" };
    case "redis_port":
      return { value: local.redis?.port ?? 0 };
    case "redis_auth_secret_arn":
    case "dax_endpoint":
      return { value: "" };
    case "websocket_url":
      return local.websocketUrl ? { value: local.websocketUrl } : undefined;
    default:
      return undefined;
  }
}

/**
 * The stack's outputs with local values, as `cdktf output --outputs-file` writes them
 * (`{ "<stack>": { "<output>": value } }`); `notes` names outputs that could not be resolved (null).
 */
export function localOutputs(model: StackModel, local: LocalEndpoints): { outputs: Record<string, unknown>; notes: string[] } {
  const outputs: Record<string, unknown> = {};
  const notes: string[] = [];
  for (const [name, def] of Object.entries(model.outputs)) {
    const known = knownOutput(name, model, local);
    if (known) {
      outputs[name] = known.value;
      continue;
    }
    const r = resolveValue(model, local, def.value);
    if (r && "value" in r) outputs[name] = r.value;
    else if (r && "drop" in r) outputs[name] = "";
    else {
      outputs[name] = null;
      notes.push(`output ${name}: cannot resolve ${JSON.stringify(def.value)} locally (null)`);
    }
  }
  return { outputs, notes };
}

/** `path` relative to the current directory when inside it (for messages). */
export function shown(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel && !rel.startsWith("..") ? rel : p;
}
