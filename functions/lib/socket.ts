/**
 * WebSocket events of API Gateway, routed by the contract's socket spec: one function per route,
 * like the REST routes of `defineHandler`, which dispatches here when an event carries a
 * connection id:
 *   defineHandler(SESSIONS, { …REST routes… }, { connect, disconnect, unknownAction, sendTurn });
 * `$connect` needs the verified caller (API Gateway's authorizer ran on it; without one it is
 * refused with 401); a message is parsed and checked against its route's schema before its code
 * runs; a route with `reply` answers the sender (`{ type: "error", status, error }` on failure).
 */
import { SOCKET_ROUTE, SocketRouteName, SocketRouteSpec, SocketSpec, socketRouteDimension } from "./contract";
import { verifiedCaller } from "./caller";
import { classifyError } from "./errors";
import { HttpError, ProxyEvent, ProxyResult } from "./http";
import { errorFields, log } from "./log";
import { RequestMetrics } from "./metrics";
import type { RuntimeConfig } from "./config";
import type { Realtime } from "./realtime";
import { compileSchema } from "./schema";

/** The fields of an API Gateway WebSocket event (Lambda proxy integration) the runtime reads. */
export interface SocketEvent {
  /** Where API Gateway says which route and connection the event is about. */
  readonly requestContext: {
    /** The selected route: `$connect`, `$disconnect`, `$default` or an action. */
    readonly routeKey: string;
    /** `CONNECT`, `MESSAGE` or `DISCONNECT`. */
    readonly eventType: string;
    /** The connection's id (what the management API posts to). */
    readonly connectionId: string;
    /** API Gateway's request id. */
    readonly requestId?: string;
    readonly [k: string]: unknown;
  };
  /** Query string of the connect URL (`$connect` only). */
  readonly queryStringParameters?: Record<string, string | undefined> | null;
  /** The message (`MESSAGE` events). */
  readonly body?: string | null;
  /** True when `body` is base64 (a binary frame). */
  readonly isBase64Encoded?: boolean;
}

/**
 * What a WebSocket route of the Lambda proxy integration answers: the REST result's shape (a
 * non-2xx status on `$connect` refuses the connection with it; the body goes to the sender on
 * routes with a route response, and nowhere on the others).
 */
export type SocketResult = ProxyResult;

/** True for an event of a WebSocket API (it carries a connection id and an event type). */
export function isSocketEvent(event: unknown): event is SocketEvent {
  const ctx = (event as { requestContext?: Record<string, unknown> } | null)?.requestContext;
  return !!ctx && typeof ctx.connectionId === "string" && typeof ctx.routeKey === "string" && typeof ctx.eventType === "string";
}

/** What the dispatcher needs of a runtime (`Runtime` of ./runtime.ts). */
export interface SocketRuntime {
  /** The runtime's configuration (namespace, service, caller identity source, body limit). */
  readonly config: RuntimeConfig;
}

/** Per-event context handed to socket routes; `R` is the handler's `Runtime<Settings>`. */
export interface SocketContext<R extends SocketRuntime = SocketRuntime> {
  /** The container's runtime. */
  readonly rt: R;
  /** This event's metrics (one EMF line when it ends). */
  readonly metrics: RequestMetrics;
  /** The connection the event is about. */
  readonly connectionId: string;
  /** API Gateway's request id. */
  readonly requestId?: string;
  /**
   * The caller the authorizer verified on `$connect` (always set there). Later events carry it when
   * API Gateway passes the authorizer's context on; the connection map holds it either way.
   */
  readonly caller?: string;
  /** The message, parsed and checked against the route's schema (empty without a schema). */
  readonly body: Record<string, unknown>;
  /** The connection map and the push. */
  readonly realtime: Realtime;
}

/** One socket route's code; what it returns is sent to the sender on routes with `reply`. */
export type SocketRouteHandler<R extends SocketRuntime = SocketRuntime> = (event: SocketEvent, ctx: SocketContext<R>) => Promise<unknown>;

/** One function per route of a socket spec, by name. */
export type SocketHandlers<W extends SocketSpec, R extends SocketRuntime = SocketRuntime> = { readonly [K in SocketRouteName<W>]: SocketRouteHandler<R> };

