/**
 * The product catalog on Valkey Serverless, on Memcached, and on Redis/Valkey nodes with rotated
 * password users (tests/terraform/apps/cache-variants-app.ts): each synthesizes, passes the policy
 * pack, and plans offline with the real provider, creating the cache of its kind.
 */
import { spawnSync } from "child_process";
import { mkdtempSync, readdirSync, rmSync } from "fs";
import * as os from "os";
import * as path from "path";
import { disposeHarnessSession, harnessSession, limiter, OfflinePlan, planOffline } from "../../tools/lib/terraform-harness";

const REPO = path.resolve(__dirname, "..", "..");
const APP = path.join(REPO, "dist", "tests", "terraform", "apps", "cache-variants-app.js");

jest.setTimeout(300_000);

const outdir = mkdtempSync(path.join(os.tmpdir(), "cachefront-variants-"));
const synth = spawnSync(process.execPath, [APP], { cwd: REPO, env: { ...process.env, CDKTF_OUTDIR: outdir }, encoding: "utf8", timeout: 120_000 });
const names = synth.status === 0 ? readdirSync(path.join(outdir, "stacks")).sort() : [];
let plans: Record<string, Promise<OfflinePlan>> = {};

beforeAll(() => {
  harnessSession();
  const init = limiter(1);
  const two = limiter(2);
  // plan validates the configuration first: a separate validate would only repeat it
  plans = Object.fromEntries(names.map((n) => [n, two(() => planOffline(path.join(outdir, "stacks", n), init, undefined, { validate: false }))]));
});

afterAll(async () => {
  await Promise.all(Object.values(plans));
  disposeHarnessSession();
  rmSync(outdir, { recursive: true, force: true });
});

/** Types of the resources `name`'s plan creates (it must only create). */
async function created(name: string): Promise<string[]> {
  return (await createdResources(name)).map((c) => c.type);
}

async function createdResources(name: string): Promise<Array<{ address: string; type: string }>> {
  const run = await plans[name];
  if (run.error) throw run.error;
  const managed = (run.plan?.resource_changes ?? []).filter((c) => c.mode === "managed");
  expect(managed.filter((c) => c.change.actions.join(",") !== "create").map((c) => c.address)).toEqual([]);
  return managed;
}

test("the variants synthesize (policy pack included)", () => {
  expect(synth.stderr + synth.stdout).not.toMatch(/error\(s\)[^\n]*[1-9]\d* error/);
  expect(synth.status).toBe(0);
  expect(names).toEqual(["product-catalog-memcached-prod", "product-catalog-password-dev", "product-catalog-serverless-prod"]);
});

test("Valkey Serverless: the serverless cache, its user group and the functions' IAM users; no nodes", async () => {
  const types = await created("product-catalog-serverless-prod");
  expect(types).toContain("aws_elasticache_serverless_cache");
  // the disabled default user, the function's, its stream invalidator's and its warm function's
  expect(types.filter((t) => t === "aws_elasticache_user")).toHaveLength(4);
  expect(types).toContain("aws_elasticache_user_group");
  expect(types).not.toContain("aws_elasticache_replication_group");
  expect(types).not.toContain("aws_secretsmanager_secret");
});

test("Memcached: a memcached cluster with its parameter group; no users, no secrets", async () => {
  const types = await created("product-catalog-memcached-prod");
  expect(types).toContain("aws_elasticache_cluster");
  expect(types).toContain("aws_elasticache_parameter_group");
  expect(types).not.toContain("aws_elasticache_user");
  expect(types).not.toContain("aws_secretsmanager_secret");
});

test("password users: the user's secret, its rotation, and the rotation function Secrets Manager may invoke", async () => {
  const resources = await createdResources("product-catalog-password-dev");
  const types = resources.map((r) => r.type);
  for (const t of ["aws_secretsmanager_secret", "aws_secretsmanager_secret_version", "aws_secretsmanager_secret_rotation", "aws_lambda_permission"]) {
    expect(types).toContain(t);
  }
  // one rotation function for the cache, rotating the three wired functions' passwords (service, invalidator, warm function)
  expect(resources.filter((r) => r.type === "aws_lambda_function" && r.address.includes("rotator"))).toHaveLength(1);
  expect(types.filter((t) => t === "aws_secretsmanager_secret_rotation")).toHaveLength(3);
});
