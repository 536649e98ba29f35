/**
 * The contract language and the handler built from it: a handler map must name exactly the
 * contract's routes, bodies are checked against the contract's schema (the one API Gateway
 * enforces) before the route's code runs, and the runtime's schema check refuses keywords it
 * cannot enforce rather than skipping them.
 */
import {
  defineContract, fillPath, HEALTH_ROUTE, integer, JsonSchema, readSettings, routeOf, string,
  CALLER_IDENTITY, CONNECTIONS,
} from "../../functions/lib/contract";
import { healthRoute } from "../../functions/lib/health";
import { json } from "../../functions/lib/http";
import { MemoryCacheStore } from "../../functions/lib/cache";
import { defineHandler } from "../../functions/lib/runtime";
import { compileSchema, unsupportedKeywords } from "../../functions/lib/schema";
import { PRODUCT_SCHEMA, PRODUCTS } from "../../functions/products/contract";
import { SESSIONS, TURN_SCHEMA } from "../../functions/sessions/contract";
import { apiEvent } from "./events";

process.env.LOG_LEVEL = "silent";

const ECHO = defineContract({
  name: "echo",
  entry: "/dev/null/handler.ts",
  description: "test",
  routes: [HEALTH_ROUTE, { name: "echo", method: "POST", path: "/echo/{id}", summary: "echo", access: "public", cached: false, body: TURN_SCHEMA }],
  settings: { greeting: string("GREETING", { default: "hi", description: "x" }), times: integer("TIMES", { default: 1, min: 1, max: 3, description: "x" }) },
  metrics: [],
});

/** A contract route that needs a verified caller: the runtime checks it before the body and the code. */
const WHO = defineContract({
  name: "who", entry: "x.ts", description: "who",
  routes: [{ name: "whoami", method: "POST", path: "/whoami", summary: "the caller", access: "caller", cached: false, body: TURN_SCHEMA }],
  settings: {}, metrics: [],
});

const deps = (env: Record<string, string> = {}) => ({ env: { TABLE_NAME: "t", ...env }, store: new MemoryCacheStore({ keyPrefix: "t" }) });

describe("defineHandler", () => {
  test("builds the router from the contract and hands each route its settings and checked body", async () => {
    const { createHandler } = defineHandler(ECHO, {
      health: healthRoute,
      echo: async (_e, p, { rt, body }) => json(200, { id: p.id, greeting: rt.settings.greeting.repeat(rt.settings.times), body }),
    });
    const h = createHandler(deps({ GREETING: "yo", TIMES: "2" }));
    const turn = { role: "user", content: "hello" };
    const r = await h(apiEvent("POST", "/echo/a", { resource: "/echo/{id}", pathParameters: { id: "a" }, body: turn }));
    expect(JSON.parse(r.body)).toEqual({ id: "a", greeting: "yoyo", body: turn });
  });

  test("a body the contract's schema refuses is a 400 naming every field, before the route's code runs", async () => {
    let ran = 0;
    const { createHandler } = defineHandler(ECHO, { health: healthRoute, echo: async () => (ran++, json(200, {})) });
    const h = createHandler(deps());
    const r = await h(apiEvent("POST", "/echo/a", { resource: "/echo/{id}", pathParameters: { id: "a" }, body: { role: "robot", content: "", admin: true } }));
    expect(r.statusCode).toBe(400);
    expect(JSON.parse(r.body).details).toEqual(
      expect.arrayContaining(["role must be one of \"user\", \"assistant\", \"system\"", "content must have at least 1 characters", "admin is not an allowed field"]),
    );
    expect(ran).toBe(0);
  });

  test("a caller route gets the verified caller; without one it is 401 before the body is parsed or the code runs", async () => {
    let ran = 0;
    const { createHandler } = defineHandler(WHO, { whoami: async (_e, _p, { caller }) => (ran++, json(200, { caller })) });
    const h = createHandler(deps({ [CONNECTIONS.callerIdentity.env]: CALLER_IDENTITY.lambda }));
    const turn = { role: "user", content: "hi" };
    const ok = await h(apiEvent("POST", "/whoami", { resource: "/whoami", body: turn, caller: "c-1" }));
    expect(JSON.parse(ok.body)).toEqual({ caller: "c-1" });
    for (const event of [apiEvent("POST", "/whoami", { resource: "/whoami", rawBody: "{nope" }), apiEvent("POST", "/whoami", { resource: "/whoami", body: turn, caller: "" })]) {
      expect((await h(event)).statusCode).toBe(401);
    }
    // A function not told where the caller is trusts no identity at all.
    expect((await createHandler(deps())(apiEvent("POST", "/whoami", { resource: "/whoami", body: turn, caller: "c-1" }))).statusCode).toBe(401);
    expect(ran).toBe(1);
  });

  test("publicReason belongs to public routes and says something", () => {
    const route = { name: "r", method: "GET", path: "/r", summary: "r", cached: false } as const;
    const contract = (r: object) => () => defineContract({ name: "c", entry: "x.ts", description: "c", routes: [{ ...route, ...r } as never], settings: {}, metrics: [] });
    expect(contract({ access: "public", publicReason: "a catalog is public" })).not.toThrow();
    expect(contract({ access: "public", publicReason: "because" })).toThrow(/publicReason: only on public routes, at least 10 characters/);
    expect(contract({ access: "caller", publicReason: "a catalog is public" })).toThrow(/publicReason/);
  });

  test("a handler map missing a route or naming one the contract lacks fails when the module loads", () => {
    expect(() => defineHandler(ECHO, { health: healthRoute } as never)).toThrow(/route echo \(POST \/echo\/\{id\}\) has no code/);
    expect(() => defineHandler(ECHO, { health: healthRoute, echo: healthRoute, extra: healthRoute } as never)).toThrow(/no route extra in its contract/);
  });

  test("a bad contract setting fails the container start, naming the variable (the Lambda then answers 500 JSON)", async () => {
    const { createHandler } = defineHandler(ECHO, { health: healthRoute, echo: healthRoute });
    expect(() => createHandler(deps({ TIMES: "9" }))).toThrow(/TIMES="9": an integer from 1 to 3/);
  });
});

