/**
 * The move from the shared AUTH token to per-function IAM users, as a sequence of plans: each step's
 * configuration (tests/terraform/apps/token-migration-app.ts) is planned offline with the real
 * provider against the state the previous step's apply would leave (harness.stateFromPlan), and
 * each plan must have the shape help/caching.md promises: nothing replaced, the replication group
 * modified in place once, the functions switched in a step of their own.
 */
import { spawnSync } from "child_process";
import { mkdtempSync, rmSync } from "fs";
import * as os from "os";
import * as path from "path";
import { awsResourceSchemas, disposeHarnessSession, effectiveActions, harnessSession, limiter, PlanJson, planOffline, stateFromPlan } from "../../tools/lib/terraform-harness";

const REPO = path.resolve(__dirname, "..", "..");
const APP = path.join(REPO, "dist", "tests", "terraform", "apps", "token-migration-app.js");
const STEPS = ["token", "attach", "switch", "iam"] as const;

jest.setTimeout(400_000);

const root = mkdtempSync(path.join(os.tmpdir(), "cachefront-migration-"));
const plans = new Map<string, PlanJson>();

/** The actions of every managed resource whose plan is not a no-op, by address (placeholder-only updates are no-ops). */
function changes(plan: PlanJson): Record<string, string> {
  return Object.fromEntries((plan.resource_changes ?? [])
    .filter((c) => c.mode === "managed" && effectiveActions(c) !== "no-op")
    .map((c) => [c.address, effectiveActions(c)]));
}
const ofType = (plan: PlanJson, type: string) => Object.entries(changes(plan)).filter(([a]) => a.startsWith(`${type}.`)).map(([, act]) => act);
const change = (plan: PlanJson, type: string) => (plan.resource_changes ?? []).find((c) => c.type === type)!.change as { before: any; after: any };

beforeAll(async () => {
  harnessSession();
  const init = limiter(1);
  let state: object | undefined;
  let schemas: Awaited<ReturnType<typeof awsResourceSchemas>> | undefined;
  for (const step of STEPS) {
    const out = path.join(root, step);
    const r = spawnSync(process.execPath, [APP], { cwd: REPO, env: { ...process.env, CDKTF_OUTDIR: out, CACHEFRONT_MIGRATION_STEP: step }, encoding: "utf8", timeout: 120_000 });
    if (r.status !== 0) throw new Error(`synth of step ${step} failed:\n${r.stderr}`);
    const stackDir = path.join(out, "stacks", "token-migration-prod");
    // Only the first configuration is validated on its own: the later ones differ in a few values, and plan validates them.
    const run = await planOffline(stackDir, init, state, { validate: step === "token" });
    if (run.error) throw run.error;
    plans.set(step, run.plan!);
    // The provider (and so its schemas) is the same at every step: read them once.
    schemas ??= await awsResourceSchemas(path.join(harnessSession().root, "stacks", "token-migration-prod"));
    state = stateFromPlan(run.plan!, schemas);
  }
});

afterAll(() => {
  disposeHarnessSession();
  rmSync(root, { recursive: true, force: true });
});

test("no step replaces or destroys the cache, its users or the function", () => {
  for (const step of STEPS) {
    for (const [address, actions] of Object.entries(changes(plans.get(step)!))) {
      if (/^aws_(elasticache_replication_group|elasticache_user|elasticache_user_group|lambda_function)\./.test(address)) {
        expect({ step, address, actions }).toEqual({ step, address, actions: step === "token" ? "create" : expect.stringMatching(/^(create|update)$/) });
      }
    }
  }
});

test("1 token: the cache with its AUTH token (ROTATE), the token secret", () => {
  const plan = plans.get("token")!;
  expect(Object.values(changes(plan)).every((a) => a === "create")).toBe(true);
  expect(change(plan, "aws_elasticache_replication_group").after).toMatchObject({ auth_token_update_strategy: "ROTATE" });
  expect(ofType(plan, "aws_elasticache_user")).toEqual([]);
});

test("2 attach: users and group created, the group attached and the token dropped in one in-place modify (DELETE); functions untouched", () => {
  const plan = plans.get("attach")!;
  expect(ofType(plan, "aws_elasticache_user").sort()).toEqual(["create", "create"]);
  expect(ofType(plan, "aws_elasticache_user_group")).toEqual(["create"]);
  expect(ofType(plan, "aws_elasticache_replication_group")).toEqual(["update"]);
  const rg = change(plan, "aws_elasticache_replication_group");
  expect(rg.after.auth_token_update_strategy).toBe("DELETE");
  expect(rg.after.auth_token ?? null).toBeNull();
  expect(ofType(plan, "aws_lambda_function")).toEqual([]);
  expect(ofType(plan, "aws_secretsmanager_secret")).toEqual([]);
});

test("3 switch: only the function changes (its environment: its own IAM user)", () => {
  const plan = plans.get("switch")!;
  expect(ofType(plan, "aws_lambda_function")).toEqual(["update"]);
  const env = change(plan, "aws_lambda_function").after.environment[0].variables;
  expect(env).toMatchObject({ REDIS_AUTH_MODE: "iam" });
  expect(env.REDIS_AUTH_SECRET_ARN).toBeUndefined();
  expect(ofType(plan, "aws_elasticache_replication_group")).toEqual([]);
  expect(ofType(plan, "aws_elasticache_user")).toEqual([]);
});

test("4 iam: the token's default user disabled in place, the token secret and its grant destroyed", () => {
  const plan = plans.get("iam")!;
  expect(ofType(plan, "aws_elasticache_user")).toEqual(["update"]);
  expect(change(plan, "aws_elasticache_user").after).toMatchObject({ access_string: "off -@all" });
  expect(ofType(plan, "aws_secretsmanager_secret")).toEqual(["delete"]);
  expect(ofType(plan, "aws_secretsmanager_secret_version")).toEqual(["delete"]);
  expect(ofType(plan, "aws_lambda_function")).toEqual([]);
  expect(Object.values(changes(plan)).filter((a) => a !== "update" && a !== "delete")).toEqual([]);
});

