/**
 * Runtime configuration, read once per container from the environment variables the function
 * construct writes (names and endpoints only; secrets are fetched by ARN). Every variable, its
 * default and its range is declared once, in `./contract/runtime.ts`; help/runtime.md lists them.
 */
import type { CacheBackendKind } from "./cache/types";
import { CONNECTIONS, ConfigError, readSetting, readSettings, RUNTIME_SETTINGS } from "./contract";

export { ConfigError } from "./contract";

/** Where and how the `redis` backend connects (`REDIS_*` variables). */
export interface RedisSettings {
  /** Primary (or, in cluster mode, configuration) endpoint (`REDIS_HOST`). */
  readonly host: string;
  /** Port (`REDIS_PORT`, default 6379). */
  readonly port: number;
  /** Connect with TLS (`REDIS_TLS`, default true). */
  readonly tls: boolean;
  /** Use the cluster protocol (`REDIS_CLUSTER_MODE`, default false). */
  readonly clusterMode: boolean;
  /** Secrets Manager ARN of the AUTH token (or a user's JSON name and password); absent for a local Redis without AUTH. */
  readonly authSecretArn?: string;
  /** IAM authentication (`REDIS_AUTH_MODE=iam`): the user and the cache the tokens are signed for. */
  readonly iam?: { readonly userId: string; readonly cacheName: string; readonly serverless: boolean };
}

/** Where the `memcached` backend connects (`MEMCACHED_*` variables). */
export interface MemcachedSettings {
  /** Endpoint (`MEMCACHED_HOST`). */
  readonly host: string;
  /** Port (`MEMCACHED_PORT`, default 11211). */
  readonly port: number;
  /** Connect with TLS (`MEMCACHED_TLS`, default true). */
  readonly tls: boolean;
}

/** The in-process L1 (`L1_*` variables). */
export interface L1Settings {
  /** Lifetime of an entry, ms. */
  readonly ttlMs: number;
  /** Most entries. */
  readonly maxEntries: number;
  /** Most bytes. */
  readonly maxBytes: number;
}

/** Circuit breaker settings (`BREAKER_*` and `CACHE_COMMAND_TIMEOUT_MS`). */
export interface BreakerSettings {
  /** Failures within `windowMs` that open the circuit. */
  readonly failureThreshold: number;
  /** Sliding window, in milliseconds, in which failures are counted. */
  readonly windowMs: number;
  /** How long the circuit stays open before one probe is let through. */
  readonly cooldownMs: number;
  /** Longest a cache command may take before it counts as a failure. */
  readonly commandTimeoutMs: number;
  /** Longest the first connection (TCP, TLS, AUTH) may take. @default commandTimeoutMs */
  readonly connectTimeoutMs?: number;
}

