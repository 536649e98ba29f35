/**
 * In-process cache store: `const cache = new MemoryCacheStore({ keyPrefix: "svc" });`
 * `await cache.set("k", "v", 60);` — the local twin, unit tests, and a cache for one container.
 */
import type { CacheEntry, CacheStats, CacheStore, WindowResult } from "./types";
import { assertPositiveMs, assertTtlSeconds, clampRetryAfter, keyLayout, KeyLayout, remainingSeconds, StatsCounter } from "./keys";

interface Slot {
  /** A value or lease token (string), or the hit timestamps of a window. */
  data: string | number[];
  /** Epoch ms; Infinity when the entry has no TTL. */
  expiresAt: number;
}

/** The bytes an entry holds, roughly: its name and its data (UTF-16 strings count two per unit). */
function slotBytes(name: string, slot: Slot): number {
  return 2 * name.length + (typeof slot.data === "string" ? 2 * slot.data.length : 8 * slot.data.length) + 16;
}

/**
 * The entries behind one or more stores, bounded by count and by bytes, least recently used out
 * first. Stores with different prefixes may share one backing (as services share one Redis), which
 * is what makes prefix isolation observable in tests; the function's in-process L1 is one too.
 */
export class MemoryBacking {
  readonly map = new Map<string, Slot>();
  private bytes = 0;
  constructor(
    readonly maxEntries = 10_000,
    /** Most bytes held (see {@link slotBytes}). */
    readonly maxBytes = Infinity,
  ) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new Error(`MemoryBacking maxEntries ${maxEntries}: an integer ≥ 1`);
    if (!(maxBytes >= 1)) throw new Error(`MemoryBacking maxBytes ${maxBytes}: at least 1`);
  }

  /** Bytes held now. */
  get size(): number {
    return this.bytes;
  }

  /** Removes an entry. */
  delete(name: string): void {
    const slot = this.map.get(name);
    if (!slot) return;
    this.bytes -= slotBytes(name, slot);
    this.map.delete(name);
  }

  private full(): boolean {
    return this.map.size > this.maxEntries || this.bytes > this.maxBytes;
  }

  /** The live slot, refreshed as most recently used; expired slots are dropped on sight. */
  read(name: string, now: number): Slot | undefined {
    const slot = this.map.get(name);
    if (!slot) return undefined;
    if (slot.expiresAt <= now) {
      this.delete(name);
      return undefined;
    }
    this.map.delete(name);
    this.map.set(name, slot);
    return slot;
  }

  write(name: string, slot: Slot, now: number): void {
    this.delete(name);
    if (slotBytes(name, slot) > this.maxBytes) return; // larger than the whole backing: never kept
    this.map.set(name, slot);
    this.bytes += slotBytes(name, slot);
    if (!this.full()) return;
    // Expired entries go first; only then the least recently used live ones.
    for (const [k, s] of this.map) {
      if (!this.full()) return;
      if (s.expiresAt <= now && k !== name) this.delete(k);
    }
    for (const k of this.map.keys()) {
      if (!this.full()) return;
      if (k !== name) this.delete(k);
    }
  }
}

export interface MemoryCacheStoreOptions {
  /** Prefix of every key (`<prefix>:{key}`). */
  readonly keyPrefix: string;
  /**
   * Most entries kept (values, leases and windows together); least recently used go first.
   * @default 10000
   */
  readonly maxEntries?: number;
  /**
   * Entries shared with other stores (different prefixes on one "server").
   * @default a private backing of `maxEntries`
   */
  readonly backing?: MemoryBacking;
  /**
   * Clock in epoch ms, injectable so tests need not sleep.
   * @default Date.now
   */
  readonly now?: () => number;
}

export class MemoryCacheStore implements CacheStore {
  readonly kind = "memory" as const;
  private readonly keys: KeyLayout;
  private readonly backing: MemoryBacking;
  private readonly now: () => number;
  private readonly counters = new StatsCounter("memory");

  constructor(options: MemoryCacheStoreOptions) {
    this.keys = keyLayout(options.keyPrefix);
    this.backing = options.backing ?? new MemoryBacking(options.maxEntries ?? 10_000);
    this.now = options.now ?? Date.now;
  }

