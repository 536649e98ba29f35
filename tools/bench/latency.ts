/**
 * Scenario 3 — cache-hit latency. In process: the products handler answering a cached key (real
 * redis-server) against a raw ioredis GET of the same value on the same server, in alternating
 * blocks. Over HTTP: the local twin (gateway → function process → Redis) against a minimal HTTP
 * server that only does the Redis GET, with autocannon at 1 and 32 connections.
 */
import { readFileSync } from "fs";
import * as path from "path";
import Redis from "ioredis";
import { BreakerCacheStore } from "../../functions/lib/cache/breaker";
import { keyLayout } from "../../functions/lib/cache/keys";
import { buildRedisClient, ensureConnected, RedisCacheStore } from "../../functions/lib/cache/redis";
import { CacheAside } from "../../functions/lib/cache-aside";
import { RequestMetrics } from "../../functions/lib/metrics";
import type { BenchContext } from "./context";
import { pick } from "./context";
import { autocannonRun, AutocannonRun, request } from "./load";
import { startReadyChild, startTwin } from "./procs";
import { cacheStatus, getEvent, productsHandler, putEvent, sampleProduct } from "./runtime-env";
import { cdfPoints, ratio, round, roundSummary, Summary, summarize } from "./stats";

export interface HttpSide {
  readonly requests: number;
  readonly requestsPerSecond: number;
  readonly failed: number;
  readonly latencyMs: Summary;
  readonly cdf: Array<[number, number]>;
}

export interface HttpLevel {
  readonly connections: number;
  readonly durationSeconds: number;
  readonly twin: HttpSide;
  readonly raw: HttpSide;
  readonly p50Ratio: number;
  readonly p99Ratio: number;
  readonly throughputRatio: number;
}

export interface LatencyResult {
  readonly inProcess: {
    readonly samplesEach: number;
    readonly warmupEach: number;
    readonly blockSize: number;
    readonly handlerUs: Summary;
    readonly rawGetUs: Summary;
    readonly p50Ratio: number;
    readonly p99Ratio: number;
    readonly handlerCdf: Array<[number, number]>;
    readonly rawCdf: Array<[number, number]>;
    readonly valueBytes: number;
    /** Each layer between a raw GET and the handler: p50/p99 in µs, p50 relative to the raw GET. */
    readonly layers: Array<{ name: string; label: string; p50Us: number; p99Us: number; p50RatioToRaw: number }>;
    /** Handler p50 − raw GET p50: the fixed CPU cost of a hit, µs. */
    readonly handlerOverheadP50Us: number;
  };
  readonly http: { readonly levels: HttpLevel[]; readonly twinProcesses: string; readonly warmupSeconds: number };
}

interface Variant {
  readonly name: string;
  readonly label: string;
  readonly run: () => Promise<unknown>;
  readonly samples: number[];
}

/**
 * The handler's cache hit against a raw GET, plus the layers in between (the project's client
 * options, the store, the breaker, the cache-aside read), so a gap can be attributed. Every
 * variant runs in round-robin blocks, one request at a time.
 */
