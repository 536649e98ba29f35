/**
 * One contract, four backends: the same behaviour on a real redis-server, a real memcached, on
 * DynamoDB (dynalite) and in memory; on Redis also as an ACL user whose rules are exactly the
 * access string the cache constructs give a function's ElastiCache user (`redisAccessString`), so a
 * command the runtime starts sending without adding it to REDIS_RUNTIME_COMMANDS fails here (NOPERM). Where a backend cannot do something (memcached: hitWindow,
 * clear) the suite asserts its typed refusal. A backend-specific test goes at the end of the file,
 * not into the shared suite.
 */
import { PutItemCommand } from "@aws-sdk/client-dynamodb";
import type { GetSecretValueCommand } from "@aws-sdk/client-secrets-manager";
import Redis from "ioredis";
import {
  BreakerCacheStore,
  cacheBackendSupports,
  CacheUnavailableError,
  createCacheStore,
  DynamoDbCacheStore,
  MemcachedCacheStore,
  memcachedKey,
  MemoryBacking,
  MemoryCacheStore,
  parseRedisAuth,
  RedisCacheStore,
  UnsupportedCacheOperationError,
} from "../../functions/lib/cache";
import { MemcachedConnection } from "../../functions/lib/cache/memcached-wire";
import { buildRedisClient } from "../../functions/lib/cache/redis";
import { redisAccessString } from "../../functions/lib/contract";
import { resetSecretCache } from "../../functions/lib/cache/secrets";
import { loadRuntimeConfig } from "../../functions/lib/config";
import type { CacheBackendKind, CacheStore } from "../../functions/lib/cache";
import { DynaliteHandle, startDynalite } from "../helpers/dynalite";
import { GateProxy, startGateProxy } from "../helpers/gate-proxy";
import { MemcachedServerHandle, startMemcached } from "../helpers/memcached-server";
import { RedisServerHandle, startRedis } from "../helpers/redis-server";

jest.setTimeout(20_000);

const CACHE_TABLE = "cache";
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Backend {
  readonly kind: CacheBackendKind;
  /** A store on the shared backend under `prefix`. */
  make(prefix: string): CacheStore;
  /** Lets `ms` pass for the store's clock (fake clock, or a real sleep on Redis). */
  advance(ms: number): Promise<void>;
  now(): number;
  /** Writes a value with no TTL behind the contract's back (for ttl() === -1). */
  putWithoutTtl(prefix: string, key: string, value: string): Promise<void>;
  /**
   * True where a key's value and its lease are one item (memcached), so a lease can only be taken
   * while the key has no value; elsewhere a lease sits beside the value.
   */
  readonly leaseNeedsAbsentValue: boolean;
  /** Set where `clear()` is refused by the server (an ACL user without SCAN), with the refusal's text. */
  readonly clearRefusedWith?: RegExp;
}

let redisServer: RedisServerHandle;
let clusterServer: RedisServerHandle;
let raw: Redis;
let rawCluster: Redis;
let dyna: DynaliteHandle;
let memcachedServer: MemcachedServerHandle;
let rawMemcached: MemcachedConnection;
const opened: CacheStore[] = [];

const fakeClock = { t: Date.UTC(2030, 0, 1) };
const memoryBacking = new MemoryBacking(10_000);

type BackendName = "redis" | "redis-cluster" | "redis-acl" | "redis-cluster-acl" | "memcached" | "dynamodb" | "memory";

let aclUsers = 0;
/**
 * A store that logs in as a fresh ACL user with the access string of a function's ElastiCache user
 * for `keyPrefix` (the same function the constructs call), created before the store's first command.
 */
