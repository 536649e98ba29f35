/**
 * The cache storage contract every backend (redis | dynamodb | memory | memcached) implements, so
 * handlers, the circuit breaker and the contract tests see one API.
 *
 * Values are strings (callers serialize). TTLs are seconds for values, milliseconds for
 * leases and windows. Keys are given without the service prefix; a backend adds its own
 * prefix (`<prefix>:<key>`), so two services can share one cluster.
 */

import type { CacheBackendKind, OptionalCacheOperation } from "../contract/cache";

// Declared with the contracts, so constructs can refuse a backend at synth time.
export { cacheBackendSupports, UNSUPPORTED_CACHE_OPERATIONS } from "../contract/cache";
export type { CacheBackendKind, OptionalCacheOperation } from "../contract/cache";

/**
 * A backend was asked for an operation it cannot perform (see {@link UNSUPPORTED_CACHE_OPERATIONS}).
 * It is a configuration error, not an outage: the circuit breaker passes it through uncounted.
 */
export class UnsupportedCacheOperationError extends Error {
  constructor(
    /** The backend that refused. */
    readonly backend: CacheBackendKind,
    /** The operation it refused. */
    readonly operation: OptionalCacheOperation,
    /** Why the backend cannot do it. */
    readonly reason: string,
  ) {
    super(`cache backend ${backend} does not support ${operation}: ${reason}`);
    this.name = "UnsupportedCacheOperationError";
  }
}

/** Counters every backend keeps since it was created. */
export interface CacheStats {
  readonly kind: CacheBackendKind;
  readonly hits: number;
  readonly misses: number;
  readonly sets: number;
  readonly deletes: number;
  readonly errors: number;
}

/** One entry for {@link CacheStore.setMany}. */
export interface CacheEntry {
  readonly key: string;
  readonly value: string;
  /** Seconds until expiry (≥ 1). */
  readonly ttlSeconds: number;
}

/** Outcome of one sliding-window rate-limit hit. */
export interface WindowResult {
  /** True when this hit is within the limit (and was counted). */
  readonly allowed: boolean;
  /** Hits in the window, this one included when allowed. */
  readonly count: number;
  /** When refused: milliseconds until the oldest hit leaves the window. 0 when allowed. */
  readonly retryAfterMs: number;
}

/**
 * A cache backend: values with TTLs, leases for stampede protection, atomic invalidation and sliding-window rate
 * limits.
 */
export interface CacheStore {
  /** Which backend this is. */
  readonly kind: CacheBackendKind;

  /** The value, or undefined when absent or expired. */
  get(key: string): Promise<string | undefined>;
  /** Stores a value with a TTL (always: a cache entry without TTL is a leak). */
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  /** Deletes keys; returns how many existed. */
  delete(...keys: string[]): Promise<number>;
  /** Values in the order of `keys` (one round trip where the backend allows). */
  getMany(keys: readonly string[]): Promise<Array<string | undefined>>;
  /** Stores several values (a pipeline on Redis, a batch on DynamoDB). */
  setMany(entries: readonly CacheEntry[]): Promise<void>;
  /** True when `key` holds an unexpired value. */
  has(key: string): Promise<boolean>;
  /** Sets a new TTL on an existing key; false when the key does not exist. */
  expire(key: string, ttlSeconds: number): Promise<boolean>;
  /** Remaining seconds; -2 when the key does not exist, -1 when it has no TTL. */
  ttl(key: string): Promise<number>;
  /** Counters since the store was created. */
  stats(): CacheStats;

  /**
   * Takes the lease on `key` if nobody holds it (SET NX PX). The lease is what makes a
   * reader's later {@link setIfLeaseHeld} legal; {@link invalidate} revokes it.
   */
  acquireLease(key: string, token: string, ttlMs: number): Promise<boolean>;
  /**
   * Atomically: if the lease on `key` is still held with `token`, store the value and release
   * the lease, returning true; otherwise store nothing and return false. A writer's
   * invalidation between the reader's table read and this call therefore wins.
   */
  setIfLeaseHeld(key: string, value: string, ttlSeconds: number, token: string): Promise<boolean>;
  /** Releases the lease on `key` only if it is held with `token`. */
  releaseLease(key: string, token: string): Promise<void>;
  /** Deletes the value of `key` and revokes any lease on it, in one atomic step. */
  invalidate(key: string): Promise<void>;

  /**
   * Sliding-window rate limit: counts a hit for `key` at `nowMs` if fewer than `limit` hits
   * fall in the last `windowMs`. Throws {@link UnsupportedCacheOperationError} on memcached.
   */
  hitWindow(key: string, limit: number, windowMs: number, nowMs: number): Promise<WindowResult>;

  /**
   * Deletes every key under this store's prefix (SCAN-based on Redis, never KEYS). Throws
   * {@link UnsupportedCacheOperationError} on memcached.
   */
  clear(): Promise<number>;
  /** True when the backend answers. */
  ping(): Promise<boolean>;
  /** Closes connections (tests, the local twin); a Lambda never calls it. */
  close(): Promise<void>;
}
