/**
 * The real handlers, in this process, on the run's redis-server and dynalite: configuration as
 * the function construct sets it (plus local endpoints), a table client that counts its reads,
 * and the EMF metric lines sent to a no-op sink (Lambda writes them to stdout, which its runtime
 * buffers; on a terminal they would only slow the benchmark down).
 */
// The bench measures runtime internals (the table client, the cache stores, the per-request
// overhead of the handler) that the `./runtime` entry does not expose, so it imports them directly.
import { BatchWriteItemCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import type { ItemApi } from "../../functions/lib/table";
import { createDynamoDb, TableClient } from "../../functions/lib/table";
import { loadRuntimeConfig, RuntimeConfig } from "../../functions/lib/config";
import { setMetricsSink } from "../../functions/lib/metrics";
import type { BoundHandler } from "../../functions/lib/runtime";
import { createHandler as createProductsHandler } from "../../functions/products/handler";
import type { ProxyEvent, ProxyResult } from "../../functions/lib/http";
import type { CacheBackendKind } from "../../functions/lib/cache/types";
import { CALLER_IDENTITY, CONNECTIONS, environmentOf, routeOf, RUNTIME_SETTINGS } from "../../functions/lib/contract";
import { PRODUCTS } from "../../functions/products/contract";
import { CACHE_TABLE, PRODUCTS_TABLE } from "./dynalite-server";

export function quietRuntime(): void {
  process.env.AWS_ACCESS_KEY_ID ??= "AKIAIOSFODNN7EXAMPLE";
  process.env.AWS_SECRET_ACCESS_KEY ??= "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE = "1";
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  Object.assign(process.env, environmentOf(RUNTIME_SETTINGS, { logLevel: "silent" })); // outages are the point of some scenarios: no warning floods
  setMetricsSink(() => undefined);
}

/** Counts what reaches the table. */
export class TableCounter {
  reads = 0;
  writes = 0;
  reset(): void {
    this.reads = 0;
    this.writes = 0;
  }
}

/** A DynamoDB ItemApi that counts reads (getItem, query) and writes before passing them on. */
export function countingItemApi(inner: ItemApi, counter: TableCounter): ItemApi {
  return {
    getItem: (i) => (counter.reads++, inner.getItem(i)),
    query: (i) => (counter.reads++, inner.query(i)),
    putItem: (i) => (counter.writes++, inner.putItem(i)),
    updateItem: (i) => (counter.writes++, inner.updateItem(i)),
    deleteItem: (i) => (counter.writes++, inner.deleteItem(i)),
    describeTable: (i) => inner.describeTable(i),
  };
}

export interface HandlerSetup {
  readonly redisPort: number;
  readonly dynamoEndpoint: string;
  readonly backend?: CacheBackendKind;
  /** A fresh key prefix per setup, so scenarios never see each other's entries. */
  readonly keyPrefix: string;
  readonly env?: Record<string, string>;
}

export function benchConfig(s: HandlerSetup): RuntimeConfig {
  return loadRuntimeConfig({
    ...environmentOf(RUNTIME_SETTINGS, { serviceName: "bench", keyPrefix: s.keyPrefix }),
    ...environmentOf(CONNECTIONS, {
      region: "us-east-1",
      tableName: PRODUCTS_TABLE,
      dynamoDbEndpoint: s.dynamoEndpoint,
      redisHost: "127.0.0.1",
      redisPort: s.redisPort,
      redisTls: false,
      cacheBackend: s.backend ?? "redis",
      cacheTableName: CACHE_TABLE,
      callerIdentity: CALLER_IDENTITY.lambda,
    }),
    ...(s.env ?? {}),
  });
}

export interface BenchHandler {
  readonly invoke: BoundHandler;
  readonly counter: TableCounter;
  readonly config: RuntimeConfig;
  close(): Promise<void>;
}

/** The products handler, built as Lambda builds it, with a counting table client. */
export function productsHandler(s: HandlerSetup): BenchHandler {
  const config = benchConfig(s);
  const counter = new TableCounter();
  const dynamoDb = createDynamoDb({ region: config.region, dynamoDbEndpoint: config.dynamoDbEndpoint });
  const table = new TableClient({ dynamoDb: countingItemApi(dynamoDb as unknown as ItemApi, counter) });
  const invoke = createProductsHandler({ config, table });
  return {
    invoke,
    counter,
    config,
    close: async () => {
      await invoke.runtime.store.close().catch(() => undefined);
      dynamoDb.destroy();
    },
  };
}

let seq = 0;
const requestId = () => `bench-${++seq}`;

export function getEvent(id: string): ProxyEvent {
  return {
    httpMethod: "GET",
    path: `/products/${id}`,
    resource: routeOf(PRODUCTS, "getProduct").path,
    pathParameters: { productId: id },
    queryStringParameters: null,
    headers: {},
    body: null,
    isBase64Encoded: false,
    requestContext: { requestId: requestId(), stage: "bench" },
  };
}

export function putEvent(id: string, body: Record<string, unknown>): ProxyEvent {
  return {
    httpMethod: "PUT",
    path: `/products/${id}`,
    resource: routeOf(PRODUCTS, "getProduct").path,
    pathParameters: { productId: id },
    queryStringParameters: null,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    isBase64Encoded: false,
    // Writes need a verified caller: the one a Lambda authorizer would hand over.
    requestContext: { requestId: requestId(), stage: "bench", authorizer: { principalId: "bench-writer" } },
  };
}

/** About 1 KB of product: one 4 KB read unit either way. */
export function sampleProduct(i: number): Record<string, unknown> {
  return {
    name: `Product ${i}`,
    price: 1 + (i % 97),
    currency: "EUR",
    category: `category-${i % 20}`,
    description: `Sample product ${i}. `.repeat(40).slice(0, 900),
  };
}

export function cacheStatus(r: ProxyResult): string {
  const h = r.headers ?? {};
  return String(h["x-cache"] ?? h["X-Cache"] ?? "");
}

/** Puts products p1…p<ids> (sampleProduct) straight into the table; returns one item's JSON size. */
export async function seedProducts(endpoint: string, ids: number): Promise<number> {
  const client = new DynamoDBClient({ endpoint, region: "us-east-1", maxAttempts: 5 });
  let bytes = 0;
  const batches: Array<Array<Record<string, unknown>>> = [];
  for (let i = 1; i <= ids; i += 25) {
    batches.push(Array.from({ length: Math.min(25, ids - i + 1) }, (_, j) => ({ productId: `p${i + j}`, ...sampleProduct(i + j), updatedAt: new Date(0).toISOString() })));
  }
  bytes = Buffer.byteLength(JSON.stringify(batches[0][0]));
  let next = 0;
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (next < batches.length) {
      const b = batches[next++];
      let items = b.map((it) => ({ PutRequest: { Item: marshall(it) } }));
      for (let attempt = 0; items.length > 0; attempt++) {
        const out = await client.send(new BatchWriteItemCommand({ RequestItems: { [PRODUCTS_TABLE]: items } }));
        items = (out.UnprocessedItems?.[PRODUCTS_TABLE] ?? []) as typeof items;
        if (attempt > 10) throw new Error("seeding: unprocessed items keep coming back");
      }
    }
  }));
  client.destroy();
  return bytes;
}