function aclStore(keyPrefix: string, port: number, admin: () => Redis, clusterMode: boolean): CacheStore {
  const user = `acl-user-${++aclUsers}`;
  const password = `pw-${process.pid}-${aclUsers}-0123456789abcdef`;
  const created = admin().call("ACL", "SETUSER", user, "reset", `>${password}`, ...redisAccessString(keyPrefix).split(" "));
  const client = buildRedisClient({ host: "127.0.0.1", port, tls: false, clusterMode }, { auth: { username: user, password }, commandTimeoutMs: 2_000 });
  const store = new RedisCacheStore({ keyPrefix, client });
  // The client is the store's: close it with the store.
  opened.push({ close: async () => client.disconnect() } as unknown as CacheStore);
  return new Proxy(store, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (typeof v !== "function" || prop === "stats") return v;
      return async (...args: unknown[]) => {
        await created;
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

const backends: Record<BackendName, Backend> = {
  redis: {
    kind: "redis",
    make: (keyPrefix) =>
      track(new RedisCacheStore({ keyPrefix, settings: { host: "127.0.0.1", port: redisServer.port, tls: false, clusterMode: false }, commandTimeoutMs: 2_000 })),
    advance: (ms) => sleep(ms),
    now: () => Date.now(),
    putWithoutTtl: async (prefix, key, value) => void (await raw.set(`${prefix}:{${key}}`, value)),
    leaseNeedsAbsentValue: false,
  },
  // A one-node Redis Cluster: the cluster code paths (per-key GETs, per-master SCAN, scripts
  // on a Cluster client) against a server that enforces CROSSSLOT.
  "redis-cluster": {
    kind: "redis",
    make: (keyPrefix) =>
      track(new RedisCacheStore({ keyPrefix, settings: { host: "127.0.0.1", port: clusterServer.port, tls: false, clusterMode: true }, commandTimeoutMs: 2_000 })),
    advance: (ms) => sleep(ms),
    now: () => Date.now(),
    putWithoutTtl: async (prefix, key, value) => void (await rawCluster.set(`${prefix}:{${key}}`, value)),
    leaseNeedsAbsentValue: false,
  },
  "redis-acl": aclBackend(() => redisServer.port, () => raw, false),
  "redis-cluster-acl": aclBackend(() => clusterServer.port, () => rawCluster, true),
  memcached: {
    kind: "memcached",
    make: (keyPrefix) => track(new MemcachedCacheStore({ keyPrefix, host: "127.0.0.1", port: memcachedServer.port, commandTimeoutMs: 2_000 })),
    // memcached expires on whole seconds, and a lease is rounded up by up to 2 s (see leaseSeconds).
    advance: (ms) => sleep(ms + 2_000),
    now: () => Date.now(),
    putWithoutTtl: async (prefix, key, value) => {
      const data = Buffer.from(value);
      const [r] = await rawMemcached.send([{ line: `ms ${memcachedKey(prefix, key)} ${data.length} T0 F0`, data }]);
      expect(r.code).toBe("HD");
    },
    leaseNeedsAbsentValue: true,
  },
  dynamodb: {
    kind: "dynamodb",
    make: (keyPrefix) => track(new DynamoDbCacheStore({ keyPrefix, tableName: CACHE_TABLE, client: dyna.client(), now: () => fakeClock.t })),
    advance: async (ms) => void (fakeClock.t += ms),
    now: () => fakeClock.t,
    putWithoutTtl: async (prefix, key, value) =>
      void (await dyna.client().send(new PutItemCommand({ TableName: CACHE_TABLE, Item: { pk: { S: `${prefix}:{${key}}` }, v: { S: value } } }))),
    leaseNeedsAbsentValue: false,
  },
  memory: {
    kind: "memory",
    make: (keyPrefix) => track(new MemoryCacheStore({ keyPrefix, backing: memoryBacking, now: () => fakeClock.t })),
    advance: async (ms) => void (fakeClock.t += ms),
    now: () => fakeClock.t,
    putWithoutTtl: async (prefix, key, value) => void memoryBacking.map.set(`${prefix}:{${key}}`, { data: value, expiresAt: Infinity }),
    leaseNeedsAbsentValue: false,
  },
};

/** The Redis backend again, each store logged in as its own ACL user ({@link aclStore}); SCAN, and so clear(), refused. */
function aclBackend(port: () => number, admin: () => Redis, clusterMode: boolean): Backend {
  return {
    kind: "redis",
    make: (keyPrefix) => track(aclStore(keyPrefix, port(), admin, clusterMode)),
    advance: (ms) => sleep(ms),
    now: () => Date.now(),
    putWithoutTtl: async (prefix, key, value) => void (await admin().set(`${prefix}:{${key}}`, value)),
    leaseNeedsAbsentValue: false,
    clearRefusedWith: /NOPERM.*'scan'/,
  };
}

function track<T extends CacheStore>(s: T): T {
  opened.push(s);
  return s;
}

let seq = 0;
/** A prefix no other test uses, so tests never see each other's keys. */
const freshPrefix = () => `t${process.pid}-${++seq}`;

beforeAll(async () => {
  [redisServer, clusterServer, dyna, memcachedServer] = await Promise.all([startRedis(), startRedis({ cluster: true }), startDynalite(), startMemcached()]);
  rawMemcached = new MemcachedConnection({ host: "127.0.0.1", port: memcachedServer.port, commandTimeoutMs: 2_000 });
  raw = new Redis({ port: redisServer.port, host: "127.0.0.1" });
  rawCluster = new Redis({ port: clusterServer.port, host: "127.0.0.1" });
  await dyna.createTable({
    TableName: CACHE_TABLE,
    KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
    AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
    BillingMode: "PAY_PER_REQUEST",
  });
});

afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
  raw?.disconnect();
  rawCluster?.disconnect();
  await rawMemcached?.close();
  await Promise.all([redisServer?.stop(), clusterServer?.stop(), dyna?.stop(), memcachedServer?.stop()]);
});

describe.each(["redis", "redis-cluster", "redis-acl", "redis-cluster-acl", "memcached", "dynamodb", "memory"] as const)("CacheStore contract: %s", (name) => {
  const kind = backends[name].kind;
  const canClear = cacheBackendSupports(kind, "clear");
  const canRateLimit = cacheBackendSupports(kind, "hitWindow");
  let b: Backend;
  let store: CacheStore;
  let prefix: string;
  beforeEach(() => {
    b = backends[name];
    prefix = freshPrefix();
    store = b.make(prefix);
  });

  test("reports its kind and answers ping", async () => {
    expect(store.kind).toBe(kind);
    await expect(store.ping()).resolves.toBe(true);
  });

  test("get/set/has/delete", async () => {
    // GIVEN a value set under "a"
    await store.set("a", "1", 60);
    // THEN it reads back, "b" is absent
    await expect(store.get("a")).resolves.toBe("1");
    await expect(store.has("a")).resolves.toBe(true);
    await expect(store.get("b")).resolves.toBeUndefined();
    await expect(store.has("b")).resolves.toBe(false);
    // WHEN deleting a present and an absent key THEN only the present one counts
    await expect(store.delete("a", "b")).resolves.toBe(1);
    await expect(store.get("a")).resolves.toBeUndefined();
    await expect(store.delete("a")).resolves.toBe(0);
    // AND set overwrites
    await store.set("c", "x", 60);
    await store.set("c", "y", 60);
    await expect(store.get("c")).resolves.toBe("y");
  });

  test("values expire after their TTL", async () => {
    await store.set("short", "v", 1);
    await store.set("long", "v", 60);
    await b.advance(1_100);
    await expect(store.get("short")).resolves.toBeUndefined();
    await expect(store.has("short")).resolves.toBe(false);
    await expect(store.ttl("short")).resolves.toBe(-2);
    await expect(store.get("long")).resolves.toBe("v");
  });

  test("ttl() is -2 when absent, -1 without TTL, else the remaining seconds", async () => {
    await expect(store.ttl("none")).resolves.toBe(-2);
    await store.set("k", "v", 10);
    const remaining = await store.ttl("k");
    expect(remaining).toBeGreaterThanOrEqual(9);
    expect(remaining).toBeLessThanOrEqual(10);
    await b.putWithoutTtl(prefix, "forever", "v");
    await expect(store.ttl("forever")).resolves.toBe(-1);
  });

  test("expire() resets the TTL of an existing key only", async () => {
    await expect(store.expire("none", 5)).resolves.toBe(false);
    await store.set("k", "v", 100);
    await expect(store.expire("k", 5)).resolves.toBe(true);
    const remaining = await store.ttl("k");
    expect(remaining).toBeGreaterThanOrEqual(4);
    expect(remaining).toBeLessThanOrEqual(5);
  });

  test("getMany/setMany keep order with misses in the middle", async () => {
    await store.setMany([
      { key: "a", value: "A", ttlSeconds: 60 },
      { key: "c", value: "C", ttlSeconds: 60 },
      { key: "e", value: "E", ttlSeconds: 60 },
    ]);
    await expect(store.getMany(["a", "b", "c", "d", "e", "a"])).resolves.toEqual(["A", undefined, "C", undefined, "E", "A"]);
    await expect(store.getMany([])).resolves.toEqual([]);
    await store.setMany([]);
  });

  test("setMany/getMany beyond one DynamoDB batch (130 keys)", async () => {
    const entries = Array.from({ length: 130 }, (_, i) => ({ key: `k${i}`, value: `v${i}`, ttlSeconds: 60 }));
    await store.setMany(entries);
    const keys = [...entries.map((e) => e.key), "missing"];
    await expect(store.getMany(keys)).resolves.toEqual([...entries.map((e) => e.value), undefined]);
  });

  const refusedWith = backends[name].clearRefusedWith;
  const clearTitle = refusedWith ? "prefixes isolate stores; clear() is refused by the ACL (no SCAN)"
    : canClear ? "prefixes isolate stores; clear() of one leaves the others" : "prefixes isolate stores; clear() is refused with a typed error";
  test(clearTitle, async () => {
    // GIVEN two stores on one backend, one prefix extending the other
    const other = b.make(`${prefix}:sub`);
    const third = b.make(`${prefix}x`);
    await store.set("k", "mine", 60);
    await other.set("k", "theirs", 60);
    await third.set("k", "third", 60);
    await store.acquireLease("k", "t", 10_000);
    if (canRateLimit) await store.hitWindow("k", 5, 10_000, b.now());
    // THEN each sees its own value
    await expect(store.get("k")).resolves.toBe("mine");
    await expect(other.get("k")).resolves.toBe("theirs");
    await expect(other.get("missing-in-other")).resolves.toBeUndefined();
    if (refusedWith) {
      // An ElastiCache user is not granted SCAN (it is not scoped by key patterns and would list
      // every service's key names), so clear() is the server's refusal, and nothing is deleted.
      await expect(store.clear()).rejects.toThrow(refusedWith);
      await expect(store.get("k")).resolves.toBe("mine");
      await expect(other.get("k")).resolves.toBe("theirs");
      return;
    }
    if (!canClear) {
      // A refusal, not a partial clear: every store keeps its entries.
      const err = await store.clear().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnsupportedCacheOperationError);
      expect(err).toMatchObject({ backend: kind, operation: "clear" });
      await expect(store.get("k")).resolves.toBe("mine");
      await expect(third.get("k")).resolves.toBe("third");
      return;
    }
    // WHEN the first is cleared THEN value, lease and window go, the others stay
    const cleared = await store.clear();
    // What counts as one entry is the backend's (DynamoDB keeps value and lease in one item).
    expect(cleared).toBeGreaterThanOrEqual(2);
    await expect(store.get("k")).resolves.toBeUndefined();
    await expect(store.acquireLease("k", "t2", 10_000)).resolves.toBe(true);
    await expect(other.get("k")).resolves.toBe("theirs");
    await expect(third.get("k")).resolves.toBe("third");
  });

  describe("leases", () => {
    test("a second acquire fails while the lease is held", async () => {
      await expect(store.acquireLease("k", "t1", 5_000)).resolves.toBe(true);
      await expect(store.acquireLease("k", "t2", 5_000)).resolves.toBe(false);
    });

    test("setIfLeaseHeld stores with the right token and releases the lease", async () => {
      await store.acquireLease("k", "t1", 5_000);
      await expect(store.setIfLeaseHeld("k", "wrong", 60, "t2")).resolves.toBe(false);
      await expect(store.get("k")).resolves.toBeUndefined();
      await expect(store.setIfLeaseHeld("k", "right", 60, "t1")).resolves.toBe(true);
      await expect(store.get("k")).resolves.toBe("right");
      const remaining = await store.ttl("k");
      expect(remaining).toBeGreaterThanOrEqual(59);
      // the lease is gone: a second fill with the same token fails, a new lease can be taken
      await expect(store.setIfLeaseHeld("k", "again", 60, "t1")).resolves.toBe(false);
      // Memcached: the filled value now occupies the lease's item, so no lease until it goes.
      await expect(store.acquireLease("k", "t3", 5_000)).resolves.toBe(!b.leaseNeedsAbsentValue);
    });

    test("setIfLeaseHeld without any lease fails", async () => {
      await expect(store.setIfLeaseHeld("k", "v", 60, "t1")).resolves.toBe(false);
      await expect(store.get("k")).resolves.toBeUndefined();
    });

    test("invalidate() between acquire and fill makes the fill fail", async () => {
      await store.acquireLease("k", "t1", 5_000);
      await store.invalidate("k");
      await expect(store.setIfLeaseHeld("k", "stale", 60, "t1")).resolves.toBe(false);
      await expect(store.get("k")).resolves.toBeUndefined();
    });

    test("releaseLease with a wrong token does not release", async () => {
      await store.acquireLease("k", "t1", 5_000);
      await store.releaseLease("k", "t2");
      await expect(store.acquireLease("k", "t3", 5_000)).resolves.toBe(false);
      await store.releaseLease("k", "t1");
      await expect(store.acquireLease("k", "t3", 5_000)).resolves.toBe(true);
    });

    test("an expired lease lets another caller acquire, and the old token cannot fill", async () => {
      await store.acquireLease("k", "t1", 100);
      await b.advance(200);
      await expect(store.acquireLease("k", "t2", 5_000)).resolves.toBe(true);
      await expect(store.setIfLeaseHeld("k", "old", 60, "t1")).resolves.toBe(false);
      await expect(store.setIfLeaseHeld("k", "new", 60, "t2")).resolves.toBe(true);
      await expect(store.get("k")).resolves.toBe("new");
    });

    test("a lease does not hide or disturb the key's value", async () => {
      await store.set("k", "v1", 60);
      // Memcached: a value present means no lease (the value is what a lease would protect).
      await expect(store.acquireLease("k", "t1", 5_000)).resolves.toBe(!b.leaseNeedsAbsentValue);
      await expect(store.get("k")).resolves.toBe("v1");
      await store.set("k", "v2", 60);
      await expect(store.acquireLease("k", "t2", 5_000)).resolves.toBe(false);
      await expect(store.setIfLeaseHeld("k", "v3", 60, "t1")).resolves.toBe(!b.leaseNeedsAbsentValue);
      await expect(store.get("k")).resolves.toBe(b.leaseNeedsAbsentValue ? "v2" : "v3");
    });

    test("a plain set() over a lease: the value is stored; memcached also revokes the lease", async () => {
      await expect(store.acquireLease("k", "t1", 5_000)).resolves.toBe(true);
      await store.set("k", "v1", 60);
      await expect(store.get("k")).resolves.toBe("v1");
      await expect(store.setIfLeaseHeld("k", "v2", 60, "t1")).resolves.toBe(!b.leaseNeedsAbsentValue);
      await expect(store.get("k")).resolves.toBe(b.leaseNeedsAbsentValue ? "v1" : "v2");
    });

    test("a lease alone is not a value", async () => {
      await store.acquireLease("k", "t1", 5_000);
      await expect(store.get("k")).resolves.toBeUndefined();
      await expect(store.has("k")).resolves.toBe(false);
      await expect(store.ttl("k")).resolves.toBe(-2);
      await expect(store.getMany(["k"])).resolves.toEqual([undefined]);
    });
  });

  test("invalidate() deletes the value and the lease", async () => {
    await store.set("k", "v", 60);
    await store.acquireLease("k", "t1", 60_000);
    await store.invalidate("k");
    await expect(store.get("k")).resolves.toBeUndefined();
    await expect(store.acquireLease("k", "t2", 5_000)).resolves.toBe(true);
    // invalidating an absent key is fine
    await store.invalidate("nothing");
  });

  describe("hitWindow", () => {
    const WINDOW = 5_000;

    if (!canRateLimit) {
      test("is refused with a typed error that the breaker passes through without opening", async () => {
        const err = await store.hitWindow("u", 3, WINDOW, b.now()).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(UnsupportedCacheOperationError);
        expect(err).toMatchObject({ backend: kind, operation: "hitWindow" });
        const guarded = new BreakerCacheStore(store, { failureThreshold: 1, windowMs: 10_000, cooldownMs: 10_000, commandTimeoutMs: 2_000 });
        await expect(guarded.hitWindow("u", 3, WINDOW, b.now())).rejects.toBeInstanceOf(UnsupportedCacheOperationError);
        await expect(guarded.clear()).rejects.toBeInstanceOf(UnsupportedCacheOperationError);
        expect(guarded.breaker.state).toBe("closed");
        await expect(guarded.ping()).resolves.toBe(true);
      });
      return;
    }

    test("allows `limit` hits, then refuses with 0 < retryAfterMs ≤ window", async () => {
      const t0 = b.now();
      await expect(store.hitWindow("u", 3, WINDOW, t0)).resolves.toEqual({ allowed: true, count: 1, retryAfterMs: 0 });
      await expect(store.hitWindow("u", 3, WINDOW, t0 + 100)).resolves.toEqual({ allowed: true, count: 2, retryAfterMs: 0 });
      await expect(store.hitWindow("u", 3, WINDOW, t0 + 200)).resolves.toEqual({ allowed: true, count: 3, retryAfterMs: 0 });
      const refused = await store.hitWindow("u", 3, WINDOW, t0 + 300);
      expect(refused).toEqual({ allowed: false, count: 3, retryAfterMs: WINDOW - 300 });
      // another key has its own window
      await expect(store.hitWindow("v", 3, WINDOW, t0 + 300)).resolves.toMatchObject({ allowed: true, count: 1 });
    });

    test("hits age out of the window", async () => {
      const t0 = b.now();
      await store.hitWindow("u", 2, WINDOW, t0);
      await store.hitWindow("u", 2, WINDOW, t0 + 1_000);
      const refused = await store.hitWindow("u", 2, WINDOW, t0 + 4_000);
      expect(refused.allowed).toBe(false);
      expect(refused.retryAfterMs).toBe(1_000);
      expect(refused.retryAfterMs).toBeGreaterThan(0);
      expect(refused.retryAfterMs).toBeLessThanOrEqual(WINDOW);
      // exactly one window after the first hit, it has left: one slot is free again
      await expect(store.hitWindow("u", 2, WINDOW, t0 + WINDOW)).resolves.toEqual({ allowed: true, count: 2, retryAfterMs: 0 });
      const again = await store.hitWindow("u", 2, WINDOW, t0 + WINDOW + 1);
      expect(again).toEqual({ allowed: false, count: 2, retryAfterMs: 999 });
    });

    test("50 concurrent hits with limit 10: exactly 10 allowed", async () => {
      const t0 = b.now();
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => store.hitWindow("burst", 10, 60_000, t0 + (i % 3))));
      expect(results.filter((r) => r.allowed)).toHaveLength(10);
      expect(results.filter((r) => r.allowed).map((r) => r.count).sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      for (const r of results.filter((r) => !r.allowed)) {
        expect(r.count).toBe(10);
        expect(r.retryAfterMs).toBeGreaterThan(0);
        expect(r.retryAfterMs).toBeLessThanOrEqual(60_000);
      }
    });
  });

  test("stats count hits, misses, sets and deletes", async () => {
    await store.get("a"); // miss
    await store.set("a", "1", 60);
    await store.get("a"); // hit
    await store.getMany(["a", "b"]); // hit + miss
    await store.setMany([{ key: "b", value: "2", ttlSeconds: 60 }]);
    await store.delete("a", "zzz");
    expect(store.stats()).toEqual({ kind, hits: 2, misses: 2, sets: 2, deletes: 1, errors: 0 });
  });

  test("rejects bad arguments instead of storing without TTL", async () => {
    await expect(store.set("k", "v", 0)).rejects.toThrow(/ttlSeconds/);
    await expect(store.set("", "v", 10)).rejects.toThrow(/non-empty/);
  });
});

