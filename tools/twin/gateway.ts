/**
 * The API Gateway REST API of the stack on a local HTTP server, with the gates API Gateway
 * applies before the integration runs, in its order: payload size (10 MB), route
 * (403 Missing Authentication Token), stage throttling (429), authorization (401/403, see authorizers.ts), API key (403),
 * request parameters and body model (400), Lambda's payload limit (6 MB, 413); then the
 * AWS_PROXY integration with a REST (payload v1) event, and the proxy result back as HTTP.
 * Errors the gateway answers itself go through the stack's gateway responses.
 */
import { randomBytes, randomUUID } from "crypto";
import type { IncomingMessage, ServerResponse } from "http";
import { Authorizers, CallerContext } from "./authorizers";
import { FunctionPool, InvokeOutcome } from "./functions";
import { TWIN_ACCOUNT } from "./local";
import { compileModel, ModelValidator } from "./schema";
import { ApiDef, MethodDef, UsagePlanDef } from "./stack";
import { TokenBucket } from "./throttle";

/** API Gateway's request payload limit. */
export const API_GATEWAY_MAX_BODY = 10 * 1024 * 1024;
/** Lambda's synchronous invocation payload limit (request and response). */
export const LAMBDA_MAX_PAYLOAD = 6 * 1024 * 1024;
/** REST APIs: "total combined size of all header values" (API Gateway quotas). */
export const API_GATEWAY_MAX_HEADER_VALUES = 10_240;
/** REST APIs: URL length in characters, by endpoint type (API Gateway quotas; private APIs as regional). */
export const API_GATEWAY_MAX_URL = { EDGE: 8192, REGIONAL: 10_240, PRIVATE: 10_240 } as const;

/** An API Gateway REST proxy (v1) event. */
export interface RestProxyEvent {
  resource: string;
  path: string;
  httpMethod: string;
  headers: Record<string, string> | null;
  multiValueHeaders: Record<string, string[]> | null;
  queryStringParameters: Record<string, string> | null;
  multiValueQueryStringParameters: Record<string, string[]> | null;
  pathParameters: Record<string, string> | null;
  stageVariables: Record<string, string> | null;
  requestContext: Record<string, unknown> & { requestId: string; stage: string; resourcePath: string; httpMethod: string };
  body: string | null;
  isBase64Encoded: boolean;
}

export interface EventInput {
  readonly method: string;
  /** Path below the stage, as sent (percent-encoding kept), e.g. `/products/a%20b`. */
  readonly path: string;
  /** The matched resource template, e.g. `/products/{productId}`. */
  readonly resourcePath: string;
  readonly pathParameters: Record<string, string>;
  /** Raw query string without `?`. */
  readonly query: string;
  /** Header name/value pairs as received (`req.rawHeaders`). */
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
  readonly stage: string;
  readonly stageVariables: Record<string, string>;
  readonly binaryMediaTypes: readonly string[];
  readonly sourceIp: string;
  readonly requestId: string;
  readonly apiKey?: { id: string; value: string };
  readonly apiId: string;
  readonly now?: Date;
  /** What the method's authorization verified: `requestContext.authorizer` and identity fields. */
  readonly caller?: CallerContext;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** `22/Nov/2026:08:40:00 +0000`, API Gateway's requestTime. */
function requestTime(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

function mediaTypeMatches(contentType: string, patterns: readonly string[]): boolean {
  const ct = contentType.split(";")[0].trim().toLowerCase();
  if (!ct) return false;
  return patterns.some((p) => {
    const q = p.toLowerCase();
    if (q === "*/*") return true;
    if (q.endsWith("/*")) return ct.startsWith(q.slice(0, -1));
    return q === ct;
  });
}

function decodeQueryPart(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, " "));
  } catch {
    return s;
  }
}

