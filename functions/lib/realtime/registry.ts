/**
 * The connection map and online presence of a WebSocket API, in the cache:
 *   const reg = connectionRegistryOf(rt.store, { keyPrefix: rt.config.keyPrefix, commandTimeoutMs });
 *   await reg.connect({ connectionId, sessionId, customerId }, ttlMs);   // both directions + presence, atomically
 *   await reg.connectionsOf(sessionId);  await reg.disconnect(connectionId);  await reg.isOnline(customerId);
 *
 * Layout (Redis): every key of a service's map carries one hash tag, `<prefix>:{realtime}:…`, so one
 * Lua script may update all of them atomically, in cluster mode too:
 *   …:conn:<connectionId>        string  "<sessionId>\n<customerId>"     (connection → session)
 *   …:session:<sessionId>        zset    connectionId scored by expiry    (session → connections)
 *   …:customer:<customerId>      zset    connectionId scored by expiry    (a customer's open sockets)
 *   …:online                     zset    customerId scored by the expiry of their newest socket
 * Members carry their own expiry as the score (a set member cannot have a TTL), so a reader skips
 * what expired and every write trims it (ZREMRANGEBYSCORE): "is X online" is one ZSCORE and "how
 * many are online" one ZCOUNT, never KEYS or SCAN. Keys get the TTL of their newest member. The
 * price of atomicity is that one service's map lives on one shard; the presence set is a single
 * key anyway, and a shard serves well over 100k of these commands a second.
 */
import type { Cluster, Redis } from "ioredis";
import { BreakerCacheStore, CacheUnavailableError } from "../cache/breaker";
import { keyLayout } from "../cache/keys";
import { RedisCacheStore } from "../cache/redis";
import type { CacheStore } from "../cache/types";
import { CONNECTION_MAP_BACKENDS } from "../contract/socket";
import { withDeadline } from "../deadline";
import { HttpError } from "../http";

/** One WebSocket connection: the session it follows and the customer who opened it. */
export interface ConnectionEntry {
  /** API Gateway's connection id. */
  readonly connectionId: string;
  /** The session whose turns it receives. */
  readonly sessionId: string;
  /** The verified customer who opened it. */
  readonly customerId: string;
}

/** The connection map and presence (see the file header). Every method may throw {@link CacheUnavailableError}. */
export interface ConnectionRegistry {
  /** Maps the connection both ways and marks its customer online, for `ttlMs`, in one atomic step. */
  connect(entry: ConnectionEntry, ttlMs: number): Promise<void>;
  /** Removes both directions and, with the customer's last socket, their presence; false when it was not mapped. */
  disconnect(connectionId: string): Promise<boolean>;
  /** The connection's entry, or undefined when it is not mapped (closed, expired, never registered). */
  lookup(connectionId: string): Promise<ConnectionEntry | undefined>;
  /** Live connections of a session. */
  connectionsOf(sessionId: string): Promise<string[]>;
  /** Removes connections found gone from the session (and everything else of theirs); how many were mapped. */
  prune(sessionId: string, connectionIds: readonly string[]): Promise<number>;
  /** True while the customer has an open socket. */
  isOnline(customerId: string): Promise<boolean>;
  /** Customers with an open socket. */
  countOnline(): Promise<number>;
}

/** Options of {@link connectionRegistryOf}. */
export interface ConnectionRegistryOptions {
  /** The service's key prefix (`CACHE_KEY_PREFIX`). */
  readonly keyPrefix: string;
  /** Longest one registry call may take; then it fails as the cache being unavailable. */
  readonly commandTimeoutMs: number;
  /** Clock (tests). @default Date.now */
  readonly now?: () => number;
}

const SEP = "\n";

/** KEYS conn, session, customer, online; ARGV connectionId, sessionId, customerId, now ms, ttl ms. */
const CONNECT = `
local now = tonumber(ARGV[4])
local ttl = tonumber(ARGV[5])
local expires = now + ttl
redis.call('SET', KEYS[1], ARGV[2] .. '\\n' .. ARGV[3], 'PX', ttl)
for _, k in ipairs({KEYS[2], KEYS[3]}) do
  redis.call('ZREMRANGEBYSCORE', k, '-inf', now)
  redis.call('ZADD', k, expires, ARGV[1])
  redis.call('PEXPIRE', k, ttl)
end
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
local seen = redis.call('ZSCORE', KEYS[4], ARGV[3])
if not seen or tonumber(seen) < expires then redis.call('ZADD', KEYS[4], expires, ARGV[3]) end
redis.call('PEXPIRE', KEYS[4], ttl)
return 1`;

/**
 * KEYS conn, session, customer, online; ARGV connectionId, the conn value read before (a change
 * since means another call moved it: nothing is done, -1), customerId, now ms. The customer stays
 * online until their newest remaining socket expires.
 */
