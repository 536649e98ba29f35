/**
 * Cache-aside reads with stampede protection and race-safe invalidation.
 *
 * Read:  GET key → hit: done. Miss: take the key's lease (SET NX PX) → load from the table →
 *        store only if the lease is still ours (atomic compare-and-set) → release.
 *        Callers that lose the lease race poll the cache for a bounded time instead of
 *        hitting the table; after that they read the table themselves, without caching.
 * Write: write the table first, then invalidate (delete the value AND revoke the lease).
 *        A reader that loaded the old value before the write finds its lease gone and does
 *        not store it, so no stale value can be cached once the invalidation has run. When the
 *        cache does not answer it, the table's stream invalidates the same way (stream.ts).
 * Cache down: every cache call fails fast (circuit breaker); reads go to the table.
 * L1 (opt-in): a bounded in-process map in front of the cache, entries kept for a short TTL. A hit
 *        there costs no round trip; the container's own invalidations evict it at once, so only a
 *        write made elsewhere can be served from it, for at most the L1 TTL.
 */
import { randomBytes } from "crypto";
import { MemoryBacking } from "./cache/memory";
import type { CacheStore } from "./cache/types";
import type { L1Settings } from "./config";
import { errorFields, log } from "./log";
import { METRIC, RequestMetrics } from "./metrics";

/**
 * How a read was served: `HIT` from the cache, `MISS` from the table, `BYPASS` from the table because the cache was
 * unavailable (or skipped).
 */
export type CacheStatus = "HIT" | "MISS" | "BYPASS";

/** Which tier answered a read: the in-process L1, the cache, or the table. */
export type CacheTier = "l1" | "cache" | "table";

/** The outcome of {@link CacheAside.read}. */
export interface ReadResult<T> {
  /** The value, or undefined when the table has no such item (possibly served from a negative entry). Parsed on first access. */
  readonly value: T | undefined;
  /**
   * The value as JSON text, or undefined when not found. On a hit this is a slice of the cached
   * entry, so a handler can answer without parsing and re-encoding it (the cache-hit hot path).
   */
  readonly json: string | undefined;
  /** HIT: from cache; MISS: loaded from the table (and cached when possible); BYPASS: cache unavailable. */
  readonly status: CacheStatus;
  /** Which tier answered (an L1 hit is a HIT from tier `l1`). */
  readonly tier: CacheTier;
}

/**
 * TTLs and lease timings of a {@link CacheAside} (from `CACHE_TTL_SECONDS`, `CACHE_TTL_JITTER_RATIO`,
 * `NEGATIVE_CACHE_TTL_SECONDS`, `CACHE_LEASE_TTL_MS`, `CACHE_LEASE_WAIT_MS`).
 */
export interface CacheAsideSettings {
  /** TTL of a cached value, before jitter. */
  readonly ttlSeconds: number;
  /** Extra random TTL as a fraction (0–0.5): entries written together expire apart. */
  readonly jitterRatio: number;
  /** TTL of "not found" entries, so a missing id cannot hammer the table. */
  readonly negativeTtlSeconds: number;
  /** Lifetime of a miss's lease (stampede lock): longer than a table read ever takes. */
  readonly leaseTtlMs: number;
  /** Longest a reader that lost the lease race polls the cache before reading the table itself. */
  readonly leaseWaitMs: number;
}