/** A socket route with its code and compiled message check. */
export interface BoundSocketRoute<R extends SocketRuntime> {
  readonly spec: SocketRouteSpec;
  readonly handle: SocketRouteHandler<R>;
  readonly check?: (body: unknown) => string[];
}

/** The routes of `spec` bound to `handlers` (every route needs code, and no other name is accepted). */
export function bindSocketRoutes<R extends SocketRuntime>(contractName: string, spec: SocketSpec, handlers: Readonly<Record<string, SocketRouteHandler<R>>>): Map<string, BoundSocketRoute<R>> {
  const names = new Set(spec.routes.map((r) => r.name));
  const extra = Object.keys(handlers).filter((k) => !names.has(k));
  if (extra.length > 0) throw new Error(`handler of ${contractName}: no socket route ${extra.join(", ")} in its contract`);
  const bound = new Map<string, BoundSocketRoute<R>>();
  for (const r of spec.routes) {
    const handle = handlers[r.name];
    if (!handle) throw new Error(`handler of ${contractName}: socket route ${r.name} (${r.routeKey}) has no code`);
    bound.set(r.routeKey, { spec: r, handle, check: r.body ? compileSchema(r.body) : undefined });
  }
  return bound;
}

/** A message's JSON object, or a 400 naming what is wrong. */
function parseMessage(event: SocketEvent, maxBytes: number): Record<string, unknown> {
  const raw = event.body ?? "";
  const text = event.isBase64Encoded ? Buffer.from(raw, "base64").toString("utf8") : raw;
  if (Buffer.byteLength(text) > maxBytes) throw new HttpError(413, `message is ${Buffer.byteLength(text)} bytes; the limit is ${maxBytes}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new HttpError(400, "the message is not JSON");
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new HttpError(400, "the message must be a JSON object");
  return parsed as Record<string, unknown>;
}

/** The error message a reply route sends: `{ type: "error", status, error, details?, requestId? }`. */
function errorMessage(err: HttpError, requestId: string | undefined): string {
  return JSON.stringify({ type: "error", status: err.statusCode, error: err.message, ...(err.details !== undefined ? { details: err.details } : {}), ...(requestId ? { requestId } : {}) });
}

/**
 * Runs one WebSocket event: finds its route, checks the caller (`$connect`) and the message, runs
 * the route, flushes metrics, and maps every error by the runtime's error model.
 */
export async function handleSocketEvent<R extends SocketRuntime>(event: SocketEvent, routes: Map<string, BoundSocketRoute<R>>, rt: R, realtime: Realtime): Promise<SocketResult> {
  const { routeKey, connectionId, requestId } = event.requestContext;
  const metrics = new RequestMetrics(rt.config.metricsNamespace, rt.config.serviceName);
  const route = routes.get(routeKey) ?? routes.get(SOCKET_ROUTE.default);
  const reply = route?.spec.reply === true;
  try {
    if (!route) throw new HttpError(404, `no socket route ${routeKey}`);
    metrics.setRoute(socketRouteDimension(route.spec.routeKey));
    const caller = verifiedCaller(event as unknown as ProxyEvent, rt.config.callerIdentitySource);
    if (route.spec.routeKey === SOCKET_ROUTE.connect && !caller) throw new HttpError(401, "connecting needs a verified caller (a valid token)");
    let body: Record<string, unknown> = {};
    if (route.check) {
      body = parseMessage(event, rt.config.maxBodyBytes);
      const problems = route.check(body);
      if (problems.length > 0) throw new HttpError(400, "invalid message", {}, problems);
    }
    const out = await route.handle(event, { rt, metrics, connectionId, requestId, caller, body, realtime });
    return { statusCode: 200, headers: {}, body: reply && out !== undefined ? JSON.stringify(out) : "" };
  } catch (err) {
    const { error, bug } = classifyError(err);
    if (bug) log("error", "socket event failed", { requestId, routeKey, ...errorFields(err), stack: err instanceof Error ? err.stack : undefined });
    else if (error.statusCode >= 500) log("error", error.message, { requestId, routeKey, ...errorFields(err) });
    // A refused $connect refuses the upgrade with this status; a reply route's error goes back to its sender.
    return { statusCode: error.statusCode, headers: error.headers, body: errorMessage(error, requestId) };
  } finally {
    metrics.flush();
  }
}
