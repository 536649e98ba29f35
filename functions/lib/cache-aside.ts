/**
 * Cache-aside reads with stampede protection and race-safe invalidation.
 *
 * Read:  GET key → hit: done. Miss: take the key's lease (SET NX PX) → load from the table →
 *        store only if the lease is still ours (atomic compare-and-set) → release.
 *        Callers that lose the lease race poll the cache for a bounded time instead of
 *        hitting the table; after that they read the table themselves, without caching.
 * Write: write the table first, then invalidate (delete the value AND revoke the lease).
 *        A reader that loaded the old value before the write finds its lease gone and does
 *        not store it, so no stale value can be cached once the write has returned.
 * Cache down: every cache call fails fast (circuit breaker); reads go to the table.
 */
import { randomBytes } from "crypto";
import type { CacheStore } from "./cache/types";
import { errorFields, log } from "./log";
import { METRIC, RequestMetrics } from "./metrics";

export type CacheStatus = "HIT" | "MISS" | "BYPASS";

export interface ReadResult<T> {
  /** The value, or undefined when the table has no such item (possibly served from a negative entry). */
  readonly value: T | undefined;
  /** HIT: from cache; MISS: loaded from the table (and cached when possible); BYPASS: cache unavailable. */
  readonly status: CacheStatus;
}

export interface CacheAsideSettings {
  readonly ttlSeconds: number;
  /** Extra random TTL as a fraction (0–0.5): entries written together expire apart. */
  readonly jitterRatio: number;
  /** TTL of "not found" entries, so a missing id cannot hammer the table. */
  readonly negativeTtlSeconds: number;
  readonly leaseTtlMs: number;
  readonly leaseWaitMs: number;
}

interface Envelope<T> {
  v?: T;
  nf?: 1;
}

/** A TTL in [ttl, ttl × (1 + ratio)], whole seconds. */
export function jitteredTtl(ttlSeconds: number, ratio: number, random: () => number = Math.random): number {
  return Math.max(1, Math.round(ttlSeconds * (1 + ratio * random())));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class CacheAside {
  /** Keys whose invalidation failed while the cache was unreachable; retried on the next write or read. */
  private readonly pendingInvalidations = new Set<string>();

  constructor(
    private readonly store: CacheStore,
    private readonly settings: CacheAsideSettings,
  ) {}

  get backend(): CacheStore {
    return this.store;
  }

  async read<T>(key: string, load: () => Promise<T | undefined>, metrics: RequestMetrics, ttlSeconds = this.settings.ttlSeconds): Promise<ReadResult<T>> {
    await this.retryPendingInvalidations();
    let cached: string | undefined;
    try {
      cached = await this.store.get(key);
    } catch (err) {
      return this.bypass(key, load, metrics, err);
    }
    if (cached !== undefined) {
      const env = parseEnvelope<T>(cached);
      if (env) {
        metrics.count(METRIC.CacheHit);
        return { value: env.nf ? undefined : env.v, status: "HIT" };
      }
    }
    metrics.count(METRIC.CacheMiss);

    const token = randomBytes(12).toString("base64url");
    let leased = false;
    try {
      leased = await this.store.acquireLease(key, token, this.settings.leaseTtlMs);
    } catch (err) {
      return this.bypass(key, load, metrics, err, false);
    }
    if (!leased) {
      const waited = await this.waitForFill<T>(key, metrics);
      if (waited) return waited;
      // The holder is slow or died: serve from the table, but leave caching to the holder.
      return { value: await this.timedLoad(load, metrics), status: "MISS" };
    }

    let value: T | undefined;
    try {
      value = await this.timedLoad(load, metrics);
    } catch (err) {
      await this.store.releaseLease(key, token).catch(() => undefined);
      throw err;
    }
    const envelope: Envelope<T> = value === undefined ? { nf: 1 } : { v: value };
    const ttl = value === undefined ? this.settings.negativeTtlSeconds : jitteredTtl(ttlSeconds, this.settings.jitterRatio);
    try {
      await this.store.setIfLeaseHeld(key, JSON.stringify(envelope), ttl, token);
    } catch (err) {
      metrics.count(METRIC.CacheError);
      log("warn", "cache fill failed", { key, ...errorFields(err) });
    }
    return { value, status: "MISS" };
  }

  /** Deletes the cached value and revokes any lease; remembered for retry if the cache is down. */
  async invalidate(key: string, metrics: RequestMetrics): Promise<boolean> {
    try {
      await this.store.invalidate(key);
      this.pendingInvalidations.delete(key);
      return true;
    } catch (err) {
      metrics.count(METRIC.CacheError);
      this.pendingInvalidations.add(key);
      log("warn", "cache invalidation failed; will retry, entry expires with its TTL at the latest", { key, ...errorFields(err) });
      return false;
    }
  }

  private async retryPendingInvalidations(): Promise<void> {
    if (this.pendingInvalidations.size === 0) return;
    for (const key of [...this.pendingInvalidations]) {
      try {
        await this.store.invalidate(key);
        this.pendingInvalidations.delete(key);
      } catch {
        return; // still down; the breaker keeps this cheap
      }
    }
  }

  private async waitForFill<T>(key: string, metrics: RequestMetrics): Promise<ReadResult<T> | undefined> {
    const start = Date.now();
    let delay = 5;
    while (Date.now() - start < this.settings.leaseWaitMs) {
      await sleep(delay);
      delay = Math.min(delay * 2, 50);
      let cached: string | undefined;
      try {
        cached = await this.store.get(key);
      } catch {
        return undefined;
      }
      const env = cached !== undefined ? parseEnvelope<T>(cached) : undefined;
      if (env) {
        metrics.timing(METRIC.StampedeWait, Date.now() - start);
        metrics.count(METRIC.CacheHit);
        return { value: env.nf ? undefined : env.v, status: "HIT" };
      }
    }
    metrics.timing(METRIC.StampedeWait, Date.now() - start);
    return undefined;
  }

  private async bypass<T>(key: string, load: () => Promise<T | undefined>, metrics: RequestMetrics, err: unknown, countError = true): Promise<ReadResult<T>> {
    if (countError) metrics.count(METRIC.CacheError);
    if (isCircuitOpen(err)) metrics.count(METRIC.CircuitOpen);
    metrics.count(METRIC.Fallback);
    log("warn", "cache unavailable; reading the table", { key, ...errorFields(err) });
    return { value: await this.timedLoad(load, metrics), status: "BYPASS" };
  }

  private async timedLoad<T>(load: () => Promise<T | undefined>, metrics: RequestMetrics): Promise<T | undefined> {
    const start = performance.now();
    try {
      return await load();
    } finally {
      metrics.timing(METRIC.LoadLatency, performance.now() - start);
    }
  }
}

function parseEnvelope<T>(raw: string): Envelope<T> | undefined {
  try {
    const env = JSON.parse(raw) as Envelope<T>;
    return env && typeof env === "object" && ("v" in env || env.nf === 1) ? env : undefined;
  } catch {
    return undefined; // a foreign or corrupt entry is a miss, and the fill overwrites it
  }
}

/** True for the breaker's fail-fast error (the name is the contract, not the class). */
export function isCircuitOpen(err: unknown): boolean {
  return err instanceof Error && (err.name === "CacheUnavailableError" || /circuit/i.test(err.message)) && /open/i.test(err.message);
}