/** Builds the event API Gateway's AWS_PROXY integration sends to Lambda (REST API, payload v1). */
export function buildEvent(input: EventInput): RestProxyEvent {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  const caseOf = new Map<string, string>();
  for (let i = 0; i + 1 < input.rawHeaders.length; i += 2) {
    const raw = input.rawHeaders[i];
    const name = caseOf.get(raw.toLowerCase()) ?? raw;
    caseOf.set(raw.toLowerCase(), name);
    headers[name] = input.rawHeaders[i + 1]; // the last value wins, as in API Gateway
    (multiValueHeaders[name] ??= []).push(input.rawHeaders[i + 1]);
  }
  const forwarded: Record<string, string> = {
    "X-Forwarded-For": input.sourceIp,
    "X-Forwarded-Proto": "http",
    "X-Amzn-Trace-Id": `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString("hex")}`,
  };
  for (const [k, v] of Object.entries(forwarded)) {
    if (!caseOf.has(k.toLowerCase())) {
      headers[k] = v;
      multiValueHeaders[k] = [v];
    }
  }

  const qs: Record<string, string> = {};
  const mqs: Record<string, string[]> = {};
  for (const part of input.query.split("&")) {
    if (!part) continue;
    const eq = part.indexOf("=");
    const k = decodeQueryPart(eq < 0 ? part : part.slice(0, eq));
    const v = eq < 0 ? "" : decodeQueryPart(part.slice(eq + 1));
    qs[k] = v;
    (mqs[k] ??= []).push(v);
  }

  const headerOf = (name: string) => {
    const key = caseOf.get(name.toLowerCase());
    return key ? headers[key] : undefined;
  };
  const binary = mediaTypeMatches(headerOf("content-type") ?? "", input.binaryMediaTypes);
  const now = input.now ?? new Date();
  const hasHeaders = Object.keys(headers).length > 0;
  return {
    resource: input.resourcePath,
    path: input.path,
    httpMethod: input.method,
    headers: hasHeaders ? headers : null,
    multiValueHeaders: hasHeaders ? multiValueHeaders : null,
    queryStringParameters: Object.keys(qs).length ? qs : null,
    multiValueQueryStringParameters: Object.keys(mqs).length ? mqs : null,
    pathParameters: Object.keys(input.pathParameters).length ? { ...input.pathParameters } : null,
    stageVariables: Object.keys(input.stageVariables).length ? { ...input.stageVariables } : null,
    requestContext: {
      resourceId: "twin",
      resourcePath: input.resourcePath,
      httpMethod: input.method,
      extendedRequestId: randomBytes(8).toString("base64url"),
      requestTime: requestTime(now),
      path: `/${input.stage}${input.path}`,
      accountId: TWIN_ACCOUNT,
      protocol: "HTTP/1.1",
      stage: input.stage,
      domainPrefix: "127",
      requestTimeEpoch: now.getTime(),
      requestId: input.requestId,
      identity: {
        cognitoIdentityPoolId: null,
        accountId: null,
        cognitoIdentityId: null,
        caller: null,
        sourceIp: input.sourceIp,
        principalOrgId: null,
        accessKey: null,
        cognitoAuthenticationType: null,
        cognitoAuthenticationProvider: null,
        userArn: null,
        userAgent: headerOf("user-agent") ?? null,
        user: null,
        apiKey: input.apiKey?.value ?? null,
        apiKeyId: input.apiKey?.id ?? null,
        ...input.caller?.identity,
      },
      ...(input.caller?.authorizer ? { authorizer: input.caller.authorizer } : {}),
      domainName: headerOf("host") ?? "127.0.0.1",
      apiId: input.apiId,
    },
    body: input.body.length === 0 ? null : binary ? input.body.toString("base64") : input.body.toString("utf8"),
    isBase64Encoded: input.body.length > 0 && binary,
  };
}

interface Node {
  readonly path: string;
  readonly literal: Map<string, Node>;
  param?: { name: string; node: Node };
  greedy?: { name: string; node: Node };
}

