/**
 * The twin's pieces in-process, on the real stacks' synthesized JSON: the gates API Gateway
 * applies (routes, API keys, models, parameters, payload limits, throttling, gateway
 * responses), the REST proxy event the functions receive, the mapping of Lambda results,
 * the environment and outputs rewritten to local endpoints, the draft-04 request-model validator, the zip
 * reader and the token bucket.
 */
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Testing, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { createServer, Server } from "http";
import type { AddressInfo } from "net";
import { PutItemCommand, ScanCommand } from "@aws-sdk/client-dynamodb";
import { buildApp } from "../../stacks/app";
import { Authorization, CacheApi, CacheAsideFunction, CacheTable, Network, PRODUCTS, PRODUCTS_TABLE, PROFILE_CONTEXT_KEY, routesOf } from "../../modules";
import { AUTHORIZER } from "../../functions/authorizer/contract";
import { PUSHER } from "../../functions/pusher/contract";
import { CONNECTIONS } from "../../functions/lib/contract";
import { createZip } from "../../modules/function/zip";
import type { FunctionPool, InvokeOutcome } from "../../tools/twin/functions";
import { buildEvent, Gateway, GatewayOptions, RestProxyEvent, ResourceTree, servedApiKeys } from "../../tools/twin/gateway";
import { startDynamo } from "../../tools/twin/dynamo";
import { functionEnvironment, LocalEndpoints, localOutputs } from "../../tools/twin/local";
import { compileModel, ModelCompileError, validateSchema } from "../../tools/twin/schema";
import { ApiDef, FunctionDef, readStack, StackJson, StackModel } from "../../tools/twin/stack";
import { TokenBucket } from "../../tools/twin/throttle";
import { readZip } from "../../tools/twin/unzip";

jest.setTimeout(60_000);

const app = buildApp(Testing.app());
const model = (name: string): StackModel =>
  readStack(name, `/nonexistent/${name}`, JSON.parse(Testing.synth(app.node.findChild(name) as TerraformStack)) as StackJson);
const products = model("product-catalog-dev");
const sessions = model("session-store-dev");

/**
 * The product catalog with writes that need both an API key (usage plan) and a verified caller:
 * the ready-made stacks use no API keys any more, the twin still emulates them.
 */
class KeyedCatalog extends TerraformStack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.node.setContext(PROFILE_CONTEXT_KEY, "dev");
    new AwsProvider(this, "aws", { region: "us-east-1" });
    const network = new Network(this, "network", { availabilityZones: ["us-east-1a", "us-east-1b"] });
    const table = new CacheTable(this, "products", PRODUCTS_TABLE);
    const fn = new CacheAsideFunction(this, "fn", { network, contract: PRODUCTS });
    fn.useTable(table, { write: true });
    new CacheApi(this, "api", {
      routes: routesOf(fn).map((r) => ({ ...r, apiKeyRequired: r.method !== "GET" })),
      authorization: Authorization.jwt({ issuer: "https://login.example.test/", audience: "orders-api" }),
    });
  }
}
const keyed = readStack("keyed", "/nonexistent/keyed", JSON.parse(Testing.synth(new KeyedCatalog(Testing.app(), "keyed"))) as StackJson);

/** What the tests send on caller routes; the stand-in authorizer below allows it. */
const AUTH = { authorization: "Bearer aaa.bbb.ccc" };
const KEYED = { "x-api-key": "k".repeat(40), ...AUTH };
const isAuthorizer = (f: FunctionDef) => f.environment[AUTHORIZER.settings.issuer.env] !== undefined;
/** A stand-in authorizer: allows every request of the stage as `tester`. */
const allow = (): InvokeOutcome => ({
  kind: "ok",
  coldStart: false,
  result: { principalId: "tester", policyDocument: { Version: "2012-10-17", Statement: [{ Action: "execute-api:Invoke", Effect: "Allow", Resource: "*" }] } },
});

const KEY = "k".repeat(40);

interface Served {
  readonly url: string;
  readonly events: RestProxyEvent[];
  readonly gateway: Gateway;
  close(): Promise<void>;
}

const servers: Served[] = [];
afterAll(async () => Promise.all(servers.map((s) => s.close())));

const ok = (body: unknown = { ok: true }): InvokeOutcome => ({
  kind: "ok",
  coldStart: false,
  result: { statusCode: 200, headers: { "content-type": "application/json" }, body: JSON.stringify(body) },
});

/** The gateway of `m` on a free port, every function replaced by `respond`. */
async function serve(
  m: StackModel,
  respond: (e: RestProxyEvent) => InvokeOutcome | Promise<InvokeOutcome> = () => ok(),
  overrides: Partial<GatewayOptions> = {},
): Promise<Served> {
  const events: RestProxyEvent[] = [];
  const pools = new Map(
    m.functions.map((f) => [
      f.logicalId,
      { fn: f, invoke: async (e: RestProxyEvent) => (isAuthorizer(f) ? allow() : (events.push(e), respond(e))) } as unknown as FunctionPool,
    ]),
  );
  const gateway = new Gateway({ api: m.api, pools, apiKeys: new Map([[KEY, "keyid"]]), throttle: true, note: () => undefined, ...overrides });
  gateway.ready = true;
  const server: Server = createServer((req, res) => gateway.handle(req, res));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const s: Served = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    events,
    gateway,
    close: () => new Promise((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
  servers.push(s);
  return s;
}

async function req(url: string, init: RequestInit = {}): Promise<{ status: number; body: any; headers: Headers; text: string }> {
  const r = await fetch(url, init);
  const text = await r.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: r.status, body, headers: r.headers, text };
}

const json = (method: string, body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method,
  headers: { "content-type": "application/json", ...headers },
  body: typeof body === "string" ? body : JSON.stringify(body),
});

