/**
 * The edge invalidator: a batch of stream records becomes one CreateInvalidation of the changed
 * products' edge paths (deduplicated), sent with the real AWS SDK to the twin's emulation of
 * CloudFront's API (AWS itself is the only thing emulated); a retried batch is the same
 * invalidation (CloudFront bills it once); a refusal reports the batch for Lambda to retry.
 */
import { createServer, Server } from "http";
import { AddressInfo } from "net";
import { CONNECTIONS, edgePathsOf, defineEdgeInvalidator, defineContract, HEALTH_ROUTE } from "../../functions/lib/contract";
import { createHandler } from "../../functions/invalidator/edge-products";
import { PRODUCTS } from "../../functions/products/contract";
import { SESSIONS } from "../../functions/sessions/contract";
import { LocalCloudFrontApi, LocalInvalidation } from "../../tools/twin/cloudfront-api";
import { FAKE_CREDENTIALS } from "../../tools/twin/local";
import { streamEvent, streamRecord } from "./stream-events";

process.env.LOG_LEVEL = "silent";
// The twin's CloudFront API checks SigV4 against the twin's credentials, as the functions get them.
Object.assign(process.env, FAKE_CREDENTIALS);

const DIST = "E2EDGETEST123";
let server: Server;
let api: LocalCloudFrontApi;
const applied: LocalInvalidation[] = [];
let endpoint = "";

beforeAll(async () => {
  api = new LocalCloudFrontApi(new Set([DIST]), (inv) => applied.push(inv));
  server = createServer((req, res) => (api.handles(req) ? api.handle(req, res) : (res.writeHead(404), res.end())));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => (applied.length = 0));

const env = (distributionId = DIST) => ({
  [CONNECTIONS.tableName.env]: "products",
  [CONNECTIONS.edgeDistributionId.env]: distributionId,
  [CONNECTIONS.cloudfrontEndpoint.env]: endpoint,
});
const change = (id: string, seq: string) => streamRecord("products", "MODIFY", { productId: { S: id } }, seq);

describe("edgePathsOf", () => {
  test("a product's path from its table key; nothing for a contract whose cached routes are the caller's", () => {
    expect(edgePathsOf(PRODUCTS, { productId: "p 1" })).toEqual(["/products/p%201"]);
    expect(edgePathsOf(SESSIONS, { PK: "SESSION#s1", SK: "META" })).toEqual([]);
  });
  test("a cached route with query strings is invalidated with every variant (one wildcard path)", () => {
    const c = defineContract({
      name: "q", entry: "x.ts", description: "q", settings: {}, metrics: [], table: { partitionKey: { name: "id", type: "S" } },
      routes: [HEALTH_ROUTE, { name: "get", method: "GET", path: "/items/{id}", summary: "s", access: "public", cached: true, query: { lang: false } }],
    });
    expect(edgePathsOf(c, { id: "a" })).toEqual(["/items/a*"]);
  });
  test("an edge invalidator of a contract with nothing cached at the edge is refused", () => {
    expect(() => defineEdgeInvalidator(SESSIONS, { entry: "x.ts" })).toThrow(/no public cached GET route/);
  });
});

describe("the products edge invalidator, through the AWS SDK", () => {
  test("one invalidation per batch, paths deduplicated, counted", async () => {
    const h = createHandler({ env: env() });
    const out = await h(streamEvent(change("p1", "1"), change("p2", "2"), change("p1", "3")));
    expect(out).toEqual({ batchItemFailures: [] });
    expect(applied).toHaveLength(1);
    expect(applied[0]).toMatchObject({ distributionId: DIST, paths: ["/products/p1", "/products/p2"] });
  });

  test("Lambda retrying the same batch makes no second invalidation (same CallerReference)", async () => {
    const h = createHandler({ env: env() });
    const batch = streamEvent(change("r1", "10"), change("r2", "11"));
    await h(batch);
    await h(batch);
    expect(applied).toHaveLength(1);
    await h(streamEvent(change("r1", "12")));
    expect(applied).toHaveLength(2);
  });

  test("CloudFront refusing (an unknown distribution) reports the batch's first record for Lambda to retry", async () => {
    const h = createHandler({ env: env("E404MISSING") });
    const out = await h(streamEvent(change("x1", "20"), change("x2", "21")));
    expect(out).toEqual({ batchItemFailures: [{ itemIdentifier: "20" }] });
    expect(applied).toHaveLength(0);
  });

  test("a call signed with other credentials is refused (403), so the batch is retried and nothing is invalidated", async () => {
    const saved = process.env.AWS_SECRET_ACCESS_KEY;
    process.env.AWS_SECRET_ACCESS_KEY = "not-the-twins-secret";
    try {
      const h = createHandler({ env: env() });
      const out = await h(streamEvent(change("s1", "25")));
      expect(out).toEqual({ batchItemFailures: [{ itemIdentifier: "25" }] });
      expect(applied).toHaveLength(0);
    } finally {
      process.env.AWS_SECRET_ACCESS_KEY = saved;
    }
  });

  test("a record of another table names no path: skipped, the rest invalidated", async () => {
    const h = createHandler({ env: env() });
    const other = streamRecord("other-table", "MODIFY", { productId: { S: "o1" } }, "30");
    const out = await h(streamEvent(other, change("k1", "31")));
    expect(out).toEqual({ batchItemFailures: [] });
    expect(applied.map((a) => a.paths)).toEqual([["/products/k1"]]);
  });

  test("no distribution id in the environment: the container refuses to start, naming the variable", () => {
    expect(() => createHandler({ env: { [CONNECTIONS.tableName.env]: "products" } })).toThrow(/EDGE_DISTRIBUTION_ID/);
  });
});
