/**
 * The twin's edge (tools/twin/edge.ts) in process, read from synthesized distributions: what it
 * keeps and for how long (s-maxage, stale-while-revalidate, private and no-store never), its cache
 * key, what it forwards, error caching, invalidation and request collapsing, against a small
 * origin whose answers each test sets; then a session store behind the edge its CacheEdge would
 * get, in front of the real session handler (real redis-server and dynalite): an authenticated
 * session read is never served from the edge. Last, one real twin process of a product catalog
 * with the edge and edge invalidation on: a product read twice through the edge (Miss, then Hit
 * with Age), a write visible at the edge within the invalidation path's bound, and `npm run warm`
 * against the twin's outputs file.
 */
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { App, Testing, TerraformStack } from "cdktf";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { createServer, IncomingMessage, Server, ServerResponse } from "http";
import { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { loadConfig } from "../../stacks/config";
import { ProductCatalogStack } from "../../stacks/product-catalog";
import { Authorization, CacheApi, CacheAsideFunction, CacheEdge, CacheTable, Network, PRODUCTS, PRODUCTS_TABLE, SESSIONS, SESSIONS_TABLE } from "../../modules";
import { createHandler as sessionsHandler } from "../../functions/sessions/handler";
import { Edge } from "../../tools/twin/edge";
import { EdgeDef, readEdge } from "../../tools/twin/edge-model";
import { StackJson } from "../../tools/twin/stack";
import { body, handlerEnv, SESSIONS_TABLE as SESSIONS_DYNALITE, uid } from "../functions/handler-env";
import { requireCompiledTools, runWarm, startTwin, TwinProcess, WARM_JS } from "./twin-process";

jest.setTimeout(8_000);

/** The distribution CacheEdge writes for an API of `contract`'s routes, read back by the twin. */
function edgeOf(contract: typeof PRODUCTS | typeof SESSIONS): EdgeDef {
  const app = Testing.app();
  const stack = new TerraformStack(app, "edge-test");
  new AwsProvider(stack, "aws", { region: "us-east-1" });
  const network = new Network(stack, "network", { availabilityZones: ["us-east-1a", "us-east-1b"] });
  const fn = new CacheAsideFunction(stack, "fn", { network, contract, settings: { cacheControlSharedMaxAgeSeconds: 300 } });
  fn.useTable(new CacheTable(stack, "t", contract === PRODUCTS ? PRODUCTS_TABLE : SESSIONS_TABLE), { write: true });
  new CacheEdge(stack, "edge", { api: new CacheApi(stack, "api", { functions: [fn], authorization: Authorization.iam() }) });
  return readEdge(JSON.parse(Testing.synth(stack)) as StackJson)!;
}

/**
 * An HTTP server on a free port; `listen` returns its base URL. The handler gets the body read,
 * unless `readBody` is false (the edge reads the request itself).
 */
function serve(handler: (req: IncomingMessage, res: ServerResponse, body: string) => void, readBody = true): { server: Server; url: () => string; listen: () => Promise<string> } {
  const server = createServer((req, res) => {
    if (!readBody) return handler(req, res, "");
    let b = "";
    req.on("data", (c) => (b += c));
    req.on("end", () => handler(req, res, b));
  });
  const url = () => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, url, listen: () => new Promise((r) => server.listen(0, "127.0.0.1", () => r(url()))) };
}

const close = (s: Server) => new Promise<void>((r) => { s.closeAllConnections(); s.close(() => r()); });

