/**
 * Memcached cache store (ElastiCache for Memcached, node-based or serverless):
 * `const cache = new MemcachedCacheStore({ keyPrefix: "svc", host, port: 11211, tls: true });`
 *
 * Client: our own meta-protocol client (memcached-wire.ts: ~250 lines, no dependencies, 4.8 KB
 * minified; this store with it 9.3 KB, 3.6 KB gzipped), because none of the npm candidates
 * (checked in their installed source) fits:
 * - `memcache` 1.10.0 (jaredwray): TLS yes, but its `gets()` sends `get` and its reply parser
 *   drops flags and CAS, so `cas()` can never be given a token and a lease cannot be told from a
 *   value; `gets()` also turns a node error into misses (an outage would read as cold keys, the
 *   breaker would never open); no meta replies (a `VA` line would desynchronise it); 55 KB minified.
 * - `memcache-client` 1.0.5 (electrode-io): TLS and gets/cas yes, 33 KB minified with four
 *   dependencies (tslib pinned at 2.1.0), last release 2024; but item flags belong to its value
 *   packer (compressed/JSON/numeric/binary bits), NOT_STORED/EXISTS/NOT_FOUND reject as errors,
 *   and meta replies are unknown to it (it logs "No command action defined" and the request hangs
 *   until its timeout shuts the connection), so no `mg … t` for ttl() and no guarded `md … C`.
 * - `memjs` 1.3.2: binary protocol only (ElastiCache Serverless for Memcached does not accept it),
 *   no TLS (plain `net`), no CAS (its source: "TODO: support version (CAS)").
 * The meta protocol (memcached ≥ 1.6; ElastiCache supports it) gives in one round trip what the
 * contract needs: value, client flags, CAS and remaining TTL (`mg <key> v f c t`), compare-and-set
 * and add modes (`ms … C<cas>`, `ms … ME`), guarded delete (`md … C<cas>`).
 *
 * Leases the memcached way: a key's one item holds either its value (client flags 0) or a lease
 * (flags 1, data = the lease token). acquireLease = add; get treats a lease as a miss; a fill reads
 * the lease with its CAS and compare-and-sets it into the value, so an invalidate (a plain delete)
 * or a newer lease between the reader's table read and its fill makes the fill fail (NF/EX).
 * Unlike Redis, a lease can therefore only be taken while the key has no value, and a plain set()
 * or delete() over a lease revokes it.
 *
 * Keys: `<prefix>:{<key>}` as elsewhere when that is a legal memcached key (≤ 250 bytes of
 * printable ASCII, no spaces); any other key becomes `<prefix>:#<base64url SHA-256 of the key>`.
 * The `#` keeps hashed and literal keys apart; SHA-256 makes two user keys sharing one item
 * practically impossible.
 *
 * Not supported (UnsupportedCacheOperationError): hitWindow, since memcached cannot update a
 * window atomically; clear, since memcached cannot list keys, and the usual namespace-generation
 * workaround would cost every command a second lookup or, cached per container, let a container
 * keep filling an old generation after a clear: the stale reads this store exists to prevent.
 * To drop a service's entries, change its key prefix (or flush a cluster dedicated to it).
 */
import { createHash } from "crypto";
import type * as tls from "tls";
import type { CacheEntry, CacheStats, CacheStore, OptionalCacheOperation, WindowResult } from "./types";
import { UnsupportedCacheOperationError } from "./types";
import { assertPositiveMs, assertPrefix, assertTtlSeconds, keyLayout, StatsCounter } from "./keys";
import { MemcachedConnection, MetaReply, MetaRequest } from "./memcached-wire";

/** Client flags of an item that holds a value. */
const VALUE_FLAGS = "0";
/** Client flags of an item that holds a lease (its data is the token). */
const LEASE_FLAGS = "1";
const MAX_KEY_BYTES = 250;
/** Longest prefix: a hashed key (`<prefix>:#` + 43 characters) must still fit in 250 bytes. */
const MAX_PREFIX_BYTES = 200;
/** memcached reads a TTL above 30 days as a Unix time. */
const MAX_RELATIVE_TTL_SECONDS = 30 * 24 * 3600;

const UNSUPPORTED: Readonly<Record<OptionalCacheOperation, string>> = {
  hitWindow: "memcached cannot update a sliding window atomically; use redis or dynamodb for rate limits",
  clear: "memcached cannot enumerate keys; change the key prefix to start afresh",
};