const DISCONNECT = `
if redis.call('GET', KEYS[1]) ~= ARGV[2] then return -1 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
local now = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
local newest = redis.call('ZRANGE', KEYS[3], -1, -1, 'WITHSCORES')
if newest[2] then redis.call('ZADD', KEYS[4], newest[2], ARGV[3]) else redis.call('ZREM', KEYS[4], ARGV[3]) end
return 1`;

interface RegistryCommands {
  cfRtConnect(conn: string, session: string, customer: string, online: string, cid: string, sid: string, cust: string, now: number, ttl: number): Promise<number>;
  cfRtDisconnect(conn: string, session: string, customer: string, online: string, cid: string, value: string, cust: string, now: number): Promise<number>;
}

type Client = (Redis | Cluster) & RegistryCommands;

function withScripts(c: Redis | Cluster): Client {
  const s = c as (Redis | Cluster) & Partial<RegistryCommands>;
  if (!s.cfRtConnect) {
    c.defineCommand("cfRtConnect", { numberOfKeys: 4, lua: CONNECT });
    c.defineCommand("cfRtDisconnect", { numberOfKeys: 4, lua: DISCONNECT });
  }
  return c as Client;
}

/** The key names of a service's connection map (exported for tests and tools that inspect it). */
export function registryKeys(keyPrefix: string) {
  const base = `${keyLayout(keyPrefix).value("realtime")}:`;
  return {
    conn: (connectionId: string) => `${base}conn:${connectionId}`,
    session: (sessionId: string) => `${base}session:${sessionId}`,
    customer: (customerId: string) => `${base}customer:${customerId}`,
    online: `${base}online`,
  };
}

function parseEntry(connectionId: string, value: string | null | undefined): ConnectionEntry | undefined {
  if (!value) return undefined;
  const cut = value.indexOf(SEP);
  return cut < 0 ? undefined : { connectionId, sessionId: value.slice(0, cut), customerId: value.slice(cut + 1) };
}

/** On Redis (standalone or cluster), behind the cache store's circuit breaker and command deadline. */
class RedisConnectionRegistry implements ConnectionRegistry {
  private readonly keys: ReturnType<typeof registryKeys>;
  private readonly now: () => number;

  constructor(
    private readonly store: RedisCacheStore,
    private readonly breaker: BreakerCacheStore | undefined,
    private readonly opts: ConnectionRegistryOptions,
  ) {
    this.keys = registryKeys(opts.keyPrefix);
    this.now = opts.now ?? Date.now;
  }