describe("the edge, against an origin the tests script", () => {
  const def = edgeOf(PRODUCTS);
  let clock = 1_000_000;
  /** What the origin answers next, by path; every request it got. */
  let answer: (path: string) => { status?: number; headers?: Record<string, string>; body?: string; delayMs?: number } = () => ({});
  const seen: Array<{ method: string; url: string; headers: IncomingMessage["headers"] }> = [];
  const origin = serve((req, res) => {
    seen.push({ method: req.method!, url: req.url!, headers: req.headers });
    const a = answer(req.url!);
    setTimeout(() => {
      res.writeHead(a.status ?? 200, { "content-type": "application/json", ...(a.headers ?? {}) });
      res.end(a.body ?? JSON.stringify({ at: clock }));
    }, a.delayMs ?? 0);
  });
  let edge: Edge;
  const front = serve((req, res) => edge.handle(req, res), false);
  let base = "";

  beforeAll(async () => {
    await origin.listen();
    edge = new Edge({ def, origin: origin.url(), distributionId: "ETEST", host: "edge.test", now: () => clock });
    base = await front.listen();
  });
  afterAll(async () => Promise.all([close(origin.server), close(front.server)]));
  beforeEach(() => {
    seen.length = 0;
    edge.invalidate(["/*"]);
  });

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { headers });
  const publicAnswer = { headers: { "cache-control": "public, max-age=60, s-maxage=120, stale-while-revalidate=30" } };

  test("the stack's behaviours: /products/* cached (Authorization in the key), /health and the rest passed through", () => {
    expect(def.behaviors.map((b) => [b.pathPattern, b.cachePolicy.maxTtl, b.cachePolicy.headers])).toEqual([
      ["/products/*", 300, ["authorization"]], ["/health", 0, []], ["*", 0, []],
    ]);
    expect(def.originPath).toBe("/v1");
    expect(Object.keys(def.originHeaders)).toEqual(["x-origin-verify"]);
  });

  test("a public answer is kept for s-maxage: Miss, then Hit with Age; after it, within stale-while-revalidate, served while one refresh runs; then a miss", async () => {
    answer = () => publicAnswer;
    const first = await get("/products/p1");
    expect(first.headers.get("x-cache")).toBe("Miss from cloudfront");
    clock += 100_000;
    const hit = await get("/products/p1");
    expect([hit.headers.get("x-cache"), hit.headers.get("age")]).toEqual(["Hit from cloudfront", "100"]);
    expect(seen).toHaveLength(1);
    clock += 30_000; // 130 s: past s-maxage (120), within stale-while-revalidate (30)
    const stale = await get("/products/p1");
    expect([stale.headers.get("x-cache"), stale.headers.get("age")]).toEqual(["Hit from cloudfront", "130"]);
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toHaveLength(2); // the background refresh
    clock += 200_000;
    expect((await get("/products/p1")).headers.get("x-cache")).toBe("Miss from cloudfront");
  });

  test.each(["private, no-store", "no-store", "private, max-age=60", "no-cache"])("Cache-Control %s is never kept", async (cc) => {
    answer = () => ({ headers: { "cache-control": cc } });
    for (let i = 0; i < 2; i++) expect((await get("/products/p2")).headers.get("x-cache")).toBe("Miss from cloudfront");
    expect(seen).toHaveLength(2);
  });

  test("no Cache-Control: the default TTL (0) keeps nothing; s-maxage above the policy's max is cut to it", async () => {
    answer = () => ({});
    await get("/products/p3");
    expect((await get("/products/p3")).headers.get("x-cache")).toBe("Miss from cloudfront");
    answer = () => ({ headers: { "cache-control": "public, s-maxage=86400" } });
    await get("/products/p4");
    clock += 301_000;
    expect((await get("/products/p4")).headers.get("x-cache")).toBe("Miss from cloudfront");
  });

  test("the key: an Authorization value gets copies of its own; query strings the policy does not name are neither keyed nor forwarded", async () => {
    answer = () => publicAnswer;
    await get("/products/p5");
    expect((await get("/products/p5", { authorization: "Bearer a" })).headers.get("x-cache")).toBe("Miss from cloudfront");
    expect((await get("/products/p5", { authorization: "Bearer a" })).headers.get("x-cache")).toBe("Hit from cloudfront");
    expect((await get("/products/p5?utm=x")).headers.get("x-cache")).toBe("Hit from cloudfront");
    expect(seen.map((s) => s.url)).toEqual(["/v1/products/p5", "/v1/products/p5"]);
    expect(seen[1].headers.authorization).toBe("Bearer a");
  });

  test("what reaches the origin: the stage prefix, the secret header, no cookies, not the viewer's Host", async () => {
    answer = () => ({});
    await get("/products/p6", { cookie: "session=1", "x-origin-verify": "forged", "x-other": "1" });
    const h = seen[0].headers;
    expect(seen[0].url).toBe("/v1/products/p6");
    expect(h["x-origin-verify"]).toBe(def.originHeaders["x-origin-verify"]);
    expect(h.cookie).toBeUndefined();
    expect(h["x-other"]).toBeUndefined(); // the cached behaviour forwards content-type only
    expect(h.via).toMatch(/CloudFront/);
  });

  test("a method the behaviour does not allow is 403 at the edge; PUT passes through and is never kept", async () => {
    answer = () => publicAnswer;
    const head = await fetch(`${base}/health`, { method: "DELETE" });
    expect([head.status, head.headers.get("x-cache")]).toEqual([403, "Error from cloudfront"]);
    for (let i = 0; i < 2; i++) expect((await fetch(`${base}/products/p7`, { method: "PUT", body: "{}" })).headers.get("x-cache")).toBe("Miss from cloudfront");
    expect(seen.map((s) => s.method)).toEqual(["PUT", "PUT"]);
  });

  test("errors: the distribution caches none (CacheEdge sets 0 for each cacheable status)", async () => {
    answer = () => ({ status: 503, headers: { "cache-control": "public, s-maxage=60" } });
    await get("/products/p8");
    await get("/products/p8");
    expect(seen).toHaveLength(2);
    expect(def.errorCachingTtl[503]).toBe(0);
  });

  test("an invalidation drops the path (and a wildcard everything below it); the next read is a miss", async () => {
    answer = () => publicAnswer;
    await get("/products/a");
    await get("/products/b");
    expect(edge.invalidate(["/products/a"])).toBe(1);
    expect((await get("/products/a")).headers.get("x-cache")).toBe("Miss from cloudfront");
    expect((await get("/products/b")).headers.get("x-cache")).toBe("Hit from cloudfront");
    expect(edge.invalidate(["/products/*"])).toBe(2);
  });

  test("concurrent misses of one key make one origin request", async () => {
    answer = () => ({ ...publicAnswer, delayMs: 100 });
    const all = await Promise.all(Array.from({ length: 10 }, () => get("/products/hot")));
    expect(all.every((r) => r.status === 200)).toBe(true);
    expect(seen).toHaveLength(1);
  });
});

