/** API Gateway REST proxy (payload v1) types, JSON responses and a small router. */

/** The fields of an API Gateway REST proxy event (payload 1.0) the runtime reads. */
export interface ProxyEvent {
  /** HTTP method, e.g. `GET`. */
  readonly httpMethod: string;
  /** Request path below the stage, e.g. `/products/p1`. */
  readonly path: string;
  /** The matched resource template, e.g. `/products/{productId}`. */
  readonly resource?: string;
  /** Path parameters of the matched resource, not yet percent-decoded. */
  readonly pathParameters?: Record<string, string | undefined> | null;
  /** Query string parameters, decoded. */
  readonly queryStringParameters?: Record<string, string | undefined> | null;
  /** Request headers as sent (use {@link header} for a case-insensitive lookup). */
  readonly headers?: Record<string, string | undefined> | null;
  /** Request body: text, or base64 when `isBase64Encoded`. */
  readonly body?: string | null;
  /** True when `body` is base64 (binary media types). */
  readonly isBase64Encoded?: boolean;
  /** Request context; the runtime reads `requestId`. */
  readonly requestContext?: { readonly requestId?: string; readonly stage?: string; readonly [k: string]: unknown };
}

/** A Lambda proxy integration response. */
export interface ProxyResult {
  /** HTTP status code. */
  statusCode: number;
  /** Response headers. */
  headers: Record<string, string>;
  /** Response body (JSON text for every route here). */
  body: string;
}

/** An error that becomes a 4xx/5xx JSON response with this status and message. */
export class HttpError extends Error {
  constructor(
    /** HTTP status of the response. */
    public readonly statusCode: number,
    message: string,
    /** Extra response headers, e.g. `retry-after`. */
    public readonly headers: Record<string, string> = {},
    /** Extra detail for the body's `details` field, e.g. the list of invalid fields. */
    public readonly details?: unknown,
  ) {
    super(message);
    this.name = "HttpError";
  }
}

/** A JSON response: `body` serialized, `content-type: application/json; charset=utf-8` plus `headers`. */
export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): ProxyResult {
  return {
    statusCode,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
    body: JSON.stringify(body),
  };
}

/** A JSON response from text that is already JSON (a cache hit's entry), with no re-encoding. */
export function jsonText(statusCode: number, body: string, headers: Record<string, string> = {}): ProxyResult {
  return { statusCode, headers: { "content-type": "application/json; charset=utf-8", ...headers }, body };
}

/** The JSON error response of an {@link HttpError}: `{ error, details?, requestId? }` with its status and headers. */
export function errorResult(err: HttpError, requestId?: string): ProxyResult {
  return json(
    err.statusCode,
    { error: err.message, ...(err.details !== undefined ? { details: err.details } : {}), ...(requestId ? { requestId } : {}) },
    err.headers,
  );
}

/** A route: method + resource template, e.g. `GET /products/{productId}`. */
export interface Route<C> {
  /** HTTP method, e.g. `GET`. */
  readonly method: string;
  /** Resource template exactly as the API declares it, e.g. `/products/{productId}`. */
  readonly path: string;
  /** Answers the request; `params` holds the decoded path parameters, `ctx` the request context. */
  readonly handle: (event: ProxyEvent, params: Record<string, string>, ctx: C) => Promise<ProxyResult>;
}

interface Compiled<C> extends Route<C> {
  readonly re: RegExp;
  readonly names: string[];
}

/**
 * Matches events to routes by the resource template API Gateway sends (or, for the local
 * twin and tests, by the concrete path). Unknown path → 404, known path with another
 * method → 405 with Allow.
 */
export class Router<C> {
  private readonly routes: Compiled<C>[];

  constructor(routes: readonly Route<C>[]) {
    this.routes = routes.map((r) => {
      const names: string[] = [];
      const pattern = r.path
        .split("/")
        .map((seg) => {
          const m = /^\{([A-Za-z0-9_]+)\+?\}$/.exec(seg);
          if (!m) return seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
          names.push(m[1]);
          return "([^/]*)";
        })
        .join("/");
      return { ...r, re: new RegExp(`^${pattern}/?$`), names };
    });
  }

  /** The route and its path parameters, or an HttpError (404/405). */
  match(event: ProxyEvent): { route: Route<C>; params: Record<string, string> } {
    const method = (event.httpMethod ?? "").toUpperCase();
    const byResource = event.resource ? this.routes.filter((r) => r.path === event.resource) : [];
    const candidates = byResource.length > 0 ? byResource : this.routes.filter((r) => r.re.test(event.path ?? ""));
    if (candidates.length === 0) throw new HttpError(404, `no route for ${method} ${event.path}`);
    const route = candidates.find((r) => r.method === method);
    if (!route) {
      const allow = [...new Set(candidates.map((r) => r.method))].join(", ");
      throw new HttpError(405, `method ${method} not allowed on ${event.resource ?? event.path}`, { allow });
    }
    const params: Record<string, string> = {};
    const fromEvent = event.pathParameters ?? {};
    const m = route.re.exec(event.path ?? "");
    route.names.forEach((name, i) => {
      const raw = fromEvent[name] ?? (m ? m[i + 1] : undefined);
      if (raw !== undefined) params[name] = safeDecode(raw);
    });
    return { route, params };
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new HttpError(400, "path parameter is not valid percent-encoding");
  }
}

/** Case-insensitive header lookup. */
export function header(event: ProxyEvent, name: string): string | undefined {
  const headers = event.headers ?? {};
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === lower) return v ?? undefined;
  return undefined;
}
