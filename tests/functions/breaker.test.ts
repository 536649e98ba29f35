/**
 * The circuit breaker: its state machine on a fake clock, then BreakerCacheStore over a real
 * RedisCacheStore and a real MemcachedCacheStore through a real outage (SIGKILL), recovery
 * (restart) and a stalled server.
 */
import Redis from "ioredis";
import * as net from "net";
import { BreakerCacheStore, BreakerStateChange, CacheUnavailableError, CircuitBreaker, MemcachedCacheStore, MemoryCacheStore, RedisCacheStore } from "../../functions/lib/cache";
import type { CacheStore } from "../../functions/lib/cache";
import { startMemcached } from "../helpers/memcached-server";
import { freePort, startRedis } from "../helpers/redis-server";
import type { ServerProcessHandle } from "../helpers/server-process";
import { eventually, expectPicksUpLateServer, sleep, timed as timedCall } from "../helpers/timing";

jest.setTimeout(20_000);


function fakeBreaker(overrides: Partial<{ failureThreshold: number; windowMs: number; cooldownMs: number }> = {}) {
  const clock = { t: 1_000_000 };
  const changes: BreakerStateChange[] = [];
  const breaker = new CircuitBreaker({
    failureThreshold: 3,
    windowMs: 1_000,
    cooldownMs: 500,
    ...overrides,
    now: () => clock.t,
    onStateChange: (c) => changes.push(c),
  });
  return { breaker, clock, changes, path: () => changes.map((c) => `${c.from}->${c.to}`) };
}

describe("CircuitBreaker state machine", () => {
  test("stays closed below the threshold; failures outside the window do not count", () => {
    const { breaker, clock } = fakeBreaker();
    breaker.onFailure(); // t=0
    clock.t += 600;
    breaker.onFailure(); // t=600
    clock.t += 600;
    breaker.onFailure(); // t=1200: the first has left the window
    expect(breaker.state).toBe("closed");
    expect(breaker.failureCount).toBe(2);
    clock.t += 100;
    breaker.onFailure(); // 600, 1200, 1300 → three within 1 s
    expect(breaker.state).toBe("open");
  });

  test("opens at the threshold and refuses without calling the function", async () => {
    const { breaker, path } = fakeBreaker();
    for (let i = 0; i < 3; i++) breaker.onFailure();
    expect(breaker.state).toBe("open");
    const fn = jest.fn(async () => "x");
    const err = await breaker.run(fn).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CacheUnavailableError);
    expect((err as CacheUnavailableError).reason).toBe("open");
    expect(fn).not.toHaveBeenCalled();
    expect(path()).toEqual(["closed->open"]);
  });

  test("after the cooldown one probe goes through; its success closes the circuit", async () => {
    const { breaker, clock, path } = fakeBreaker();
    for (let i = 0; i < 3; i++) breaker.onFailure();
    clock.t += 499;
    expect(breaker.state).toBe("open");
    clock.t += 1;
    expect(breaker.state).toBe("half-open");
    // GIVEN a probe in flight THEN other callers are refused meanwhile
    let finish!: (v: string) => void;
    const probe = breaker.run(() => new Promise<string>((r) => (finish = r)));
    expect(breaker.tryAcquire()).toBe(false);
    await expect(breaker.run(async () => "other")).rejects.toBeInstanceOf(CacheUnavailableError);
    finish("ok");
    await expect(probe).resolves.toBe("ok");
    expect(breaker.state).toBe("closed");
    expect(breaker.failureCount).toBe(0);
    expect(path()).toEqual(["closed->open", "open->half-open", "half-open->closed"]);
  });

  test("a failed probe re-opens the circuit for another full cooldown", async () => {
    const { breaker, clock, path } = fakeBreaker();
    for (let i = 0; i < 3; i++) breaker.onFailure();
    clock.t += 500;
    await expect(breaker.run(async () => Promise.reject(new Error("still down")))).rejects.toThrow("still down");
    expect(breaker.state).toBe("open");
    clock.t += 499;
    expect(breaker.tryAcquire()).toBe(false);
    clock.t += 1;
    expect(breaker.tryAcquire()).toBe(true);
    expect(path()).toEqual(["closed->open", "open->half-open", "half-open->open", "open->half-open"]);
  });

  test("successes while closed do not erase recent failures; a throwing listener is ignored", () => {
    const { breaker } = fakeBreaker({ failureThreshold: 2 });
    breaker.onStateChange(() => {
      throw new Error("broken metrics");
    });
    breaker.onFailure();
    breaker.onSuccess();
    breaker.onFailure();
    expect(breaker.state).toBe("open");
  });

  test("rejects a threshold below 1", () => {
    expect(() => new CircuitBreaker({ failureThreshold: 0, windowMs: 1, cooldownMs: 1 })).toThrow(/failureThreshold 0/);
  });
});