describe("the stack model read from the synthesized JSON", () => {
  test("product catalog: routes, authorization, model, validators, throttling, table", () => {
    const routes = products.api.methods.map((m) => `${m.httpMethod} ${m.resourcePath}${m.authorization !== "NONE" ? ` ${m.authorization}` : ""}`).sort();
    expect(routes).toEqual(["DELETE /products/{productId} CUSTOM", "GET /health", "GET /products/{productId}", "PUT /products/{productId} CUSTOM"]);
    expect(products.api.authorizers).toEqual([expect.objectContaining({ type: "TOKEN", header: "Authorization", ttlSeconds: 300 })]);
    expect(products.api.stageName).toBe("v1");
    expect(products.api.throttle.defaults).toEqual({ rate: 50, burst: 100 });
    const put = products.api.methods.find((m) => m.httpMethod === "PUT")!;
    expect(put).toMatchObject({ validateBody: true, validateParameters: true, requestParameters: { "method.request.path.productId": true } });
    expect(put.models["application/json"].schema).toMatchObject({ required: ["name", "price"] });
    expect(products.tables).toEqual([
      // The warm function's top N: the ranking index (keys only).
      expect.objectContaining({
        hashKey: "productId", ttlAttribute: "expiresAt",
        globalSecondaryIndexes: [{ name: "by-rank", hashKey: "rankList", rangeKey: "rank", projectionType: "KEYS_ONLY" }],
      }),
    ]);
    // The API function, the JWT authorizer (a function of its own), the stream invalidator and the warm function.
    expect(products.functions.map((f) => (isAuthorizer(f) ? "authorizer" : f.logicalId.split("_")[0])).sort()).toEqual(["authorizer", "fn", "invalidator", "warmer"]);
    expect(products.functions.find((f) => f.logicalId.startsWith("fn_"))).toMatchObject({ handler: "index.handler", timeoutSeconds: 10 });
    expect(products.hasDax).toBe(false);
  });

  test("session store: GSI, TTL, DAX, optional query parameter", () => {
    expect(sessions.tables[0]).toMatchObject({
      hashKey: "PK",
      rangeKey: "SK",
      ttlAttribute: "expiresAt",
      globalSecondaryIndexes: [{ name: "by-customer", hashKey: "customerId", rangeKey: "lastActivityAt", projectionType: "KEYS_ONLY" }],
    });
    expect(sessions.hasDax).toBe(true);
    const get = sessions.api.methods.find((m) => m.httpMethod === "GET" && m.resourcePath === "/sessions/{sessionId}")!;
    expect(get.requestParameters).toEqual({ "method.request.path.sessionId": true, "method.request.querystring.consistent": false });
  });
});

