/**
 * Every stack of the default app must pass real `terraform init` (from the local provider mirror),
 * `validate` and `plan` with no network and fake credentials. See help/testing-offline.md.
 */
import { spawnSync } from "child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "fs";
import * as os from "os";
import * as path from "path";
import {
  AWS_PROVIDER,
  disposeUnlessKept,
  expectOk,
  FAKE_ACCESS_KEY,
  harnessSession,
  limiter,
  noMirrorHint,
  OVERRIDE_FILE,
  prepareStack,
  runTerraform,
  TerraformResult,
} from "../../tools/lib/terraform-harness";

const REPO = path.resolve(__dirname, "..", "..");
/** The app to synthesize; the default app unless overridden (handy to try the harness on a scratch app). */
const APP = process.env.CACHEFRONT_TF_APP ? path.resolve(process.env.CACHEFRONT_TF_APP) : path.join(REPO, "dist", "main.js");
/** Two stacks at a time: each plan keeps one 675 MB provider process busy, and CI has 2 cores. */
const CONCURRENCY = 2;

jest.setTimeout(240_000);

/**
 * Synthesized while jest collects tests rather than in beforeAll: the stack names must be known
 * then, so each stack gets its own named test. Takes about a second.
 */
const synthDir = mkdtempSync(path.join(os.tmpdir(), "cachefront-synth-"));
const stackNames = synthesize(synthDir);

function synthesize(outdir: string): string[] {
  const fail = (why: string): never => {
    rmSync(outdir, { recursive: true, force: true });
    throw new Error(`cannot synthesize ${APP}: ${why}`);
  };
  if (!existsSync(APP)) fail("it does not exist; `npm test` compiles it with tsc first (or run `npx tsc -p tsconfig.json`)");
  const res = spawnSync(process.execPath, [APP], {
    cwd: REPO,
    env: { ...process.env, CDKTF_OUTDIR: outdir },
    encoding: "utf8",
    timeout: 120_000,
  });
  if (res.status !== 0) fail(`exit ${res.status ?? res.signal}\n${res.stderr}\n${res.stdout}`);
  const stacksDir = path.join(outdir, "stacks");
  return existsSync(stacksDir) ? readdirSync(stacksDir).sort() : [];
}

const stackDir = (name: string) => path.join(synthDir, "stacks", name);
const stackJson = (name: string) => JSON.parse(readFileSync(path.join(stackDir(name), "cdk.tf.json"), "utf8"));

interface StackRun {
  readonly steps: TerraformResult[];
  /** Set when a step failed (or the harness itself did); the message carries terraform's stderr. */
  readonly error?: Error;
  /** The plan's summary line of a successful run: resources to add, change and destroy. */
  readonly plan?: { add: number; change: number; destroy: number };
}

/**
 * init → plan; never rejects, so a stack whose test is filtered out cannot crash the file. No
 * separate `validate` (plan validates the configuration first) and no `show` (the summary line
 * says what the plan does): each cost about 5 s a stack.
 */
async function runStack(name: string, init: ReturnType<typeof limiter>): Promise<StackRun> {
  const steps: TerraformResult[] = [];
  const step = async (run: () => Promise<TerraformResult>) => {
    const r = await run();
    steps.push(r);
    return expectOk(r, name);
  };
  try {
    const { dir } = prepareStack(stackDir(name));
    const tf = (args: string[]) => () => runTerraform(args, dir);
    try {
      await step(() => init(tf(["init", "-input=false"])));
    } catch (e) {
      const mirror = harnessSession().mirror;
      throw mirror ? e : new Error(`${(e as Error).message}\n--- harness ---\n${noMirrorHint()}`);
    }
    const plan = await step(tf(["plan", "-input=false", "-lock=false", "-refresh=false", "-no-color"]));
    const m = /Plan: (\d+) to add, (\d+) to change, (\d+) to destroy\./.exec(plan.stdout);
    if (!m) throw new Error(`${name}: the plan printed no summary line:\n${plan.stdout.slice(-2000)}`);
    return { steps, plan: { add: Number(m[1]), change: Number(m[2]), destroy: Number(m[3]) } };
  } catch (e) {
    return { steps, error: e as Error };
  }
}

