/**
 * Key layout shared by every backend: `<prefix>:{<key>}` for a value, `…:lease` for its lease and
 * `…:window` for its rate-limit window. The braces are a Redis Cluster hash tag, so a key, its
 * lease and its window always share one slot and a Lua script may touch them together.
 */
import { cacheKeyStart } from "../contract/cache";
import type { CacheStats, CacheBackendKind } from "./types";

export function assertPrefix(prefix: string): string {
  // Braces in the prefix would move the hash tag away from the key and split key/lease slots.
  if (!prefix || /[{}]/.test(prefix)) {
    throw new Error(`cache key prefix ${JSON.stringify(prefix)}: a non-empty string without "{" or "}"`);
  }
  return prefix;
}

export function assertKey(key: string): void {
  // `{}` is an empty hash tag: Redis would hash the whole name and the lease could land elsewhere.
  if (typeof key !== "string" || key.length === 0) throw new Error("cache key: a non-empty string");
}

export interface KeyLayout {
  /** What every key of this store starts with (`<prefix>:{`): the prefix scan/clear matches on it. */
  readonly scanPrefix: string;
  value(key: string): string;
  lease(key: string): string;
  window(key: string): string;
}

export function keyLayout(prefix: string): KeyLayout {
  assertPrefix(prefix);
  const scanPrefix = cacheKeyStart(prefix);
  return {
    scanPrefix,
    value: (k) => (assertKey(k), `${scanPrefix}${k}}`),
    lease: (k) => (assertKey(k), `${scanPrefix}${k}}:lease`),
    window: (k) => (assertKey(k), `${scanPrefix}${k}}:window`),
  };
}

export function assertTtlSeconds(ttlSeconds: number): void {
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1) throw new Error(`cache ttlSeconds ${ttlSeconds}: an integer ≥ 1`);
}

export function assertPositiveMs(name: string, ms: number): void {
  if (!Number.isFinite(ms) || ms < 1) throw new Error(`cache ${name} ${ms}: a number of milliseconds ≥ 1`);
}

/** Mutable counters behind {@link CacheStats}. */
export class StatsCounter {
  hits = 0;
  misses = 0;
  sets = 0;
  deletes = 0;
  errors = 0;
  constructor(private readonly kind: CacheBackendKind) {}

  snapshot(): CacheStats {
    return { kind: this.kind, hits: this.hits, misses: this.misses, sets: this.sets, deletes: this.deletes, errors: this.errors };
  }

  /** Runs `fn`, counting a rejection as an error. */
  async track<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      this.errors++;
      throw err;
    }
  }
}

/** Remaining whole seconds, never 0 for a live key (a caller reading 0 would think it gone). */
export function remainingSeconds(expiresAtMs: number, nowMs: number): number {
  return Math.max(1, Math.ceil((expiresAtMs - nowMs) / 1000));
}

export function clampRetryAfter(ms: number, windowMs: number): number {
  return Math.min(windowMs, Math.max(1, Math.ceil(ms)));
}
