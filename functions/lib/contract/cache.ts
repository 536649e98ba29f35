/**
 * What the runtime's cache stores need of a cache, as plain data the constructs read: which
 * backends can do which operations, where a service's keys live, and the Redis/Valkey commands the
 * runtime sends. From these the cache constructs write each function's ElastiCache user
 * (`redisAccessString(prefix)`), and refuse at synth time a backend that cannot do what a contract
 * `needs`. A test runs every cache operation as a user with exactly this access string on a real
 * redis-server (tests/functions/redis-acl.test.ts), so a command added to the runtime and not here
 * fails there, not in production.
 */
import type { FunctionContract } from "./language";

/** The cache backends: what `CacheStore.kind` and `CACHE_BACKEND` name. */
export type CacheBackendKind = "redis" | "dynamodb" | "memory" | "memcached";

/** The `CacheStore` operations a backend may be unable to perform. */
export type OptionalCacheOperation = "hitWindow" | "clear";

/**
 * What each backend cannot do, known without a connection, so that construct code can refuse at
 * synth time (e.g. a memcached cache for a function that rate-limits) instead of failing at run time.
 * Memcached has no atomic multi-entry update (so no sliding window) and no way to enumerate keys.
 */
export const UNSUPPORTED_CACHE_OPERATIONS: Readonly<Record<CacheBackendKind, readonly OptionalCacheOperation[]>> = {
  redis: [],
  dynamodb: [],
  memory: [],
  memcached: ["hitWindow", "clear"],
};

/** True when backend `kind` can perform `operation`. */
export function cacheBackendSupports(kind: CacheBackendKind, operation: OptionalCacheOperation): boolean {
  return !UNSUPPORTED_CACHE_OPERATIONS[kind].includes(operation);
}

/** The optional operations a contract's `needs` ask for, each with why a handler needs it. */
export function neededCacheOperations(contract: Pick<FunctionContract, "needs">): Array<{ operation: OptionalCacheOperation; why: string }> {
  const out: Array<{ operation: OptionalCacheOperation; why: string }> = [];
  if (contract.needs?.slidingWindow) out.push({ operation: "hitWindow", why: "its sliding-window rate limit (needs.slidingWindow)" });
  return out;
}

/**
 * What every key of a store with this prefix starts with: `<prefix>:{`. A value is `<prefix>:{<key>}`,
 * its lease `…:lease` and its rate-limit window `…:window` (functions/lib/cache/keys.ts); the
 * brace makes `<prefix>:sub` a different service, never a sub-space of `<prefix>`.
 */
export function cacheKeyStart(prefix: string): string {
  return `${prefix}:{`;
}

/**
 * The Redis/Valkey commands the runtime sends, by what sends them (functions/lib/cache/redis.ts and
 * ioredis). `clear()` (SCAN + UNLINK) is left out on purpose: SCAN is not scoped by ACL key
 * patterns, so it would list every service's key names, and no handler calls `clear()`.
 */
export const REDIS_RUNTIME_COMMANDS = {
  /** CacheStore operations: get, set, delete/invalidate, getMany, has, expire, ttl, lease (SET NX PX). */
  data: ["get", "set", "del", "mget", "exists", "expire", "pttl"],
  /** The Lua scripts (lease-guarded fill, lease release, sliding window): EVALSHA, EVAL after NOSCRIPT. */
  scripts: ["evalsha", "eval"],
  /** What the scripts call inside (checked against the same ACL as direct calls). */
  inScripts: ["zremrangebyscore", "zcard", "zadd", "pexpire", "zrange"],
  /**
   * The WebSocket connection map (functions/lib/realtime/registry.ts): its direct reads and prunes,
   * and what its connect/disconnect scripts call.
   */
  realtime: ["zrangebyscore", "zrem", "zscore", "zcount", "zremrangebyscore", "zadd", "pexpire", "zrange"],
  /** ioredis: INFO is its ready check, PING the health check, QUIT a clean close. */
  connection: ["info", "ping", "quit"],
  /**
   * A cluster client (cluster mode and ElastiCache Serverless): the slot map, the cluster's state
   * (its ready check) and the names it gives its refresher and subscriber connections.
   */
  cluster: ["cluster|slots", "cluster|info", "client|setname"],
} as const;

/** Every command of {@link REDIS_RUNTIME_COMMANDS}, deduplicated, in a stable order. */
export function redisRuntimeCommands(): string[] {
  return [...new Set(Object.values(REDIS_RUNTIME_COMMANDS).flat())];
}

/** Redis glob metacharacters in a prefix are matched literally. */
function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, "\\$&");
}

/**
 * The ACL access string of a service's user (ElastiCache `access_string`, or the rules of
 * `ACL SETUSER`): on, only the keys under its prefix (values, leases and windows), no command but
 * those the runtime sends. Pub/Sub channels stay closed (Redis 7's default `resetchannels`).
 *   redisAccessString("product-catalog") → "on ~product-catalog:{* -@all +get +set …"
 */
export function redisAccessString(prefix: string): string {
  if (!prefix || /[{}\s]/.test(prefix)) throw new Error(`cache key prefix ${JSON.stringify(prefix)}: a non-empty string without "{", "}" or spaces`);
  return ["on", `~${escapeGlob(cacheKeyStart(prefix))}*`, "-@all", ...redisRuntimeCommands().map((c) => `+${c}`)].join(" ");
}

/** The access string of the disabled `default` user every ElastiCache user group must hold: no login, no key, no command. */
export const DISABLED_DEFAULT_ACCESS_STRING = "off -@all";
