/**
 * The connection map and presence (functions/lib/realtime) on a real redis-server, standalone and
 * in cluster mode (where keys of different slots would fail as CROSSSLOT), and in process; the push
 * with AWS's side (the pusher invocation) stood in for; the pusher against a local stand-in for API
 * Gateway's management API.
 */
import { createServer, Server } from "http";
import { AddressInfo } from "net";
import Redis from "ioredis";
import { BreakerCacheStore } from "../../functions/lib/cache/breaker";
import { RedisCacheStore } from "../../functions/lib/cache/redis";
import { MemoryCacheStore } from "../../functions/lib/cache/memory";
import { buildRedisClient } from "../../functions/lib/cache/redis";
import { METRIC, PushRequest, PushResult, redisAccessString } from "../../functions/lib/contract";
import { RequestMetrics, setMetricsSink } from "../../functions/lib/metrics";
import { ConnectionMapUnsupportedError, connectionRegistryOf, ConnectionRegistry, MemoryConnectionRegistry, registryKeys, SessionPush } from "../../functions/lib/realtime";
import { createPusher } from "../../functions/pusher/handler";
import { PUSHER } from "../../functions/pusher/contract";
import { RedisServerHandle, startRedis } from "../helpers/redis-server";
import { parseEmf } from "./events";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const keySlot = require("cluster-key-slot") as (key: string) => number;

process.env.AWS_ACCESS_KEY_ID = "fake";
process.env.AWS_SECRET_ACCESS_KEY = "fake";
process.env.LOG_LEVEL = "silent";
jest.setTimeout(60_000);

const TTL = 7_200_000;
const BREAKER = { failureThreshold: 3, windowMs: 10_000, cooldownMs: 60_000, commandTimeoutMs: 150, connectTimeoutMs: 300 };

let redis: RedisServerHandle;
let cluster: RedisServerHandle;
const stores: RedisCacheStore[] = [];
beforeAll(async () => {
  [redis, cluster] = await Promise.all([startRedis(), startRedis({ cluster: true })]);
});
afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await Promise.all([redis?.stop(), cluster?.stop()]);
});

/** A registry on a fresh key prefix of `server` (cluster client for the cluster server), behind a breaker. */
function redisRegistry(server: RedisServerHandle, clusterMode: boolean, now?: () => number): { reg: ConnectionRegistry; prefix: string } {
  const prefix = `rt-${Math.random().toString(36).slice(2, 8)}`;
  const inner = new RedisCacheStore({ keyPrefix: prefix, settings: { host: "127.0.0.1", port: server.port, tls: false, clusterMode }, commandTimeoutMs: 500 });
  stores.push(inner);
  return { reg: connectionRegistryOf(new BreakerCacheStore(inner, BREAKER), { keyPrefix: prefix, commandTimeoutMs: 500, now }), prefix };
}

/**
 * A registry logged in as a fresh ACL user with exactly the access string a function's ElastiCache
 * user gets (`redisAccessString`): a command the map sends that REDIS_RUNTIME_COMMANDS lacks fails (NOPERM).
 */
async function aclRegistry(): Promise<ConnectionRegistry> {
  const prefix = `rt-acl-${Math.random().toString(36).slice(2, 8)}`;
  const admin = new Redis({ port: redis.port, lazyConnect: true });
  await admin.connect();
  try {
    await admin.call("ACL", "SETUSER", prefix, "reset", `>pw-${prefix}-0123456789abcdef`, ...redisAccessString(prefix).split(" "));
  } finally {
    admin.disconnect();
  }
  const client = buildRedisClient({ host: "127.0.0.1", port: redis.port, tls: false, clusterMode: false }, { auth: { username: prefix, password: `pw-${prefix}-0123456789abcdef` }, commandTimeoutMs: 500 });
  const inner = new RedisCacheStore({ keyPrefix: prefix, client });
  stores.push({ close: async () => client.disconnect() } as unknown as RedisCacheStore);
  return connectionRegistryOf(new BreakerCacheStore(inner, BREAKER), { keyPrefix: prefix, commandTimeoutMs: 500 });
}

