/**
 * The stack's API Gateway WebSocket API on the twin's port (`ws://127.0.0.1:<port>/ws/<stage>`),
 * on the `ws` library, with what API Gateway does around the integration:
 * - `$connect`: stage throttling (429), the authorizer (a REQUEST authorizer: a connect without its
 *   identity source is 401 with no invocation; "Unauthorized" 401, a Deny or no Allow 403, any other
 *   failure 500; an IAM route checks the upgrade's SigV4), then the `$connect` integration: a non-2xx
 *   answer refuses the upgrade with that status;
 * - messages: at most 128 KB, routed by the message's JSON field of the route selection expression
 *   (`$request.body.action`), else `$default` (no `$default`: "Forbidden"); per-route throttling; the
 *   integration's answer goes back to the sender on routes with a route response; a failed
 *   integration sends "Internal server error";
 * - `$disconnect` when the socket closes (either side), after 10 idle minutes, or after 2 hours;
 * - the management API the functions post to: `POST|GET|DELETE /ws/<stage>/@connections/{id}`,
 *   SigV4-signed for execute-api; a connection that is gone answers 410 GoneException.
 * The authorizer's context reaches every route of the connection as `requestContext.authorizer`.
 */
import { randomBytes, randomUUID } from "crypto";
import { SOCKET_ROUTE } from "../../functions/lib/contract";
import type { IncomingMessage, ServerResponse } from "http";
import type { Duplex } from "stream";
import { WebSocket, WebSocketServer } from "ws";
import { evaluatePolicy, TWIN_ROLE } from "./authorizers";
import { FunctionPool, InvokeOutcome } from "./functions";
import { TWIN_ACCOUNT } from "./local";
import { verifySigV4 } from "./sigv4";
import { SocketApiDef, SocketRouteDef } from "./socket-model";
import { TokenBucket } from "./throttle";

/** Where the twin serves the WebSocket API: `/ws/<stage>` (its REST API owns `/<stage>`). */
export const SOCKET_PATH_PREFIX = "/ws";
/** API Gateway's WebSocket quotas: message size, idle timeout, connection duration. */
export const WEBSOCKET_LIMITS = { maxMessageBytes: 128 * 1024, idleMs: 10 * 60_000, maxDurationMs: 2 * 3600_000 } as const;

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 409: "Conflict", 429: "Too Many Requests",
  500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
};

interface Connection {
  readonly id: string;
  readonly ws: WebSocket;
  readonly connectedAt: number;
  lastActiveAt: number;
  readonly sourceIp: string;
  readonly userAgent: string;
  readonly domainName: string;
  /** `requestContext.authorizer` of every event of the connection. */
  readonly authorizer?: Record<string, unknown>;
  /** Fields of `requestContext.identity` a signed connect sets. */
  readonly identity: Record<string, unknown>;
  idleTimer?: NodeJS.Timeout;
  readonly maxTimer: NodeJS.Timeout;
  closedByApi?: { code: number; reason: string };
}

export interface SocketGatewayOptions {
  readonly api: SocketApiDef;
  /** Function pools by the logical id of their aws_lambda_function. */
  readonly pools: ReadonlyMap<string, FunctionPool>;
  readonly region: string;
  /** Apply the stage's default route throttling. */
  readonly throttle: boolean;
  /** One line per event (access log); absent: quiet. */
  readonly accessLog?: (line: string) => void;
  /** Detail lines (function failures). */
  readonly note: (line: string) => void;
  /** Clock. @default Date.now */
  readonly now?: () => number;
}

/** An API Gateway-style connection id: 16 characters of base64, e.g. `L0SM9cOFvHcCIhw=`. */
function newConnectionId(): string {
  return randomBytes(11).toString("base64");
}

function headersOf(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) out[req.rawHeaders[i]] = req.rawHeaders[i + 1];
  return out;
}

function queryOf(search: URLSearchParams): Record<string, string> | null {
  const q: Record<string, string> = {};
  for (const [k, v] of search) q[k] = v;
  return Object.keys(q).length > 0 ? q : null;
}