/** Where the memcached backend connects: what a factory fills in from configuration. */
export interface MemcachedCacheStoreOptions {
  /** Prefix of every key (`<prefix>:{key}`): printable ASCII without spaces or braces, at most 200 bytes. */
  readonly keyPrefix: string;
  /** Node or serverless cache endpoint. */
  readonly host: string;
  /** @default 11211 */
  readonly port?: number;
  /**
   * TLS (in-transit encryption; ElastiCache Serverless requires it): `true` with Node's trust
   * store, or `tls.connect` options such as `ca`.
   * @default false
   */
  readonly tls?: boolean | Readonly<tls.ConnectionOptions>;
  /** Longest one command may wait for its reply. @default 150 */
  readonly commandTimeoutMs?: number;
  /** Longest a TCP/TLS connect may take. @default 1000 */
  readonly connectTimeoutMs?: number;
}

/** The memcached key of `key` under `prefix` (literal where legal, else hashed): see the file comment. */
export function memcachedKey(prefix: string, key: string): string {
  const literal = keyLayout(prefix).value(key);
  if (/^[\x21-\x7e]+$/.test(key) && literal.length <= MAX_KEY_BYTES) return literal;
  return `${prefix}:#${createHash("sha256").update(key, "utf8").digest("base64url")}`;
}

function assertMemcachedPrefix(prefix: string): void {
  assertPrefix(prefix);
  if (!/^[\x21-\x7e]+$/.test(prefix) || prefix.length > MAX_PREFIX_BYTES) {
    throw new Error(`memcached key prefix ${JSON.stringify(prefix)}: printable ASCII without spaces, at most ${MAX_PREFIX_BYTES} bytes`);
  }
}

/** A TTL as memcached reads it: seconds up to 30 days, a Unix time beyond. */
function exptime(ttlSeconds: number): number {
  return ttlSeconds <= MAX_RELATIVE_TTL_SECONDS ? ttlSeconds : Math.floor(Date.now() / 1000) + ttlSeconds;
}

/**
 * Lease lifetime in whole seconds, at least `ttlMs`: memcached's clock ticks once a second, so an
 * item given N seconds lives between N-1 and N; one more second keeps a lease for its whole
 * requested time (and at most two seconds longer).
 */
function leaseSeconds(ttlMs: number): number {
  return Math.ceil(ttlMs / 1000) + 1;
}

function storeValue(name: string, value: string, ttlSeconds: number, cas?: string): MetaRequest {
  const data = Buffer.from(value, "utf8");
  return { line: `ms ${name} ${data.length} T${exptime(ttlSeconds)} F${VALUE_FLAGS}${cas ? ` C${cas}` : ""}`, data };
}

const isValue = (r: MetaReply): boolean => r.flags.f === VALUE_FLAGS && r.code !== "EN";
const valueOf = (r: MetaReply): string | undefined => (r.code === "VA" && isValue(r) ? r.value!.toString("utf8") : undefined);
const isLease = (r: MetaReply, token: string): boolean => r.code === "VA" && r.flags.f === LEASE_FLAGS && r.value!.toString("utf8") === token;

/** A {@link CacheStore} on memcached (see the file comment for leases, keys and what it refuses). */
export class MemcachedCacheStore implements CacheStore {
  /** Always `"memcached"`. */
  readonly kind = "memcached" as const;
  private readonly counters = new StatsCounter("memcached");
  private readonly connection: MemcachedConnection;

  constructor(private readonly options: MemcachedCacheStoreOptions) {
    assertMemcachedPrefix(options.keyPrefix);
    this.connection = new MemcachedConnection({
      host: options.host,
      port: options.port ?? 11211,
      tls: options.tls,
      commandTimeoutMs: options.commandTimeoutMs,
      connectTimeoutMs: options.connectTimeoutMs,
    });
  }

  private key(key: string): string {
    return memcachedKey(this.options.keyPrefix, key);
  }

  private send(requests: readonly MetaRequest[]): Promise<MetaReply[]> {
    return this.counters.track(() => this.connection.send(requests));
  }