  private readString(name: string): string | undefined {
    const slot = this.backing.read(name, this.now());
    return slot && typeof slot.data === "string" ? slot.data : undefined;
  }

  async get(key: string): Promise<string | undefined> {
    const v = this.readString(this.keys.value(key));
    if (v === undefined) this.counters.misses++;
    else this.counters.hits++;
    return v;
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    assertTtlSeconds(ttlSeconds);
    const now = this.now();
    this.backing.write(this.keys.value(key), { data: value, expiresAt: now + ttlSeconds * 1000 }, now);
    this.counters.sets++;
  }

  async delete(...keys: string[]): Promise<number> {
    let n = 0;
    const now = this.now();
    for (const name of new Set(keys.map((k) => this.keys.value(k)))) {
      if (this.backing.read(name, now)) n++;
      this.backing.delete(name);
    }
    this.counters.deletes += n;
    return n;
  }

  async getMany(keys: readonly string[]): Promise<Array<string | undefined>> {
    return Promise.all(keys.map((k) => this.get(k)));
  }

  async setMany(entries: readonly CacheEntry[]): Promise<void> {
    entries.forEach((e) => assertTtlSeconds(e.ttlSeconds));
    for (const e of entries) await this.set(e.key, e.value, e.ttlSeconds);
  }

  async has(key: string): Promise<boolean> {
    return this.readString(this.keys.value(key)) !== undefined;
  }

  async expire(key: string, ttlSeconds: number): Promise<boolean> {
    assertTtlSeconds(ttlSeconds);
    const slot = this.backing.read(this.keys.value(key), this.now());
    if (!slot) return false;
    slot.expiresAt = this.now() + ttlSeconds * 1000;
    return true;
  }

  async ttl(key: string): Promise<number> {
    const now = this.now();
    const slot = this.backing.read(this.keys.value(key), now);
    if (!slot) return -2;
    return slot.expiresAt === Infinity ? -1 : remainingSeconds(slot.expiresAt, now);
  }

  stats(): CacheStats {
    return this.counters.snapshot();
  }

  async acquireLease(key: string, token: string, ttlMs: number): Promise<boolean> {
    assertPositiveMs("lease ttlMs", ttlMs);
    const now = this.now();
    const name = this.keys.lease(key);
    if (this.backing.read(name, now)) return false;
    this.backing.write(name, { data: token, expiresAt: now + ttlMs }, now);
    return true;
  }

  async setIfLeaseHeld(key: string, value: string, ttlSeconds: number, token: string): Promise<boolean> {
    assertTtlSeconds(ttlSeconds);
    const lease = this.keys.lease(key);
    if (this.readString(lease) !== token) return false;
    this.backing.delete(lease);
    await this.set(key, value, ttlSeconds);
    return true;
  }

  async releaseLease(key: string, token: string): Promise<void> {
    const lease = this.keys.lease(key);
    if (this.readString(lease) === token) this.backing.delete(lease);
  }

  async invalidate(key: string): Promise<void> {
    this.backing.delete(this.keys.value(key));
    this.backing.delete(this.keys.lease(key));
    this.counters.deletes++;
  }

  async hitWindow(key: string, limit: number, windowMs: number, nowMs: number): Promise<WindowResult> {
    assertPositiveMs("windowMs", windowMs);
    const name = this.keys.window(key);
    const slot = this.backing.read(name, this.now());
    const hits = (slot && Array.isArray(slot.data) ? slot.data : []).filter((t) => t > nowMs - windowMs);
    if (hits.length < limit) {
      hits.push(nowMs);
      this.backing.write(name, { data: hits, expiresAt: this.now() + windowMs }, this.now());
      return { allowed: true, count: hits.length, retryAfterMs: 0 };
    }
    if (slot) this.backing.write(name, { data: hits, expiresAt: slot.expiresAt }, this.now());
    const oldest = hits.length ? Math.min(...hits) : nowMs;
    return { allowed: false, count: hits.length, retryAfterMs: clampRetryAfter(oldest + windowMs - nowMs, windowMs) };
  }

  async clear(): Promise<number> {
    let n = 0;
    for (const k of [...this.backing.map.keys()]) {
      if (k.startsWith(this.keys.scanPrefix)) {
        this.backing.delete(k);
        n++;
      }
    }
    return n;
  }

  async ping(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {
    /* nothing to close */
  }
}
