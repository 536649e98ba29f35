/**
 * Scenario 4 — hit ratio and table offload: Zipf(s = 1.0) reads over 10,000 product ids with 1 %
 * writes, through the real products handler (real redis-server, dynalite), from a cold cache,
 * then the same workload again on the warm cache; against no cache (every read goes to the table).
 */
import { marshall } from "@aws-sdk/util-dynamodb";
import type { BenchContext } from "./context";
import { pick } from "./context";
import { PRODUCTS_TABLE } from "./dynalite-server";
import { cacheStatus, getEvent, productsHandler, putEvent, sampleProduct, seedProducts, TableCounter } from "./runtime-env";
import { createDynamoDb } from "../../functions/lib/table";
import { round, roundSummary, Summary, summarize } from "./stats";
import { mulberry32, ttlCacheHitRatio, Zipf } from "./zipf";

/** us-east-1 on-demand price per million read request units (since 1 Nov 2024). */
export const USD_PER_MILLION_RRU = 0.125;
/** The handler's GetItem is eventually consistent (no ConsistentRead): 0.5 RRU per read of an item ≤ 4 KB. */
export const RRU_PER_READ = 0.5;

export interface PhaseFigures {
  readonly reads: number;
  readonly writes: number;
  readonly hits: number;
  readonly misses: number;
  readonly bypasses: number;
  readonly hitRatio: number;
  readonly tableReads: number;
  readonly tableReadsPer1000: number;
  /** PutItem calls (the writes): the same with or without a cache. */
  readonly tableWrites: number;
  /** Misses on an id never read before in the run (the cache cannot have it). */
  readonly coldMisses: number;
  /** hits / (reads − cold misses). */
  readonly hitRatioExcludingColdMisses: number;
  readonly readLatencyMs: Summary;
  readonly seconds: number;
  readonly requestsPerSecond: number;
  /** Hit ratio per window of `windowReads` reads: [reads so far, ratio]. */
  readonly timeline: Array<[number, number]>;
}

export interface HitRatioResult {
  readonly ids: number;
  readonly zipfS: number;
  readonly readsPerPhase: number;
  readonly writeFraction: number;
  readonly concurrency: number;
  readonly ttlSeconds: number;
  readonly itemBytes: number;
  readonly windowReads: number;
  readonly coldStart: PhaseFigures;
  readonly warm: PhaseFigures;
  readonly noCache: { readonly reads: number; readonly tableReadsPer1000: number; readonly readLatencyMs: Summary; readonly requestsPerSecond: number };
  readonly savings: {
    readonly assumption: string;
    readonly rruPerTableRead: number;
    readonly usdPerMillionRru: number;
    /** For the cold-start phase's reads: no-cache RRU − cache-aside RRU. */
    readonly rruSavedColdStart: number;
    readonly rruSavedWarm: number;
    readonly rruSavedPerMillionReadsWarm: number;
    readonly usdSavedPerMillionReadsWarm: number;
    readonly usdSavedPerBillionReadsWarm: number;
  };
  /** Steady state of a TTL cache under this Zipf at a few request rates (model, not measured). */
  readonly modelled: Array<{ requestsPerSecond: number; hitRatio: number }>;
}

interface Op {
  readonly id: string;
  readonly write: boolean;
}

function workload(zipf: Zipf, reads: number, writeFraction: number, seed: number): Op[] {
  const rnd = mulberry32(seed);
  const ops: Op[] = [];
  let r = 0;
  while (r < reads) {
    const write = rnd() < writeFraction;
    ops.push({ id: `p${zipf.sample(rnd)}`, write });
    if (!write) r++;
  }
  return ops;
}

