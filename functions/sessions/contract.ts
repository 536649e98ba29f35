/**
 * The session store function's contract: a chat session is a META item plus TURN#<time> and
 * SUMMARY#<time> items under PK = SESSION#<id>; the assembled context is cached under one key per
 * session; appends take a per-session lock and count against a per-customer sliding window. The
 * customer is the caller the API's authorization verified: a session belongs to whoever created it.
 * On the WebSocket API a client follows one session: every turn appended to it (REST or socket) is
 * pushed to the session's live connections (the connection map and presence live in Redis).
 */
import {
  defineContract, defineSocket, HEALTH_ROUTE, JSON_SCHEMA_DRAFT_04, integer, METRIC, REALTIME_METRICS, REALTIME_SETTINGS, RUNTIME_METRICS, SOCKET_ROUTE,
  TableSpec,
} from "../lib/contract";

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

/** The WebSocket action that appends a turn (the value of a message's `action` field). */
export const SEND_TURN_ACTION = "sendTurn";

/**
 * A `sendTurn` message (JSON Schema draft-04): a turn for a session, as the REST body, plus the
 * action and the session (a socket follows one session, but may write to any of its caller's).
 */
export const TURN_MESSAGE_SCHEMA = {
  ...TURN_SCHEMA,
  title: "TurnMessage",
  required: ["action", "sessionId", ...TURN_SCHEMA.required],
  properties: {
    action: { type: "string", enum: [SEND_TURN_ACTION] },
    sessionId: { type: "string", minLength: 1, maxLength: 128 },
    ...TURN_SCHEMA.properties,
  },
} as const;

/** The session store's WebSocket API: follow a session, append to it, receive its turns as they are written. */
export const SESSIONS_SOCKET = defineSocket({
  actionField: "action",
  connectQuery: { sessionId: "the session whose turns the socket receives: it must exist (a first turn created it) and be the caller's" },
  routes: [
    { name: "connect", routeKey: SOCKET_ROUTE.connect, summary: "maps the connection to the caller's session (2-hour TTL) and marks the caller online" },
    { name: "disconnect", routeKey: SOCKET_ROUTE.disconnect, summary: "removes the connection from the map, and the caller's presence with their last socket" },
    { name: "unknownAction", routeKey: SOCKET_ROUTE.default, summary: "answers an error naming the actions there are", reply: true },
    {
      name: "sendTurn", routeKey: SEND_TURN_ACTION, body: TURN_MESSAGE_SCHEMA, reply: true,
      summary: "appends a turn as REST does, pushes it to every connection of the session, and acknowledges it to the sender",
    },
  ],
});

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
    {
      name: "getPresence", method: "GET", path: "/sessions/{sessionId}/presence",
      summary: "live WebSocket connections of the caller's session, whether the caller is online, and how many customers are; another customer's session is 404",
      access: "caller", cached: false,
    },
  ],
  settings: {
    contextTurns: integer("CONTEXT_TURNS", { default: 20, min: 1, max: 100, description: "turns assembled into the context" }),
    rateLimitPerWindow: integer("RATE_LIMIT_PER_WINDOW", { default: 30, min: 1, max: 100_000, description: "appends per verified customer per window (sliding)" }),
    rateLimitWindowSeconds: integer("RATE_LIMIT_WINDOW_SECONDS", { default: 60, min: 1, max: 86_400, description: "the rate-limit window" }),
    lockTtlMs: integer("SESSION_LOCK_TTL_MS", { default: 5_000, min: 100, max: 60_000, description: "lifetime of a session's write lock" }),
    lockWaitMs: integer("SESSION_LOCK_WAIT_MS", { default: 500, min: 0, max: 10_000, description: "longest an append waits for the lock before 409" }),
    sessionTtlDays: integer("SESSION_TTL_DAYS", { default: 30, min: 1, max: 3_650, description: "days of inactivity after which a session's items expire" }),
    ...REALTIME_SETTINGS,
  },
  table: SESSIONS_TABLE,
  cacheKeysOf: (keys) => {
    const pk = keys[SESSIONS_TABLE.partitionKey.name];
    const prefix = sessionPartition("");
    return typeof pk === "string" && pk.startsWith(prefix) ? [contextCacheKey(pk.slice(prefix.length))] : [];
  },
  metrics: [...RUNTIME_METRICS, METRIC.RateLimited, METRIC.LockContention, ...REALTIME_METRICS],
  needs: { slidingWindow: true, connectionMap: true },
  socket: SESSIONS_SOCKET,
});