describe("gateway gates", () => {
  test("unknown paths, paths outside the stage and methods a resource lacks: 403 Missing Authentication Token", async () => {
    const s = await serve(keyed);
    for (const [method, path] of [["GET", "/v1/nope"], ["GET", "/"], ["GET", "/v2/health"], ["POST", "/v1/products/p1"], ["GET", "/v1/products"], ["GET", "/v1/products/a/b"]]) {
      const r = await req(`${s.url}${path}`, { method });
      expect([method, path, r.status, r.body]).toEqual([method, path, 403, { message: "Missing Authentication Token" }]);
      expect(r.headers.get("content-type")).toBe("application/json");
      expect(r.headers.get("x-amzn-errortype")).toBe("MissingAuthenticationTokenException");
    }
    expect(s.events).toHaveLength(0);
    expect((await req(`${s.url}/v1/health/`)).status).toBe(200); // a trailing slash still matches
  });

  test("API key: missing or wrong → 403 Forbidden before the function; right → the function sees it", async () => {
    const s = await serve(keyed);
    const body = { name: "Pen", price: 2 };
    // API Gateway authorizes first: no token is 401 whatever the key; then the key of the usage plan.
    expect(await req(`${s.url}/v1/products/p1`, json("PUT", body))).toMatchObject({ status: 401, body: { message: "Unauthorized" } });
    expect(await req(`${s.url}/v1/products/p1`, json("PUT", body, AUTH))).toMatchObject({ status: 403, body: { message: "Forbidden" } });
    expect(await req(`${s.url}/v1/products/p1`, json("DELETE", body, { "x-api-key": "wrong", ...AUTH }))).toMatchObject({ status: 403, body: { message: "Forbidden" } });
    expect(s.events).toHaveLength(0);
    expect((await req(`${s.url}/v1/products/p1`, json("PUT", body, KEYED))).status).toBe(200);
    expect(s.events[0].requestContext.identity).toMatchObject({ apiKey: KEY, apiKeyId: "keyid" });
  });

  test("API keys: only an enabled key in a usage plan of the stage is accepted", () => {
    expect(keyed.api.apiKeys).toEqual([expect.objectContaining({ enabled: true, usagePlan: expect.objectContaining({ throttle: { rate: 50, burst: 100 } }) })]);
    const [k] = keyed.api.apiKeys;
    const generated = { [k.logicalId]: { id: "kid", value: KEY } };
    const accepted = (apiKeys: ApiDef["apiKeys"]) => [...servedApiKeys({ ...keyed.api, apiKeys }, generated).keys.keys()];
    expect(accepted([k])).toEqual([KEY]);
    expect(accepted([{ ...k, enabled: false }])).toEqual([]);
    expect(accepted([{ ...k, usagePlan: undefined }])).toEqual([]);
  });

  test("usage plan: the per-key throttle spans methods; the quota answers 429 Limit Exceeded", async () => {
    const plans = new Map([["keyid", { logicalId: "plan", throttle: { rate: 0.001, burst: 3 } }]]);
    const s = await serve(keyed, undefined, { usagePlans: plans });
    const send = (method: string) => req(`${s.url}/v1/products/p1`, json(method, { name: "Pen", price: 1 }, KEYED));
    for (const method of ["PUT", "PUT", "DELETE"]) expect((await send(method)).status).toBe(200);
    // DELETE's own stage bucket is nearly full; the key's bucket is empty.
    expect(await send("DELETE")).toMatchObject({ status: 429, body: { message: "Too Many Requests" } });
    expect((await req(`${s.url}/v1/health`)).status).toBe(200); // no key required: no usage plan
    const quota = await serve(keyed, undefined, { usagePlans: new Map([["keyid", { logicalId: "plan", quota: { limit: 2, period: "DAY" as const } }]]) });
    const q = () => req(`${quota.url}/v1/products/p1`, json("DELETE", {}, KEYED));
    expect([(await q()).status, (await q()).status]).toEqual([200, 200]);
    const over = await q();
    expect([over.status, over.body, over.headers.get("x-amzn-errortype")]).toEqual([429, { message: "Limit Exceeded" }, "LimitExceededException"]);
  });

  test("request models: 400 Invalid request body before the function, for every rule the models use", async () => {
    const s = await serve(keyed);
    const put = (b: unknown, headers: Record<string, string> = {}) => req(`${s.url}/v1/products/p1`, json("PUT", b, { ...KEYED, ...headers }));
    for (const bad of [{ price: 1 }, { name: "", price: 1 }, { name: "x".repeat(201), price: 1 }, { name: "Pen", price: -1 },
      { name: "Pen", price: "1" }, { name: "Pen", price: 1, currency: "eur" }, [], "not json"]) {
      const r = await put(bad);
      expect([bad, r.status, r.body]).toEqual([bad, 400, { message: "Invalid request body" }]);
    }
    expect(s.events).toHaveLength(0);
    expect((await put({ name: "Pen", price: 0, currency: "EUR", extra: true })).status).toBe(200); // patternProperties: further named fields
    // No model for the content type: API Gateway does not validate, the function decides.
    expect((await put("name=Pen", { "content-type": "application/x-www-form-urlencoded" })).status).toBe(200);
    expect(s.events).toHaveLength(2);

    const ss = await serve(sessions);
    const post = (b: unknown) => req(`${ss.url}/v1/sessions/s1/turns`, json("POST", b, AUTH));
    expect((await post({ role: "robot", content: "hi" })).status).toBe(400); // enum
    expect((await post({ role: "user", content: "hi", extra: 1 })).status).toBe(400); // additionalProperties: false
    expect((await post({ customerId: "c1", role: "user", content: "hi" })).status).toBe(400); // the owner is the verified caller, never a body field
    expect((await post({ role: "user", content: "hi", contentEncoding: "identity" })).status).toBe(200);
  });

  test("required request parameters: 400 naming them when the validator checks parameters", async () => {
    const api: ApiDef = {
      ...keyed.api,
      methods: keyed.api.methods.map((m) =>
        m.httpMethod === "GET" && m.resourcePath === "/products/{productId}"
          ? { ...m, requestParameters: { ...m.requestParameters, "method.request.querystring.view": true, "method.request.header.X-Tenant": true } }
          : m,
      ),
    };
    const s = await serve({ ...keyed, api });
    const r = await req(`${s.url}/v1/products/p1?view=`);
    expect(r).toMatchObject({ status: 400, body: { message: "Missing required request parameters: [view, X-Tenant]" } });
    expect((await req(`${s.url}/v1/products/p1?view=full`, { headers: { "x-tenant": "t" } })).status).toBe(200);
  });

  test("payload limits: over 10 MB (API Gateway) and over 6 MB (Lambda) answer 413", async () => {
    const s = await serve(keyed);
    const big = await req(`${s.url}/v1/products/p1`, { method: "PUT", body: "x".repeat(10 * 1024 * 1024 + 1) });
    expect(big).toMatchObject({ status: 413, body: { message: "Request Too Long" } });
    const lambda = await req(`${s.url}/v1/health`, { method: "POST", body: "x".repeat(7 * 1024 * 1024) });
    expect(lambda.status).toBe(403); // POST /health is no route: the route comes before the Lambda limit
    const put = await req(`${s.url}/v1/products/p1`, { method: "PUT", headers: { ...KEYED, "content-type": "text/plain" }, body: "x".repeat(7 * 1024 * 1024) });
    expect(put).toMatchObject({ status: 413, body: { message: expect.stringMatching(/Lambda limit of 6291456 bytes/) } });
    expect(s.events).toHaveLength(0);
  });

  test("header values over 10 240 bytes in all: refused before the function; at the limit let through", async () => {
    const s = await serve(keyed);
    // fetch adds headers of its own (host, accept, user-agent, …): measure them from what the
    // function saw, less the three the gateway adds itself.
    const added = new Set(["X-Forwarded-For", "X-Forwarded-Proto", "X-Amzn-Trace-Id"]);
    await req(`${s.url}/v1/health`, { headers: { "x-pad": "" } });
    const base = Object.entries(s.events[0].headers!).filter(([k]) => !added.has(k)).reduce((n, [, v]) => n + Buffer.byteLength(v), 0);
    const at = await req(`${s.url}/v1/health`, { headers: { "x-pad": "p".repeat(10_240 - base) } });
    expect(at.status).toBe(200);
    const over = await req(`${s.url}/v1/health`, { headers: { "x-pad": "p".repeat(10_241 - base) } });
    expect([over.status, over.body]).toEqual([431, { message: "Request Header Fields Too Large" }]);
    expect(s.events).toHaveLength(2);
  });

  test("URL length: 10 240 characters for a regional API, 8 192 for an edge-optimized one (as the deployed URL)", async () => {
    const host = "https://0123456789.execute-api.us-east-1.amazonaws.com";
    const url = (total: number) => `/v1/products/${"p".repeat(total - host.length - "/v1/products/".length)}`;
    expect(keyed.api.endpointType).toBe("REGIONAL");
    const regional = await serve(keyed);
    expect((await req(`${regional.url}${url(10_240)}`)).status).toBe(200);
    expect(await req(`${regional.url}${url(10_241)}`)).toMatchObject({ status: 414, body: { message: "Request URI too long" } });
    const edge = await serve({ ...keyed, api: { ...keyed.api, endpointType: "EDGE" } });
    expect((await req(`${edge.url}${url(8192)}`)).status).toBe(200);
    expect((await req(`${edge.url}${url(8193)}`)).status).toBe(414);
    expect(regional.events).toHaveLength(1);
    expect(edge.events).toHaveLength(1);
  });

  test("stage throttling: a burst beyond the bucket gets 429 Too Many Requests; --no-throttle lets it through", async () => {
    const burst = async (url: string) => {
      const statuses = await Promise.all(Array.from({ length: 200 }, () => req(`${url}/v1/products/p1`, json("PUT", {}, AUTH))));
      return statuses;
    };
    const s = await serve(keyed);
    const answers = await burst(s.url);
    const throttled = answers.filter((a) => a.status === 429);
    expect(throttled.length).toBeGreaterThanOrEqual(20);
    expect(answers.filter((a) => a.status === 403).length).toBeGreaterThanOrEqual(100);
    expect(throttled[0].body).toEqual({ message: "Too Many Requests" });
    expect(throttled[0].headers.get("x-amzn-errortype")).toBe("TooManyRequestsException");
    // Buckets are per method: GET is unaffected.
    expect((await req(`${s.url}/v1/health`)).status).toBe(200);

    const open = await serve(keyed, undefined, { throttle: false });
    expect((await burst(open.url)).filter((a) => a.status === 429)).toHaveLength(0);
  });

  test("gateway responses of the stack shape the gateway's own errors", async () => {
    const api: ApiDef = {
      ...keyed.api,
      gatewayResponses: {
        ...keyed.api.gatewayResponses,
        MISSING_AUTHENTICATION_TOKEN: {
          type: "MISSING_AUTHENTICATION_TOKEN",
          statusCode: 404,
          templates: { "application/json": '{"error":$context.error.messageString,"id":"$context.requestId"}' },
          parameters: { "gatewayresponse.header.X-Why": "'no route'" },
        },
      },
    };
    const s = await serve({ ...keyed, api });
    const r = await req(`${s.url}/v1/nope`);
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ error: "Missing Authentication Token", id: r.headers.get("x-amzn-requestid") });
    expect(r.headers.get("x-why")).toBe("no route");
    // Others still use the stack's DEFAULT_4XX ({"message":$context.error.messageString}).
    expect(await req(`${s.url}/v1/products/p1`, json("PUT", {}))).toMatchObject({ status: 401, body: { message: "Unauthorized" } });
  });
});