  private async one(request: MetaRequest): Promise<MetaReply> {
    return (await this.send([request]))[0];
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.getMany([key]))[0];
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    await this.setMany([{ key, value, ttlSeconds }]);
  }

  async delete(...keys: string[]): Promise<number> {
    const names = [...new Set(keys.map((k) => this.key(k)))];
    const replies = await this.send(names.map((n) => ({ line: `md ${n}` })));
    const n = replies.filter((r) => r.code === "HD").length;
    this.counters.deletes += n;
    return n;
  }

  async getMany(keys: readonly string[]): Promise<Array<string | undefined>> {
    const replies = await this.send(keys.map((k) => ({ line: `mg ${this.key(k)} f v` })));
    const values = replies.map(valueOf);
    for (const v of values) {
      if (v === undefined) this.counters.misses++;
      else this.counters.hits++;
    }
    return values;
  }

  async setMany(entries: readonly CacheEntry[]): Promise<void> {
    entries.forEach((e) => assertTtlSeconds(e.ttlSeconds));
    const replies = await this.send(entries.map((e) => storeValue(this.key(e.key), e.value, e.ttlSeconds)));
    const failed = replies.find((r) => r.code !== "HD");
    if (failed) throw new Error(`memcached set: ${failed.code}`);
    this.counters.sets += entries.length;
  }

  async has(key: string): Promise<boolean> {
    return isValue(await this.one({ line: `mg ${this.key(key)} f` }));
  }

  async expire(key: string, ttlSeconds: number): Promise<boolean> {
    assertTtlSeconds(ttlSeconds);
    const name = this.key(key);
    // A plain touch would also stretch a lease; rewriting the value under its CAS cannot.
    for (let attempt = 0; attempt < 3; attempt++) {
      const current = await this.one({ line: `mg ${name} f c v` });
      const value = valueOf(current);
      if (value === undefined) return false;
      const stored = await this.one(storeValue(name, value, ttlSeconds, current.flags.c));
      if (stored.code === "HD") return true;
      if (stored.code === "NF") return false;
    }
    // Rewritten by others three times in a row: it exists, and its new TTL came from them.
    return true;
  }

  async ttl(key: string): Promise<number> {
    const r = await this.one({ line: `mg ${this.key(key)} f t` });
    if (!isValue(r)) return -2;
    const t = Number(r.flags.t);
    // Never 0 for a live key, as the other backends (a caller reading 0 would think it gone).
    return t === -1 ? -1 : Math.max(1, t);
  }

  stats(): CacheStats {
    return this.counters.snapshot();
  }

  async acquireLease(key: string, token: string, ttlMs: number): Promise<boolean> {
    assertPositiveMs("lease ttlMs", ttlMs);
    const data = Buffer.from(token, "utf8");
    const r = await this.one({ line: `ms ${this.key(key)} ${data.length} T${leaseSeconds(ttlMs)} F${LEASE_FLAGS} ME`, data });
    return r.code === "HD";
  }

  async setIfLeaseHeld(key: string, value: string, ttlSeconds: number, token: string): Promise<boolean> {
    assertTtlSeconds(ttlSeconds);
    const name = this.key(key);
    const lease = await this.one({ line: `mg ${name} f c v` });
    if (!isLease(lease, token)) return false;
    // The CAS makes this the lease we just read: deleted (NF) or re-leased (EX) since means no.
    const stored = await this.one(storeValue(name, value, ttlSeconds, lease.flags.c));
    if (stored.code !== "HD") return false;
    this.counters.sets++;
    return true;
  }

  async releaseLease(key: string, token: string): Promise<void> {
    const name = this.key(key);
    const lease = await this.one({ line: `mg ${name} f c v` });
    if (isLease(lease, token)) await this.one({ line: `md ${name} C${lease.flags.c}` });
  }

  async invalidate(key: string): Promise<void> {
    await this.one({ line: `md ${this.key(key)}` });
    this.counters.deletes++;
  }

  async hitWindow(_key: string, _limit: number, _windowMs: number, _nowMs: number): Promise<WindowResult> {
    throw new UnsupportedCacheOperationError("memcached", "hitWindow", UNSUPPORTED.hitWindow);
  }

  async clear(): Promise<number> {
    throw new UnsupportedCacheOperationError("memcached", "clear", UNSUPPORTED.clear);
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.one({ line: "mn" })).code === "MN";
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await this.connection.close();
  }
}