export class SocketGateway {
  /** False until the twin is ready: connects get 503 meanwhile. */
  ready = false;
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: WEBSOCKET_LIMITS.maxMessageBytes, perMessageDeflate: false });
  private readonly conns = new Map<string, Connection>();
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly now: () => number;

  constructor(private readonly o: SocketGatewayOptions) {
    this.now = o.now ?? Date.now;
  }

  /** `/ws/<stage>`: the path clients connect to. */
  get path(): string {
    return `${SOCKET_PATH_PREFIX}/${this.o.api.stageName}`;
  }

  /** Routes, sorted (for the start banner). */
  routes(): SocketRouteDef[] {
    return [...this.o.api.routes.values()].sort((a, b) => a.routeKey.localeCompare(b.routeKey));
  }

  private throttled(routeKey: string): boolean {
    if (!this.o.throttle) return false;
    let b = this.buckets.get(routeKey);
    if (!b) this.buckets.set(routeKey, (b = new TokenBucket(this.o.api.throttle.rate, this.o.api.throttle.burst)));
    return !b.take();
  }

  private requestContext(c: Pick<Connection, "id" | "connectedAt" | "sourceIp" | "userAgent" | "domainName" | "authorizer" | "identity">, routeKey: string, eventType: string, requestId: string): Record<string, unknown> {
    const t = this.now();
    return {
      routeKey,
      eventType,
      extendedRequestId: randomBytes(8).toString("base64url"),
      requestTime: new Date(t).toUTCString(),
      messageDirection: "IN",
      stage: this.o.api.stageName,
      connectedAt: c.connectedAt,
      requestTimeEpoch: t,
      identity: { sourceIp: c.sourceIp, userAgent: c.userAgent, ...c.identity },
      requestId,
      domainName: c.domainName,
      connectionId: c.id,
      apiId: "twin-ws",
      ...(c.authorizer ? { authorizer: { ...c.authorizer, integrationLatency: 0 } } : {}),
    };
  }

  private async invoke(route: SocketRouteDef | undefined, event: Record<string, unknown>, requestId: string): Promise<InvokeOutcome | undefined> {
    const pool = route?.functionLogicalId ? this.o.pools.get(route.functionLogicalId) : undefined;
    if (!pool) return undefined;
    const outcome = await pool.invoke(event, requestId);
    if (outcome.kind !== "ok") {
      const why = outcome.kind === "error" ? `${outcome.error.errorType}: ${outcome.error.errorMessage}` : outcome.kind === "timeout" ? `timed out after ${outcome.afterMs} ms` : outcome.detail;
      this.o.note(`${pool.fn.name} (${route!.routeKey}): ${why}`);
    }
    return outcome;
  }

  /** Handles an upgrade request; false when its path is not the WebSocket stage's (the caller answers it). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = new URL(req.url ?? "/", "http://twin");
    if (url.pathname !== this.path && url.pathname !== `${this.path}/`) return false;
    socket.on("error", () => undefined);
    this.connect(req, socket, head, url).catch((err: unknown) => {
      this.o.note(`twin error on $connect: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
      this.refuse(socket, 500, "Internal server error");
    });
    return true;
  }

  private refuse(socket: Duplex, status: number, message: string, started?: number): void {
    const body = JSON.stringify({ message });
    if (!socket.destroyed) {
      socket.end(`HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? "Error"}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    }
    this.o.accessLog?.(`WS $connect → ${status} (${message})${started === undefined ? "" : ` ${Math.round(performance.now() - started)} ms`}`);
  }

  private async connect(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): Promise<void> {
    const started = performance.now();
    if (!this.ready) return this.refuse(socket, 503, "The local twin is starting");
    const route = this.o.api.routes.get(SOCKET_ROUTE.connect);
    if (this.throttled(SOCKET_ROUTE.connect)) return this.refuse(socket, 429, "Too Many Requests", started);
    const requestId = randomUUID();
    const headers = headersOf(req);
    const query = queryOf(url.searchParams);
    const base = {
      id: newConnectionId(),
      connectedAt: this.now(),
      sourceIp: req.socket.remoteAddress ?? "127.0.0.1",
      userAgent: String(req.headers["user-agent"] ?? ""),
      domainName: String(req.headers.host ?? "127.0.0.1"),
    };
    let authorizer: Record<string, unknown> | undefined;
    let identity: Record<string, unknown> = {};
    if (route?.authorizationType === "CUSTOM") {
      const a = route.authorizer;
      const sources = a?.identitySources ?? [];
      const present = (src: string) => {
        const q = /^route\.request\.querystring\.(.+)$/.exec(src)?.[1];
        const h = /^route\.request\.header\.(.+)$/.exec(src)?.[1];
        return q ? !!url.searchParams.get(q) : h ? !!req.headers[h.toLowerCase()] : false;
      };
      // API Gateway refuses a connect without its identity sources before invoking the authorizer.
      if (!a || sources.length === 0 || !sources.every(present)) return this.refuse(socket, 401, "Unauthorized", started);
      const pool = a.functionLogicalId ? this.o.pools.get(a.functionLogicalId) : undefined;
      if (!pool) return this.refuse(socket, 500, "Internal server error", started);
      const methodArn = `arn:aws:execute-api:${this.o.region}:${TWIN_ACCOUNT}:twin-ws/${this.o.api.stageName}/$connect`;
      const outcome = await pool.invoke({
        type: "REQUEST", methodArn, headers, queryStringParameters: query, stageVariables: {},
        requestContext: this.requestContext({ ...base, identity: {} }, SOCKET_ROUTE.connect, "CONNECT", requestId),
      }, `twin-authorizer-${requestId}`);
      if (outcome.kind === "error" && outcome.error.errorMessage === "Unauthorized") return this.refuse(socket, 401, "Unauthorized", started);
      if (outcome.kind !== "ok") {
        this.o.note(`authorizer ${pool.fn.name} failed (${outcome.kind === "error" ? `${outcome.error.errorType}: ${outcome.error.errorMessage}` : outcome.kind}) → 500`);
        return this.refuse(socket, 500, "Internal server error", started);
      }
      const r = outcome.result as { principalId?: unknown; policyDocument?: unknown; context?: Record<string, unknown> } | null;
      if (!r || typeof r.principalId !== "string" || !r.policyDocument) return this.refuse(socket, 500, "Internal server error", started);
      const verdict = evaluatePolicy(r.policyDocument, methodArn);
      if (verdict !== "allow") return this.refuse(socket, 403, "Forbidden", started);
      authorizer = { ...(r.context ?? {}), principalId: r.principalId };
    } else if (route?.authorizationType === "AWS_IAM") {
      const q = (req.url ?? "").indexOf("?");
      const signed = await verifySigV4({ method: req.method ?? "GET", path: url.pathname, query: q < 0 ? "" : (req.url ?? "").slice(q + 1), headers: req.headers, body: Buffer.alloc(0) }, this.now());
      if (!signed.ok) return this.refuse(socket, 403, "Forbidden", started);
      identity = { userArn: TWIN_ROLE.arn, caller: TWIN_ROLE.caller, user: TWIN_ROLE.caller, accountId: TWIN_ACCOUNT, accessKey: signed.accessKeyId };
    } else if (route && route.authorizationType !== "NONE") {
      return this.refuse(socket, 401, "Unauthorized", started);
    }

    const ctx = { ...base, authorizer, identity };
    if (route) {
      const outcome = await this.invoke(route, {
        headers, multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
        queryStringParameters: query,
        multiValueQueryStringParameters: query && Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v]])),
        requestContext: this.requestContext(ctx, SOCKET_ROUTE.connect, "CONNECT", requestId),
        isBase64Encoded: false,
      }, requestId);
      if (!outcome || outcome.kind !== "ok") return this.refuse(socket, 500, "Internal server error", started);
      const status = Number((outcome.result as { statusCode?: unknown } | null)?.statusCode ?? 200);
      if (!(status >= 200 && status < 300)) {
        let message = STATUS_TEXT[status] ?? "Forbidden";
        try {
          message = String(JSON.parse(String((outcome.result as { body?: unknown }).body)).error ?? message);
        } catch {
          /* the status alone */
        }
        return this.refuse(socket, status, message, started);
      }
    }
    if (socket.destroyed) return this.disconnected(ctx, 1006, "client left during $connect");
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, ctx));
    this.o.accessLog?.(`WS $connect ${ctx.id} → 101 ${Math.round(performance.now() - started)} ms`);
  }

  private accept(ws: WebSocket, ctx: Omit<Connection, "ws" | "lastActiveAt" | "maxTimer">): void {
    const conn: Connection = {
      ...ctx,
      ws,
      lastActiveAt: this.now(),
      maxTimer: setTimeout(() => this.closeByApi(conn, 1001, "Going away"), WEBSOCKET_LIMITS.maxDurationMs),
    };
    conn.maxTimer.unref();
    this.touch(conn);
    this.conns.set(conn.id, conn);
    ws.on("message", (data, isBinary) => {
      this.touch(conn);
      this.message(conn, Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]), isBinary).catch((err: unknown) =>
        this.o.note(`twin error on a message: ${err instanceof Error ? err.stack ?? err.message : String(err)}`));
    });
    ws.on("error", () => undefined);
    ws.on("close", (code, reason) => {
      clearTimeout(conn.maxTimer);
      if (conn.idleTimer) clearTimeout(conn.idleTimer);
      this.conns.delete(conn.id);
      const by = conn.closedByApi;
      this.disconnected(conn, by?.code ?? code, by?.reason ?? reason.toString("utf8"));
    });
  }

  private touch(conn: Connection): void {
    conn.lastActiveAt = this.now();
    if (conn.idleTimer) clearTimeout(conn.idleTimer);
    conn.idleTimer = setTimeout(() => this.closeByApi(conn, 1001, "Going away"), WEBSOCKET_LIMITS.idleMs);
    conn.idleTimer.unref();
  }

  private closeByApi(conn: Connection, code: number, reason: string): void {
    conn.closedByApi = { code, reason };
    conn.ws.close(code, reason);
  }

  private disconnected(c: Omit<Connection, "ws" | "lastActiveAt" | "maxTimer">, code: number, reason: string): void {
    const route = this.o.api.routes.get(SOCKET_ROUTE.disconnect);
    if (!route) return;
    const requestId = randomUUID();
    const event = { requestContext: { ...this.requestContext(c, SOCKET_ROUTE.disconnect, "DISCONNECT", requestId), disconnectStatusCode: code, disconnectReason: reason }, isBase64Encoded: false };
    this.invoke(route, event, requestId).then(
      (o) => this.o.accessLog?.(`WS $disconnect ${c.id} (${code}) → ${o?.kind ?? "no integration"}`),
      () => undefined,
    );
  }

  private send(conn: Connection, body: Record<string, unknown>): void {
    if (conn.ws.readyState === WebSocket.OPEN) conn.ws.send(JSON.stringify(body));
  }

  private async message(conn: Connection, data: Buffer, isBinary: boolean): Promise<void> {
    const started = performance.now();
    const requestId = randomUUID();
    let key: string = SOCKET_ROUTE.default;
    if (!isBinary) {
      try {
        const v = (JSON.parse(data.toString("utf8")) as Record<string, unknown> | null)?.[this.o.api.actionField];
        if (typeof v === "string" && !v.startsWith("$") && this.o.api.routes.has(v)) key = v;
      } catch {
        /* not JSON: $default */
      }
    }
    const route = this.o.api.routes.get(key);
    if (!route) return this.send(conn, { message: "Forbidden", connectionId: conn.id, requestId });
    if (this.throttled(route.routeKey)) return this.send(conn, { message: "Too Many Requests", connectionId: conn.id, requestId });
    const outcome = await this.invoke(route, {
      requestContext: { ...this.requestContext(conn, route.routeKey, "MESSAGE", requestId), messageId: randomBytes(8).toString("base64url") },
      body: isBinary ? data.toString("base64") : data.toString("utf8"),
      isBase64Encoded: isBinary,
    }, requestId);
    const ms = Math.round(performance.now() - started);
    if (!outcome || outcome.kind !== "ok") {
      this.o.accessLog?.(`WS ${route.routeKey} ${conn.id} → integration failed ${ms} ms`);
      return this.send(conn, { message: "Internal server error", connectionId: conn.id, requestId });
    }
    const r = outcome.result as { statusCode?: unknown; body?: unknown } | null;
    this.o.accessLog?.(`WS ${route.routeKey} ${conn.id} → ${String(r?.statusCode ?? 200)} ${ms} ms`);
    if (route.reply && r && r.body !== undefined && r.body !== null && conn.ws.readyState === WebSocket.OPEN) conn.ws.send(String(r.body));
  }

  /**
   * The management API: `/ws/<stage>/@connections/{id}` (`@` may be percent-encoded). False when the
   * path is not the management API's (the caller answers it).
   */
  handleHttp(req: IncomingMessage, res: ServerResponse): boolean {
    const raw = req.url ?? "/";
    const q = raw.indexOf("?");
    const rawPath = q < 0 ? raw : raw.slice(0, q);
    const prefix = `${this.path}/`;
    if (!rawPath.startsWith(prefix)) return false;
    const rest = rawPath.slice(prefix.length).split("/");
    if (rest.length !== 2 || decodeURIComponent(rest[0]) !== "@connections") return false;
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("error", () => undefined);
    req.on("end", () => {
      this.manage(req, rawPath, q < 0 ? "" : raw.slice(q + 1), decodeURIComponent(rest[1]), Buffer.concat(chunks))
        .catch(() => ({ status: 500, type: "InternalServerErrorException", body: { message: "Internal server error" } }))
        .then((r) => {
          const text = r.body === undefined ? "" : JSON.stringify(r.body);
          res.writeHead(r.status, { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)), ...(r.type ? { "x-amzn-errortype": r.type } : {}) });
          res.end(text);
          this.o.accessLog?.(`${req.method} ${rawPath} → ${r.status}${r.type ? ` (${r.type})` : ""}`);
        });
    });
    return true;
  }

  private async manage(req: IncomingMessage, path: string, query: string, id: string, body: Buffer): Promise<{ status: number; type?: string; body?: unknown }> {
    const signed = await verifySigV4({ method: req.method ?? "GET", path, query, headers: req.headers, body }, this.now());
    if (!signed.ok) return { status: 403, type: "ForbiddenException", body: { message: signed.message ?? "Forbidden" } };
    if (signed.service !== "execute-api") return { status: 403, type: "ForbiddenException", body: { message: `Credential should be scoped to correct service: 'execute-api', not '${signed.service}'` } };
    const conn = this.conns.get(id);
    const gone = { status: 410, type: "GoneException", body: { message: `connection ${id} is gone` } };
    switch (req.method) {
      case "POST":
        if (body.length > WEBSOCKET_LIMITS.maxMessageBytes) return { status: 413, type: "PayloadTooLargeException", body: { message: "Message too long" } };
        if (!conn || conn.ws.readyState !== WebSocket.OPEN) return gone;
        conn.ws.send(body.toString("utf8"));
        conn.lastActiveAt = this.now();
        return { status: 200 };
      case "GET":
        if (!conn) return gone;
        return { status: 200, body: { ConnectedAt: new Date(conn.connectedAt).toISOString(), Identity: { SourceIp: conn.sourceIp, UserAgent: conn.userAgent }, LastActiveAt: new Date(conn.lastActiveAt).toISOString() } };
      case "DELETE":
        if (!conn) return gone;
        this.closeByApi(conn, 1000, "");
        return { status: 204 };
      default:
        return { status: 403, type: "ForbiddenException", body: { message: "Forbidden" } };
    }
  }

  /** Closes every connection (their `$disconnect` runs only while the pools are up). */
  async close(): Promise<void> {
    this.ready = false;
    for (const c of this.conns.values()) c.ws.terminate();
    await new Promise<void>((r) => this.wss.close(() => r()));
  }
}
