/**
 * The stream invalidator: a Lambda handler for DynamoDB Streams events, built from an invalidator
 * contract (`defineInvalidator`). Every change to the table, by any writer (this service, another
 * one, the console, a TTL expiry), reaches it as a stream record; it maps the record's keys to
 * cache keys with the fronted contract's `cacheKeysOf` and invalidates them with the write path's
 * atomic step (value deleted, lease revoked), so a reader that loaded the item before the change
 * can never store the old value afterwards.
 *
 * Batches (the event source mapping has ReportBatchItemFailures and BisectBatchOnFunctionError):
 * records are handled in order, and at the first record that fails the invocation stops and
 * reports that record's sequence number. Lambda checkpoints everything before it and retries from
 * it, in order, so no record is invalidated twice and none is skipped.
 * - Cache unreachable: the record is retried inside the invocation, as often as the circuit
 *   breaker lets a probe through, for up to INVALIDATION_CACHE_WAIT_MS; then it is reported. A
 *   short outage costs no Lambda retry; a long one ends in the on-failure queue after the
 *   mapping's retries (the entries then expire with their TTL).
 * - A record that cannot be mapped (another table's, no keys, the mapping throws) is reported too;
 *   when it is the first of a larger batch the invocation fails instead, so Lambda's bisection
 *   isolates it and it reaches the on-failure queue alone, never with the records behind it.
 */
import { createCacheStore } from "./cache";
import type { CacheStore } from "./cache/types";
import { loadRuntimeConfig, RuntimeConfig } from "./config";
import { InvalidatorContract, readSettings, SettingsOf, STREAM_ROUTE, TableSpec } from "./contract";
import { perContainer } from "./container";
import { errorFields, log } from "./log";
import { METRIC, RequestMetrics } from "./metrics";
import type { RuntimeDeps } from "./runtime";

/** A DynamoDB attribute value as stream records carry it (`{"S": "p1"}`). */
type AttributeValueJson = Record<string, unknown>;

/** One DynamoDB Streams record, as Lambda delivers it (only what the invalidator reads is typed). */
export interface StreamRecord {
  /** `INSERT`, `MODIFY` or `REMOVE`. */
  readonly eventName?: string;
  /** `arn:aws:dynamodb:<region>:<account>:table/<table>/stream/<label>`. */
  readonly eventSourceARN?: string;
  /** `{ type: "Service", principalId: "dynamodb.amazonaws.com" }` on a deletion by TTL. */
  readonly userIdentity?: { readonly type?: string; readonly principalId?: string };
  /** The change. */
  readonly dynamodb?: {
    /** The item's key attributes. */
    readonly Keys?: Record<string, AttributeValueJson>;
    /** Position in the shard; what a partial batch response names. */
    readonly SequenceNumber?: string;
    /** When the change was written, epoch seconds (whole seconds). */
    readonly ApproximateCreationDateTime?: number;
  };
}

/** A DynamoDB Streams event: the batch Lambda read from one shard. */
export interface StreamEvent {
  /** The batch, in stream order. */
  readonly Records: readonly StreamRecord[];
}

/** The partial batch response: empty when every record was handled. */
export interface StreamBatchResponse {
  /** The first record that failed (Lambda retries from it); at most one. */
  readonly batchItemFailures: Array<{ readonly itemIdentifier: string }>;
}

/** What the invalidator works with, built once per container (no table client: it reads no table). */
export interface StreamRuntime {
  /** The runtime's configuration; `tableName` is the table whose stream this is. */
  readonly config: RuntimeConfig;
  /** The invalidator's own settings. */
  readonly settings: SettingsOf<InvalidatorContract["settings"]>;
  /** The cache backend behind its circuit breaker, with the fronted function's key prefix. */
  readonly store: CacheStore;
}

/** The part of Lambda's context the invalidator reads. */
export interface StreamContext {
  /** Milliseconds until Lambda ends the invocation. */
  getRemainingTimeInMillis?(): number;
}

/** The invalidator bound to its runtime (tests and the local twin reach the store through `runtime`). */
export type BoundStreamHandler = ((event: unknown, context?: StreamContext) => Promise<StreamBatchResponse>) & { runtime: StreamRuntime };