const entry = (connectionId: string, sessionId = "s1", customerId = "cust-1") => ({ connectionId, sessionId, customerId });

describe.each([
  ["redis", () => redisRegistry(redis, false).reg],
  ["redis cluster mode", () => redisRegistry(cluster, true).reg],
  ["redis as the function's ACL user", aclRegistry],
  ["memory", () => connectionRegistryOf(new MemoryCacheStore({ keyPrefix: "m" }), { keyPrefix: "m", commandTimeoutMs: 100 })],
])("connection map on %s", (_name, make: () => ConnectionRegistry | Promise<ConnectionRegistry>) => {
  test("connect maps both directions and marks the customer online; disconnect removes both and the presence", async () => {
    const reg = await make();
    await reg.connect(entry("c1"), TTL);
    await reg.connect(entry("c2"), TTL);
    await reg.connect(entry("c3", "s2", "cust-2"), TTL);
    expect((await reg.connectionsOf("s1")).sort()).toEqual(["c1", "c2"]);
    expect(await reg.lookup("c1")).toEqual(entry("c1"));
    expect([await reg.isOnline("cust-1"), await reg.isOnline("cust-2"), await reg.isOnline("cust-3")]).toEqual([true, true, false]);
    expect(await reg.countOnline()).toBe(2);

    expect(await reg.disconnect("c1")).toBe(true);
    expect(await reg.lookup("c1")).toBeUndefined();
    expect(await reg.connectionsOf("s1")).toEqual(["c2"]);
    expect(await reg.isOnline("cust-1")).toBe(true); // still has c2
    expect(await reg.disconnect("c2")).toBe(true);
    expect(await reg.connectionsOf("s1")).toEqual([]);
    expect(await reg.isOnline("cust-1")).toBe(false);
    expect(await reg.countOnline()).toBe(1);
    expect(await reg.disconnect("c2")).toBe(false); // twice: nothing mapped
  });

  test("prune removes connections found gone, both directions", async () => {
    const reg = await make();
    await reg.connect(entry("g1"), TTL);
    await reg.connect(entry("g2"), TTL);
    expect(await reg.prune("s1", ["g1"])).toBe(1);
    expect(await reg.connectionsOf("s1")).toEqual(["g2"]);
    expect(await reg.lookup("g1")).toBeUndefined();
  });
});

describe("connection map on redis: layout, expiry, outage", () => {
  test("every key of a service shares one hash slot, so the Lua scripts stay legal in cluster mode", () => {
    const k = registryKeys("svc");
    const slots = new Set([k.conn("L0SM9cOFvHcCIhw="), k.session("s-1"), k.customer("cust-1"), k.online].map(keySlot));
    expect(slots.size).toBe(1);
    expect(k.conn("abc")).toBe("svc:{realtime}:conn:abc");
  });

  test("the entries carry the TTL (≤ 2 h) and members past their expiry are not live", async () => {
    let now = Date.now();
    const { reg, prefix } = redisRegistry(redis, false, () => now);
    await reg.connect(entry("t1"), 5_000);
    const k = registryKeys(prefix);
    const admin = new Redis({ port: redis.port, lazyConnect: true });
    await admin.connect();
    try {
      for (const key of [k.conn("t1"), k.session("s1"), k.customer("cust-1"), k.online]) {
        const pttl = await admin.pttl(key);
        expect(pttl).toBeGreaterThan(0);
        expect(pttl).toBeLessThanOrEqual(5_000);
      }
    } finally {
      admin.disconnect();
    }
    now += 6_000;
    expect(await reg.connectionsOf("s1")).toEqual([]);
    expect(await reg.isOnline("cust-1")).toBe(false);
    expect(await reg.countOnline()).toBe(0);
  });

  test("GIVEN Redis down THEN calls fail fast as the cache being unavailable (never hang)", async () => {
    const dead = await startRedis();
    const { reg } = redisRegistry(dead, false);
    await reg.connect(entry("d1"), TTL);
    await dead.kill();
    const t0 = Date.now();
    await expect(reg.connectionsOf("s1")).rejects.toMatchObject({ name: "CacheUnavailableError" });
    expect(Date.now() - t0).toBeLessThan(1_000);
    await dead.stop();
  });

  test("GIVEN a backend without sorted sets THEN every call is a 500 'function misconfigured', not a degradation", async () => {
    const fake = { kind: "memcached" } as never;
    const reg = connectionRegistryOf(fake, { keyPrefix: "x", commandTimeoutMs: 10 });
    await expect(reg.connect(entry("x"), TTL)).rejects.toBeInstanceOf(ConnectionMapUnsupportedError);
    await expect(reg.countOnline()).rejects.toMatchObject({ statusCode: 500, message: /function misconfigured: cache backend memcached/ });
  });
});

