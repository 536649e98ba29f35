/** API Gateway REST proxy (payload v1) types, JSON responses and a small router. */

export interface ProxyEvent {
  readonly httpMethod: string;
  readonly path: string;
  /** The matched resource template, e.g. `/products/{productId}`. */
  readonly resource?: string;
  readonly pathParameters?: Record<string, string | undefined> | null;
  readonly queryStringParameters?: Record<string, string | undefined> | null;
  readonly headers?: Record<string, string | undefined> | null;
  readonly body?: string | null;
  readonly isBase64Encoded?: boolean;
  readonly requestContext?: { readonly requestId?: string; readonly stage?: string; readonly [k: string]: unknown };
}

export interface ProxyResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** An error that becomes a 4xx/5xx JSON response with this status and message. */
export class HttpError extends Error {
  constructor(
    public readonly statusCode: number,
    message: string,
    public readonly headers: Record<string, string> = {},
    public readonly details?: unknown,
  ) {
    super(message);
    this.name = "HttpError";
  }
}

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): ProxyResult {
  return {
    statusCode,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
    body: JSON.stringify(body),
  };
}

export function errorResult(err: HttpError, requestId?: string): ProxyResult {
  return json(
    err.statusCode,
    { error: err.message, ...(err.details !== undefined ? { details: err.details } : {}), ...(requestId ? { requestId } : {}) },
    err.headers,
  );
}

/** A route: method + resource template, e.g. `GET /products/{productId}`. */
export interface Route<C> {
  readonly method: string;
  readonly path: string;
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
