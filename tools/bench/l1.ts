/**
 * Scenario 9 — the in-process L1 (real redis-server and dynalite, the products handler as Lambda
 * builds it):
 * - latency: a cache-aside read served by the L1 against a raw ioredis GET of the same entry
 *   (alternating blocks, one request at a time), with the same read served by Redis and the
 *   handler's L1 hit beside them;
 * - Redis GETs per Zipf(1.0) read workload, without and with a 1 s L1, counted by redis-server
 *   itself (`INFO commandstats`), both arms on the same warm cache;
 * - staleness: one container writes a product (its own L1 evicts at once) while another reads it
 *   in a loop through its L1; for every write, how long after its acknowledgement the reader still
 *   served an older version.
 */
import Redis from "ioredis";
import { BreakerCacheStore } from "../../functions/lib/cache/breaker";
import { keyLayout } from "../../functions/lib/cache/keys";
import { RedisCacheStore } from "../../functions/lib/cache/redis";
import { CacheAside } from "../../functions/lib/cache-aside";
import { environmentOf, RUNTIME_SETTINGS } from "../../functions/lib/contract";
import { RequestMetrics } from "../../functions/lib/metrics";
import { productCacheKey } from "../../functions/products/contract";
import type { BenchContext } from "./context";
import { pick } from "./context";
import { sleep } from "./procs";
import { BenchHandler, getEvent, productsHandler, putEvent, sampleProduct, seedProducts } from "./runtime-env";
import { cdfPoints, ratio, round, roundSummary, Summary, summarize } from "./stats";
import { mulberry32, ttlCacheHitRatio, Zipf } from "./zipf";

/** The L1 TTL the acceptance names. */
export const L1_TTL = 1_000;

export interface L1Result {
  readonly ttlMs: number;
  readonly latency: {
    readonly samplesEach: number;
    readonly valueBytes: number;
    /** CacheAside.read answered by the L1. */
    readonly l1Us: Summary;
    /** Raw ioredis GET of the same entry. */
    readonly rawGetUs: Summary;
    /** The same CacheAside.read without an L1 (answered by Redis). */
    readonly redisTierUs: Summary;
    /** The products handler, L1 hit (routing, response, metrics line included). */
    readonly handlerL1Us: Summary;
    readonly p50Ratio: number;
    readonly l1Cdf: Array<[number, number]>;
    readonly rawCdf: Array<[number, number]>;
  };
  readonly redisGets: {
    readonly ids: number;
    readonly zipfS: number;
    readonly reads: number;
    readonly concurrency: number;
    readonly withoutL1: ArmFigures;
    readonly withL1: ArmFigures;
    /** 1 − with ÷ without. */
    readonly reduction: number;
    /** A TTL cache's hit ratio at the L1 arm's request rate (model, not measured). */
    readonly modelledL1HitRatio: number;
  };
  readonly staleness: {
    readonly writes: number;
    readonly readerReads: number;
    /** Reads that served an older version after a write was acknowledged. */
    readonly staleReads: number;
    /** Per write: acknowledgement → end of the last read that served an older version (0 when none did). */
    readonly ageMs: Summary;
    readonly worstMs: number;
    /** Reads by the writing container right after its own write that served an older version. */
    readonly ownWriteStaleReads: number;
  };
}

export interface ArmFigures {
  readonly redisGets: number;
  readonly getsPer100k: number;
  readonly l1Hits: number;
  readonly seconds: number;
  readonly readsPerSecond: number;
}

const l1Env = (ttlMs: number) => environmentOf(RUNTIME_SETTINGS, { l1TtlMs: ttlMs });

/** GET commands redis-server has executed so far (all clients). */
async function redisGets(admin: Redis): Promise<number> {
  const info = await admin.info("commandstats");
  return Number(/cmdstat_get:calls=(\d+)/.exec(info)?.[1] ?? 0);
}

