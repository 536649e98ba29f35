/**
 * Scenario 7 — cache backends: the same read workload (Zipf(1.0) over 1,000 cached products)
 * through the products handler on each backend createCacheStore builds: redis (redis-server),
 * dynamodb (a cache table in dynalite, in its own process as DynamoDB is remote) and memory
 * (in process). Latency at 1 client, throughput at 16.
 */
import type { CacheBackendKind } from "../../functions/lib/cache/types";
import type { BenchContext } from "./context";
import { pick } from "./context";
import { BenchHandler, cacheStatus, getEvent, productsHandler, seedProducts } from "./runtime-env";
import { cdfPoints, round, roundSummary, Summary, summarize } from "./stats";
import { mulberry32, Zipf } from "./zipf";

export interface BackendFigures {
  readonly backend: CacheBackendKind;
  readonly latencyMs: Summary;
  readonly cdf: Array<[number, number]>;
  readonly hitRatio: number;
  readonly throughput: { readonly concurrency: number; readonly requestsPerSecond: number; readonly latencyMs: Summary; readonly hitRatio: number };
}

export interface BackendsResult {
  readonly ids: number;
  readonly sequentialReads: number;
  readonly throughputSeconds: number;
  readonly rounds: number;
  readonly backends: BackendFigures[];
}

const BACKENDS: CacheBackendKind[] = ["redis", "dynamodb", "memory"];

export async function runBackends(ctx: BenchContext): Promise<BackendsResult> {
  const redis = await ctx.redis();
  const { endpoint } = await ctx.dynamo();
  const ids = pick(ctx, 1_000, 300);
  await seedProducts(endpoint, ids);
  const sequentialReads = pick(ctx, 4_000, 1_000);
  const throughputSeconds = pick(ctx, 3, 1);
  const concurrency = 16;
  const rounds = pick(ctx, 2, 1);
  const zipf = new Zipf(ids, 1.0);
  const handlers = new Map<CacheBackendKind, BenchHandler>();
  const acc = new Map<CacheBackendKind, { lat: number[]; hits: number; reads: number; tpLat: number[]; tpReads: number; tpHits: number; tpSeconds: number }>();
  try {
    for (const backend of BACKENDS) {
      const h = productsHandler({ redisPort: redis.port, dynamoEndpoint: endpoint, backend, keyPrefix: `bench-backend-${backend}-${process.pid}` });
      handlers.set(backend, h);
      acc.set(backend, { lat: [], hits: 0, reads: 0, tpLat: [], tpReads: 0, tpHits: 0, tpSeconds: 0 });
      // Fill the cache (every id once, 16 at a time), then warm up on the workload.
      let next = 1;
      await Promise.all(Array.from({ length: 16 }, async () => {
        while (next <= ids) await h.invoke(getEvent(`p${next++}`));
      }));
      const rnd = mulberry32(70);
      for (let i = 0; i < pick(ctx, 1_000, 300); i++) await h.invoke(getEvent(`p${zipf.sample(rnd)}`));
      ctx.progress(`${backend}: cache filled with ${ids} products, warmed up`);
    }
    for (let round_ = 0; round_ < rounds; round_++) {
      const order = round_ % 2 === 0 ? BACKENDS : [...BACKENDS].reverse();
      for (const backend of order) {
        const h = handlers.get(backend)!;
        const a = acc.get(backend)!;
        const rnd = mulberry32(7 + round_);
        for (let i = 0; i < sequentialReads; i++) {
          const ev = getEvent(`p${zipf.sample(rnd)}`);
          const t = performance.now();
          const r = await h.invoke(ev);
          a.lat.push(performance.now() - t);
          a.reads++;
          if (cacheStatus(r) === "HIT") a.hits++;
        }
        const deadline = performance.now() + throughputSeconds * 1000;
        const start = performance.now();
        await Promise.all(Array.from({ length: concurrency }, async () => {
          while (performance.now() < deadline) {
            const ev = getEvent(`p${zipf.sample(rnd)}`);
            const t = performance.now();
            const r = await h.invoke(ev);
            a.tpLat.push(performance.now() - t);
            a.tpReads++;
            if (cacheStatus(r) === "HIT") a.tpHits++;
          }
        }));
        a.tpSeconds += (performance.now() - start) / 1000;
        ctx.progress(`${backend} (round ${round_ + 1}/${rounds}): p50 ${summarize(a.lat).p50.toFixed(3)} ms at 1 client; ${(a.tpReads / a.tpSeconds).toFixed(0)} req/s at ${concurrency}`);
      }
    }
  } finally {
    for (const h of handlers.values()) {
      await h.invoke.runtime.store.clear().catch(() => undefined);
      await h.close();
    }
  }
  return {
    ids,
    sequentialReads,
    throughputSeconds,
    rounds,
    backends: BACKENDS.map((backend) => {
      const a = acc.get(backend)!;
      return {
        backend,
        latencyMs: roundSummary(summarize(a.lat), 3),
        cdf: cdfPoints(a.lat),
        hitRatio: round(a.hits / a.reads, 4),
        throughput: {
          concurrency,
          requestsPerSecond: round(a.tpReads / a.tpSeconds, 0),
          latencyMs: roundSummary(summarize(a.tpLat), 3),
          hitRatio: round(a.tpHits / a.tpReads, 4),
        },
      };
    }),
  };
}