  /** Runs `fn` as the cache store runs its own commands: breaker first, then a deadline. */
  private async run<T>(op: string, fn: (c: Client) => Promise<T>): Promise<T> {
    // The first connection has its own bound (the store's connect timeout); each command this one.
    const call = async () => withDeadline(fn(withScripts(await this.store.client())), this.opts.commandTimeoutMs,
      () => new CacheUnavailableError("timeout", `connection map ${op} took longer than ${this.opts.commandTimeoutMs} ms`));
    if (!this.breaker) return call();
    try {
      return await this.breaker.breaker.run(call);
    } catch (err) {
      if (err instanceof CacheUnavailableError) throw err;
      throw new CacheUnavailableError("error", `connection map ${op} failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
    }
  }

  async connect(e: ConnectionEntry, ttlMs: number): Promise<void> {
    const k = this.keys;
    await this.run("connect", (c) => c.cfRtConnect(k.conn(e.connectionId), k.session(e.sessionId), k.customer(e.customerId), k.online,
      e.connectionId, e.sessionId, e.customerId, this.now(), Math.ceil(ttlMs)));
  }

  async lookup(connectionId: string): Promise<ConnectionEntry | undefined> {
    return parseEntry(connectionId, await this.run("lookup", (c) => c.get(this.keys.conn(connectionId))));
  }

  async disconnect(connectionId: string): Promise<boolean> {
    const k = this.keys;
    // Read, then remove only if unchanged: the script must name every key it touches (cluster mode),
    // and the session and customer keys are known only from the entry. One retry covers a race.
    for (let attempt = 0; attempt < 2; attempt++) {
      const value = await this.run("disconnect", (c) => c.get(k.conn(connectionId)));
      const e = parseEntry(connectionId, value);
      if (!e) return false;
      const done = await this.run("disconnect", (c) => c.cfRtDisconnect(k.conn(connectionId), k.session(e.sessionId), k.customer(e.customerId), k.online,
        connectionId, value!, e.customerId, this.now()));
      if (done === 1) return true;
    }
    return false;
  }

  async connectionsOf(sessionId: string): Promise<string[]> {
    return this.run("connectionsOf", (c) => c.zrangebyscore(this.keys.session(sessionId), `(${this.now()}`, "+inf"));
  }

  async prune(sessionId: string, connectionIds: readonly string[]): Promise<number> {
    let mapped = 0;
    for (const id of connectionIds) if (await this.disconnect(id)) mapped++;
    // An entry whose connection key already expired still sits in the session's set until its score passes.
    if (connectionIds.length > 0) await this.run("prune", (c) => c.zrem(this.keys.session(sessionId), ...connectionIds));
    return mapped;
  }

  async isOnline(customerId: string): Promise<boolean> {
    const score = await this.run("isOnline", (c) => c.zscore(this.keys.online, customerId));
    return score !== null && Number(score) > this.now();
  }

  async countOnline(): Promise<number> {
    return this.run("countOnline", (c) => c.zcount(this.keys.online, `(${this.now()}`, "+inf"));
  }
}

/** In-process (the memory cache backend: tests, the twin without redis-server). Same semantics, one process. */
export class MemoryConnectionRegistry implements ConnectionRegistry {
  private readonly conns = new Map<string, { entry: ConnectionEntry; expires: number }>();
  private readonly now: () => number;

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  private live(): Array<{ entry: ConnectionEntry; expires: number }> {
    const now = this.now();
    for (const [id, c] of this.conns) if (c.expires <= now) this.conns.delete(id);
    return [...this.conns.values()];
  }

  async connect(entry: ConnectionEntry, ttlMs: number): Promise<void> {
    this.conns.set(entry.connectionId, { entry, expires: this.now() + ttlMs });
  }
  async disconnect(connectionId: string): Promise<boolean> {
    this.live();
    return this.conns.delete(connectionId);
  }
  async lookup(connectionId: string): Promise<ConnectionEntry | undefined> {
    return this.live().find((c) => c.entry.connectionId === connectionId)?.entry;
  }
  async connectionsOf(sessionId: string): Promise<string[]> {
    return this.live().filter((c) => c.entry.sessionId === sessionId).map((c) => c.entry.connectionId);
  }
  async prune(_sessionId: string, connectionIds: readonly string[]): Promise<number> {
    let n = 0;
    for (const id of connectionIds) if (await this.disconnect(id)) n++;
    return n;
  }
  async isOnline(customerId: string): Promise<boolean> {
    return this.live().some((c) => c.entry.customerId === customerId);
  }
  async countOnline(): Promise<number> {
    return new Set(this.live().map((c) => c.entry.customerId)).size;
  }
}

/** The function's cache cannot hold a connection map: a deployment mistake (500, never a degradation to hide). */
export class ConnectionMapUnsupportedError extends HttpError {
  constructor(backend: string) {
    super(500, `function misconfigured: cache backend ${backend} cannot hold the connection map (it updates several sorted sets ` +
      `atomically): use one of ${CONNECTION_MAP_BACKENDS.join(", ")}`);
    this.name = "ConnectionMapUnsupportedError";
  }
}

/** On a backend without a connection map: every call refuses, so routes that need none still work. */
class UnsupportedRegistry implements ConnectionRegistry {
  constructor(private readonly backend: string) {}
  private refuse(): Promise<never> {
    return Promise.reject(new ConnectionMapUnsupportedError(this.backend));
  }
  connect(): Promise<void> {
    return this.refuse();
  }
  disconnect(): Promise<boolean> {
    return this.refuse();
  }
  lookup(): Promise<ConnectionEntry | undefined> {
    return this.refuse();
  }
  connectionsOf(): Promise<string[]> {
    return this.refuse();
  }
  prune(): Promise<number> {
    return this.refuse();
  }
  isOnline(): Promise<boolean> {
    return this.refuse();
  }
  countOnline(): Promise<number> {
    return this.refuse();
  }
}

const memoryRegistries = new WeakMap<CacheStore, MemoryConnectionRegistry>();

/**
 * The connection map on `store`'s backend: Redis (through the store's own client and circuit
 * breaker) or the memory store. Other backends cannot update several sorted sets atomically: every
 * call fails with {@link ConnectionMapUnsupportedError} (`WebSocketApi` refuses them at synth).
 */
export function connectionRegistryOf(store: CacheStore, opts: ConnectionRegistryOptions): ConnectionRegistry {
  const breaker = store instanceof BreakerCacheStore ? store : undefined;
  const inner = breaker ? breaker.inner : store;
  if (inner instanceof RedisCacheStore) return new RedisConnectionRegistry(inner, breaker, opts);
  if (inner.kind === "memory") {
    let reg = memoryRegistries.get(inner);
    if (!reg) memoryRegistries.set(inner, (reg = new MemoryConnectionRegistry(opts.now)));
    return reg;
  }
  return new UnsupportedRegistry(inner.kind);
}