async function latency(ctx: BenchContext, redisPort: number, endpoint: string): Promise<L1Result["latency"]> {
  const keyPrefix = `bench-l1-lat-${process.pid}`;
  const h = productsHandler({ redisPort, dynamoEndpoint: endpoint, keyPrefix, env: l1Env(60_000) });
  const raw = new Redis({ host: "127.0.0.1", port: redisPort });
  const settings = { host: "127.0.0.1", port: redisPort, tls: false, clusterMode: false };
  const store = new BreakerCacheStore(new RedisCacheStore({ keyPrefix, settings, commandTimeoutMs: h.config.breaker.commandTimeoutMs }), h.config.breaker);
  const asideSettings = {
    ttlSeconds: h.config.ttlSeconds, jitterRatio: h.config.ttlJitterRatio, negativeTtlSeconds: h.config.negativeTtlSeconds,
    leaseTtlMs: h.config.leaseTtlMs, leaseWaitMs: h.config.leaseWaitMs,
  };
  // Long TTLs: the measured entry must stay in the L1 for the whole run.
  const withL1 = new CacheAside(store, asideSettings, { ttlMs: 600_000, maxEntries: 10_000, maxBytes: 16 * 1024 * 1024 });
  const withoutL1 = new CacheAside(store, asideSettings);
  const metrics = () => new RequestMetrics(h.config.metricsNamespace, h.config.serviceName);
  try {
    const id = "l1-hot-1";
    const put = await h.invoke(putEvent(id, sampleProduct(1)));
    if (put.statusCode >= 300) throw new Error(`seeding ${id}: ${put.statusCode} ${put.body}`);
    await h.invoke(getEvent(id)); // fills Redis and the handler's L1
    const tier = (await h.invoke(getEvent(id))).headers?.["x-cache-tier"];
    if (tier !== "l1") throw new Error(`the handler's second read came from ${String(tier)}, not its L1`);
    const cacheKey = productCacheKey(id);
    const key = keyLayout(keyPrefix).value(cacheKey);
    const value = await raw.get(key);
    if (!value) throw new Error(`raw GET ${key}: no value`);
    const noLoad = async (): Promise<undefined> => {
      throw new Error("the benchmark's key must be a hit");
    };
    await withL1.read(cacheKey, noLoad, metrics()); // Redis hit → kept in its L1
    const event = getEvent(id);
    const variants: Array<{ name: string; samples: number[]; run: () => Promise<unknown> }> = [
      { name: "l1", samples: [], run: async () => {
        const r = await withL1.read(cacheKey, noLoad, metrics());
        if (r.tier !== "l1") throw new Error(`L1 read answered by ${r.tier}`);
      } },
      { name: "raw", samples: [], run: async () => {
        if ((await raw.get(key)) === null) throw new Error("raw GET missed");
      } },
      { name: "redisTier", samples: [], run: async () => {
        const r = await withoutL1.read(cacheKey, noLoad, metrics());
        if (r.tier !== "cache") throw new Error(`Redis read answered by ${r.tier}`);
      } },
      { name: "handlerL1", samples: [], run: async () => {
        const r = await h.invoke(event);
        if (r.headers?.["x-cache-tier"] !== "l1") throw new Error(`handler read answered by ${String(r.headers?.["x-cache-tier"])}`);
      } },
    ];
    const samplesEach = pick(ctx, 20_000, 2_000);
    const blockSize = 250;
    const block = async (v: (typeof variants)[number], keep: boolean) => {
      for (let i = 0; i < blockSize; i++) {
        const t = process.hrtime.bigint();
        await v.run();
        if (keep) v.samples.push(Number(process.hrtime.bigint() - t) / 1e3);
      }
    };
    for (let done = 0; done < pick(ctx, 3_000, 500); done += blockSize) for (const v of variants) await block(v, false);
    for (let done = 0, r = 0; done < samplesEach; done += blockSize, r++) {
      for (const v of r % 2 === 0 ? variants : [...variants].reverse()) await block(v, true);
    }
    const [l1, rawS, redisTier, handlerL1] = variants.map((v) => summarize(v.samples));
    ctx.progress(`latency: L1 hit p50 ${round(l1.p50, 1)} µs, raw GET p50 ${round(rawS.p50, 1)} µs (${samplesEach} samples each)`);
    return {
      samplesEach,
      valueBytes: Buffer.byteLength(value),
      l1Us: roundSummary(l1, 1),
      rawGetUs: roundSummary(rawS, 1),
      redisTierUs: roundSummary(redisTier, 1),
      handlerL1Us: roundSummary(handlerL1, 1),
      p50Ratio: ratio(l1.p50, rawS.p50),
      l1Cdf: cdfPoints(variants[0].samples),
      rawCdf: cdfPoints(variants[1].samples),
    };
  } finally {
    raw.disconnect();
    await store.close().catch(() => undefined);
    await h.close();
  }
}

