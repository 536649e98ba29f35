/**
 * DynamoDB Streams on this machine (stream-mapping.ts delivers the records as Lambda does):
 *
 *   const capture = new StreamCapture(upstreamClient);        // sees every write through the proxy
 *   dynamo.observeWrites(capture);
 *   const stream = capture.stream(table, "KEYS_ONLY", region);
 *   stream.subscribe((r) => …);
 *
 * Every write that reaches a table through the validating proxy (the API's functions,
 * a client on the printed endpoint, the TTL sweep) is compared with the item before it, as
 * DynamoDB does: a new item is an INSERT, a changed one a MODIFY, a deleted one a REMOVE, and a
 * write that changes nothing (a repeated put, a delete of a missing item, a failed condition)
 * makes no record. Writes to streamed tables are serialized so each before/after pair is exact.
 * The TTL sweep's deletions carry DynamoDB's service identity.
 */
import { AttributeValue, DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { randomBytes } from "crypto";
import type { IncomingHttpHeaders } from "http";
import { TTL_DELETION_HEADER, WriteObserver } from "./dynamo";
import { TWIN_ACCOUNT } from "./local";
import type { TableDef } from "./stack";

type Item = Record<string, AttributeValue>;

/** One stream record, in the shape Lambda delivers it. */
export interface StreamRecordJson {
  readonly eventID: string;
  readonly eventName: "INSERT" | "MODIFY" | "REMOVE";
  readonly eventVersion: "1.1";
  readonly eventSource: "aws:dynamodb";
  readonly awsRegion: string;
  readonly dynamodb: {
    readonly ApproximateCreationDateTime: number;
    readonly Keys: Item;
    readonly NewImage?: Item;
    readonly OldImage?: Item;
    readonly SequenceNumber: string;
    readonly SizeBytes: number;
    readonly StreamViewType: string;
  };
  readonly eventSourceARN: string;
  readonly userIdentity?: { readonly type: "Service"; readonly principalId: "dynamodb.amazonaws.com" };
}

/** A record with what delivery needs to know of it. */
export interface Captured {
  readonly record: StreamRecordJson;
  readonly arrivalMs: number;
  /** The partition key value, which picks the lane. */
  readonly partition: string;
}

/** Canonical JSON (keys sorted), so equal items compare equal whatever their attribute order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v !== null && typeof v === "object") {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(",")}}`;
  }
  return JSON.stringify(v);
}

/** The change log of one table: one shard, sequence numbers that grow as DynamoDB's do. */
export class TableStream {
  readonly arn: string;
  readonly shardId: string;
  private seq = 10n ** 20n;
  private readonly listeners: Array<(r: Captured) => void> = [];

  constructor(readonly table: TableDef, readonly viewType: string, readonly region: string) {
    const label = new Date().toISOString().replace("Z", "");
    this.arn = `arn:aws:dynamodb:${region}:${TWIN_ACCOUNT}:table/${table.name}/stream/${label}`;
    this.shardId = `shardId-${String(Date.now()).padStart(20, "0")}-${randomBytes(4).toString("hex")}`;
  }

  /** Calls `listener` with every record from now on. */
  subscribe(listener: (r: Captured) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** Records the change of the item at `keys` from `before` to `after`; nothing when nothing changed. */
  change(keys: Item, before: Item | undefined, after: Item | undefined, byTtl: boolean): StreamRecordJson | undefined {
    const eventName = before && after ? (canonical(before) === canonical(after) ? undefined : "MODIFY") : before ? "REMOVE" : after ? "INSERT" : undefined;
    if (!eventName) return undefined;
    const v = this.viewType;
    const images = {
      ...(after && (v === "NEW_IMAGE" || v === "NEW_AND_OLD_IMAGES") ? { NewImage: after } : {}),
      ...(before && (v === "OLD_IMAGE" || v === "NEW_AND_OLD_IMAGES") ? { OldImage: before } : {}),
    };
    this.seq += 1n;
    const now = Date.now();
    const record: StreamRecordJson = {
      eventID: randomBytes(16).toString("hex"),
      eventName,
      eventVersion: "1.1",
      eventSource: "aws:dynamodb",
      awsRegion: this.region,
      dynamodb: {
        // DynamoDB rounds it down to the second.
        ApproximateCreationDateTime: Math.floor(now / 1000),
        Keys: keys,
        ...images,
        SequenceNumber: this.seq.toString(),
        SizeBytes: Buffer.byteLength(JSON.stringify({ keys, ...images })),
        StreamViewType: v,
      },
      eventSourceARN: this.arn,
      ...(byTtl && eventName === "REMOVE" ? { userIdentity: { type: "Service" as const, principalId: "dynamodb.amazonaws.com" as const } } : {}),
    };
    const captured: Captured = { record, arrivalMs: now, partition: canonical(keys[this.table.hashKey]) };
    for (const l of [...this.listeners]) l(captured);
    return record;
  }
}

/** The items (by table and key) a write request touches. */
function writeTargets(op: string, body: unknown, tables: ReadonlyMap<string, TableStream>): Array<{ stream: TableStream; key: Item }> {
  const b = (body ?? {}) as Record<string, unknown>;
  const keyOf = (stream: TableStream, source: unknown): Item | undefined => {
    const item = source as Item | undefined;
    const { hashKey, rangeKey } = stream.table;
    if (!item || typeof item !== "object" || !item[hashKey] || (rangeKey && !item[rangeKey])) return undefined;
    return { [hashKey]: item[hashKey], ...(rangeKey ? { [rangeKey]: item[rangeKey] } : {}) };
  };
  const out: Array<{ stream: TableStream; key: Item }> = [];
  const add = (table: unknown, source: unknown) => {
    const stream = typeof table === "string" ? tables.get(table) : undefined;
    const key = stream ? keyOf(stream, source) : undefined;
    if (stream && key) out.push({ stream, key });
  };
  switch (op) {
    case "PutItem":
      add(b.TableName, b.Item);
      break;
    case "UpdateItem":
    case "DeleteItem":
      add(b.TableName, b.Key);
      break;
    case "BatchWriteItem":
      for (const [table, requests] of Object.entries((b.RequestItems ?? {}) as Record<string, unknown>)) {
        for (const r of Array.isArray(requests) ? requests : []) {
          const req = r as { PutRequest?: { Item?: unknown }; DeleteRequest?: { Key?: unknown } };
          add(table, req?.PutRequest?.Item ?? req?.DeleteRequest?.Key);
        }
      }
      break;
  }
  return out;
}

/**
 * The write observer behind every table stream of the twin: reads each touched item before and
 * after the write (from dynalite itself, not through the proxy) and records the difference.
 */
export class StreamCapture implements WriteObserver {
  private readonly streams = new Map<string, TableStream>();
  private tail: Promise<void> = Promise.resolve();

  /** `reader` talks to dynalite directly (the proxy's upstream). */
  constructor(private readonly reader: DynamoDBClient) {}

  /** Turns on the stream of `table`. */
  stream(table: TableDef, viewType: string, region: string): TableStream {
    const s = new TableStream(table, viewType, region);
    this.streams.set(table.name, s);
    return s;
  }

  async beforeWrite(operation: string, request: unknown, headers: IncomingHttpHeaders): Promise<((status: number) => Promise<void>) | undefined> {
    const targets = writeTargets(operation, request, this.streams);
    if (targets.length === 0) return undefined;
    const release = await this.lock();
    let before: Array<Item | undefined>;
    try {
      before = await Promise.all(targets.map((t) => this.read(t.stream, t.key)));
    } catch (err) {
      release();
      throw err;
    }
    const byTtl = headers[TTL_DELETION_HEADER] === "1";
    return async () => {
      try {
        const after = await Promise.all(targets.map((t) => this.read(t.stream, t.key)));
        targets.forEach((t, i) => t.stream.change(t.key, before[i], after[i], byTtl));
      } finally {
        release();
      }
    };
  }

  private async read(stream: TableStream, key: Item): Promise<Item | undefined> {
    const out = await this.reader.send(new GetItemCommand({ TableName: stream.table.name, Key: key, ConsistentRead: true }));
    return out.Item;
  }

  /** One observed write at a time, in arrival order, so a before/after pair sees no other write. */
  private lock(): Promise<() => void> {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const prior = this.tail;
    this.tail = prior.then(() => held);
    return prior.then(() => release);
  }
}