describe("the REST proxy event and the proxy result", () => {
  test("the function gets an API Gateway REST (v1) event", async () => {
    const s = await serve(keyed);
    await req(`${s.url}/v1/products/a%20b?x=1&x=2&y=z%21`, { headers: { "X-Custom": "one", "user-agent": "jest" } });
    const e = s.events[0];
    expect(e).toMatchObject({
      resource: "/products/{productId}",
      path: "/products/a%20b",
      httpMethod: "GET",
      pathParameters: { productId: "a%20b" },
      queryStringParameters: { x: "2", y: "z!" },
      multiValueQueryStringParameters: { x: ["1", "2"], y: ["z!"] },
      stageVariables: null,
      body: null,
      isBase64Encoded: false,
    });
    expect(e.headers).toMatchObject({ "X-Custom": "one", "user-agent": "jest", "X-Forwarded-For": "127.0.0.1" });
    expect(e.multiValueHeaders).toMatchObject({ "X-Custom": ["one"] });
    expect(e.requestContext).toMatchObject({
      stage: "v1",
      resourcePath: "/products/{productId}",
      httpMethod: "GET",
      path: "/v1/products/a%20b",
      identity: { sourceIp: "127.0.0.1", apiKey: null, userAgent: "jest" },
    });
    expect(e.requestContext.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(e.requestContext.requestTimeEpoch).toEqual(expect.any(Number));
  });

  test("a body is passed as text; with a binary media type, as base64", () => {
    const base = {
      method: "POST", path: "/x", resourcePath: "/x", pathParameters: {}, query: "", stage: "v1", stageVariables: {},
      sourceIp: "127.0.0.1", requestId: "r", apiId: "a", body: Buffer.from("héllo"),
    };
    const text = buildEvent({ ...base, rawHeaders: ["Content-Type", "application/json"], binaryMediaTypes: [] });
    expect([text.body, text.isBase64Encoded]).toEqual(["héllo", false]);
    const bin = buildEvent({ ...base, rawHeaders: ["Content-Type", "image/png"], binaryMediaTypes: ["image/*"] });
    expect([bin.body, bin.isBase64Encoded]).toEqual([Buffer.from("héllo").toString("base64"), true]);
  });

  test("function errors, crashes, timeouts and malformed results answer 502; base64 and multi-value results are decoded", async () => {
    const outcomes: InvokeOutcome[] = [
      { kind: "error", coldStart: false, error: { errorType: "TypeError", errorMessage: "boom" } },
      { kind: "crash", detail: "exited" },
      { kind: "timeout", afterMs: 10_000 },
      { kind: "ok", coldStart: false, result: { body: "no status" } },
      { kind: "ok", coldStart: false, result: { statusCode: 201, isBase64Encoded: true, body: Buffer.from("bin").toString("base64"), multiValueHeaders: { "set-cookie": ["a=1", "b=2"] } } },
    ];
    // API Gateway only decodes base64 for an API with binary media types (see the binary test below).
    const s = await serve({ ...keyed, api: { ...keyed.api, binaryMediaTypes: ["*/*"] } }, () => outcomes.shift()!);
    for (let i = 0; i < 4; i++) expect(await req(`${s.url}/v1/health`)).toMatchObject({ status: 502, body: { message: "Internal server error" } });
    const r = await fetch(`${s.url}/v1/health`);
    expect(r.status).toBe(201);
    expect(await r.text()).toBe("bin");
    expect(r.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
    expect(r.headers.get("content-type")).toBe("application/json"); // API Gateway's default
  });

  test("a base64 result is decoded only for a binary media type the client's first Accept names; otherwise the client gets the base64 text", async () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47]);
    const result = (): InvokeOutcome => ({ kind: "ok", coldStart: false, result: { statusCode: 200, headers: { "content-type": "image/png" }, isBase64Encoded: true, body: png.toString("base64") } });
    const plain = await serve(keyed, result); // the stack has no binary media types
    const asText = await fetch(`${plain.url}/v1/health`, { headers: { accept: "image/png" } });
    expect(await asText.text()).toBe(png.toString("base64"));
    const binary = await serve({ ...keyed, api: { ...keyed.api, binaryMediaTypes: ["image/png"] } }, result);
    const decoded = await fetch(`${binary.url}/v1/health`, { headers: { accept: "image/png" } });
    expect(Buffer.from(await decoded.arrayBuffer())).toEqual(png);
    const notFirst = await fetch(`${binary.url}/v1/health`, { headers: { accept: "application/json, image/png" } });
    expect(await notFirst.text()).toBe(png.toString("base64"));
  });

  test("resource tree: literals before parameters, greedy parameters take the rest", () => {
    const t = new ResourceTree(["/", "/a", "/a/{id}", "/a/special", "/files/{path+}"]);
    expect(t.match("/a/special")).toEqual({ resourcePath: "/a/special", pathParameters: {} });
    expect(t.match("/a/other")).toEqual({ resourcePath: "/a/{id}", pathParameters: { id: "other" } });
    expect(t.match("/files/x/y/z")).toEqual({ resourcePath: "/files/{path+}", pathParameters: { path: "x/y/z" } });
    expect(t.match("/")).toEqual({ resourcePath: "/", pathParameters: {} });
    expect(t.match("/b")).toBeUndefined();
    expect(t.match("/a//x")).toBeUndefined();
  });
});