/** Overrides for tests and the twin: environment, configuration, cache store. */
export type StreamRuntimeDeps = Pick<RuntimeDeps, "env" | "config" | "store">;

/** Time kept back from the invocation's remaining time, to answer before Lambda's timeout. */
const ANSWER_MARGIN_MS = 1_000;
const FIRST_RETRY_DELAY_MS = 20;

/** A record the invalidator cannot turn into cache keys: retrying it cannot help. */
export class UnmappableRecordError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnmappableRecordError";
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Builds the invalidator's runtime: configuration and settings from the environment, the configured cache store. */
export function createStreamRuntime(contract: InvalidatorContract, deps: StreamRuntimeDeps = {}): StreamRuntime {
  const env = deps.env ?? process.env;
  const config = deps.config ?? loadRuntimeConfig(env);
  return { config, settings: readSettings(contract.settings, env), store: deps.store ?? createCacheStore(config) };
}

/**
 * The two entry points of a stream invalidator module, built from its contract: `createHandler(deps)`
 * for tests and the local twin, and `handler` for Lambda (one runtime per container). A container
 * that cannot be built (a bad environment variable) fails every invocation, so the records are
 * retried and then reach the on-failure queue, and the function's error alarm fires.
 */
export function defineStreamInvalidator(contract: InvalidatorContract): {
  createHandler: (deps?: StreamRuntimeDeps) => BoundStreamHandler;
  handler: (event: unknown, context?: StreamContext) => Promise<StreamBatchResponse>;
} {
  const createHandler = (deps: StreamRuntimeDeps = {}): BoundStreamHandler => {
    const rt = createStreamRuntime(contract, deps);
    return Object.assign((event: unknown, context?: StreamContext) => invalidateBatch(contract, rt, event, context), { runtime: rt });
  };
  const handler = perContainer(() => createHandler());
  return { createHandler, handler };
}

/** The records of `event`; a TypeError (a failed invocation) for anything that is not a stream event. */
function recordsOf(event: unknown): readonly StreamRecord[] {
  const records = (event as StreamEvent | undefined)?.Records;
  if (!Array.isArray(records)) throw new TypeError("not a DynamoDB Streams event: no Records array");
  return records;
}

/**
 * The table keys of `record` as plain values (`{ productId: "p1" }`), or an UnmappableRecordError
 * when it is not a record of table `tableName`'s stream or lacks the keys of `table`.
 */
export function keysOfRecord(table: TableSpec, tableName: string, record: StreamRecord): Record<string, string | number | Uint8Array> {
  const arn = record?.eventSourceARN;
  if (typeof arn !== "string" || !arn.includes(`:table/${tableName}/stream/`)) {
    throw new UnmappableRecordError(`record from ${JSON.stringify(arn)}, not from the stream of table ${tableName}`);
  }
  const raw = record.dynamodb?.Keys;
  const names = [table.partitionKey.name, ...(table.sortKey ? [table.sortKey.name] : [])];
  if (!raw || typeof raw !== "object" || names.some((n) => !(n in raw))) {
    throw new UnmappableRecordError(`record without the table's keys ${names.join(", ")}: ${JSON.stringify(raw)}`);
  }
  return Object.fromEntries(Object.entries(raw).map(([name, v]) => [name, keyValue(name, v)]));
}

/** The cache keys the change of `record` makes stale, or an UnmappableRecordError saying why there are none to compute. */
function cacheKeysOfRecord(contract: InvalidatorContract, tableName: string, record: StreamRecord): readonly string[] {
  const keys = keysOfRecord(contract.fronts.table!, tableName, record);
  try {
    return contract.fronts.cacheKeysOf!(keys);
  } catch (err) {
    throw new UnmappableRecordError(`cacheKeysOf of ${contract.fronts.name} failed on ${JSON.stringify(keys)}: ${(err as Error).message}`);
  }
}

/**
 * The plain value of a key attribute: a string, a number or bytes (DynamoDB keys are scalars, so
 * this is all `unmarshall` would do, without the dependency).
 */
