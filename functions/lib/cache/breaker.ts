/**
 * Circuit breaker in front of a cache store, so a cache outage costs a request nothing:
 * `const cache = new BreakerCacheStore(new RedisCacheStore({...}), config.breaker);`
 * While open, every call throws {@link CacheUnavailableError} at once (no I/O, no waiting).
 */
import type { BreakerSettings } from "../config";
import { withDeadline } from "../deadline";
import type { CacheBackendKind, CacheEntry, CacheStats, CacheStore, OptionalCacheOperation, WindowResult } from "./types";
import { cacheBackendSupports } from "./types";

export type BreakerState = "closed" | "open" | "half-open";

/** Why the cache could not be used: callers catch this one type and fall back to the table. */
export class CacheUnavailableError extends Error {
  constructor(
    readonly reason: "open" | "timeout" | "error",
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "CacheUnavailableError";
  }
}

export interface BreakerStateChange {
  readonly from: BreakerState;
  readonly to: BreakerState;
  /** Failures counted in the window when the circuit opened. */
  readonly failures: number;
  readonly at: number;
}

export type BreakerListener = (change: BreakerStateChange) => void;

export interface CircuitBreakerOptions {
  /** Failures within `windowMs` that open the circuit. */
  readonly failureThreshold: number;
  readonly windowMs: number;
  /** How long the circuit stays open before one probe is let through. */
  readonly cooldownMs: number;
  /**
   * Clock in epoch ms (injectable for tests).
   * @default Date.now
   */
  readonly now?: () => number;
  /**
   * Called on every state change (metrics, logs).
   * @default none
   */
  readonly onStateChange?: BreakerListener;
}

/**
 * closed → (threshold failures within the window) → open → (cooldown) → half-open: exactly one
 * probe goes through, the other callers are refused; the probe's success closes the circuit,
 * its failure re-opens it for another cooldown.
 */
export class CircuitBreaker {
  private current: BreakerState = "closed";
  private failures: number[] = [];
  private openedAt = 0;
  private probeInFlight = false;
  private readonly listeners: BreakerListener[] = [];
  private readonly now: () => number;

  constructor(private readonly options: CircuitBreakerOptions) {
    if (!Number.isInteger(options.failureThreshold) || options.failureThreshold < 1) {
      throw new Error(`CircuitBreaker failureThreshold ${options.failureThreshold}: an integer ≥ 1`);
    }
    this.now = options.now ?? Date.now;
    if (options.onStateChange) this.listeners.push(options.onStateChange);
  }

  /** Adds a state-change listener; returns its removal. */
  onStateChange(listener: BreakerListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** The state now (an open circuit whose cooldown has passed reads as half-open). */
  get state(): BreakerState {
    if (this.current === "open" && this.now() - this.openedAt >= this.options.cooldownMs) this.transition("half-open");
    return this.current;
  }

  /** Failures currently counted in the window. */
  get failureCount(): number {
    this.prune();
    return this.failures.length;
  }

  /**
   * Asks to make one call. True: go ahead, then report {@link onSuccess} or {@link onFailure}.
   * False: refused (open, or half-open with the probe already out).
   */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === "closed") return true;
    if (state === "open" || this.probeInFlight) return false;
    this.probeInFlight = true;
    return true;
  }

  onSuccess(): void {
    if (this.current === "half-open") {
      this.probeInFlight = false;
      this.failures = [];
      this.transition("closed");
    }
  }

  onFailure(): void {
    const now = this.now();
    if (this.current === "half-open") {
      this.probeInFlight = false;
      this.open(now);
      return;
    }
    if (this.current === "open") return;
    this.failures.push(now);
    this.prune();
    if (this.failures.length >= this.options.failureThreshold) this.open(now);
  }

  /** Runs `fn` under the breaker; throws {@link CacheUnavailableError} when refused. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.tryAcquire()) throw new CacheUnavailableError("open", "cache circuit is open");
    try {
      const out = await fn();
      this.onSuccess();
      return out;
    } catch (err) {
      this.onFailure();
      throw err;
    }
  }

  private open(now: number): void {
    this.openedAt = now;
    this.transition("open");
  }

  private prune(): void {
    const cutoff = this.now() - this.options.windowMs;
    while (this.failures.length && this.failures[0] <= cutoff) this.failures.shift();
  }

  private transition(to: BreakerState): void {
    const from = this.current;
    if (from === to) return;
    this.current = to;
    const change: BreakerStateChange = { from, to, failures: this.failures.length, at: this.now() };
    if (to !== "open") this.failures = [];
    for (const l of [...this.listeners]) {
      try {
        l(change);
      } catch {
        /* a broken metrics hook must not break the cache path */
      }
    }
  }
}

export interface BreakerCacheStoreOptions extends BreakerSettings {
  /**
   * Clock in epoch ms for the breaker (tests).
   * @default Date.now
   */
  readonly now?: () => number;
  /**
   * State-change hook (metrics, logs).
   * @default none
   */
  readonly onStateChange?: BreakerListener;
  /**
   * Use this breaker instead of building one from the settings (to share it).
   * @default a new CircuitBreaker
   */
  readonly breaker?: CircuitBreaker;
}