describe("local environment and outputs", () => {
  const local: LocalEndpoints = {
    baseUrl: "http://127.0.0.1:3210",
    dynamoDbEndpoint: "http://127.0.0.1:4000",
    redis: { host: "127.0.0.1", port: 6400, tls: false },
    // the twin created the stack's function users in its redis-server
    redisUsers: new Set(sessions.cacheUsers.map((u) => u.userId)),
    apiKeys: Object.fromEntries(sessions.api.apiKeys.map((k) => [k.logicalId, { id: "kid", value: KEY }])),
    queues: Object.fromEntries(Object.keys(sessions.json.resource?.aws_sqs_queue ?? {}).map((id) => [id, `/tmp/${id}.jsonl`])),
    websocketUrl: "ws://127.0.0.1:3210/ws/v1",
  };

  test("the pusher posts to the twin's @connections, and every function reaches the twin's Lambda API", () => {
    const pusher = sessions.functions.find((f) => f.environment[PUSHER.settings.stageUrl.env] !== undefined)!;
    const { env } = functionEnvironment(sessions, pusher, local, { taskRoot: "/tmp/task", nodePath: "/repo/node_modules" });
    expect(env[PUSHER.settings.stageUrl.env]).toBe("ws://127.0.0.1:3210/ws/v1");
    for (const f of sessions.functions) {
      expect(functionEnvironment(sessions, f, local, { taskRoot: "/tmp/task", nodePath: "/repo/node_modules" }).env.AWS_ENDPOINT_URL_LAMBDA).toBe("http://127.0.0.1:3210");
    }
    const fn = sessions.functions.find((f) => f.logicalId.startsWith("fn_"))!;
    expect(functionEnvironment(sessions, fn, local, { taskRoot: "/tmp/task", nodePath: "/repo/node_modules" }).env[CONNECTIONS.pusherFunction.env]).toBe(pusher.name);
  });

  test("the function environment points at the local stand-ins, with fake credentials", () => {
    const fn = sessions.functions.find((f) => !isAuthorizer(f))!;
    const { env, notes } = functionEnvironment(sessions, fn, local, { taskRoot: "/tmp/task", nodePath: "/repo/node_modules" });
    expect(env).toMatchObject({
      TABLE_NAME: sessions.tables[0].name,
      DYNAMODB_ENDPOINT: "http://127.0.0.1:4000",
      REDIS_HOST: "127.0.0.1",
      REDIS_PORT: "6400",
      REDIS_TLS: "false",
      REDIS_CLUSTER_MODE: "false",
      CACHE_BACKEND: "redis",
      RATE_LIMIT_PER_WINDOW: "30",
      SERVICE_NAME: "session-store-dev",
      AWS_REGION: "us-east-1",
      AWS_LAMBDA_FUNCTION_NAME: fn.name,
      AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE",
      NODE_PATH: "/repo/node_modules",
      NODE_OPTIONS: "--enable-source-maps",
    });
    expect(env.DAX_ENDPOINT).toBeUndefined();
    expect(env.REDIS_AUTH_SECRET_ARN).toBeUndefined();
    expect(Object.values(env).join(" ")).not.toContain("${");
    // the function's own ElastiCache user (IAM in the stack): it logs in as it, any token standing in for IAM
    const user = sessions.cacheUsers.find((u) => u.authType === "iam")!;
    expect(env).toMatchObject({ REDIS_AUTH_MODE: "iam", REDIS_USER: user.userId, REDIS_CACHE_NAME: expect.stringMatching(/^session-store-dev-cache-/) });
    expect(notes).toEqual([
      "DAX_ENDPOINT dropped: DAX has no local equivalent, reads go to DynamoDB directly",
      `REDIS_USER=${user.userId}: logs in to the twin's Redis as its own user (its ACL; any password stands in for IAM)`,
    ]);
    // without that user in the twin's Redis (--redis-url), the function logs in as the default user
    const noUsers = functionEnvironment(sessions, fn, { ...local, redisUsers: undefined }, { taskRoot: "/t", nodePath: "/n" });
    expect(noUsers.env.REDIS_AUTH_MODE).toBeUndefined();
    expect(noUsers.env.REDIS_USER).toBeUndefined();
    const memory = functionEnvironment(sessions, fn, { ...local, redis: undefined }, { taskRoot: "/t", nodePath: "/n" });
    expect(memory.env).toMatchObject({ CACHE_BACKEND: "memory" });
    expect(memory.env.REDIS_HOST).toBeUndefined();
  });

  test("outputs: every stack output, resolved locally", () => {
    const { outputs, notes } = localOutputs(sessions, local);
    expect(notes).toEqual([]);
    expect(outputs).toMatchObject({
      api_url: "http://127.0.0.1:3210/v1",
      table_name: sessions.tables[0].name,
      redis_endpoint: "127.0.0.1",
      redis_port: 6400,
      redis_auth_secret_arn: "",
      dax_endpoint: "",
      function_name: sessions.functions.find((f) => f.logicalId.startsWith("fn_"))!.name,
      invalidation_failures_queue_url: `/tmp/${Object.keys(sessions.json.resource?.aws_sqs_queue ?? {})[0]}.jsonl`,
      websocket_url: "ws://127.0.0.1:3210/ws/v1",
    });
    expect(Object.keys(outputs).sort()).toEqual(Object.keys(sessions.outputs).sort());
  });
});