describe("a session store behind its edge, in front of the real session handler", () => {
  const env = handlerEnv({ service: "session-store", table: SESSIONS_DYNALITE, defaults: { RATE_LIMIT_PER_WINDOW: "1000" } });
  const def = edgeOf(SESSIONS);
  let edge: Edge;
  let handler: ReturnType<typeof sessionsHandler>;
  let originCalls = 0;
  // The origin: API Gateway's part reduced to the event (the caller is the bearer's subject, as the authorizer would verify it).
  const origin = serve((req, res, b) => {
    originCalls++;
    const url = new URL(req.url!, "http://x");
    const path = url.pathname.replace(/^\/v1/, "");
    const caller = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ""))?.[1];
    const m = /^\/sessions\/([^/]+)(\/turns)?$/.exec(path);
    handler({
      httpMethod: req.method!, path, resource: m?.[2] ? "/sessions/{sessionId}/turns" : "/sessions/{sessionId}", pathParameters: m ? { sessionId: m[1] } : null,
      queryStringParameters: Object.fromEntries(url.searchParams), headers: req.headers as Record<string, string>, body: b || null,
      requestContext: { requestId: uid("r"), ...(caller ? { authorizer: { principalId: caller } } : {}) },
    }).then((r) => {
      res.writeHead(r.statusCode, r.headers);
      res.end(r.body);
    });
  });
  const front = serve((req, res) => edge.handle(req, res), false);
  let base = "";

  beforeAll(async () => {
    await origin.listen();
    handler = env.track(sessionsHandler({ env: env.env() }));
    edge = new Edge({ def, origin: origin.url(), distributionId: "ESESSIONS", host: "edge.test" });
    base = await front.listen();
  });
  afterAll(async () => Promise.all([close(origin.server), close(front.server)]));

  test("its behaviour caches nothing and forwards Authorization", () => {
    const sessions = def.behaviors.find((b) => b.pathPattern === "/sessions/*")!;
    expect(sessions.cachePolicy.maxTtl).toBe(0);
    expect(sessions.originRequest).toMatchObject({ headerBehavior: "allExcept", headers: ["host"] });
  });

  test("an authenticated session read is never served from the edge, however often it is read", async () => {
    const id = uid("s");
    const auth = { authorization: "Bearer cust-1", "content-type": "application/json" };
    expect((await fetch(`${base}/sessions/${id}/turns`, { method: "POST", headers: auth, body: JSON.stringify({ role: "user", content: "hi" }) })).status).toBe(201);
    originCalls = 0;
    const tiers: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await fetch(`${base}/sessions/${id}`, { headers: auth });
      expect(r.status).toBe(200);
      expect(r.headers.get("x-cache")).toBe("Miss from cloudfront");
      expect(r.headers.get("cache-control")).toBe("private, no-store");
      expect(r.headers.get("age")).toBeNull();
      tiers.push(r.headers.get("x-cache-tier")!);
      expect(body({ body: await r.text() }).customerId).toBe("cust-1");
    }
    expect(originCalls).toBe(3);
    expect(tiers).toEqual(["table", "cache", "cache"]); // the origin's own cache answered, never the edge's
    // Another customer asking for the same session gets the origin's 404, not the owner's copy.
    const other = await fetch(`${base}/sessions/${id}`, { headers: { authorization: "Bearer cust-2" } });
    expect([other.status, other.headers.get("x-cache")]).toEqual([404, "Miss from cloudfront"]);
  });
});

