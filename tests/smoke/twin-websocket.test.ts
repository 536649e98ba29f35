/**
 * The session store's WebSocket API in the local twin, end to end as a user meets it: a real
 * WebSocket client (`ws`) on the twin's port, the JWT authorizer on `$connect`, the session
 * function's routes, its pushes through the pusher function (invoked through the twin's Lambda API)
 * to the twin's `@connections`, the connection map in the twin's redis-server. One twin process for
 * every check; the outage check runs last (it kills the redis-server).
 */
import { readFileSync } from "fs";
import Redis from "ioredis";
import * as path from "path";
import WebSocket from "ws";
import { CONNECTIONS, METRIC, RUNTIME_SETTINGS } from "../../functions/lib/contract";
import { RedisCacheStore } from "../../functions/lib/cache/redis";
import { connectionRegistryOf, registryKeys } from "../../functions/lib/realtime";
import { requireCompiledTools, ROOT, startTwin, TwinProcess } from "./twin-process";

jest.setTimeout(60_000);

let twin: TwinProcess;
let out: { api_url: string; websocket_url: string; sample_token: string; sample_token_other: string; redis_endpoint: string; redis_port: number };
let keys: ReturnType<typeof registryKeys>;
let redis: Redis;

beforeAll(async () => {
  requireCompiledTools();
  twin = await startTwin(["--stack", "session-store-dev", "--no-stream", "--verbose"], { verbose: true });
  out = twin.outputs() as typeof out;
  // The function's key prefix: its service name, as synthesized (CACHE_KEY_PREFIX derives from it).
  const stack = JSON.parse(readFileSync(path.join(ROOT, "cdktf.out", "stacks", "session-store-dev", "cdk.tf.json"), "utf8"));
  const fn = Object.values(stack.resource.aws_lambda_function as Record<string, any>).find((f) => f.environment.variables[CONNECTIONS.pusherFunction.env]);
  keys = registryKeys(fn.environment.variables[RUNTIME_SETTINGS.serviceName.env]);
  redis = new Redis({ host: out.redis_endpoint, port: out.redis_port, lazyConnect: true, maxRetriesPerRequest: 0, disconnectTimeout: 100 });
  await redis.connect();
});

afterAll(async () => {
  redis?.disconnect();
  await twin?.stop();
});

const auth = (token: string) => ({ authorization: `Bearer ${token}`, "content-type": "application/json" });
const append = (id: string, content: string, token = out.sample_token) =>
  fetch(`${out.api_url}/sessions/${id}/turns`, { method: "POST", headers: auth(token), body: JSON.stringify({ role: "assistant", content }) });

interface Client {
  readonly ws: WebSocket;
  readonly messages: Array<Record<string, any>>;
  /** The next message matching `pred` (already received or coming), within `ms`. */
  next(pred: (m: Record<string, any>) => boolean, ms?: number): Promise<Record<string, any>>;
}