describe("the contract language", () => {
  test("defineContract refuses a route named or routed twice", () => {
    const r = { name: "a", method: "GET", path: "/a", summary: "", access: "public", cached: false } as const;
    expect(() => defineContract({ ...ECHO, routes: [r, { ...r, name: "b" }] })).toThrow(/route GET \/a twice/);
    expect(() => defineContract({ ...ECHO, routes: [r, { ...r, path: "/b" }] })).toThrow(/route a twice/);
  });

  test("routeOf finds a route by name; fillPath builds a request path, percent-encoding the values", () => {
    expect(routeOf(PRODUCTS, "putProduct")).toMatchObject({ method: "PUT", access: "caller" });
    expect(fillPath(routeOf(SESSIONS, "appendTurn").path, { sessionId: "a b" })).toBe("/sessions/a%20b/turns");
    expect(() => fillPath(routeOf(SESSIONS, "appendTurn").path, {})).toThrow(/no value for \{sessionId\}/);
  });

  test("readSettings applies defaults, parses each type, and names the first bad variable", () => {
    expect(readSettings(SESSIONS.settings, {})).toMatchObject({ contextTurns: 20, rateLimitPerWindow: 30, sessionTtlDays: 30 });
    expect(() => readSettings(SESSIONS.settings, { RATE_LIMIT_WINDOW_SECONDS: "1.5" })).toThrow(/RATE_LIMIT_WINDOW_SECONDS="1.5": an integer from 1 to 86400/);
  });

  test("the shipped contracts map table keys to the cache keys their handlers use", () => {
    expect(PRODUCTS.cacheKeysOf!({ productId: "p1" })).toEqual(["product:p1"]);
    expect(SESSIONS.cacheKeysOf!({ PK: "SESSION#s1", SK: "TURN#x" })).toEqual(["session:s1:context"]);
    expect(SESSIONS.cacheKeysOf!({ PK: "OTHER#s1", SK: "META" })).toEqual([]);
  });
});

describe("the runtime's body check", () => {
  test("the shipped schemas use only keywords it enforces", () => {
    expect(unsupportedKeywords(PRODUCT_SCHEMA)).toEqual([]);
    expect(unsupportedKeywords(TURN_SCHEMA)).toEqual([]);
  });

  test("refuses to compile a schema with a keyword it would skip, naming the keyword", () => {
    const schema: JsonSchema = { type: "object", properties: { a: { oneOf: [{ type: "string" }, { type: "number" }] } } };
    expect(() => compileSchema(schema)).toThrow(/uses oneOf/);
  });

  test.each([
    [{ name: "Pen", price: 1 }, []],
    [{ name: "Pen", price: 1, colour: "red" }, []],
    [{ name: "Pen", price: 1, "bad name": 1 }, ["bad name is not an allowed field"]],
    [{ name: "Pen", price: -1, currency: "eur" }, ["price must be ≥ 0", "currency has an invalid format"]],
    [{ price: "1" }, ["name is required", "price must be a number"]],
    [[1], ["body must be an object"]],
  ])("product body %j → %j", (body, problems) => {
    expect(compileSchema(PRODUCT_SCHEMA)(body)).toEqual(problems);
  });
});
