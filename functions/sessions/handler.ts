/**
 * Session store: a chat session is a META item plus TURN#<time> and SUMMARY#<time> items under
 * PK = SESSION#<id>. Reads assemble META + the newest N turns + the latest summary (through
 * DAX when configured) and cache the assembled context in Redis; writes append a turn under a
 * per-session lock, rate-limited per customer, then invalidate the context and push the turn to
 * the session's WebSocket connections. The socket routes follow a session ($connect, checked
 * against the session's owner), append to one (sendTurn) and leave ($disconnect).
 */
import { randomBytes } from "crypto";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import { CacheUnavailableError } from "../lib/cache/breaker";
import { UnsupportedCacheOperationError } from "../lib/cache/types";
import { health } from "../lib/health";
import { HttpError, json, jsonText } from "../lib/http";
import { errorFields, log } from "../lib/log";
import { METRIC } from "../lib/metrics";
import { ConnectionMapUnsupportedError, Realtime } from "../lib/realtime";
import { defineHandler, RequestContext, RouteHandler, Runtime } from "../lib/runtime";
import { SocketRouteHandler } from "../lib/socket";
import { decodeContent, validateId } from "../lib/validate";
import { contextCacheKey, lockCacheKey, rateLimitCacheKey, SESSIONS, SESSIONS_SOCKET, SESSIONS_TABLE, sessionPartition, SORT_KEY } from "./contract";

export interface Turn {
  readonly turnId: string;
  readonly role: string;
  readonly content: string;
  readonly createdAt: string;
}

export interface SessionContext {
  readonly sessionId: string;
  readonly customerId: string;
  readonly createdAt: string;
  readonly lastActivityAt: string;
  readonly turnCount: number;
  /** The newest N turns, oldest first. */
  readonly turns: Turn[];
  readonly summary: { readonly content: string; readonly createdAt: string } | null;
}

const MAX_DECODED_CONTENT = 256 * 1024;

type Settings = typeof SESSIONS.settings;
type Handler = RouteHandler<Settings>;
type SocketRoute = SocketRouteHandler<Runtime<Settings>>;
const pk = sessionPartition;
const { partitionKey: PK, sortKey: SK, timeToLiveAttribute: EXPIRES_AT } = SESSIONS_TABLE;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `#pk`/`#sk` in key conditions: the attribute names come from the contract's table layout. */
const KEY_NAMES = { "#pk": PK.name, "#sk": SK.name };

/** Reads META, the newest N turns and the latest summary; undefined when the session does not exist. */
async function assemble(rt: Runtime<Settings>, id: string, consistent: boolean): Promise<SessionContext | undefined> {
  const TableName = rt.config.tableName;
  const newest = (prefix: string, limit: number) =>
    rt.table.query({
      TableName,
      KeyConditionExpression: "#pk = :pk AND begins_with(#sk, :prefix)",
      ExpressionAttributeNames: KEY_NAMES,
      ExpressionAttributeValues: marshall({ ":pk": pk(id), ":prefix": prefix }),
      ScanIndexForward: false,
      Limit: limit,
      ConsistentRead: consistent,
    });
  const [meta, turns, summary] = await Promise.all([
    rt.table.getItem({ TableName, Key: marshall({ [PK.name]: pk(id), [SK.name]: SORT_KEY.meta }), ConsistentRead: consistent }),
    newest(SORT_KEY.turn, rt.settings.contextTurns),
    newest(SORT_KEY.summary, 1),
  ]);
  if (!meta.Item) return undefined;
  const m = unmarshall(meta.Item);
  const s = summary.Items?.[0] ? unmarshall(summary.Items[0]) : undefined;
  return {
    sessionId: id,
    customerId: String(m.customerId),
    createdAt: String(m.createdAt),
    lastActivityAt: String(m.lastActivityAt),
    turnCount: Number(m.turnCount ?? 0),
    turns: (turns.Items ?? []).map((raw) => {
      const t = unmarshall(raw);
      return {
        turnId: String(t[SK.name]).slice(SORT_KEY.turn.length),
        role: String(t.role),
        content: decodeContent(String(t.content), t.contentEncoding as string | undefined, MAX_DECODED_CONTENT),
        createdAt: String(t.createdAt),
      };
    }).reverse(),
    summary: s ? { content: String(s.content), createdAt: String(s.createdAt) } : null,
  };
}

