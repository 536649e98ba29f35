/**
 * The stream invalidators against a real redis-server and dynalite: a write made straight to the
 * table is served stale from the cache until its stream record is handled, then never again;
 * the lease of a reader that loaded before the change is revoked; sessions, TTL deletions,
 * partial batch responses (the first failed record, nothing after it touched), a poison record
 * first in a batch failing the invocation (so Lambda bisects), an unreachable cache waited for
 * within the invocation's budget, and bad events. Lambda's event source mapping itself is not
 * here (tests/smoke/twin-stream*.test.ts run it in the twin).
 */
import { PutItemCommand } from "@aws-sdk/client-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import { ConfigError, defineContract, defineInvalidator, METRIC, STREAM_ROUTE } from "../../functions/lib/contract";
import { defineStreamInvalidator, StreamRecord } from "../../functions/lib/stream";
import { createHandler as createProductsHandler } from "../../functions/products/handler";
import { PRODUCTS, PRODUCTS_TABLE as PRODUCTS_SPEC, productCacheKey } from "../../functions/products/contract";
import { contextCacheKey, sessionPartition } from "../../functions/sessions/contract";
import { createHandler as createProductsInvalidator } from "../../functions/invalidator/products";
import { createHandler as createSessionsInvalidator } from "../../functions/invalidator/sessions";
import { getProduct, parseEmf, product } from "./events";
import { body, handlerEnv, PRODUCTS_TABLE, uid } from "./handler-env";
import { streamEvent, streamRecord } from "./stream-events";

jest.setTimeout(60_000);

const env = handlerEnv({ service: "product-catalog", table: PRODUCTS_TABLE });
const TABLE = PRODUCTS_TABLE.TableName!;
const key = (id: string) => ({ productId: { S: id } });

/** A products handler and the products invalidator on one key prefix (as a stack wires them). */
function pair(overrides: Record<string, string> = {}) {
  const e = env.env(overrides);
  const api = env.track(createProductsHandler({ env: e }));
  const inv = createProductsInvalidator({ env: e });
  return { api, inv, store: inv.runtime.store, e };
}

afterAll(async () => {
  // The invalidators' stores (the API handlers' are closed by handlerEnv).
  for (const s of stores) await s.close().catch(() => undefined);
});
const stores: Array<{ close(): Promise<void> }> = [];
const track = <T extends { runtime: { store: { close(): Promise<void> } } }>(h: T): T => (stores.push(h.runtime.store), h);

describe("a write straight to the table", () => {
  test("GIVEN a cached product changed by another writer THEN it is served stale until its stream record is handled, then fresh", async () => {
    const { api, inv } = pair();
    track(inv);
    const id = uid("p");
    await api(product(id, { price: 10 }));
    expect((await api(getProduct(id))).headers["x-cache"]).toBe("MISS");
    await env.dyn.client().send(new PutItemCommand({ TableName: TABLE, Item: marshall({ productId: id, name: "changed elsewhere", price: 99 }) }));
    const stale = await api(getProduct(id));
    expect([stale.headers["x-cache"], body(stale).price]).toEqual(["HIT", 10]); // what the stream fixes

    env.emf.length = 0;
    expect(await inv(streamEvent(streamRecord(TABLE, "MODIFY", key(id), "100")))).toEqual({ batchItemFailures: [] });
    const fresh = await api(getProduct(id));
    expect([fresh.headers["x-cache"], body(fresh).price]).toEqual(["MISS", 99]);

    const line = parseEmf(env.emf).find((l) => l.Route === STREAM_ROUTE)!;
    expect(line).toEqual(expect.objectContaining({ Service: "product-catalog", [METRIC.Invalidation]: 1 }));
    expect(line[METRIC.InvalidationLag]).toBeGreaterThanOrEqual(0);
    expect(line[METRIC.InvalidationLag]).toBeLessThan(2_000);
  });

  test("a reader that took the lease before the change cannot store the old value after the invalidation", async () => {
    const { inv, store } = pair();
    track(inv);
    const id = uid("p");
    expect(await store.acquireLease(productCacheKey(id), "reader-token", 5_000)).toBe(true);
    await inv(streamEvent(streamRecord(TABLE, "MODIFY", key(id), "101")));
    expect(await store.setIfLeaseHeld(productCacheKey(id), '{"v":{"price":10}}', 60, "reader-token")).toBe(false);
    expect(await store.get(productCacheKey(id))).toBeUndefined();
  });

  test("INSERT invalidates a cached not-found; REMOVE (a TTL deletion too) invalidates the item", async () => {
    const { api, inv } = pair();
    track(inv);
    const missing = uid("p");
    expect((await api(getProduct(missing))).statusCode).toBe(404); // negative entry cached
    await env.dyn.client().send(new PutItemCommand({ TableName: TABLE, Item: marshall({ productId: missing, name: "n", price: 1 }) }));
    expect((await api(getProduct(missing))).statusCode).toBe(404);
    await inv(streamEvent(streamRecord(TABLE, "INSERT", key(missing), "102")));
    expect((await api(getProduct(missing))).statusCode).toBe(200);

    const expiring = uid("p");
    await api(product(expiring));
    await api(getProduct(expiring));
    await inv(streamEvent(streamRecord(TABLE, "REMOVE", key(expiring), "103", { ttl: true })));
    expect((await api(getProduct(expiring))).headers["x-cache"]).toBe("MISS");
  });
});