/**
 * Any store behind a breaker and a per-call deadline: a call slower than `commandTimeoutMs`
 * counts as a failure and its caller is released at the deadline. Every failure surfaces as
 * {@link CacheUnavailableError} (the backend error as `cause`).
 */
export class BreakerCacheStore implements CacheStore {
  readonly breaker: CircuitBreaker;
  private rejected = 0;
  private timeouts = 0;

  constructor(
    readonly inner: CacheStore,
    private readonly options: BreakerCacheStoreOptions,
  ) {
    this.breaker = options.breaker ?? new CircuitBreaker(options);
    if (options.breaker && options.onStateChange) options.breaker.onStateChange(options.onStateChange);
  }

  get kind(): CacheBackendKind {
    return this.inner.kind;
  }

  private async call<T>(op: string, fn: () => Promise<T>, timeoutMs: number = this.options.commandTimeoutMs): Promise<T> {
    // A refusal (UnsupportedCacheOperationError) is a configuration error, not an outage: it must
    // neither open the circuit nor be disguised as CacheUnavailableError, nor take the half-open probe.
    if ((op === "hitWindow" || op === "clear") && !cacheBackendSupports(this.inner.kind, op as OptionalCacheOperation)) return fn();
    if (!this.breaker.tryAcquire()) {
      this.rejected++;
      throw new CacheUnavailableError("open", `cache ${this.inner.kind} unavailable (circuit open): ${op} not attempted`);
    }
    try {
      const out = await withDeadline(fn(), timeoutMs, () => {
        this.timeouts++;
        return new CacheUnavailableError("timeout", `cache ${this.inner.kind} ${op} took longer than ${timeoutMs} ms`);
      });
      this.breaker.onSuccess();
      return out;
    } catch (err) {
      this.breaker.onFailure();
      if (err instanceof CacheUnavailableError) throw err;
      throw new CacheUnavailableError("error", `cache ${this.inner.kind} ${op} failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
    }
  }

  get(key: string): Promise<string | undefined> {
    return this.call("get", () => this.inner.get(key));
  }
  set(key: string, value: string, ttlSeconds: number): Promise<void> {
    return this.call("set", () => this.inner.set(key, value, ttlSeconds));
  }
  delete(...keys: string[]): Promise<number> {
    return this.call("delete", () => this.inner.delete(...keys));
  }
  getMany(keys: readonly string[]): Promise<Array<string | undefined>> {
    return this.call("getMany", () => this.inner.getMany(keys));
  }
  setMany(entries: readonly CacheEntry[]): Promise<void> {
    return this.call("setMany", () => this.inner.setMany(entries));
  }
  has(key: string): Promise<boolean> {
    return this.call("has", () => this.inner.has(key));
  }
  expire(key: string, ttlSeconds: number): Promise<boolean> {
    return this.call("expire", () => this.inner.expire(key, ttlSeconds));
  }
  ttl(key: string): Promise<number> {
    return this.call("ttl", () => this.inner.ttl(key));
  }
  acquireLease(key: string, token: string, ttlMs: number): Promise<boolean> {
    return this.call("acquireLease", () => this.inner.acquireLease(key, token, ttlMs));
  }
  setIfLeaseHeld(key: string, value: string, ttlSeconds: number, token: string): Promise<boolean> {
    return this.call("setIfLeaseHeld", () => this.inner.setIfLeaseHeld(key, value, ttlSeconds, token));
  }
  releaseLease(key: string, token: string): Promise<void> {
    return this.call("releaseLease", () => this.inner.releaseLease(key, token));
  }
  invalidate(key: string): Promise<void> {
    return this.call("invalidate", () => this.inner.invalidate(key));
  }
  hitWindow(key: string, limit: number, windowMs: number, nowMs: number): Promise<WindowResult> {
    return this.call("hitWindow", () => this.inner.hitWindow(key, limit, windowMs, nowMs));
  }
  clear(): Promise<number> {
    // An administrative sweep may legitimately outlast a command deadline: breaker only.
    return this.call("clear", () => this.inner.clear(), Infinity);
  }

  /**
   * False when the circuit is open (without I/O) or the backend does not answer in time. A ping may
   * make the store's first connection, so it is given the connect budget on top of a command's: a
   * fresh container's first health check must not call a cache unreachable before trying it.
   */
  async ping(): Promise<boolean> {
    try {
      return await this.call("ping", async () => {
        if (!(await this.inner.ping())) throw new Error("no answer");
        return true;
      }, this.options.commandTimeoutMs + (this.options.connectTimeoutMs ?? 0));
    } catch {
      return false;
    }
  }

  /** The backend's counters; `errors` also counts timeouts and calls refused by the open circuit. */
  stats(): CacheStats {
    const s = this.inner.stats();
    return { ...s, errors: s.errors + this.timeouts + this.rejected };
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