describe("pushing to a session (the pusher invocation stood in for)", () => {
  let emf: string[];
  let restore: ReturnType<typeof setMetricsSink>;
  beforeEach(() => {
    emf = [];
    restore = setMetricsSink((l) => emf.push(l));
  });
  afterEach(() => setMetricsSink(restore));
  const counts = () => {
    const m = new Map<string, number>();
    for (const d of parseEmf(emf)) for (const k of [METRIC.Push, METRIC.PushPruned, METRIC.PushFailure, METRIC.PushDegraded]) if (d[k] !== undefined) m.set(k, (m.get(k) ?? 0) + d[k]);
    return Object.fromEntries(m);
  };
  const push = async (p: SessionPush, data = "{}") => {
    const metrics = new RequestMetrics("ns", "svc");
    await p.pushToSession("s1", data, metrics);
    metrics.flush();
  };

  test("every live connection gets the message; gone ones are pruned on the first failed push; failures are counted", async () => {
    const reg = new MemoryConnectionRegistry();
    for (const id of ["live-1", "live-2", "gone-1", "broken-1"]) await reg.connect(entry(id), TTL);
    const calls: PushRequest[] = [];
    const pusher = {
      push: async (r: PushRequest): Promise<PushResult> => {
        calls.push(r);
        return { delivered: r.connectionIds.filter((c) => c.startsWith("live")), gone: r.connectionIds.filter((c) => c.startsWith("gone")), failed: r.connectionIds.filter((c) => c.startsWith("broken")) };
      },
    };
    await push(new SessionPush({ registry: reg, pusher, timeoutMs: 1_000 }), "{\"type\":\"turn\"}");
    expect(calls).toHaveLength(1);
    expect(calls[0].data).toBe("{\"type\":\"turn\"}");
    expect(counts()).toEqual({ Push: 2, PushPruned: 1, PushFailure: 1 });
    expect((await reg.connectionsOf("s1")).sort()).toEqual(["broken-1", "live-1", "live-2"]);
  });

  test("a pusher that fails or is too slow counts every connection as failed; the caller never sees an error", async () => {
    const reg = new MemoryConnectionRegistry();
    await reg.connect(entry("a"), TTL);
    await push(new SessionPush({ registry: reg, pusher: { push: () => Promise.reject(new Error("boom")) }, timeoutMs: 1_000 }));
    await push(new SessionPush({ registry: reg, pusher: { push: () => new Promise(() => undefined) }, timeoutMs: 50 }));
    expect(counts()).toEqual({ Push: 0, PushFailure: 2 });
  });

  test("GIVEN the map unreachable THEN nothing is pushed and PushDegraded counts it", async () => {
    const reg = { connectionsOf: () => Promise.reject(new Error("down")) } as unknown as ConnectionRegistry;
    const pusher = { push: jest.fn() };
    await push(new SessionPush({ registry: reg, pusher, timeoutMs: 100 }));
    expect(pusher.push).not.toHaveBeenCalled();
    expect(counts()).toEqual({ PushDegraded: 1 });
  });

  test("a session with more connections than one invocation takes is pushed in batches of 100", async () => {
    const reg = new MemoryConnectionRegistry();
    for (let i = 0; i < 150; i++) await reg.connect(entry(`c${i}`), TTL);
    const sizes: number[] = [];
    await push(new SessionPush({ registry: reg, pusher: { push: async (r) => (sizes.push(r.connectionIds.length), { delivered: [...r.connectionIds], gone: [], failed: [] }) }, timeoutMs: 1_000 }));
    expect(sizes.sort()).toEqual([100, 50]);
    expect(counts()).toEqual({ Push: 150 });
  });
});