describe("JSON Schema draft-04 validator (ajv)", () => {
  const schema = {
    type: "object",
    required: ["a"],
    additionalProperties: false,
    properties: {
      a: { type: "string", minLength: 2, maxLength: 3, pattern: "^[a-z]+$" },
      n: { type: "integer", minimum: 1, maximum: 5 },
      e: { enum: ["x", "y"] },
      l: { type: "array", items: { type: "number" }, maxItems: 2 },
      u: { type: ["string", "null"] },
    },
  };
  test.each([
    [{ a: "ab" }, 0],
    [{ a: "ab", n: 5, e: "x", l: [1, 2], u: null }, 0],
    [{}, 1],
    [{ a: "a" }, 1],
    [{ a: "abcd" }, 1],
    [{ a: "AB" }, 1],
    [{ a: "ab", n: 1.5 }, 1],
    [{ a: "ab", n: 0 }, 1],
    [{ a: "ab", n: 6 }, 1],
    [{ a: "ab", e: "z" }, 1],
    [{ a: "ab", l: [1, "2"] }, 1],
    [{ a: "ab", l: [1, 2, 3] }, 1],
    [{ a: "ab", u: 1 }, 1],
    [{ a: "ab", z: 1 }, 1],
    ["ab", 1],
  ])("%j → %i error(s)", (value, n) => {
    expect(validateSchema(schema, value)).toHaveLength(n);
  });

  test("counts characters, not UTF-16 units; draft-04 boolean exclusive bounds; errors name the place", () => {
    expect(validateSchema({ type: "string", maxLength: 2 }, "😀😀")).toEqual([]);
    expect(validateSchema({ type: "string", pattern: "^.{2}$" }, "😀😀")).toEqual([]);
    expect(validateSchema({ type: "number", minimum: 0, exclusiveMinimum: true }, 0)).toHaveLength(1);
    expect(validateSchema({ type: "number", minimum: 0, exclusiveMinimum: true }, 0.1)).toEqual([]);
    expect(validateSchema({ type: "number", maximum: 1, exclusiveMaximum: true }, 1)).toHaveLength(1);
    expect(validateSchema({ type: "number", maximum: 1, exclusiveMaximum: true }, 0.9)).toEqual([]);
    expect(validateSchema(schema, { a: "ab", z: 1 })).toEqual(['body: must NOT have additional properties ("z")']);
    expect(validateSchema(schema, { a: "ab", e: "q" })).toEqual(['/e: must be equal to one of the allowed values (["x","y"])']);
  });

  test("no type coercion and no defaults, as API Gateway (the body the function gets is the one sent)", () => {
    const withDefault = { type: "object", properties: { n: { type: "integer", default: 5 }, b: { type: "boolean" } } };
    expect(validateSchema(withDefault, { n: "5" })).toHaveLength(1);
    expect(validateSchema(withDefault, { b: "true" })).toHaveLength(1);
    const body: Record<string, unknown> = {};
    expect(validateSchema(withDefault, body)).toEqual([]);
    expect(body).toEqual({}); // ajv's useDefaults would have written n: 5 here
  });

  test("draft-04 `id` (not $id) scopes a $ref", () => {
    const s = { id: "http://example.com/root.json", definitions: { pos: { type: "integer", minimum: 1 } }, properties: { q: { $ref: "#/definitions/pos" } } };
    expect(validateSchema(s, { q: 0 })).toHaveLength(1);
    expect(validateSchema(s, { q: 1 })).toEqual([]);
  });

  test("a model that does not compile is an error naming the model, raised when the gateway is built", () => {
    expect(() => compileModel("Broken", { type: "object", properties: { a: { type: "strnig" } } })).toThrow(ModelCompileError);
    expect(() => compileModel("Broken", { $ref: "#/definitions/missing" })).toThrow(/model Broken: its schema does not compile/);
    const put = products.api.methods.find((m) => m.httpMethod === "PUT")!;
    const broken: ApiDef = {
      ...products.api,
      methods: products.api.methods.map((m) => (m === put ? { ...m, models: { "application/json": { ...put.models["application/json"], name: "BadModel", schema: { type: 7 } } } } : m)),
    };
    expect(() => new Gateway({ api: broken, pools: new Map(), apiKeys: new Map(), throttle: false, note: () => undefined })).toThrow(/model BadModel/);
  });
});

