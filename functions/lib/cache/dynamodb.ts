/**
 * Cache store on a DynamoDB table with TTL (partition key `pk`, TTL attribute `exp`):
 * `const cache = new DynamoDbCacheStore({ client, tableName: config.cacheTableName!, keyPrefix: "svc" });`
 *
 * Item layout: `pk` = `<prefix>:{key}`; `v` value; `xm` expiry in epoch ms (what reads check);
 * `exp` = ceil(xm / 1000), the table's TTL attribute (epoch seconds, deletion is lazy);
 * `lt` lease token and `lx` lease expiry (epoch ms). The lease lives in the value's item so that
 * "store if the lease is still mine" is a single conditional UpdateItem.
 * Rate-limit windows: `pk` = `<prefix>:{key}:window`, `h` list of hit times (ms), `ver` version.
 */
import {
  AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  UpdateItemCommand,
  WriteRequest,
} from "@aws-sdk/client-dynamodb";
import type { CacheEntry, CacheStats, CacheStore, WindowResult } from "./types";
import { assertPositiveMs, assertTtlSeconds, clampRetryAfter, keyLayout, KeyLayout, remainingSeconds, StatsCounter } from "./keys";

type Item = Record<string, AttributeValue>;

export interface DynamoDbCacheStoreOptions {
  /** Prefix of every key (`<prefix>:{key}`). */
  readonly keyPrefix: string;
  /** The cache table (partition key `pk` of type S, TTL on `exp`). */
  readonly tableName: string;
  /** The client to use (injectable for tests and the local twin). */
  readonly client: Pick<DynamoDBClient, "send">;
  /**
   * Clock in epoch ms, injectable so tests need not sleep.
   * @default Date.now
   */
  readonly now?: () => number;
  /**
   * Strongly consistent reads: an eventually consistent read could return a value just
   * invalidated by a writer, which is exactly what the cache must not serve.
   * @default true
   */
  readonly consistentRead?: boolean;
  /**
   * How many optimistic-concurrency rounds one hitWindow may take before it fails.
   * @default 40
   */
  readonly windowMaxAttempts?: number;
}

const NAMES = { "#v": "v", "#x": "xm", "#e": "exp", "#lt": "lt", "#lx": "lx" };
const BATCH_GET = 100;
const BATCH_WRITE = 25;
const BATCH_RETRIES = 8;

const n = (x: number): AttributeValue => ({ N: String(x) });
const s = (x: string): AttributeValue => ({ S: x });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function isConditionFailure(err: unknown): boolean {
  return (err as { name?: string } | undefined)?.name === "ConditionalCheckFailedException";
}

/** Epoch ms when the item's value expires (Infinity when it has none). */
function expiresAt(item: Item): number {
  if (item.xm?.N) return Number(item.xm.N);
  if (item.exp?.N) return Number(item.exp.N) * 1000;
  return Infinity;
}

/** The value, unless absent or past its expiry (TTL deletion can be days late). */
function liveValue(item: Item | undefined, now: number): string | undefined {
  if (!item || item.v?.S === undefined) return undefined;
  return expiresAt(item) > now ? item.v.S : undefined;
}

export class DynamoDbCacheStore implements CacheStore {
  readonly kind = "dynamodb" as const;
  private readonly keys: KeyLayout;
  private readonly client: Pick<DynamoDBClient, "send">;
  private readonly table: string;
  private readonly now: () => number;
  private readonly consistent: boolean;
  private readonly windowAttempts: number;
  private readonly counters = new StatsCounter("dynamodb");

  constructor(options: DynamoDbCacheStoreOptions) {
    this.keys = keyLayout(options.keyPrefix);
    if (!options.tableName) throw new Error("DynamoDbCacheStore: tableName is required");
    this.client = options.client;
    this.table = options.tableName;
    this.now = options.now ?? Date.now;
    this.consistent = options.consistentRead ?? true;
    this.windowAttempts = options.windowMaxAttempts ?? 40;
  }

  private track<T>(fn: () => Promise<T>): Promise<T> {
    return this.counters.track(fn);
  }

  private expiry(ttlSeconds: number): { xm: number; exp: number } {
    const xm = this.now() + ttlSeconds * 1000;
    return { xm, exp: Math.ceil(xm / 1000) };
  }

  private async getItem(pk: string): Promise<Item | undefined> {
    const out = await this.client.send(new GetItemCommand({ TableName: this.table, Key: { pk: s(pk) }, ConsistentRead: this.consistent }));
    return out.Item;
  }

