/**
 * The twin's Redis has the stack's ElastiCache users (ACL SETUSER with the synthesized access
 * strings) and each function process logs in as its own: its requests work, and the same user
 * addressing another service's keys gets NOPERM.
 */
import { readFileSync } from "fs";
import Redis from "ioredis";
import * as path from "path";
import { requireCompiledTools, ROOT, startTwin, TwinProcess } from "./twin-process";

jest.setTimeout(120_000);

let twin: TwinProcess;
let admin: Redis;

beforeAll(async () => {
  requireCompiledTools();
  twin = await startTwin(["--stack", "product-catalog-dev"]);
  const out = twin.outputs();
  admin = new Redis({ host: String(out.redis_endpoint), port: Number(out.redis_port), lazyConnect: true });
  await admin.connect();
});

afterAll(async () => {
  admin?.disconnect();
  await twin?.stop("SIGTERM");
});

test("the function logs in as its own user, whose rules are the synthesized access string; another service's keys are refused", async () => {
  // GIVEN the stack's function user, as synthesized
  const json = JSON.parse(readFileSync(path.join(ROOT, "cdktf.out", "stacks", "product-catalog-dev", "cdk.tf.json"), "utf8"));
  const fnUser = Object.values<any>(json.resource.aws_elasticache_user).find((u) => u.user_name !== "default");
  expect(fnUser.authentication_mode.type).toBe("iam");

  // WHEN a product is written and read twice through the API
  // writes need a verified caller: the twin's issuer signs a sample token (outputs.sample_token)
  const token = twin.outputs().sample_token as string;
  const put = await fetch(`${twin.url}/v1/products/acl-1`, {
    method: "PUT", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify({ name: "Pen", price: 2.5 }),
  });
  expect(put.status).toBe(201);
  // (the write's stream event may invalidate a fill made before it arrives: read until a HIT, 5 s at most)
  let cacheHeader: string | null = null;
  for (const until = Date.now() + 5_000; cacheHeader !== "HIT" && Date.now() < until;) {
    const r = await fetch(`${twin.url}/v1/products/acl-1`);
    await r.arrayBuffer();
    cacheHeader = r.headers.get("x-cache");
  }
  // THEN the cache worked (HIT), through a connection of the function's user
  expect(cacheHeader).toBe("HIT");
  expect(String(await admin.call("CLIENT", "LIST"))).toContain(`user=${fnUser.user_name}`);
  const rules = (await admin.call("ACL", "GETUSER", fnUser.user_name)) as unknown[];
  const keys = rules[rules.indexOf("keys") + 1];
  expect(keys).toBe(fnUser.access_string.split(" ").find((t: string) => t.startsWith("~")));

  // AND that user, addressing another service's keys, is refused by the twin's Redis
  await admin.set("session-store-dev:{s1}", "someone else's");
  const asFn = new Redis({ host: admin.options.host, port: admin.options.port, username: fnUser.user_name, password: "any-token-stands-in-for-iam", lazyConnect: true });
  try {
    await asFn.connect();
    await expect(asFn.get("session-store-dev:{s1}")).rejects.toThrow(/NOPERM/);
    await expect(asFn.del("session-store-dev:{s1}")).rejects.toThrow(/NOPERM/);
    await expect(asFn.call("FLUSHALL")).rejects.toThrow(/NOPERM/);
    // while its own keys are readable to it (a key of its own pattern, written here: the cached product
    // itself may already be gone, invalidated by the table's stream after the PUT)
    const pattern: string = fnUser.access_string.split(" ").find((t: string) => t.startsWith("~")).slice(1);
    const own = pattern.replace(/\*$/, "acl-own}");
    await admin.set(own, "mine");
    await expect(asFn.get(own)).resolves.toBe("mine");
    await expect(admin.get("session-store-dev:{s1}")).resolves.toBe("someone else's");
  } finally {
    asFn.disconnect();
  }
});
