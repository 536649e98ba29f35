/**
 * The session-store handler against a real redis-server and dynalite: context assembly and
 * caching, consistent reads, compressed turns, per-customer rate limits, session locks, and
 * the DAX path with an unreachable DAX endpoint (DAX itself cannot run here).
 */
import { PutItemCommand } from "@aws-sdk/client-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import { gzipSync } from "zlib";
import { createHandler } from "../../functions/sessions/handler";
import { MemcachedServerHandle, startMemcached } from "../helpers/memcached-server";
import { apiEvent, parseEmf } from "./events";
import { body, handlerEnv, SESSIONS_TABLE, uid } from "./handler-env";
jest.setTimeout(60_000);


const env = handlerEnv({ service: "session-store", table: SESSIONS_TABLE, defaults: { CONTEXT_TURNS: "3", RATE_LIMIT_PER_WINDOW: "1000" } });
const emf = env.emf;
const dyn = { client: () => env.dyn.client() };

function handler(overrides: Record<string, string> = {}) {
  return env.track(createHandler({ env: env.env(overrides) }));
}

const getSession = (id: string, query?: Record<string, string>) =>
  apiEvent("GET", `/sessions/${id}`, { resource: "/sessions/{sessionId}", pathParameters: { sessionId: id }, query });
const postTurn = (id: string, turn: Record<string, unknown>) =>
  apiEvent("POST", `/sessions/${id}/turns`, { resource: "/sessions/{sessionId}/turns", pathParameters: { sessionId: id }, body: turn });
const turn = (customerId: string, content: string, role = "user") => ({ customerId, role, content });

describe("assembled context", () => {
  test("META + the newest N turns (oldest first) + the latest summary, cached until the next turn", async () => {
    const h = handler();
    const id = uid("s");
    for (const c of ["one", "two", "three", "four"]) {
      const r = await h(postTurn(id, turn("cust-1", c)));
      expect(r.statusCode).toBe(201);
      await new Promise((res) => setTimeout(res, 2)); // distinct timestamps in sort keys
    }
    const client = dyn.client();
    await client.send(new PutItemCommand({ TableName: "sessions", Item: marshall({ PK: `SESSION#${id}`, SK: "SUMMARY#2000-01-01", content: "old summary", createdAt: "2000-01-01" }) }));
    await client.send(new PutItemCommand({ TableName: "sessions", Item: marshall({ PK: `SESSION#${id}`, SK: "SUMMARY#2030-01-01", content: "latest summary", createdAt: "2030-01-01" }) }));

    const first = await h(getSession(id));
    expect(first.statusCode).toBe(200);
    expect(first.headers["x-cache"]).toBe("MISS");
    const ctx = body(first);
    expect(ctx.customerId).toBe("cust-1");
    expect(ctx.turnCount).toBe(4);
    expect(ctx.turns.map((t: { content: string }) => t.content)).toEqual(["two", "three", "four"]);
    expect(ctx.summary.content).toBe("latest summary");
    expect((await h(getSession(id))).headers["x-cache"]).toBe("HIT");

    await h(postTurn(id, turn("cust-1", "five", "assistant")));
    const after = await h(getSession(id));
    expect(after.headers["x-cache"]).toBe("MISS");
    expect(body(after).turns.map((t: { content: string }) => t.content)).toEqual(["three", "four", "five"]);
  });

  test("?consistent=true bypasses the caches and reads the table strongly consistently", async () => {
    const h = handler();
    const id = uid("c");
    await h(postTurn(id, turn("cust-2", "hello")));
    await h(getSession(id)); // fill the cache
    const r = await h(getSession(id, { consistent: "true" }));
    expect(r.statusCode).toBe(200);
    expect(r.headers["x-cache"]).toBe("BYPASS");
    expect(body(r).turns).toHaveLength(1);
    expect((await h(getSession(id, { consistent: "maybe" }))).statusCode).toBe(400);
  });

  test("unknown sessions are 404 JSON", async () => {
    const r = await handler()(getSession(uid("none")));
    expect(r.statusCode).toBe(404);
    expect(body(r).error).toMatch(/not found/);
  });

  test("compressed turns are stored as sent and returned decoded", async () => {
    const h = handler();
    const id = uid("z");
    const text = "a long message ".repeat(200);
    const content = gzipSync(Buffer.from(text)).toString("base64");
    expect((await h(postTurn(id, { customerId: "cust-3", role: "user", content, contentEncoding: "gzip+base64" }))).statusCode).toBe(201);
    expect(body(await h(getSession(id))).turns[0].content).toBe(text);
    const bad = await h(postTurn(id, { customerId: "cust-3", role: "user", content: "not gzip", contentEncoding: "gzip+base64" }));
    expect(bad.statusCode).toBe(400);
  });

  test("a session belongs to the customer who started it", async () => {
    const h = handler();
    const id = uid("own");
    await h(postTurn(id, turn("alice", "hi")));
    const r = await h(postTurn(id, turn("mallory", "hi")));
    expect(r.statusCode).toBe(403);
    expect(body(await h(getSession(id))).turnCount).toBe(1);
  });
});

