/**
 * The stack's DynamoDB tables in an in-process dynalite (memory only), behind a validating proxy
 * that refuses what DynamoDB refuses and dynalite lets through (see dynamo-limits.ts):
 *   const db = await startDynamo(model.tables);  …  db.endpoint (the proxy)  …  await db.stop();
 * dynalite has no TimeToLive, so the twin deletes expired items itself (see `sweepExpired`), marking
 * those deletions so a stream records them as DynamoDB's own (see stream.ts).
 */
import {
  CreateTableCommand, CreateTableCommandInput, DeleteItemCommand, DynamoDBClient, ScanCommand,
} from "@aws-sdk/client-dynamodb";
import { randomBytes } from "crypto";
import { Agent, createServer, IncomingHttpHeaders, IncomingMessage, request, Server, ServerResponse } from "http";
import type { AddressInfo } from "net";
import { crc32 } from "zlib";
import { checkDynamoRequest, itemSize, Item, TableKeys, tablesOf, VALIDATION_EXCEPTION } from "./dynamo-limits";
import { FAKE_CREDENTIALS } from "./local";
import { IndexDef, TableDef } from "./stack";

/**
 * Sees every write that reaches the tables through the proxy (stream.ts turns them into stream
 * records). `beforeWrite` runs before the request is forwarded; the function it returns, if any,
 * runs once dynalite has answered, before the client gets the answer.
 */
export interface WriteObserver {
  beforeWrite(operation: string, request: unknown, headers: IncomingHttpHeaders): Promise<((status: number) => Promise<void>) | undefined>;
}

/** Header the twin's TTL sweep puts on its deletions: DynamoDB's own deletes, not a client's. */
export const TTL_DELETION_HEADER = "x-cachefront-twin-ttl-deletion";

/** A dynalite, and the validating proxy in front of it when there is one. */
export interface DynaliteServer {
  /** Where clients connect: the proxy, or dynalite itself without one. */
  readonly endpoint: string;
  /** dynalite's own endpoint (bypasses the limit checks). */
  readonly upstream: string;
  /** Routes every write through the proxy past `observer` (none without a proxy). */
  observeWrites(observer: WriteObserver | undefined): void;
  stop(): Promise<void>;
}

function listen(server: Server): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
}

function close(server: Server): Promise<void> {
  server.closeAllConnections?.();
  return new Promise<void>((resolve) => server.close(() => resolve()));
}

let sizePatched = false;

/**
 * dynalite measures an item in UTF-16 code units (JavaScript string length); DynamoDB counts
 * UTF-8 bytes, so a 300 000-character "é" string (600 000 bytes) passed. Its validations and its
 * UpdateItem action read the size through the module's `itemSize` export at call time, so
 * replacing that export makes dynalite count like DynamoDB, including the item an UpdateItem
 * produces, which only dynalite knows. Other callers inside dynalite (capacity units, 1 MB
 * pages) use its internal function and are unaffected.
 */
function patchDynaliteItemSize(): void {
  if (sizePatched) return;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const db = require("dynalite/db") as { itemSize: (item: Item, ...rest: unknown[]) => number };
  const original = db.itemSize;
  db.itemSize = (item, ...rest) => (rest.length > 0 ? original(item, ...rest) : itemSize(item));
  sizePatched = true;
}

/**
 * Starts an in-memory dynalite on a free port; with `validating` (the default), behind a proxy
 * that answers requests over DynamoDB's limits with its ValidationException, as DynamoDB does.
 * The UTF-8 item size (see patchDynaliteItemSize) is process-wide once a validating one started:
 * a non-validating dynalite in the same process then counts item sizes like DynamoDB too.
 */
export async function startDynaliteServer(opts: { readonly validating?: boolean } = {}): Promise<DynaliteServer> {
  const validating = opts.validating ?? true;
  if (validating) patchDynaliteItemSize();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dynalite = require("dynalite") as (opts: Record<string, unknown>) => Server;
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const upstream = await listen(server);
  if (!validating) return { endpoint: upstream, upstream, observeWrites: () => undefined, stop: () => close(server) };
  const proxy = new ValidatingProxy(upstream);
  let endpoint: string;
  try {
    endpoint = await listen(proxy.server);
  } catch (err) {
    await close(server);
    throw err;
  }
  return {
    endpoint,
    upstream,
    observeWrites: (observer) => void (proxy.observer = observer),
    stop: async () => {
      await close(proxy.server);
      proxy.agent.destroy();
      await close(server);
    },
  };
}

const TARGET_PREFIX = "DynamoDB_20120810.";

/** What an operation's X-Amz-Target names, e.g. `PutItem`. */
function operationOf(headers: IncomingHttpHeaders): string | undefined {
  const target = headers["x-amz-target"];
  return typeof target === "string" && target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : undefined;
}

