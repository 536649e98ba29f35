/**
 * Runtime configuration, read once per container from environment variables that the
 * function construct sets (names and endpoints only; secrets are fetched by ARN).
 * Every variable is documented in help/runtime.md.
 */
import type { CacheBackendKind } from "./cache/types";
import { DEFAULT_METRICS_NAMESPACE, DEFAULT_SERVICE_NAME } from "./metrics";

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
  /** Secrets Manager ARN of the AUTH token; absent for a local Redis without AUTH. */
  readonly authSecretArn?: string;
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
  /** Lease (stampede lock) lifetime: longer than a table read ever takes. */
  readonly leaseTtlMs: number;
  /** Longest a follower waits for the lease holder to fill the cache. */
  readonly leaseWaitMs: number;
  /** Circuit breaker settings. */
  readonly breaker: BreakerSettings;
  /** `METRICS_NAMESPACE`: CloudWatch namespace of the EMF metrics. */
  readonly metricsNamespace: string;
  /** `MAX_BODY_BYTES`: largest request body accepted. */
  readonly maxBodyBytes: number;
  /** Session store settings (`CONTEXT_*`, `RATE_LIMIT_*`, `SESSION_*`, `CUSTOMER_INDEX_NAME`). */
  readonly sessions: {
    readonly contextTtlSeconds: number;
    readonly contextTurns: number;
    readonly rateLimitPerWindow: number;
    readonly rateLimitWindowSeconds: number;
    readonly lockTtlMs: number;
    readonly lockWaitMs: number;
    readonly sessionTtlDays: number;
    readonly customerIndexName: string;
  };
}

/** A bad environment variable: the message names it, its value and what is allowed. */
export class ConfigError extends Error {
  constructor(name: string, value: string, allowed: string) {
    super(`environment variable ${name}=${JSON.stringify(value)}: ${allowed}`);
    this.name = "ConfigError";
  }
}

type Env = Record<string, string | undefined>;

function str(env: Env, name: string, fallback?: string): string {
  const v = env[name];
  if (v !== undefined && v !== "") return v;
  if (fallback !== undefined) return fallback;
  throw new ConfigError(name, "", "required");
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(name, raw, `an integer from ${min} to ${max}`);
  return n;
}

function num(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) throw new ConfigError(name, raw, `a number from ${min} to ${max}`);
  return n;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (raw === "true" || raw === "1") return true;
  if (raw === "false" || raw === "0") return false;
  throw new ConfigError(name, raw, "true or false");
}

/** Reads and validates the configuration; throws {@link ConfigError} on the first bad variable. */
export function loadRuntimeConfig(env: Env = process.env): RuntimeConfig {
  const serviceName = str(env, "SERVICE_NAME", DEFAULT_SERVICE_NAME);
  const redisHost = env.REDIS_HOST;
  const backendRaw = str(env, "CACHE_BACKEND", redisHost ? "redis" : "memory");
  if (!["redis", "dynamodb", "memory"].includes(backendRaw)) {
    throw new ConfigError("CACHE_BACKEND", backendRaw, "one of redis, dynamodb, memory");
  }
  const cacheBackend = backendRaw as CacheBackendKind;
  if (cacheBackend === "redis" && !redisHost) throw new ConfigError("REDIS_HOST", "", "required when CACHE_BACKEND=redis");
  const ttlSeconds = int(env, "CACHE_TTL_SECONDS", 300, 1, 86_400);
  return {
    serviceName,
    region: str(env, "AWS_REGION", str(env, "AWS_DEFAULT_REGION", "us-east-1")),
    tableName: str(env, "TABLE_NAME"),
    dynamoDbEndpoint: env.DYNAMODB_ENDPOINT || undefined,
    daxEndpoint: env.DAX_ENDPOINT || undefined,
    cacheBackend,
    keyPrefix: str(env, "CACHE_KEY_PREFIX", serviceName),
    redis: redisHost
      ? {
          host: redisHost,
          port: int(env, "REDIS_PORT", 6379, 1, 65_535),
          tls: bool(env, "REDIS_TLS", true),
          clusterMode: bool(env, "REDIS_CLUSTER_MODE", false),
          authSecretArn: env.REDIS_AUTH_SECRET_ARN || undefined,
        }
      : undefined,
    cacheTableName: env.CACHE_TABLE_NAME || undefined,
    ttlSeconds,
    ttlJitterRatio: num(env, "CACHE_TTL_JITTER_RATIO", 0.1, 0, 0.5),
    negativeTtlSeconds: int(env, "NEGATIVE_CACHE_TTL_SECONDS", 30, 1, 3_600),
    cacheControlMaxAgeSeconds: int(env, "CACHE_CONTROL_MAX_AGE_SECONDS", 60, 0, 86_400),
    leaseTtlMs: int(env, "CACHE_LEASE_TTL_MS", 3_000, 100, 60_000),
    leaseWaitMs: int(env, "CACHE_LEASE_WAIT_MS", 1_000, 0, 30_000),
    breaker: {
      failureThreshold: int(env, "BREAKER_FAILURE_THRESHOLD", 3, 1, 1_000),
      windowMs: int(env, "BREAKER_WINDOW_MS", 10_000, 100, 600_000),
      cooldownMs: int(env, "BREAKER_COOLDOWN_MS", 2_000, 100, 600_000),
      commandTimeoutMs: int(env, "CACHE_COMMAND_TIMEOUT_MS", 150, 10, 10_000),
    },
    metricsNamespace: str(env, "METRICS_NAMESPACE", DEFAULT_METRICS_NAMESPACE),
    maxBodyBytes: int(env, "MAX_BODY_BYTES", 64 * 1024, 1, 6 * 1024 * 1024),
    sessions: {
      contextTtlSeconds: int(env, "CONTEXT_TTL_SECONDS", 300, 1, 86_400),
      contextTurns: int(env, "CONTEXT_TURNS", 20, 1, 100),
      rateLimitPerWindow: int(env, "RATE_LIMIT_PER_WINDOW", 30, 1, 100_000),
      rateLimitWindowSeconds: int(env, "RATE_LIMIT_WINDOW_SECONDS", 60, 1, 86_400),
      lockTtlMs: int(env, "SESSION_LOCK_TTL_MS", 5_000, 100, 60_000),
      lockWaitMs: int(env, "SESSION_LOCK_WAIT_MS", 500, 0, 10_000),
      sessionTtlDays: int(env, "SESSION_TTL_DAYS", 30, 1, 3_650),
      customerIndexName: str(env, "CUSTOMER_INDEX_NAME", "by-customer"),
    },
  };
}
