/**
 * Scenario 8 — invalidation lag through the stream alone: the product catalog's twin (its
 * --redis-url at the benchmark's redis-server), a cached product written straight to the table
 * (the endpoint the twin prints, as another service would write), and the time from that write's
 * acknowledgement to the cache entry's deletion, taken from Redis's own keyspace notifications
 * (no polling). The API's PUT, whose synchronous invalidation happens before it answers, runs
 * alongside as the write path's figure; without the stream the entry would live out its TTL.
 */
import { DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import Redis from "ioredis";
import { readFileSync } from "fs";
import * as path from "path";
import { keyLayout } from "../../functions/lib/cache/keys";
import { CONNECTIONS, INVALIDATOR_SETTINGS, RUNTIME_SETTINGS } from "../../functions/lib/contract";
import { productCacheKey } from "../../functions/products/contract";
import type { BenchContext } from "./context";
import { pick } from "./context";
import { request } from "./load";
import { sleep, startTwin } from "./procs";
import { cdfPoints, round, roundSummary, Summary, summarize } from "./stats";
import { mulberry32 } from "./zipf";

/** Lambda polls a DynamoDB stream 4 times per second; the twin does the same. */
const POLL_MS = 250;
/** A write whose entry is not gone by then counts as missing. */
const GIVE_UP_MS = 5_000;

export interface InvalidationResult {
  /** Writes made straight to the table. */
  readonly samples: number;
  /** Of those, writes whose entry was not deleted within 5 s. */
  readonly missing: number;
  /** Write acknowledged → entry deleted, through the stream alone. */
  readonly streamLagMs: Summary;
  readonly cdf: Array<[number, number]>;
  /** Lambda's (and the twin's) poll interval. */
  readonly pollMs: number;
  /** The API's PUT: the write path deletes the entry before it answers (a negative lag). */
  readonly writePath: { readonly samples: number; readonly goneBeforeAck: number; readonly lagMs: Summary };
  /** What a change would wait without the stream: the entry's TTL and its jitter. */
  readonly ttlSeconds: { readonly min: number; readonly max: number };
}

interface StackJson {
  resource?: { aws_lambda_function?: Record<string, { environment?: { variables?: Record<string, string> } }> };
}

/** The invalidator's key prefix and the API function's TTL, from the synthesized stack. */
function stackFacts(outDir: string): { prefix: string; ttl: { min: number; max: number } } {
  const json = JSON.parse(readFileSync(path.join(outDir, "stacks", "product-catalog-dev", "cdk.tf.json"), "utf8")) as StackJson;
  const envs = Object.values(json.resource?.aws_lambda_function ?? {}).map((f) => f.environment?.variables ?? {});
  const inv = envs.find((e) => e[INVALIDATOR_SETTINGS.cacheWaitMs.env] !== undefined);
  const api = envs.find((e) => e[INVALIDATOR_SETTINGS.cacheWaitMs.env] === undefined && e[CONNECTIONS.tableName.env] !== undefined);
  if (!inv || !api) throw new Error("product-catalog-dev has no stream invalidator next to its API function");
  const prefix = inv[RUNTIME_SETTINGS.keyPrefix.env] ?? inv[RUNTIME_SETTINGS.serviceName.env];
  const ttl = Number(api[RUNTIME_SETTINGS.ttlSeconds.env]);
  const jitter = Number(api[RUNTIME_SETTINGS.ttlJitterRatio.env]);
  return { prefix, ttl: { min: ttl, max: Math.round(ttl * (1 + jitter)) } };
}

export async function runInvalidation(ctx: BenchContext): Promise<InvalidationResult> {
  const redis = await ctx.redis();
  const outDir = await ctx.synthOut();
  const samples = pick(ctx, 100, 20);
  const writePathSamples = pick(ctx, 20, 5);
  const ids = samples + writePathSamples;
  const { prefix, ttl } = stackFacts(outDir);
  const keys = keyLayout(prefix);
  const twin = await startTwin(ctx.root, outDir, redis.url, { seed: ids });
  const admin = new Redis({ host: "127.0.0.1", port: redis.port, maxRetriesPerRequest: 1 });
  const sub = new Redis({ host: "127.0.0.1", port: redis.port, maxRetriesPerRequest: 1 });
  let table: DynamoDBClient | undefined;
  try {
    const outputs = JSON.parse(readFileSync(twin.outputsFile, "utf8"))["product-catalog-dev"] as { api_url: string; sample_token: string; table_name: string };
    const endpoint = twin.lines.map((l) => /^dynamodb: (http:\/\/\S+) /.exec(l)?.[1]).find(Boolean);
    if (!endpoint) throw new Error("the twin printed no table endpoint");
    table = new DynamoDBClient({ endpoint, region: "us-east-1", credentials: { accessKeyId: "bench", secretAccessKey: "bench" }, maxAttempts: 1 });

    // Deletions as Redis sees them: one "del" event per deleted key, stamped on arrival.
    await admin.config("SET", "notify-keyspace-events", "Kg");
    const waiting = new Map<string, (at: number) => void>();
    sub.on("pmessage", (_p: string, channel: string, event: string) => {
      if (event !== "del") return;
      const key = channel.slice(channel.indexOf(":") + 1);
      waiting.get(key)?.(performance.now());
    });
    await sub.psubscribe(`__keyspace@0__:${keys.scanPrefix}*`);
    const deleted = (id: string): Promise<number | undefined> => {
      const key = keys.value(productCacheKey(id));
      return new Promise((resolve) => {
        const timer = setTimeout(() => (waiting.delete(key), resolve(undefined)), GIVE_UP_MS);
        waiting.set(key, (at) => (clearTimeout(timer), waiting.delete(key), resolve(at)));
      });
    };
    const cache = async (id: string) => {
      for (let i = 0; i < 50; i++) {
        const r = await request(`${outputs.api_url}/products/${id}`);
        if (r.status === 200 && r.headers["x-cache"] === "HIT") return;
        await sleep(20);
      }
      throw new Error(`product ${id} was never served from the cache`);
    };
    ctx.progress(`twin up with ${ids} seeded products; ${samples} writes straight to the table, then ${writePathSamples} API PUTs`);

    const rnd = mulberry32(8);
    const streamLags: number[] = [];
    let missing = 0;
    for (let i = 1; i <= samples; i++) {
      const id = `sample-${i}`;
      await cache(id);
      await sleep(rnd() * 100); // any phase of the poll
      const gone = deleted(id);
      await table.send(new PutItemCommand({ TableName: outputs.table_name, Item: { productId: { S: id }, name: { S: id }, price: { N: String(i) } } }));
      const acked = performance.now();
      const at = await gone;
      if (at === undefined) missing++;
      else streamLags.push(at - acked);
    }

    const writeLags: number[] = [];
    for (let i = samples + 1; i <= ids; i++) {
      const id = `sample-${i}`;
      await cache(id);
      const gone = deleted(id);
      const r = await request(`${outputs.api_url}/products/${id}`, { method: "PUT", headers: { authorization: `Bearer ${outputs.sample_token}`, "content-type": "application/json" }, body: JSON.stringify({ name: id, price: i }) });
      const acked = performance.now();
      if (r.status !== 200) throw new Error(`PUT ${id}: ${r.status} ${r.body}`);
      const at = await gone;
      if (at !== undefined) writeLags.push(at - acked);
    }
    const lag = roundSummary(summarize(streamLags), 1);
    ctx.progress(`stream path: p50 ${lag.p50} ms, p99 ${lag.p99} ms over ${streamLags.length} writes (${missing} missing)`);
    return {
      samples,
      missing,
      streamLagMs: lag,
      cdf: cdfPoints(streamLags).map(([x, y]) => [round(x, 1), y]),
      pollMs: POLL_MS,
      writePath: { samples: writePathSamples, goneBeforeAck: writeLags.filter((l) => l <= 0).length, lagMs: roundSummary(summarize(writeLags), 1) },
      ttlSeconds: ttl,
    };
  } finally {
    table?.destroy();
    sub.disconnect();
    await admin.config("SET", "notify-keyspace-events", "").catch(() => undefined);
    admin.disconnect();
    await twin.stop();
  }
}
