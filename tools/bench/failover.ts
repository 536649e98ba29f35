/**
 * Scenario 6 — failover: steady load through the local twin (its --redis-url pointing at the
 * benchmark's own redis-server), the redis-server SIGKILLed for 5 s and started again (empty, on
 * the same port). Counts failed requests, latency during the outage and how long the hit ratio
 * takes to come back.
 */
import { readFileSync } from "fs";
import type { BenchContext } from "./context";
import { pick } from "./context";
import { closedLoop, RecordedRequest, request } from "./load";
import { sleep, startTwin } from "./procs";
import { round, roundSummary, Summary, summarize } from "./stats";
import { mulberry32, Zipf } from "./zipf";

export interface FailoverResult {
  readonly ids: number;
  readonly concurrency: number;
  readonly outageSeconds: number;
  readonly beforeSeconds: number;
  readonly afterSeconds: number;
  readonly requests: number;
  readonly failed: number;
  readonly statusCounts: Record<string, number>;
  readonly requestsPerSecond: { before: number; during: number; after: number };
  readonly latencyMs: { before: Summary; during: Summary; after: Summary };
  readonly cacheDuring: Record<string, number>;
  /** Hit ratio over the last 2 s before the kill. */
  readonly hitRatioBefore: number;
  /** From the restart to the end of the first window whose hit ratio is ≥ 95 % of hitRatioBefore; null if never. */
  readonly recoverySeconds: number | null;
  /** From the restart to the first X-Cache: HIT answer. */
  readonly firstHitAfterRestartSeconds: number | null;
  readonly windowMs: number;
  /** [seconds since the load started, hit ratio, p99 ms, requests] per window. */
  readonly timeline: Array<[number, number, number, number]>;
  /** Seconds since the load started. */
  readonly killedAt: number;
  readonly restartedAt: number;
}

function counts(rs: RecordedRequest[], f: (r: RecordedRequest) => string): Record<string, number> {
  const c: Record<string, number> = {};
  for (const r of rs) c[f(r)] = (c[f(r)] ?? 0) + 1;
  return c;
}

export async function runFailover(ctx: BenchContext): Promise<FailoverResult> {
  const redis = await ctx.redis();
  const outDir = await ctx.synthOut();
  const ids = pick(ctx, 1_000, 300);
  const twin = await startTwin(ctx.root, outDir, redis.url, { seed: ids });
  const concurrency = 8;
  const outageSeconds = 5;
  const beforeSeconds = pick(ctx, 6, 2);
  const afterSeconds = pick(ctx, 12, 4);
  const windowMs = 250;
  try {
    const outputs = JSON.parse(readFileSync(twin.outputsFile, "utf8"))["product-catalog-dev"] as { api_url: string };
    const base = outputs.api_url;
    // Warm the cache: every seeded id once.
    let next = 1;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next <= ids) {
        const r = await request(`${base}/products/sample-${next++}`);
        if (r.status !== 200) throw new Error(`warm-up read: ${r.status} ${r.body}`);
      }
    }));
    ctx.progress(`twin up with ${ids} seeded products, cache warmed; load: ${concurrency} concurrent clients, Zipf(1.0)`);

    const zipf = new Zipf(ids, 1.0);
    const rnd = mulberry32(6);
    let stop!: () => void;
    const until = new Promise<void>((r) => (stop = r));
    const t0 = performance.now();
    const loading = closedLoop({ baseUrl: base, concurrency, path: () => `/products/sample-${zipf.sample(rnd)}`, until });
    await sleep(beforeSeconds * 1000);
    const killedAt = (performance.now() - t0) / 1000;
    await redis.kill();
    ctx.progress(`redis-server killed at ${killedAt.toFixed(1)} s; down for ${outageSeconds} s`);
    await sleep(outageSeconds * 1000);
    await redis.restart();
    const restartedAt = (performance.now() - t0) / 1000;
    ctx.progress(`redis-server restarted (empty) at ${restartedAt.toFixed(1)} s; observing ${afterSeconds} s`);
    await sleep(afterSeconds * 1000);
    stop();
    const all = await loading;

    const sec = (r: RecordedRequest) => r.at / 1000;
    const before = all.filter((r) => sec(r) < killedAt);
    const during = all.filter((r) => sec(r) >= killedAt && sec(r) < restartedAt);
    const after = all.filter((r) => sec(r) >= restartedAt);
    const failedReqs = all.filter((r) => r.status !== 200);
    const lastBefore = before.filter((r) => sec(r) >= killedAt - 2);
    const hitRatioBefore = lastBefore.filter((r) => r.cache === "HIT").length / Math.max(1, lastBefore.length);

    const timeline: FailoverResult["timeline"] = [];
    const end = Math.max(...all.map((r) => r.at));
    let recoverySeconds: number | null = null;
    for (let w = 0; w * windowMs <= end; w++) {
      const inWin = all.filter((r) => r.at >= w * windowMs && r.at < (w + 1) * windowMs);
      if (inWin.length === 0) continue;
      const hr = inWin.filter((r) => r.cache === "HIT").length / inWin.length;
      const p99 = summarize(inWin.map((r) => r.latencyMs)).p99;
      const startS = (w * windowMs) / 1000;
      timeline.push([round(startS, 3), round(hr, 4), round(p99, 2), inWin.length]);
      if (recoverySeconds === null && startS >= restartedAt && hr >= 0.95 * hitRatioBefore) {
        recoverySeconds = round(startS + windowMs / 1000 - restartedAt, 2);
      }
    }
    const firstHit = after.find((r) => r.cache === "HIT");
    const rps = (rs: RecordedRequest[], seconds: number) => round(rs.length / seconds, 0);
    return {
      ids,
      concurrency,
      outageSeconds,
      beforeSeconds,
      afterSeconds,
      requests: all.length,
      failed: failedReqs.length,
      statusCounts: counts(all, (r) => String(r.status)),
      requestsPerSecond: { before: rps(before, killedAt), during: rps(during, restartedAt - killedAt), after: rps(after, end / 1000 - restartedAt) },
      latencyMs: {
        before: roundSummary(summarize(before.map((r) => r.latencyMs)), 2),
        during: roundSummary(summarize(during.map((r) => r.latencyMs)), 2),
        after: roundSummary(summarize(after.map((r) => r.latencyMs)), 2),
      },
      cacheDuring: counts(during, (r) => r.cache || "none"),
      hitRatioBefore: round(hitRatioBefore, 4),
      recoverySeconds,
      firstHitAfterRestartSeconds: firstHit ? round(firstHit.at / 1000 - restartedAt, 3) : null,
      windowMs,
      timeline,
      killedAt: round(killedAt, 3),
      restartedAt: round(restartedAt, 3),
    };
  } finally {
    await twin.stop();
  }
}