function keyValue(name: string, v: AttributeValueJson): string | number | Uint8Array {
  if (typeof v?.S === "string") return v.S;
  if (typeof v?.N === "string") {
    const n = Number(v.N);
    // An integer JavaScript cannot hold exactly could name another item's cache key.
    if (Number.isFinite(n) && (!Number.isInteger(n) || Number.isSafeInteger(n))) return n;
  }
  if (typeof v?.B === "string") return Buffer.from(v.B, "base64");
  throw new UnmappableRecordError(`key ${name} = ${JSON.stringify(v)}: not a string, a number within JavaScript's safe range or binary`);
}

/**
 * Invalidates `keys`, retrying while the cache is unreachable until `deadline` (epoch ms); the
 * delay between attempts doubles up to the breaker's cooldown, so a recovered cache is seen at the
 * next probe. Returns the last error when it gave up, undefined when every key is invalidated.
 */
async function invalidateAll(store: CacheStore, keys: readonly string[], deadline: number, maxDelayMs: number): Promise<unknown> {
  let delay = FIRST_RETRY_DELAY_MS;
  for (const key of keys) {
    for (;;) {
      try {
        await store.invalidate(key);
        break;
      } catch (err) {
        if (Date.now() + delay > deadline) return err;
        await sleep(delay);
        delay = Math.min(delay * 2, Math.max(FIRST_RETRY_DELAY_MS, maxDelayMs));
      }
    }
  }
  return undefined;
}

async function invalidateBatch(contract: InvalidatorContract, rt: StreamRuntime, event: unknown, context?: StreamContext): Promise<StreamBatchResponse> {
  const records = recordsOf(event);
  const metrics = new RequestMetrics(rt.config.metricsNamespace, rt.config.serviceName);
  metrics.setRoute(STREAM_ROUTE);
  const start = Date.now();
  const remaining = context?.getRemainingTimeInMillis?.() ?? Infinity;
  const deadline = start + Math.max(0, Math.min(rt.settings.cacheWaitMs, remaining - ANSWER_MARGIN_MS));
  let maxLagMs: number | undefined;
  const failed = (record: StreamRecord): StreamBatchResponse => {
    metrics.count(METRIC.InvalidationFailure);
    const seq = record?.dynamodb?.SequenceNumber;
    // Without a sequence number the record cannot be named: only a failed invocation retries it.
    if (typeof seq !== "string" || seq === "") throw new TypeError("stream record without dynamodb.SequenceNumber");
    return { batchItemFailures: [{ itemIdentifier: seq }] };
  };
  try {
    for (let i = 0; i < records.length; i++) {
      const record = records[i];
      let keys: readonly string[];
      try {
        keys = cacheKeysOfRecord(contract, rt.config.tableName, record);
      } catch (err) {
        log("error", "stream record cannot be mapped to cache keys; it goes to the on-failure destination after the retries", {
          sequenceNumber: record?.dynamodb?.SequenceNumber, ...errorFields(err),
        });
        if (i === 0 && records.length > 1) {
          metrics.count(METRIC.InvalidationFailure);
          throw err; // a failed invocation: Lambda bisects the batch and isolates this record
        }
        return failed(record);
      }
      const err = await invalidateAll(rt.store, keys, deadline, rt.config.breaker.cooldownMs);
      if (err !== undefined) {
        metrics.count(METRIC.CacheError);
        log("warn", "cache unreachable; the record is reported for Lambda to retry", {
          sequenceNumber: record.dynamodb?.SequenceNumber, keys, waitedMs: Date.now() - start, ...errorFields(err),
        });
        return failed(record);
      }
      if (keys.length > 0) metrics.count(METRIC.Invalidation, keys.length);
      const changedAt = record.dynamodb?.ApproximateCreationDateTime;
      if (typeof changedAt === "number" && Number.isFinite(changedAt)) {
        const lag = Math.max(0, Date.now() - changedAt * 1000);
        maxLagMs = Math.max(maxLagMs ?? 0, lag);
      }
      if (record.userIdentity?.principalId === "dynamodb.amazonaws.com") {
        log("debug", "invalidated after a TTL deletion", { keys });
      }
    }
    return { batchItemFailures: [] };
  } finally {
    if (maxLagMs !== undefined) metrics.timing(METRIC.InvalidationLag, maxLagMs);
    metrics.flush();
  }
}
