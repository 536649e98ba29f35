/**
 * The post-deploy smoke suite run against the local twin of each stack kind, through the
 * outputs file the twin writes (as against a deployment's `cdktf deploy --outputs-file`), and
 * proof that it fails against a broken deployment: a twin whose cache always misses, and a
 * URL where nothing answers.
 */
import { writeFileSync } from "fs";
import * as path from "path";
import { requireCompiledTools, runSmoke, startTwin, TwinProcess, unusedPort } from "./twin-process";

jest.setTimeout(120_000);

interface Report {
  stack: string;
  kind: string;
  ok: boolean;
  failed: number;
  checks: Array<{ name: string; outcome: string; status?: number; latencyMs: number; detail: string }>;
}

const PRODUCT_CHECKS = [
  "health", "write-needs-token", "put-create", "get-miss", "get-hit", "cache-control", "put-update",
  "get-after-update", "delete", "get-after-delete", "malformed-id", "unknown-route",
];
const SESSION_CHECKS = [
  "health", "append-needs-token", "append-turns", "read-needs-token", "other-customer-404", "consistent-read", "context-in-order",
  "context-cached", "websocket", "malformed-id", "unknown-route", "rate-limit",
];

let products: TwinProcess;
let sessions: TwinProcess;

beforeAll(async () => {
  requireCompiledTools();
  [products, sessions] = await Promise.all([startTwin(["--seed", "2"]), startTwin(["--stack", "session-store-dev", "--seed", "1"])]);
});

afterAll(async () => {
  await Promise.all([products?.stop(), sessions?.stop()]);
});

function report(stdout: string): Report {
  return JSON.parse(stdout) as Report;
}

describe("smoke suite against the local twin", () => {
  test("the outputs file has the shape of cdktf output --outputs-file, with local values", () => {
    const out = products.outputs();
    expect(Object.keys(out).sort()).toEqual(
      ["alarm_topic_arn", "api_url", "dashboard_name", "dax_endpoint", "function_name", "invalidation_failures_queue_url", "lambda_endpoint",
        "redis_auth_secret_arn", "redis_endpoint", "redis_port", "sample_token", "sample_token_other", "table_name", "warm_function_name"],
    );
    expect(out.alarm_topic_arn).toBe(""); // no local CloudWatch: empty, like dax_endpoint
    // Twin only: Lambda's Invoke API on the twin's port, for `npm run warm`.
    expect(out.lambda_endpoint).toBe(products.url);
    // The on-failure queue is a JSONL file next to the outputs file.
    expect(out.invalidation_failures_queue_url).toBe(path.join(path.dirname(products.outputsFile), "product-catalog-dev-invalidator-36ffe1-failures.jsonl"));
    expect(out.dashboard_name).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(out.api_url).toBe(`${products.url}/v1`);
    expect(out.table_name).toMatch(/^product-catalog-dev-products-/);
    expect(out.function_name).toMatch(/^product-catalog-dev-fn-/);
    // Twin only: two customers' tokens, signed by the twin's issuer for the stack's authorizer.
    const claims = (t: unknown) => JSON.parse(Buffer.from(String(t).split(".")[1], "base64url").toString("utf8"));
    expect(claims(out.sample_token)).toMatchObject({ iss: "https://login.cachefront.example/", aud: "cachefront-api", sub: "twin-customer-1" });
    expect(claims(out.sample_token_other).sub).toBe("twin-customer-2");
    expect(out).toMatchObject({ dax_endpoint: "", redis_auth_secret_arn: "", redis_endpoint: "127.0.0.1" });
    expect(typeof out.redis_port).toBe("number");
  });

  test("--seed loads sample data through the handler, ready for curl", async () => {
    expect(products.stdout()).toMatch(/^seed: 2 product\(s\): sample-1, sample-2$/m);
    const product = await fetch(`${products.url}/v1/products/sample-2`);
    expect(product.status).toBe(200);
    expect(await product.json()).toMatchObject({ productId: "sample-2", name: "Sample product 2", currency: "EUR" });
    // Seeded sessions belong to sample-customer-<i>: no token is 401, another customer's token 404 (npm run token mints the owner's).
    expect((await fetch(`${sessions.url}/v1/sessions/sample-1`)).status).toBe(401);
    const other = await fetch(`${sessions.url}/v1/sessions/sample-1`, { headers: { authorization: `Bearer ${sessions.outputs().sample_token}` } });
    expect(other.status).toBe(404);
  });

  test("product-catalog-dev passes every check", async () => {
    const r = await runSmoke(["--outputs", products.outputsFile, "--json"]);
    const rep = report(r.stdout);
    expect({ code: r.code, failed: rep.checks.filter((c) => c.outcome !== "pass") }).toEqual({ code: 0, failed: [] });
    expect(rep.checks.map((c) => c.name)).toEqual(PRODUCT_CHECKS);
    expect(rep).toMatchObject({ stack: "product-catalog-dev", kind: "product-catalog", ok: true, failed: 0 });
    // One line per check on stderr (stdout carries the JSON report), with status and latency.
    for (const name of PRODUCT_CHECKS) expect(r.stderr).toMatch(new RegExp(`^PASS  ${name} +\\d{3}? +\\d+ ms`, "m"));
  });

  test("session-store-dev passes every check, reading the rate limit from the deployment", async () => {
    const r = await runSmoke(["--outputs", sessions.outputsFile, "--json"]);
    const rep = report(r.stdout);
    expect({ code: r.code, failed: rep.checks.filter((c) => c.outcome !== "pass") }).toEqual({ code: 0, failed: [] });
    expect(rep.checks.map((c) => c.name)).toEqual(SESSION_CHECKS);
    expect(rep.checks.find((c) => c.name === "rate-limit")!.detail).toMatch(/^429 after 30 turns \(limit 30\/60 s\), Retry-After: \d+$/);
  });

  test("an outputs file with both stacks needs --stack, and --stack picks one", async () => {
    const both = path.join(products.dir, "both.json");
    writeFileSync(both, JSON.stringify({ "product-catalog-dev": products.outputs(), "session-store-dev": sessions.outputs() }));
    const ambiguous = await runSmoke(["--outputs", both]);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr.trim()).toBe(`error: outputs file ${both} holds stacks product-catalog-dev, session-store-dev: pick one with --stack`);
    const picked = await runSmoke(["--outputs", both, "--stack", "product-catalog-dev"]);
    expect(picked.code).toBe(0);
    expect(picked.stdout).toMatch(/^smoke: ok: 12 passed, 0 failed, 0 skipped/m);
  });
});