/** The resource tree: literal segments first, then `{param}`, then `{param+}` (as API Gateway prefers). */
export class ResourceTree {
  private readonly root: Node = { path: "/", literal: new Map() };

  constructor(paths: readonly string[]) {
    for (const p of paths) this.add(p);
  }

  private add(p: string): void {
    let node = this.root;
    let acc = "";
    for (const seg of p === "/" ? [] : p.slice(1).split("/")) {
      acc += `/${seg}`;
      const m = /^\{(.+?)(\+)?\}$/.exec(seg);
      if (m && m[2]) node = (node.greedy ??= { name: m[1], node: { path: acc, literal: new Map() } }).node;
      else if (m) node = (node.param ??= { name: m[1], node: { path: acc, literal: new Map() } }).node;
      else {
        let next = node.literal.get(seg);
        if (!next) node.literal.set(seg, (next = { path: acc, literal: new Map() }));
        node = next;
      }
    }
  }

  /** The resource a request path (below the stage, percent-encoding kept) maps to, with its path parameters. */
  match(requestPath: string): { resourcePath: string; pathParameters: Record<string, string> } | undefined {
    const trimmed = requestPath.length > 1 ? requestPath.replace(/\/$/, "") : requestPath;
    const segments = trimmed === "/" || trimmed === "" ? [] : trimmed.slice(1).split("/");
    const walk = (node: Node, i: number, params: Record<string, string>): { resourcePath: string; pathParameters: Record<string, string> } | undefined => {
      if (i === segments.length) return { resourcePath: node.path, pathParameters: params };
      const seg = segments[i];
      if (seg === "") return undefined;
      const lit = node.literal.get(seg) ?? node.literal.get(decodeQueryPart(seg));
      const viaLiteral = lit && walk(lit, i + 1, params);
      if (viaLiteral) return viaLiteral;
      if (node.param) {
        const viaParam = walk(node.param.node, i + 1, { ...params, [node.param.name]: seg });
        if (viaParam) return viaParam;
      }
      if (node.greedy) return { resourcePath: node.greedy.node.path, pathParameters: { ...params, [node.greedy.name]: segments.slice(i).join("/") } };
      return undefined;
    };
    return walk(this.root, 0, {});
  }
}

/** Gateway-answered errors: response type, default status, API Gateway's message and x-amzn-ErrorType. */
export const GATEWAY_ERRORS = {
  MISSING_AUTHENTICATION_TOKEN: { status: 403, message: "Missing Authentication Token", errorType: "MissingAuthenticationTokenException" },
  INVALID_API_KEY: { status: 403, message: "Forbidden", errorType: "ForbiddenException" },
  UNAUTHORIZED: { status: 401, message: "Unauthorized", errorType: "UnauthorizedException" },
  ACCESS_DENIED: { status: 403, message: "User is not authorized to access this resource", errorType: "AccessDeniedException" },
  AUTHORIZER_CONFIGURATION_ERROR: { status: 500, message: "Internal server error", errorType: "AuthorizerConfigurationException" },
  INCOMPLETE_SIGNATURE: { status: 403, message: "Incomplete signature", errorType: "IncompleteSignatureException" },
  INVALID_SIGNATURE: {
    status: 403,
    message: "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
    errorType: "InvalidSignatureException",
  },
  UNRECOGNIZED_CLIENT: { status: 403, message: "The security token included in the request is invalid.", errorType: "UnrecognizedClientException" },
  THROTTLED: { status: 429, message: "Too Many Requests", errorType: "TooManyRequestsException" },
  QUOTA_EXCEEDED: { status: 429, message: "Limit Exceeded", errorType: "LimitExceededException" },
  BAD_REQUEST_BODY: { status: 400, message: "Invalid request body", errorType: "BadRequestException" },
  BAD_REQUEST_PARAMETERS: { status: 400, message: "Missing required request parameters", errorType: "BadRequestException" },
  REQUEST_TOO_LARGE: { status: 413, message: "Request Too Long", errorType: "RequestTooLargeException" },
  // API Gateway documents these two quotas, not the answer to a request over them: the twin uses
  // the HTTP statuses for the case (the documented 414 for an over-long method ARN is the closest).
  HEADERS_TOO_LARGE: { status: 431, message: "Request Header Fields Too Large", errorType: "BadRequestException" },
  URL_TOO_LONG: { status: 414, message: "Request URI too long", errorType: "BadRequestException" },
  INTEGRATION_FAILURE: { status: 500, message: "Internal server error", errorType: "InternalServerErrorException" },
  INTEGRATION_TIMEOUT: { status: 504, message: "Endpoint request timed out", errorType: "IntegrationTimeoutException" },
  DEFAULT_5XX_LAMBDA: { status: 502, message: "Internal server error", errorType: "InternalServerErrorException" },
  STARTING: { status: 503, message: "The local twin is starting", errorType: "ServiceUnavailableException" },
  WAF_FILTERED: { status: 403, message: "Forbidden", errorType: "ForbiddenException" },
} as const;
export type GatewayErrorKind = keyof typeof GATEWAY_ERRORS;

