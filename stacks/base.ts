import { TerraformOutput } from "cdktf";
import { Construct } from "constructs";
import {
  AccountBaseline, Authorization, CacheApi, CacheAsideFunction, CacheAuth, CacheEdge, CacheEngine, CacheObservability, CacheTable, CacheWarmer, DaxCluster,
  FunctionSettings, ICache, INetwork, MemcachedCache, Network, NetworkAttributes, RedisCache, ServerlessCache, StreamInvalidator, WebSocketApi,

} from "../modules";
import type { FunctionContract } from "../functions/lib/contract";
import type { EnvironmentConfig, RedisConfig } from "./config";
import { EnvironmentStack } from "./environment";

/** The cache's auth as the environment says it, including a migration from the token in progress. */
function cacheAuth(r: RedisConfig): CacheAuth | undefined {
  const target = r.auth === "password" ? CacheAuth.password() : r.auth === "token" ? CacheAuth.token() : r.auth === "iam" ? CacheAuth.iam() : undefined;
  if (r.migrateFromToken) return CacheAuth.token({ migrateTo: target ?? CacheAuth.iam(), stage: r.migrateFromToken });
  return target;
}

/** Props every stack of this app takes. */
export interface CacheStackProps {
  /** The environment to deploy; validated again here so a hand-built config is checked too. */
  readonly config: EnvironmentConfig;
  /**
   * The network to deploy into: a platform stack's `Network` of the same app (its ids become
   * cross-stack references, and interface endpoints the service needs are created there, once), or
   * the attributes of an existing VPC (`Network.fromAttributes`: nothing of the VPC is created).
   * @default a network of this stack's own, from `config` (a self-contained stack)
   */
  readonly network?: Network | NetworkAttributes;
  /**
   * Manage the account's API Gateway settings in this stack (an `AccountBaseline`), for a team
   * deploying one self-contained stack. Leave it off wherever an account baseline stack exists:
   * two stacks managing them overwrite each other, and destroying one unsets the other's.
   * @default false
   */
  readonly accountBaseline?: boolean;
}

/** The parts of a cache-aside service whose dashboard, alarms and outputs a stack declares. */
export interface ServiceParts {
  /** The service's table. */
  readonly table: CacheTable;
  /** The cache (Redis/Valkey nodes, Serverless or Memcached). */
  readonly cache: ICache;
  /** The service's function. */
  readonly fn: CacheAsideFunction;
  /** The API in front of the function. */
  readonly api: CacheApi;
  /** The DAX cluster, when the service has one. */
  readonly dax?: DaxCluster;
  /** The stream invalidator of the function's cache entries, when the service has one. */
  readonly invalidator?: StreamInvalidator;
  /** The WebSocket API on the function, when the service has one. */
  readonly realtime?: WebSocketApi;
  /** CloudFront in front of the API, when the service has one. */
  readonly edge?: CacheEdge;
  /** The warm function, when the service has one. */
  readonly warmer?: CacheWarmer;
}

/**
 * A service stack: what every stack of an environment shares ({@link EnvironmentStack}), the
 * network it deploys into, and the plumbing of a cache-aside service (its cache, DAX cluster,
 * function, API, observability and outputs from the environment config), so a stack states only
 * its own resources and relations.
 */
export abstract class CacheStack extends EnvironmentStack {
  /** The VPC the stack deploys into: its own (`network`), a platform stack's, or an existing one. */
  public readonly network: INetwork;
  /** The account's API Gateway settings, when this stack manages them (`accountBaseline`). */
  public readonly accountSettings?: AccountBaseline;

  constructor(scope: Construct, id: string, props: CacheStackProps) {
    super(scope, id, props.config);
    const net = props.network;
    this.network = net instanceof Network
      ? net.importInto(this, "network")
      : net
        ? Network.fromAttributes(this, "network", net)
        : new Network(this, "network", {
          availabilityZones: this.config.availabilityZones,
          cidr: this.config.vpcCidr,
          region: this.config.region,
          flowLogRetentionDays: this.config.logRetentionDays,
        });
    if (props.accountBaseline) this.accountSettings = new AccountBaseline(this, "account");
  }

  /** The cache (`cache`) of the kind the environment names (`cacheKind`): Redis/Valkey nodes, Serverless or Memcached. */
  protected serviceCache(): ICache {
    switch (this.config.cacheKind ?? "nodes") {
      case "serverless":
        return new ServerlessCache(this, "cache", { network: this.network, ...this.config.serverless });
      case "memcached":
        return new MemcachedCache(this, "cache", { network: this.network, ...this.config.memcached });
      default:
        return this.redisCache();
    }
  }

  /** The Redis/Valkey cache (`cache`) as the environment configures it. */
  protected redisCache(): RedisCache {
    const r = this.config.redis ?? {};
    return new RedisCache(this, "cache", {
      network: this.network,
      auth: cacheAuth(r),
      engine: r.engine || r.engineVersion ? CacheEngine.of(r.engine ?? CacheEngine.default().name, r.engineVersion) : undefined,
      nodeType: r.nodeType,
      replicasPerShard: r.replicasPerShard,
      numShards: r.numShards,
      snapshotRetentionLimit: r.snapshotRetentionDays,
      logRetentionDays: this.config.logRetentionDays,
    });
  }

  /** A DAX cluster (`dax`) in front of `tables`, as the environment configures it. */
  protected daxCluster(tables: readonly CacheTable[]): DaxCluster {
    const d = this.config.dax ?? {};
    return new DaxCluster(this, "dax", {
      network: this.network,
      tables,
      nodeType: d.nodeType,
      replicationFactor: d.replicationFactor,
      recordTtlMillis: d.recordTtlMillis,
      queryTtlMillis: d.queryTtlMillis,
    });
  }