describe("the session store's mapping", () => {
  test("any item under SESSION#<id> invalidates that session's context; other partitions invalidate nothing", async () => {
    const inv = track(createSessionsInvalidator({ env: env.env({ TABLE_NAME: "sessions" }) }));
    const store = inv.runtime.store;
    const [a, b] = [uid("s"), uid("s")];
    for (const s of [a, b]) await store.set(contextCacheKey(s), '{"v":{}}', 60);
    const pk = (s: string) => ({ S: sessionPartition(s) });
    const out = await inv(streamEvent(
      streamRecord("sessions", "MODIFY", { PK: pk(a), SK: { S: "META" } }, "1"),
      streamRecord("sessions", "INSERT", { PK: pk(a), SK: { S: "TURN#2026-01-01T00:00:00.000Z#ab12" } }, "2"),
      streamRecord("sessions", "REMOVE", { PK: { S: "OTHER#x" }, SK: { S: "META" } }, "3"),
    ));
    expect(out).toEqual({ batchItemFailures: [] });
    expect(await store.get(contextCacheKey(a))).toBeUndefined();
    expect(await store.get(contextCacheKey(b))).toBe('{"v":{}}');
  });
});

/** An invalidator whose mapping throws on the product id "poison" (a bug in a contract's cacheKeysOf). */
function poisonedInvalidator(overrides: Record<string, string> = {}) {
  const fronts = defineContract({
    ...PRODUCTS,
    cacheKeysOf: (keys: Readonly<Record<string, unknown>>) => {
      if (keys[PRODUCTS_SPEC.partitionKey.name] === "poison") throw new Error("cannot map poison");
      return PRODUCTS.cacheKeysOf!(keys);
    },
  });
  const { createHandler } = defineStreamInvalidator(defineInvalidator(fronts, { entry: "unused.ts" }));
  return track(createHandler({ env: env.env(overrides) }));
}

