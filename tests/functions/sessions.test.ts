/**
 * The session-store handler against a real redis-server and dynalite: context assembly and
 * caching, consistent reads, compressed turns, ownership by the verified caller, per-customer
 * rate limits, session locks, and the DAX path with an unreachable DAX endpoint (DAX itself
 * cannot run here). The caller is what API Gateway's authorizer hands over, never the body.
 */
import { PutItemCommand } from "@aws-sdk/client-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import { gzipSync } from "zlib";
import { CALLER_IDENTITY, CONNECTIONS } from "../../functions/lib/contract";
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

/** `GET /sessions/{id}` as `caller` (the verified identity; null: none). */
const getSession = (id: string, query?: Record<string, string>, caller: string | null = "cust-1") =>
  apiEvent("GET", `/sessions/${id}`, { resource: "/sessions/{sessionId}", pathParameters: { sessionId: id }, query, caller: caller ?? undefined });
/** `POST /sessions/{id}/turns` of `body` as `caller`. */
const postAs = (caller: string | undefined, id: string, body: Record<string, unknown>) =>
  apiEvent("POST", `/sessions/${id}/turns`, { resource: "/sessions/{sessionId}/turns", pathParameters: { sessionId: id }, body, caller });
/** A turn posted by its `customerId`, who is the verified caller (the field is not sent in the body). */
const postTurn = (id: string, { customerId, ...body }: Record<string, unknown>) => postAs(customerId as string | undefined, id, body);
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
    expect(first.headers["cache-control"]).toBe("private, no-store"); // one customer's context: never in a shared cache
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
    const r = await h(getSession(id, { consistent: "true" }, "cust-2"));
    expect(r.statusCode).toBe(200);
    expect(r.headers["x-cache"]).toBe("BYPASS");
    expect(r.headers["cache-control"]).toBe("private, no-store");
    expect(body(r).turns).toHaveLength(1);
    expect((await h(getSession(id, { consistent: "maybe" }, "cust-2"))).statusCode).toBe(400);
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
    expect(body(await h(getSession(id, undefined, "cust-3"))).turns[0].content).toBe(text);
    const bad = await h(postTurn(id, { customerId: "cust-3", role: "user", content: "not gzip", contentEncoding: "gzip+base64" }));
    expect(bad.statusCode).toBe(400);
  });

});

describe("ownership: the verified caller", () => {
  test("a session belongs to the caller who started it: another caller's append is 404, and nothing is written", async () => {
    const h = handler();
    const id = uid("own");
    expect((await h(postTurn(id, turn("alice", "hi")))).statusCode).toBe(201);
    const r = await h(postTurn(id, turn("mallory", "hi")));
    expect(r.statusCode).toBe(404);
    expect(body(r).error).toBe(`session ${id} not found`);
    expect(body(await h(getSession(id, { consistent: "true" }, "alice"))).turnCount).toBe(1);
  });

  test("another caller's append is refused before the session's lock: 404 even while the owner writes, and the owner is never held off", async () => {
    const h = handler({ SESSION_LOCK_WAIT_MS: "100" });
    const id = uid("own");
    expect((await h(postTurn(id, turn("alice", "hi")))).statusCode).toBe(201);
    // the owner is writing: a stranger must learn nothing (404, not 409) and take no lock
    expect(await h.runtime.store.acquireLease(`session:${id}:write`, "alice-writer", 5_000)).toBe(true);
    expect((await h(postTurn(id, turn("mallory", "x")))).statusCode).toBe(404);
    await h.runtime.store.releaseLease(`session:${id}:write`, "alice-writer");
    // a stranger spamming appends never blocks the owner
    const spam = Array.from({ length: 20 }, () => h(postTurn(id, turn("mallory", "x"))));
    const mine = await h(postTurn(id, turn("alice", "still here")));
    expect((await Promise.all(spam)).map((r) => r.statusCode)).toEqual(Array(20).fill(404));
    expect(mine.statusCode).toBe(201);
  });

  test("another caller's read is 404 exactly like a missing session's (cached, consistent, cold and warm)", async () => {
    const h = handler();
    const id = uid("own");
    await h(postTurn(id, turn("alice", "secret")));
    const missing = await h(getSession(uid("none"), undefined, "mallory"));
    for (const query of [undefined, undefined, { consistent: "true" }]) {
      const r = await h(getSession(id, query, "mallory"));
      expect(r.statusCode).toBe(404);
      expect(Object.keys(body(r))).toEqual(Object.keys(body(missing)));
      expect(r.body).not.toContain("secret");
      expect(r.body).not.toContain("alice");
    }
    const own = await h(getSession(id, undefined, "alice"));
    expect(own.statusCode).toBe(200);
    expect(body(own).customerId).toBe("alice");
  });

  test("without a verified caller both routes are 401 before the body is looked at", async () => {
    const h = handler();
    const id = uid("anon");
    const read = await h(getSession(id, undefined, null));
    const append = await h(postAs(undefined, id, { not: "a turn" }));
    expect([read.statusCode, append.statusCode]).toEqual([401, 401]);
    expect(body(append).error).toMatch(/verified caller/);
  });

  test("a function without CALLER_IDENTITY_SOURCE trusts no identity, even one that looks verified", async () => {
    const h = handler({ [CONNECTIONS.callerIdentity.env]: "" });
    expect((await h(postTurn(uid("s"), turn("alice", "hi")))).statusCode).toBe(401);
  });

  test("a body customerId is refused (400), never trusted, even when it names the caller", async () => {
    const h = handler();
    const id = uid("body");
    for (const named of ["mallory", "alice"]) {
      const r = await h(postAs("alice", id, { customerId: named, role: "user", content: "hi" }));
      expect(r.statusCode).toBe(400);
      expect(JSON.stringify(body(r).details)).toMatch(/customerId/);
    }
    expect((await h(getSession(id, undefined, "alice"))).statusCode).toBe(404); // nothing was written
  });

  test.each([
    ["iam", CALLER_IDENTITY.iam, { identity: { userArn: "arn:aws:sts::123456789012:assumed-role/svc/one" } }, "arn:aws:sts::123456789012:assumed-role/svc/one"],
    ["cognito", "cognito:sub", { authorizer: { claims: { sub: "9f6c-user" } } }, "9f6c-user"],
  ])("with %s authorization the owner is the identity API Gateway verified", async (_kind, source, requestContext, owner) => {
    const h = handler({ [CONNECTIONS.callerIdentity.env]: source });
    const id = uid("src");
    const event = postAs(undefined, id, { role: "user", content: "hi" });
    const r = await h({ ...event, requestContext: { ...event.requestContext, ...requestContext } });
    expect(r.statusCode).toBe(201);
    const read = getSession(id, { consistent: "true" }, null);
    expect(body(await h({ ...read, requestContext: { ...read.requestContext, ...requestContext } })).customerId).toBe(owner);
    // A Lambda authorizer's principalId means nothing to a function wired to another source.
    expect((await h(getSession(id, undefined, owner))).statusCode).toBe(401);
  });
});

