/**
 * Redis / Valkey cache store (ElastiCache standalone or cluster mode) on ioredis:
 * `const cache = new RedisCacheStore({ keyPrefix: "svc", settings: config.redis, commandTimeoutMs: 150 });`
 */
import { randomUUID } from "crypto";
import Redis, { Cluster, ClusterOptions, RedisOptions } from "ioredis";
import type { RedisSettings } from "../config";
import { withDeadline } from "../deadline";
import type { CacheEntry, CacheStats, CacheStore, WindowResult } from "./types";
import { assertPositiveMs, assertTtlSeconds, clampRetryAfter, keyLayout, KeyLayout, remainingSeconds, StatsCounter } from "./keys";
import { reconnectDelay } from "./connect";
import { RedisIamAuth, RedisIamSession } from "./redis-iam";
import { RedisAuth, redisAuthFromSecret, SecretsSender } from "./secrets";

export { reconnectDelay };

export type RedisClient = Redis | Cluster;

/**
 * KEYS[1] value, KEYS[2] lease; ARGV[1] token, ARGV[2] value, ARGV[3] ttl seconds.
 * Stores the value and drops the lease only while the lease still holds this token: an
 * invalidate() (which deletes the lease) between the reader's table read and this call wins.
 */
const SET_IF_LEASE_HELD = `
if redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
  redis.call('DEL', KEYS[2])
  return 1
end
return 0`;

/** KEYS[1] lease; ARGV[1] token. Deletes the lease only when it holds this token. */
const RELEASE_LEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

/**
 * KEYS[1] window (sorted set of hits scored by their time); ARGV[1] now ms, ARGV[2] window ms,
 * ARGV[3] limit, ARGV[4] a unique member. Hits at or before now-window have left the window.
 * Returns {allowed 0|1, count, retryAfterMs}.
 */
const HIT_WINDOW = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window)
  return {1, count + 1, 0}