async function runPhase(
  ops: Op[],
  concurrency: number,
  windowReads: number,
  seen: Set<string>,
  exec: (op: Op) => Promise<string>,
  counter: TableCounter,
  progress: (l: string) => void,
  label: string,
): Promise<PhaseFigures> {
  counter.reset();
  let next = 0;
  let reads = 0;
  let writes = 0;
  let hits = 0;
  let misses = 0;
  let bypasses = 0;
  let coldMisses = 0;
  let winReads = 0;
  let winHits = 0;
  const timeline: Array<[number, number]> = [];
  const lat: number[] = [];
  const start = performance.now();
  const expectedReads = ops.filter((o) => !o.write).length;
  const reportEvery = Math.max(1, Math.round(expectedReads / 4));
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < ops.length) {
      const op = ops[next++];
      if (op.write) {
        await exec(op);
        writes++;
        continue;
      }
      const firstRead = !seen.has(op.id);
      seen.add(op.id);
      const t = performance.now();
      const status = await exec(op);
      lat.push(performance.now() - t);
      reads++;
      winReads++;
      if (status === "HIT") {
        hits++;
        winHits++;
      } else if (status === "MISS") {
        misses++;
        if (firstRead) coldMisses++;
      } else bypasses++;
      if (winReads === windowReads) {
        timeline.push([reads, round(winHits / winReads, 4)]);
        winReads = 0;
        winHits = 0;
      }
      if (reads % reportEvery === 0) progress(`${label}: ${reads}/${expectedReads} reads, hit ratio so far ${((hits / reads) * 100).toFixed(1)} %`);
    }
  }));
  if (winReads > 0) timeline.push([reads, round(winHits / winReads, 4)]);
  const seconds = (performance.now() - start) / 1000;
  return {
    reads,
    writes,
    hits,
    misses,
    bypasses,
    hitRatio: round(hits / reads, 4),
    tableReads: counter.reads,
    tableReadsPer1000: round((counter.reads / reads) * 1000, 1),
    tableWrites: counter.writes,
    coldMisses,
    hitRatioExcludingColdMisses: round(hits / (reads - coldMisses), 4),
    readLatencyMs: roundSummary(summarize(lat), 3),
    seconds: round(seconds, 2),
    requestsPerSecond: round((reads + writes) / seconds, 0),
    timeline,
  };
}