/**
 * One keyword family the previous hand-written subset skipped per case: a body it let through
 * (the keyword was not checked) that the gateway now refuses with 400 before the function, and
 * a valid body that reaches the function. Served over HTTP by the gateway with the product PUT's
 * model replaced by the case's schema.
 */
describe("request models: every draft-04 keyword family through the gateway", () => {
  const cases: ReadonlyArray<readonly [string, Record<string, unknown>, unknown, unknown]> = [
    ["oneOf", { oneOf: [{ type: "object", required: ["a"] }, { type: "object", required: ["b"] }] }, { a: 1, b: 2 }, { a: 1 }],
    ["anyOf", { anyOf: [{ properties: { a: { type: "string" } } }, { properties: { a: { type: "integer" } } }] }, { a: true }, { a: 3 }],
    ["allOf", { allOf: [{ required: ["a"] }, { required: ["b"] }] }, { a: 1 }, { a: 1, b: 2 }],
    ["not", { not: { required: ["admin"] } }, { admin: true }, { user: true }],
    ["dependencies (property)", { dependencies: { card: ["billing"] } }, { card: "4111" }, { card: "4111", billing: "x" }],
    ["dependencies (schema)", { dependencies: { card: { required: ["cvc"] } } }, { card: "4111" }, { card: "4111", cvc: "123" }],
    ["patternProperties", { patternProperties: { "^n_": { type: "number" } } }, { n_a: "1" }, { n_a: 1 }],
    ["additionalProperties with patternProperties", { patternProperties: { "^x-": {} }, additionalProperties: false }, { y: 1 }, { "x-y": 1 }],
    ["multipleOf", { properties: { cents: { multipleOf: 5 } } }, { cents: 7 }, { cents: 10 }],
    ["uniqueItems", { properties: { tags: { type: "array", uniqueItems: true } } }, { tags: ["a", "a"] }, { tags: ["a", "b"] }],
    ["additionalItems", { properties: { t: { items: [{ type: "string" }], additionalItems: false } } }, { t: ["a", "b"] }, { t: ["a"] }],
    ["format: email", { properties: { mail: { type: "string", format: "email" } } }, { mail: "not-an-email" }, { mail: "a@example.com" }],
    ["format: date-time", { properties: { at: { type: "string", format: "date-time" } } }, { at: "yesterday" }, { at: "2026-01-02T03:04:05Z" }],
    ["format: ipv4", { properties: { ip: { format: "ipv4" } } }, { ip: "300.1.1.1" }, { ip: "10.0.0.1" }],
    ["$ref / definitions", { definitions: { price: { type: "number", minimum: 0 } }, properties: { p: { $ref: "#/definitions/price" } } }, { p: -1 }, { p: 1 }],
    ["minProperties", { minProperties: 2 }, { a: 1 }, { a: 1, b: 2 }],
    ["maxProperties", { maxProperties: 1 }, { a: 1, b: 2 }, { a: 1 }],
  ];

  test.each(cases)("%s: refused with 400 before the function, a valid body reaches it", async (_family, schema, bad, good) => {
    const put = products.api.methods.find((m) => m.httpMethod === "PUT")!;
    const model = put.models["application/json"];
    const api: ApiDef = {
      ...products.api,
      methods: products.api.methods.map((m) => (m === put ? { ...m, models: { "application/json": { ...model, schema } } } : m)),
    };
    const notes: string[] = [];
    const s = await serve({ ...products, api }, undefined, { note: (l) => notes.push(l) });
    const send = (b: unknown) => req(`${s.url}/v1/products/p1`, json("PUT", b, KEYED));
    const refused = await send(bad);
    expect([refused.status, refused.body]).toEqual([400, { message: "Invalid request body" }]);
    expect(refused.headers.get("x-amzn-errortype")).toBe("BadRequestException");
    expect(notes.join("\n")).toMatch(new RegExp(`does not match model ${model.name}: .+`));
    expect(s.events).toHaveLength(0);
    expect((await send(good)).status).toBe(200);
    expect(s.events).toHaveLength(1);
    expect(JSON.parse(s.events[0].body!)).toEqual(good);
  });
});

