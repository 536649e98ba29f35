/**
 * Cache-aside on a real memcached (the lease protocol end to end: stampede, no stale read under
 * concurrent writes), and the memcached client's own fail-fast behaviour without a breaker. The
 * contract suite (cache-contract.test.ts) covers the store operation by operation; the breaker
 * over a killed or stalled memcached is in breaker.test.ts.
 */
import * as net from "net";
import { BreakerCacheStore, MemcachedCacheStore } from "../../functions/lib/cache";
import { CacheAside, CacheAsideSettings } from "../../functions/lib/cache-aside";
import { RequestMetrics } from "../../functions/lib/metrics";
import { MemcachedServerHandle, startMemcached } from "../helpers/memcached-server";
import { freePort } from "../helpers/server-process";
import { expectPicksUpLateServer, sleep, timed } from "../helpers/timing";

jest.setTimeout(30_000);
process.env.LOG_LEVEL = "silent"; // fills that lose their lease are logged; they are the point here

let server: MemcachedServerHandle;
const opened: MemcachedCacheStore[] = [];
let seq = 0;

beforeAll(async () => {
  server = await startMemcached();
});

afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
  await server?.stop();
});

function memcached(port = server.port, commandTimeoutMs = 1_000, connectTimeoutMs = 1_000): MemcachedCacheStore {
  const s = new MemcachedCacheStore({ keyPrefix: `mc${process.pid}-${++seq}`, host: "127.0.0.1", port, commandTimeoutMs, connectTimeoutMs });
  opened.push(s);
  return s;
}

/** Cache-aside the way a handler builds it: the memcached store behind a breaker. */
function cacheAside(settings: Partial<CacheAsideSettings> = {}): CacheAside {
  const store = new BreakerCacheStore(memcached(), { failureThreshold: 3, windowMs: 10_000, cooldownMs: 2_000, commandTimeoutMs: 1_000 });
  return new CacheAside(store, { ttlSeconds: 60, jitterRatio: 0, negativeTtlSeconds: 5, leaseTtlMs: 3_000, leaseWaitMs: 3_000, ...settings });
}

const metrics = () => new RequestMetrics("test", "memcached");

/**
 * A table of versioned items whose reads are counted; `returnDelayMs` delays a read's return after
 * it has read the item, widening the gap between a reader's table read and its cache fill, where a
 * concurrent write + invalidation must win.
 */
function table(returnDelayMs = 0) {
  const items = new Map<string, { version: number }>();
  const reads = { count: 0 };
  return {
    items,
    reads,
    load: (id: string) => async () => {
      reads.count++;
      const item = items.get(id);
      const copy = item && { ...item };
      if (returnDelayMs > 0) await sleep(Math.random() * returnDelayMs);
      return copy;
    },
  };
}

describe("cache-aside on memcached", () => {
  test("stampede: 200 concurrent reads of one cold key cause exactly one table read", async () => {
    const cache = cacheAside();
    const t = table(20);
    t.items.set("hot", { version: 1 });
    const results = await Promise.all(Array.from({ length: 200 }, () => cache.read("hot", t.load("hot"), metrics())));
    expect(t.reads.count).toBe(1);
    expect(results.every((r) => r.value?.version === 1)).toBe(true);
    expect(results.filter((r) => r.status === "MISS")).toHaveLength(1);
    expect(results.filter((r) => r.status === "HIT")).toHaveLength(199);
  });

  test("no stale read: 1,200 concurrent operations, every read sees at least the last acknowledged write", async () => {
    const cache = cacheAside({ leaseWaitMs: 200 });
    const t = table(8);
    t.items.set("race", { version: 0 });
    let acked = 0;
    const violations: string[] = [];
    const statuses = { HIT: 0, MISS: 0, BYPASS: 0 };
    const writer = async () => {
      for (let v = 1; v <= 200; v++) {
        t.items.set("race", { version: v });
        expect(await cache.invalidate("race", metrics())).toBe(true);
        acked = v;
        // Readers must get to fill between writes, or the race this test is about never happens.
        await sleep(1);
      }
    };
    const reader = async () => {
      for (let i = 0; i < 100; i++) {
        const floor = acked;
        const r = await cache.read("race", t.load("race"), metrics());
        statuses[r.status]++;
        const seen = r.value!.version;
        if (seen < floor) violations.push(`read ${seen} after write ${floor} was acknowledged (${r.status})`);
      }
    };
    await Promise.all([writer(), ...Array.from({ length: 10 }, reader)]);
    expect(violations).toEqual([]);
    // Both paths were exercised: some reads were served from the cache, some filled it.
    expect(statuses.HIT).toBeGreaterThan(0);
    expect(statuses.MISS).toBeGreaterThan(0);
    expect(statuses.BYPASS).toBe(0);
    expect((await cache.read("race", t.load("race"), metrics())).value?.version).toBe(200);
    console.info(`memcached no-stale-read run: ${JSON.stringify(statuses)}, ${t.reads.count} table reads`);
  });
});

describe("MemcachedCacheStore fails fast on its own (no breaker)", () => {
  const timedGet = (store: MemcachedCacheStore) => timed(() => store.get("k"));

  test("nothing listening at cold start: calls fail at once, and the client connects once memcached is up", async () => {
    const port = await freePort();
    const store = memcached(port, 100);
    const first = await timedGet(store);
    expect(first.err).toBeInstanceOf(Error);
    expect(first.ms).toBeLessThan(200);
    // while the client reconnects in the background, calls fail at once: nothing queues
    const again = await Promise.all(Array.from({ length: 20 }, () => timedGet(store)));
    for (const r of again) {
      expect(r.err).toBeInstanceOf(Error);
      expect(r.ms).toBeLessThan(50);
    }
    // WHEN memcached appears on that port THEN the background reconnect picks it up
    await expectPicksUpLateServer(store, () => startMemcached({ port }));
  });

  test("killed while in use: pending and later calls fail fast; after a restart it reconnects without being asked", async () => {
    const own = await startMemcached();
    const store = memcached(own.port, 1_000);
    try {
      await store.set("k", "v", 60);
      const inFlight = Array.from({ length: 50 }, () => timedGet(store));
      await own.kill();
      const during = [...(await Promise.all(inFlight)), ...(await Promise.all(Array.from({ length: 20 }, () => timedGet(store))))];
      // Some of the 50 may have been answered before the kill; none may wait for the 1 s timeout.
      for (const r of during) expect(r.ms).toBeLessThan(200);
      expect(during.filter((r) => r.err).length).toBeGreaterThanOrEqual(20);
      await own.restart();
      // No request in between: only the background reconnect can make the next call succeed at once.
      await sleep(1_500);
      const after = await timedGet(store);
      expect(after.err).toBeUndefined();
      expect(after.ms).toBeLessThan(50);
    } finally {
      await store.close();
      await own.stop();
    }
  });

  test("a TLS handshake that never completes is released by the connect deadline", async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", () => r()));
    const port = (silent.address() as net.AddressInfo).port;
    const store = new MemcachedCacheStore({ keyPrefix: "tls", host: "127.0.0.1", port, tls: true, commandTimeoutMs: 100, connectTimeoutMs: 300 });
    try {
      const r = await timedGet(store);
      expect(r.err).toBeInstanceOf(Error);
      expect((r.err as Error).message).toMatch(/longer than 300 ms/);
      expect(r.ms).toBeGreaterThanOrEqual(290);
      expect(r.ms).toBeLessThan(500);
    } finally {
      await store.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });
});
