/**
 * Typed environment configuration: one object per environment, validated when loaded so a
 * bad value fails before any construct is built, with the field path in the message.
 */
import { Profile } from "../modules/core/profile";
import { CacheAlarmsProps, validateCacheAlarms } from "../modules/observability";
import { LOG_RETENTION_DAYS, PropsValidator } from "../modules/core/validation";

/** Optional S3 remote state. Without it, state is local (`terraform.<stack>.tfstate`). */
export interface RemoteStateConfig {
  /** S3 bucket holding state (versioning and encryption on: that is the bucket owner's job). */
  readonly bucket: string;
  /** Key prefix; the stack name is appended, e.g. `cachefront/product-catalog-prod.tfstate`. */
  readonly keyPrefix: string;
  /** Region of the bucket. */
  readonly region: string;
  /** Optional KMS key for state encryption. @default the bucket's default encryption */
  readonly kmsKeyId?: string;
}

/** The ElastiCache Redis OSS / Valkey settings of an environment. */
export interface RedisConfig {
  /** Engine: `valkey` (wire-compatible, cheaper) or `redis`. */
  readonly engine: "redis" | "valkey";
  /** Major.minor engine version, e.g. `8.0` (see `RedisCache` for the supported ones). */
  readonly engineVersion: string;
  /** Node type, e.g. `cache.t4g.micro`. */
  readonly nodeType: string;
  /** Replicas per shard (0–5). */
  readonly replicasPerShard: number;
  /** Shards; set to enable cluster mode. */
  readonly numShards?: number;
  /** Days to keep daily snapshots (0–35, 0 turns snapshots off). */
  readonly snapshotRetentionDays: number;
}

/**
 * The DAX settings of an environment (used by the session store, and by the product catalog with `productCatalog.dax`).
 */
export interface DaxConfig {
  /** DAX node type, e.g. `dax.t3.small` (never a `cache.*` type). */
  readonly nodeType: string;
  /** Nodes (1–10); at least 3 in prod, one per AZ. */
  readonly replicationFactor: number;
  /** How long DAX keeps an item read with GetItem, in milliseconds. */
  readonly recordTtlMillis: number;
  /** How long DAX keeps a Query result, in milliseconds; writes do not invalidate it. */
  readonly queryTtlMillis: number;
}

/** One environment. */
export interface EnvironmentConfig {
  /** `dev` or `prod`: the stack name suffix and the profile every construct's defaults follow. */
  readonly name: Profile;
  /** AWS region of the provider and every resource, e.g. `us-east-1`. */
  readonly region: string;
  /** AZs for subnets; never looked up, so plans run offline. */
  readonly availabilityZones: readonly string[];
  /** IPv4 CIDR of the VPC (/16 to /24). */
  readonly vpcCidr: string;
  /** Retention of every log group (flow logs, Lambda, API access logs, cache logs). */
  readonly logRetentionDays: number;
  /** The Redis/Valkey cache. */
  readonly redis: RedisConfig;
  /** The DAX cluster. */
  readonly dax: DaxConfig;
  /** Cache TTLs the functions use. */
  readonly cache: {
    /** Product cache TTL (the seed's 5 minutes), 1 s – 1 day. */
    readonly productTtlSeconds: number;
    /** Assembled session-context TTL, 1 s – 1 day. */
    readonly sessionContextTtlSeconds: number;
    /** Random extra TTL, as a fraction of the TTL (0–0.5), so keys written together do not expire together. */
    readonly ttlJitterRatio: number;
  };
  /** Stage throttling of the API: steady requests per second and burst. */
  readonly api: {
    readonly throttlingRateLimit: number;
    readonly throttlingBurstLimit: number;
  };
  /** Memory (MB), timeout (s) and optional reserved concurrency of the Lambda functions. */
  readonly function: {
    readonly memorySize: number;
    readonly timeoutSeconds: number;
    readonly reservedConcurrency?: number;
  };
  /** Session store behaviour: rate limit and context size. */
  readonly sessions: {
    /** Requests per customer per window (sliding window). */
    readonly rateLimitPerWindow: number;
    readonly rateLimitWindowSeconds: number;
    /** Turns assembled into the context. */
    readonly contextTurns: number;
  };
  /** Product catalog options. */
  readonly productCatalog: {
    /** Put DAX between the product function and the table as well. */
    readonly dax: boolean;
  };
  /** Dashboards (always) and alarms (on in prod): switch, email, thresholds, periods, evaluation counts. */
  readonly observability: { readonly alarms: CacheAlarmsProps };
  /** S3 remote state; local state when absent (help/deploying.md). */
  readonly remoteState?: RemoteStateConfig;
  /** Default tags on every resource (the stack adds `Stack` and `ManagedBy`). */
  readonly tags: Readonly<Record<string, string>>;
}