describe("smoke suite against a broken deployment", () => {
  test("fails (exit 1) on a twin whose cache always misses, naming the check", async () => {
    const broken = await startTwin(["--break-cache"]);
    try {
      const r = await runSmoke(["--outputs", broken.outputsFile, "--json"]);
      expect(r.code).toBe(1);
      const rep = report(r.stdout);
      expect(rep.ok).toBe(false);
      expect(rep.checks.filter((c) => c.outcome === "fail").map((c) => [c.name, c.detail])).toEqual([
        ["get-hit", "expected X-Cache: HIT on a read after the first, got MISS for 3 s"],
      ]);
      expect(r.stderr).toMatch(/^FAIL  get-hit +200 +\d+ ms  expected X-Cache: HIT/m);
    } finally {
      await broken.stop();
    }
  });

  test("fails (exit 1) when the cross-customer check meets the owner's own token, and when the token is not the issuer's", async () => {
    const out = sessions.outputs();
    // The second customer's window is nearly empty (the first run used the first customer's).
    const other = String(out.sample_token_other);
    const same = await runSmoke(["--outputs", sessions.outputsFile, "--token", other, "--other-token", other, "--max-rate-limit-requests", "1", "--json"]);
    expect(same.code).toBe(1);
    expect(report(same.stdout).checks.filter((c) => c.outcome === "fail").map((c) => c.name)).toEqual(["other-customer-404"]);
    const [h, p] = String(out.sample_token).split(".");
    const forged = await runSmoke(["--outputs", sessions.outputsFile, "--token", `${h}.${p}.${"A".repeat(342)}`, "--json"]);
    expect(forged.code).toBe(1);
    expect(report(forged.stdout).checks.find((c) => c.name === "append-turns")).toMatchObject({ outcome: "fail", status: 401 });
  });

  test("fails (exit 1) on the websocket check alone when nothing answers at websocket_url", async () => {
    const port = await unusedPort();
    const file = path.join(sessions.dir, "no-websocket.json");
    writeFileSync(file, JSON.stringify({ "session-store-dev": { ...sessions.outputs(), websocket_url: `ws://127.0.0.1:${port}/ws/v1` } }));
    // The second customer's window still has room (the first's was filled by the passing run).
    const out = sessions.outputs();
    const r = await runSmoke(["--outputs", file, "--token", String(out.sample_token_other), "--other-token", String(out.sample_token), "--max-rate-limit-requests", "1", "--json"]);
    expect(r.code).toBe(1);
    expect(report(r.stdout).checks.filter((c) => c.outcome === "fail").map((c) => [c.name, c.detail])).toEqual([["websocket", expect.stringMatching(/ECONNREFUSED/)]]);
  });

  test("fails (exit 1) quickly when nothing answers at api_url", async () => {
    const port = await unusedPort();
    const file = path.join(products.dir, "nowhere.json");
    writeFileSync(file, JSON.stringify({ "product-catalog-dev": { ...products.outputs(), api_url: `http://127.0.0.1:${port}/v1` } }));
    const started = Date.now();
    const r = await runSmoke(["--outputs", file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL  health .*ECONNREFUSED/m);
    expect(r.stdout).toMatch(/^FAIL  reachable .*cannot be reached/m);
    expect(r.stdout).toMatch(/^smoke: FAILED: 0 passed, 2 failed/m);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
