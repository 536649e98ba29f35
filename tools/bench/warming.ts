/**
 * Scenario 10 — cold start with and without warming: the same Zipf(1.0) read sequence through the
 * products handler (real redis-server and dynalite) on an empty cache, once as it is and once
 * after the warm function (functions/warmer/products.ts, the lease-safe fill) loaded the most
 * read ids (a ranking's top N names them in production; here rank k of the Zipf is id p<k>). The
 * figure is how many reads it takes until a window of reads is served ≥ 90 % from the cache.
 */
import { createHandler as warmFunction } from "../../functions/warmer/products";
import type { WarmResult } from "../../functions/lib/warm";
import type { BenchContext } from "./context";
import { pick } from "./context";
import { benchConfig, BenchHandler, cacheStatus, getEvent, productsHandler, seedProducts } from "./runtime-env";
import { round } from "./stats";
import { mulberry32, Zipf } from "./zipf";

/** The hit ratio a cold start is timed to. */
export const WARM_TARGET_HIT_RATIO = 0.9;

export interface ColdStartArm {
  /** Reads until the first window at ≥ 90 % hits (end of that window); null when never within the run. */
  readonly readsTo90: number | null;
  /** Wall time of those reads (plus the warm run, when warmed); null when never reached. */
  readonly secondsTo90: number | null;
  /** Hit ratio of the first window. */
  readonly firstWindowHitRatio: number;
  readonly hitRatio: number;
  readonly tableReads: number;
  /** [reads so far, hit ratio of the window]. */
  readonly timeline: Array<[number, number]>;
}

export interface WarmingResult {
  readonly ids: number;
  readonly zipfS: number;
  readonly reads: number;
  readonly windowReads: number;
  readonly concurrency: number;
  /** Ids the warm run loaded (the most read ones). */
  readonly warmedIds: number;
  /** Share of the workload's reads that go to the warmed ids (Zipf model). */
  readonly warmedShare: number;
  readonly warm: WarmResult;
  readonly withoutWarming: ColdStartArm;
  readonly withWarming: ColdStartArm;
}

async function coldStart(h: BenchHandler, workload: readonly string[], windowReads: number, concurrency: number, extraSeconds: number): Promise<ColdStartArm> {
  h.counter.reset();
  const timeline: Array<[number, number]> = [];
  let next = 0;
  let done = 0;
  let hits = 0;
  let winHits = 0;
  let winReads = 0;
  let readsTo90: number | null = null;
  let secondsTo90: number | null = null;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < workload.length) {
      const r = await h.invoke(getEvent(workload[next++]));
      if (r.statusCode !== 200) throw new Error(`GET: ${r.statusCode} ${r.body}`);
      done++;
      winReads++;
      if (cacheStatus(r) === "HIT") {
        hits++;
        winHits++;
      }
      if (winReads === windowReads) {
        const hr = winHits / winReads;
        timeline.push([done, round(hr, 4)]);
        if (readsTo90 === null && hr >= WARM_TARGET_HIT_RATIO) {
          readsTo90 = done;
          secondsTo90 = round((performance.now() - t0) / 1000 + extraSeconds, 2);
        }
        winReads = 0;
        winHits = 0;
      }
    }
  }));
  return { readsTo90, secondsTo90, firstWindowHitRatio: timeline[0]?.[1] ?? 0, hitRatio: round(hits / done, 4), tableReads: h.counter.reads, timeline };
}

export async function runWarming(ctx: BenchContext): Promise<WarmingResult> {
  const redis = await ctx.redis();
  const { endpoint } = await ctx.dynamo();
  const nIds = 10_000;
  const zipfS = 1.0;
  const reads = pick(ctx, 60_000, 10_000);
  const windowReads = pick(ctx, 1_000, 500);
  const concurrency = 8;
  // Zipf(1.0) has a long tail: the top half of the ids draws ~93 % of the reads.
  const warmedIds = nIds / 2;
  const zipf = new Zipf(nIds, zipfS);
  await seedProducts(endpoint, nIds);
  const rnd = mulberry32(23);
  const workload = Array.from({ length: reads }, () => `p${zipf.sample(rnd)}`);
  let warmedShare = 0;
  for (let k = 1; k <= warmedIds; k++) warmedShare += zipf.probability(k);

  const cold = productsHandler({ redisPort: redis.port, dynamoEndpoint: endpoint, keyPrefix: `bench-cold-${process.pid}` });
  const warmedPrefix = `bench-warmed-${process.pid}`;
  const warmed = productsHandler({ redisPort: redis.port, dynamoEndpoint: endpoint, keyPrefix: warmedPrefix });
  const warmer = warmFunction({ config: benchConfig({ redisPort: redis.port, dynamoEndpoint: endpoint, keyPrefix: warmedPrefix }) });
  try {
    const withoutWarming = await coldStart(cold, workload, windowReads, concurrency, 0);
    ctx.progress(`without warming: ${withoutWarming.readsTo90 === null ? `never ${WARM_TARGET_HIT_RATIO * 100} % in ${reads} reads` : `${withoutWarming.readsTo90} reads to ${WARM_TARGET_HIT_RATIO * 100} %`}, first window ${(withoutWarming.firstWindowHitRatio * 100).toFixed(1)} %`);
    const answer = await warmer({ ids: Array.from({ length: warmedIds }, (_, i) => `p${i + 1}`) });
    if ("error" in answer) throw new Error(`the warm function refused: ${answer.error}`);
    if (answer.loaded + answer.cached !== warmedIds) throw new Error(`the warm run loaded ${answer.loaded} of ${warmedIds}: ${JSON.stringify(answer)}`);
    ctx.progress(`warm function: ${answer.loaded} loaded in ${answer.ms} ms`);
    const withWarming = await coldStart(warmed, workload, windowReads, concurrency, answer.ms / 1000);
    ctx.progress(`with warming: ${withWarming.readsTo90 === null ? "never" : withWarming.readsTo90} reads to ${WARM_TARGET_HIT_RATIO * 100} %, first window ${(withWarming.firstWindowHitRatio * 100).toFixed(1)} %`);
    return { ids: nIds, zipfS, reads, windowReads, concurrency, warmedIds, warmedShare: round(warmedShare, 4), warm: answer, withoutWarming, withWarming };
  } finally {
    await warmer.runtime.store.close().catch(() => undefined);
    await Promise.all([cold.close(), warmed.close()]);
  }
}