/** `reads` Zipf reads through `h`, `concurrency` at a time; Redis GETs counted by the server. */
async function arm(h: BenchHandler, admin: Redis, ids: string[], concurrency: number): Promise<ArmFigures> {
  const before = await redisGets(admin);
  let next = 0;
  let l1Hits = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < ids.length) {
      const r = await h.invoke(getEvent(ids[next++]));
      if (r.statusCode !== 200) throw new Error(`GET: ${r.statusCode} ${r.body}`);
      if (r.headers?.["x-cache-tier"] === "l1") l1Hits++;
    }
  }));
  const seconds = (performance.now() - t0) / 1000;
  const gets = (await redisGets(admin)) - before;
  return { redisGets: gets, getsPer100k: Math.round((gets / ids.length) * 100_000), l1Hits, seconds: round(seconds, 2), readsPerSecond: Math.round(ids.length / seconds) };
}

async function getsPerWorkload(ctx: BenchContext, redisPort: number, endpoint: string, admin: Redis): Promise<L1Result["redisGets"]> {
  const nIds = 10_000;
  const zipfS = 1.0;
  const reads = pick(ctx, 100_000, 10_000);
  const concurrency = 8;
  const zipf = new Zipf(nIds, zipfS);
  await seedProducts(endpoint, nIds);
  const keyPrefix = `bench-l1-gets-${process.pid}`;
  const fill = productsHandler({ redisPort, dynamoEndpoint: endpoint, keyPrefix });
  const plain = productsHandler({ redisPort, dynamoEndpoint: endpoint, keyPrefix });
  const l1 = productsHandler({ redisPort, dynamoEndpoint: endpoint, keyPrefix, env: l1Env(L1_TTL) });
  try {
    // Both arms read a cache that already holds every id: the difference is the L1 alone.
    await arm(fill, admin, Array.from({ length: nIds }, (_, i) => `p${i + 1}`), concurrency);
    ctx.progress(`Redis GETs: the cache holds all ${nIds} ids`);
    const rnd = mulberry32(9);
    const workload = Array.from({ length: reads }, () => `p${zipf.sample(rnd)}`);
    const withoutL1 = await arm(plain, admin, workload, concurrency);
    ctx.progress(`Redis GETs: without L1 ${withoutL1.redisGets} for ${reads} reads (${withoutL1.readsPerSecond} reads/s)`);
    const withL1 = await arm(l1, admin, workload, concurrency);
    ctx.progress(`Redis GETs: with a ${L1_TTL} ms L1 ${withL1.redisGets} for ${reads} reads (${withL1.l1Hits} L1 hits, ${withL1.readsPerSecond} reads/s)`);
    return {
      ids: nIds, zipfS, reads, concurrency, withoutL1, withL1,
      reduction: round(1 - withL1.redisGets / withoutL1.redisGets, 4),
      modelledL1HitRatio: round(ttlCacheHitRatio(zipf, withL1.readsPerSecond, L1_TTL / 1000), 4),
    };
  } finally {
    await Promise.all([fill.close(), plain.close(), l1.close()]);
  }
}

