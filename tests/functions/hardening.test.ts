/**
 * Hardening of the runtime (issue "bad input is never a 5xx, a hung dependency fails fast"): one
 * regression test per case seen on main, against a real redis-server, dynalite (behind the proxy
 * that enforces DynamoDB's limits) and a TCP server that accepts connections and never answers.
 */
import * as net from "net";
import { createCacheStore } from "../../functions/lib/cache";
import { createSecretsClient, redisAuthFromSecret, resetSecretCache, SECRET_FETCH_TIMEOUT_MS } from "../../functions/lib/cache/secrets";
import { createDynamoDb } from "../../functions/lib/table";
import { loadRuntimeConfig } from "../../functions/lib/config";
import { classifyError, TableUnavailableError } from "../../functions/lib/errors";
import { HttpError } from "../../functions/lib/http";
import { checkItem, ITEM_LIMITS } from "../../functions/lib/item";
import { createHandler as productsHandler } from "../../functions/products/handler";
import { productCacheKey } from "../../functions/products/contract";
import { createHandler as sessionsHandler } from "../../functions/sessions/handler";
import { lockCacheKey } from "../../functions/sessions/contract";
import { apiEvent, EDITOR, getProduct, product } from "./events";
import { startRedis } from "../helpers/redis-server";
import { body, handlerEnv, PRODUCTS_TABLE, SESSIONS_TABLE, uid } from "./handler-env";

jest.setTimeout(30_000);

const env = handlerEnv({ service: "hardening", table: PRODUCTS_TABLE });
beforeAll(async () => {
  await env.dyn.createTable(SESSIONS_TABLE);
});
const products = (overrides: Record<string, string> = {}) => env.track(productsHandler({ env: env.env(overrides) }));
const putRaw = (id: string, raw: string) =>
  apiEvent("PUT", `/products/${id}`, { resource: "/products/{productId}", pathParameters: { productId: id }, rawBody: raw, caller: EDITOR });

/** A TCP server that accepts every connection and never answers: a hung DynamoDB. */
async function hungServer(): Promise<{ endpoint: string; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on("error", () => undefined);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    }),
  };
}

describe("1. numbers DynamoDB cannot store are a 400 naming the field, never a 503", () => {
  test.each([
    ["price 1e16", '{"name":"Pen","price":1e16}', "price"],
    ["price 1e308", '{"name":"Pen","price":1e308}', "price"],
    ["price 2^53+1", '{"name":"Pen","price":9007199254740993}', "price"],
    ["-1e20 in an extra field", '{"name":"Pen","price":1,"weight":-1e20}', "weight"],
    ["1e-200 in a nested field", '{"name":"Pen","price":1,"dims":{"w":1e-200}}', "dims.w"],
  ])("%s", async (_case, raw, field) => {
    const r = await products()(putRaw(uid("n"), raw));
    expect(r.statusCode).toBe(400);
    expect(r.headers["retry-after"]).toBeUndefined();
    expect(body(r).details.join(" ")).toContain(field);
  });

  test("the largest exact integer and ordinary decimals are stored", async () => {
    const h = products();
    const id = uid("ok");
    expect((await h(putRaw(id, `{"name":"Pen","price":${Number.MAX_SAFE_INTEGER},"ratio":0.000001}`))).statusCode).toBe(201);
    expect(body(await h(getProduct(id))).price).toBe(Number.MAX_SAFE_INTEGER);
  });
});

describe("2. nesting beyond DynamoDB's 32 levels is a 400, also 2000 levels deep", () => {
  const nested = (levels: number) => `${"[".repeat(levels)}1${"]".repeat(levels)}`;
  test.each([33, 2_000, 20_000])("an extra field nested %i lists deep", async (levels) => {
    const r = await products({ MAX_BODY_BYTES: "65536" })(putRaw(uid("deep"), `{"name":"Pen","price":1,"deep":${nested(levels)}}`));
    expect(r.statusCode).toBe(400);
    expect(body(r).details.join(" ")).toMatch(/deep.*nested more than 32 levels/);
  });

  test("31 levels are stored, and the handler's limit is DynamoDB's (the twin's proxy refuses 32 too)", async () => {
    expect((await products()(putRaw(uid("ok"), `{"name":"Pen","price":1,"deep":${nested(31)}}`))).statusCode).toBe(201);
    expect(checkItem({ deep: JSON.parse(nested(ITEM_LIMITS.nestingLevels)) })).toHaveLength(1);
    expect(checkItem({ deep: JSON.parse(nested(ITEM_LIMITS.nestingLevels - 1)) })).toEqual([]);
  });

  test("empty and over-long attribute names are refused", () => {
    expect(checkItem({ a: { "": 1 } })).toEqual(["a has an attribute with an empty name"]);
    expect(checkItem({ ["k".repeat(70_000)]: 1 })[0]).toMatch(/longer than 65535 bytes/);
  });
});