describe("partial batch responses", () => {
  test("GIVEN a record that cannot be mapped in the middle THEN it is reported, the records before it invalidated once, none after it touched", async () => {
    const inv = poisonedInvalidator();
    const store = inv.runtime.store;
    const ids = [uid("a"), uid("b"), uid("c")];
    for (const id of ids) await store.set(productCacheKey(id), '{"v":1}', 60);
    const out = await inv(streamEvent(
      streamRecord(TABLE, "MODIFY", key(ids[0]), "10"),
      streamRecord(TABLE, "MODIFY", key(ids[1]), "11"),
      streamRecord(TABLE, "MODIFY", key("poison"), "12"),
      streamRecord(TABLE, "MODIFY", key(ids[2]), "13"),
    ));
    expect(out).toEqual({ batchItemFailures: [{ itemIdentifier: "12" }] });
    expect(await store.get(productCacheKey(ids[0]))).toBeUndefined();
    expect(await store.get(productCacheKey(ids[1]))).toBeUndefined();
    expect(await store.get(productCacheKey(ids[2]))).toBe('{"v":1}'); // Lambda retries it from "12"
    expect(store.stats().deletes).toBe(2);
  });

  test("GIVEN the unmappable record first in a larger batch THEN the invocation fails (Lambda bisects); alone, it is reported", async () => {
    const inv = poisonedInvalidator();
    const after = uid("p");
    await inv.runtime.store.set(productCacheKey(after), '{"v":1}', 60);
    await expect(inv(streamEvent(streamRecord(TABLE, "MODIFY", key("poison"), "20"), streamRecord(TABLE, "MODIFY", key(after), "21"))))
      .rejects.toThrow(/cacheKeysOf of products failed/);
    expect(await inv.runtime.store.get(productCacheKey(after))).toBe('{"v":1}');
    expect(await inv(streamEvent(streamRecord(TABLE, "MODIFY", key("poison"), "20")))).toEqual({ batchItemFailures: [{ itemIdentifier: "20" }] });
  });

  test("numeric and binary keys reach cacheKeysOf as numbers and bytes; an integer JavaScript cannot hold exactly is reported", async () => {
    const seen: unknown[] = [];
    const fronts = defineContract({
      ...PRODUCTS,
      table: { partitionKey: { name: "n", type: "N" }, sortKey: { name: "b", type: "B" } },
      cacheKeysOf: (keys: Readonly<Record<string, unknown>>) => (seen.push(keys), [`item:${String(keys.n)}`]),
    });
    const inv = track(defineStreamInvalidator(defineInvalidator(fronts, { entry: "unused.ts" })).createHandler({ env: env.env() }));
    const bytes = Buffer.from("ab").toString("base64");
    expect(await inv(streamEvent(streamRecord(TABLE, "MODIFY", { n: { N: "42" }, b: { B: bytes } }, "70"), streamRecord(TABLE, "MODIFY", { n: { N: "-1.5" }, b: { B: bytes } }, "71"))))
      .toEqual({ batchItemFailures: [] });
    expect(seen).toEqual([{ n: 42, b: Buffer.from("ab") }, { n: -1.5, b: Buffer.from("ab") }]);
    expect(await inv(streamEvent(streamRecord(TABLE, "MODIFY", { n: { N: "12345678901234567890" }, b: { B: bytes } }, "72"))))
      .toEqual({ batchItemFailures: [{ itemIdentifier: "72" }] });
  });

  test("records of another table, or without the table's keys, are reported, never skipped", async () => {
    const inv = track(createProductsInvalidator({ env: env.env() }));
    expect(await inv(streamEvent(streamRecord("other-table", "MODIFY", key("p1"), "30")))).toEqual({ batchItemFailures: [{ itemIdentifier: "30" }] });
    expect(await inv(streamEvent(streamRecord(TABLE, "MODIFY", { id: { S: "p1" } }, "31")))).toEqual({ batchItemFailures: [{ itemIdentifier: "31" }] });
  });
});

