/**
 * `npm run plan` (tools/plan): one stack planned offline with the harness's configuration, and the
 * CLI configuration it prints for `cdktf diff`/`deploy`, used by a real `terraform init` with no
 * network. Runs in the terraform project (real terraform, the local provider mirror).
 */
import { spawnSync } from "child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import * as os from "os";
import * as path from "path";
import { cliConfigForMirror, runPlan } from "../../tools/plan/main";
import { findProviderMirror } from "../../tools/lib/terraform-harness";

jest.setTimeout(240_000);

const ROOT = path.resolve(__dirname, "..", "..");
const APP = path.join(ROOT, "dist", "main.js");
const STACK = "delivery-pipeline"; // the smallest stack of the default app
let work: string;

beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), "cachefront-plan-tool-"));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

test("GIVEN a stack THEN it synthesizes and plans offline: one line per resource and terraform's summary", async () => {
  const lines: string[] = [];
  const outdir = path.join(work, "out");
  const code = await runPlan({ root: ROOT, app: APP, outdir, stack: STACK, diff: false, skipSynth: false, log: (t) => lines.push(t) });
  const text = lines.join("\n");
  expect({ code, text }).toEqual({ code: 0, text: expect.stringMatching(/Plan: \d+ to add, 0 to change, 0 to destroy\./) });
  expect(text).toMatch(/^ {2}aws_codepipeline\.\S+ will be created$/m);
  expect(text).toContain("fake credentials, nothing reaches AWS");
});

test("GIVEN a .terraform folder left by cdktf diff in the output THEN --diff still plans, and prints every attribute", async () => {
  const outdir = path.join(work, "out");
  // What `cdktf diff` leaves behind: a backend other than the harness's local one.
  const dotTerraform = path.join(outdir, "stacks", STACK, ".terraform");
  mkdirSync(dotTerraform, { recursive: true });
  writeFileSync(path.join(dotTerraform, "terraform.tfstate"), JSON.stringify({ version: 3, backend: { type: "s3", config: { bucket: "b", key: "k" }, hash: 1 } }));
  const lines: string[] = [];
  const code = await runPlan({ root: ROOT, app: APP, outdir, stack: STACK, diff: true, skipSynth: true, log: (t) => lines.push(t) });
  expect({ code, tail: lines.slice(-3).join("\n") }).toEqual({ code: 0, tail: expect.stringContaining("Plan:") });
  expect(lines.join("\n")).toMatch(/pipeline_type\s+= "V2"/);
});

test("GIVEN an unknown stack THEN a usage error lists the stacks", async () => {
  await expect(runPlan({ root: ROOT, app: APP, outdir: path.join(work, "out"), stack: "nope", diff: false, skipSynth: true, log: () => undefined }))
    .rejects.toThrow(/no stack "nope" .*the app has: account-baseline-us-east-1, delivery-pipeline, network-dev, network-prod, product-catalog-dev/);
});

describe("--print-cli-config", () => {
  const mirror = findProviderMirror();

  test("GIVEN no mirror anywhere THEN it says where it looked instead of printing a config", () => {
    const c = cliConfigForMirror({}, [path.join(work, "nothing-here")]);
    expect(c).toEqual({ ok: false, reason: expect.stringContaining("no local mirror of registry.terraform.io/hashicorp/aws 5.100.0") });
  });

  (mirror ? test : test.skip)("GIVEN the local mirror THEN real terraform init installs the AWS provider from it with that config alone", () => {
    const c = cliConfigForMirror();
    if (!c.ok) throw new Error(c.reason);
    expect(c.text).toContain(`path    = ${JSON.stringify(mirror)}`);
    const rc = path.join(work, "terraform.rc");
    writeFileSync(rc, c.text);
    const dir = path.join(work, "init");
    cpSync(path.join(work, "out", "stacks", STACK), dir, { recursive: true, filter: (s) => path.basename(s) !== ".terraform" });
    // No harness override, no plugin cache: only the printed file, as cdktf would run terraform.
    const r = spawnSync("terraform", ["init", "-input=false", "-backend=false", "-no-color"], {
      cwd: dir, encoding: "utf8", timeout: 180_000,
      env: { PATH: process.env.PATH, HOME: work, TF_CLI_CONFIG_FILE: rc, CHECKPOINT_DISABLE: "1", TF_IN_AUTOMATION: "1" },
    });
    expect({ status: r.status, out: r.stdout + r.stderr }).toEqual({ status: 0, out: expect.stringMatching(/Installed hashicorp\/aws v5\.100\.0/) });
  });
});