export interface GatewayOptions {
  readonly api: ApiDef;
  /** Function pools by the logical id of their aws_lambda_function. */
  readonly pools: ReadonlyMap<string, FunctionPool>;
  /** Valid API keys: value → id (see {@link servedApiKeys}). */
  readonly apiKeys: ReadonlyMap<string, string>;
  /** The usage plan of each API key id, whose per-key throttle and quota apply to methods that require a key. */
  readonly usagePlans?: ReadonlyMap<string, UsagePlanDef>;
  /** Apply stage throttling. */
  readonly throttle: boolean;
  /** One line per request (access log); absent: quiet. */
  readonly accessLog?: (line: string) => void;
  /** Detail lines (validation errors, function failures). */
  readonly note: (line: string) => void;
  /** Runs before each invocation (the test-only --break-cache flushes the cache here). */
  readonly beforeInvoke?: () => Promise<void>;
  /** The stack's region: the deployed invoke URL's host names it, and its length counts. @default "us-east-1" */
  readonly region?: string;
  /** The authorization step. @default authorizers run from `pools`, without an issuer (Cognito methods then answer 401) */
  readonly authorizers?: Authorizers;
  /**
   * Headers the stage's web ACL requires with an exact value (a `CacheEdge`'s origin lock): a
   * request without them is blocked before anything else runs (WAF_FILTERED, 403).
   * @default none
   */
  readonly requiredHeaders?: Readonly<Record<string, string>>;
}

interface Reply {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
  /** What the gateway itself answered, for the access log. */
  gateway?: GatewayErrorKind;
}

/**
 * The API keys API Gateway accepts on the served stage, from the stack's keys and the values
 * the twin generated for them: a key must be enabled and in a usage plan that covers the stage
 * (a key outside any plan, or disabled, gets 403 Forbidden like a wrong one).
 */
export function servedApiKeys(
  api: ApiDef,
  generated: Readonly<Record<string, { readonly id: string; readonly value: string }>>,
): { readonly keys: ReadonlyMap<string, string>; readonly plans: ReadonlyMap<string, UsagePlanDef> } {
  const keys = new Map<string, string>();
  const plans = new Map<string, UsagePlanDef>();
  for (const k of api.apiKeys) {
    const g = generated[k.logicalId];
    if (!g || !k.enabled || !k.usagePlan) continue;
    keys.set(g.value, g.id);
    plans.set(g.id, k.usagePlan);
  }
  return { keys, plans };
}

/** The start of the quota period `at` falls in (UTC; weeks start on Monday), as a key. */
function quotaWindow(period: "DAY" | "WEEK" | "MONTH", at: Date): string {
  const day = at.toISOString().slice(0, 10);
  if (period === "DAY") return day;
  if (period === "MONTH") return day.slice(0, 7);
  const monday = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate() - ((at.getUTCDay() + 6) % 7)));
  return monday.toISOString().slice(0, 10);
}