describe("3. a hung DynamoDB fails fast and does not stall cache hits", () => {
  test("the uncached read answers 503 within the deadline + 200 ms; cached reads meanwhile take < 50 ms", async () => {
    const hung = await hungServer();
    try {
      const deadline = 800;
      const h = products({ DYNAMODB_ENDPOINT: hung.endpoint, TABLE_TIMEOUT_MS: String(deadline) });
      const cached = uid("cached");
      // The entry the cache-aside reader would have stored for a previous read.
      await h.runtime.store.set(productCacheKey(cached), `{"v":{"productId":"${cached}","name":"Pen","price":1}}`, 60);
      await h(getProduct(cached)); // connect to Redis first: the test measures the table, not the first connect

      const t0 = Date.now();
      const slow = h(getProduct(uid("uncached"))).then((r) => ({ r, ms: Date.now() - t0 }));
      const hits: number[] = [];
      while (Date.now() - t0 < deadline - 100) {
        const t = Date.now();
        const r = await h(getProduct(cached));
        expect([r.statusCode, r.headers["x-cache"]]).toEqual([200, "HIT"]);
        hits.push(Date.now() - t);
        await new Promise((res) => setTimeout(res, 20));
      }
      const { r, ms } = await slow;
      expect(r.statusCode).toBe(503);
      expect(r.headers["retry-after"]).toBe("1");
      expect(ms).toBeLessThan(deadline + 200);
      expect(ms).toBeGreaterThanOrEqual(deadline - 50);
      expect(hits.length).toBeGreaterThan(5);
      expect(Math.max(...hits)).toBeLessThan(50);
      console.info(`hung table: 503 after ${ms} ms (deadline ${deadline}); ${hits.length} hits meanwhile, slowest ${Math.max(...hits)} ms`);

      const t1 = Date.now();
      const health = await h(apiEvent("GET", "/health", { resource: "/health" }));
      expect(health.statusCode).toBe(503);
      expect(body(health).table.reachable).toBe(false);
      expect(Date.now() - t1).toBeLessThan(deadline + 200);
    } finally {
      await hung.close();
    }
  });

  test("writes too: a PUT against the hung table answers 503 within the deadline", async () => {
    const hung = await hungServer();
    try {
      const h = products({ DYNAMODB_ENDPOINT: hung.endpoint, TABLE_TIMEOUT_MS: "500" });
      const t0 = Date.now();
      const r = await h(product(uid("w")));
      expect(r.statusCode).toBe(503);
      expect(Date.now() - t0).toBeLessThan(700);
    } finally {
      await hung.close();
    }
  });
});

