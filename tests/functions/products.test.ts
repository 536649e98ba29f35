/**
 * The product-catalog handler against a real redis-server and dynalite: cache-aside headers,
 * TTL + jitter, negative caching, invalidation races, stampede, Redis and DynamoDB outages,
 * and bad input. Only AWS itself (and DAX) are absent.
 */
import { jitteredTtl } from "../../functions/lib/cache-aside";
import { RuntimeConfig } from "../../functions/lib/config";
import { createDynamoDb, ItemApi, TableClient } from "../../functions/lib/table";
import { createHandler } from "../../functions/products/handler";
import { apiEvent, deleteProduct, EDITOR, getProduct, parseEmf, product } from "./events";
import { body, handlerEnv, PRODUCTS_TABLE, uid } from "./handler-env";

jest.setTimeout(60_000);


const env = handlerEnv({ service: "product-catalog", table: PRODUCTS_TABLE });
const config = env.config;
const emf = env.emf;

/** A handler whose table reads are counted (the stampede and outage tests read the count). */
function handlerWithCounter(cfg: RuntimeConfig, ddb: ItemApi = createDynamoDb(cfg), readReturnDelayMs = 0) {
  const reads = { getItem: 0 };
  const counting: ItemApi = {
    getItem: async (i) => {
      reads.getItem++;
      const out = await ddb.getItem(i);
      // A slow return path widens the window between a reader's table read and its cache fill,
      // where a concurrent write + invalidation must win.
      if (readReturnDelayMs > 0) await new Promise((r) => setTimeout(r, Math.random() * readReturnDelayMs));
      return out;
    },
    query: (i) => ddb.query(i),
    putItem: (i) => ddb.putItem(i),
    updateItem: (i) => ddb.updateItem(i),
    deleteItem: (i) => ddb.deleteItem(i),
    describeTable: (i) => ddb.describeTable(i),
  };
  const h = env.track(createHandler({ config: cfg, table: new TableClient({ dynamoDb: counting }) }));
  return { h, reads };
}