const common = {
  region: "us-east-1",
  availabilityZones: ["us-east-1a", "us-east-1b", "us-east-1c"],
  cache: { productTtlSeconds: 300, sessionContextTtlSeconds: 300, ttlJitterRatio: 0.1 },
  sessions: { rateLimitPerWindow: 30, rateLimitWindowSeconds: 60, contextTurns: 20 },
  productCatalog: { dax: false },
} as const;

/** The embedded environments the default app synthesizes. */
export const ENVIRONMENTS: Readonly<Record<Profile, EnvironmentConfig>> = {
  dev: {
    ...common,
    name: "dev",
    availabilityZones: ["us-east-1a", "us-east-1b"],
    vpcCidr: "10.20.0.0/16",
    logRetentionDays: 14,
    redis: { engine: "valkey", engineVersion: "8.0", nodeType: "cache.t4g.micro", replicasPerShard: 0, snapshotRetentionDays: 1 },
    dax: { nodeType: "dax.t3.small", replicationFactor: 1, recordTtlMillis: 300_000, queryTtlMillis: 60_000 },
    api: { throttlingRateLimit: 50, throttlingBurstLimit: 100 },
    function: { memorySize: 256, timeoutSeconds: 10 },
    observability: { alarms: { enabled: false } },
    tags: { Environment: "dev", Project: "cachefront" },
  },
  prod: {
    ...common,
    name: "prod",
    vpcCidr: "10.30.0.0/16",
    logRetentionDays: 90,
    redis: { engine: "valkey", engineVersion: "8.0", nodeType: "cache.r7g.large", replicasPerShard: 1, snapshotRetentionDays: 7 },
    dax: { nodeType: "dax.r5.large", replicationFactor: 3, recordTtlMillis: 300_000, queryTtlMillis: 60_000 },
    api: { throttlingRateLimit: 1000, throttlingBurstLimit: 2000 },
    function: { memorySize: 512, timeoutSeconds: 10, reservedConcurrency: 200 },
    observability: {
      alarms: {
        enabled: true,
        cacheHitRatio: { threshold: 80, periodSeconds: 300, evaluationPeriods: 3, minRequests: 100 },
        cacheCircuitOpen: { threshold: 0, periodSeconds: 60, evaluationPeriods: 5, datapointsToAlarm: 3 },
        redisEvictions: { threshold: 0, periodSeconds: 300, evaluationPeriods: 3 },
        redisCpu: { threshold: 80, periodSeconds: 300, evaluationPeriods: 3 },
        redisMemory: { threshold: 85, periodSeconds: 300, evaluationPeriods: 3 },
        redisReplicationLag: { threshold: 10, periodSeconds: 60, evaluationPeriods: 5 },
        daxErrors: { threshold: 10, periodSeconds: 300, evaluationPeriods: 2 },
        dynamoDbThrottles: { threshold: 0, periodSeconds: 60, evaluationPeriods: 5, datapointsToAlarm: 3 },
        lambdaErrorRate: { threshold: 2, periodSeconds: 300, evaluationPeriods: 2, minRequests: 20 },
        lambdaThrottles: { threshold: 0, periodSeconds: 60, evaluationPeriods: 5, datapointsToAlarm: 3 },
        apiServerErrorRate: { threshold: 1, periodSeconds: 300, evaluationPeriods: 2, minRequests: 20 },
        apiLatencyP99: { threshold: 1000, periodSeconds: 300, evaluationPeriods: 3 },
      },
    },
    tags: { Environment: "prod", Project: "cachefront" },
  },
};

const AZ_RE = /^([a-z]{2}(?:-gov)?-[a-z]+-\d)[a-z]$/;
const REGION_RE = /^[a-z]{2}(?:-gov)?-[a-z]+-\d$/;

/**
 * Checks an environment config; throws one error listing every problem, each named
 * `config(<env>).<field>`. Construct-level limits (node families, name lengths) are checked
 * again by the constructs, with their construct paths.
 */