describe("BreakerCacheStore deadline (stub store)", () => {
  test("a call slower than commandTimeoutMs fails at the deadline and counts as a failure", async () => {
    const slow = new MemoryCacheStore({ keyPrefix: "slow" });
    slow.get = () => new Promise((r) => setTimeout(() => r("late"), 300));
    const store = new BreakerCacheStore(slow, { failureThreshold: 5, windowMs: 10_000, cooldownMs: 1_000, commandTimeoutMs: 50 });
    const started = Date.now();
    const err = await store.get("k").catch((e: unknown) => e);
    const elapsed = Date.now() - started;
    expect(err).toBeInstanceOf(CacheUnavailableError);
    expect((err as CacheUnavailableError).reason).toBe("timeout");
    expect(elapsed).toBeGreaterThanOrEqual(45);
    expect(elapsed).toBeLessThan(50 + 40);
    expect(store.breaker.failureCount).toBe(1);
    expect(store.stats().errors).toBe(1);
  });

  test("backend errors surface as CacheUnavailableError with the cause", async () => {
    const broken = new MemoryCacheStore({ keyPrefix: "broken" });
    const boom = new Error("boom");
    broken.set = () => Promise.reject(boom);
    const store = new BreakerCacheStore(broken, { failureThreshold: 5, windowMs: 10_000, cooldownMs: 1_000, commandTimeoutMs: 50 });
    const err = (await store.set("k", "v", 10).catch((e: unknown) => e)) as CacheUnavailableError;
    expect(err).toBeInstanceOf(CacheUnavailableError);
    expect(err.reason).toBe("error");
    expect(err.cause).toBe(boom);
    expect(err.message).toContain("boom");
  });
});

interface RealBackend {
  start(): Promise<ServerProcessHandle>;
  store(port: number, commandTimeoutMs: number): CacheStore;
  /** Makes the server stop answering for `ms` (its connections stay open); resolves when it answers again. */
  stall(server: ServerProcessHandle, ms: number): Promise<{ resume(): Promise<void> }>;
}

const realBackends: Record<"Redis" | "memcached", RealBackend> = {
  Redis: {
    start: () => startRedis(),
    store: (port, commandTimeoutMs) => new RedisCacheStore({ keyPrefix: "brk", settings: { host: "127.0.0.1", port, tls: false, clusterMode: false }, commandTimeoutMs }),
    stall: async (server, ms) => {
      const admin = new Redis({ host: "127.0.0.1", port: server.port });
      await admin.call("CLIENT", "PAUSE", String(ms), "ALL");
      return {
        resume: async () => {
          await admin.call("CLIENT", "UNPAUSE").catch(() => undefined);
          admin.disconnect();
        },
      };
    },
  },
  memcached: {
    start: () => startMemcached(),
    store: (port, commandTimeoutMs) => new MemcachedCacheStore({ keyPrefix: "brk", host: "127.0.0.1", port, commandTimeoutMs }),
    // memcached has no CLIENT PAUSE: the process itself is stopped.
    stall: async (server) => {
      server.pause();
      return { resume: async () => server.resume() };
    },
  },
};

