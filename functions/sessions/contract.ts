/**
 * The session store function's contract: a chat session is a META item plus TURN#<time> and
 * SUMMARY#<time> items under PK = SESSION#<id>; the assembled context is cached under one key per
 * session; appends take a per-session lock and count against a per-customer sliding window. The
 * customer is the caller the API's authorization verified: a session belongs to whoever created it.
 */
import { defineContract, HEALTH_ROUTE, JSON_SCHEMA_DRAFT_04, integer, METRIC, RUNTIME_METRICS, TableSpec } from "../lib/contract";

/** Partition key value of every item of a session. */
export const sessionPartition = (sessionId: string): string => `SESSION#${sessionId}`;
/** Sort keys: the session's META item, and the prefixes of its turns and summaries. */
export const SORT_KEY = { meta: "META", turn: "TURN#", summary: "SUMMARY#" } as const;

/** Cache key of a session's assembled context. */
export const contextCacheKey = (sessionId: string): string => `session:${sessionId}:context`;
/** Cache key of a session's write lock. */
export const lockCacheKey = (sessionId: string): string => `session:${sessionId}:write`;
/** Cache key of a customer's rate-limit window. */
export const rateLimitCacheKey = (customerId: string): string => `ratelimit:${customerId}`;

/** The sessions table: PK/SK, items expire through `expiresAt`, sessions listed per customer by activity. */
export const SESSIONS_TABLE = {
  partitionKey: { name: "PK", type: "S" },
  sortKey: { name: "SK", type: "S" },
  timeToLiveAttribute: "expiresAt",
  globalSecondaryIndexes: [
    {
      indexName: "by-customer",
      partitionKey: { name: "customerId", type: "S" },
      sortKey: { name: "lastActivityAt", type: "S" },
      projection: "KEYS_ONLY",
    },
  ],
} as const satisfies TableSpec;

/**
 * Body of `POST /sessions/{sessionId}/turns` (JSON Schema draft-04). The customer is the verified
 * caller, never a body field: a body that names a `customerId` is refused (400) by the gateway's
 * model and the handler alike, so a client cannot believe it chose the owner.
 */
export const TURN_SCHEMA = {
  $schema: JSON_SCHEMA_DRAFT_04,
  title: "Turn",
  type: "object",
  required: ["role", "content"],
  additionalProperties: false,
  properties: {
    role: { type: "string", enum: ["user", "assistant", "system"] },
    content: { type: "string", minLength: 1, maxLength: 32000 },
    contentEncoding: { type: "string", enum: ["identity", "gzip+base64"] },
  },
} as const;

/** The session store function (`functions/sessions/handler.ts`). */
export const SESSIONS = defineContract({
  name: "sessions",
  entry: "functions/sessions/handler.ts",
  description: "Session store: assembled context, turns, rate limiting, session locks",
  routes: [
    HEALTH_ROUTE,
    {
      name: "getSession", method: "GET", path: "/sessions/{sessionId}",
      summary: "the caller's assembled context (META, newest turns, latest summary), read through the cache; another customer's session is 404",
      access: "caller", cached: true, query: { consistent: false },
    },
    {
      name: "appendTurn", method: "POST", path: "/sessions/{sessionId}/turns",
      summary: "appends a turn as the caller under the session's lock, rate-limited per verified customer; another customer's session is 404",
      access: "caller", cached: false, body: TURN_SCHEMA,
    },
  ],
  settings: {
    contextTurns: integer("CONTEXT_TURNS", { default: 20, min: 1, max: 100, description: "turns assembled into the context" }),
    rateLimitPerWindow: integer("RATE_LIMIT_PER_WINDOW", { default: 30, min: 1, max: 100_000, description: "appends per verified customer per window (sliding)" }),
    rateLimitWindowSeconds: integer("RATE_LIMIT_WINDOW_SECONDS", { default: 60, min: 1, max: 86_400, description: "the rate-limit window" }),
    lockTtlMs: integer("SESSION_LOCK_TTL_MS", { default: 5_000, min: 100, max: 60_000, description: "lifetime of a session's write lock" }),
    lockWaitMs: integer("SESSION_LOCK_WAIT_MS", { default: 500, min: 0, max: 10_000, description: "longest an append waits for the lock before 409" }),
    sessionTtlDays: integer("SESSION_TTL_DAYS", { default: 30, min: 1, max: 3_650, description: "days of inactivity after which a session's items expire" }),
  },
  table: SESSIONS_TABLE,
  cacheKeysOf: (keys) => {
    const pk = keys[SESSIONS_TABLE.partitionKey.name];
    const prefix = sessionPartition("");
    return typeof pk === "string" && pk.startsWith(prefix) ? [contextCacheKey(pk.slice(prefix.length))] : [];
  },
  metrics: [...RUNTIME_METRICS, METRIC.RateLimited, METRIC.LockContention],
  needs: { slidingWindow: true },
});