describe("tables in dynalite", () => {
  test("the session table with its GSI; expired items are swept by their TTL attribute", async () => {
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
    const db = await startDynamo(sessions.tables);
    try {
      const TableName = sessions.tables[0].name;
      const now = Math.floor(Date.now() / 1000);
      for (const [sk, expiresAt] of [["META", now - 10], ["TURN#1", now + 3600]] as const) {
        await db.client.send(new PutItemCommand({
          TableName,
          Item: { PK: { S: "SESSION#s" }, SK: { S: sk }, customerId: { S: "c" }, lastActivityAt: { S: "t" }, expiresAt: { N: String(expiresAt) } },
        }));
      }
      const byCustomer = await db.client.send(new ScanCommand({ TableName, IndexName: "by-customer" }));
      expect(byCustomer.Count).toBe(2);
      expect(await db.sweepExpired()).toBe(1);
      const left = await db.client.send(new ScanCommand({ TableName }));
      expect(left.Items?.map((i) => i.SK.S)).toEqual(["TURN#1"]);
    } finally {
      await db.stop();
    }
  });
});

describe("helpers", () => {
  test("reads the zips the function construct writes", () => {
    const zip = createZip([{ name: "index.js", data: Buffer.from("exports.handler = 1;") }, { name: "index.js.map", data: Buffer.from("{}") }]);
    expect(readZip(zip).map((e) => [e.name, e.data.toString()])).toEqual([["index.js", "exports.handler = 1;"], ["index.js.map", "{}"]]);
    expect(() => readZip(Buffer.from("not a zip at all, clearly not a zip"))).toThrow(/not a zip archive/);
  });

  test("token bucket: burst at once, then the steady rate", () => {
    let now = 0;
    const b = new TokenBucket(10, 3, () => now);
    expect([b.take(), b.take(), b.take(), b.take()]).toEqual([true, true, true, false]);
    now += 100; // one token at 10/s
    expect([b.take(), b.take()]).toEqual([true, false]);
    now += 10_000;
    expect([b.take(), b.take(), b.take(), b.take()]).toEqual([true, true, true, false]);
  });
});
