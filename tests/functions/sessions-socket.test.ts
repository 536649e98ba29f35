/**
 * The session store's WebSocket routes and pushes against a real redis-server and dynalite, with
 * AWS's side of a push (the pusher function's invocation) stood in for: `$connect` follows only the
 * caller's own existing session, messages are routed and checked, a turn appended through REST or
 * the socket reaches every connection of its session, `$disconnect` cleans the map, presence
 * answers, and with Redis gone connects and appends still succeed, counted as degraded.
 */
import { CALLER_IDENTITY, METRIC, PushRequest, PushResult, SOCKET_ROUTE } from "../../functions/lib/contract";
import { registryKeys } from "../../functions/lib/realtime";
import type { SocketEvent } from "../../functions/lib/socket";
import { createHandler } from "../../functions/sessions/handler";
import { apiEvent, parseEmf } from "./events";
import { body, handlerEnv, SESSIONS_TABLE, uid } from "./handler-env";

jest.setTimeout(60_000);

const env = handlerEnv({ service: "session-store", table: SESSIONS_TABLE, defaults: { RATE_LIMIT_PER_WINDOW: "1000" } });

/** Stands in for the pusher function (AWS): records what it was asked, answers each id by its prefix. */
class FakePusher {
  readonly requests: PushRequest[] = [];
  async push(r: PushRequest): Promise<PushResult> {
    this.requests.push(r);
    return { delivered: r.connectionIds.filter((c) => !c.startsWith("gone")), gone: r.connectionIds.filter((c) => c.startsWith("gone")), failed: [] };
  }
}

function setup() {
  const pusher = new FakePusher();
  const envVars = env.env();
  const h = env.track(createHandler({ env: envVars, pusher }));
  return { h, pusher, prefix: envVars.CACHE_KEY_PREFIX };
}

const socketEvent = (routeKey: string, connectionId: string, opts: { caller?: string; query?: Record<string, string>; body?: unknown } = {}): SocketEvent => ({
  requestContext: {
    routeKey, connectionId, eventType: routeKey === SOCKET_ROUTE.connect ? "CONNECT" : routeKey === SOCKET_ROUTE.disconnect ? "DISCONNECT" : "MESSAGE",
    requestId: `r-${Math.random().toString(36).slice(2)}`,
    ...(opts.caller ? { authorizer: { principalId: opts.caller } } : {}),
  },
  queryStringParameters: opts.query ?? null,
  body: opts.body === undefined ? null : typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body),
  isBase64Encoded: false,
});
type H = ReturnType<typeof setup>["h"];
const run = (h: H, e: SocketEvent) => h(e as never);
const connect = (h: H, conn: string, sessionId: string, caller?: string) => run(h, socketEvent(SOCKET_ROUTE.connect, conn, { caller, query: { sessionId } }));
const append = (h: H, id: string, caller: string, content: string) =>
  h(apiEvent("POST", `/sessions/${id}/turns`, { resource: "/sessions/{sessionId}/turns", pathParameters: { sessionId: id }, body: { role: "assistant", content }, caller }));
const presence = (h: H, id: string, caller: string) =>
  h(apiEvent("GET", `/sessions/${id}/presence`, { resource: "/sessions/{sessionId}/presence", pathParameters: { sessionId: id }, caller }));
const metricsOf = (name: string) => parseEmf(env.emf).filter((d) => d[name] !== undefined).reduce((n, d) => n + d[name], 0);

test("the handler reads the caller of a socket from the Lambda authorizer (the environment says so)", () => {
  expect(env.env().CALLER_IDENTITY_SOURCE).toBe(CALLER_IDENTITY.lambda);
});

describe("$connect follows the caller's own, existing session", () => {
  test("no verified caller: 401; a session that does not exist or is another's: 404 (the same answer); nothing is mapped", async () => {
    const { h } = setup();
    const id = uid("s");
    expect((await append(h, id, "cust-1", "first")).statusCode).toBe(201);
    expect((await connect(h, "c-anon", id)).statusCode).toBe(401);
    const missing = await connect(h, "c-x", uid("nosuch"), "cust-1");
    const stranger = await connect(h, "c-y", id, "cust-2");
    expect([missing.statusCode, stranger.statusCode]).toEqual([404, 404]);
    expect(JSON.parse(stranger.body).error).toMatch(/^session .+ not found$/);
    expect(body(await presence(h, id, "cust-1")).connections).toBe(0);
    expect((await connect(h, "c-bad", "bad id!", "cust-1")).statusCode).toBe(400);
  });
});