async function inProcess(ctx: BenchContext): Promise<LatencyResult["inProcess"]> {
  const redis = await ctx.redis();
  const { endpoint } = await ctx.dynamo();
  const keyPrefix = `bench-latency-${process.pid}`;
  const h = productsHandler({ redisPort: redis.port, dynamoEndpoint: endpoint, keyPrefix });
  const raw = new Redis({ host: "127.0.0.1", port: redis.port });
  const settings = { host: "127.0.0.1", port: redis.port, tls: false, clusterMode: false };
  const projectClient = buildRedisClient(settings, { commandTimeoutMs: h.config.breaker.commandTimeoutMs });
  const plainStore = new RedisCacheStore({ keyPrefix, settings, commandTimeoutMs: h.config.breaker.commandTimeoutMs });
  const breakerStore = new BreakerCacheStore(new RedisCacheStore({ keyPrefix, settings, commandTimeoutMs: h.config.breaker.commandTimeoutMs }), h.config.breaker);
  const aside = new CacheAside(breakerStore, {
    ttlSeconds: h.config.ttlSeconds,
    jitterRatio: h.config.ttlJitterRatio,
    negativeTtlSeconds: h.config.negativeTtlSeconds,
    leaseTtlMs: h.config.leaseTtlMs,
    leaseWaitMs: h.config.leaseWaitMs,
  });
  try {
    const id = "hot-1";
    const put = await h.invoke(putEvent(id, sampleProduct(1)));
    if (put.statusCode >= 300) throw new Error(`seeding ${id}: ${put.statusCode} ${put.body}`);
    await h.invoke(getEvent(id)); // MISS: fills the cache
    const check = await h.invoke(getEvent(id));
    if (cacheStatus(check) !== "HIT") throw new Error(`expected a cache hit, got ${cacheStatus(check)}`);
    const cacheKey = `product:${id}`;
    const key = keyLayout(keyPrefix).value(cacheKey);
    const value = await raw.get(key);
    if (!value) throw new Error(`raw GET ${key}: no value`);
    await ensureConnected(projectClient);

    const event = getEvent(id);
    const noLoad = async (): Promise<undefined> => {
      throw new Error("the benchmark's key must be a cache hit");
    };
    const must = <T>(v: T | null | undefined, what: string): T => {
      if (v === null || v === undefined) throw new Error(`${what}: missed`);
      return v;
    };
    const variants: Variant[] = [
      { name: "handler", label: "products handler, cache hit", samples: [], run: async () => {
        const r = await h.invoke(event);
        if (r.statusCode !== 200) throw new Error(`handler answered ${r.statusCode}`);
      } },
      { name: "raw", label: "raw ioredis GET (default client)", samples: [], run: async () => must(await raw.get(key), "raw GET") },
      { name: "projectClient", label: "GET on the project's client options (commandTimeout, no offline queue)", samples: [], run: async () => must(await projectClient.get(key), "project client GET") },
      { name: "store", label: "RedisCacheStore.get", samples: [], run: async () => must(await plainStore.get(cacheKey), "store get") },
      { name: "breaker", label: "BreakerCacheStore.get (breaker + deadline timer)", samples: [], run: async () => must(await breakerStore.get(cacheKey), "breaker get") },
      { name: "cacheAside", label: "CacheAside.read (envelope parse, metrics counts)", samples: [], run: async () => {
        const r = await aside.read(cacheKey, noLoad, new RequestMetrics(h.config.metricsNamespace, h.config.serviceName));
        if (r.status !== "HIT") throw new Error(`cache-aside read: ${r.status}`);
      } },
    ];
    const samplesEach = pick(ctx, 20_000, 2_000);
    const warmupEach = pick(ctx, 3_000, 500);
    const blockSize = 250;
    const block = async (v: Variant, keep: boolean) => {
      for (let i = 0; i < blockSize; i++) {
        const t = process.hrtime.bigint();
        await v.run();
        if (keep) v.samples.push(Number(process.hrtime.bigint() - t) / 1e3);
      }
    };
    ctx.progress(`in-process warm-up: ${warmupEach} requests per variant (${variants.length} variants: handler, raw GET and the layers between)`);
    for (let done = 0; done < warmupEach; done += blockSize) for (const v of variants) await block(v, false);
    for (let done = 0, round_ = 0; done < samplesEach; done += blockSize, round_++) {
      // Reverse the order every other round, so no variant always follows the same one.
      for (const v of round_ % 2 === 0 ? variants : [...variants].reverse()) await block(v, true);
      if ((done + blockSize) % pick(ctx, 5_000, 1_000) === 0) ctx.progress(`in-process: ${done + blockSize}/${samplesEach} samples per variant`);
    }
    const hs = summarize(variants[0].samples);
    const rs = summarize(variants[1].samples);
    return {
      samplesEach,
      warmupEach,
      blockSize,
      handlerUs: roundSummary(hs, 1),
      rawGetUs: roundSummary(rs, 1),
      p50Ratio: ratio(hs.p50, rs.p50),
      p99Ratio: ratio(hs.p99, rs.p99),
      handlerCdf: cdfPoints(variants[0].samples),
      rawCdf: cdfPoints(variants[1].samples),
      valueBytes: Buffer.byteLength(value),
      layers: variants.map((v) => {
        const s = summarize(v.samples);
        return { name: v.name, label: v.label, p50Us: round(s.p50, 1), p99Us: round(s.p99, 1), p50RatioToRaw: ratio(s.p50, rs.p50) };
      }),
      handlerOverheadP50Us: round(hs.p50 - rs.p50, 1),
    };
  } finally {
    raw.disconnect();
    projectClient.disconnect();
    await plainStore.close().catch(() => undefined);
    await breakerStore.close().catch(() => undefined);
    await h.close();
  }
}