describe.each(["Redis", "memcached"] as const)("BreakerCacheStore over a real %s", (backendName) => {
  const backend = realBackends[backendName];
  const COMMAND_TIMEOUT = 100;
  const COOLDOWN = 300;
  let server: ServerProcessHandle;
  let inner: CacheStore;
  let store: BreakerCacheStore;
  const changes: string[] = [];

  beforeAll(async () => {
    server = await backend.start();
    inner = backend.store(server.port, COMMAND_TIMEOUT);
    store = new BreakerCacheStore(inner, {
      failureThreshold: 3,
      windowMs: 10_000,
      cooldownMs: COOLDOWN,
      commandTimeoutMs: COMMAND_TIMEOUT,
      onStateChange: (c) => changes.push(`${c.from}->${c.to}`),
    });
  });

  afterAll(async () => {
    await store?.close();
    await server?.stop();
  });

  /** Time one call on the store; returns its error (or undefined) and how long it took. */
  const timed = (call: (s: CacheStore) => Promise<unknown>) => timedCall(() => call(store));

  test("outage: fails, opens, refuses fast, probes, recovers after restart", async () => {
    // GIVEN a healthy cache
    await store.set("k", "before", 60);
    await expect(store.get("k")).resolves.toBe("before");
    expect(store.breaker.state).toBe("closed");

    // WHEN the server dies THEN calls fail (each within the deadline) until the circuit opens
    await server.kill();
    const failures: Array<{ err?: unknown; ms: number }> = [];
    while (store.breaker.state === "closed" && failures.length < 10) failures.push(await timed((s) => s.get("k")));
    expect(failures).toHaveLength(3);
    for (const f of failures) {
      expect(f.err).toBeInstanceOf(CacheUnavailableError);
      expect(f.ms).toBeLessThan(COMMAND_TIMEOUT + 50);
    }
    expect(store.breaker.state).toBe("open");

    // AND while open every call is refused at once, without touching the server
    const innerErrors = inner.stats().errors;
    const refused = [];
    for (let i = 0; i < 20; i++) refused.push(await timed((s) => (i % 2 ? s.get("k") : s.set("k", "v", 60))));
    for (const r of refused) {
      expect((r.err as CacheUnavailableError).reason).toBe("open");
      expect(r.ms).toBeLessThan(20);
    }
    expect(inner.stats().errors).toBe(innerErrors);
    await expect(store.ping()).resolves.toBe(false);
    console.info(
      `${backendName} breaker timings: failing calls ${failures.map((f) => f.ms.toFixed(1)).join(", ")} ms; ` +
        `refused calls max ${Math.max(...refused.map((r) => r.ms)).toFixed(2)} ms`,
    );

    // WHEN the cooldown passes with the server still down THEN the single probe fails and re-opens
    await sleep(COOLDOWN + 20);
    expect(store.breaker.state).toBe("half-open");
    const probe = await timed((s) => s.get("k"));
    expect(probe.err).toBeInstanceOf(CacheUnavailableError);
    expect((probe.err as CacheUnavailableError).reason).not.toBe("open");
    expect(store.breaker.state).toBe("open");

    // WHEN the server comes back THEN a probe after the cooldown succeeds (once the client has
    // reconnected in the background) and closes the circuit
    await server.restart();
    const restartedAt = Date.now();
    let closed = false;
    while (!closed && Date.now() - restartedAt < 5_000) {
      await sleep(COOLDOWN + 10);
      const p = await timed((s) => s.set("k", "after", 60));
      closed = p.err === undefined;
    }
    expect(closed).toBe(true);
    expect(store.breaker.state).toBe("closed");
    await expect(store.get("k")).resolves.toBe("after");
    console.info(`${backendName}: breaker recovered ${Date.now() - restartedAt} ms after restart`);
    expect(changes.slice(0, 4)).toEqual(["closed->open", "open->half-open", "half-open->open", "open->half-open"]);
    expect(changes[changes.length - 1]).toBe("half-open->closed");
  });

  test("a stalled server times out at ~commandTimeoutMs and counts as a failure", async () => {
    expect(store.breaker.state).toBe("closed");
    await store.set("p", "v", 60);
    const before = store.breaker.failureCount;
    const stalled = await backend.stall(server, 500);
    try {
      const r = await timed((s) => s.get("p"));
      expect(r.err).toBeInstanceOf(CacheUnavailableError);
      expect(r.ms).toBeGreaterThanOrEqual(COMMAND_TIMEOUT - 5);
      // Well before the stall ends (500 ms): the deadline released it, with room for a loaded CI machine's timers.
      expect(r.ms).toBeLessThan(COMMAND_TIMEOUT + 200);
      expect(store.breaker.failureCount).toBe(before + 1);
      console.info(`${backendName}: stalled call released after ${r.ms.toFixed(1)} ms (commandTimeoutMs ${COMMAND_TIMEOUT})`);
    } finally {
      await stalled.resume();
    }
    // The memcached client dropped the stalled connection (a late reply could not be matched):
    // it is back once its background reconnect has run.
    await eventually(async () => {
      if (!(await inner.ping())) throw new Error("not yet");
    }, 2_000, 50);
    await expect(store.get("p")).resolves.toBe("v");
  });
});

describe("RedisCacheStore fails fast on its own (no breaker)", () => {
  const elapsedOf = (store: RedisCacheStore) => timedCall(() => store.get("k"));

  test.each([false, true])("nothing listening at cold start (cluster mode %s): calls fail at once, and the client connects once Redis is up", async (clusterMode) => {
    const port = await freePort();
    const store = new RedisCacheStore({ keyPrefix: "ff", settings: { host: "127.0.0.1", port, tls: false, clusterMode }, commandTimeoutMs: 100 });
    try {
      const r = await elapsedOf(store);
      expect(r.err).toBeInstanceOf(Error);
      expect(r.ms).toBeLessThan(200);
      // later calls, while the client reconnects in the background, fail at once as well; in
      // cluster mode ioredis forces an offline queue on node connections, so a call may wait for
      // the pending node connect, but never past commandTimeoutMs
      const again = await elapsedOf(store);
      expect(again.err).toBeInstanceOf(Error);
      expect(again.ms).toBeLessThan(clusterMode ? 100 + 50 : 50);
      // WHEN Redis appears on that port THEN the background reconnect picks it up
      await expectPicksUpLateServer(store, () => startRedis({ port, cluster: clusterMode }));
    } finally {
      await store.close();
    }
  });

  test.each([false, true])("a server that accepts but never answers (cluster mode %s): released by the connect deadline", async (clusterMode) => {
    const sockets: net.Socket[] = [];
    const blackHole = net.createServer((s) => sockets.push(s));
    await new Promise<void>((r) => blackHole.listen(0, "127.0.0.1", () => r()));
    const port = (blackHole.address() as net.AddressInfo).port;
    const store = new RedisCacheStore({
      keyPrefix: "ff",
      settings: { host: "127.0.0.1", port, tls: false, clusterMode },
      commandTimeoutMs: 100,
      connectTimeoutMs: 300,
    });
    try {
      const r = await elapsedOf(store);
      expect(r.err).toBeInstanceOf(Error);
      expect(r.ms).toBeLessThan(300 + 100);
    } finally {
      await store.close();
      sockets.forEach((s) => s.destroy());
      await new Promise((r) => blackHole.close(r));
    }
  });
});