describe("the twin of a product catalog with its edge (one twin process)", () => {
  const STACK = "product-catalog-edge";
  const outdir = mkdtempSync(path.join(os.tmpdir(), "cachefront-twin-edge-"));
  let twin: TwinProcess;
  let edgeUrl = "";
  let token = "";

  beforeAll(async () => {
    requireCompiledTools();
    if (!existsSync(WARM_JS)) throw new Error("dist/tools/warm/main.js is missing: run npm run build");
    // Dev with the edge on and writes invalidating it: the bound this file proves is the invalidation path's.
    const app = new App({ outdir });
    new ProductCatalogStack(app, STACK, { config: loadConfig("dev", { productCatalog: { edge: { invalidateOnWrite: true } } }) });
    app.synth();
    twin = await startTwin(["--stack", STACK, "--no-synth", "--seed", "2"], { env: { ...process.env, CDKTF_OUTDIR: outdir }, timeoutMs: 150_000 });
    edgeUrl = String(twin.outputs().edge_url);
    token = String(twin.outputs().sample_token);
  }, 240_000);

  afterAll(async () => {
    await twin?.stop();
    rmSync(outdir, { recursive: true, force: true });
  });

  const price = async (r: Response) => ((await r.json()) as { price: number }).price;

  test("a product read twice through the edge: Miss from cloudfront, then Hit with Age; the function's tier on both", async () => {
    const first = await fetch(`${edgeUrl}/products/sample-1`);
    expect(first.status).toBe(200);
    expect(first.headers.get("x-cache")).toBe("Miss from cloudfront");
    expect(first.headers.get("x-cache-tier")).toMatch(/^(table|cache)$/);
    expect(first.headers.get("cache-control")).toMatch(/^public, .*s-maxage=\d+/);
    const body1 = await first.text();
    const second = await fetch(`${edgeUrl}/products/sample-1`);
    expect(second.headers.get("x-cache")).toBe("Hit from cloudfront");
    expect(Number(second.headers.get("age"))).toBeGreaterThanOrEqual(0);
    expect(second.headers.get("x-cache-tier")).toBe(first.headers.get("x-cache-tier")); // the kept copy, headers and all
    expect(await second.text()).toBe(body1);
  }, 20_000);

  test("a write is visible at the edge within the invalidation path's bound (stream poll + CreateInvalidation), far inside s-maxage", async () => {
    const url = `${edgeUrl}/products/sample-2`;
    await fetch(url);
    const kept = await fetch(url);
    expect(kept.headers.get("x-cache")).toBe("Hit from cloudfront");
    const old = await price(kept);
    const sMaxAge = Number(/s-maxage=(\d+)/.exec(kept.headers.get("cache-control") ?? "")?.[1]);
    const put = await fetch(url, {
      method: "PUT", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "Sample product 2", price: old + 1, currency: "EUR" }),
    });
    expect([put.status, put.headers.get("x-cache")]).toEqual([200, "Miss from cloudfront"]); // writes pass through, never kept
    const acked = Date.now();
    let seen = old;
    while (seen !== old + 1 && Date.now() - acked < 10_000) {
      await new Promise((r) => setTimeout(r, 100));
      seen = await price(await fetch(url));
    }
    const visibleAfterMs = Date.now() - acked;
    expect(seen).toBe(old + 1);
    // The twin's stream polls every 250 ms; 5 s leaves room for a loaded machine, and is a tenth of s-maxage.
    expect(visibleAfterMs).toBeLessThan(5_000);
    expect(sMaxAge * 1000).toBeGreaterThan(10 * 5_000);
  }, 30_000);

  test("npm run warm against the twin's outputs file: batches with progress and counts; warmed keys are cache hits at the function", async () => {
    // sample-1 may still be cached from the first read, or gone with its seed write's late stream invalidation: loaded or cached.
    const ids = ["sample-1", uid("missing"), "bad id!"];
    const r = await runWarm(["--outputs", twin.outputsFile, "--ids", ids.join(","), "--batch", "2"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^warm: invoking product-catalog-edge-warmer-\S+ \(the twin at http:\/\/127\.0\.0\.1:\d+\) in 2 batches/m);
    expect(r.stdout).toMatch(/^ {2}warm: 2 keys done \(loaded [01], cached [01], not found 1, bypassed 0, failed 0\)$/m);
    expect(r.stdout).toMatch(/^ {2}warm: 3 keys done \(loaded [01], cached [01], not found 1, bypassed 0, failed 1\)$/m);
    const summary = /^warm: product-catalog-edge: 3 key\(s\) in \d+ ms: (\d) loaded, (\d) already cached, 1 not found, 0 bypassed \(cache unreachable\), 1 failed$/m.exec(r.stdout);
    expect(summary && Number(summary[1]) + Number(summary[2])).toBe(1);
    expect(r.code).toBe(1); // a key that could not be warmed (the invalid id) fails the run
    const again = await runWarm(["--outputs", twin.outputsFile, "--ids", ids.slice(0, 2).join(","), "--json"]);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ source: "ids", requested: 2, loaded: 0, cached: 2, notFound: 0, failed: 0 });
    // Its own edge copy (Authorization is in the key): the function answers from the warmed cache.
    const read = await fetch(`${edgeUrl}/products/sample-1`, { headers: { authorization: `Bearer ${token}` } });
    expect([read.status, read.headers.get("x-cache"), read.headers.get("x-cache-tier")]).toEqual([200, "Miss from cloudfront", "cache"]);
  }, 60_000);

  test("npm run warm refuses bad flags, and without a warm function says why reads through a locked API cannot warm", async () => {
    const both = await runWarm(["--outputs", twin.outputsFile, "--ids", "a", "--top", "3"]);
    expect([both.code, both.stderr]).toEqual([2, "error: give one of --ids a,b,c or --top N\n"]);
    const all = JSON.parse(readFileSync(twin.outputsFile, "utf8")) as Record<string, Record<string, unknown>>;
    const { warm_function_name: _fn, lambda_endpoint: _endpoint, ...rest } = all[STACK];
    const file = path.join(outdir, "no-warmer.json");
    writeFileSync(file, JSON.stringify({ [STACK]: rest }));
    const top = await runWarm(["--outputs", file, "--top", "3"]);
    expect([top.code, top.stderr]).toEqual([2, expect.stringMatching(/^error: product-catalog-edge has no warm function .*a top N needs it/)]);
    const viaApi = await runWarm(["--outputs", file, "--ids", "sample-1,sample-2"]);
    expect(viaApi.stdout).toMatch(/^warm: product-catalog-edge has no warm function \(warm_function_name\); reading 2 id\(s\) through http/m);
    expect([viaApi.code, viaApi.stderr]).toEqual([2, expect.stringMatching(/answered 403 to every read: the API answers only through its edge/)]);
  }, 30_000);
});