describe("the pusher against a stand-in for API Gateway's management API", () => {
  let server: Server;
  const seen: Array<{ method: string; url: string; body: string; auth: string }> = [];
  let url = "";
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (d) => (body += d));
      req.on("end", () => {
        seen.push({ method: req.method!, url: req.url!, body, auth: String(req.headers.authorization ?? "") });
        const id = decodeURIComponent(req.url!.split("/").pop()!);
        if (id.startsWith("gone")) {
          res.writeHead(410, { "content-type": "application/json", "x-amzn-errortype": "GoneException" });
          res.end("{\"message\":\"gone\"}");
          return;
        }
        if (id.startsWith("slow")) {
          setTimeout(() => res.end(), 2_000);
          return;
        }
        if (id.startsWith("throttled")) {
          res.writeHead(429, { "content-type": "application/json", "x-amzn-errortype": "LimitExceededException" });
          res.end("{\"message\":\"slow down\"}");
          return;
        }
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  test("posts each connection, signed for execute-api, and sorts them into delivered, gone (410) and failed", async () => {
    const push = createPusher({ [PUSHER.settings.stageUrl.env]: url, [PUSHER.settings.postTimeoutMs.env]: "300", AWS_REGION: "us-east-1" });
    const t0 = Date.now();
    const r = await push({ connectionIds: ["ok-1", "gone-1", "slow-1", "throttled-1", "ok/2="], data: "{\"type\":\"turn\"}" });
    expect(Date.now() - t0).toBeLessThan(1_500);
    expect({ delivered: [...r.delivered].sort(), gone: r.gone, failed: [...r.failed].sort() }).toEqual({ delivered: ["ok-1", "ok/2="], gone: ["gone-1"], failed: ["slow-1", "throttled-1"] });
    const ok = seen.find((s) => s.url.endsWith("ok-1"))!;
    expect(ok).toMatchObject({ method: "POST", url: "/v1/@connections/ok-1", body: "{\"type\":\"turn\"}" });
    expect(ok.auth).toMatch(/^AWS4-HMAC-SHA256 Credential=fake\/\d{8}\/us-east-1\/execute-api\/aws4_request/);
    expect(seen.find((s) => s.body && s.url.includes("ok%2F2%3D"))).toBeDefined(); // ids are percent-encoded in the path
  });

  test("a malformed request is the caller's bug: a function error, nothing posted", async () => {
    const push = createPusher({ [PUSHER.settings.stageUrl.env]: url, AWS_REGION: "us-east-1" });
    const before = seen.length;
    await expect(push({ connectionIds: "c1", data: "x" })).rejects.toThrow(/push request/);
    await expect(push({ connectionIds: Array.from({ length: 101 }, (_, i) => `c${i}`), data: "x" })).rejects.toThrow(/up to 100/);
    expect(seen.length).toBe(before);
  });

  test("a stage URL that is not wss (or ws on the loopback) fails at cold start, naming the variable", () => {
    expect(() => createPusher({ [PUSHER.settings.stageUrl.env]: "http://example.com/v1" })).toThrow(/WEBSOCKET_STAGE_URL="http:\/\/example.com\/v1"/);
  });
});
