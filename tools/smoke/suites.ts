/**
 * The smoke suites, one per stack kind. Each creates only `smoke-`-prefixed data and cleans
 * up what the API lets it delete (products); session items have no delete route and expire
 * through the table's TTL (expiresAt), see help/smoke-tests.md.
 */
import { randomBytes } from "crypto";
import { call, CallResult } from "./http";
import { StackOutputs } from "./outputs";
import { expect, Runner } from "./runner";
import { socketRoundTrip } from "./websocket";

export type StackKind = "product-catalog" | "session-store";

export interface SuiteContext {
  /** api_url without a trailing slash, e.g. `https://abc.execute-api.us-east-1.amazonaws.com/v1`. */
  readonly base: string;
  readonly outputs: StackOutputs;
  readonly run: Runner;
  readonly timeoutMs: number;
  /** Longest rate-limit probe (requests) before the check is skipped. */
  readonly maxRateLimitRequests: number;
  /** A token the API accepts (`--token`, else the twin's `sample_token` output). */
  readonly token?: string;
  /** A token of another customer (`--other-token`, else `sample_token_other`): for the cross-customer check. */
  readonly otherToken?: string;
  readonly note: (line: string) => void;
}

const uid = () => `smoke-${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`;

function apiKeyOf(outputs: StackOutputs): string | undefined {
  return typeof outputs.api_key === "string" && outputs.api_key ? outputs.api_key : undefined;
}

const NO_KEY_HINT = "the outputs have no api_key: deploy with --outputs-file-include-sensitive-outputs";
const NO_TOKEN_HINT = "no token: pass --token (a token your issuer signed for the API's audience), or run against the twin's outputs (sample_token)";

/** Headers of a request as a verified caller (and with the API key, when the stack has one). */
function callerHeaders(token: string | undefined, apiKey: string | undefined): Record<string, string> {
  return { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(apiKey ? { "x-api-key": apiKey } : {}) };
}

function isJsonObject(r: CallResult): boolean {
  return !!r.json && typeof r.json === "object" && !Array.isArray(r.json);
}

function brief(r: CallResult): string {
  return r.text.length > 160 ? `${r.text.slice(0, 160)}…` : r.text;
}

/**
 * How long a read after a write may take to be served from the cache: the table's stream
 * invalidates the written item once more, some hundreds of milliseconds after the write, and may
 * delete an entry filled in between (one extra miss, never a stale answer).
 */
const STREAM_SETTLE_MS = 3_000;

/** Reads `url` until the cache serves it or {@link STREAM_SETTLE_MS} has passed; the last read and how many it took. */
async function readUntilHit(url: string, timeoutMs: number, headers: Record<string, string> = {}): Promise<{ r: CallResult; reads: number }> {
  const until = Date.now() + STREAM_SETTLE_MS;
  for (let reads = 1; ; reads++) {
    const r = await call("GET", url, { timeoutMs, headers });
    if (r.status !== 200 || r.header("x-cache") === "HIT" || Date.now() >= until) return { r, reads };
    await new Promise((res) => setTimeout(res, 200));
  }
}

/** The API cannot be reached at all: one failure, not one per check (each would wait for its timeout). */
async function unreachable(ctx: SuiteContext): Promise<void> {
  await ctx.run.check("reachable", async () => {
    throw new Error(`the API at ${ctx.base} cannot be reached; the other checks were not run`);
  });
}

/** Checks shared by every kind: an unknown route and a malformed id answer JSON errors. */
async function commonChecks(ctx: SuiteContext, malformedPath: string, headers: Record<string, string> = {}): Promise<void> {
  const { run, base, timeoutMs } = ctx;
  await run.check("malformed-id", async () => {
    const r = await call("GET", `${base}${malformedPath}`, { headers, timeoutMs });
    expect(r.status === 400, `expected 400, got ${r.status}: ${brief(r)}`, r.status);
    expect(isJsonObject(r), `expected a JSON error body, got ${brief(r)}`, r.status);
    return { status: r.status, ms: r.ms, detail: "400 JSON" };
  });
  await run.check("unknown-route", async () => {
    const r = await call("GET", `${base}/${uid()}-no-such-route`, { timeoutMs });
    expect([403, 404, 405].includes(r.status), `expected 403, 404 or 405, got ${r.status}: ${brief(r)}`, r.status);
    expect(isJsonObject(r), `expected a JSON body, got ${brief(r)}`, r.status);
    return { status: r.status, ms: r.ms, detail: `${r.status} JSON` };
  });
}