describe("an unreachable cache", () => {
  test("GIVEN Redis stalled for the whole budget THEN the first record is reported after INVALIDATION_CACHE_WAIT_MS, nothing after it", async () => {
    const inv = track(createProductsInvalidator({ env: env.env({ INVALIDATION_CACHE_WAIT_MS: "400", BREAKER_COOLDOWN_MS: "100" }) }));
    await inv.runtime.store.ping(); // connected before the stall
    env.emf.length = 0;
    env.redis.pause();
    try {
      const t0 = Date.now();
      const out = await inv(streamEvent(streamRecord(TABLE, "MODIFY", key("x1"), "40"), streamRecord(TABLE, "MODIFY", key("x2"), "41")));
      const took = Date.now() - t0;
      expect(out).toEqual({ batchItemFailures: [{ itemIdentifier: "40" }] });
      expect(took).toBeGreaterThanOrEqual(300);
      expect(took).toBeLessThan(2_000);
    } finally {
      env.redis.resume();
    }
    const line = parseEmf(env.emf).find((l) => l.Route === STREAM_ROUTE)!;
    expect(line).toEqual(expect.objectContaining({ [METRIC.InvalidationFailure]: 1, [METRIC.CacheError]: 1 }));
  });

  test("GIVEN Redis stalled for less than the budget THEN the batch succeeds once it answers (no Lambda retry)", async () => {
    const { api, inv } = pair({ INVALIDATION_CACHE_WAIT_MS: "10000", BREAKER_COOLDOWN_MS: "100" });
    track(inv);
    const id = uid("p");
    await api(product(id, { price: 1 }));
    await api(getProduct(id));
    await inv.runtime.store.ping();
    env.redis.pause();
    setTimeout(() => env.redis.resume(), 700);
    const out = await inv(streamEvent(streamRecord(TABLE, "MODIFY", key(id), "50")));
    expect(out).toEqual({ batchItemFailures: [] });
    expect((await api(getProduct(id))).headers["x-cache"]).toBe("MISS");
  });

  test("the wait is bounded by the invocation's remaining time, keeping a second to answer", async () => {
    const inv = track(createProductsInvalidator({ env: env.env({ INVALIDATION_CACHE_WAIT_MS: "20000" }) }));
    await inv.runtime.store.ping();
    env.redis.pause();
    try {
      const t0 = Date.now();
      const out = await inv(streamEvent(streamRecord(TABLE, "MODIFY", key("x3"), "60")), { getRemainingTimeInMillis: () => 1_300 });
      expect(out).toEqual({ batchItemFailures: [{ itemIdentifier: "60" }] });
      expect(Date.now() - t0).toBeLessThan(1_300);
    } finally {
      env.redis.resume();
    }
  });
});

describe("bad events and configuration", () => {
  test("an event that is not a stream event fails the invocation; an empty batch succeeds", async () => {
    const inv = track(createProductsInvalidator({ env: env.env() }));
    await expect(inv({ httpMethod: "GET" })).rejects.toThrow(/not a DynamoDB Streams event/);
    await expect(inv(undefined)).rejects.toThrow(TypeError);
    expect(await inv({ Records: [] })).toEqual({ batchItemFailures: [] });
  });

  test("a record without a sequence number cannot be reported: the invocation fails", async () => {
    const inv = poisonedInvalidator();
    const r: StreamRecord = { ...streamRecord(TABLE, "MODIFY", key("poison"), "x"), dynamodb: { Keys: key("poison") } };
    await expect(inv(streamEvent(r))).rejects.toThrow(/SequenceNumber/);
  });

  test("a bad INVALIDATION_CACHE_WAIT_MS stops the container with the variable, its value and what is allowed", () => {
    expect(() => createProductsInvalidator({ env: env.env({ INVALIDATION_CACHE_WAIT_MS: "-1" }) })).toThrow(ConfigError);
    expect(() => createProductsInvalidator({ env: env.env({ INVALIDATION_CACHE_WAIT_MS: "-1" }) }))
      .toThrow('environment variable INVALIDATION_CACHE_WAIT_MS="-1": an integer from 0 to 840000');
  });

  test("an invalidator cannot be declared for a contract without a table or a key mapping", () => {
    expect(() => defineInvalidator({ ...PRODUCTS, cacheKeysOf: undefined }, { entry: "x.ts" })).toThrow(/declares no cacheKeysOf/);
    expect(() => defineInvalidator({ ...PRODUCTS, table: undefined }, { entry: "x.ts" })).toThrow(/declares no table/);
  });
});
