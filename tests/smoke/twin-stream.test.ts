/**
 * The twin's DynamoDB stream and event source mapping (tools/twin/stream.ts, stream-mapping.ts), in process:
 * - capture: every write through the proxy becomes the record DynamoDB would write (INSERT,
 *   MODIFY, REMOVE, none for a write that changes nothing), the TTL sweep's with DynamoDB's identity;
 * - delivery: batches, the batching window, per-key order across lanes, partial batch responses
 *   (checkpoint before the lowest failed record), whole-batch failures and bisection, retries and
 *   record age ending in the on-failure destination's JSONL, with a scripted function;
 * - and the real invalidator behind it, against redis-server: one record it cannot map goes to the
 *   destination alone after the retries, every other record of its batch is invalidated exactly once.
 */
import { BatchWriteItemCommand, DeleteItemCommand, DynamoDBClient, PutItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import { mkdtempSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { createCacheStore } from "../../functions/lib/cache";
import type { CacheStore } from "../../functions/lib/cache/types";
import { loadRuntimeConfig } from "../../functions/lib/config";
import { CONNECTIONS, defineContract, defineInvalidator, environmentOf, RUNTIME_SETTINGS } from "../../functions/lib/contract";
import { defineStreamInvalidator } from "../../functions/lib/stream";
import { PRODUCTS, productCacheKey } from "../../functions/products/contract";
import { DynamoHandle, startDynamo } from "../../tools/twin/dynamo";
import type { InvokeOutcome } from "../../tools/twin/functions";
import type { TableDef } from "../../tools/twin/stack";
import { StreamCapture, StreamRecordJson, TableStream } from "../../tools/twin/stream";
import { StreamDelivery, StreamMappingDef } from "../../tools/twin/stream-mapping";
import { dynamoDbClientFor } from "../helpers/dynalite";
import { RedisServerHandle, startRedis } from "../helpers/redis-server";

jest.setTimeout(60_000);
process.env.LOG_LEVEL = "silent";

const ITEMS: TableDef = {
  logicalId: "items", name: "items", hashKey: "pk", rangeKey: "sk", ttlAttribute: "expiresAt",
  attributes: [{ name: "pk", type: "S" }, { name: "sk", type: "S" }], globalSecondaryIndexes: [], localSecondaryIndexes: [],
};
const KEYS: TableDef = { ...ITEMS, logicalId: "keys", name: "keys-only", rangeKey: undefined, attributes: [{ name: "pk", type: "S" }] };
const PRODUCT_TABLE: TableDef = { ...KEYS, logicalId: "products", name: "products", hashKey: "productId", attributes: [{ name: "productId", type: "S" }] };

let dyn: DynamoHandle;
let client: DynamoDBClient;
let reader: DynamoDBClient;
let capture: StreamCapture;
let items: TableStream;
let keysOnly: TableStream;
let products: TableStream;
const dir = mkdtempSync(path.join(tmpdir(), "twin-stream-"));

beforeAll(async () => {
  dyn = await startDynamo([ITEMS, KEYS, PRODUCT_TABLE]);
  client = dynamoDbClientFor(dyn.endpoint);
  reader = dynamoDbClientFor(dyn.upstream);
  capture = new StreamCapture(reader);
  items = capture.stream(ITEMS, "NEW_AND_OLD_IMAGES", "eu-west-1");
  keysOnly = capture.stream(KEYS, "KEYS_ONLY", "eu-west-1");
  products = capture.stream(PRODUCT_TABLE, "KEYS_ONLY", "us-east-1");
  dyn.observeWrites(capture);
});
afterAll(async () => {
  client?.destroy();
  reader?.destroy();
  await dyn?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The records `stream` makes while `act` runs. */
async function recorded(stream: TableStream, act: () => Promise<unknown>): Promise<StreamRecordJson[]> {
  const out: StreamRecordJson[] = [];
  const off = stream.subscribe((r) => out.push(r.record));
  try {
    await act().catch(() => undefined);
  } finally {
    off();
  }
  return out;
}

const k = (pk: string, sk = "s") => ({ pk: { S: pk }, sk: { S: sk } });
const put = (pk: string, extra: Record<string, unknown> = {}) => client.send(new PutItemCommand({ TableName: "items", Item: { ...k(pk), ...marshall(extra) } }));

describe("capture: a record for every change, as DynamoDB writes it", () => {
  test("INSERT, MODIFY and REMOVE with the view's images; nothing for a repeated put, a missing delete or a failed condition", async () => {
    const r = await recorded(items, async () => {
      await put("a", { v: 1 });
      await put("a", { v: 1 }); // no change
      await put("a", { v: 2 });
      await client.send(new PutItemCommand({ TableName: "items", Item: { ...k("a"), v: { N: "3" } }, ConditionExpression: "attribute_not_exists(pk)" })).catch(() => undefined);
      await client.send(new DeleteItemCommand({ TableName: "items", Key: k("missing") }));
      await client.send(new UpdateItemCommand({ TableName: "items", Key: k("u"), UpdateExpression: "SET v = :v", ExpressionAttributeValues: { ":v": { N: "1" } } }));
      await client.send(new DeleteItemCommand({ TableName: "items", Key: k("a") }));
    });
    expect(r.map((x) => [x.eventName, x.dynamodb.Keys.pk.S])).toEqual([["INSERT", "a"], ["MODIFY", "a"], ["INSERT", "u"], ["REMOVE", "a"]]);
    expect(r[0].dynamodb).toEqual(expect.objectContaining({ Keys: k("a"), NewImage: { ...k("a"), v: { N: "1" } }, StreamViewType: "NEW_AND_OLD_IMAGES" }));
    expect(r[0].dynamodb.OldImage).toBeUndefined();
    expect([r[1].dynamodb.OldImage?.v, r[1].dynamodb.NewImage?.v]).toEqual([{ N: "1" }, { N: "2" }]);
    expect([r[3].dynamodb.OldImage?.v, r[3].dynamodb.NewImage]).toEqual([{ N: "2" }, undefined]);
    // sequence numbers grow (numerically and as text), times are whole seconds, the ARN names the table's stream
    const seqs = r.map((x) => x.dynamodb.SequenceNumber);
    expect(seqs.every((s, i) => i === 0 || (BigInt(s) > BigInt(seqs[i - 1]) && s > seqs[i - 1]))).toBe(true);
    expect(Number.isInteger(r[0].dynamodb.ApproximateCreationDateTime)).toBe(true);
    expect(Math.abs(r[0].dynamodb.ApproximateCreationDateTime - Date.now() / 1000)).toBeLessThan(5);
    expect(r[0]).toEqual(expect.objectContaining({ eventSource: "aws:dynamodb", eventVersion: "1.1", awsRegion: "eu-west-1" }));
    expect(r[0].eventSourceARN).toMatch(/^arn:aws:dynamodb:eu-west-1:\d{12}:table\/items\/stream\/\d{4}-\d\d-\d\dT[\d:.]+$/);
    expect(r.some((x) => x.userIdentity)).toBe(false);
  });

  test("BatchWriteItem makes one record per changed item, in request order; KEYS_ONLY carries no image", async () => {
    await put("b1");
    const r = await recorded(items, () => client.send(new BatchWriteItemCommand({
      RequestItems: { items: [{ PutRequest: { Item: k("b2") } }, { DeleteRequest: { Key: k("b1") } }, { DeleteRequest: { Key: k("nothing") } }] },
    })));
    expect(r.map((x) => [x.eventName, x.dynamodb.Keys.pk.S])).toEqual([["INSERT", "b2"], ["REMOVE", "b1"]]);
    const ko = await recorded(keysOnly, () => client.send(new PutItemCommand({ TableName: "keys-only", Item: { pk: { S: "x" }, big: { S: "y".repeat(100) } } })));
    expect(ko.map((x) => [x.eventName, x.dynamodb.Keys, x.dynamodb.NewImage, x.dynamodb.OldImage])).toEqual([["INSERT", { pk: { S: "x" } }, undefined, undefined]]);
  });

  test("the TTL sweep's deletions carry DynamoDB's service identity; an item extended since the scan is kept", async () => {
    const past = Math.floor(Date.now() / 1000) - 10;
    await put("ttl", { expiresAt: past });
    await put("fresh", { expiresAt: past + 3600 });
    const r = await recorded(items, () => dyn.sweepExpired());
    expect(r.map((x) => [x.eventName, x.dynamodb.Keys.pk.S, x.userIdentity])).toEqual([
      ["REMOVE", "ttl", { type: "Service", principalId: "dynamodb.amazonaws.com" }],
    ]);
  });

  test("writes that bypass the proxy (dynalite's own port) are not seen: the twin publishes only the proxy", async () => {
    const direct = dynamoDbClientFor(dyn.upstream);
    try {
      expect(await recorded(items, () => direct.send(new PutItemCommand({ TableName: "items", Item: k("bypass") })))).toEqual([]);
    } finally {
      direct.destroy();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Delivery, with a scripted function.

type Script = (records: StreamRecordJson[], call: number) => InvokeOutcome | unknown;

function mapping(over: Partial<StreamMappingDef> = {}): StreamMappingDef {
  return {
    logicalId: "m", table: KEYS, viewType: "KEYS_ONLY", functionLogicalId: "f", enabled: true, startingPosition: "LATEST",
    batchSize: 100, batchingWindowSeconds: 0, reportBatchItemFailures: true, bisectOnError: true,
    maximumRetryAttempts: 10, maximumRecordAgeSeconds: -1, parallelizationFactor: 1, ...over,
  };
}

let fileSeq = 0;
/** A delivery of a fresh stream to `script`; every invocation's records are kept. */
function deliver(over: Partial<StreamMappingDef>, script: Script) {
  const stream = new TableStream(KEYS, "KEYS_ONLY", "us-east-1");
  const calls: StreamRecordJson[][] = [];
  const destinationFile = path.join(dir, `failures-${++fileSeq}.jsonl`);
  const d = new StreamDelivery(mapping(over), stream, async (event) => {
    calls.push(event.Records);
    const out = await script(event.Records, calls.length);
    return out && typeof out === "object" && "kind" in (out as object) ? (out as InvokeOutcome) : { kind: "ok", result: out, coldStart: false };
  }, { functionArn: "arn:aws:lambda:us-east-1:123456789012:function:f", destinationFile, note: () => undefined, pollMs: 10 });
  d.start();
  const emit = (...pks: string[]) => pks.map((pk) => stream.change({ pk: { S: pk } }, undefined, { pk: { S: pk } }, false)!.dynamodb.SequenceNumber);
  const failures = () => readFileSync(destinationFile, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
  return { d, stream, calls, emit, failures, pks: () => calls.map((c) => c.map((r) => r.dynamodb.Keys.pk.S)) };
}
const failed = (seq: string) => ({ batchItemFailures: [{ itemIdentifier: seq }] });
const error = (msg = "boom"): InvokeOutcome => ({ kind: "error", error: { errorType: "Error", errorMessage: msg }, coldStart: false });

describe("delivery, as Lambda's event source mapping does it", () => {
  test("batches of at most batchSize, in stream order", async () => {
    const x = deliver({ batchSize: 2 }, () => null);
    x.emit("a", "b", "c", "d", "e");
    await x.d.idle();
    expect(x.pks()).toEqual([["a", "b"], ["c", "d"], ["e"]]);
    await x.d.stop();
  });

  test("the batching window gathers what arrives within it", async () => {
    const x = deliver({ batchingWindowSeconds: 1 }, () => null);
    const t0 = Date.now();
    x.emit("a");
    await new Promise((r) => setTimeout(r, 300));
    x.emit("b");
    await x.d.idle();
    expect(x.pks()).toEqual([["a", "b"]]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
    await x.d.stop();
  });

  test("a partial batch response checkpoints before the lowest failed record and retries from it; the records before it are not sent again", async () => {
    let seqs: string[] = [];
    const x = deliver({}, (recs, call) => (call === 1 ? { batchItemFailures: [{ itemIdentifier: seqs[3] }, { itemIdentifier: seqs[2] }] } : { batchItemFailures: [] }));
    seqs = x.emit("a", "b", "c", "d", "e");
    await x.d.idle();
    expect(x.pks()).toEqual([["a", "b", "c", "d", "e"], ["c", "d", "e"]]);
    expect(x.failures()).toEqual([]);
    await x.d.stop();
  });

  test("an itemIdentifier that is empty or not of the batch fails the whole batch (bisected)", async () => {
    for (const bad of [{ batchItemFailures: [{ itemIdentifier: "" }] }, { batchItemFailures: [{ itemIdentifier: "1" }] }, { batchItemFailures: [{ id: "x" }] }, "not an object"]) {
      const x = deliver({}, (recs, call) => (call === 1 ? bad : null));
      x.emit("a", "b", "c");
      await x.d.idle();
      expect(x.pks()).toEqual([["a", "b", "c"], ["a", "b"], ["c"]]);
      await x.d.stop();
    }
  });

  test("without ReportBatchItemFailures a partial batch response is ignored: the batch counts as done", async () => {
    let seqs: string[] = [];
    const x = deliver({ reportBatchItemFailures: false }, () => failed(seqs[0]));
    seqs = x.emit("a", "b");
    await x.d.idle();
    expect(x.pks()).toEqual([["a", "b"]]);
    await x.d.stop();
  });

  test("a failing record is bisected down to itself (splits cost no retry), goes to the destination after the retries, and the others go on", async () => {
    const x = deliver({ maximumRetryAttempts: 1 }, (recs) => (recs.some((r) => r.dynamodb.Keys.pk.S === "bad") ? error("bad record") : null));
    const seqs = x.emit("a", "bad", "c", "d");
    await x.d.idle();
    expect(x.pks()).toEqual([["a", "bad", "c", "d"], ["a", "bad"], ["a"], ["bad"], ["bad"], ["c", "d"]]);
    const [f] = x.failures();
    expect(x.failures()).toHaveLength(1);
    expect(f).toEqual({
      requestContext: { requestId: expect.any(String), functionArn: "arn:aws:lambda:us-east-1:123456789012:function:f", condition: "RetryAttemptsExhausted", approximateInvokeCount: 4 },
      responseContext: { statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled" },
      version: "1.0",
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      DDBStreamBatchInfo: {
        shardId: x.stream.shardId, startSequenceNumber: seqs[1], endSequenceNumber: seqs[1], batchSize: 1, streamArn: x.stream.arn,
        approximateArrivalOfFirstRecord: expect.stringMatching(/Z$/), approximateArrivalOfLastRecord: expect.stringMatching(/Z$/),
      },
    });
    await x.d.stop();
  });

  test("without bisection a failing batch is retried whole, then dropped whole", async () => {
    const x = deliver({ bisectOnError: false, maximumRetryAttempts: 2 }, () => error());
    const seqs = x.emit("a", "b");
    await x.d.idle();
    expect(x.pks()).toEqual([["a", "b"], ["a", "b"], ["a", "b"]]);
    expect(x.failures().map((f) => [f.DDBStreamBatchInfo.startSequenceNumber, f.DDBStreamBatchInfo.endSequenceNumber, f.DDBStreamBatchInfo.batchSize]))
      .toEqual([[seqs[0], seqs[1], 2]]);
    await x.d.stop();
  });

  test("a record older than maximumRecordAgeInSeconds is dropped unsent, as RecordAgeExceeded", async () => {
    const x = deliver({ maximumRecordAgeSeconds: 0 }, () => null);
    x.emit("old");
    await x.d.idle();
    expect(x.calls).toEqual([]);
    expect(x.failures().map((f) => [f.requestContext.condition, f.requestContext.approximateInvokeCount])).toEqual([["RecordAgeExceeded", 0]]);
    await x.d.stop();
  });

  test("a key's changes stay in order across retries; with two lanes, another key is not held back", async () => {
    let firstA = true;
    let seqs: string[] = [];
    const x = deliver({ parallelizationFactor: 2, batchSize: 1 }, async (recs) => {
      const pk = recs[0].dynamodb.Keys.pk.S;
      if (pk === "A" && recs[0].dynamodb.SequenceNumber === seqs[0] && firstA) {
        firstA = false;
        await new Promise((r) => setTimeout(r, 200));
        return failed(recs[0].dynamodb.SequenceNumber);
      }
      return null;
    });
    // Find a partition that shares no lane with A: "A" and the first of B… that lands elsewhere.
    seqs = x.emit("A", "A");
    const others = ["B", "C", "D", "E", "F", "G"];
    x.emit(...others);
    await x.d.idle();
    const order = x.calls.map((c) => c[0].dynamodb.SequenceNumber);
    // A's first change is delivered (twice) before its second, and some other key finished while A waited.
    const aCalls = x.calls.map((c, i) => [c[0].dynamodb.Keys.pk.S, i] as const).filter(([pk]) => pk === "A").map(([, i]) => order[i]);
    expect(aCalls).toEqual([seqs[0], seqs[0], seqs[1]]);
    const firstRetryOfA = x.calls.findIndex((c, i) => i > 0 && c[0].dynamodb.SequenceNumber === seqs[0]);
    expect(x.calls.slice(0, firstRetryOfA).some((c) => c[0].dynamodb.Keys.pk.S !== "A")).toBe(true);
    await x.d.stop();
  });
});

// ---------------------------------------------------------------------------------------------
// The real invalidator behind the mapping.

describe("the invalidator behind the mapping (real redis-server)", () => {
  let redis: RedisServerHandle;
  let store: CacheStore;
  const invalidated = new Map<string, number>();
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await store?.close();
    await redis?.stop();
  });

  test("GIVEN a batch with one record the invalidator cannot map THEN it alone reaches the destination after the retries; every other record is invalidated exactly once", async () => {
    const env = {
      ...environmentOf(RUNTIME_SETTINGS, { serviceName: "product-catalog", keyPrefix: `stream-${process.pid}` }),
      ...environmentOf(CONNECTIONS, { region: "us-east-1", tableName: "products", redisHost: "127.0.0.1", redisPort: redis.port, redisTls: false }),
    };
    const config = loadRuntimeConfig(env);
    const real = createCacheStore(config);
    store = real;
    // Counts what reaches Redis, per key.
    const counting: CacheStore = Object.assign(Object.create(real) as CacheStore, {
      invalidate: async (key: string) => {
        await real.invalidate(key);
        invalidated.set(key, (invalidated.get(key) ?? 0) + 1);
      },
    });
    const fronts = defineContract({
      ...PRODUCTS,
      cacheKeysOf: (keys: Readonly<Record<string, unknown>>) => {
        if (keys.productId === "poison") throw new Error("cannot map poison");
        return PRODUCTS.cacheKeysOf!(keys);
      },
    });
    const h = defineStreamInvalidator(defineInvalidator(fronts, { entry: "unused.ts" })).createHandler({ env, config, store: counting });
    const ids = ["a", "b", "poison", "c", "d"];
    for (const id of ids) await real.set(productCacheKey(id), '{"v":1}', 300);

    const destinationFile = path.join(dir, "invalidator-failures.jsonl");
    const d = new StreamDelivery(mapping({ table: PRODUCT_TABLE, maximumRetryAttempts: 2 }), products, async (event) => {
      try {
        return { kind: "ok", result: await h(event), coldStart: false };
      } catch (err) {
        return { kind: "error", error: { errorType: (err as Error).name, errorMessage: (err as Error).message }, coldStart: false };
      }
    }, { functionArn: "arn:aws:lambda:us-east-1:123456789012:function:inv", destinationFile, note: () => undefined, pollMs: 20 });
    d.start();
    // One request, so the five records are one batch.
    await client.send(new BatchWriteItemCommand({
      RequestItems: { products: ids.map((id) => ({ PutRequest: { Item: { productId: { S: id }, price: { N: "2" } } } })) },
    }));
    await d.idle();
    await d.stop();

    expect(Object.fromEntries(invalidated)).toEqual(Object.fromEntries(["a", "b", "c", "d"].map((id) => [productCacheKey(id), 1])));
    for (const id of ["a", "b", "c", "d"]) expect(await real.get(productCacheKey(id))).toBeUndefined();
    expect(await real.get(productCacheKey("poison"))).toBe('{"v":1}'); // left to its TTL, and reported
    const lines = readFileSync(destinationFile, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.requestContext.condition, l.DDBStreamBatchInfo.batchSize])).toEqual([["RetryAttemptsExhausted", 1]]);
    // [a b P c d]: P reported (retry 1) → [P c d]: thrown, bisected → [P c]: thrown, bisected → [P]: reported
    // (retry 2), again (retry 3 > 2: dropped) → [c] → [d].
    expect(d.invocations).toBe(7);
  });
});
