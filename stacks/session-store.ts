/**
 * Session store: chat sessions (META + TURN# + SUMMARY# items under PK SESSION#id) read
 * through DAX, with Redis for the assembled context, rate limiting and session locks.
 */
import { Construct } from "constructs";
import { CacheApi } from "../modules/api";
import { DaxCluster } from "../modules/dax";
import { CacheAsideFunction } from "../modules/function";
import { CacheObservability } from "../modules/observability";
import { CacheEngine, RedisCache } from "../modules/redis";
import { CacheTable } from "../modules/table";
import { CacheStack, CacheStackProps } from "./base";
import { TURN_SCHEMA } from "./schemas";

/**
 * The session store stack: chat sessions in DynamoDB (`PK` = `SESSION#<id>`, `SK` = `META` / `TURN#…` / `SUMMARY#…`,
 * TTL `expiresAt`, GSI `by-customer`) read through DAX, Redis/Valkey for the assembled context, rate limits and session
 * locks, behind API Gateway and `functions/sessions`. Same outputs as the product catalog.
 */
export class SessionStoreStack extends CacheStack {
  /** The sessions table. */
  public readonly table: CacheTable;
  /** The DAX cluster in front of the sessions table. */
  public readonly dax: DaxCluster;
  /** The Redis/Valkey cache (context, rate limits, locks). */
  public readonly cache: RedisCache;
  /** The session function (`functions/sessions/handler.ts`). */
  public readonly fn: CacheAsideFunction;
  /**
   * The REST API: `GET /health`, `GET /sessions/{sessionId}`, `POST /sessions/{sessionId}/turns` (needs the API key).
   */
  public readonly api: CacheApi;
  /** Dashboard, alarm topic and (in prod) alarms. */
  public readonly observability: CacheObservability;

  constructor(scope: Construct, id: string, props: CacheStackProps) {
    super(scope, id, props);
    const cfg = this.config;
    const network = this.network;

    this.table = new CacheTable(this, "sessions", {
      partitionKey: { name: "PK", type: "S" }, // SESSION#<id>
      sortKey: { name: "SK", type: "S" }, // META | TURN#<ts> | SUMMARY#<ts>
      timeToLiveAttribute: "expiresAt",
      globalSecondaryIndexes: [
        {
          indexName: "by-customer",
          partitionKey: { name: "customerId", type: "S" },
          sortKey: { name: "lastActivityAt", type: "S" },
          projection: "KEYS_ONLY",
        },
      ],
    });

    this.dax = new DaxCluster(this, "dax", {
      network,
      tables: [this.table],
      nodeType: cfg.dax.nodeType,
      replicationFactor: cfg.dax.replicationFactor,
      recordTtlMillis: cfg.dax.recordTtlMillis,
      queryTtlMillis: cfg.dax.queryTtlMillis,
    });

    this.cache = new RedisCache(this, "cache", {
      network,
      engine: CacheEngine.of(cfg.redis.engine, cfg.redis.engineVersion),
      nodeType: cfg.redis.nodeType,
      replicasPerShard: cfg.redis.replicasPerShard,
      numShards: cfg.redis.numShards,
      snapshotRetentionLimit: cfg.redis.snapshotRetentionDays,
      logRetentionDays: cfg.logRetentionDays,
    });

    this.fn = new CacheAsideFunction(this, "fn", {
      network,
      entry: "functions/sessions/handler.ts",
      description: "Session store: assembled context, turns, rate limiting, session locks",
      memorySize: cfg.function.memorySize,
      timeoutSeconds: cfg.function.timeoutSeconds,
      reservedConcurrency: cfg.function.reservedConcurrency,
      logRetentionDays: cfg.logRetentionDays,
      environment: {
        SERVICE_NAME: "session-store",
        CACHE_BACKEND: "redis",
        CONTEXT_TTL_SECONDS: String(cfg.cache.sessionContextTtlSeconds),
        CACHE_TTL_JITTER_RATIO: String(cfg.cache.ttlJitterRatio),
        CONTEXT_TURNS: String(cfg.sessions.contextTurns),
        RATE_LIMIT_PER_WINDOW: String(cfg.sessions.rateLimitPerWindow),
        RATE_LIMIT_WINDOW_SECONDS: String(cfg.sessions.rateLimitWindowSeconds),
        CUSTOMER_INDEX_NAME: "by-customer",
      },
    });
    this.fn.useTable(this.table, { write: true });
    this.fn.useDax(this.dax);
    this.fn.useCache(this.cache);

    this.api = new CacheApi(this, "api", {
      routes: [
        { method: "GET", path: "/health", function: this.fn },
        { method: "GET", path: "/sessions/{sessionId}", function: this.fn, optionalQueryParameters: ["consistent"] },
        { method: "POST", path: "/sessions/{sessionId}/turns", function: this.fn, bodySchema: TURN_SCHEMA, apiKeyRequired: true },
      ],
      throttlingRateLimit: cfg.api.throttlingRateLimit,
      throttlingBurstLimit: cfg.api.throttlingBurstLimit,
      logRetentionDays: cfg.logRetentionDays,
    });

    this.observability = new CacheObservability(this, "observability", {
      api: this.api, function: this.fn, table: this.table, cache: this.cache, dax: this.dax,
      alarms: cfg.observability.alarms,
    });

    this.output("api_url", this.api.url, "Invoke URL of the API stage");
    this.output("table_name", this.table.tableName, "DynamoDB sessions table");
    this.output("redis_endpoint", this.cache.endpointAddress, "Redis/Valkey endpoint (TLS)");
    this.output("redis_port", this.cache.port, "Redis/Valkey port");
    this.output("redis_auth_secret_arn", this.cache.authSecretArn, "Secret holding the Redis AUTH token");
    this.output("dax_endpoint", this.dax.discoveryEndpoint, "DAX discovery endpoint");
    this.output("function_name", this.fn.functionName, "Session Lambda function");
    this.output("alarm_topic_arn", this.observability.topicArn, "SNS topic the alarms notify (KMS-encrypted)");
    this.output("dashboard_name", this.observability.dashboardName, "CloudWatch dashboard of this stack");
    this.output("api_key", this.api.apiKeyValue!, "API key for the write route (POST turns)", true);
  }
}