/**
 * Another customer's session answers exactly like a missing one (404, same body), so a caller
 * cannot tell which session ids exist.
 */
const notFound = (id: string, headers: Record<string, string>) => json(404, { error: `session ${id} not found` }, headers);

const getSession: Handler = async (e, p, { rt, metrics, caller }) => {
  const id = validateId("sessionId", p.sessionId);
  const consistentRaw = e.queryStringParameters?.consistent;
  if (consistentRaw !== undefined && consistentRaw !== null && !["true", "false"].includes(consistentRaw)) {
    throw new HttpError(400, "consistent must be true or false");
  }
  if (consistentRaw === "true") {
    // Strongly consistent: neither Redis nor DAX (DAX does not cache consistent reads).
    const ctx = await assemble(rt, id, true);
    if (!ctx || ctx.customerId !== caller) return notFound(id, { "x-cache": "BYPASS" });
    return json(200, ctx, { "x-cache": "BYPASS" });
  }
  const result = await rt.cache.read(contextCacheKey(id), () => assemble(rt, id, false), metrics);
  if (result.json === undefined || result.value?.customerId !== caller) return notFound(id, { "x-cache": result.status });
  // Cache-Control is the runtime's: a caller route answers `private, no-store` (functions/lib/cache-control.ts).
  return jsonText(200, result.json, { "x-cache": result.status, "x-cache-tier": result.tier });
};

/** Takes the session's write lock, waiting briefly; undefined when the cache cannot lock (fail open). */
async function lockSession(rt: Runtime<Settings>, id: string, metrics: RequestContext["metrics"]): Promise<string | undefined> {
  const token = randomBytes(12).toString("base64url");
  const deadline = Date.now() + rt.settings.lockWaitMs;
  let delay = 10;
  for (;;) {
    let acquired: boolean;
    try {
      acquired = await rt.store.acquireLease(lockCacheKey(id), token, rt.settings.lockTtlMs);
    } catch (err) {
      // Without the cache, sort keys (time + random suffix) still keep concurrent turns apart.
      metrics.count(METRIC.Fallback);
      log("warn", "session lock unavailable; writing without it", { sessionId: id, ...errorFields(err) });
      return undefined;
    }
    if (acquired) return token;
    metrics.count(METRIC.LockContention);
    if (Date.now() + delay > deadline) {
      throw new HttpError(409, `session ${id} is being written by another request; retry`, { "retry-after": "1" });
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 100);
  }
}

/** The owner of a session (its META item's customer, read consistently), or undefined when it does not exist. */
async function ownerOf(rt: Runtime<Settings>, id: string): Promise<string | undefined> {
  const owner = await rt.table.getItem({
    TableName: rt.config.tableName,
    Key: marshall({ [PK.name]: pk(id), [SK.name]: SORT_KEY.meta }),
    ProjectionExpression: "customerId",
    ConsistentRead: true,
  });
  return owner.Item?.customerId?.S;
}

/** A stored turn, as the push and the acknowledgement describe it. */
interface StoredTurn {
  readonly sessionId: string;
  readonly turnId: string;
  readonly createdAt: string;
  readonly role: string;
  readonly content: string;
  readonly contentEncoding: string;
}