export function validateConfig(cfg: EnvironmentConfig): EnvironmentConfig {
  const v = new PropsValidator(`config(${cfg.name})`);
  v.oneOf("name", cfg.name, ["dev", "prod"] as Profile[]);
  v.matches("region", cfg.region, REGION_RE, "an AWS region name such as \"us-east-1\"");
  v.check(cfg.availabilityZones.length >= 2, "availabilityZones", cfg.availabilityZones,
    "at least 2 zones: Redis replicas, DAX nodes and the Lambda are spread across AZs");
  cfg.availabilityZones.forEach((az, i) => {
    const m = AZ_RE.exec(az);
    v.check(!!m && m[1] === cfg.region, `availabilityZones[${i}]`, az, `a zone of region ${cfg.region}, e.g. "${cfg.region}a"`);
  });
  v.oneOf("logRetentionDays", cfg.logRetentionDays, LOG_RETENTION_DAYS);
  v.oneOf("redis.engine", cfg.redis.engine, ["redis", "valkey"] as const);
  v.intRange("redis.replicasPerShard", cfg.redis.replicasPerShard, 0, 5);
  v.intRange("redis.numShards", cfg.redis.numShards, 1, 500);
  v.intRange("redis.snapshotRetentionDays", cfg.redis.snapshotRetentionDays, 0, 35);
  v.intRange("dax.replicationFactor", cfg.dax.replicationFactor, 1, 10);
  v.intRange("cache.productTtlSeconds", cfg.cache.productTtlSeconds, 1, 86_400);
  v.intRange("cache.sessionContextTtlSeconds", cfg.cache.sessionContextTtlSeconds, 1, 86_400);
  v.check(cfg.cache.ttlJitterRatio >= 0 && cfg.cache.ttlJitterRatio <= 0.5, "cache.ttlJitterRatio",
    cfg.cache.ttlJitterRatio, "a fraction from 0 to 0.5");
  v.check(cfg.api.throttlingRateLimit > 0, "api.throttlingRateLimit", cfg.api.throttlingRateLimit, "a positive number of requests per second");
  v.intRange("api.throttlingBurstLimit", cfg.api.throttlingBurstLimit, 1, 100_000);
  v.intRange("sessions.rateLimitPerWindow", cfg.sessions.rateLimitPerWindow, 1, 100_000);
  v.intRange("sessions.rateLimitWindowSeconds", cfg.sessions.rateLimitWindowSeconds, 1, 86_400);
  v.intRange("sessions.contextTurns", cfg.sessions.contextTurns, 1, 100);
  if (cfg.name === "prod") {
    // HA is the point of prod; a single node would be a silent downgrade.
    v.check(cfg.redis.replicasPerShard >= 1, "redis.replicasPerShard", cfg.redis.replicasPerShard,
      "at least 1 in prod (automatic failover and multi-AZ need a replica)");
    v.check(cfg.dax.replicationFactor >= 3, "dax.replicationFactor", cfg.dax.replicationFactor,
      "at least 3 in prod (one node per AZ, as AWS recommends for production)");
  }
  validateCacheAlarms(v, "observability.alarms", cfg.observability.alarms);
  if (cfg.remoteState) {
    v.matches("remoteState.bucket", cfg.remoteState.bucket, /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "an S3 bucket name");
    v.matches("remoteState.region", cfg.remoteState.region, REGION_RE, "an AWS region name");
    v.matches("remoteState.keyPrefix", cfg.remoteState.keyPrefix, /^[A-Za-z0-9!_.*'()/-]*$/, "an S3 key prefix");
  }
  v.throwIfAny();
  return cfg;
}

type DeepPartial<T> = T extends readonly unknown[] ? T : T extends object ? { readonly [K in keyof T]?: DeepPartial<T[K]> } : T;

/** Override of an environment: any subset of fields, at any depth. */
export type ConfigOverride = DeepPartial<EnvironmentConfig>;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === "object" && !Array.isArray(v);
}

/** Objects are merged key by key at every depth; arrays and scalars are replaced. */
function deepMerge(base: unknown, override: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(override)) return override === undefined ? base : override;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(override)) out[k] = deepMerge(base[k], v);
  return out;
}

/**
 * The named environment with an optional override merged in at any depth (so
 * `{ observability: { alarms: { redisCpu: { threshold: 70 } } } }` changes one threshold and
 * keeps the rest), validated.
 */
export function loadConfig(name: Profile, override: ConfigOverride = {}): EnvironmentConfig {
  const base = ENVIRONMENTS[name];
  if (!base) throw new Error(`config: unknown environment ${JSON.stringify(name)}; allowed: ${Object.keys(ENVIRONMENTS).join(", ")}`);
  return validateConfig(deepMerge(base, override) as EnvironmentConfig);
}
