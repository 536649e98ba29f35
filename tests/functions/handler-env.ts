/**
 * The shared setup of the handler tests: a real redis-server and dynalite with the handler's
 * table, EMF lines collected, a runtime config pointing at both (fresh key prefix per call),
 * and every handler's clients closed afterwards.
 */
import { CreateTableCommandInput } from "@aws-sdk/client-dynamodb";
import { loadRuntimeConfig, RuntimeConfig } from "../../functions/lib/config";
import { CALLER_IDENTITY, CONNECTIONS, environmentOf, RUNTIME_SETTINGS } from "../../functions/lib/contract";
import { setMetricsSink } from "../../functions/lib/metrics";
import type { Runtime } from "../../functions/lib/runtime";

/** Anything built on a runtime whose clients must be closed (a handler, a warm function). */
type WithRuntime = { readonly runtime: Pick<Runtime, "store" | "table"> };
import { DynaliteHandle, startDynalite } from "../helpers/dynalite";
import { RedisServerHandle, startRedis } from "../helpers/redis-server";

process.env.AWS_ACCESS_KEY_ID = "fake";
process.env.AWS_SECRET_ACCESS_KEY = "fake";
process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE = "1";
process.env.LOG_LEVEL = "silent"; // expected warnings (outages are the point of some tests)

export interface HandlerEnv {
  readonly redis: RedisServerHandle;
  readonly dyn: DynaliteHandle;
  /** EMF lines written since the start (tests may empty it). */
  readonly emf: string[];
  /** The Lambda environment of this env: table, endpoints, a fresh key prefix, then `overrides`. */
  env(overrides?: Record<string, string>): Record<string, string>;
  /** The runtime config read from {@link env}. */
  config(overrides?: Record<string, string>): RuntimeConfig;
  /** Registers a handler so its clients are closed after the file. */
  track<H extends WithRuntime>(h: H): H;
}

export function handlerEnv(opts: { service: string; table: CreateTableCommandInput; defaults?: Record<string, string> }): HandlerEnv {
  let redis: RedisServerHandle | undefined;
  let dyn: DynaliteHandle | undefined;
  const emf: string[] = [];
  const handlers: WithRuntime[] = [];
  let restoreSink: ReturnType<typeof setMetricsSink> | undefined;
  let seq = 0;

  beforeAll(async () => {
    [redis, dyn] = await Promise.all([startRedis(), startDynalite()]);
    await dyn.createTable(opts.table);
    restoreSink = setMetricsSink((l) => emf.push(l));
  });

  afterAll(async () => {
    if (restoreSink) setMetricsSink(restoreSink);
    for (const h of handlers) {
      await h.runtime.store.close().catch(() => undefined);
      h.runtime.table.close();
    }
    await Promise.all([redis?.stop(), dyn?.stop()]);
  });

  const environment = (overrides: Record<string, string>): Record<string, string> => ({
    ...environmentOf(RUNTIME_SETTINGS, { serviceName: opts.service, keyPrefix: `${opts.service}-${process.pid}-${++seq}` }),
    ...environmentOf(CONNECTIONS, {
      region: "us-east-1",
      tableName: opts.table.TableName!,
      dynamoDbEndpoint: dyn!.endpoint,
      redisHost: "127.0.0.1",
      redisPort: redis!.port,
      redisTls: false,
      callerIdentity: CALLER_IDENTITY.lambda,
    }),
    ...opts.defaults,
    ...overrides,
  });

  return {
    get redis() {
      return redis!;
    },
    get dyn() {
      return dyn!;
    },
    emf,
    env: (overrides = {}) => environment(overrides),
    config: (overrides = {}) => loadRuntimeConfig(environment(overrides)),
    track: (h) => {
      handlers.push(h);
      return h;
    },
  };
}

export const body = (r: { body: string }) => JSON.parse(r.body);
export const uid = (p: string) => `${p}-${Math.random().toString(36).slice(2, 10)}`;

/** The product-catalog table as the stack declares it: the id, and the sparse ranking index. */
export const PRODUCTS_TABLE: CreateTableCommandInput = {
  TableName: "products",
  BillingMode: "PAY_PER_REQUEST",
  AttributeDefinitions: [
    { AttributeName: "productId", AttributeType: "S" },
    { AttributeName: "rankList", AttributeType: "S" },
    { AttributeName: "rank", AttributeType: "N" },
  ],
  KeySchema: [{ AttributeName: "productId", KeyType: "HASH" }],
  GlobalSecondaryIndexes: [{
    IndexName: "by-rank",
    KeySchema: [{ AttributeName: "rankList", KeyType: "HASH" }, { AttributeName: "rank", KeyType: "RANGE" }],
    Projection: { ProjectionType: "KEYS_ONLY" },
  }],
};

/** The session-store table as the stack declares it: PK/SK plus the customer index. */
export const SESSIONS_TABLE: CreateTableCommandInput = {
  TableName: "sessions",
  BillingMode: "PAY_PER_REQUEST",
  AttributeDefinitions: [
    { AttributeName: "PK", AttributeType: "S" },
    { AttributeName: "SK", AttributeType: "S" },
    { AttributeName: "customerId", AttributeType: "S" },
    { AttributeName: "lastActivityAt", AttributeType: "S" },
  ],
  KeySchema: [{ AttributeName: "PK", KeyType: "HASH" }, { AttributeName: "SK", KeyType: "RANGE" }],
  GlobalSecondaryIndexes: [{
    IndexName: "by-customer",
    KeySchema: [{ AttributeName: "customerId", KeyType: "HASH" }, { AttributeName: "lastActivityAt", KeyType: "RANGE" }],
    Projection: { ProjectionType: "KEYS_ONLY" },
  }],
};