/** A TTL in [ttl, ttl × (1 + ratio)], whole seconds. */
export function jitteredTtl(ttlSeconds: number, ratio: number, random: () => number = Math.random): number {
  return Math.max(1, Math.round(ttlSeconds * (1 + ratio * random())));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Cache-aside over a {@link CacheStore}: reads with stampede protection and negative caching, race-safe invalidation,
 * and fallback to the table when the cache is down (see the file comment for the protocol).
 */
export class CacheAside {
  /** Keys whose invalidation failed while the cache was unreachable; retried on the next write or read. */
  private readonly pendingInvalidations = new Set<string>();
  private readonly l1?: MemoryBacking;

  constructor(
    private readonly store: CacheStore,
    private readonly settings: CacheAsideSettings,
    /** The in-process L1; none when absent. */
    private readonly l1Settings?: L1Settings,
    private readonly now: () => number = Date.now,
  ) {
    if (l1Settings) this.l1 = new MemoryBacking(l1Settings.maxEntries, l1Settings.maxBytes);
  }

  /** Keeps an entry's text in the L1 (when there is one). */
  private remember(key: string, entry: string): void {
    this.l1?.write(key, { data: entry, expiresAt: this.now() + this.l1Settings!.ttlMs }, this.now());
  }

  /** The store the reads and invalidations go to. */
  get backend(): CacheStore {
    return this.store;
  }

  /**
   * Reads `key` (a JSON-serializable value) from the cache, or on a miss with `load` from the table, caching what it
   * loaded for `ttlSeconds` plus jitter (a missing item for the negative TTL). Never fails because of the cache: when
   * it is unavailable the value comes from `load` with status `BYPASS`. Errors of `load` propagate.
   */
  async read<T>(key: string, load: () => Promise<T | undefined>, metrics: RequestMetrics, ttlSeconds = this.settings.ttlSeconds): Promise<ReadResult<T>> {
    const local = this.l1?.read(key, this.now());
    if (local && typeof local.data === "string") {
      const entry = decodeEntry(local.data);
      if (entry) {
        metrics.count(METRIC.CacheHit);
        metrics.count(METRIC.L1Hit);
        return fromJson<T>(entry.json, "HIT", "l1");
      }
    }
    await this.retryPendingInvalidations();
    let cached: string | undefined;
    try {
      cached = await this.store.get(key);
    } catch (err) {
      return this.bypass(key, load, metrics, err);
    }
    if (cached !== undefined) {
      const entry = decodeEntry(cached);
      if (entry) {
        metrics.count(METRIC.CacheHit);
        this.remember(key, cached);
        return fromJson<T>(entry.json, "HIT", "cache");
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
      return loaded(await this.timedLoad(load, metrics), "MISS");
    }

    let value: T | undefined;
    try {
      value = await this.timedLoad(load, metrics);
    } catch (err) {
      await this.store.releaseLease(key, token).catch(() => undefined);
      throw err;
    }
    const result = loaded(value, "MISS");
    const ttl = value === undefined ? this.settings.negativeTtlSeconds : jitteredTtl(ttlSeconds, this.settings.jitterRatio);
    try {
      // Only a fill that won its lease goes into the L1: a loser's value may be older than a write.
      if (await this.store.setIfLeaseHeld(key, encodeEntry(result.json), ttl, token)) this.remember(key, encodeEntry(result.json));
    } catch (err) {
      metrics.count(METRIC.CacheError);
      log("warn", "cache fill failed", { key, ...errorFields(err) });
    }
    return result;
  }

  /** Deletes the cached value (the L1's first) and revokes any lease; remembered for retry if the cache is down. */
  async invalidate(key: string, metrics: RequestMetrics): Promise<boolean> {
    this.l1?.delete(key);
    try {
      await this.store.invalidate(key);
      this.pendingInvalidations.delete(key);
      return true;
    } catch (err) {
      metrics.count(METRIC.CacheError);
      this.pendingInvalidations.add(key);
      // Kept beside the stream: not every deployment wires a stream invalidator, and this
      // container may read the key again before the stream's invalidation lands.
      log("warn", "cache invalidation failed; this container retries it, the table's stream (if wired) invalidates it too", { key, ...errorFields(err) });
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
      const entry = cached !== undefined ? decodeEntry(cached) : undefined;
      if (entry) {
        metrics.timing(METRIC.StampedeWait, Date.now() - start);
        metrics.count(METRIC.CacheHit);
        this.remember(key, cached!);
        return fromJson<T>(entry.json, "HIT", "cache");
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
    return loaded(await this.timedLoad(load, metrics), "BYPASS");
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

// Entries are `{"v":<value JSON>}` or `{"nf":1}` (not found). The value's JSON is a fixed-offset
// slice of the entry, so a hit needs no JSON.parse.
const VALUE_PREFIX = '{"v":';
const NOT_FOUND = '{"nf":1}';

function encodeEntry(json: string | undefined): string {
  return json === undefined ? NOT_FOUND : `${VALUE_PREFIX}${json}}`;
}

/** The value's JSON text of an entry (undefined json = not found); undefined for a foreign entry (a miss, overwritten by the fill). */
function decodeEntry(raw: string): { json: string | undefined } | undefined {
  if (raw === NOT_FOUND) return { json: undefined };
  if (raw.length > VALUE_PREFIX.length + 1 && raw.startsWith(VALUE_PREFIX) && raw.endsWith("}")) {
    return { json: raw.slice(VALUE_PREFIX.length, -1) };
  }
  return undefined;
}

/** A result whose value is parsed from `json` only if someone reads it. */
function fromJson<T>(json: string | undefined, status: CacheStatus, tier: CacheTier): ReadResult<T> {
  let parsed: { v: T | undefined } | undefined;
  return {
    status,
    tier,
    json,
    get value(): T | undefined {
      parsed ??= { v: json === undefined ? undefined : (JSON.parse(json) as T) };
      return parsed.v;
    },
  };
}

function loaded<T>(value: T | undefined, status: CacheStatus): ReadResult<T> {
  return { status, tier: "table", value, json: value === undefined ? undefined : JSON.stringify(value) };
}

/** True for the breaker's fail-fast error (the name is the contract, not the class). */
export function isCircuitOpen(err: unknown): boolean {
  return err instanceof Error && (err.name === "CacheUnavailableError" || /circuit/i.test(err.message)) && /open/i.test(err.message);
}