describe.each(["redis", "redis-cluster"] as const)("%s specifics", (name) => {
  const rawOf = () => (name === "redis" ? raw : rawCluster);

  test("clear() of > 1000 keys uses SCAN, removes them all and leaves another prefix alone", async () => {
    // GIVEN 1,200 keys under one prefix and a few under another
    const prefix = freshPrefix();
    const store = backends[name].make(prefix);
    const other = backends[name].make(`${prefix}-other`);
    await store.setMany(Array.from({ length: 1_200 }, (_, i) => ({ key: `k${i}`, value: "v", ttlSeconds: 600 })));
    await other.setMany([
      { key: "k1", value: "keep", ttlSeconds: 600 },
      { key: "k2", value: "keep", ttlSeconds: 600 },
    ]);
    const raw = rawOf();
    await raw.config("RESETSTAT");
    // WHEN clearing
    const removed = await store.clear();
    // THEN every key went, via several SCAN pages and no KEYS
    expect(removed).toBe(1_200);
    expect(await raw.scan("0", "MATCH", `${prefix}:*`, "COUNT", 5_000).then(([, keys]) => keys)).toEqual([]);
    await expect(other.getMany(["k1", "k2"])).resolves.toEqual(["keep", "keep"]);
    const info = await raw.info("commandstats");
    const calls = (cmd: string) => Number(new RegExp(`cmdstat_${cmd}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
    expect(calls("scan")).toBeGreaterThan(1);
    expect(calls("keys")).toBe(0);
    expect(calls("unlink")).toBeGreaterThan(0);
  });

  test("key layout puts a value and its lease in one hash slot", async () => {
    const prefix = freshPrefix();
    const store = backends[name].make(prefix);
    const raw = rawOf();
    await store.set("user:1", "v", 60);
    await store.acquireLease("user:1", "t", 60_000);
    const [, keys] = await raw.scan("0", "MATCH", `${prefix}:*`, "COUNT", 1_000);
    expect(keys.sort()).toEqual([`${prefix}:{user:1}`, `${prefix}:{user:1}:lease`]);
    if (name === "redis-cluster") {
      const slots = await Promise.all([...keys, `${prefix}:{user:1}:window`, `${prefix}:{user:2}`].map((k) => raw.call("CLUSTER", "KEYSLOT", k)));
      expect(new Set(slots.slice(0, 3)).size).toBe(1);
      expect(slots[3]).not.toBe(slots[0]);
    }
  });
});

describe("createCacheStore", () => {
  const base = loadRuntimeConfig({ TABLE_NAME: "products" });

  test("memory: a bare MemoryCacheStore (no breaker)", () => {
    const store = createCacheStore({ ...base, cacheBackend: "memory" });
    expect(store).toBeInstanceOf(MemoryCacheStore);
  });

  test("dynamodb: the table store behind a breaker, on the injected client", async () => {
    const store = createCacheStore({ ...base, cacheBackend: "dynamodb", cacheTableName: CACHE_TABLE, keyPrefix: freshPrefix() }, { dynamoDbClient: dyna.client() });
    expect(store).toBeInstanceOf(BreakerCacheStore);
    expect((store as BreakerCacheStore).inner).toBeInstanceOf(DynamoDbCacheStore);
    await store.set("k", "v", 60);
    await expect(store.get("k")).resolves.toBe("v");
  });

  test("memcached: chosen by MEMCACHED_HOST, the memcached store behind a breaker, on the configured port", async () => {
    const config = loadRuntimeConfig({ TABLE_NAME: "products", MEMCACHED_HOST: "127.0.0.1", MEMCACHED_PORT: String(memcachedServer.port), MEMCACHED_TLS: "false", CACHE_KEY_PREFIX: freshPrefix() });
    expect(config.cacheBackend).toBe("memcached");
    expect(config.memcached).toEqual({ host: "127.0.0.1", port: memcachedServer.port, tls: false });
    const store = track(createCacheStore(config));
    expect(store).toBeInstanceOf(BreakerCacheStore);
    expect((store as BreakerCacheStore).inner).toBeInstanceOf(MemcachedCacheStore);
    await store.set("k", "v", 60);
    await expect(store.get("k")).resolves.toBe("v");
    const [raw] = await rawMemcached.send([{ line: `mg ${memcachedKey(config.keyPrefix, "k")} f v` }]);
    expect(raw.value?.toString()).toBe("v");
  });

  test("redis with REDIS_AUTH_MODE=iam: connects as REDIS_USER, and only that user's keys are reachable", async () => {
    // A token cannot be predicted here (it is signed with the time), so this ACL user takes any
    // password: what this test proves is the wiring from the variables to the connection. The
    // token itself is pinned and re-verified in iam-auth.test.ts.
    const user = `svc-${process.pid}`;
    const prefix = freshPrefix();
    await raw.call("ACL", "SETUSER", user, "on", "nopass", `~${prefix}:*`, "+@all");
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = "AKIAEXAMPLE";
    process.env.AWS_SECRET_ACCESS_KEY = "example-secret";
    try {
      const env = {
        TABLE_NAME: "products", REDIS_HOST: "127.0.0.1", REDIS_PORT: String(redisServer.port), REDIS_TLS: "false",
        REDIS_AUTH_MODE: "iam", REDIS_USER: user, REDIS_CACHE_NAME: "my-cache", CACHE_KEY_PREFIX: prefix,
      };
      const config = loadRuntimeConfig(env);
      expect(config.redis?.iam).toEqual({ userId: user, cacheName: "my-cache", serverless: false });
      const store = track(createCacheStore(config));
      await store.set("k", "v", 60);
      await expect(store.get("k")).resolves.toBe("v");
      const clients = String(await raw.call("CLIENT", "LIST"));
      expect(clients).toContain(`user=${user}`);
      // the same user, another service's prefix: refused by the ACL, so the call fails
      const other = track(createCacheStore(loadRuntimeConfig({ ...env, CACHE_KEY_PREFIX: freshPrefix() })));
      await expect(other.set("k", "v", 60)).rejects.toThrow();
    } finally {
      process.env.AWS_ACCESS_KEY_ID = saved.id;
      process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
      await raw.call("ACL", "DELUSER", user);
    }
  });

  test("the configuration names a variable an auth mode or backend requires and lacks", () => {
    const base = { TABLE_NAME: "products" };
    expect(() => loadRuntimeConfig({ ...base, CACHE_BACKEND: "memcached" })).toThrow(/MEMCACHED_HOST.*required when CACHE_BACKEND=memcached/);
    expect(() => loadRuntimeConfig({ ...base, REDIS_HOST: "h", REDIS_AUTH_MODE: "iam", REDIS_CACHE_NAME: "c" })).toThrow(/REDIS_USER.*REDIS_AUTH_MODE=iam/);
    expect(() => loadRuntimeConfig({ ...base, REDIS_HOST: "h", REDIS_AUTH_MODE: "iam", REDIS_USER: "u" })).toThrow(/REDIS_CACHE_NAME.*REDIS_AUTH_MODE=iam/);
    expect(() => loadRuntimeConfig({ ...base, REDIS_HOST: "h", REDIS_AUTH_MODE: "secret" })).toThrow(/REDIS_AUTH_SECRET_ARN.*REDIS_AUTH_MODE=secret/);
    expect(() => loadRuntimeConfig({ ...base, REDIS_HOST: "h", REDIS_AUTH_MODE: "kerberos" })).toThrow(/REDIS_AUTH_MODE.*kerberos/);
    // derived: an ARN alone means secret; nothing means none; iam ignores a leftover ARN
    expect(loadRuntimeConfig({ ...base, REDIS_HOST: "h", REDIS_AUTH_SECRET_ARN: "arn:s" }).redis?.authSecretArn).toBe("arn:s");
    expect(loadRuntimeConfig({ ...base, REDIS_HOST: "h" }).redis).toMatchObject({ authSecretArn: undefined, iam: undefined });
    const iam = loadRuntimeConfig({ ...base, REDIS_HOST: "h", REDIS_AUTH_MODE: "iam", REDIS_USER: "u", REDIS_CACHE_NAME: "c", REDIS_SERVERLESS: "true", REDIS_AUTH_SECRET_ARN: "arn:s" });
    expect(iam.redis).toMatchObject({ authSecretArn: undefined, iam: { userId: "u", cacheName: "c", serverless: true } });
  });

  test("names the missing setting", () => {
    expect(() => createCacheStore({ ...base, cacheBackend: "dynamodb", cacheTableName: undefined })).toThrow(/CACHE_TABLE_NAME/);
    expect(() => createCacheStore({ ...base, cacheBackend: "redis", redis: undefined })).toThrow(/REDIS_HOST/);
  });

  describe("redis with AUTH from Secrets Manager", () => {
    let authed: RedisServerHandle;
    beforeAll(async () => {
      authed = await startRedis({ args: ["--requirepass", "s3cret-token"] });
    });
    afterAll(async () => {
      resetSecretCache();
      await Promise.all(opened.splice(0).map((s) => s.close()));
      await authed?.stop();
    });

    function configFor(arn: string) {
      return {
        ...base,
        cacheBackend: "redis" as const,
        keyPrefix: freshPrefix(),
        redis: { host: "127.0.0.1", port: authed.port, tls: false, clusterMode: false, authSecretArn: arn },
      };
    }

    test("fetches the secret once per ARN (JSON or raw) and authenticates with it", async () => {
      const calls: string[] = [];
      const secretsClient = {
        send: async (cmd: GetSecretValueCommand) => {
          calls.push(cmd.input.SecretId!);
          return { SecretString: cmd.input.SecretId!.endsWith("json") ? JSON.stringify({ authToken: "s3cret-token" }) : "s3cret-token" };
        },
      };
      for (const arn of ["arn:aws:secretsmanager:us-east-1:111111111111:secret:json", "arn:aws:secretsmanager:us-east-1:111111111111:secret:raw"]) {
        const a = track(createCacheStore(configFor(arn), { secretsClient }));
        const b = track(createCacheStore(configFor(arn), { secretsClient }));
        await a.set("k", "v", 60);
        await expect(a.get("k")).resolves.toBe("v");
        await expect(b.ping()).resolves.toBe(true);
      }
      expect(calls).toHaveLength(2);
    });

    test("a wrong token fails without leaking it; a failed fetch is retried later", async () => {
      const wrong = track(createCacheStore(configFor("arn:wrong"), { secretsClient: { send: async () => ({ SecretString: "not-the-token" }) } }));
      const err = (await wrong.get("k").catch((e: unknown) => e)) as Error;
      expect(err).toBeInstanceOf(CacheUnavailableError);
      expect(err.message).not.toContain("not-the-token");

      let attempt = 0;
      const flaky = { send: async () => (++attempt === 1 ? Promise.reject(new Error("throttled")) : { SecretString: "s3cret-token" }) };
      const store = track(createCacheStore(configFor("arn:flaky"), { secretsClient: flaky }));
      await expect(store.get("k")).rejects.toBeInstanceOf(CacheUnavailableError);
      await expect(store.set("k", "v", 60)).resolves.toBeUndefined();
      expect(attempt).toBe(2);
    });
  });

  test("parseRedisAuth accepts a raw token or JSON and never echoes the secret", () => {
    expect(parseRedisAuth("tok")).toEqual({ password: "tok" });
    expect(parseRedisAuth(JSON.stringify({ password: "p", username: "u" }))).toEqual({ password: "p", username: "u" });
    expect(() => parseRedisAuth("{not json s3cret")).toThrow(/does not parse/);
    expect(() => parseRedisAuth("{not json s3cret")).not.toThrow(/s3cret/);
    expect(() => parseRedisAuth(JSON.stringify({ token: "s3cret" }))).toThrow(/authToken or password/);
  });
});

describe("memory specifics", () => {
  test("bounded: beyond maxEntries the least recently used entry goes, expired entries first", async () => {
    const clock = { t: 0 };
    const store = new MemoryCacheStore({ keyPrefix: "lru", maxEntries: 3, now: () => clock.t });
    await store.set("a", "1", 60);
    await store.set("b", "2", 60);
    await store.set("c", "3", 60);
    await store.get("a"); // a is now the most recently used: b is the oldest
    await store.set("d", "4", 60);
    expect([...store["backing"].map.keys()]).toEqual(["lru:{c}", "lru:{a}", "lru:{d}"]);
    await expect(store.has("b")).resolves.toBe(false);
    // an expired entry is evicted before any live one, even a less recently used one
    await store.set("short", "x", 1); // evicts c, the least recently used
    await expect(store.has("c")).resolves.toBe(false);
    clock.t += 2_000; // short (the most recently used) has expired
    await store.set("e", "5", 60);
    expect([...store["backing"].map.keys()]).toEqual(["lru:{a}", "lru:{d}", "lru:{e}"]);
  });
});

describe("memcached specifics", () => {
  let proxy: GateProxy;
  beforeAll(async () => {
    proxy = await startGateProxy(memcachedServer.port);
  });
  afterAll(async () => {
    await proxy?.close();
  });

  const direct = (keyPrefix: string) => backends.memcached.make(keyPrefix) as MemcachedCacheStore;
  /** A store whose requests pass the gate proxy, so one of them can be held back. */
  const gated = (keyPrefix: string) => track(new MemcachedCacheStore({ keyPrefix, host: "127.0.0.1", port: proxy.port, commandTimeoutMs: 5_000 }));
  const rawGet = async (name: string) => (await rawMemcached.send([{ line: `mg ${name} f v` }]))[0];

  test("keys: <prefix>:{key} where memcached allows it; long, spaced, control-character and non-ASCII keys hashed, still distinct", async () => {
    const prefix = freshPrefix();
    const store = direct(prefix);
    await store.set("user:1", "plain", 60);
    expect((await rawGet(`${prefix}:{user:1}`)).value?.toString()).toBe("plain");

    const odd = ["k".repeat(300), "a b", "a_b", "a\nb", "ключ", "tab\there", `${"x".repeat(240)}`];
    await store.setMany(odd.map((key, i) => ({ key, value: `v${i}`, ttlSeconds: 60 })));
    await expect(store.getMany(odd)).resolves.toEqual(odd.map((_, i) => `v${i}`));
    const names = odd.map((k) => memcachedKey(prefix, k));
    expect(new Set(names).size).toBe(odd.length);
    for (const [i, name] of names.entries()) {
      expect(Buffer.byteLength(name)).toBeLessThanOrEqual(250);
      expect(name).toMatch(/^[\x21-\x7e]+$/);
      expect(name).toMatch(odd[i] === "a_b" ? /:\{a_b\}$/ : new RegExp(`^${prefix}:#[A-Za-z0-9_-]{43}$`));
      expect((await rawGet(name)).value?.toString()).toBe(`v${i}`);
    }
    // the lease protocol works on a hashed key too
    await expect(store.acquireLease("spaced key", "t1", 5_000)).resolves.toBe(true);
    await expect(store.setIfLeaseHeld("spaced key", "filled", 60, "t1")).resolves.toBe(true);
    await expect(store.get("spaced key")).resolves.toBe("filled");
    expect(() => new MemcachedCacheStore({ keyPrefix: "has space", host: "127.0.0.1" })).toThrow(/printable ASCII/);
  });

  /**
   * A reader takes lease t1 on "k" through the gate; its `step` then runs with the command named by
   * `marker` held back, and `between` runs against the server directly in that gap.
   */
  async function raceInsideStep<T>(marker: string, step: (reader: MemcachedCacheStore) => Promise<T>, between: (other: MemcachedCacheStore) => Promise<void>) {
    const prefix = freshPrefix();
    const reader = gated(prefix);
    const other = direct(prefix);
    await expect(reader.acquireLease("k", "t1", 10_000)).resolves.toBe(true);
    const held = proxy.holdNext(marker);
    const pending = step(reader);
    await held;
    await between(other);
    proxy.release();
    return { result: await pending, other, item: () => rawGet(memcachedKey(prefix, "k")) };
  }

  test("a fill loses to an invalidate that lands after it read its lease (CAS → NF): nothing is stored", async () => {
    // GIVEN the reader's compare-and-set held back after its lease check passed
    // WHEN the writer invalidates in that gap THEN the fill fails and the key stays empty
    const { result, other, item } = await raceInsideStep(
      "ms ",
      (reader) => reader.setIfLeaseHeld("k", "stale", 60, "t1"),
      (writer) => writer.invalidate("k"),
    );
    expect(result).toBe(false);
    await expect(other.get("k")).resolves.toBeUndefined();
    expect((await item()).code).toBe("EN");
  });

  test("a fill loses when another reader re-leased the key in that gap (CAS → EX): the newer lease survives and fills", async () => {
    const { result, other, item } = await raceInsideStep(
      "ms ",
      (reader) => reader.setIfLeaseHeld("k", "stale", 60, "t1"),
      async (o) => {
        await o.invalidate("k");
        await expect(o.acquireLease("k", "t2", 10_000)).resolves.toBe(true);
      },
    );
    expect(result).toBe(false);
    const after = await item();
    expect([after.flags.f, after.value?.toString()]).toEqual(["1", "t2"]);
    await expect(other.setIfLeaseHeld("k", "fresh", 60, "t2")).resolves.toBe(true);
    await expect(other.get("k")).resolves.toBe("fresh");
  });

  test("releaseLease removes only the lease it read: one re-taken in between survives", async () => {
    const { other } = await raceInsideStep(
      "md ",
      (holder) => holder.releaseLease("k", "t1"),
      async (o) => {
        await o.invalidate("k");
        await o.acquireLease("k", "t2", 10_000);
      },
    );
    await expect(other.acquireLease("k", "t3", 10_000)).resolves.toBe(false);
    await expect(other.setIfLeaseHeld("k", "v", 60, "t2")).resolves.toBe(true);
  });

  test("TTLs above memcached's 30-day relative limit are kept (sent as a Unix time)", async () => {
    const store = direct(freshPrefix());
    const forty = 40 * 24 * 3600;
    await store.set("k", "v", forty);
    await expect(store.get("k")).resolves.toBe("v");
    const remaining = await store.ttl("k");
    expect(remaining).toBeGreaterThan(forty - 5);
    expect(remaining).toBeLessThanOrEqual(forty + 1);
  });

  test("expire() of a leased key returns false and leaves the lease's short TTL", async () => {
    const prefix = freshPrefix();
    const store = direct(prefix);
    await store.acquireLease("k", "t1", 3_000);
    await expect(store.expire("k", 3_600)).resolves.toBe(false);
    const [r] = await rawMemcached.send([{ line: `mg ${memcachedKey(prefix, "k")} t` }]);
    expect(Number(r.flags.t)).toBeLessThanOrEqual(4);
  });

  describe("TLS", () => {
    let tlsServer: MemcachedServerHandle;
    beforeAll(async () => {
      tlsServer = await startMemcached({ tls: true });
    });
    afterAll(async () => {
      await tlsServer?.stop();
    });
    const on = (tls: boolean | { readonly ca: string }, commandTimeoutMs = 2_000) =>
      track(new MemcachedCacheStore({ keyPrefix: freshPrefix(), host: "127.0.0.1", port: tlsServer.port, tls, commandTimeoutMs }));

    test("works against a TLS-only memcached with the CA trusted", async () => {
      const store = on({ ca: tlsServer.ca! });
      await store.set("k", "over tls", 60);
      await expect(store.get("k")).resolves.toBe("over tls");
      await expect(store.ping()).resolves.toBe(true);
    });

    test("refuses an untrusted certificate, and plain TCP gets no answer from a TLS port", async () => {
      await expect(on(true).get("k")).rejects.toThrow(/self[- ]signed|certificate/i);
      // The server waits for a TLS handshake that never comes: no reply within the timeout.
      await expect(on(false, 300).ping()).resolves.toBe(false);
    });
  });
});