/**
 * The HTTP proxy in front of dynalite: reads each JSON-1.0 request, answers one over a DynamoDB
 * limit itself (HTTP 400, `{"__type":"com.amazon.coral.validate#ValidationException","message":…}`,
 * so the SDK raises ValidationException) and forwards everything else unchanged. Key schemas,
 * needed for the key-size checks, come from DescribeTable on dynalite, cached per table.
 */
class ValidatingProxy {
  readonly server: Server;
  readonly agent = new Agent({ keepAlive: true });
  private readonly schemas = new Map<string, TableKeys>();
  observer?: WriteObserver;

  constructor(private readonly upstream: string) {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("error", () => undefined);
      req.on("end", () => {
        this.handle(req, Buffer.concat(chunks), res).catch((err: unknown) => {
          if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
          res.end(`validating proxy: ${err instanceof Error ? err.message : String(err)}`);
        });
      });
    });
    this.server.keepAliveTimeout = 5_000;
  }

  private async handle(req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<void> {
    const op = operationOf(req.headers);
    let parsed: unknown;
    try {
      parsed = op ? JSON.parse(body.toString("utf8")) : undefined;
    } catch {
      parsed = undefined; // not JSON: dynalite answers its SerializationException
    }
    if (op && parsed !== undefined) {
      const tables = tablesOf(op, parsed).filter((t) => !this.schemas.has(t));
      await Promise.all(tables.map(async (t) => {
        const keys = await this.describe(t, req.headers);
        // Only existing tables are cached: one created later must not stay unknown.
        if (keys) this.schemas.set(t, keys);
      }));
      const message = checkDynamoRequest(op, parsed, (t) => this.schemas.get(t));
      if (message) return this.refuse(res, message);
    }
    const after = op && parsed !== undefined && this.observer ? await this.observer.beforeWrite(op, parsed, req.headers) : undefined;
    let upstream: Awaited<ReturnType<ValidatingProxy["forward"]>> | undefined;
    try {
      upstream = await this.forward(req.method ?? "POST", req.url ?? "/", req.headers, body);
    } finally {
      await after?.(upstream?.status ?? 0);
    }
    // A table dropped or changed through here gets its key schema read again.
    if (op === "DeleteTable" || op === "UpdateTable" || op === "CreateTable") {
      for (const t of tablesOf(op, parsed)) this.schemas.delete(t);
    }
    res.writeHead(upstream.status, upstream.headers);
    res.end(upstream.body);
  }

  /** DynamoDB's answer to a request that fails validation. */
  private refuse(res: ServerResponse, message: string): void {
    const body = Buffer.from(JSON.stringify({ __type: VALIDATION_EXCEPTION, message }));
    res.writeHead(400, {
      "content-type": "application/x-amz-json-1.0",
      "content-length": String(body.length),
      "x-amzn-requestid": randomBytes(26).toString("hex").toUpperCase().slice(0, 52),
      "x-amz-crc32": String(crc32(body)),
    });
    res.end(body);
  }

  private forward(method: string, path: string, headers: IncomingHttpHeaders, body: Buffer) {
    return new Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      const out = request(`${this.upstream}${path}`, { method, headers, agent: this.agent }, (r) => {
        const chunks: Buffer[] = [];
        r.on("data", (c: Buffer) => chunks.push(c));
        r.on("end", () => resolve({ status: r.statusCode ?? 502, headers: r.headers, body: Buffer.concat(chunks) }));
        r.on("error", reject);
      });
      out.on("error", reject);
      out.end(body);
    });
  }

  /** The table's key schema from dynalite (undefined when it does not exist). */
  private async describe(table: string, like: IncomingHttpHeaders): Promise<TableKeys | undefined> {
    const body = Buffer.from(JSON.stringify({ TableName: table }));
    // dynalite checks that a request is signed, not the signature: the caller's headers do.
    const headers = { ...like, "x-amz-target": `${TARGET_PREFIX}DescribeTable`, "content-length": String(body.length) };
    const r = await this.forward("POST", "/", headers, body);
    if (r.status !== 200) return undefined;
    type KeyElement = { AttributeName: string; KeyType: string };
    type Index = { IndexName: string; KeySchema: KeyElement[] };
    const t = (JSON.parse(r.body.toString("utf8")) as { Table?: { KeySchema: KeyElement[]; GlobalSecondaryIndexes?: Index[]; LocalSecondaryIndexes?: Index[] } }).Table;
    if (!t) return undefined;
    const keysOf = (ks: KeyElement[]) => ({
      hashKey: ks.find((k) => k.KeyType === "HASH")?.AttributeName ?? "",
      rangeKey: ks.find((k) => k.KeyType === "RANGE")?.AttributeName,
    });
    return {
      ...keysOf(t.KeySchema),
      indexes: [...(t.GlobalSecondaryIndexes ?? []), ...(t.LocalSecondaryIndexes ?? [])].map((i) => ({ name: i.IndexName, ...keysOf(i.KeySchema) })),
    };
  }
}