describe("4. /health tells the truth", () => {
  test("a fresh container's first /health waits for the AUTH secret and the first connection, though they take longer than a command may", async () => {
    // Secrets Manager is AWS: the one stand-in here, answering after 300 ms (a cold VPC endpoint),
    // which is longer than the 150 ms a cache command may take.
    const secured = await startRedis({ args: ["--requirepass", "s3cret-token-for-test"] });
    const slowSecrets = { send: () => new Promise<{ SecretString: string }>((r) => setTimeout(() => r({ SecretString: "s3cret-token-for-test" }), 300)) };
    try {
      const lambdaEnv = env.env({ REDIS_PORT: String(secured.port), REDIS_AUTH_SECRET_ARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:fresh" });
      const config = loadRuntimeConfig(lambdaEnv);
      const h = env.track(productsHandler({ env: lambdaEnv, config, store: createCacheStore(config, { secretsClient: slowSecrets }) }));
      const r = body(await h(apiEvent("GET", "/health", { resource: "/health" })));
      expect(r.cache).toEqual({ backend: "redis", state: "ready", reachable: true, circuit: "closed" });
      expect(r.status).toBe("ok");
    } finally {
      resetSecretCache();
      await secured.stop();
    }
  });

  test("while the circuit is open /health says so (and does not try the cache); then closed again", async () => {
    const h = products({ BREAKER_FAILURE_THRESHOLD: "1", BREAKER_COOLDOWN_MS: "60000", CACHE_COMMAND_TIMEOUT_MS: "100" });
    await h(getProduct(uid("warm")));
    await env.redis.kill();
    try {
      await h(getProduct(uid("x"))); // fails, opens the circuit
      const r = body(await h(apiEvent("GET", "/health", { resource: "/health" })));
      expect(r.cache).toEqual({ backend: "redis", state: "circuit-open", reachable: false, circuit: "open" });
      expect(r.status).toBe("degraded");
      expect(r.table).toMatchObject({ reachable: true, dax: "not-configured" });
    } finally {
      await env.redis.restart();
    }
  });
});

describe("5. an append refused with 409 (session lock busy) does not consume the rate limit", () => {
  test("GIVEN a limit of 1 and a held lock WHEN the append is refused THEN the next append is still allowed", async () => {
    const h = env.track(sessionsHandler({ env: env.env({ TABLE_NAME: SESSIONS_TABLE.TableName!, RATE_LIMIT_PER_WINDOW: "1", SESSION_LOCK_WAIT_MS: "50" }) }));
    const id = uid("s");
    const turn = { role: "user", content: "hi" };
    const caller = uid("c");
    const post = () => h(apiEvent("POST", `/sessions/${id}/turns`, { resource: "/sessions/{sessionId}/turns", pathParameters: { sessionId: id }, body: turn, caller }));
    expect(await h.runtime.store.acquireLease(lockCacheKey(id), "someone-else", 5_000)).toBe(true);
    expect((await post()).statusCode).toBe(409);
    await h.runtime.store.releaseLease(lockCacheKey(id), "someone-else");
    expect((await post()).statusCode).toBe(201);
    expect((await post()).statusCode).toBe(429); // the limit is real
  });
});

describe("the error model", () => {
  const err = (name: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(name), { name, ...extra });
  test.each([
    ["our HttpError", new HttpError(415, "x"), 415, undefined],
    ["ValidationException", err("ValidationException"), 400, undefined],
    ["ConditionalCheckFailedException", err("ConditionalCheckFailedException"), 409, undefined],
    ["ProvisionedThroughputExceededException", err("ProvisionedThroughputExceededException"), 503, "1"],
    ["ThrottlingException", err("ThrottlingException"), 503, "1"],
    ["a deadline", new TableUnavailableError("timeout", "x"), 503, "1"],
    ["ECONNREFUSED", err("Error", { code: "ECONNREFUSED" }), 503, "1"],
    ["TimeoutError", err("TimeoutError"), 503, "1"],
    ["InternalServerError", err("InternalServerError"), 503, "1"],
    ["ResourceNotFoundException (a missing table)", err("ResourceNotFoundException"), 500, undefined],
    ["AccessDeniedException", err("AccessDeniedException"), 500, undefined],
    ["a TypeError (a bug: no retry would help)", new TypeError("x is undefined"), 500, undefined],
  ])("%s → %p", (_case, e, status, retryAfter) => {
    const { error } = classifyError(e);
    expect(error.statusCode).toBe(status);
    expect(error.headers["retry-after"]).toBe(retryAfter);
  });
});

describe("every AWS SDK call has a deadline", () => {
  test("Secrets Manager (read on the cache's connect path): a hung endpoint fails the fetch within its deadline", async () => {
    const hung = await hungServer();
    try {
      const t0 = Date.now();
      await expect(redisAuthFromSecret("arn:aws:secretsmanager:us-east-1:123456789012:secret:hung", createSecretsClient("us-east-1", hung.endpoint)))
        .rejects.toThrow();
      expect(Date.now() - t0).toBeLessThan(SECRET_FETCH_TIMEOUT_MS + 200);
    } finally {
      resetSecretCache();
      await hung.close();
    }
  });

  test("DynamoDB: the client's own per-attempt timeouts throw (without the runtime's deadline the call still ends)", async () => {
    const hung = await hungServer();
    try {
      const ddb = createDynamoDb({ region: "us-east-1", dynamoDbEndpoint: hung.endpoint, tableTimeoutMs: 600 });
      const t0 = Date.now();
      await expect(ddb.describeTable({ TableName: "t" })).rejects.toThrow();
      // 3 attempts of 300 ms plus the SDK's backoff between them: bounded, not the default of minutes.
      expect(Date.now() - t0).toBeLessThan(3_000);
      ddb.destroy();
    } finally {
      await hung.close();
    }
  });
});
