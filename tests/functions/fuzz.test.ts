/**
 * Property-based: no client-side input makes a handler answer 5xx. Arbitrary JSON bodies (any
 * depth up to far beyond DynamoDB's, numbers of any magnitude, any keys), arbitrary ids, query
 * strings, content types and paths are sent to the real product and session handlers, against a
 * real redis-server and dynalite behind the proxy that enforces DynamoDB's limits. Every answer must
 * be a 2xx–4xx with a JSON body. fast-check shrinks a failure to its smallest input.
 */
import fc from "fast-check";
import type { ProxyEvent } from "../../functions/lib/http";
import { createHandler as productsHandler } from "../../functions/products/handler";
import { createHandler as sessionsHandler } from "../../functions/sessions/handler";
import { apiEvent, EDITOR } from "./events";
import { handlerEnv, PRODUCTS_TABLE, SESSIONS_TABLE } from "./handler-env";

jest.setTimeout(60_000);

const env = handlerEnv({ service: "fuzz", table: PRODUCTS_TABLE });
beforeAll(async () => {
  await env.dyn.createTable(SESSIONS_TABLE);
});

/** Numbers at every scale, with the edges DynamoDB and doubles care about. */
const anyNumber = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(1e16, 1e308, -1e20, 2 ** 53 + 1, 1e-200, 5e-324, -0, Number.MAX_SAFE_INTEGER, 1e125, 9.9e125, 1e126),
);
/** JSON values whose numbers span every scale. */
const { json } = fc.letrec((tie) => ({
  json: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constant(null), fc.boolean(), anyNumber, fc.string({ unit: "binary", maxLength: 40 }),
    fc.array(tie("json"), { maxLength: 4 }),
    fc.dictionary(fc.string({ unit: "binary", maxLength: 12 }), tie("json"), { maxKeys: 4 }),
  ),
}));
/** A value nested `depth` lists or maps deep. */
const deep = fc.tuple(fc.integer({ min: 0, max: 3_000 }), fc.boolean()).map(([depth, maps]) => {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = maps ? { k: v } : [v];
  return v;
});
const fieldValue = fc.oneof(json, deep);
/** Mostly `valid`, sometimes anything: inputs must reach the table as well as the validators. */
const mostly = <T, U>(valid: fc.Arbitrary<T>, other: fc.Arbitrary<U>): fc.Arbitrary<T | U> =>
  fc.oneof({ arbitrary: valid, weight: 4 }, { arbitrary: other, weight: 1 });
/** Ids: a few reused ones (so reads find writes), valid ones, arbitrary text, and shapes that once caused trouble. */
const anyId = fc.oneof(
  { arbitrary: fc.constantFrom("p1", "p2", "s-1", "s-2"), weight: 4 },
  { arbitrary: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/), weight: 2 },
  { arbitrary: fc.string({ unit: "binary", maxLength: 200 }), weight: 1 },
  { arbitrary: fc.constantFrom("", "%", "%E0%A4%A", "a/b", "a#b", "x".repeat(300), "..", "SESSION#x"), weight: 1 },
);
const fieldName: fc.Arbitrary<string> = mostly(fc.stringMatching(/^[A-Za-z][A-Za-z0-9_]{0,10}$/), fc.string({ unit: "binary", maxLength: 70 }));
/** Bodies: near-valid objects with arbitrary extra fields, arbitrary JSON, and text that is not JSON. */
const body = (known: Record<string, fc.Arbitrary<unknown>>, extraKeys: number) =>
  fc.oneof(
    { arbitrary: fc.record({ ...known, extra: fc.dictionary(fieldName, fieldValue, { maxKeys: extraKeys }) })
      .map(({ extra, ...rest }) => JSON.stringify({ ...rest, ...extra })), weight: 6 },
    { arbitrary: json.map((v) => JSON.stringify(v)), weight: 1 },
    { arbitrary: fc.string({ unit: "binary", maxLength: 100 }), weight: 1 },
  );
const contentType: fc.Arbitrary<string> = mostly(fc.constant("application/json"), fc.constantFrom("application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded", ""));

