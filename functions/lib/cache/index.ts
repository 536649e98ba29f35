/**
 * The cache store a handler uses, chosen by configuration:
 * `const cache = createCacheStore(loadRuntimeConfig());` — redis and dynamodb sit behind a circuit breaker.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { RuntimeConfig } from "../config";
import { CONNECTIONS } from "../contract";
import { BreakerCacheStore, BreakerListener } from "./breaker";
import { DynamoDbCacheStore } from "./dynamodb";
import { MemcachedCacheStore } from "./memcached";
import { MemoryCacheStore } from "./memory";
import { RedisCacheStore } from "./redis";
import type { SecretsSender } from "./secrets";
import type { CacheStore } from "./types";

export * from "./types";
export { BreakerCacheStore, CacheUnavailableError, CircuitBreaker } from "./breaker";
export type { BreakerState, BreakerStateChange, BreakerListener, CircuitBreakerOptions, BreakerCacheStoreOptions } from "./breaker";
export { MemoryBacking, MemoryCacheStore } from "./memory";
export type { MemoryCacheStoreOptions } from "./memory";
export { RedisCacheStore, buildRedisClient, createRedisClient, ensureConnected, reconnectDelay, releaseRedisClient } from "./redis";
export type { RedisClient, RedisCacheStoreOptions, RedisClientOptions } from "./redis";
export { RedisIamSession } from "./redis-iam";
export type { RedisIamAuth } from "./redis-iam";
export { elastiCacheAuthToken, ElastiCacheIamTokenProvider, IAM_TOKEN_LIFETIME_SECONDS } from "./iam-auth";
export type { AwsCredentials, AwsCredentialsProvider, ElastiCacheIamAuthOptions, ElastiCacheTokenTarget } from "./iam-auth";
export { MemcachedCacheStore, memcachedKey } from "./memcached";
export type { MemcachedCacheStoreOptions } from "./memcached";
export { DynamoDbCacheStore } from "./dynamodb";
export type { DynamoDbCacheStoreOptions } from "./dynamodb";
export { parseRedisAuth, redisAuthFromSecret } from "./secrets";
export type { RedisAuth, SecretsSender } from "./secrets";

export interface CacheStoreDeps {
  /** Client for the dynamodb backend. @default a DynamoDBClient for the config's region/endpoint */
  readonly dynamoDbClient?: Pick<DynamoDBClient, "send">;
  /** Client that reads the Redis AUTH secret. @default a SecretsManagerClient in the config's region */
  readonly secretsClient?: SecretsSender;
  /** Breaker state-change hook (metrics, logs). @default none */
  readonly onBreakerStateChange?: BreakerListener;
}

export function createCacheStore(config: RuntimeConfig, deps: CacheStoreDeps = {}): CacheStore {
  const breaker = { ...config.breaker, onStateChange: deps.onBreakerStateChange };
  switch (config.cacheBackend) {
    case "memory":
      // In-process: it cannot be "down", so a breaker would only add overhead.
      return new MemoryCacheStore({ keyPrefix: config.keyPrefix });
    case "redis": {
      if (!config.redis) throw new Error(`cache backend redis: RuntimeConfig.redis (${CONNECTIONS.redisHost.env}) is required`);
      const iam = config.redis.iam;
      const store = new RedisCacheStore({
        keyPrefix: config.keyPrefix,
        settings: config.redis,
        commandTimeoutMs: config.breaker.commandTimeoutMs,
        connectTimeoutMs: config.breaker.connectTimeoutMs,
        secretsClient: deps.secretsClient,
        region: config.region,
        auth: iam ? { mode: "iam", userId: iam.userId, cacheName: iam.cacheName, serverless: iam.serverless, region: config.region } : undefined,
      });
      return new BreakerCacheStore(store, breaker);
    }
    case "memcached": {
      if (!config.memcached) throw new Error(`cache backend memcached: RuntimeConfig.memcached (${CONNECTIONS.memcachedHost.env}) is required`);
      const store = new MemcachedCacheStore({
        keyPrefix: config.keyPrefix,
        ...config.memcached,
        commandTimeoutMs: config.breaker.commandTimeoutMs,
        connectTimeoutMs: config.breaker.connectTimeoutMs,
      });
      return new BreakerCacheStore(store, breaker);
    }
    case "dynamodb": {
      if (!config.cacheTableName) throw new Error(`cache backend dynamodb: RuntimeConfig.cacheTableName (${CONNECTIONS.cacheTableName.env}) is required`);
      const client =
        deps.dynamoDbClient ??
        new DynamoDBClient({
          region: config.region,
          endpoint: config.dynamoDbEndpoint,
          // One quick retry at most: the breaker, not SDK backoff, decides when the cache is down.
          maxAttempts: 2,
          requestHandler: {
            connectionTimeout: config.breaker.connectTimeoutMs,
            requestTimeout: Math.max(config.breaker.commandTimeoutMs * 2, 500),
            throwOnRequestTimeout: true,
          },
        });
      return new BreakerCacheStore(new DynamoDbCacheStore({ keyPrefix: config.keyPrefix, tableName: config.cacheTableName, client }), breaker);
    }
    default: {
      const never: never = config.cacheBackend;
      throw new Error(`unknown cache backend ${String(never)}`);
    }
  }
}