async function staleness(ctx: BenchContext, redisPort: number, endpoint: string): Promise<L1Result["staleness"]> {
  const keyPrefix = `bench-l1-stale-${process.pid}`;
  const writer = productsHandler({ redisPort, dynamoEndpoint: endpoint, keyPrefix, env: l1Env(L1_TTL) });
  const reader = productsHandler({ redisPort, dynamoEndpoint: endpoint, keyPrefix, env: l1Env(L1_TTL) });
  const writes = pick(ctx, 30, 6);
  const id = "l1-stale-1";
  const version = (r: { body: string }) => Number((JSON.parse(r.body) as { price: number }).price);
  const put = async (v: number) => {
    const r = await writer.invoke(putEvent(id, { ...sampleProduct(1), price: v }));
    if (r.statusCode >= 300) throw new Error(`PUT: ${r.statusCode} ${r.body}`);
  };
  try {
    await put(0);
    // Per write v: its acknowledgement, and the end of the last read begun after it that still
    // served an older version (kept as the reads come: the reader makes hundreds of thousands).
    const acks: number[] = [0];
    const worst: number[] = [0];
    let readerReads = 0;
    let staleReads = 0;
    let stop = false;
    const loop = (async () => {
      while (!stop) {
        const start = performance.now();
        const r = await reader.invoke(getEvent(id));
        if (r.statusCode !== 200) throw new Error(`reader GET: ${r.statusCode} ${r.body}`);
        const end = performance.now();
        readerReads++;
        let stale = false;
        for (let v = version(r) + 1; v < acks.length; v++) {
          if (start <= acks[v]) continue;
          stale = true;
          worst[v] = Math.max(worst[v], end - acks[v]);
        }
        if (stale) staleReads++;
        // An L1 hit never leaves the microtask queue: yield, so the writer's I/O runs too.
        await new Promise((res) => setImmediate(res));
      }
    })();
    let ownStale = 0;
    const rnd = mulberry32(17);
    for (let v = 1; v <= writes; v++) {
      // Writes land anywhere in the reader's L1 lifetime, sometimes more than one TTL apart.
      await sleep(200 + rnd() * 1.3 * L1_TTL);
      await put(v);
      worst[v] = 0;
      acks[v] = performance.now();
      if (version(await writer.invoke(getEvent(id))) !== v) ownStale++;
      if (v % Math.max(1, Math.round(writes / 3)) === 0) ctx.progress(`staleness: ${v}/${writes} writes, ${readerReads} reads`);
    }
    await sleep(L1_TTL + 200);
    stop = true;
    await loop;
    const ages = worst.slice(1);
    const s = summarize(ages);
    return { writes, readerReads, staleReads, ageMs: roundSummary(s, 1), worstMs: round(s.max, 1), ownWriteStaleReads: ownStale };
  } finally {
    await Promise.all([writer.close(), reader.close()]);
  }
}

export async function runL1(ctx: BenchContext): Promise<L1Result> {
  const redis = await ctx.redis();
  const { endpoint } = await ctx.dynamo();
  const admin = new Redis({ host: "127.0.0.1", port: redis.port, maxRetriesPerRequest: 1 });
  try {
    const lat = await latency(ctx, redis.port, endpoint);
    const gets = await getsPerWorkload(ctx, redis.port, endpoint, admin);
    const stale = await staleness(ctx, redis.port, endpoint);
    ctx.progress(`staleness: worst ${stale.worstMs} ms over ${stale.writes} writes (${stale.staleReads} stale reads of ${stale.readerReads})`);
    return { ttlMs: L1_TTL, latency: lat, redisGets: gets, staleness: stale };
  } finally {
    admin.disconnect();
  }
}