export async function runHitRatio(ctx: BenchContext): Promise<HitRatioResult> {
  const redis = await ctx.redis();
  const { endpoint } = await ctx.dynamo();
  const ids = 10_000;
  const zipfS = 1.0;
  const readsPerPhase = pick(ctx, 100_000, 5_000);
  const writeFraction = 0.01;
  const concurrency = 8;
  const windowReads = pick(ctx, 2_000, 500);
  const zipf = new Zipf(ids, zipfS);
  const itemBytes = await seedProducts(endpoint, ids);
  ctx.progress(`seeded ${ids} products (~${itemBytes} B each) into dynalite`);

  const h = productsHandler({ redisPort: redis.port, dynamoEndpoint: endpoint, keyPrefix: `bench-hits-${process.pid}` });
  let writeSeq = 0;
  const exec = async (op: Op): Promise<string> => {
    if (op.write) {
      const r = await h.invoke(putEvent(op.id, { ...sampleProduct(Number(op.id.slice(1))), price: 100 + (++writeSeq % 50) }));
      if (r.statusCode >= 300) throw new Error(`PUT ${op.id}: ${r.statusCode} ${r.body}`);
      return "WRITE";
    }
    const r = await h.invoke(getEvent(op.id));
    if (r.statusCode !== 200) throw new Error(`GET ${op.id}: ${r.statusCode} ${r.body}`);
    return cacheStatus(r);
  };
  try {
    // JIT warm-up on ids outside the workload (its own prefix keeps it out of the measured cache).
    const warm = productsHandler({ redisPort: redis.port, dynamoEndpoint: endpoint, keyPrefix: `bench-hits-jit-${process.pid}` });
    const jit = pick(ctx, 2_000, 500);
    for (let i = 0; i < jit; i++) await warm.invoke(getEvent(`p${1 + (i % 50)}`));
    await warm.invoke.runtime.store.clear();
    await warm.close();
    ctx.progress(`warm-up: ${jit.toLocaleString("en")} reads on a separate key prefix (JIT), discarded`);

    const seen = new Set<string>();
    const coldOps = workload(zipf, readsPerPhase, writeFraction, 1);
    const coldStart = await runPhase(coldOps, concurrency, windowReads, seen, exec, h.counter, ctx.progress, "cold start");
    ctx.progress(`cold start: ${(coldStart.hitRatio * 100).toFixed(2)} % hits (${coldStart.coldMisses} cold misses), ${coldStart.tableReadsPer1000} table reads / 1,000 reads, ${coldStart.seconds} s`);
    const warmOps = workload(zipf, readsPerPhase, writeFraction, 2);
    const warmPhase = await runPhase(warmOps, concurrency, windowReads, seen, exec, h.counter, ctx.progress, "warm cache");
    ctx.progress(`warm cache: ${(warmPhase.hitRatio * 100).toFixed(2)} % hits, ${warmPhase.tableReadsPer1000} table reads / 1,000 reads, ${warmPhase.seconds} s`);

    // No cache: the same reads straight to the table (a sample of the sequence; every read is a table read).
    const nc = pick(ctx, 10_000, 1_000);
    const ddb = createDynamoDb({ region: "us-east-1", dynamoDbEndpoint: endpoint });
    const ncOps = coldOps.filter((o) => !o.write).slice(0, nc);
    const ncCounter = new TableCounter();
    const ncLat: number[] = [];
    let ni = 0;
    const ncStart = performance.now();
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (ni < ncOps.length) {
        const op = ncOps[ni++];
        const t = performance.now();
        ncCounter.reads++;
        await ddb.getItem({ TableName: PRODUCTS_TABLE, Key: marshall({ productId: op.id }) });
        ncLat.push(performance.now() - t);
      }
    }));
    const ncSeconds = (performance.now() - ncStart) / 1000;
    ddb.destroy();
    ctx.progress(`no cache: ${ncOps.length} reads, ${ncCounter.reads} table reads`);

    const rruNoCache = (reads: number) => reads * RRU_PER_READ;
    const savedCold = rruNoCache(coldStart.reads) - coldStart.tableReads * RRU_PER_READ;
    const savedWarm = rruNoCache(warmPhase.reads) - warmPhase.tableReads * RRU_PER_READ;
    const perMillion = (savedWarm / warmPhase.reads) * 1e6;
    return {
      ids,
      zipfS,
      readsPerPhase,
      writeFraction,
      concurrency,
      ttlSeconds: h.config.ttlSeconds,
      itemBytes,
      windowReads,
      coldStart,
      warm: warmPhase,
      noCache: {
        reads: ncOps.length,
        tableReadsPer1000: round((ncCounter.reads / ncOps.length) * 1000, 1),
        readLatencyMs: roundSummary(summarize(ncLat), 3),
        requestsPerSecond: round(ncOps.length / ncSeconds, 0),
      },
      savings: {
        assumption: `eventually consistent GetItem (the handler sets no ConsistentRead), items ≤ 4 KB: ${RRU_PER_READ} RRU per table read; us-east-1 on-demand $${USD_PER_MILLION_RRU} per million RRU`,
        rruPerTableRead: RRU_PER_READ,
        usdPerMillionRru: USD_PER_MILLION_RRU,
        rruSavedColdStart: round(savedCold, 1),
        rruSavedWarm: round(savedWarm, 1),
        rruSavedPerMillionReadsWarm: round(perMillion, 0),
        usdSavedPerMillionReadsWarm: round((perMillion / 1e6) * USD_PER_MILLION_RRU, 4),
        usdSavedPerBillionReadsWarm: round((perMillion / 1e6) * USD_PER_MILLION_RRU * 1000, 2),
      },
      modelled: [1, 10, 100, 1000].map((rate) => ({
        requestsPerSecond: rate,
        // Mean TTL with jitter: TTL × (1 + ratio / 2).
        hitRatio: round(ttlCacheHitRatio(zipf, rate, h.config.ttlSeconds * (1 + h.config.ttlJitterRatio / 2)), 4),
      })),
    };
  } finally {
    await h.invoke.runtime.store.clear().catch(() => undefined);
    await h.close();
  }
}