export class Gateway {
  /** False until the twin is ready: requests get 503 meanwhile. */
  ready = false;
  private readonly tree: ResourceTree;
  private readonly methods = new Map<string, Map<string, MethodDef>>();
  private readonly buckets = new Map<string, TokenBucket>();
  /** Usage-plan throttling per API key id. */
  private readonly keyBuckets = new Map<string, TokenBucket>();
  /** Usage-plan quota use per API key id: the period it counts and the requests in it. */
  private readonly quotaUse = new Map<string, { window: string; used: number }>();
  /** Compiled request models by model name: compiled once, here, so a broken schema fails the start. */
  private readonly validators = new Map<string, ModelValidator>();
  private readonly authorizers: Authorizers;

  /** @throws ModelCompileError when a method's request model is not valid draft-04. */
  constructor(private readonly opts: GatewayOptions) {
    this.authorizers = opts.authorizers ?? new Authorizers({ pools: opts.pools, region: opts.region ?? "us-east-1", apiId: "twin", note: opts.note });
    this.tree = new ResourceTree(opts.api.resourcePaths);
    for (const m of opts.api.methods) {
      let byMethod = this.methods.get(m.resourcePath);
      if (!byMethod) this.methods.set(m.resourcePath, (byMethod = new Map()));
      byMethod.set(m.httpMethod, m);
      for (const model of Object.values(m.models)) {
        if (!this.validators.has(model.name)) this.validators.set(model.name, compileModel(model.name, model.schema));
      }
    }
  }

  /** The methods, sorted by path then method (for the start banner). */
  routes(): MethodDef[] {
    return [...this.opts.api.methods].sort((a, b) => (a.resourcePath + a.httpMethod).localeCompare(b.resourcePath + b.httpMethod));
  }

  private bucketFor(m: MethodDef): TokenBucket {
    const key = `${m.resourcePath} ${m.httpMethod}`;
    let b = this.buckets.get(key);
    if (!b) {
      const t = this.opts.api.throttle;
      const limit = t.perMethod[`${m.resourcePath.slice(1)}/${m.httpMethod}`] ?? t.defaults;
      this.buckets.set(key, (b = new TokenBucket(limit.rate, limit.burst)));
    }
    return b;
  }

  /** Applies a usage plan's per-key throttle and quota to one request; the error kind when over. */
  private usagePlanLimit(keyId: string, plan: UsagePlanDef): GatewayErrorKind | undefined {
    if (this.opts.throttle && plan.throttle) {
      let bucket = this.keyBuckets.get(keyId);
      if (!bucket) this.keyBuckets.set(keyId, (bucket = new TokenBucket(plan.throttle.rate, plan.throttle.burst)));
      if (!bucket.take()) return "THROTTLED";
    }
    if (plan.quota) {
      const window = quotaWindow(plan.quota.period, new Date());
      const use = this.quotaUse.get(keyId);
      const used = use && use.window === window ? use.used : 0;
      if (used >= plan.quota.limit) return "QUOTA_EXCEEDED";
      this.quotaUse.set(keyId, { window, used: used + 1 });
    }
    return undefined;
  }

