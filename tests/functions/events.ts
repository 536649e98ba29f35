import type { ProxyEvent } from "../../functions/lib/http";

/** An API Gateway REST proxy (v1) event for `method path`, with the resource template. */
export function apiEvent(
  method: string,
  path: string,
  opts: {
    resource?: string;
    pathParameters?: Record<string, string>;
    query?: Record<string, string>;
    body?: unknown;
    rawBody?: string;
    headers?: Record<string, string>;
    /** The verified caller, as a Lambda authorizer hands it over (`requestContext.authorizer.principalId`). */
    caller?: string;
  } = {},
): ProxyEvent {
  const body = opts.rawBody ?? (opts.body === undefined ? null : JSON.stringify(opts.body));
  return {
    httpMethod: method,
    path,
    resource: opts.resource,
    pathParameters: opts.pathParameters ?? null,
    queryStringParameters: opts.query ?? null,
    headers: { "content-type": "application/json", ...(opts.headers ?? {}) },
    body,
    isBase64Encoded: false,
    requestContext: {
      requestId: `req-${Math.random().toString(36).slice(2)}`,
      stage: "test",
      ...(opts.caller !== undefined ? { authorizer: { principalId: opts.caller } } : {}),
    },
  };
}

/** The verified caller of the product tests' writes. */
export const EDITOR = "editor-1";

export const product = (id: string, extra: Record<string, unknown> = {}) =>
  apiEvent("PUT", `/products/${id}`, {
    resource: "/products/{productId}",
    pathParameters: { productId: id },
    body: { name: `Product ${id}`, price: 10, ...extra },
    caller: EDITOR,
  });

export const getProduct = (id: string) =>
  apiEvent("GET", `/products/${encodeURIComponent(id)}`, { resource: "/products/{productId}", pathParameters: { productId: id } });

export const deleteProduct = (id: string) =>
  apiEvent("DELETE", `/products/${id}`, { resource: "/products/{productId}", pathParameters: { productId: id }, caller: EDITOR });

/** Collects the EMF lines the runtime writes. */
export function parseEmf(lines: string[]): Array<Record<string, any>> {
  return lines.map((l) => JSON.parse(l));
}
