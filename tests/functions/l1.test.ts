/**
 * The in-process L1 in front of Redis: opt-in, bounded by entries and bytes, evicted at once by the
 * container's own writes, and stale after another container's write for at most its TTL. Real
 * redis-server and dynalite; two handlers stand for two Lambda containers.
 */
import { MemoryBacking } from "../../functions/lib/cache/memory";
import { createHandler } from "../../functions/products/handler";
import { getProduct, parseEmf, product } from "./events";
import { body, handlerEnv, PRODUCTS_TABLE, uid } from "./handler-env";

jest.setTimeout(30_000);

const env = handlerEnv({ service: "l1", table: PRODUCTS_TABLE });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Two containers of one function: same key prefix, each with its own L1. */
function containers(overrides: Record<string, string>) {
  const lambdaEnv = env.env(overrides);
  return [env.track(createHandler({ env: lambdaEnv })), env.track(createHandler({ env: lambdaEnv }))] as const;
}
const redisGets = (h: ReturnType<typeof containers>[number]) => {
  const s = h.runtime.store.stats();
  return s.hits + s.misses;
};

describe("the L1", () => {
  test("is off by default: every read asks Redis", async () => {
    const [h] = containers({});
    const id = uid("p");
    await h(product(id));
    await h(getProduct(id));
    const before = redisGets(h);
    const r = await h(getProduct(id));
    expect([r.headers["x-cache"], r.headers["x-cache-tier"]]).toEqual(["HIT", "cache"]);
    expect(redisGets(h)).toBe(before + 1);
  });

  test("with L1_TTL_MS, a repeated read is answered in-process: no Redis round trip, counted as L1Hit and CacheHit", async () => {
    const [h] = containers({ L1_TTL_MS: "5000" });
    const id = uid("p");
    await h(product(id));
    expect((await h(getProduct(id))).headers["x-cache-tier"]).toBe("table");
    const before = redisGets(h);
    env.emf.length = 0;
    const r = await h(getProduct(id));
    expect([r.headers["x-cache"], r.headers["x-cache-tier"]]).toEqual(["HIT", "l1"]);
    expect(redisGets(h)).toBe(before);
    const [line] = parseEmf(env.emf);
    expect([line.L1Hit, line.CacheHit]).toEqual([1, 1]);
  });

  test("the container's own write evicts its L1 at once: the next read is the new value", async () => {
    const [h] = containers({ L1_TTL_MS: "60000" });
    const id = uid("p");
    await h(product(id, { price: 1 }));
    await h(getProduct(id));
    expect((await h(getProduct(id))).headers["x-cache-tier"]).toBe("l1");
    await h(product(id, { price: 2 }));
    const r = await h(getProduct(id));
    expect(r.headers["x-cache-tier"]).not.toBe("l1");
    expect(body(r).price).toBe(2);
  });

  test("another container's write is served from this L1 for at most its TTL", async () => {
    const ttl = 600;
    const [a, b] = containers({ L1_TTL_MS: String(ttl) });
    const id = uid("p");
    await a(product(id, { price: 1 }));
    await a(getProduct(id));
    expect((await a(getProduct(id))).headers["x-cache-tier"]).toBe("l1");
    await b(product(id, { price: 2 })); // the other container writes and invalidates Redis
    const written = Date.now();
    let oldSeenAt = written;
    for (;;) {
      const r = await a(getProduct(id));
      if (body(r).price === 2) break;
      oldSeenAt = Date.now();
      expect(oldSeenAt - written).toBeLessThan(ttl + 50);
      await sleep(20);
    }
    expect(oldSeenAt - written).toBeGreaterThan(0); // the staleness is real, and bounded
  });

  test("is bounded by entries and bytes, least recently used out first", () => {
    const byCount = new MemoryBacking(2);
    const slot = (data: string) => ({ data, expiresAt: Infinity });
    byCount.write("a", slot("1"), 0);
    byCount.write("b", slot("2"), 0);
    byCount.read("a", 0); // a is now the most recently used
    byCount.write("c", slot("3"), 0);
    expect([...byCount.map.keys()]).toEqual(["a", "c"]);
    const byBytes = new MemoryBacking(100, 200);
    for (let i = 0; i < 10; i++) byBytes.write(`k${i}`, slot("x".repeat(30)), 0);
    expect(byBytes.size).toBeLessThanOrEqual(200);
    expect(byBytes.map.has("k9")).toBe(true);
    expect(byBytes.map.has("k0")).toBe(false);
    byBytes.write("huge", slot("x".repeat(500)), 0);
    expect(byBytes.map.has("huge")).toBe(false); // larger than the whole L1: never kept
  });
});