const productEvent: fc.Arbitrary<ProxyEvent> = fc.oneof(
  fc.record({ id: anyId }).map(({ id }) =>
    apiEvent("GET", `/products/${encodeURIComponent(id)}`, { resource: "/products/{productId}", pathParameters: { productId: id } })),
  fc.record({ id: anyId }).map(({ id }) =>
    apiEvent("DELETE", `/products/${encodeURIComponent(id)}`, { resource: "/products/{productId}", pathParameters: { productId: id }, caller: EDITOR })),
  fc.record({
    id: anyId,
    raw: body({ name: mostly(fc.string({ minLength: 1, maxLength: 50 }), fc.oneof(fc.string({ maxLength: 210 }), json)),
      price: mostly(fc.double({ min: 0, max: 1e6, noNaN: true }), fc.oneof(anyNumber, json)) }, 4),
    ct: contentType,
  }).map(({ id, raw, ct }) =>
    apiEvent("PUT", `/products/${encodeURIComponent(id)}`, { resource: "/products/{productId}", pathParameters: { productId: id }, rawBody: raw, headers: { "content-type": ct }, caller: EDITOR })),
  fc.record({ method: fc.constantFrom("GET", "PUT", "POST", "PATCH", "DELETE", "OPTIONS", "HEAD"), path: fc.string({ maxLength: 60 }) })
    .map(({ method, path }) => apiEvent(method, `/${path}`)),
);

const sessionEvent: fc.Arbitrary<ProxyEvent> = fc.oneof(
  fc.record({ id: anyId, consistent: fc.option(fc.string({ maxLength: 8 })), caller: fc.option(fc.constantFrom("cust-a", "cust-b")) }).map(({ id, consistent, caller }) =>
    apiEvent("GET", `/sessions/${encodeURIComponent(id)}`, {
      resource: "/sessions/{sessionId}", pathParameters: { sessionId: id }, query: consistent === null ? undefined : { consistent }, caller: caller ?? undefined,
    })),
  fc.record({
    id: anyId,
    raw: body({
      role: mostly(fc.constantFrom("user", "assistant", "system"), json),
      content: mostly(fc.string({ minLength: 1, maxLength: 60 }), json),
      contentEncoding: mostly(fc.constant("identity"), fc.oneof(fc.constant("gzip+base64"), json)),
    }, 1),
    ct: contentType,
    // mostly a few customers (so some sessions are someone else's), sometimes an odd identity
    caller: mostly(fc.constantFrom("cust-a", "cust-b"), fc.string({ maxLength: 40 })),
  }).map(({ id, raw, ct, caller }) =>
    apiEvent("POST", `/sessions/${encodeURIComponent(id)}/turns`, {
      resource: "/sessions/{sessionId}/turns", pathParameters: { sessionId: id }, rawBody: raw, headers: { "content-type": ct }, caller,
    })),
);

type Handle = (e: ProxyEvent) => Promise<{ statusCode: number; body: string; headers: Record<string, string> }>;

/** The property, counting answers by status so a run that never reached the table shows. */
function noServerError(handle: Handle, seen: Record<number, number> = {}) {
  return async (event: ProxyEvent) => {
    const r = await handle(event);
    seen[r.statusCode] = (seen[r.statusCode] ?? 0) + 1;
    if (r.statusCode >= 500) throw new Error(`${event.httpMethod} ${event.path} body ${String(event.body).slice(0, 200)} → ${r.statusCode} ${r.body}`);
    if (r.statusCode !== 204) JSON.parse(r.body); // every answer is JSON
  };
}

describe("no client-side input is a 5xx", () => {
  // Bounded by time as well as count: npm test's budget, whatever the machine's load.
  const RUN = { numRuns: 1_500, interruptAfterTimeLimit: 8_000, includeErrorInReport: true } as const;

  test("the product handler", async () => {
    const h = env.track(productsHandler({ env: env.env() }));
    const seen: Record<number, number> = {};
    await fc.assert(fc.asyncProperty(productEvent, noServerError(h, seen)), RUN);
    console.info(`products: answers by status ${JSON.stringify(seen)}`);
    // The inputs reached the table, not only the validators: writes were stored and read back.
    expect((seen[200] ?? 0) + (seen[201] ?? 0)).toBeGreaterThan(10);
    expect(seen[400]).toBeGreaterThan(10);
  });

  test("the session handler", async () => {
    const h = env.track(sessionsHandler({ env: env.env({ TABLE_NAME: SESSIONS_TABLE.TableName!, RATE_LIMIT_PER_WINDOW: "100000" }) }));
    const seen: Record<number, number> = {};
    await fc.assert(fc.asyncProperty(sessionEvent, noServerError(h, seen)), RUN);
    console.info(`sessions: answers by status ${JSON.stringify(seen)}`);
    expect((seen[200] ?? 0) + (seen[201] ?? 0)).toBeGreaterThan(10);
  });

  test("the checker can fail: a handler that answers 500 on a valid-looking body is caught and shrunk", async () => {
    const broken = async (e: ProxyEvent) => ({ statusCode: e.body && e.body.includes("price") ? 500 : 200, body: "{}", headers: {} });
    await expect(fc.assert(fc.asyncProperty(productEvent, noServerError(broken)), { numRuns: 300, includeErrorInReport: true })).rejects.toThrow(/→ 500/);
  });
});