export interface DynamoHandle {
  readonly endpoint: string;
  /** dynalite itself, behind the proxy (reads here are not writes anyone observes). */
  readonly upstream: string;
  readonly client: DynamoDBClient;
  /** See {@link DynaliteServer.observeWrites}. */
  observeWrites(observer: WriteObserver | undefined): void;
  /** Deletes items whose TTL attribute (epoch seconds) is in the past; returns how many. */
  sweepExpired(nowSeconds?: number): Promise<number>;
  stop(): Promise<void>;
}

export function createTableInput(t: TableDef): CreateTableCommandInput {
  const key = (hash: string, range?: string) => [
    { AttributeName: hash, KeyType: "HASH" as const },
    ...(range ? [{ AttributeName: range, KeyType: "RANGE" as const }] : []),
  ];
  const projection = (i: IndexDef) => ({
    ProjectionType: i.projectionType as "ALL" | "KEYS_ONLY" | "INCLUDE",
    ...(i.projectionType === "INCLUDE" && i.nonKeyAttributes ? { NonKeyAttributes: i.nonKeyAttributes } : {}),
  });
  return {
    TableName: t.name,
    BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: t.attributes.map((a) => ({ AttributeName: a.name, AttributeType: a.type })),
    KeySchema: key(t.hashKey, t.rangeKey),
    GlobalSecondaryIndexes: t.globalSecondaryIndexes.length
      ? t.globalSecondaryIndexes.map((i) => ({ IndexName: i.name, KeySchema: key(i.hashKey, i.rangeKey), Projection: projection(i) }))
      : undefined,
    LocalSecondaryIndexes: t.localSecondaryIndexes.length
      ? t.localSecondaryIndexes.map((i) => ({ IndexName: i.name, KeySchema: key(i.hashKey, i.rangeKey), Projection: projection(i) }))
      : undefined,
  };
}

/** Starts dynalite behind the validating proxy and creates `tables` in it. */
export async function startDynamo(tables: readonly TableDef[]): Promise<DynamoHandle> {
  const server = await startDynaliteServer();
  const endpoint = server.endpoint;
  const client = new DynamoDBClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: FAKE_CREDENTIALS.AWS_ACCESS_KEY_ID, secretAccessKey: FAKE_CREDENTIALS.AWS_SECRET_ACCESS_KEY },
    maxAttempts: 2,
  });
  for (const t of tables) await client.send(new CreateTableCommand(createTableInput(t)));
  // The sweep's deletions carry the TTL header, so a stream tells them from a client's.
  const ttlClient = new DynamoDBClient({ endpoint, region: "us-east-1", credentials: client.config.credentials, maxAttempts: 2 });
  ttlClient.middlewareStack.add((next) => (args) => {
    (args.request as { headers: Record<string, string> }).headers[TTL_DELETION_HEADER] = "1";
    return next(args);
  }, { step: "build", name: "twinTtlDeletion" });

  const sweepExpired = async (nowSeconds = Date.now() / 1000): Promise<number> => {
    let deleted = 0;
    for (const t of tables) {
      if (!t.ttlAttribute) continue;
      let start: Record<string, import("@aws-sdk/client-dynamodb").AttributeValue> | undefined;
      do {
        const page = await client.send(new ScanCommand({
          TableName: t.name,
          ExclusiveStartKey: start,
          FilterExpression: "#ttl < :now",
          ExpressionAttributeNames: { "#ttl": t.ttlAttribute },
          ExpressionAttributeValues: { ":now": { N: String(Math.floor(nowSeconds)) } },
        }));
        for (const item of page.Items ?? []) {
          const Key = { [t.hashKey]: item[t.hashKey], ...(t.rangeKey ? { [t.rangeKey]: item[t.rangeKey] } : {}) };
          // Only if it is still expired: a write since the scan may have extended it (DynamoDB checks too).
          await ttlClient.send(new DeleteItemCommand({
            TableName: t.name,
            Key,
            ConditionExpression: "#ttl < :now",
            ExpressionAttributeNames: { "#ttl": t.ttlAttribute },
            ExpressionAttributeValues: { ":now": { N: String(Math.floor(nowSeconds)) } },
          })).catch((err: Error) => {
            if (err.name !== "ConditionalCheckFailedException") throw err;
            deleted--;
          });
          deleted++;
        }
        start = page.LastEvaluatedKey;
      } while (start);
    }
    return deleted;
  };

  return {
    endpoint,
    upstream: server.upstream,
    client,
    observeWrites: (observer) => server.observeWrites(observer),
    sweepExpired,
    stop: async () => {
      client.destroy();
      ttlClient.destroy();
      await server.stop();
    },
  };
}