describe("cache-aside reads", () => {
  test("GIVEN a stored product WHEN read twice THEN MISS then HIT with identical bodies and Cache-Control", async () => {
    const { h } = handlerWithCounter(config());
    const id = uid("p");
    const created = await h(product(id, { price: 12.5 }));
    expect(created.statusCode).toBe(201);
    expect(created.headers["cache-control"]).toBe("private, no-store"); // a caller route: never a shared cache's
    const first = await h(getProduct(id));
    const second = await h(getProduct(id));
    expect(first.statusCode).toBe(200);
    expect(first.headers["x-cache"]).toBe("MISS");
    expect(second.headers["x-cache"]).toBe("HIT");
    expect(second.body).toBe(first.body);
    expect(body(first)).toEqual(expect.objectContaining({ productId: id, name: `Product ${id}`, price: 12.5 }));
    expect(first.headers["cache-control"]).toBe("public, max-age=60, s-maxage=60, stale-while-revalidate=30");
  });

  test("stores entries with the configured TTL plus at most the jitter", async () => {
    const { h } = handlerWithCounter(config({ CACHE_TTL_SECONDS: "300", CACHE_TTL_JITTER_RATIO: "0.1" }));
    const ttls: number[] = [];
    for (let i = 0; i < 20; i++) {
      const id = uid("ttl");
      await h(product(id));
      await h(getProduct(id));
      ttls.push(await h.runtime.store.ttl(`product:${id}`));
    }
    for (const t of ttls) {
      expect(t).toBeGreaterThanOrEqual(299); // a second may tick between SET and TTL
      expect(t).toBeLessThanOrEqual(330);
    }
    expect(new Set(ttls).size).toBeGreaterThan(1); // jittered, not all equal
  });

  test("jitteredTtl stays within [ttl, ttl × (1 + ratio)]", () => {
    expect(jitteredTtl(300, 0.1, () => 0)).toBe(300);
    expect(jitteredTtl(300, 0.1, () => 0.999999)).toBe(330);
    expect(jitteredTtl(1, 0, () => 0.5)).toBe(1);
    for (let i = 0; i < 1000; i++) {
      const t = jitteredTtl(300, 0.2);
      expect(t).toBeGreaterThanOrEqual(300);
      expect(t).toBeLessThanOrEqual(360);
    }
  });

  test("GIVEN a missing id WHEN read twice THEN 404 both times, the second from a short negative entry", async () => {
    const { h, reads } = handlerWithCounter(config({ NEGATIVE_CACHE_TTL_SECONDS: "30" }));
    const id = uid("missing");
    const a = await h(getProduct(id));
    const b = await h(getProduct(id));
    expect([a.statusCode, b.statusCode]).toEqual([404, 404]);
    expect(body(a).error).toContain(id);
    expect([a.headers["x-cache"], b.headers["x-cache"]]).toEqual(["MISS", "HIT"]);
    expect(reads.getItem).toBe(1);
    const ttl = await h.runtime.store.ttl(`product:${id}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(30);
    // creating the product removes the negative entry at once
    expect((await h(product(id))).statusCode).toBe(201);
    expect((await h(getProduct(id))).statusCode).toBe(200);
  });
});

describe("invalidate on write", () => {
  test("a PUT replaces the cached value and a DELETE makes the next read 404", async () => {
    const { h } = handlerWithCounter(config());
    const id = uid("w");
    await h(product(id, { price: 1 }));
    expect(body(await h(getProduct(id))).price).toBe(1);
    expect((await h(getProduct(id))).headers["x-cache"]).toBe("HIT");
    expect((await h(product(id, { price: 2 }))).statusCode).toBe(200);
    const after = await h(getProduct(id));
    expect(after.headers["x-cache"]).toBe("MISS");
    expect(body(after).price).toBe(2);
    expect((await h(deleteProduct(id))).statusCode).toBe(204);
    expect((await h(getProduct(id))).statusCode).toBe(404);
    expect((await h(deleteProduct(id))).statusCode).toBe(404);
  });

  test("no stale read: 1,200 concurrent operations, every read sees at least the last acknowledged write", async () => {
    const cfg = config({ CACHE_LEASE_WAIT_MS: "200" });
    const { h } = handlerWithCounter(cfg, createDynamoDb(cfg), 8);
    const id = uid("race");
    let acked = 0;
    await h(product(id, { price: 0 }));
    const violations: string[] = [];
    const writer = async () => {
      for (let v = 1; v <= 200; v++) {
        const r = await h(product(id, { price: v }));
        expect(r.statusCode).toBe(200);
        acked = v;
      }
    };
    const reader = async () => {
      for (let i = 0; i < 100; i++) {
        const floor = acked;
        const r = await h(getProduct(id));
        const seen = body(r).price as number;
        if (seen < floor) violations.push(`read ${seen} after write ${floor} was acknowledged (${r.headers["x-cache"]})`);
      }
    };
    await Promise.all([writer(), ...Array.from({ length: 10 }, reader)]);
    expect(violations).toEqual([]);
    expect(body(await h(getProduct(id))).price).toBe(200);
  });
});

describe("stampede protection", () => {
  test("200 concurrent reads of one cold key cause at most one table read", async () => {
    const cfg = config({ CACHE_LEASE_WAIT_MS: "3000" });
    const { h, reads } = handlerWithCounter(cfg);
    const id = uid("hot");
    await h(product(id));
    reads.getItem = 0;
    const results = await Promise.all(Array.from({ length: 200 }, () => h(getProduct(id))));
    expect(results.every((r) => r.statusCode === 200)).toBe(true);
    expect(reads.getItem).toBeLessThanOrEqual(1);
    expect(results.filter((r) => r.headers["x-cache"] === "MISS").length).toBe(1);
  });
});

describe("Redis outage", () => {
  test("every request is still served from DynamoDB, the circuit opens, and closes after Redis returns", async () => {
    const cfg = config({ BREAKER_COOLDOWN_MS: "300", BREAKER_FAILURE_THRESHOLD: "3", CACHE_COMMAND_TIMEOUT_MS: "100" });
    const { h } = handlerWithCounter(cfg);
    const id = uid("outage");
    await h(product(id, { price: 7 }));
    expect((await h(getProduct(id))).headers["x-cache"]).toBe("MISS");
    emf.length = 0;

    await env.redis.kill();
    const during = [];
    for (let i = 0; i < 30; i++) {
      const t0 = Date.now();
      const r = await h(getProduct(id));
      during.push({ r, ms: Date.now() - t0 });
    }
    expect(during.every(({ r }) => r.statusCode === 200 && body(r).price === 7)).toBe(true);
    expect(during.every(({ r }) => r.headers["x-cache"] === "BYPASS")).toBe(true);
    // once open, no request waits for the cache: only the table read remains
    const late = during.slice(10).map((d) => d.ms);
    expect(Math.max(...late)).toBeLessThan(cfg.breaker.commandTimeoutMs + 100);
    const metrics = parseEmf(emf);
    expect(metrics.some((m) => m.CircuitOpen >= 1)).toBe(true);
    expect(metrics.some((m) => m.Fallback >= 1)).toBe(true);
    const health = await h(apiEvent("GET", "/health", { resource: "/health" }));
    expect(health.statusCode).toBe(200);
    expect(body(health).status).toBe("degraded");

    await env.redis.restart();
    const deadline = Date.now() + 10_000;
    let status = "";
    while (Date.now() < deadline) {
      status = (await h(getProduct(id))).headers["x-cache"];
      if (status === "HIT") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe("HIT");
    const healthy = body(await h(apiEvent("GET", "/health", { resource: "/health" })));
    expect(healthy).toEqual(expect.objectContaining({ status: "ok" }));
    expect(healthy.cache.circuit).toBe("closed");
  });
});

describe("DynamoDB outage", () => {
  test("an uncached read answers 503 JSON and poisons nothing; a cached one is still served", async () => {
    const cfg = config();
    const good = handlerWithCounter(cfg).h;
    const cached = uid("cached");
    await good(product(cached));
    await good(getProduct(cached));

    const down = handlerWithCounter({ ...cfg, dynamoDbEndpoint: "http://127.0.0.1:9" }).h;
    const missing = uid("uncached");
    const r = await down(getProduct(missing));
    expect(r.statusCode).toBe(503);
    expect(r.headers["content-type"]).toMatch(/application\/json/);
    expect(body(r).error).toMatch(/unavailable/);
    expect(await down.runtime.store.get(`product:${missing}`)).toBeUndefined();
    const hit = await down(getProduct(cached));
    expect(hit.statusCode).toBe(200);
    expect(hit.headers["x-cache"]).toBe("HIT");
    const w = await down(product(missing));
    expect(w.statusCode).toBe(503);
    const health = await down(apiEvent("GET", "/health", { resource: "/health" }));
    expect(health.statusCode).toBe(503);
    // the failed load released its lease: a healthy reader fills the cache at once
    const t0 = Date.now();
    expect((await good(getProduct(missing))).headers["x-cache"]).toBe("MISS");
    expect((await good(getProduct(missing))).headers["x-cache"]).toBe("HIT");
    expect(Date.now() - t0).toBeLessThan(cfg.leaseWaitMs);
  });
});

describe("bad input", () => {
  const long = "x".repeat(129);
  const cases: Array<[string, ReturnType<typeof apiEvent>, number]> = [
    ["id with a space", getProduct("a b"), 400],
    ["id with #", getProduct("a#b"), 400],
    ["id too long", getProduct(long), 400],
    ["id starting with -", getProduct("-abc"), 400],
    ["id with a slash", getProduct("a/b"), 400],
    ["id with unicode", getProduct("ü"), 400],
    ["bad percent-encoding", apiEvent("GET", "/products/%E0%A4%A", { resource: "/products/{productId}", pathParameters: { productId: "%E0%A4%A" } }), 400],
    ["unknown route", apiEvent("GET", "/nope"), 404],
    ["unknown method", apiEvent("PATCH", "/products/abc", { resource: "/products/{productId}", pathParameters: { productId: "abc" } }), 405],
    ["POST on products", apiEvent("POST", "/products/abc"), 405],
    ["PUT without body", apiEvent("PUT", "/products/abc", { resource: "/products/{productId}", pathParameters: { productId: "abc" }, caller: EDITOR }), 400],
    ["PUT with invalid JSON", apiEvent("PUT", "/products/abc", { resource: "/products/{productId}", pathParameters: { productId: "abc" }, caller: EDITOR, rawBody: "{nope" }), 400],
    ["PUT with an array", apiEvent("PUT", "/products/abc", { resource: "/products/{productId}", pathParameters: { productId: "abc" }, caller: EDITOR, body: [1, 2] }), 400],
    ["PUT without name", apiEvent("PUT", "/products/abc", { resource: "/products/{productId}", pathParameters: { productId: "abc" }, caller: EDITOR, body: { price: 1 } }), 400],
    ["PUT with negative price", apiEvent("PUT", "/products/abc", { resource: "/products/{productId}", pathParameters: { productId: "abc" }, caller: EDITOR, body: { name: "n", price: -1 } }), 400],
    ["PUT with price as string", apiEvent("PUT", "/products/abc", { resource: "/products/{productId}", pathParameters: { productId: "abc" }, caller: EDITOR, body: { name: "n", price: "1" } }), 400],
    ["PUT with bad currency", apiEvent("PUT", "/products/abc", { resource: "/products/{productId}", pathParameters: { productId: "abc" }, caller: EDITOR, body: { name: "n", price: 1, currency: "euro" } }), 400],
    ["PUT with a bad field name", apiEvent("PUT", "/products/abc", { resource: "/products/{productId}", pathParameters: { productId: "abc" }, caller: EDITOR, body: { name: "n", price: 1, "a b": 1 } }), 400],
    ["PUT with XML", apiEvent("PUT", "/products/abc", { resource: "/products/{productId}", pathParameters: { productId: "abc" }, caller: EDITOR, rawBody: "<a/>", headers: { "content-type": "application/xml" } }), 415],
    ["PUT over the size limit", apiEvent("PUT", "/products/abc", { resource: "/products/{productId}", pathParameters: { productId: "abc" }, caller: EDITOR, body: { name: "n", price: 1, description: "d".repeat(70_000) } }), 413],
    ["PUT without a verified caller", apiEvent("PUT", "/products/abc", { resource: "/products/{productId}", pathParameters: { productId: "abc" }, body: { name: "n", price: 1 } }), 401],
    ["DELETE without a verified caller", apiEvent("DELETE", "/products/abc", { resource: "/products/{productId}", pathParameters: { productId: "abc" } }), 401],
    ["PUT by a caller id with a space", apiEvent("PUT", "/products/abc", { resource: "/products/{productId}", pathParameters: { productId: "abc" }, body: { name: "n", price: 1 }, caller: "a b" }), 401],
    ["empty event", {} as ReturnType<typeof apiEvent>, 404],
  ];

  test.each(cases.map(([n, e, s]) => [`${n} → ${s}`, e, s] as const))("%s JSON", async (_name, event, status) => {
    const { h, reads } = handlerWithCounter(config());
    const r = await h(event);
    expect(r.statusCode).toBe(status);
    expect(r.headers["content-type"]).toMatch(/application\/json/);
    expect(typeof body(r).error).toBe("string");
    expect(reads.getItem).toBe(0);
  });

  test("the table has at least 15 cases", () => expect(cases.length).toBeGreaterThanOrEqual(15));
});

describe("metrics", () => {
  test("each request writes one EMF line with hit/miss counts per route", async () => {
    const { h } = handlerWithCounter(config());
    const id = uid("m");
    await h(product(id));
    emf.length = 0;
    await h(getProduct(id));
    await h(getProduct(id));
    const lines = parseEmf(emf);
    expect(lines).toHaveLength(2);
    for (const l of lines) {
      expect(l._aws.CloudWatchMetrics[0].Namespace).toBe("Cachefront");
      expect(l._aws.CloudWatchMetrics[0].Dimensions).toEqual([["Service", "Route"]]);
      expect(l.Service).toBe("product-catalog");
      expect(l.Route).toBe("GET /products/{productId}");
    }
    expect(lines[0].CacheMiss).toBe(1);
    expect(typeof lines[0].LoadLatency).toBe("number");
    expect(lines[1].CacheHit).toBe(1);
  });
});
