import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { S3Backend, TerraformOutput, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import {
  CacheApi, CacheAsideFunction, CacheEngine, CacheObservability, CacheTable, DaxCluster, FunctionSettings, Network,
  PROFILE_CONTEXT_KEY, RedisCache,
} from "../modules";
import { applyPolicy } from "../modules/policy";
import type { FunctionContract } from "../functions/lib/contract";
import { EnvironmentConfig, validateConfig } from "./config";

/** Props every stack of this app takes. */
export interface CacheStackProps {
  /** The environment to deploy; validated again here so a hand-built config is checked too. */
  readonly config: EnvironmentConfig;
}

/** The parts of a cache-aside service whose dashboard, alarms and outputs a stack declares. */
export interface ServiceParts {
  /** The service's table. */
  readonly table: CacheTable;
  /** The Redis/Valkey cache. */
  readonly cache: RedisCache;
  /** The service's function. */
  readonly fn: CacheAsideFunction;
  /** The API in front of the function. */
  readonly api: CacheApi;
  /** The DAX cluster, when the service has one. */
  readonly dax?: DaxCluster;
}

/**
 * What every stack of this app sets up first, from its environment: the profile every construct
 * below reads, the policy pack, the AWS provider (region and default tags from config, nothing
 * else: credentials come from the environment) and S3 remote state when configured.
 */
export function configureStack(stack: TerraformStack, config: EnvironmentConfig): void {
  stack.node.setContext(PROFILE_CONTEXT_KEY, config.name);
  applyPolicy(stack); // the cachefront policy pack: errors fail synthesis of this stack (help/policy.md)
  const id = stack.node.id;
  new AwsProvider(stack, "aws", {
    region: config.region,
    defaultTags: [{ tags: { ...config.tags, Stack: id, ManagedBy: "cdktf" } }],
  });
  const rs = config.remoteState;
  if (rs) {
    // S3-native locking (use_lockfile): the DynamoDB lock table is deprecated since Terraform 1.11.
    new S3Backend(stack, {
      bucket: rs.bucket,
      key: `${rs.keyPrefix.replace(/\/?$/, "/")}${id}.tfstate`,
      region: rs.region,
      encrypt: true,
      kmsKeyId: rs.kmsKeyId,
    });
    // cdktf 0.21's S3Backend has no typed field for it yet.
    stack.addOverride("terraform.backend.s3.use_lockfile", true);
  }
}

/**
 * What every stack shares: the AWS provider (region and default tags from config, nothing
 * else: credentials come from the environment), remote state when configured, the profile
 * every construct below reads, the network, and the plumbing of a cache-aside service (its
 * cache, DAX cluster, function, API, observability and outputs from the environment config), so
 * a stack states only its own resources and relations.
 */
export abstract class CacheStack extends TerraformStack {
  /** The environment this stack deploys, validated. */
  public readonly config: EnvironmentConfig;
  /** The stack's VPC (`network`), in the environment's availability zones. */
  public readonly network: Network;

  constructor(scope: Construct, id: string, props: CacheStackProps) {
    super(scope, id);
    this.config = validateConfig(props.config);
    configureStack(this, this.config);

    this.network = new Network(this, "network", {
      availabilityZones: this.config.availabilityZones,
      cidr: this.config.vpcCidr,
      region: this.config.region,
      flowLogRetentionDays: this.config.logRetentionDays,
    });
  }

  /** The Redis/Valkey cache (`cache`) as the environment configures it. */
  protected redisCache(): RedisCache {
    const r = this.config.redis ?? {};
    return new RedisCache(this, "cache", {
      network: this.network,
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

  /** The REST API (`api`) serving every route of `fn`'s contract, throttled as the environment says. */
  protected serviceApi(fn: CacheAsideFunction): CacheApi {
    return new CacheApi(this, "api", {
      functions: [fn],
      throttlingRateLimit: this.config.api?.throttlingRateLimit,
      throttlingBurstLimit: this.config.api?.throttlingBurstLimit,
      logRetentionDays: this.config.logRetentionDays,
    });
  }

  /**
   * The service's dashboard and alarms (`observability`), and the outputs the smoke tests and the
   * local twin read: `api_url`, `table_name`, `redis_endpoint`, `redis_port`, `redis_auth_secret_arn`,
   * `dax_endpoint`, `function_name`, `alarm_topic_arn`, `dashboard_name`, `api_key` (sensitive).
   */
  protected observeAndExport(parts: ServiceParts): CacheObservability {
    const { table, cache, fn, api, dax } = parts;
    const observability = new CacheObservability(this, "observability", {
      api, function: fn, table, cache, dax, alarms: this.config.observability?.alarms,
    });
    const out = (name: string, value: string | number, description: string, sensitive = false) =>
      new TerraformOutput(this, name, { value, description, sensitive });
    out("api_url", api.url, "Invoke URL of the API stage");
    out("table_name", table.tableName, "DynamoDB table of the service");
    out("redis_endpoint", cache.endpointAddress, "Redis/Valkey endpoint (TLS)");
    out("redis_port", cache.port, "Redis/Valkey port");
    out("redis_auth_secret_arn", cache.authSecretArn, "Secret holding the Redis AUTH token");
    out("dax_endpoint", dax ? dax.discoveryEndpoint : "", "DAX discovery endpoint (empty without DAX)");
    out("function_name", fn.functionName, "Cache-aside Lambda function");
    out("alarm_topic_arn", observability.topicArn, "SNS topic the alarms notify (KMS-encrypted)");
    out("dashboard_name", observability.dashboardName, "CloudWatch dashboard of this stack");
    if (api.apiKeyValue !== undefined) out("api_key", api.apiKeyValue, "API key of the routes that need one", true);
    return observability;
  }
}
