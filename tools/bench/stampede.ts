/**
 * Scenario 5 — stampede: 200 concurrent reads of one cold key. With protection: the products
 * handler (lease + followers polling the cache). Without: a naive cache-aside written here
 * (get → on a miss load the table → set), on the same cache store and the same table client.
 */
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import type { BenchContext } from "./context";
import { pick } from "./context";
import { PRODUCTS_TABLE } from "./dynalite-server";
import { getEvent, productsHandler, putEvent, sampleProduct } from "./runtime-env";
import { cdfPoints, roundSummary, Summary, summarize } from "./stats";

export interface StampedeSide {
  /** Table reads per burst. */
  readonly tableReads: Summary;
  readonly latencyMs: Summary;
  readonly failed: number;
  /** Latency CDF (time from the burst's start to each answer). */
  readonly cdf: Array<[number, number]>;
}

export interface StampedeResult {
  readonly concurrentReads: number;
  readonly bursts: number;
  readonly warmupBursts: number;
  readonly withProtection: StampedeSide;
  readonly withoutProtection: StampedeSide;
  readonly leaseWaitMs: number;
}

export async function runStampede(ctx: BenchContext): Promise<StampedeResult> {
  const redis = await ctx.redis();
  const { endpoint } = await ctx.dynamo();
  const concurrentReads = 200;
  const bursts = pick(ctx, 20, 5);
  const warmupBursts = 2;
  const h = productsHandler({ redisPort: redis.port, dynamoEndpoint: endpoint, keyPrefix: `bench-stampede-${process.pid}` });
  const { store, table } = h.invoke.runtime;
  const ttl = h.config.ttlSeconds;

  const naiveRead = async (id: string): Promise<unknown> => {
    const key = `product:${id}`;
    const cached = await store.get(key);
    if (cached !== undefined) return (JSON.parse(cached) as { v?: unknown }).v;
    const out = await table.getItem({ TableName: PRODUCTS_TABLE, Key: marshall({ productId: id }) });
    const value = out.Item ? unmarshall(out.Item) : undefined;
    await store.set(key, JSON.stringify(value === undefined ? { nf: 1 } : { v: value }), ttl);
    return value;
  };

  const sides = {
    with: { reads: [] as number[], lat: [] as number[], failed: 0 },
    without: { reads: [] as number[], lat: [] as number[], failed: 0 },
  };
  try {
    const total = warmupBursts + bursts;
    let seq = 0;
    for (let b = 0; b < total; b++) {
      const order = b % 2 === 0 ? (["with", "without"] as const) : (["without", "with"] as const);
      for (const which of order) {
        const id = `stampede-${process.pid}-${++seq}`;
        const put = await h.invoke(putEvent(id, sampleProduct(seq))); // table write + invalidate: the key is cold
        if (put.statusCode >= 300) throw new Error(`seeding ${id}: ${put.statusCode}`);
        h.counter.reset();
        const t0 = performance.now();
        const lat: number[] = [];
        let failed = 0;
        await Promise.all(Array.from({ length: concurrentReads }, async () => {
          try {
            if (which === "with") {
              const r = await h.invoke(getEvent(id));
              if (r.statusCode !== 200) failed++;
            } else if ((await naiveRead(id)) === undefined) failed++;
          } catch {
            failed++;
          }
          lat.push(performance.now() - t0);
        }));
        const reads = h.counter.reads;
        if (b >= warmupBursts) {
          sides[which].reads.push(reads);
          sides[which].lat.push(...lat);
          sides[which].failed += failed;
        }
        if (b >= warmupBursts && ((b - warmupBursts + 1) % 5 === 0 || b === total - 1)) {
          ctx.progress(`burst ${b - warmupBursts + 1}/${bursts} ${which} protection: ${reads} table read(s), slowest ${lat.reduce((a, x) => Math.max(a, x), 0).toFixed(1)} ms`);
        }
      }
    }
  } finally {
    await store.clear().catch(() => undefined);
    await h.close();
  }
  const side = (s: { reads: number[]; lat: number[]; failed: number }): StampedeSide => ({
    tableReads: roundSummary(summarize(s.reads), 2),
    latencyMs: roundSummary(summarize(s.lat), 2),
    failed: s.failed,
    cdf: cdfPoints(s.lat),
  });
  return { concurrentReads, bursts, warmupBursts, withProtection: side(sides.with), withoutProtection: side(sides.without), leaseWaitMs: h.config.leaseWaitMs };
}