/** Appends a turn to session `id` as `customerId` (REST and socket alike); HttpError 4xx when refused. */
async function append(rt: Runtime<Settings>, id: string, customerId: string, body: Record<string, unknown>, metrics: RequestContext["metrics"]): Promise<StoredTurn> {
  const encoding = (body.contentEncoding as string | undefined) ?? "identity";
  decodeContent(body.content as string, encoding, MAX_DECODED_CONTENT); // refuse undecodable content before storing it

  // The owner before anything else: another customer's append must neither take this session's lock
  // (holding its owner off with 409s) nor learn that the session exists. The conditional write
  // below still settles a race with a concurrent first append.
  const ownerId = await ownerOf(rt, id);
  if (ownerId !== undefined && ownerId !== customerId) throw new HttpError(404, `session ${id} not found`);

  // Then the lock: an append refused because another is writing (409) must not count against the
  // customer's rate limit; only appends that will be written do.
  const token = await lockSession(rt, id, metrics);
  try {
    const now = Date.now();
    const { rateLimitPerWindow, rateLimitWindowSeconds } = rt.settings;
    try {
      const hit = await rt.store.hitWindow(rateLimitCacheKey(customerId), rateLimitPerWindow, rateLimitWindowSeconds * 1000, now);
      if (!hit.allowed) {
        metrics.count(METRIC.RateLimited);
        const retryAfter = Math.max(1, Math.ceil(hit.retryAfterMs / 1000));
        throw new HttpError(429, `rate limit of ${rateLimitPerWindow} turns per ${rateLimitWindowSeconds} s reached for customer ${customerId}`,
          { "retry-after": String(retryAfter) });
      }
    } catch (err) {
      if (err instanceof HttpError || err instanceof UnsupportedCacheOperationError) throw err;
      metrics.count(METRIC.Fallback); // fail open: a cache outage must not stop conversations
      log("warn", "rate limiter unavailable; allowing", { customerId, ...errorFields(err) });
    }
    const TableName = rt.config.tableName;
    const createdAt = new Date(now).toISOString();
    const expiresAt = Math.floor(now / 1000) + rt.settings.sessionTtlDays * 86_400;
    // META first, conditionally: it creates the session or checks the owner in one call.
    try {
      await rt.table.updateItem({
        TableName,
        Key: marshall({ [PK.name]: pk(id), [SK.name]: SORT_KEY.meta }),
        UpdateExpression: "SET customerId = if_not_exists(customerId, :c), createdAt = if_not_exists(createdAt, :t), " +
          "lastActivityAt = :t, #x = :x ADD turnCount :one",
        ConditionExpression: "attribute_not_exists(customerId) OR customerId = :c",
        ExpressionAttributeNames: { "#x": EXPIRES_AT },
        ExpressionAttributeValues: marshall({ ":c": customerId, ":t": createdAt, ":x": expiresAt, ":one": 1 }),
      });
    } catch (err) {
      if (err instanceof Error && err.name === "ConditionalCheckFailedException") throw new HttpError(404, `session ${id} not found`);
      throw err;
    }
    const turnId = `${createdAt}#${randomBytes(4).toString("hex")}`;
    await rt.table.putItem({
      TableName,
      Item: marshall({
        [PK.name]: pk(id), [SK.name]: `${SORT_KEY.turn}${turnId}`, role: body.role, content: body.content, contentEncoding: encoding,
        customerId, createdAt, [EXPIRES_AT]: expiresAt,
      }),
      ConditionExpression: "attribute_not_exists(#sk)",
      ExpressionAttributeNames: { "#sk": SK.name },
    });
    await rt.cache.invalidate(contextCacheKey(id), metrics);
    return { sessionId: id, turnId, createdAt, role: String(body.role), content: String(body.content), contentEncoding: encoding };
  } finally {
    if (token) await rt.store.releaseLease(lockCacheKey(id), token).catch(() => undefined);
  }
}

/** Pushes a stored turn to the session's live connections (`{ type: "turn", … }`); never fails the append. */
async function pushTurn(realtime: Realtime | undefined, turn: StoredTurn, metrics: RequestContext["metrics"]): Promise<void> {
  await realtime?.push.pushToSession(turn.sessionId, JSON.stringify({ type: "turn", ...turn }), metrics);
}

const appendTurn: Handler = async (_e, p, { rt, metrics, body, caller, realtime }) => {
  const id = validateId("sessionId", p.sessionId);
  const turn = await append(rt, id, caller as string, body, metrics); // caller: set on every `caller` route (runtime.ts)
  await pushTurn(realtime, turn, metrics);
  return json(201, { sessionId: id, turnId: turn.turnId, createdAt: turn.createdAt });
};

/** A read of the connection map that the cache being down turns into a 503 (a presence answer has no fallback). */
async function fromMap<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof CacheUnavailableError) throw new HttpError(503, "presence is unavailable: the cache cannot be reached; retry shortly", { "retry-after": "1" });
    throw err;
  }
}