/** The runtime configuration read by {@link loadRuntimeConfig}; help/runtime.md lists every variable and default. */
export interface RuntimeConfig {
  /** `SERVICE_NAME`: the metrics' `Service` dimension and the default key prefix. */
  readonly serviceName: string;
  /** `AWS_REGION` (set by Lambda). */
  readonly region: string;
  /** `TABLE_NAME`: the DynamoDB table (required). */
  readonly tableName: string;
  /** Override of the DynamoDB endpoint (local twin, tests). */
  readonly dynamoDbEndpoint?: string;
  /** `daxs://host:port` when DAX fronts the table. */
  readonly daxEndpoint?: string;
  /** `CACHE_BACKEND`: `redis`, `dynamodb` or `memory`. */
  readonly cacheBackend: CacheBackendKind;
  /** `CACHE_KEY_PREFIX`: prefix of every cache key. */
  readonly keyPrefix: string;
  /** Redis connection; present when `REDIS_HOST` is set. */
  readonly redis?: RedisSettings;
  /** Memcached connection; present when `MEMCACHED_HOST` is set. */
  readonly memcached?: MemcachedSettings;
  /** Table of the `dynamodb` cache backend. */
  readonly cacheTableName?: string;
  /** `CACHE_TTL_SECONDS`: TTL of cached values. */
  readonly ttlSeconds: number;
  /** `CACHE_TTL_JITTER_RATIO`: extra random TTL fraction. */
  readonly ttlJitterRatio: number;
  /** `NEGATIVE_CACHE_TTL_SECONDS`: TTL of not-found entries. */
  readonly negativeTtlSeconds: number;
  /** `CACHE_CONTROL_MAX_AGE_SECONDS`: `max-age` of cacheable responses. */
  readonly cacheControlMaxAgeSeconds: number;
  /** `CACHE_CONTROL_S_MAXAGE_SECONDS`: `s-maxage` of cacheable responses (the edge's lifetime of one). */
  readonly cacheControlSharedMaxAgeSeconds: number;
  /** `CACHE_CONTROL_STALE_WHILE_REVALIDATE_SECONDS`: `stale-while-revalidate` of cacheable responses (0: none). */
  readonly cacheControlStaleWhileRevalidateSeconds: number;
  /** Lease (stampede lock) lifetime: longer than a table read ever takes. */
  readonly leaseTtlMs: number;
  /** Longest a follower waits for the lease holder to fill the cache. */
  readonly leaseWaitMs: number;
  /** The in-process L1 in front of the cache; absent when `L1_TTL_MS` is 0. */
  readonly l1?: L1Settings;
  /** Circuit breaker settings. */
  readonly breaker: BreakerSettings;
  /** `METRICS_NAMESPACE`: CloudWatch namespace of the EMF metrics. */
  readonly metricsNamespace: string;
  /** `MAX_BODY_BYTES`: largest request body accepted. */
  readonly maxBodyBytes: number;
  /** `TABLE_TIMEOUT_MS`: longest one DynamoDB call may take, retries included. */
  readonly tableTimeoutMs: number;
  /** `CALLER_IDENTITY_SOURCE`: where the verified caller of `caller` routes is; unset: none is trusted. */
  readonly callerIdentitySource?: string;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Reads and validates the configuration; throws {@link ConfigError} on the first bad variable. */
export function loadRuntimeConfig(env: Env = process.env): RuntimeConfig {
  // Settings whose default is another variable's value (see their `derived` text).
  const serviceName = readSetting(RUNTIME_SETTINGS.serviceName, env);
  const s = readSettings(RUNTIME_SETTINGS, env, { keyPrefix: serviceName });
  const c = readSettings(CONNECTIONS, env, {
    region: readSetting(CONNECTIONS.defaultRegion, env) ?? "us-east-1",
    cacheBackend: readSetting(CONNECTIONS.redisHost, env) ? "redis" : readSetting(CONNECTIONS.memcachedHost, env) ? "memcached" : "memory",
    redisAuthMode: readSetting(CONNECTIONS.redisAuthSecretArn, env) ? "secret" : "none",
  });
  const cacheBackend = c.cacheBackend as CacheBackendKind;
  const required = (s: { env: string }, why: string) => new ConfigError(s.env, "", `required when ${why}`);
  if (cacheBackend === "redis" && !c.redisHost) throw required(CONNECTIONS.redisHost, `${CONNECTIONS.cacheBackend.env}=redis`);
  if (cacheBackend === "memcached" && !c.memcachedHost) throw required(CONNECTIONS.memcachedHost, `${CONNECTIONS.cacheBackend.env}=memcached`);
  const iam = c.redisAuthMode === "iam";
  if (iam && !c.redisUser) throw required(CONNECTIONS.redisUser, `${CONNECTIONS.redisAuthMode.env}=iam`);
  if (iam && !c.redisCacheName) throw required(CONNECTIONS.redisCacheName, `${CONNECTIONS.redisAuthMode.env}=iam`);
  if (c.redisAuthMode === "secret" && !c.redisAuthSecretArn) throw required(CONNECTIONS.redisAuthSecretArn, `${CONNECTIONS.redisAuthMode.env}=secret`);
  return {
    serviceName,
    region: c.region,
    tableName: c.tableName,
    dynamoDbEndpoint: c.dynamoDbEndpoint,
    daxEndpoint: c.daxEndpoint,
    cacheBackend,
    keyPrefix: s.keyPrefix,
    redis: c.redisHost
      ? {
          host: c.redisHost,
          port: c.redisPort,
          tls: c.redisTls,
          clusterMode: c.redisClusterMode,
          authSecretArn: c.redisAuthMode === "secret" ? c.redisAuthSecretArn : undefined,
          iam: iam ? { userId: c.redisUser!, cacheName: c.redisCacheName!, serverless: c.redisServerless } : undefined,
        }
      : undefined,
    memcached: c.memcachedHost ? { host: c.memcachedHost, port: c.memcachedPort, tls: c.memcachedTls } : undefined,
    cacheTableName: c.cacheTableName,
    ttlSeconds: s.ttlSeconds,
    ttlJitterRatio: s.ttlJitterRatio,
    negativeTtlSeconds: s.negativeTtlSeconds,
    cacheControlMaxAgeSeconds: s.cacheControlMaxAgeSeconds,
    cacheControlSharedMaxAgeSeconds: s.cacheControlSharedMaxAgeSeconds,
    cacheControlStaleWhileRevalidateSeconds: s.cacheControlStaleWhileRevalidateSeconds,
    leaseTtlMs: s.leaseTtlMs,
    leaseWaitMs: s.leaseWaitMs,
    l1: s.l1TtlMs > 0 ? { ttlMs: s.l1TtlMs, maxEntries: s.l1MaxEntries, maxBytes: s.l1MaxBytes } : undefined,
    breaker: {
      failureThreshold: s.breakerFailureThreshold,
      windowMs: s.breakerWindowMs,
      cooldownMs: s.breakerCooldownMs,
      commandTimeoutMs: s.cacheCommandTimeoutMs,
      connectTimeoutMs: s.cacheConnectTimeoutMs,
    },
    metricsNamespace: s.metricsNamespace,
    maxBodyBytes: s.maxBodyBytes,
    tableTimeoutMs: s.tableTimeoutMs,
    callerIdentitySource: c.callerIdentity,
  };
}