  /** The service's function (`fn`): the contract's handler, sized by the environment, with `settings`. */
  protected serviceFunction<C extends FunctionContract>(contract: C, settings: FunctionSettings<C>): CacheAsideFunction<C> {
    const f = this.config.function ?? {};
    return new CacheAsideFunction(this, "fn", {
      network: this.network,
      contract,
      settings: { ttlJitterRatio: this.config.cache?.ttlJitterRatio, ...settings },
      memorySize: f.memorySize,
      timeoutSeconds: f.timeoutSeconds,
      reservedConcurrency: f.reservedConcurrency,
      logRetentionDays: this.config.logRetentionDays,
    });
  }

  /**
   * The stream invalidator (`invalidator`): every change to `table`, by any writer, invalidates
   * what it made stale of `fn`'s entries in `cache`.
   */
  protected streamInvalidator(table: CacheTable, fn: CacheAsideFunction, cache: ICache): StreamInvalidator {
    return new StreamInvalidator(this, "invalidator", { function: fn, table, cache, logRetentionDays: this.config.logRetentionDays });
  }

  /**
   * The REST API (`api`) serving every route of `fn`'s contract, throttled, authorized, behind WAF
   * and on a custom domain as the environment says.
   */
  protected serviceApi(fn: CacheAsideFunction): CacheApi {
    const api = this.config.api ?? {};
    return new CacheApi(this, "api", {
      functions: [fn],
      accountSettings: this.accountSettings,
      authorization: this.authorization(),
      throttlingRateLimit: api.throttlingRateLimit,
      throttlingBurstLimit: api.throttlingBurstLimit,
      waf: api.waf === true ? {} : api.waf,
      domain: api.domain,
      logRetentionDays: this.config.logRetentionDays,
    });
  }

  /**
   * The WebSocket API (`realtime`) on `fn`'s socket routes: `$connect` authorized as the REST `api`
   * (sharing its JWT authorizer function), logged with the environment's retention.
   */
  protected websocketApi(fn: CacheAsideFunction, api: CacheApi): WebSocketApi {
    return new WebSocketApi(this, "realtime", {
      function: fn,
      authorization: this.authorization(),
      authorizerFunction: api.authorization?.function,
      accountSettings: this.accountSettings,
      logRetentionDays: this.config.logRetentionDays,
    });
  }

  /** The environment's authorization, as `CacheApi` takes it (undefined when the environment sets none). */
  private authorization(): Authorization | undefined {
    const a = this.config.authorization;
    if (a?.jwt) return Authorization.jwt(a.jwt);
    if (a?.cognitoUserPoolArn) return Authorization.cognito(a.cognitoUserPoolArn);
    if (a?.iam) return Authorization.iam();
    return undefined;
  }

  /**
   * The service's dashboard and alarms (`observability`), and the outputs the smoke tests and the
   * local twin read: `api_url`, `table_name`, `redis_endpoint`, `redis_port`, `redis_auth_secret_arn` (empty unless token auth),
   * `dax_endpoint`, `function_name`, `alarm_topic_arn`, `dashboard_name`, `api_key` (sensitive), with an
   * invalidator `invalidation_failures_queue_url`, with a WebSocket API `websocket_url`, with an edge
   * `edge_url` and `edge_distribution_id`, with a warm function `warm_function_name`.
   */
  protected observeAndExport(parts: ServiceParts): CacheObservability {
    const { table, cache, fn, api, dax, invalidator, realtime, edge, warmer } = parts;
    const observability = new CacheObservability(this, "observability", {
      api, function: fn, table, cache, dax, invalidator, realtime, edge, alarms: this.config.observability?.alarms,

    });
    const out = (name: string, value: string | number, description: string, sensitive = false) =>
      new TerraformOutput(this, name, { value, description, sensitive });
    out("api_url", api.url, "Invoke URL of the API stage");
    out("table_name", table.tableName, "DynamoDB table of the service");
    out("redis_endpoint", cache.endpointAddress, "Cache endpoint (TLS)");
    out("redis_port", cache.port, "Cache port");
    out("redis_auth_secret_arn", (cache instanceof RedisCache ? cache.authSecretArn : undefined) ?? "", "Secret holding the Redis AUTH token (empty unless token auth)");
    out("dax_endpoint", dax ? dax.discoveryEndpoint : "", "DAX discovery endpoint (empty without DAX)");
    out("function_name", fn.functionName, "Cache-aside Lambda function");
    out("alarm_topic_arn", observability.topicArn, "SNS topic the alarms notify (KMS-encrypted)");
    out("dashboard_name", observability.dashboardName, "CloudWatch dashboard of this stack");
    if (invalidator) out("invalidation_failures_queue_url", invalidator.queueUrl, "Queue of stream batches the invalidator gave up on (KMS-encrypted)");
    if (realtime) out("websocket_url", realtime.url, "WebSocket URL of the stage (wss://…; connect with ?sessionId=…&token=…)");
    if (api.apiKeyValue !== undefined) out("api_key", api.apiKeyValue, "API key of the routes that need one", true);
    if (api.domain) out("api_domain_target", api.domain.regionalDomainName, "Where the custom domain's DNS record must point (alias or CNAME)");
    if (edge) {
      out("edge_url", edge.url, "Base URL of the CloudFront distribution in front of the API (the stage is its origin path)");
      out("edge_distribution_id", edge.distributionId, "CloudFront distribution id");
    }
    if (warmer) out("warm_function_name", warmer.functionName, "The warm function (npm run warm invokes it)");
    return observability;
  }
}