let runs: Array<Promise<StackRun>> = [];

beforeAll(() => {
  harnessSession();
  // All stacks start now, CONCURRENCY at a time; each test below awaits its own stack.
  const stacks = limiter(CONCURRENCY);
  const init = limiter(1);
  runs = stackNames.map((name) => stacks(() => runStack(name, init)));
});

afterAll(async () => {
  // Wait for terraform to finish before deleting the folders it works in.
  const done = await Promise.all(runs);
  const table = done.map(
    (r, i) =>
      `  ${stackNames[i].padEnd(28)} ` +
      r.steps.map((s) => `${s.args[0]} ${(s.ms / 1000).toFixed(1)}s`).join("  ") +
      (r.error ? "  FAILED" : ""),
  );
  if (table.length > 0) {
    process.stderr.write(`terraform timings (mirror: ${harnessSession().mirror ?? "none, registry init"}):\n${table.join("\n")}\n`);
  }
  disposeUnlessKept(synthDir);
});

test("the default app synthesizes its account baseline, networks and service stacks", () => {
  if (!process.env.CACHEFRONT_TF_APP) {
    expect(stackNames).toEqual(expect.arrayContaining(["account-baseline-us-east-1", "network-dev", "network-prod", "product-catalog-dev", "session-store-prod"]));
  }
  expect(stackNames.length).toBeGreaterThanOrEqual(4);
  for (const name of stackNames) expect(existsSync(path.join(stackDir(name), "cdk.tf.json"))).toBe(true);
});

test("every stack pins the AWS provider version the offline mirror holds", () => {
  for (const name of stackNames) {
    const required = stackJson(name).terraform?.required_providers?.aws;
    expect({ stack: name, version: required?.version }).toEqual({ stack: name, version: AWS_PROVIDER.version });
  }
});

// describe.each refuses an empty table; the count test above reports that case.
describe.each(stackNames.length > 0 ? stackNames : ["(none synthesized)"])("stack %s", (name) => {
  test("terraform init and plan succeed offline, and the plan creates every resource and changes nothing", async () => {
    const pending = runs[stackNames.indexOf(name)];
    if (!pending) throw new Error("no stack was synthesized");
    const run = await pending;
    if (run.error) throw run.error;
    expect(run.steps.map((s) => s.args[0])).toEqual(["init", "plan"]);
    // every managed resource of the configuration (none uses count or for_each), each once
    const resources = Object.values<Record<string, unknown>>(stackJson(name).resource ?? {}).reduce((n, byName) => n + Object.keys(byName).length, 0);
    expect(resources).toBeGreaterThan(0);
    expect(run.plan).toEqual({ add: resources, change: 0, destroy: 0 });
  });
});

test("the harness override never reaches the synthesized output", async () => {
  // Runs after the stack tests so it also proves the copies were used and the output left alone.
  await Promise.all(runs);
  for (const name of stackNames) {
    expect(existsSync(path.join(stackDir(name), OVERRIDE_FILE))).toBe(false);
    const raw = readFileSync(path.join(stackDir(name), "cdk.tf.json"), "utf8");
    expect(raw).not.toContain(FAKE_ACCESS_KEY);
    const json = JSON.parse(raw);
    const providers: Array<Record<string, unknown>> = [json.provider?.aws ?? []].flat();
    expect(providers.length).toBeGreaterThan(0);
    for (const p of providers) {
      const leaked = Object.keys(p).filter((k) => k.startsWith("skip_") || k === "access_key" || k === "secret_key");
      expect({ stack: name, leaked }).toEqual({ stack: name, leaked: [] });
    }
    expect(String(json.terraform?.backend?.local?.path ?? "")).not.toContain(harnessSession().root);
  }
});
