/**
 * Product catalog: API Gateway → Lambda → Redis (cache-aside, 5-min TTL) → DynamoDB,
 * optionally with DAX between the function and the table.
 */
import { Construct } from "constructs";
import { CacheApi } from "../modules/api";
import { DaxCluster } from "../modules/dax";
import { CacheAsideFunction } from "../modules/function";
import { CacheObservability } from "../modules/observability";
import { CacheEngine, RedisCache } from "../modules/redis";
import { CacheTable } from "../modules/table";
import { CacheStack, CacheStackProps } from "./base";
import { PRODUCT_SCHEMA } from "./schemas";

/**
 * The product catalog stack: API Gateway → Lambda (`functions/products`) → Redis/Valkey cache-aside (5-minute TTL) →
 * DynamoDB `productId` table, DAX in between when `productCatalog.dax` is on, with its dashboard and alarms. Outputs:
 * `api_url`, `table_name`, `redis_endpoint`, `redis_port`, `redis_auth_secret_arn`, `dax_endpoint`, `function_name`,
 * `alarm_topic_arn`, `dashboard_name`, `api_key` (sensitive).
 */
export class ProductCatalogStack extends CacheStack {
  /** The products table (partition key `productId`). */
  public readonly table: CacheTable;
  /** The Redis/Valkey cache. */
  public readonly cache: RedisCache;
  /** The product function (`functions/products/handler.ts`). */
  public readonly fn: CacheAsideFunction;
  /** The REST API: `GET /health`, `GET`, `PUT` and `DELETE /products/{productId}` (writes need the API key). */
  public readonly api: CacheApi;
  /** Dashboard, alarm topic and (in prod) alarms. */
  public readonly observability: CacheObservability;
  /** The DAX cluster, when `productCatalog.dax` is on. */
  public readonly dax?: DaxCluster;

  constructor(scope: Construct, id: string, props: CacheStackProps) {
    super(scope, id, props);
    const cfg = this.config;
    const network = this.network;

    this.table = new CacheTable(this, "products", { partitionKey: { name: "productId", type: "S" } });

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
      entry: "functions/products/handler.ts",
      description: "Product catalog: cache-aside reads, invalidate-on-write",
      memorySize: cfg.function.memorySize,
      timeoutSeconds: cfg.function.timeoutSeconds,
      reservedConcurrency: cfg.function.reservedConcurrency,
      logRetentionDays: cfg.logRetentionDays,
      environment: {
        SERVICE_NAME: "product-catalog",
        CACHE_BACKEND: "redis",
        CACHE_TTL_SECONDS: String(cfg.cache.productTtlSeconds),
        CACHE_TTL_JITTER_RATIO: String(cfg.cache.ttlJitterRatio),
      },
    });
    this.fn.useTable(this.table, { write: true });
    this.fn.useCache(this.cache);

    if (cfg.productCatalog.dax) {
      this.dax = new DaxCluster(this, "dax", {
        network,
        tables: [this.table],
        nodeType: cfg.dax.nodeType,
        replicationFactor: cfg.dax.replicationFactor,
        recordTtlMillis: cfg.dax.recordTtlMillis,
        queryTtlMillis: cfg.dax.queryTtlMillis,
      });
      this.fn.useDax(this.dax);
    }

    this.api = new CacheApi(this, "api", {
      routes: [
        { method: "GET", path: "/health", function: this.fn },
        { method: "GET", path: "/products/{productId}", function: this.fn },
        { method: "PUT", path: "/products/{productId}", function: this.fn, bodySchema: PRODUCT_SCHEMA, apiKeyRequired: true },
        { method: "DELETE", path: "/products/{productId}", function: this.fn, apiKeyRequired: true },
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
    this.output("table_name", this.table.tableName, "DynamoDB products table");
    this.output("redis_endpoint", this.cache.endpointAddress, "Redis/Valkey endpoint (TLS)");
    this.output("redis_port", this.cache.port, "Redis/Valkey port");
    this.output("redis_auth_secret_arn", this.cache.authSecretArn, "Secret holding the Redis AUTH token");
    this.output("dax_endpoint", this.dax ? this.dax.discoveryEndpoint : "", "DAX discovery endpoint (empty without DAX)");
    this.output("function_name", this.fn.functionName, "Cache-aside Lambda function");
    this.output("alarm_topic_arn", this.observability.topicArn, "SNS topic the alarms notify (KMS-encrypted)");
    this.output("dashboard_name", this.observability.dashboardName, "CloudWatch dashboard of this stack");
    this.output("api_key", this.api.apiKeyValue!, "API key for the write routes (PUT/DELETE)", true);
  }
}