  async get(key: string): Promise<string | undefined> {
    const pk = this.keys.value(key);
    const v = liveValue(await this.track(() => this.getItem(pk)), this.now());
    if (v === undefined) this.counters.misses++;
    else this.counters.hits++;
    return v;
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    assertTtlSeconds(ttlSeconds);
    const pk = this.keys.value(key);
    const { xm, exp } = this.expiry(ttlSeconds);
    // UpdateItem, not PutItem: a value write must leave a lease in the same item alone.
    await this.track(() =>
      this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { pk: s(pk) },
          UpdateExpression: "SET #v = :v, #x = :xm, #e = :exp",
          ExpressionAttributeNames: { "#v": "v", "#x": "xm", "#e": "exp" },
          ExpressionAttributeValues: { ":v": s(value), ":xm": n(xm), ":exp": n(exp) },
        }),
      ),
    );
    this.counters.sets++;
  }

  async delete(...keys: string[]): Promise<number> {
    const pks = [...new Set(keys.map((k) => this.keys.value(k)))];
    const existed = await this.track(() => Promise.all(pks.map((pk) => this.deleteValue(pk))));
    const count = existed.filter(Boolean).length;
    this.counters.deletes += count;
    return count;
  }

  /** Deletes the item unless a live lease sits in it; then removes only the value. */
  private async deleteValue(pk: string): Promise<boolean> {
    const now = this.now();
    try {
      const out = await this.client.send(
        new DeleteItemCommand({
          TableName: this.table,
          Key: { pk: s(pk) },
          ConditionExpression: "attribute_not_exists(#lt) OR #lx <= :now",
          ExpressionAttributeNames: { "#lt": "lt", "#lx": "lx" },
          ExpressionAttributeValues: { ":now": n(now) },
          ReturnValues: "ALL_OLD",
        }),
      );
      return liveValue(out.Attributes, now) !== undefined;
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
    const out = await this.client.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: { pk: s(pk) },
        UpdateExpression: "REMOVE #v",
        ConditionExpression: "attribute_exists(pk)",
        ExpressionAttributeNames: { "#v": "v" },
        ReturnValues: "ALL_OLD",
      }),
    ).catch((err: unknown) => {
      if (isConditionFailure(err)) return { Attributes: undefined };
      throw err;
    });
    return liveValue(out.Attributes, now) !== undefined;
  }

  async getMany(keys: readonly string[]): Promise<Array<string | undefined>> {
    if (keys.length === 0) return [];
    const pks = keys.map((k) => this.keys.value(k));
    const found = await this.track(() => this.batchGet([...new Set(pks)]));
    const now = this.now();
    return pks.map((pk) => {
      const v = liveValue(found.get(pk), now);
      if (v === undefined) this.counters.misses++;
      else this.counters.hits++;
      return v;
    });
  }

  private async batchGet(pks: string[]): Promise<Map<string, Item>> {
    const found = new Map<string, Item>();
    const chunks: string[][] = [];
    for (let i = 0; i < pks.length; i += BATCH_GET) chunks.push(pks.slice(i, i + BATCH_GET));
    await Promise.all(
      chunks.map(async (chunk) => {
        let keys: Item[] = chunk.map((pk) => ({ pk: s(pk) }));
        for (let attempt = 0; keys.length > 0; attempt++) {
          if (attempt >= BATCH_RETRIES) throw new Error(`BatchGetItem on ${this.table}: ${keys.length} keys still unprocessed`);
          if (attempt > 0) await sleep(Math.min(2 ** attempt * 10, 200));
          const out = await this.client.send(
            new BatchGetItemCommand({
              RequestItems: {
                [this.table]: { Keys: keys, ConsistentRead: this.consistent, ProjectionExpression: "pk, #v, #x, #e", ExpressionAttributeNames: { "#v": "v", "#x": "xm", "#e": "exp" } },
              },
            }),
          );
          for (const item of out.Responses?.[this.table] ?? []) found.set(item.pk.S!, item);
          keys = out.UnprocessedKeys?.[this.table]?.Keys ?? [];
        }
      }),
    );
    return found;
  }

  async setMany(entries: readonly CacheEntry[]): Promise<void> {
    if (entries.length === 0) return;
    entries.forEach((e) => assertTtlSeconds(e.ttlSeconds));
    // A batch may not name one key twice: the last entry wins, as it would in a pipeline.
    const byPk = new Map<string, CacheEntry>();
    for (const e of entries) byPk.set(this.keys.value(e.key), e);
    const requests: WriteRequest[] = [...byPk].map(([pk, e]) => {
      const { xm, exp } = this.expiry(e.ttlSeconds);
      // BatchWriteItem can only put whole items: a lease on the key is revoked, which at worst
      // stops a reader's stale fill racing this write.
      return { PutRequest: { Item: { pk: s(pk), v: s(e.value), xm: n(xm), exp: n(exp) } } };
    });
    await this.track(() => this.batchWrite(requests));
    this.counters.sets += entries.length;
  }

  private async batchWrite(requests: WriteRequest[]): Promise<void> {
    const chunks: WriteRequest[][] = [];
    for (let i = 0; i < requests.length; i += BATCH_WRITE) chunks.push(requests.slice(i, i + BATCH_WRITE));
    await Promise.all(
      chunks.map(async (chunk) => {
        let pending = chunk;
        for (let attempt = 0; pending.length > 0; attempt++) {
          if (attempt >= BATCH_RETRIES) throw new Error(`BatchWriteItem on ${this.table}: ${pending.length} requests still unprocessed`);
          if (attempt > 0) await sleep(Math.min(2 ** attempt * 10, 200));
          const out = await this.client.send(new BatchWriteItemCommand({ RequestItems: { [this.table]: pending } }));
          pending = out.UnprocessedItems?.[this.table] ?? [];
        }
      }),
    );
  }

  async has(key: string): Promise<boolean> {
    const pk = this.keys.value(key);
    return liveValue(await this.track(() => this.getItem(pk)), this.now()) !== undefined;
  }

  async expire(key: string, ttlSeconds: number): Promise<boolean> {
    assertTtlSeconds(ttlSeconds);
    const pk = this.keys.value(key);
    const now = this.now();
    const { xm, exp } = this.expiry(ttlSeconds);
    return this.track(() =>
      this.client
        .send(
          new UpdateItemCommand({
            TableName: this.table,
            Key: { pk: s(pk) },
            UpdateExpression: "SET #x = :xm, #e = :exp",
            ConditionExpression: "attribute_exists(#v) AND #x > :now",
            ExpressionAttributeNames: { "#v": "v", "#x": "xm", "#e": "exp" },
            ExpressionAttributeValues: { ":xm": n(xm), ":exp": n(exp), ":now": n(now) },
          }),
        )
        .then(
          () => true,
          (err: unknown) => {
            if (isConditionFailure(err)) return false;
            throw err;
          },
        ),
    );
  }

  async ttl(key: string): Promise<number> {
    const pk = this.keys.value(key);
    const item = await this.track(() => this.getItem(pk));
    const now = this.now();
    if (liveValue(item, now) === undefined) return -2;
    const at = expiresAt(item!);
    return at === Infinity ? -1 : remainingSeconds(at, now);
  }

  stats(): CacheStats {
    return this.counters.snapshot();
  }

  /** Runs a conditional UpdateItem: true when it applied, false when its condition failed. */
  private conditionalUpdate(input: ConstructorParameters<typeof UpdateItemCommand>[0]): Promise<boolean> {
    return this.track(() =>
      this.client.send(new UpdateItemCommand(input)).then(
        () => true,
        (err: unknown) => {
          if (isConditionFailure(err)) return false;
          throw err;
        },
      ),
    );
  }

  async acquireLease(key: string, token: string, ttlMs: number): Promise<boolean> {
    assertPositiveMs("lease ttlMs", ttlMs);
    const now = this.now();
    const lx = now + Math.ceil(ttlMs);
    return this.conditionalUpdate({
      TableName: this.table,
      Key: { pk: s(this.keys.value(key)) },
      // A lease-only item still gets a TTL so that an abandoned lease does not leave it forever.
      UpdateExpression: "SET #lt = :t, #lx = :lx, #e = if_not_exists(#e, :lexp)",
      ConditionExpression: "attribute_not_exists(#lt) OR #lx <= :now",
      ExpressionAttributeNames: { "#lt": "lt", "#lx": "lx", "#e": "exp" },
      ExpressionAttributeValues: { ":t": s(token), ":lx": n(lx), ":lexp": n(Math.ceil(lx / 1000)), ":now": n(now) },
    });
  }

  async setIfLeaseHeld(key: string, value: string, ttlSeconds: number, token: string): Promise<boolean> {
    assertTtlSeconds(ttlSeconds);
    const now = this.now();
    const { xm, exp } = this.expiry(ttlSeconds);
    const ok = await this.conditionalUpdate({
      TableName: this.table,
      Key: { pk: s(this.keys.value(key)) },
      UpdateExpression: "SET #v = :v, #x = :xm, #e = :exp REMOVE #lt, #lx",
      ConditionExpression: "#lt = :t AND #lx > :now",
      ExpressionAttributeNames: NAMES,
      ExpressionAttributeValues: { ":v": s(value), ":xm": n(xm), ":exp": n(exp), ":t": s(token), ":now": n(now) },
    });
    if (ok) this.counters.sets++;
    return ok;
  }

  async releaseLease(key: string, token: string): Promise<void> {
    await this.conditionalUpdate({
      TableName: this.table,
      Key: { pk: s(this.keys.value(key)) },
      UpdateExpression: "REMOVE #lt, #lx",
      ConditionExpression: "#lt = :t",
      ExpressionAttributeNames: { "#lt": "lt", "#lx": "lx" },
      ExpressionAttributeValues: { ":t": s(token) },
    });
  }

  async invalidate(key: string): Promise<void> {
    const pk = this.keys.value(key);
    // Value and lease share the item: one DeleteItem removes both atomically.
    await this.track(() => this.client.send(new DeleteItemCommand({ TableName: this.table, Key: { pk: s(pk) } })));
    this.counters.deletes++;
  }

  /**
   * Optimistic concurrency on one item: read hits + version, decide, write back only if the
   * version is unchanged (else re-read). A refusal writes nothing: the consistent read it rests
   * on already proves the window was full at that instant.
   */
  async hitWindow(key: string, limit: number, windowMs: number, nowMs: number): Promise<WindowResult> {
    assertPositiveMs("windowMs", windowMs);
    const pk = this.keys.window(key);
    return this.track(async () => {
      for (let attempt = 0; attempt < this.windowAttempts; attempt++) {
        if (attempt > 0) await sleep(Math.random() * Math.min(1 + attempt, 10));
        const out = await this.client.send(new GetItemCommand({ TableName: this.table, Key: { pk: s(pk) }, ConsistentRead: true }));
        const item = out.Item;
        const hits = (item?.h?.L ?? []).map((a) => Number(a.N)).filter((t) => t > nowMs - windowMs);
        if (hits.length >= limit) {
          const oldest = hits.length ? Math.min(...hits) : nowMs;
          return { allowed: false, count: hits.length, retryAfterMs: clampRetryAfter(oldest + windowMs - nowMs, windowMs) };
        }
        hits.push(nowMs);
        const version = item?.ver?.N ? Number(item.ver.N) : 0;
        const xm = Math.max(...hits) + windowMs;
        try {
          await this.client.send(
            new PutItemCommand({
              TableName: this.table,
              Item: { pk: s(pk), h: { L: hits.map(n) }, ver: n(version + 1), xm: n(xm), exp: n(Math.ceil(xm / 1000)) },
              ConditionExpression: item ? "#ver = :ver" : "attribute_not_exists(pk)",
              ...(item ? { ExpressionAttributeNames: { "#ver": "ver" }, ExpressionAttributeValues: { ":ver": n(version) } } : {}),
            }),
          );
          return { allowed: true, count: hits.length, retryAfterMs: 0 };
        } catch (err) {
          if (!isConditionFailure(err)) throw err;
        }
      }
      throw new Error(`hitWindow ${pk}: still contended after ${this.windowAttempts} attempts`);
    });
  }

  async clear(): Promise<number> {
    return this.track(async () => {
      let removed = 0;
      let start: Item | undefined;
      do {
        const out = await this.client.send(
          new ScanCommand({
            TableName: this.table,
            ProjectionExpression: "pk",
            FilterExpression: "begins_with(pk, :p)",
            ExpressionAttributeValues: { ":p": s(this.keys.scanPrefix) },
            ConsistentRead: true,
            ExclusiveStartKey: start,
          }),
        );
        // Delete page by page: memory and parallelism stay bounded by one Scan page.
        const items = out.Items ?? [];
        await this.batchWrite(items.map((item) => ({ DeleteRequest: { Key: { pk: item.pk } } })));
        removed += items.length;
        start = out.LastEvaluatedKey;
      } while (start);
      return removed;
    });
  }

  async ping(): Promise<boolean> {
    try {
      await this.client.send(new GetItemCommand({ TableName: this.table, Key: { pk: s(`${this.keys.scanPrefix}ping}`) } }));
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    /* the client is shared (and owned by whoever made it) */
  }
}
