/**
 * Stream-driven invalidation in the session store's twin: a session deleted by the TTL sweep
 * (every second here, `--ttl-sweep-seconds 1`) is no longer served from the context cache within
 * 2 s, and the deletion reaches the invalidator as DynamoDB's own. With the stream off
 * (--no-stream) the deleted session's context is still served: the check can fail.
 */
import { QueryCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { tableClient } from "./stream-checks";
import { requireCompiledTools, startTwin, TwinProcess } from "./twin-process";

jest.setTimeout(120_000);

/**
 * Creates session `id` through the API, caches its context, makes every item of it expire (a
 * write straight to the table, then the context read again so the cache holds it), and returns
 * the milliseconds until the API answers 404 (or -1 after `withinMs` from the first sweep).
 */
async function expiredSessionGone(twin: TwinProcess, id: string, withinMs: number): Promise<number> {
  const out = twin.outputs() as { api_url: string; sample_token: string; table_name: string };
  const auth = { authorization: `Bearer ${out.sample_token}` };
  const get = () => fetch(`${out.api_url}/sessions/${id}`, { headers: auth }).then(async (r) => ({ status: r.status, cache: r.headers.get("x-cache") }));
  const post = await fetch(`${out.api_url}/sessions/${id}/turns`, {
    method: "POST", headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ role: "user", content: "hello" }),
  });
  expect(post.status).toBe(201);
  const c = tableClient(twin);
  try {
    const items = await c.send(new QueryCommand({
      TableName: out.table_name, KeyConditionExpression: "PK = :pk", ExpressionAttributeValues: { ":pk": { S: `SESSION#${id}` } },
    }));
    expect(items.Items?.length).toBe(2); // META and the turn
    const past = String(Math.floor(Date.now() / 1000) - 60);
    for (const item of items.Items ?? []) {
      await c.send(new UpdateItemCommand({
        TableName: out.table_name, Key: { PK: item.PK, SK: item.SK }, UpdateExpression: "SET expiresAt = :x", ExpressionAttributeValues: { ":x": { N: past } },
      }));
    }
  } finally {
    c.destroy();
  }
  // DynamoDB serves expired items until it deletes them: the context is read, and cached, again.
  // (The sweep may delete the items first: then the session is already gone.)
  const deadline = Date.now() + 2_000;
  for (;;) {
    const r = await get();
    if (r.status === 404 || r.cache === "HIT" || Date.now() > deadline) break;
    await new Promise((res) => setTimeout(res, 20));
  }
  const sweptBy = Date.now() + 1_000; // --ttl-sweep-seconds 1
  while (Date.now() < sweptBy + withinMs) {
    if ((await get()).status === 404) return Math.max(0, Date.now() - sweptBy);
    await new Promise((res) => setTimeout(res, 50));
  }
  return -1;
}

beforeAll(() => requireCompiledTools());

describe("session store twin, stream on", () => {
  let twin: TwinProcess;
  beforeAll(async () => {
    twin = await startTwin(["--stack", "session-store-dev", "--ttl-sweep-seconds", "1"], { verbose: true });
  });
  afterAll(async () => {
    await twin?.stop();
  });

  test("a session deleted by the TTL sweep is no longer served from the context cache within 2 s", async () => {
    const ms = await expiredSessionGone(twin, "expiring-1", 2_000);
    expect(ms).toBeGreaterThanOrEqual(0);
    expect(ms).toBeLessThan(2_000);
    expect(twin.stdout()).toMatch(/^ttl: deleted 2 expired item\(s\)$/m);
  });
});

describe("session store twin, stream off (--no-stream): the check can fail", () => {
  let twin: TwinProcess;
  beforeAll(async () => {
    twin = await startTwin(["--stack", "session-store-dev", "--ttl-sweep-seconds", "1", "--no-stream"], { verbose: true });
  });
  afterAll(async () => {
    await twin?.stop();
  });

  test("the deleted session's context is still served", async () => {
    expect(await expiredSessionGone(twin, "expiring-2", 2_000)).toBe(-1);
    expect(twin.stdout()).toMatch(/^ttl: deleted 2 expired item\(s\)$/m);
  });
});
