/**
 * Stream-driven invalidation in the product catalog's twin, as a user meets it: a write made
 * straight to the table (the endpoint the twin prints) stops being served from the cache within
 * 2 s; and a PUT acknowledged while Redis hung (SIGSTOP), its container gone before Redis came
 * back 5 s later, leaves no stale read that starts more than 2 s after the resume. The same
 * checks against a twin whose stream is off (--no-stream) find the stale reads: they can fail.
 */
import { PutItemCommand } from "@aws-sdk/client-dynamodb";
import { RedisServerHandle, startRedis } from "../helpers/redis-server";
import { functionPids, Read, readUntil, tableClient } from "./stream-checks";
import { requireCompiledTools, startTwin, TwinProcess } from "./twin-process";

jest.setTimeout(120_000);

/** How long after the resume a read may still be stale (the acceptance's bound). */
const GRACE_MS = 2_000;

interface Api {
  readonly url: string;
  put(id: string, price: number): Promise<number>;
  get(id: string): Promise<{ cache: string | null; price: unknown }>;
  /**
   * Reads until the cache serves `price`. The write's own stream record arrives a few hundred ms
   * after it and may delete an entry filled in between: one extra miss, nothing stale.
   */
  cached(id: string, price: number): Promise<void>;
}

function api(twin: TwinProcess): Api {
  const out = twin.outputs() as { api_url: string; sample_token: string };
  return {
    url: out.api_url,
    put: async (id, price) => (await fetch(`${out.api_url}/products/${id}`, {
      method: "PUT", headers: { authorization: `Bearer ${out.sample_token}`, "content-type": "application/json" }, body: JSON.stringify({ name: id, price }),
    })).status,
    get: async (id) => {
      const r = await fetch(`${out.api_url}/products/${id}`);
      return { cache: r.headers.get("x-cache"), price: ((await r.json()) as { price?: unknown }).price };
    },
    cached: async (id, price) => {
      const deadline = Date.now() + 3_000;
      let last: unknown;
      while (Date.now() < deadline) {
        const r = await fetch(`${out.api_url}/products/${id}`);
        last = { cache: r.headers.get("x-cache"), price: ((await r.json()) as { price?: unknown }).price };
        if ((last as { cache: string }).cache === "HIT" && (last as { price: unknown }).price === price) return;
        await new Promise((res) => setTimeout(res, 50));
      }
      throw new Error(`product ${id} not served from the cache at price ${price} within 3 s; last ${JSON.stringify(last)}`);
    },
  };
}

/** Writes price 99 to the table directly; the milliseconds until the API no longer serves the old price (or -1 after `withinMs`). */
async function directWriteConverges(twin: TwinProcess, id: string, withinMs: number): Promise<number> {
  const a = api(twin);
  expect(await a.put(id, 10)).toBe(201);
  await a.cached(id, 10);
  const c = tableClient(twin);
  try {
    await c.send(new PutItemCommand({ TableName: String(twin.outputs().table_name), Item: { productId: { S: id }, name: { S: id }, price: { N: "99" } } }));
  } finally {
    c.destroy();
  }
  const t0 = Date.now();
  while (Date.now() - t0 < withinMs) {
    if ((await a.get(id)).price === 99) return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 25));
  }
  return -1;
}

/**
 * The hung-Redis write: reads open the API process's circuit, the PUT's invalidation then fails
 * fast and stays pending in that process, which is recycled before Redis resumes (as Lambda
 * recycles containers); reads after the resume go to a fresh process. Returns every read made
 * after the resume and the resume time.
 */
async function writeWhileRedisHangs(twin: TwinProcess, redis: RedisServerHandle, id: string): Promise<{ reads: Read[]; resumedAt: number }> {
  const a = api(twin);
  expect(await a.put(id, 1)).toBe(201);
  await a.cached(id, 1);
  redis.pause();
  const pausedAt = Date.now();
  let resumedAt = 0;
  try {
    for (let i = 0; i < 4; i++) expect((await a.get(id)).cache).toBe("BYPASS"); // circuit opens
    expect(await a.put(id, 2)).toBe(200); // acknowledged; its invalidation fails fast
    const writers = functionPids(twin, "fn_");
    expect(writers).toHaveLength(1);
    process.kill(writers[0], "SIGKILL");
    await new Promise((r) => setTimeout(r, Math.max(0, pausedAt + 5_000 - Date.now())));
  } finally {
    redis.resume();
    resumedAt = Date.now();
  }
  const reads = await readUntil(`${a.url}/products/${id}`, resumedAt + GRACE_MS + 2_000);
  return { reads, resumedAt };
}

const stale = (reads: Read[], after: number) => reads.filter((r) => r.startedAt > after && r.body.price === 1);

beforeAll(() => requireCompiledTools());

describe("product catalog twin, stream on", () => {
  let redis: RedisServerHandle;
  let twin: TwinProcess;
  beforeAll(async () => {
    redis = await startRedis();
    twin = await startTwin(["--redis-url", redis.url]);
  });
  afterAll(async () => {
    await twin?.stop();
    await redis?.stop();
  });

  test("prints the tables' endpoint and the stream it runs", () => {
    expect(twin.stdout()).toMatch(/^dynamodb: http:\/\/127\.0\.0\.1:\d+ serves the tables above: write to them with the AWS CLI or an SDK/m);
    expect(twin.stdout()).toMatch(/^stream: product-catalog-dev-products-\S+ \(KEYS_ONLY\) → product-catalog-dev-invalidator-function-\S+: batch 100, window 0 s, ReportBatchItemFailures, bisect on error, retries 10, record age 334 s, 1 batch\(es\) per shard; batches given up on → .*\.jsonl$/m);
  });

  test("a write straight to the table is no longer served from the cache within 2 s", async () => {
    const ms = await directWriteConverges(twin, "direct-1", 2_000);
    expect(ms).toBeGreaterThanOrEqual(0);
    expect(ms).toBeLessThan(2_000);
  });

  test("Redis hung during a PUT, resumed 5 s later: no stale read starts later than 2 s after the resume", async () => {
    const { reads, resumedAt } = await writeWhileRedisHangs(twin, redis, "hung-1");
    expect(reads.filter((r) => r.startedAt > resumedAt + GRACE_MS).length).toBeGreaterThan(20);
    expect(stale(reads, resumedAt + GRACE_MS)).toEqual([]);
    expect(reads[reads.length - 1]).toEqual(expect.objectContaining({ status: 200, cache: "HIT", body: expect.objectContaining({ price: 2 }) }));
  });
});

describe("the same checks with the stream off (--no-stream) find stale reads: they can fail", () => {
  let redis: RedisServerHandle;
  let twin: TwinProcess;
  beforeAll(async () => {
    redis = await startRedis();
    twin = await startTwin(["--redis-url", redis.url, "--no-stream"]);
  });
  afterAll(async () => {
    await twin?.stop();
    await redis?.stop();
  });

  test("a write straight to the table is served stale", async () => {
    expect(twin.stdout()).toMatch(/^stream: off \(--no-stream, test only\)/m);
    expect(await directWriteConverges(twin, "direct-2", 2_000)).toBe(-1);
  });

  test("the hung-Redis PUT is served stale long after the resume", async () => {
    const { reads, resumedAt } = await writeWhileRedisHangs(twin, redis, "hung-2");
    const late = reads.filter((r) => r.startedAt > resumedAt + GRACE_MS);
    expect(stale(reads, resumedAt + GRACE_MS)).toHaveLength(late.length);
    expect(late.every((r) => r.cache === "HIT")).toBe(true);
  });
});