/** Opens a socket on `sessionId` with `token`; rejects with the upgrade's HTTP status when refused. */
function open(sessionId: string | undefined, token: string | undefined): Promise<Client> {
  const q = new URLSearchParams({ ...(sessionId ? { sessionId } : {}), ...(token ? { token } : {}) });
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${out.websocket_url}?${q}`);
    const messages: Array<Record<string, any>> = [];
    const waiters: Array<() => void> = [];
    ws.on("message", (d) => {
      messages.push(JSON.parse(d.toString()));
      waiters.splice(0).forEach((w) => w());
    });
    ws.on("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => reject(Object.assign(new Error(`${res.statusCode} ${body}`), { status: res.statusCode })));
    });
    ws.on("error", reject);
    ws.on("open", () => resolve({
      ws,
      messages,
      next: (pred, ms = 2_000) => new Promise((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`no matching message within ${ms} ms; got ${JSON.stringify(messages)}`)), ms);
        const check = () => {
          const m = messages.find(pred);
          if (m) {
            clearTimeout(timer);
            res(m);
          } else waiters.push(check);
        };
        check();
      }),
    }));
  });
}

const closed = (c: Client) => new Promise<void>((r) => (c.ws.readyState === WebSocket.CLOSED ? r() : (c.ws.once("close", () => r()), c.ws.close())));
const refusal = (p: Promise<unknown>) => p.then(() => 101, (e: { status?: number }) => e.status);
const sessionMembers = (id: string) => redis.zrange(keys.session(id), 0, -1);
async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, ms = 3_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
}
/** Sum of a metric over the session function's EMF lines the twin printed (--verbose). */
const emfSum = (name: string) => twin.stdout().split("\n")
  .map((l) => /^\s+\[[^\]]+\] (\{"_aws".*)$/.exec(l)?.[1])
  .filter((l): l is string => !!l)
  .map((l) => JSON.parse(l)[name] ?? 0)
  .reduce((a: number, b: number) => a + b, 0);
const uid = (p: string) => `${p}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

test("the twin serves the WebSocket stage on its port and prints how to reach it", () => {
  expect(out.websocket_url).toBe(`${twin.url.replace(/^http/, "ws")}/ws/v1`);
  expect(twin.stdout()).toMatch(/^websocket \(stage v1\): ws:\/\/127\.0\.0\.1:\d+\/ws\/v1\?sessionId=<id>&token=<jwt>$/m);
  expect(twin.stdout()).toMatch(/^ {2}npx wscat -c "ws:\/\/127\.0\.0\.1:\d+\/ws\/v1\?sessionId=s1&token=\$TOKEN"/m);
});

test("connecting without a valid token is refused (401), as is another customer's session (404) and a missing session id (400)", async () => {
  const id = uid("auth");
  expect((await append(id, "create")).status).toBe(201);
  expect(await refusal(open(id, undefined))).toBe(401);
  expect(await refusal(open(id, "not-a-jwt"))).toBe(401);
  expect(await refusal(open(id, `${out.sample_token}x`))).toBe(401);
  expect(await refusal(open(id, out.sample_token_other))).toBe(404);
  expect(await refusal(open(undefined, out.sample_token))).toBe(400);
  expect(await sessionMembers(id)).toEqual([]);
});

test("two clients connected to one session both receive a turn appended by a third party (REST) within 500 ms", async () => {
  const id = uid("push");
  expect((await append(id, "create")).status).toBe(201);
  // The first push of a container loads its SDK clients (a cold start, as in Lambda): measured once, then the budget.
  const warmId = uid("warm");
  expect((await append(warmId, "create")).status).toBe(201);
  const w = await open(warmId, out.sample_token);
  const cold = performance.now();
  expect((await append(warmId, "cold push")).status).toBe(201);
  await w.next((m) => m.content === "cold push");
  console.info(`first (cold) push: ${(performance.now() - cold).toFixed(0)} ms from the POST to the socket receiving the turn`);
  await closed(w);

  const [a, b] = await Promise.all([open(id, out.sample_token), open(id, out.sample_token)]);
  const t0 = performance.now();
  const posted = append(id, "to both");
  const [ma, mb] = await Promise.all([a.next((m) => m.content === "to both"), b.next((m) => m.content === "to both")]);
  const ms = performance.now() - t0;
  expect((await posted).status).toBe(201);
  expect(ms).toBeLessThan(500);
  expect(ma).toEqual(mb);
  expect(ma).toMatchObject({ type: "turn", sessionId: id, role: "assistant", content: "to both" });
  console.info(`push to two sockets: ${ms.toFixed(0)} ms from the POST to both receiving the turn`);

  // A turn sent on one socket reaches the other, and is acknowledged to its sender.
  a.ws.send(JSON.stringify({ action: "sendTurn", sessionId: id, role: "user", content: "from a" }));
  expect(await a.next((m) => m.type === "ack")).toMatchObject({ sessionId: id });
  expect(await b.next((m) => m.content === "from a")).toMatchObject({ type: "turn", role: "user" });
  a.ws.send("{not json");
  expect(await a.next((m) => m.type === "error")).toMatchObject({ status: 400 });
  await Promise.all([closed(a), closed(b)]);
});

test("after disconnect the map holds neither direction, and the customer's presence is gone", async () => {
  const id = uid("bye");
  expect((await append(id, "create", out.sample_token_other)).status).toBe(201);
  const c = await open(id, out.sample_token_other);
  const [connectionId] = await until(() => sessionMembers(id), (m) => m.length === 1);
  expect(await redis.get(keys.conn(connectionId))).toBe(`${id}\ntwin-customer-2`);
  expect(await redis.zscore(keys.online, "twin-customer-2")).not.toBeNull();
  await closed(c);
  expect(await until(() => redis.exists(keys.conn(connectionId)), (n) => n === 0)).toBe(0);
  expect(await sessionMembers(id)).toEqual([]);
  expect(await redis.zrange(keys.customer("twin-customer-2"), 0, -1)).toEqual([]);
  expect(await redis.zscore(keys.online, "twin-customer-2")).toBeNull();
  const presence = await fetch(`${out.api_url}/sessions/${id}/presence`, { headers: auth(out.sample_token_other) });
  expect(await presence.json()).toMatchObject({ connections: 0, customerOnline: false });
});

test("a connection whose client vanished without a clean disconnect is pruned on the first failed push (410 Gone)", async () => {
  // API Gateway delivers $disconnect on a best-effort basis: a lost one leaves an entry whose
  // client is gone. Written here through the runtime's own registry, as $connect would.
  const id = uid("ghost");
  expect((await append(id, "create")).status).toBe(201);
  const live = await open(id, out.sample_token);
  const store = new RedisCacheStore({ keyPrefix: keys.online.split(":{")[0], settings: { host: out.redis_endpoint, port: out.redis_port, tls: false, clusterMode: false } });
  try {
    await connectionRegistryOf(store, { keyPrefix: keys.online.split(":{")[0], commandTimeoutMs: 1_000 })
      .connect({ connectionId: "Gh0stConnect10n=", sessionId: id, customerId: "twin-customer-1" }, 60_000);
  } finally {
    await store.close();
  }
  expect((await sessionMembers(id)).sort()).toHaveLength(2);
  const pruned = emfSum(METRIC.PushPruned);
  expect((await append(id, "after the ghost")).status).toBe(201);
  await live.next((m) => m.content === "after the ghost");
  expect(await until(() => sessionMembers(id), (m) => m.length === 1)).not.toContain("Gh0stConnect10n=");
  expect(await redis.exists(keys.conn("Gh0stConnect10n="))).toBe(0);
  expect(await until(async () => emfSum(METRIC.PushPruned) - pruned, (n) => n === 1)).toBe(1);
  expect(twin.stdout()).toMatch(/POST \/ws\/v1\/@connections\/Gh0stConnect10n%3D → 410 \(GoneException\)/);
  await closed(live);
});

test("Redis killed while clients are connected: appends still answer 201, no 5xx, and PushDegraded counts them (last: no Redis after it)", async () => {
  const id = uid("down");
  expect((await append(id, "create")).status).toBe(201);
  const c = await open(id, out.sample_token);
  const pid = Number(/^cache: redis-server pid (\d+)/m.exec(twin.stdout())?.[1]);
  expect(pid).toBeGreaterThan(0);
  redis.disconnect();
  process.kill(pid, "SIGKILL");
  const degraded = emfSum(METRIC.PushDegraded);
  const statuses: number[] = [];
  for (let i = 0; i < 3; i++) statuses.push((await append(id, `while down ${i}`)).status);
  expect(statuses).toEqual([201, 201, 201]);
  c.ws.send(JSON.stringify({ action: "sendTurn", sessionId: id, role: "user", content: "socket while down" }));
  expect(await c.next((m) => m.type === "ack")).toMatchObject({ sessionId: id });
  expect(await refusal(open(id, out.sample_token).then((x) => closed(x)))).toBe(101); // connect still succeeds
  expect(await until(async () => emfSum(METRIC.PushDegraded) - degraded, (n) => n >= 5)).toBeGreaterThanOrEqual(5); // 3 appends, sendTurn, connect
  const ctx = await (await fetch(`${out.api_url}/sessions/${id}`, { headers: auth(out.sample_token) })).json() as { turns: Array<{ content: string }> };
  expect(ctx.turns.map((t) => t.content)).toEqual(expect.arrayContaining(["while down 0", "while down 2", "socket while down"]));
  expect(twin.stdout()).not.toMatch(/→ 5\d\d/);
  await closed(c);
});
