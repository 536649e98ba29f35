/**
 * Two services share one cache: each function's ElastiCache user, as the constructs synthesize it
 * (the `access_string` read back from the Terraform JSON), is created on a real redis-server with
 * `ACL SETUSER`. Service A works on its own keys and gets NOPERM on service B's, whose entries
 * survive; commands the runtime never sends are refused too.
 */
import Redis from "ioredis";
import { CacheStore, RedisCacheStore } from "../../functions/lib/cache";
import { buildRedisClient, ensureConnected, RedisClient } from "../../functions/lib/cache/redis";
import { CacheAsideFunction } from "../../modules/function";
import { Network } from "../../modules/network";
import { RedisCache } from "../../modules/redis";
import { PRODUCTS, SESSIONS } from "../../modules";
import { RedisServerHandle, startRedis } from "../helpers/redis-server";
import { resourcesOf, synthJson } from "../helpers/synth";

jest.setTimeout(30_000);

/** GIVEN the product catalog and the session store wired to one cache WHEN synthesized THEN each function's user. */
function synthesizedUsers(): Record<string, { userName: string; accessString: string }> {
  const json = synthJson((stack) => {
    const network = new Network(stack, "network", { availabilityZones: ["us-east-1a", "us-east-1b"] });
    const cache = new RedisCache(stack, "cache", { network });
    new CacheAsideFunction(stack, "catalog", { network, contract: PRODUCTS, settings: { serviceName: "catalog" } }).useCache(cache);
    new CacheAsideFunction(stack, "sessions", { network, contract: SESSIONS, settings: { serviceName: "sessions" } }).useCache(cache);
  });
  const fns = resourcesOf(json, "aws_lambda_function").map(([, f]) => f.environment.variables as Record<string, string>);
  const users = resourcesOf(json, "aws_elasticache_user").map(([, u]) => u);
  return Object.fromEntries(fns.map((env) => {
    const user = users.find((u) => u.user_id === env.REDIS_USER)!;
    return [env.SERVICE_NAME, { userName: user.user_name as string, accessString: user.access_string as string }];
  }));
}

const users = synthesizedUsers();
const PASSWORD = "local-stand-in-for-iam-0123456789";
let server: RedisServerHandle;
let admin: Redis;
const clients: RedisClient[] = [];
const stores: CacheStore[] = [];

/** A store of `prefix`, logged in as `service`'s user. */
function storeAs(service: string, prefix: string): { store: RedisCacheStore; client: RedisClient } {
  const client = buildRedisClient({ host: "127.0.0.1", port: server.port, tls: false, clusterMode: false },
    { auth: { username: users[service].userName, password: PASSWORD }, commandTimeoutMs: 2_000 });
  clients.push(client);
  const store = new RedisCacheStore({ keyPrefix: prefix, client });
  stores.push(store);
  return { store, client };
}

beforeAll(async () => {
  server = await startRedis();
  admin = new Redis({ port: server.port, host: "127.0.0.1" });
  for (const { userName, accessString } of Object.values(users)) {
    await admin.call("ACL", "SETUSER", userName, "reset", `>${PASSWORD}`, ...accessString.split(" "));
  }
});

afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  clients.forEach((c) => c.disconnect());
  admin?.disconnect();
  await server?.stop();
});

test("the synthesized users are two, each limited to its own service's keys", () => {
  expect(Object.keys(users).sort()).toEqual(["catalog", "sessions"]);
  expect(users.catalog.accessString).toMatch(/^on ~catalog:\{\* -@all /);
  expect(users.sessions.accessString).toMatch(/^on ~sessions:\{\* -@all /);
});

test("service A works on its own keys: values, leases, windows", async () => {
  const { store } = storeAs("sessions", "sessions");
  await store.set("s1", "ctx", 60);
  await expect(store.get("s1")).resolves.toBe("ctx");
  await expect(store.acquireLease("s2", "t", 1_000)).resolves.toBe(true);
  await expect(store.setIfLeaseHeld("s2", "v", 60, "t")).resolves.toBe(true);
  await expect(store.hitWindow("c1", 2, 10_000, Date.now())).resolves.toMatchObject({ allowed: true });
  await store.invalidate("s1");
  await expect(store.get("s1")).resolves.toBeUndefined();
});

test("service A gets NOPERM on service B's keys (read, write, delete, invalidate, scripts), and B's entries survive", async () => {
  // GIVEN an entry of the catalog, written by the catalog's own user
  const { store: catalog } = storeAs("catalog", "catalog");
  await catalog.set("p1", "price", 60);
  // WHEN the session store's user addresses the catalog's keys
  const { store: intruder, client } = storeAs("sessions", "catalog");
  for (const attempt of [
    () => intruder.get("p1"),
    () => intruder.set("p1", "x", 60),
    () => intruder.delete("p1"),
    () => intruder.invalidate("p1"),
    () => intruder.acquireLease("p1", "t", 1_000),
    () => intruder.setIfLeaseHeld("p1", "x", 60, "t"),
  ]) {
    // THEN each is refused by the server
    await expect(attempt()).rejects.toThrow(/NOPERM/);
  }
  await expect(client.call("GET", "catalog:{p1}")).rejects.toThrow(/NOPERM.*key/);
  // AND the catalog's value is untouched
  await expect(catalog.get("p1")).resolves.toBe("price");
});

test("a prefix that extends another service's is not inside it (`~catalog:{*`, not `~catalog:*`)", async () => {
  const { client } = storeAs("catalog", "catalog");
  await ensureConnected(client);
  await admin.set("catalog:sub:{k}", "other");
  await expect(client.call("GET", "catalog:sub:{k}")).rejects.toThrow(/NOPERM/);
});

test("commands the runtime never sends are refused: no KEYS, SCAN, FLUSHALL, CONFIG, ACL, Pub/Sub", async () => {
  const { client } = storeAs("catalog", "catalog");
  await ensureConnected(client);
  await client.ping();
  for (const args of [["KEYS", "*"], ["SCAN", "0"], ["FLUSHALL"], ["CONFIG", "GET", "*"], ["ACL", "LIST"], ["PUBLISH", "c", "m"], ["CLUSTER", "RESET"]]) {
    await expect(client.call(args[0], ...args.slice(1))).rejects.toThrow(/NOPERM/);
  }
});