const getPresence: Handler = async (_e, p, { rt, caller, realtime }) => {
  const id = validateId("sessionId", p.sessionId);
  if ((await ownerOf(rt, id)) !== caller) return notFound(id, {});
  const registry = (realtime as Realtime).registry; // set: the contract needs a connection map
  const [connections, customerOnline, onlineCustomers] = await fromMap(() =>
    Promise.all([registry.connectionsOf(id), registry.isOnline(caller as string), registry.countOnline()]));
  return json(200, { sessionId: id, connections: connections.length, customerOnline, onlineCustomers }, { "cache-control": "no-store" });
};

/**
 * Follows a session: only its owner may (a session that does not exist yet cannot be followed, so
 * nobody can wait on an id before its owner creates it). Without the cache the socket is still
 * accepted, degraded: it receives no pushes.
 */
const connect: SocketRoute = async (e, { rt, metrics, caller, connectionId, realtime }) => {
  const id = validateId("sessionId", e.queryStringParameters?.sessionId ?? undefined);
  if ((await ownerOf(rt, id)) !== caller) throw new HttpError(404, `session ${id} not found`);
  try {
    await realtime.registry.connect({ connectionId, sessionId: id, customerId: caller as string }, realtime.settings.connectionTtlSeconds * 1000);
  } catch (err) {
    if (err instanceof ConnectionMapUnsupportedError) throw err;
    metrics.count(METRIC.PushDegraded);
    log("warn", "connection map unavailable; socket accepted without pushes", { sessionId: id, connectionId, ...errorFields(err) });
  }
  metrics.count(METRIC.SocketConnect);
  return undefined;
};

const disconnect: SocketRoute = async (_e, { metrics, connectionId, realtime }) => {
  metrics.count(METRIC.SocketDisconnect);
  try {
    await realtime.registry.disconnect(connectionId);
  } catch (err) {
    // Its entries expire with their TTL; a push meanwhile finds it gone and prunes it.
    metrics.count(METRIC.PushDegraded);
    log("warn", "connection map unavailable; entries left to expire", { connectionId, ...errorFields(err) });
  }
  return undefined;
};

const ACTIONS = SESSIONS_SOCKET.routes.map((r) => r.routeKey).filter((k) => !k.startsWith("$"));

const unknownAction: SocketRoute = async () => {
  throw new HttpError(400, `unknown action: send a JSON object whose ${SESSIONS_SOCKET.actionField} is one of ${ACTIONS.join(", ")}`);
};

/**
 * Appends a turn from the socket. The customer is the one verified on `$connect`: from the
 * authorizer's context when API Gateway passes it on, else from the connection map.
 */
const sendTurn: SocketRoute = async (_e, { rt, metrics, caller, connectionId, body, realtime }) => {
  let customerId = caller;
  if (!customerId) customerId = (await realtime.registry.lookup(connectionId).catch(() => undefined))?.customerId;
  if (!customerId) {
    throw new HttpError(503, "this connection's customer cannot be read now (the cache is unreachable); retry, or append through the REST API", { "retry-after": "1" });
  }
  const turn = await append(rt, validateId("sessionId", body.sessionId as string), customerId, body, metrics);
  await pushTurn(realtime, turn, metrics);
  return { type: "ack", sessionId: turn.sessionId, turnId: turn.turnId, createdAt: turn.createdAt };
};

/** Health, plus the per-customer rate limit, so smoke tests read it from any deployment. */
const sessionHealth: Handler = async (_e, _p, { rt }) => {
  const res = await health(rt);
  const { rateLimitPerWindow, rateLimitWindowSeconds } = rt.settings;
  const body = { ...JSON.parse(res.body), rate_limit_per_window: rateLimitPerWindow, rate_limit_window_seconds: rateLimitWindowSeconds };
  return { ...res, body: JSON.stringify(body) };
};

export const { createHandler, handler } = defineHandler(
  SESSIONS,
  { health: sessionHealth, getSession, appendTurn, getPresence },
  { connect, disconnect, unknownAction, sendTurn },
);