export async function productCatalogSuite(ctx: SuiteContext): Promise<void> {
  const { run, base, timeoutMs } = ctx;
  const apiKey = apiKeyOf(ctx.outputs);
  const keyHeaders = callerHeaders(ctx.token, apiKey);
  const id = uid();
  const url = `${base}/products/${id}`;
  const first = { name: `Smoke test product ${id}`, price: 12.5, currency: "EUR", category: "smoke" };
  const second = { ...first, price: 13.75 };
  let created = false;
  let deleted = false;
  let missBody = "";
  let missResponse: CallResult | undefined;

  try {
    const healthy = await run.check("health", async () => {
      const r = await call("GET", `${base}/health`, { timeoutMs });
      expect(r.status === 200, `expected 200, got ${r.status}: ${brief(r)}`, r.status);
      const status = (r.json as { status?: string } | undefined)?.status;
      return { status: r.status, ms: r.ms, detail: `status ${status ?? "?"}` };
    });
    if (!healthy && run.lastFailureUnreachable) return unreachable(ctx);
    await run.check("write-needs-token", async () => {
      const r = await call("PUT", url, { body: first, headers: callerHeaders(undefined, apiKey), timeoutMs });
      if (r.status >= 200 && r.status < 300) created = true;
      expect(r.status === 401, `PUT without a token: expected 401, got ${r.status}: ${brief(r)}`, r.status);
      expect(isJsonObject(r), `expected a JSON body, got ${brief(r)}`, r.status);
      return { status: r.status, ms: r.ms, detail: "PUT without a token refused" };
    });
    await run.check("put-create", async () => {
      expect(ctx.token, NO_TOKEN_HINT);
      const r = await call("PUT", url, { body: first, headers: keyHeaders, timeoutMs });
      if (r.status === 200 || r.status === 201) created = true;
      expect(r.status !== 401, `a valid token was refused (401): ${brief(r)}`, r.status);
      expect(r.status !== 403 || apiKey, NO_KEY_HINT, r.status);
      expect(r.status === 201, `expected 201 Created, got ${r.status}: ${brief(r)}`, r.status);
      return { status: r.status, ms: r.ms, detail: `created ${id}` };
    });
    await run.check("get-miss", async () => {
      const r = await call("GET", url, { timeoutMs });
      missResponse = r;
      missBody = r.text;
      expect(r.status === 200, `expected 200, got ${r.status}: ${brief(r)}`, r.status);
      expect((r.json as { name?: string })?.name === first.name, `unexpected body ${brief(r)}`, r.status);
      expect(r.header("x-cache") === "MISS", `expected X-Cache: MISS on the first read, got ${r.header("x-cache") ?? "none"}`, r.status);
      return { status: r.status, ms: r.ms, detail: "X-Cache: MISS" };
    });
    await run.check("get-hit", async () => {
      const { r, reads } = await readUntilHit(url, timeoutMs);
      expect(r.status === 200, `expected 200, got ${r.status}: ${brief(r)}`, r.status);
      expect(r.header("x-cache") === "HIT", `expected X-Cache: HIT on a read after the first, got ${r.header("x-cache") ?? "none"} for ${STREAM_SETTLE_MS / 1000} s`, r.status);
      expect(r.text === missBody, "the cached body differs from the first read's", r.status);
      return { status: r.status, ms: r.ms, detail: `X-Cache: HIT, same body${reads > 1 ? ` (read ${reads}: the write's stream invalidation came in between)` : ""}` };
    });
    await run.check("cache-control", async () => {
      const r = missResponse;
      expect(r && r.status === 200, "no successful read to inspect (see get-miss)");
      const cc = r.header("cache-control");
      expect(cc, "the product response has no Cache-Control header", r.status);
      return { status: r.status, ms: 0, detail: `Cache-Control: ${cc}` };
    });
    await run.check("put-update", async () => {
      const r = await call("PUT", url, { body: second, headers: keyHeaders, timeoutMs });
      expect(r.status === 200, `expected 200 (replaced), got ${r.status}: ${brief(r)}`, r.status);
      return { status: r.status, ms: r.ms, detail: `price ${first.price} → ${second.price}` };
    });
    await run.check("get-after-update", async () => {
      const r = await call("GET", url, { timeoutMs });
      expect(r.status === 200, `expected 200, got ${r.status}: ${brief(r)}`, r.status);
      const price = (r.json as { price?: number })?.price;
      expect(price === second.price, `expected the updated price ${second.price}, got ${price} (X-Cache: ${r.header("x-cache") ?? "none"}): a stale cache entry`, r.status);
      return { status: r.status, ms: r.ms, detail: `new value served (X-Cache: ${r.header("x-cache") ?? "none"})` };
    });
    await run.check("delete", async () => {
      const r = await call("DELETE", url, { headers: keyHeaders, timeoutMs });
      if (r.status === 204) deleted = true;
      expect(r.status === 204, `expected 204, got ${r.status}: ${brief(r)}`, r.status);
      return { status: r.status, ms: r.ms, detail: `deleted ${id}` };
    });
    await run.check("get-after-delete", async () => {
      const r = await call("GET", url, { timeoutMs });
      expect(r.status === 404, `expected 404 after DELETE, got ${r.status}: ${brief(r)}`, r.status);
      expect(isJsonObject(r), `expected a JSON body, got ${brief(r)}`, r.status);
      return { status: r.status, ms: r.ms, detail: "404 JSON" };
    });
    await commonChecks(ctx, "/products/bad%20id!");
  } finally {
    if (created && !deleted) {
      try {
        const r = await call("DELETE", url, { headers: keyHeaders, timeoutMs });
        ctx.note(r.status === 204 || r.status === 404 ? `cleanup: product ${id} deleted` : `cleanup: DELETE ${id} answered ${r.status}; delete it by hand`);
      } catch (err) {
        ctx.note(`cleanup: could not delete product ${id}: ${(err as Error).message}`);
      }
    }
  }
}

interface Context {
  customerId?: string;
  turns?: Array<{ role: string; content: string }>;
}

export async function sessionStoreSuite(ctx: SuiteContext): Promise<void> {
  const { run, base, timeoutMs } = ctx;
  const apiKey = apiKeyOf(ctx.outputs);
  const keyHeaders = callerHeaders(ctx.token, apiKey);
  const sessionId = uid();
  const turnsUrl = `${base}/sessions/${sessionId}/turns`;
  const sent = [
    { role: "user", content: `smoke turn 1 ${sessionId}` },
    { role: "assistant", content: `smoke turn 2 ${sessionId}` },
    { role: "user", content: `smoke turn 3 ${sessionId}` },
  ];
  let health: Record<string, unknown> = {};
  let accepted = 0;
  let firstPostAt = 0;

  const sameTurns = (body: Context) => {
    const got = (body.turns ?? []).map((t) => `${t.role}:${t.content}`);
    const want = sent.map((t) => `${t.role}:${t.content}`);
    return JSON.stringify(got) === JSON.stringify(want) ? undefined : `turns ${JSON.stringify(got)} instead of ${JSON.stringify(want)}`;
  };

  const healthy = await run.check("health", async () => {
    const r = await call("GET", `${base}/health`, { timeoutMs });
    expect(r.status === 200, `expected 200, got ${r.status}: ${brief(r)}`, r.status);
    health = (r.json ?? {}) as Record<string, unknown>;
    return { status: r.status, ms: r.ms, detail: `status ${String(health.status ?? "?")}` };
  });
  if (!healthy && run.lastFailureUnreachable) return unreachable(ctx);
  await run.check("append-needs-token", async () => {
    const r = await call("POST", turnsUrl, { body: sent[0], headers: callerHeaders(undefined, apiKey), timeoutMs });
    expect(r.status === 401, `POST without a token: expected 401, got ${r.status}: ${brief(r)}`, r.status);
    expect(isJsonObject(r), `expected a JSON body, got ${brief(r)}`, r.status);
    return { status: r.status, ms: r.ms, detail: "POST without a token refused" };
  });
  await run.check("append-turns", async () => {
    expect(ctx.token, NO_TOKEN_HINT);
    let last: CallResult | undefined;
    let total = 0;
    for (const t of sent) {
      if (!firstPostAt) firstPostAt = Date.now();
      last = await call("POST", turnsUrl, { body: t, headers: keyHeaders, timeoutMs });
      total += last.ms;
      expect(last.status !== 401, `a valid token was refused (401): ${brief(last)}`, last.status);
      expect(last.status !== 403 || apiKey, NO_KEY_HINT, last.status);
      expect(last.status === 201, `turn ${accepted + 1}: expected 201, got ${last.status}: ${brief(last)}`, last.status);
      accepted++;
    }
    return { status: last?.status, ms: total, detail: `${sent.length} turns appended to ${sessionId}` };
  });
  // Strongly consistent first: it bypasses Redis and DAX, and gives an eventually consistent
  // read through DAX (next) a moment more to see the new turns.
  await run.check("read-needs-token", async () => {
    const r = await call("GET", `${base}/sessions/${sessionId}`, { headers: callerHeaders(undefined, apiKey), timeoutMs });
    expect(r.status === 401, `GET without a token: expected 401, got ${r.status}: ${brief(r)}`, r.status);
    return { status: r.status, ms: r.ms, detail: "GET without a token refused" };
  });
  if (ctx.otherToken) {
    const other = callerHeaders(ctx.otherToken, apiKey);
    await run.check("other-customer-404", async () => {
      const read = await call("GET", `${base}/sessions/${sessionId}`, { headers: other, timeoutMs });
      expect(read.status === 404, `another customer's GET: expected 404, got ${read.status}: ${brief(read)}`, read.status);
      expect(!read.text.includes(sent[0].content), "another customer's 404 leaks the session's content", read.status);
      const append = await call("POST", turnsUrl, { body: { role: "user", content: "not mine" }, headers: other, timeoutMs });
      expect(append.status === 404, `another customer's POST: expected 404, got ${append.status}: ${brief(append)}`, append.status);
      return { status: 404, ms: read.ms + append.ms, detail: "another customer's read and append: 404, as for a missing session" };
    });
  } else run.skip("other-customer-404", "no second customer's token (--other-token, or the twin's sample_token_other)");
  await run.check("consistent-read", async () => {
    const r = await call("GET", `${base}/sessions/${sessionId}?consistent=true`, { headers: keyHeaders, timeoutMs });
    expect(r.status === 200, `expected 200, got ${r.status}: ${brief(r)}`, r.status);
    const problem = sameTurns(r.json as Context);
    expect(!problem, problem!, r.status);
    expect(r.header("x-cache") === "BYPASS", `expected X-Cache: BYPASS with consistent=true, got ${r.header("x-cache") ?? "none"}`, r.status);
    return { status: r.status, ms: r.ms, detail: "consistent=true: X-Cache: BYPASS, same turns" };
  });
  await run.check("context-in-order", async () => {
    const r = await call("GET", `${base}/sessions/${sessionId}`, { headers: keyHeaders, timeoutMs });
    expect(r.status === 200, `expected 200, got ${r.status}: ${brief(r)}`, r.status);
    const body = r.json as Context;
    const problem = sameTurns(body);
    expect(!problem, problem!, r.status);
    expect(typeof body.customerId === "string" && body.customerId !== "", `the session has no owner (customerId ${body.customerId})`, r.status);
    return { status: r.status, ms: r.ms, detail: `${sent.length} turns in order (X-Cache: ${r.header("x-cache") ?? "none"})` };
  });
  await run.check("context-cached", async () => {
    const { r, reads } = await readUntilHit(`${base}/sessions/${sessionId}`, timeoutMs, keyHeaders);
    expect(r.status === 200, `expected 200, got ${r.status}: ${brief(r)}`, r.status);
    expect(r.header("x-cache") === "HIT", `expected X-Cache: HIT on a repeated read, got ${r.header("x-cache") ?? "none"} for ${STREAM_SETTLE_MS / 1000} s`, r.status);
    const problem = sameTurns(r.json as Context);
    expect(!problem, problem!, r.status);
    return { status: r.status, ms: r.ms, detail: `X-Cache: HIT${reads > 1 ? ` (read ${reads}: the appends' stream invalidation came in between)` : ""}` };
  });
  const wsUrl = typeof ctx.outputs.websocket_url === "string" && ctx.outputs.websocket_url ? ctx.outputs.websocket_url : undefined;
  if (wsUrl) {
    await run.check("websocket", async () => {
      expect(ctx.token, NO_TOKEN_HINT);
      const r = await socketRoundTrip({ url: wsUrl, base, sessionId, token: ctx.token!, headers: keyHeaders, timeoutMs });
      accepted++; // the socket's turn counts against the customer's window too
      return { status: 200, ...r };
    });
  } else run.skip("websocket", "the outputs have no websocket_url (a stack without a WebSocket API)");
  await commonChecks(ctx, "/sessions/bad%20id!", keyHeaders);

  // Last: it fills the customer's window with more turns.
  const fromOutputs = (k: string) => (typeof ctx.outputs[k] === "number" ? (ctx.outputs[k] as number) : typeof ctx.outputs[k] === "string" && /^\d+$/.test(ctx.outputs[k] as string) ? Number(ctx.outputs[k]) : undefined);
  const limit = fromOutputs("rate_limit_per_window") ?? (typeof health.rate_limit_per_window === "number" ? health.rate_limit_per_window : undefined);
  const windowSeconds = fromOutputs("rate_limit_window_seconds") ?? (typeof health.rate_limit_window_seconds === "number" ? health.rate_limit_window_seconds : undefined);
  if (limit === undefined || windowSeconds === undefined) {
    await run.check("rate-limit", async () => {
      throw new Error("the rate limit is neither in the outputs (rate_limit_per_window) nor in GET /health");
    });
    return;
  }
  if (limit - accepted > ctx.maxRateLimitRequests) {
    run.skip("rate-limit", `limit ${limit} per ${windowSeconds} s needs more than --max-rate-limit-requests ${ctx.maxRateLimitRequests} requests`);
    return;
  }
  await run.check("rate-limit", async () => {
    let r: CallResult | undefined;
    let total = 0;
    for (let i = 0; i < limit + 2 && accepted <= limit + 1; i++) {
      r = await call("POST", turnsUrl, { body: { role: "user", content: `rate limit probe ${i}` }, headers: keyHeaders, timeoutMs });
      total += r.ms;
      if (r.status === 429) break;
      expect(r.status === 201, `probe ${i + 1}: expected 201 or 429, got ${r.status}: ${brief(r)}`, r.status);
      accepted++;
    }
    expect(r && r.status === 429, `no 429 after ${accepted} turns (limit ${limit} per ${windowSeconds} s)`, r?.status);
    const retryAfter = r.header("retry-after");
    expect(retryAfter && /^\d+$/.test(retryAfter) && Number(retryAfter) >= 1, `429 without a valid Retry-After (got ${retryAfter ?? "none"})`, r.status);
    expect(isJsonObject(r), `expected a JSON body, got ${brief(r)}`, r.status);
    const inWindow = Date.now() - firstPostAt < windowSeconds * 1000;
    expect(accepted <= limit, `${accepted} turns accepted, more than the limit ${limit}`, r.status);
    expect(!inWindow || accepted === limit, `429 after ${accepted} turns; the limit is ${limit} per ${windowSeconds} s`, r.status);
    return { status: r.status, ms: total, detail: `429 after ${accepted} turns (limit ${limit}/${windowSeconds} s), Retry-After: ${retryAfter}` };
  });
  ctx.note(`cleanup: session ${sessionId} has no delete route; its items expire through the table's TTL (expiresAt)`);
}

export const SUITES: Record<StackKind, (ctx: SuiteContext) => Promise<void>> = {
  "product-catalog": productCatalogSuite,
  "session-store": sessionStoreSuite,
};