describe("pushes, messages, presence and disconnect", () => {
  test("a turn appended through REST reaches every connection of its session, and only those", async () => {
    const { h, pusher } = setup();
    const [a, b] = [uid("s"), uid("s")];
    await append(h, a, "cust-1", "create a");
    await append(h, b, "cust-1", "create b");
    for (const [c, s] of [["ca-1", a], ["ca-2", a], ["cb-1", b]]) expect((await connect(h, c, s, "cust-1")).statusCode).toBe(200);
    pusher.requests.length = 0;
    expect((await append(h, a, "cust-1", "hello a")).statusCode).toBe(201);
    expect(pusher.requests).toHaveLength(1);
    expect([...pusher.requests[0].connectionIds].sort()).toEqual(["ca-1", "ca-2"]);
    expect(JSON.parse(pusher.requests[0].data)).toMatchObject({ type: "turn", sessionId: a, role: "assistant", content: "hello a", contentEncoding: "identity" });
    expect(body(await presence(h, a, "cust-1"))).toEqual({ sessionId: a, connections: 2, customerOnline: true, onlineCustomers: 1 });
    expect((await presence(h, a, "cust-2")).statusCode).toBe(404);
  });

  test("sendTurn appends as the connection's customer, pushes it, and acknowledges it to the sender", async () => {
    const { h, pusher } = setup();
    const id = uid("s");
    await append(h, id, "cust-1", "create");
    await connect(h, "cs-1", id, "cust-1");
    pusher.requests.length = 0;
    const r = await run(h, socketEvent("sendTurn", "cs-1", { caller: "cust-1", body: { action: "sendTurn", sessionId: id, role: "user", content: "from the socket" } }));
    expect(r.statusCode).toBe(200);
    expect(body(r)).toMatchObject({ type: "ack", sessionId: id });
    expect(pusher.requests[0].connectionIds).toEqual(["cs-1"]);
    const ctx = body(await h(apiEvent("GET", `/sessions/${id}`, { resource: "/sessions/{sessionId}", pathParameters: { sessionId: id }, caller: "cust-1" })));
    expect(ctx.turns.map((t: { content: string }) => t.content)).toEqual(["create", "from the socket"]);

    // Without the authorizer's context on the message, the customer comes from the connection map.
    const mapped = await run(h, socketEvent("sendTurn", "cs-1", { body: { action: "sendTurn", sessionId: id, role: "user", content: "again" } }));
    expect(body(mapped).type).toBe("ack");
    // Another customer's session: 404, as over REST, and nothing pushed to it.
    const theirs = uid("t");
    await append(h, theirs, "cust-2", "theirs");
    const refused = await run(h, socketEvent("sendTurn", "cs-1", { caller: "cust-1", body: { action: "sendTurn", sessionId: theirs, role: "user", content: "x" } }));
    expect(body(refused)).toMatchObject({ type: "error", status: 404, error: `session ${theirs} not found` });
  });

  test("a message that is not JSON, not valid, or names no action answers an error message to its sender", async () => {
    const { h } = setup();
    const invalid = await run(h, socketEvent("sendTurn", "cm-1", { caller: "cust-1", body: { action: "sendTurn", sessionId: "s1", role: "robot", content: "" } }));
    expect(invalid.statusCode).toBe(400);
    expect(body(invalid)).toMatchObject({ type: "error", status: 400, error: "invalid message" });
    expect(body(invalid).details.length).toBeGreaterThan(0);
    const notJson = await run(h, socketEvent("sendTurn", "cm-1", { caller: "cust-1", body: "{oops" }));
    expect(body(notJson)).toMatchObject({ type: "error", status: 400, error: "the message is not JSON" });
    const unknown = await run(h, socketEvent(SOCKET_ROUTE.default, "cm-1", { body: { action: "dance" } }));
    expect(body(unknown)).toMatchObject({ type: "error", status: 400, error: expect.stringMatching(/one of sendTurn$/) });
  });

  test("$disconnect removes both directions and the presence; a gone connection is pruned on the first failed push", async () => {
    const { h, pusher } = setup();
    const id = uid("s");
    await append(h, id, "cust-9", "create");
    await connect(h, "cd-1", id, "cust-9");
    await connect(h, "gone-1", id, "cust-9");
    expect((await run(h, socketEvent(SOCKET_ROUTE.disconnect, "cd-1"))).statusCode).toBe(200);
    const before = metricsOf(METRIC.PushPruned);
    await append(h, id, "cust-9", "to the vanished one");
    expect(pusher.requests.at(-1)!.connectionIds).toEqual(["gone-1"]);
    expect(metricsOf(METRIC.PushPruned) - before).toBe(1);
    pusher.requests.length = 0;
    await append(h, id, "cust-9", "nobody left");
    expect(pusher.requests).toHaveLength(0);
    expect(body(await presence(h, id, "cust-9"))).toMatchObject({ connections: 0, customerOnline: false });
  });
});

describe("with Redis gone (last: it stops the file's redis-server)", () => {
  test("connect still succeeds, appends still answer 201 and are stored, no 5xx; PushDegraded counts each; presence is a 503", async () => {
    const { h, prefix } = setup();
    expect(registryKeys(prefix).online).toContain(`${prefix}:{realtime}`);
    const id = uid("s");
    await append(h, id, "cust-1", "create");
    await env.redis.kill();
    const before = metricsOf(METRIC.PushDegraded);
    expect((await connect(h, "cr-1", id, "cust-1")).statusCode).toBe(200);
    for (let i = 0; i < 3; i++) expect((await append(h, id, "cust-1", `while down ${i}`)).statusCode).toBe(201);
    const ack = await run(h, socketEvent("sendTurn", "cr-1", { caller: "cust-1", body: { action: "sendTurn", sessionId: id, role: "user", content: "socket, down" } }));
    expect(body(ack).type).toBe("ack");
    expect((await run(h, socketEvent(SOCKET_ROUTE.disconnect, "cr-1"))).statusCode).toBe(200);
    expect(metricsOf(METRIC.PushDegraded) - before).toBe(6); // connect, 3 appends, sendTurn, disconnect
    const p = await presence(h, id, "cust-1");
    expect(p.statusCode).toBe(503);
    expect(p.headers["retry-after"]).toBe("1");
  });
});