  /** A response the gateway answers itself, shaped by the stack's gateway responses. */
  gatewayError(kind: GatewayErrorKind, requestId: string, reqHeaders: Record<string, string | string[] | undefined>, message?: string): Reply {
    const e = GATEWAY_ERRORS[kind];
    const type = kind === "DEFAULT_5XX_LAMBDA" ? "DEFAULT_5XX" : kind === "STARTING" ? "DEFAULT_5XX" : kind;
    const responses = this.opts.api.gatewayResponses;
    const def = responses[type] ?? (e.status >= 500 ? responses.DEFAULT_5XX : responses.DEFAULT_4XX);
    const status = def?.statusCode ?? e.status;
    const msg = message ?? e.message;
    const template = def ? def.templates["application/json"] ?? Object.values(def.templates)[0] : undefined;
    const vars: Record<string, string> = {
      "$context.error.messageString": JSON.stringify(msg),
      "$context.error.message": msg,
      "$context.error.responseType": type,
      "$context.error.validationErrorString": "",
      "$context.requestId": requestId,
      "$context.stage": this.opts.api.stageName,
    };
    const body = template === undefined
      ? JSON.stringify({ message: msg })
      : template.replace(/\$context\.[A-Za-z.]+/g, (k) => vars[k] ?? "");
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "x-amzn-requestid": requestId,
      "x-amzn-errortype": e.errorType,
    };
    for (const [k, v] of Object.entries(def?.parameters ?? {})) {
      const m = /^gatewayresponse\.header\.(.+)$/.exec(k);
      if (!m) continue;
      const literal = /^'(.*)'$/.exec(v);
      const fromRequest = /^method\.request\.header\.(.+)$/.exec(v);
      if (literal) headers[m[1].toLowerCase()] = literal[1];
      else if (fromRequest) {
        const h = reqHeaders[fromRequest[1].toLowerCase()];
        if (h !== undefined) headers[m[1].toLowerCase()] = Array.isArray(h) ? h.join(",") : h;
      }
    }
    return { status, headers, body: Buffer.from(body), gateway: kind };
  }

  /** Node's request handler. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    const started = performance.now();
    const requestId = randomUUID();
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size <= API_GATEWAY_MAX_BODY) chunks.push(c);
    });
    req.on("error", () => undefined);
    req.on("end", () => {
      this.respond(req, size > API_GATEWAY_MAX_BODY ? undefined : Buffer.concat(chunks), requestId)
        .catch((err: unknown) => {
          this.opts.note(`twin error: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
          return this.gatewayError("INTEGRATION_FAILURE", requestId, req.headers);
        })
        .then((reply) => {
          if (!res.headersSent) {
            res.writeHead(reply.status, { ...reply.headers, "content-length": String(reply.body.length) });
            res.end(reply.body);
          }
          const ms = Math.round(performance.now() - started);
          const cache = reply.headers["x-cache"] ? ` ${String(reply.headers["x-cache"])}` : "";
          const why = reply.gateway ? ` (${reply.gateway.toLowerCase().replace(/_/g, " ")})` : "";
          this.opts.accessLog?.(`${req.method} ${req.url} → ${reply.status}${cache}${why} ${ms} ms`);
        });
    });
  }

  private async respond(req: IncomingMessage, body: Buffer | undefined, requestId: string): Promise<Reply> {
    const h = req.headers;
    if (!this.ready) return this.gatewayError("STARTING", requestId, h);
    // WAF runs before API Gateway sees the request.
    for (const [name, value] of Object.entries(this.opts.requiredHeaders ?? {})) {
      if (h[name] !== value) return this.gatewayError("WAF_FILTERED", requestId, h);
    }
    if (!body) return this.gatewayError("REQUEST_TOO_LARGE", requestId, h);
    const url = req.url ?? "/";
    const maxUrl = API_GATEWAY_MAX_URL[this.opts.api.endpointType as keyof typeof API_GATEWAY_MAX_URL] ?? API_GATEWAY_MAX_URL.EDGE;
    // The URL the client would send to the deployed stage: its execute-api host (10-character API
    // id), then the path and query string as sent here.
    const deployedHost = `0123456789.execute-api.${this.opts.region ?? "us-east-1"}.amazonaws.com`;
    if (`https://${deployedHost}${url}`.length > maxUrl) return this.gatewayError("URL_TOO_LONG", requestId, h);
    let headerBytes = 0;
    for (let i = 1; i < req.rawHeaders.length; i += 2) headerBytes += Buffer.byteLength(req.rawHeaders[i]);
    if (headerBytes > API_GATEWAY_MAX_HEADER_VALUES) return this.gatewayError("HEADERS_TOO_LARGE", requestId, h);

    const q = url.indexOf("?");
    const rawPath = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? "" : url.slice(q + 1);
    const stagePrefix = `/${this.opts.api.stageName}`;
    if (rawPath !== stagePrefix && !rawPath.startsWith(`${stagePrefix}/`)) {
      return this.gatewayError("MISSING_AUTHENTICATION_TOKEN", requestId, h);
    }
    const path = rawPath.slice(stagePrefix.length) || "/";
    const method = (req.method ?? "GET").toUpperCase();
    const found = this.tree.match(path);
    const byMethod = found && this.methods.get(found.resourcePath);
    const m = byMethod?.get(method) ?? byMethod?.get("ANY");
    // REST APIs answer an unknown path, and a method a resource does not have, the same way.
    if (!found || !m) return this.gatewayError("MISSING_AUTHENTICATION_TOKEN", requestId, h);

    if (this.opts.throttle && !this.bucketFor(m).take()) return this.gatewayError("THROTTLED", requestId, h);
    const auth = await this.authorizers.check(m, { method, path, query, headers: h, body, stage: this.opts.api.stageName });
    if (!auth.ok) return this.gatewayError(auth.error, requestId, h, auth.message);

    let apiKey: { id: string; value: string } | undefined;
    const sentKey = h["x-api-key"];
    if (typeof sentKey === "string" && this.opts.apiKeys.has(sentKey)) apiKey = { id: this.opts.apiKeys.get(sentKey)!, value: sentKey };
    if (m.apiKeyRequired && !apiKey) return this.gatewayError("INVALID_API_KEY", requestId, h);
    const plan = m.apiKeyRequired && apiKey ? this.opts.usagePlans?.get(apiKey.id) : undefined;
    if (plan) {
      const limited = this.usagePlanLimit(apiKey!.id, plan);
      if (limited) return this.gatewayError(limited, requestId, h);
    }

    const queryNames = new Set(query.split("&").filter((p) => p && !p.endsWith("=") && p.includes("=")).map((p) => decodeQueryPart(p.split("=")[0])));
    if (m.validateParameters) {
      const missing: string[] = [];
      for (const [param, required] of Object.entries(m.requestParameters)) {
        if (!required) continue;
        const pm = /^method\.request\.(path|querystring|header)\.(.+)$/.exec(param);
        if (!pm) continue;
        const [, where, name] = pm;
        // "Included and not blank", as API Gateway checks them.
        const header = h[name.toLowerCase()];
        const present = where === "path" ? !!found.pathParameters[name] : where === "querystring" ? queryNames.has(name) : typeof header === "string" ? header !== "" : !!header;
        if (!present) missing.push(name);
      }
      if (missing.length > 0) {
        return this.gatewayError("BAD_REQUEST_PARAMETERS", requestId, h, `Missing required request parameters: [${missing.join(", ")}]`);
      }
    }
    if (m.validateBody) {
      const contentType = (typeof h["content-type"] === "string" ? h["content-type"] : "application/json").split(";")[0].trim().toLowerCase();
      // No model for the content type: API Gateway does not validate ($default matches any type).
      const model = m.models[contentType] ?? m.models["$default"];
      if (model) {
        let errors: readonly string[];
        try {
          const parsed: unknown = JSON.parse(body.toString("utf8"));
          errors = this.validators.get(model.name)!(parsed);
        } catch {
          errors = ["body is not valid JSON"];
        }
        if (errors.length > 0) {
          this.opts.note(`${method} ${url}: request body does not match model ${model.name}: ${errors.join("; ")}`);
          return this.gatewayError("BAD_REQUEST_BODY", requestId, h);
        }
      }
    }

    const event = buildEvent({
      method,
      path,
      resourcePath: found.resourcePath,
      pathParameters: found.pathParameters,
      query,
      rawHeaders: req.rawHeaders,
      body,
      stage: this.opts.api.stageName,
      stageVariables: this.opts.api.stageVariables,
      binaryMediaTypes: this.opts.api.binaryMediaTypes,
      sourceIp: (req.socket.remoteAddress ?? "127.0.0.1").replace(/^::ffff:/, ""),
      requestId,
      apiKey,
      apiId: "twin",
      caller: auth.context,
    });
    if (Buffer.byteLength(JSON.stringify(event)) > LAMBDA_MAX_PAYLOAD) {
      return this.gatewayError("REQUEST_TOO_LARGE", requestId, h, `Request payload exceeds the Lambda limit of ${LAMBDA_MAX_PAYLOAD} bytes`);
    }
    const integ = m.integration;
    if (!integ || integ.type !== "AWS_PROXY" || !integ.functionLogicalId) return this.gatewayError("INTEGRATION_FAILURE", requestId, h);
    const pool = this.opts.pools.get(integ.functionLogicalId);
    if (!pool) return this.gatewayError("INTEGRATION_FAILURE", requestId, h);

    await this.opts.beforeInvoke?.();
    let integrationTimer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      pool.invoke(event, randomUUID()),
      new Promise<"integration-timeout">((r) => (integrationTimer = setTimeout(() => r("integration-timeout"), integ.timeoutMs))),
    ]).finally(() => clearTimeout(integrationTimer));
    if (outcome === "integration-timeout") return this.gatewayError("INTEGRATION_TIMEOUT", requestId, h);
    return this.proxyReply(outcome, pool.fn.name, requestId, h);
  }

  /** Maps a Lambda outcome to HTTP as the AWS_PROXY integration does (a malformed result is a 502). */
  private proxyReply(outcome: InvokeOutcome, fnName: string, requestId: string, h: IncomingMessage["headers"]): Reply {
    const fail = (detail: string) => {
      this.opts.note(`${fnName}: ${detail} → 502`);
      return this.gatewayError("DEFAULT_5XX_LAMBDA", requestId, h);
    };
    if (outcome.kind === "timeout") return fail(`Task timed out after ${(outcome.afterMs / 1000).toFixed(2)} seconds`);
    if (outcome.kind === "crash") return fail(outcome.detail);
    if (outcome.kind === "error") return fail(`${outcome.error.errorType}: ${outcome.error.errorMessage}`);
    const r = outcome.result as { statusCode?: unknown; headers?: unknown; multiValueHeaders?: unknown; body?: unknown; isBase64Encoded?: unknown } | null;
    if (Buffer.byteLength(JSON.stringify(r ?? null)) > LAMBDA_MAX_PAYLOAD) return fail("response payload larger than 6 MB");
    if (!r || typeof r !== "object" || typeof r.statusCode !== "number" || !Number.isInteger(r.statusCode)) {
      return fail("Malformed Lambda proxy response (statusCode missing or not an integer)");
    }
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries((r.headers ?? {}) as Record<string, unknown>)) headers[k.toLowerCase()] = String(v);
    for (const [k, v] of Object.entries((r.multiValueHeaders ?? {}) as Record<string, unknown>)) {
      if (Array.isArray(v)) headers[k.toLowerCase()] = v.map(String);
    }
    headers["content-type"] ??= "application/json";
    headers["x-amzn-requestid"] = requestId;
    headers["x-amz-apigw-id"] = randomBytes(6).toString("base64url");
    const bodyText = r.body === undefined || r.body === null ? "" : String(r.body);
    // API Gateway decodes a base64 proxy result only when the API has binary media types and the
    // client's first Accept type is one of them; otherwise the client gets the base64 text.
    const firstAccept = String(h.accept ?? "").split(",")[0];
    const binary = r.isBase64Encoded === true && mediaTypeMatches(firstAccept, this.opts.api.binaryMediaTypes);
    const body = binary ? Buffer.from(bodyText, "base64") : Buffer.from(bodyText, "utf8");
    return { status: r.statusCode, headers, body };
  }
}