end
local retry = window
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if oldest[2] then retry = tonumber(oldest[2]) + window - now end
return {0, count, math.ceil(retry)}`;

interface ScriptCommands {
  cfSetIfLeaseHeld(value: string, lease: string, token: string, v: string, ttl: number): Promise<number>;
  cfReleaseLease(lease: string, token: string): Promise<number>;
  cfHitWindow(window: string, now: number, windowMs: number, limit: number, member: string): Promise<[number, number, number]>;
}

function defineScripts(client: RedisClient): RedisClient & ScriptCommands {
  const c = client as RedisClient & Partial<ScriptCommands>;
  if (!c.cfSetIfLeaseHeld) {
    // defineCommand sends EVALSHA and falls back to EVAL after NOSCRIPT (e.g. after a restart).
    client.defineCommand("cfSetIfLeaseHeld", { numberOfKeys: 2, lua: SET_IF_LEASE_HELD });
    client.defineCommand("cfReleaseLease", { numberOfKeys: 1, lua: RELEASE_LEASE });
    client.defineCommand("cfHitWindow", { numberOfKeys: 1, lua: HIT_WINDOW });
  }
  return client as RedisClient & ScriptCommands;
}

export interface RedisClientOptions {
  /** Longest one command may take (ioredis `commandTimeout`). @default 150 */
  readonly commandTimeoutMs?: number;
  /** Longest a TCP/TLS connect may take. @default 1000 */
  readonly connectTimeoutMs?: number;
  /**
   * AUTH credentials: a static token (already resolved), or ElastiCache IAM authentication
   * (`{ mode: "iam", userId, cacheName, region }`: a fresh token on every connect, live connections
   * re-authenticated before it expires; see redis-iam.ts).
   * @default none
   */
  readonly auth?: RedisAuth | RedisIamAuth;
}

/** The IAM sessions of clients built with `auth.mode === "iam"`. */
const iamSessions = new WeakMap<RedisClient, RedisIamSession>();

const isIam = (auth: RedisAuth | RedisIamAuth | undefined): auth is RedisIamAuth => !!auth && "mode" in auth && auth.mode === "iam";

/**
 * A fail-fast ioredis client (not yet connected: `lazyConnect`). Commands issued while the
 * connection is down reject at once (`enableOfflineQueue: false`) instead of waiting.
 */
export function buildRedisClient(settings: RedisSettings, options: RedisClientOptions = {}): RedisClient {
  const common: RedisOptions = {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs ?? 150,
    connectTimeout: options.connectTimeoutMs ?? 1000,
    // close() on a dead connection otherwise leaves a 2 s timer behind.
    disconnectTimeout: 200,
    retryStrategy: reconnectDelay,
    autoResubscribe: false,
    ...(settings.tls ? { tls: {} } : {}),
    // IAM: the user now, the token (the password) from the session before each connect.
    ...(isIam(options.auth) ? { username: options.auth.userId } : options.auth ? { password: options.auth.password, username: options.auth.username } : {}),
  };
  // Without a listener ioredis prints every failed reconnect; callers see failures per command.
  const quiet = <C extends RedisClient>(c: C): C => {
    c.on("error", () => undefined);
    if (isIam(options.auth)) iamSessions.set(c, new RedisIamSession(c, options.auth));
    return c;
  };
  if (!settings.clusterMode) return quiet(new Redis({ ...common, host: settings.host, port: settings.port }));
  const clusterOptions: ClusterOptions = {
    lazyConnect: true,
    enableOfflineQueue: false,
    // ioredis would resolve node hostnames to IPs, but ElastiCache's TLS certificates name the
    // hostnames: keep them as given so certificate checks pass.
    dnsLookup: (address, callback) => callback(null, address),
    clusterRetryStrategy: reconnectDelay,
    slotsRefreshTimeout: options.connectTimeoutMs ?? 1000,
    enableAutoPipelining: true,
    scaleReads: "master",
    redisOptions: common,
  };
  return quiet(new Cluster([{ host: settings.host, port: settings.port }], clusterOptions));
}

const firstConnects = new WeakMap<RedisClient, Promise<void>>();

/**
 * Makes the first connection of a `lazyConnect` client (concurrent callers share it; each waits
 * at most `timeoutMs`). Afterwards it returns at once: reconnects happen in the background and
 * commands fail fast meanwhile. Without this, a lazy client fails its very first command,
 * because the offline queue is off.
 */
export async function ensureConnected(client: RedisClient, timeoutMs = 1000): Promise<void> {
  // IAM: a token that is not due before the first connect, and re-AUTH once one is (a frozen
  // Lambda's timers do not run: this per-call check is what keeps its connection authenticated).
  await iamSessions.get(client)?.refresh();
  if (client.status === "wait") {
    const p = client.connect().then(
      () => undefined,
      (err: unknown) => {
        firstConnects.delete(client);
        throw err;
      },
    );
    p.catch(() => undefined);
    firstConnects.set(client, p);
  }
  const pending = firstConnects.get(client);
  // A cluster client whose slot refresh keeps failing never settles connect(): callers waiting for
  // the first connection are released at the deadline instead.
  if (pending && client.status !== "ready") await withDeadline(pending, timeoutMs, () => new Error(`redis connect took longer than ${timeoutMs} ms`));
}

/**
 * Resolves the AUTH secret (once per container) or takes IAM auth, and builds the client (not yet
 * connected: see {@link ensureConnected}).
 */
export async function createRedisClient(
  settings: RedisSettings,
  options: Omit<RedisClientOptions, "auth"> & { readonly secretsClient?: SecretsSender; readonly region?: string; readonly auth?: RedisIamAuth } = {},
): Promise<RedisClient> {
  if (options.auth && settings.authSecretArn) throw new Error("redis: IAM auth and an AUTH secret (authSecretArn) are exclusive");
  const auth = options.auth ?? (settings.authSecretArn ? await redisAuthFromSecret(settings.authSecretArn, options.secretsClient, options.region) : undefined);
  return buildRedisClient(settings, { ...options, auth });
}

/** Stops what a client built here runs besides its connections (the IAM re-authentication timer). */
export function releaseRedisClient(client: RedisClient): void {
  iamSessions.get(client)?.close();
  iamSessions.delete(client);
}

export interface RedisCacheStoreOptions {
  /** Prefix of every key (`<prefix>:{key}`). */
  readonly keyPrefix: string;
  /** Where Redis is. Required unless `client` is given. */
  readonly settings?: RedisSettings;
  /**
   * A ready-made client (shared with other code); `close()` then leaves it open.
   * @default a client built from `settings`
   */
  readonly client?: RedisClient;
  /** @default 150 */
  readonly commandTimeoutMs?: number;
  /** @default 1000 */
  readonly connectTimeoutMs?: number;
  /** @default a SecretsManagerClient in `region` */
  readonly secretsClient?: SecretsSender;
  /** @default the SDK's region resolution */
  readonly region?: string;
  /**
   * ElastiCache IAM authentication instead of `settings.authSecretArn` (Valkey ≥ 7.2 / Redis OSS ≥ 7.0, TLS):
   * `{ mode: "iam", userId, cacheName, region, serverless? }`.
   * @default none
   */
  readonly auth?: RedisIamAuth;
}

export class RedisCacheStore implements CacheStore {
  readonly kind = "redis" as const;
  private readonly keys: KeyLayout;
  private readonly counters = new StatsCounter("redis");
  private readonly ownsClient: boolean;
  private clientPromise?: Promise<RedisClient & ScriptCommands>;

  constructor(private readonly options: RedisCacheStoreOptions) {
    this.keys = keyLayout(options.keyPrefix);
    if (!options.client && !options.settings) throw new Error("RedisCacheStore: settings or client is required");
    this.ownsClient = !options.client;
    if (options.client) this.clientPromise = Promise.resolve(defineScripts(options.client));
  }

  private get cluster(): boolean {
    return this.options.client ? this.options.client instanceof Cluster : !!this.options.settings?.clusterMode;
  }

  /** The connected client; connects on first use and never waits for a reconnect in progress. */
  async client(): Promise<RedisClient & ScriptCommands> {
    if (!this.clientPromise) {
      const p = createRedisClient(this.options.settings!, {
        commandTimeoutMs: this.options.commandTimeoutMs,
        connectTimeoutMs: this.options.connectTimeoutMs,
        secretsClient: this.options.secretsClient,
        region: this.options.region,
        auth: this.options.auth,
      }).then(defineScripts);
      this.clientPromise = p;
      p.catch(() => {
        if (this.clientPromise === p) this.clientPromise = undefined;
      });
    }
    const c = await this.clientPromise;
    await ensureConnected(c, this.options.connectTimeoutMs ?? 1000);
    return c;
  }

  private run<T>(fn: (c: RedisClient & ScriptCommands) => Promise<T>): Promise<T> {
    return this.counters.track(async () => fn(await this.client()));
  }

  async get(key: string): Promise<string | undefined> {
    const name = this.keys.value(key);
    const v = await this.run((c) => c.get(name));
    if (v === null) this.counters.misses++;
    else this.counters.hits++;
    return v ?? undefined;
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    assertTtlSeconds(ttlSeconds);
    const name = this.keys.value(key);
    await this.run((c) => c.set(name, value, "EX", ttlSeconds));
    this.counters.sets++;
  }

  async delete(...keys: string[]): Promise<number> {
    if (keys.length === 0) return 0;
    const names = [...new Set(keys.map((k) => this.keys.value(k)))];
    const n = await this.run(async (c) =>
      // Keys of different slots cannot share one DEL in cluster mode.
      this.cluster ? (await Promise.all(names.map((k) => c.del(k)))).reduce((a, b) => a + b, 0) : c.del(...names),
    );
    this.counters.deletes += n;
    return n;
  }

  async getMany(keys: readonly string[]): Promise<Array<string | undefined>> {
    if (keys.length === 0) return [];
    const names = keys.map((k) => this.keys.value(k));
    // Cluster: one GET per key, auto-pipelined per node (MGET would be CROSSSLOT).
    const values = await this.run((c) => (this.cluster ? Promise.all(names.map((k) => c.get(k))) : c.mget(...names)));
    for (const v of values) {
      if (v === null) this.counters.misses++;
      else this.counters.hits++;
    }
    return values.map((v) => v ?? undefined);
  }

  async setMany(entries: readonly CacheEntry[]): Promise<void> {
    if (entries.length === 0) return;
    entries.forEach((e) => assertTtlSeconds(e.ttlSeconds));
    const items = entries.map((e) => [this.keys.value(e.key), e.value, e.ttlSeconds] as const);
    await this.run(async (c) => {
      if (this.cluster) {
        await Promise.all(items.map(([k, v, t]) => c.set(k, v, "EX", t)));
        return;
      }
      const pipe = c.pipeline();
      for (const [k, v, t] of items) pipe.set(k, v, "EX", t);
      const results = (await pipe.exec()) ?? [];
      const failed = results.find(([err]) => err);
      if (failed) throw failed[0];
    });
    this.counters.sets += entries.length;
  }

  async has(key: string): Promise<boolean> {
    const name = this.keys.value(key);
    return (await this.run((c) => c.exists(name))) === 1;
  }

  async expire(key: string, ttlSeconds: number): Promise<boolean> {
    assertTtlSeconds(ttlSeconds);
    const name = this.keys.value(key);
    return (await this.run((c) => c.expire(name, ttlSeconds))) === 1;
  }

  async ttl(key: string): Promise<number> {
    const name = this.keys.value(key);
    // PTTL rounded up, as the other backends do (TTL would round a live key down to 0).
    const ms = await this.run((c) => c.pttl(name));
    return ms < 0 ? ms : remainingSeconds(ms, 0);
  }

  stats(): CacheStats {
    return this.counters.snapshot();
  }

  async acquireLease(key: string, token: string, ttlMs: number): Promise<boolean> {
    assertPositiveMs("lease ttlMs", ttlMs);
    const name = this.keys.lease(key);
    return (await this.run((c) => c.set(name, token, "PX", Math.ceil(ttlMs), "NX"))) === "OK";
  }

  async setIfLeaseHeld(key: string, value: string, ttlSeconds: number, token: string): Promise<boolean> {
    assertTtlSeconds(ttlSeconds);
    const [v, l] = [this.keys.value(key), this.keys.lease(key)];
    const ok = (await this.run((c) => c.cfSetIfLeaseHeld(v, l, token, value, ttlSeconds))) === 1;
    if (ok) this.counters.sets++;
    return ok;
  }

  async releaseLease(key: string, token: string): Promise<void> {
    const l = this.keys.lease(key);
    await this.run((c) => c.cfReleaseLease(l, token));
  }

  async invalidate(key: string): Promise<void> {
    const [v, l] = [this.keys.value(key), this.keys.lease(key)];
    // One DEL of two keys in one slot (hash tag): atomic, also in cluster mode.
    await this.run((c) => c.del(v, l));
    this.counters.deletes++;
  }

  async hitWindow(key: string, limit: number, windowMs: number, nowMs: number): Promise<WindowResult> {
    assertPositiveMs("windowMs", windowMs);
    const w = this.keys.window(key);
    const member = `${nowMs}:${randomUUID()}`;
    const [allowed, count, retry] = await this.run((c) => c.cfHitWindow(w, nowMs, Math.ceil(windowMs), limit, member));
    return allowed === 1 ? { allowed: true, count, retryAfterMs: 0 } : { allowed: false, count, retryAfterMs: clampRetryAfter(retry, windowMs) };
  }

  async clear(): Promise<number> {
    const pattern = `${escapeGlob(this.keys.scanPrefix)}*`;
    return this.run(async (c) => {
      if (c instanceof Cluster) {
        const counts = await Promise.all(c.nodes("master").map((node) => scanAndUnlink(node, pattern, true)));
        return counts.reduce((a, b) => a + b, 0);
      }
      return scanAndUnlink(c, pattern, false);
    });
  }

  async ping(): Promise<boolean> {
    try {
      return (await (await this.client()).ping()) === "PONG";
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    const p = this.clientPromise;
    this.clientPromise = undefined;
    if (!p || !this.ownsClient) return;
    let c: RedisClient;
    try {
      c = await p;
    } catch {
      return;
    }
    releaseRedisClient(c);
    if (c.status === "ready") {
      try {
        await c.quit();
        return;
      } catch {
        /* fall through to a hard disconnect */
      }
    }
    c.disconnect();
  }
}

/** Redis glob metacharacters in the prefix are matched literally. */
function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, "\\$&");
}

/** SCAN (never KEYS) in pages of 500 and UNLINK each page; returns how many keys went. */
async function scanAndUnlink(node: Redis, pattern: string, singleKeyCommands: boolean): Promise<number> {
  let cursor = "0";
  let removed = 0;
  do {
    const [next, keys] = await node.scan(cursor, "MATCH", pattern, "COUNT", 500);
    cursor = next;
    if (keys.length === 0) continue;
    if (singleKeyCommands) {
      // One node holds many slots: a multi-key UNLINK would be CROSSSLOT.
      const pipe = node.pipeline();
      for (const k of keys) pipe.unlink(k);
      for (const [err, n] of (await pipe.exec()) ?? []) {
        if (err) throw err;
        removed += Number(n);
      }
    } else {
      removed += await node.unlink(...keys);
    }
  } while (cursor !== "0");
  return removed;
}