function side(r: AutocannonRun): HttpSide {
  return {
    requests: r.requests,
    requestsPerSecond: round(r.requestsPerSecond, 0),
    failed: r.non2xx + r.errors + r.timeouts,
    latencyMs: roundSummary(summarize(r.latenciesMs), 3),
    cdf: cdfPoints(r.latenciesMs),
  };
}

async function overHttp(ctx: BenchContext): Promise<LatencyResult["http"]> {
  const redis = await ctx.redis();
  const outDir = await ctx.synthOut();
  const twin = await startTwin(ctx.root, outDir, redis.url);
  let rawServer: Awaited<ReturnType<typeof startReadyChild>> | undefined;
  try {
    const outputs = JSON.parse(readFileSync(twin.outputsFile, "utf8"))["product-catalog-dev"] as { sample_token: string; api_url: string };
    const id = "hot-http-1";
    const put = await request(`${outputs.api_url}/products/${id}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${outputs.sample_token}`, "content-type": "application/json" },
      body: JSON.stringify(sampleProduct(1)),
    });
    if (put.status >= 300) throw new Error(`seeding through the twin: ${put.status} ${put.body}`);
    await request(`${outputs.api_url}/products/${id}`);
    const hit = await request(`${outputs.api_url}/products/${id}`);
    if (hit.headers["x-cache"] !== "HIT") throw new Error(`twin: expected X-Cache HIT, got ${String(hit.headers["x-cache"])}`);
    // The key the function stored (its prefix is the synthesized CACHE_KEY_PREFIX/SERVICE_NAME): find it.
    const admin = new Redis({ host: "127.0.0.1", port: redis.port });
    const keys = (await admin.keys(`*{product:${id}}`)).filter((k) => !k.endsWith(":lease"));
    admin.disconnect();
    if (keys.length !== 1) throw new Error(`expected one cached key for ${id}, found ${keys.length}`);
    rawServer = await startReadyChild(path.join(ctx.root, "dist", "tools", "bench", "raw-server.js"), ["--redis-port", String(redis.port), "--key", keys[0]], { name: "raw GET server" });
    const twinUrl = `${outputs.api_url}/products/${id}`;
    const rawUrl = `${rawServer.payload}/v1/products/${id}`;
    const warmupSeconds = pick(ctx, 2, 0.5);
    const durationSeconds = pick(ctx, 8, 1);
    const levels: HttpLevel[] = [];
    for (const connections of [1, 32]) {
      const runs: Record<"twin" | "raw", AutocannonRun | undefined> = { twin: undefined, raw: undefined };
      const order = connections === 1 ? (["twin", "raw"] as const) : (["raw", "twin"] as const);
      for (const which of order) {
        const url = which === "twin" ? twinUrl : rawUrl;
        await autocannonRun(url, { connections, durationSeconds: warmupSeconds });
        ctx.progress(`HTTP ${which} at ${connections} connection(s): ${durationSeconds} s (after ${warmupSeconds} s warm-up)`);
        runs[which] = await autocannonRun(url, { connections, durationSeconds });
      }
      const t = side(runs.twin!);
      const r = side(runs.raw!);
      ctx.progress(`HTTP c=${connections}: twin p50 ${t.latencyMs.p50} ms, ${t.requestsPerSecond} req/s; raw p50 ${r.latencyMs.p50} ms, ${r.requestsPerSecond} req/s`);
      levels.push({
        connections,
        durationSeconds,
        twin: t,
        raw: r,
        p50Ratio: ratio(t.latencyMs.p50, r.latencyMs.p50),
        p99Ratio: ratio(t.latencyMs.p99, r.latencyMs.p99),
        throughputRatio: ratio(t.requestsPerSecond, r.requestsPerSecond),
      });
    }
    const fnLine = twin.lines.find((l) => l.startsWith("function:")) ?? "";
    return { levels, twinProcesses: /up to \d+ process(?:es)?/.exec(fnLine)?.[0] ?? "unknown", warmupSeconds };
  } finally {
    await rawServer?.stop();
    await twin.stop();
  }
}

export async function runLatency(ctx: BenchContext): Promise<LatencyResult> {
  const inproc = await inProcess(ctx);
  ctx.progress(`in-process: handler hit p50 ${inproc.handlerUs.p50} µs vs raw GET p50 ${inproc.rawGetUs.p50} µs (${inproc.p50Ratio}×)`);
  const http = await overHttp(ctx);
  return { inProcess: inproc, http };
}