describe("rate limiting", () => {
  test("the per-customer sliding window answers 429 with Retry-After once the limit is reached", async () => {
    const h = handler({ RATE_LIMIT_PER_WINDOW: "3", RATE_LIMIT_WINDOW_SECONDS: "60" });
    const customer = uid("cust");
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) codes.push((await h(postTurn(uid("rl"), turn(customer, `m${i}`)))).statusCode);
    expect(codes).toEqual([201, 201, 201, 429, 429]); // across sessions: the window is the caller's, not the session's
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
    const ctx = body(await h(getSession(id, { consistent: "true" }, "cust-5")));
    expect(ctx.turnCount).toBe(accepted);
    expect(emf.some((l) => JSON.parse(l).LockContention >= 1)).toBe(true);
  });
});

describe("bad input", () => {
  const cases: Array<[string, ReturnType<typeof apiEvent>, number]> = [
    ["bad session id", getSession("a#b"), 400],
    ["session id too long", getSession("s".repeat(200)), 400],
    ["turn without a verified caller", postTurn("s1", { role: "user", content: "x" }), 401],
    ["read without a verified caller", getSession("s1", undefined, null), 401],
    ["turn naming a customer in the body", postAs("c", "s1", { customerId: "c", role: "user", content: "x" }), 400],
    ["turn with bad role", postTurn("s1", { customerId: "c", role: "robot", content: "x" }), 400],
    ["turn with empty content", postTurn("s1", { customerId: "c", role: "user", content: "" }), 400],
    ["turn with an extra field", postTurn("s1", { customerId: "c", role: "user", content: "x", admin: true }), 400],
    ["turn by a caller id with a space", postTurn("s1", { customerId: "c c", role: "user", content: "x" }), 401],
    ["turn by a caller id with braces", postTurn("s1", { customerId: "{c}", role: "user", content: "x" }), 401],
    ["turn with unknown encoding", postTurn("s1", { customerId: "c", role: "user", content: "x", contentEncoding: "br" }), 400],
    ["GET on turns", apiEvent("GET", "/sessions/s1/turns", { resource: "/sessions/{sessionId}/turns", pathParameters: { sessionId: "s1" }, caller: "c" }), 405],
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
    const r = await h(getSession(id, undefined, "cust-6"));
    expect(r.statusCode).toBe(200);
    expect(body(r).turns[0].content).toBe("via dax?");
    expect(parseEmf(emf).some((m) => m.Fallback >= 1)).toBe(true);
  });

  test("without a DAX endpoint no DAX client is created", () => {
    expect(handler().runtime.table.usesDax).toBe(false);
  });
});