describe("rate limiting", () => {
  test("the per-customer sliding window answers 429 with Retry-After once the limit is reached", async () => {
    const h = handler({ RATE_LIMIT_PER_WINDOW: "3", RATE_LIMIT_WINDOW_SECONDS: "60" });
    const customer = uid("cust");
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) codes.push((await h(postTurn(uid("rl"), turn(customer, `m${i}`)))).statusCode);
    expect(codes).toEqual([201, 201, 201, 429, 429]);
    const refused = await h(postTurn(uid("rl"), turn(customer, "again")));
    expect(Number(refused.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers["retry-after"])).toBeLessThanOrEqual(60);
    expect(body(refused).error).toMatch(/rate limit/);
    // another customer is not affected
    expect((await h(postTurn(uid("rl"), turn(uid("other"), "hi")))).statusCode).toBe(201);
  });
});

describe("on a backend without an atomic sliding window (memcached)", () => {
  let mc: MemcachedServerHandle | undefined;
  beforeAll(async () => {
    mc = await startMemcached();
  });
  afterAll(async () => {
    await mc?.stop();
  });

  test("a turn is refused with 500 'function misconfigured', never let through unlimited; nothing is written", async () => {
    // The constructs refuse this wiring at synth; this is the runtime's answer if it is deployed anyway.
    const h = handler({ REDIS_HOST: "", CACHE_BACKEND: "memcached", MEMCACHED_HOST: "127.0.0.1", MEMCACHED_PORT: String(mc!.port), MEMCACHED_TLS: "false" });
    const id = uid("mc");
    const r = await h(postTurn(id, turn("cust-mc", "hello")));
    expect(r.statusCode).toBe(500);
    expect(body(r).error).toMatch(/function misconfigured: .*memcached.*hitWindow/);
    expect((await h(getSession(id, { consistent: "true" }))).statusCode).toBe(404);
  });
});

describe("session locks", () => {
  test("a held lock makes a writer wait, then answer 409 with Retry-After; released, the write goes through", async () => {
    const h = handler({ SESSION_LOCK_WAIT_MS: "100" });
    const id = uid("lock");
    expect(await h.runtime.store.acquireLease(`session:${id}:write`, "someone-else", 5_000)).toBe(true);
    const blocked = await h(postTurn(id, turn("cust-4", "x")));
    expect(blocked.statusCode).toBe(409);
    expect(blocked.headers["retry-after"]).toBe("1");
    await h.runtime.store.releaseLease(`session:${id}:write`, "someone-else");
    expect((await h(postTurn(id, turn("cust-4", "x")))).statusCode).toBe(201);
  });

  test("concurrent writers to one session never interleave: every accepted turn is counted once", async () => {
    const h = handler({ SESSION_LOCK_WAIT_MS: "2000" });
    const id = uid("busy");
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => h(postTurn(id, turn("cust-5", `t${i}`)))));
    const accepted = results.filter((r) => r.statusCode === 201).length;
    expect(results.every((r) => r.statusCode === 201 || r.statusCode === 409)).toBe(true);
    expect(accepted).toBeGreaterThan(0);
    const ctx = body(await h(getSession(id, { consistent: "true" })));
    expect(ctx.turnCount).toBe(accepted);
    expect(emf.some((l) => JSON.parse(l).LockContention >= 1)).toBe(true);
  });
});

describe("bad input", () => {
  const cases: Array<[string, ReturnType<typeof apiEvent>, number]> = [
    ["bad session id", getSession("a#b"), 400],
    ["session id too long", getSession("s".repeat(200)), 400],
    ["turn without customer", postTurn("s1", { role: "user", content: "x" }), 400],
    ["turn with bad role", postTurn("s1", { customerId: "c", role: "robot", content: "x" }), 400],
    ["turn with empty content", postTurn("s1", { customerId: "c", role: "user", content: "" }), 400],
    ["turn with an extra field", postTurn("s1", { customerId: "c", role: "user", content: "x", admin: true }), 400],
    ["turn with bad customer id", postTurn("s1", { customerId: "c c", role: "user", content: "x" }), 400],
    ["turn with unknown encoding", postTurn("s1", { customerId: "c", role: "user", content: "x", contentEncoding: "br" }), 400],
    ["GET on turns", apiEvent("GET", "/sessions/s1/turns", { resource: "/sessions/{sessionId}/turns", pathParameters: { sessionId: "s1" } }), 405],
    ["DELETE a session", apiEvent("DELETE", "/sessions/s1", { resource: "/sessions/{sessionId}", pathParameters: { sessionId: "s1" } }), 405],
    ["unknown route", apiEvent("GET", "/sessions"), 404],
  ];
  test.each(cases.map(([n, e, s]) => [`${n} → ${s}`, e, s] as const))("%s JSON", async (_n, event, status) => {
    const r = await handler()(event);
    expect(r.statusCode).toBe(status);
    expect(typeof body(r).error).toBe("string");
  });
});

describe("DAX path", () => {
  test("with an unreachable DAX endpoint, reads and writes fall back to DynamoDB and say so in metrics", async () => {
    const h = handler({ DAX_ENDPOINT: "daxs://127.0.0.1:9" });
    expect(h.runtime.table.usesDax).toBe(true);
    const id = uid("dax");
    emf.length = 0;
    expect((await h(postTurn(id, turn("cust-6", "via dax?")))).statusCode).toBe(201);
    const r = await h(getSession(id));
    expect(r.statusCode).toBe(200);
    expect(body(r).turns[0].content).toBe("via dax?");
    expect(parseEmf(emf).some((m) => m.Fallback >= 1)).toBe(true);
  });

  test("without a DAX endpoint no DAX client is created", () => {
    expect(handler().runtime.table.usesDax).toBe(false);
  });
});
