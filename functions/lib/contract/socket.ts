/**
 * The WebSocket part of a contract: the routes a function serves on an API Gateway WebSocket API,
 * written once and read by the handler's dispatcher, `WebSocketApi` (routes, route responses,
 * route selection) and the local twin:
 *
 *   socket: defineSocket({
 *     actionField: "action", connectQuery: { sessionId: "the session whose turns the socket receives" },
 *     routes: [
 *       { name: "connect", routeKey: SOCKET_ROUTE.connect, summary: "…" },
 *       { name: "sendTurn", routeKey: "sendTurn", summary: "…", body: TURN_MESSAGE_SCHEMA, reply: true },
 *     ],
 *   }),
 *
 * A message selects its route by the JSON field `actionField` (`{"action":"sendTurn",…}`); a message
 * whose action names no route (or that is not JSON) goes to `$default`. Only `$connect` is authorized:
 * API Gateway runs the authorizer once, when the socket opens.
 */
import type { SocketRouteName, SocketRouteSpec, SocketSpec } from "./language";

/**
 * The cache backends (`CACHE_BACKEND`) that can hold a connection map (functions/lib/realtime): it
 * updates several sorted sets in one atomic step, which Redis does with a Lua script and the
 * in-process memory store trivially; DynamoDB and Memcached cannot, and `WebSocketApi` refuses them.
 */
export const CONNECTION_MAP_BACKENDS: readonly string[] = ["redis", "memory"];

/** API Gateway's predefined WebSocket route keys. */
export const SOCKET_ROUTE = { connect: "$connect", disconnect: "$disconnect", default: "$default" } as const;

/** What a custom route key (an action value) may look like. */
export const ACTION_RE = /^[A-Za-z][A-Za-z0-9_-]{0,127}$/;

/** API Gateway's route selection expression of `spec`: `$request.body.<actionField>`. */
export function routeSelectionExpression(spec: Pick<SocketSpec, "actionField">): string {
  return `$request.body.${spec.actionField}`;
}

/** The `Route` metric dimension of a WebSocket route: `WS <route key>`, e.g. `WS sendTurn`. */
export function socketRouteDimension(routeKey: string): string {
  return `WS ${routeKey}`;
}

/** The route of `spec` named `name` (a typo fails to compile). */
export function socketRouteOf<S extends SocketSpec>(spec: S, name: SocketRouteName<S>): S["routes"][number] {
  const r = spec.routes.find((x) => x.name === name);
  if (!r) throw new Error(`socket spec has no route ${String(name)}`);
  return r;
}

/** Declares a socket spec (keeps its literal route names) after checking it. */
export function defineSocket<const R extends readonly SocketRouteSpec[]>(spec: SocketSpec & { readonly routes: R }): SocketSpec & { readonly routes: R } {
  const problems: string[] = [];
  if (!/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(spec.actionField)) problems.push(`actionField ${JSON.stringify(spec.actionField)}: a JSON field name`);
  const names = new Set<string>();
  const keys = new Set<string>();
  const predefined: readonly string[] = Object.values(SOCKET_ROUTE);
  for (const r of spec.routes) {
    if (names.has(r.name)) problems.push(`route name ${r.name} twice`);
    if (keys.has(r.routeKey)) problems.push(`route key ${r.routeKey} twice`);
    names.add(r.name);
    keys.add(r.routeKey);
    if (!predefined.includes(r.routeKey) && !ACTION_RE.test(r.routeKey)) {
      problems.push(`route key ${JSON.stringify(r.routeKey)}: ${predefined.join(", ")} or an action of letters, digits, '_', '-'`);
    }
    if ((r.routeKey === SOCKET_ROUTE.connect || r.routeKey === SOCKET_ROUTE.disconnect) && (r.body || r.reply)) {
      problems.push(`route ${r.routeKey}: carries no message and answers nothing (no body, no reply)`);
    }
  }
  // Authorization happens on $connect only: without it, any client could open a socket.
  if (!keys.has(SOCKET_ROUTE.connect)) problems.push(`no ${SOCKET_ROUTE.connect} route: the connection could not be authorized`);
  for (const q of Object.keys(spec.connectQuery)) {
    if (!/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(q)) problems.push(`connectQuery ${JSON.stringify(q)}: a query parameter name`);
  }
  if (problems.length > 0) throw new Error(`socket spec: ${problems.join("; ")}`);
  return spec;
}

/** What the pusher (functions/pusher) is invoked with by a function that pushes to its connections. */
export interface PushRequest {
  /** The connections to post to. */
  readonly connectionIds: readonly string[];
  /** The message, as the client receives it (JSON text). */
  readonly data: string;
}

/** What the pusher answers: every connection of the request in exactly one list. */
export interface PushResult {
  /** Posted. */
  readonly delivered: readonly string[];
  /** 410 Gone: the client is not connected any more; the caller prunes them from its map. */
  readonly gone: readonly string[];
  /** Any other failure (throttled, timed out, refused): the caller counts them. */
  readonly failed: readonly string[];
}

/** Most connections one invocation posts to (a session with more is pushed in several invocations). */
export const MAX_CONNECTIONS_PER_PUSH = 100;
