/**
 * help/examples/ci/github-actions.yml, the CI workflow the guide hands out: parsed as YAML and
 * checked for what makes it work and safe (the triggers, the check command, the SARIF upload with
 * its permission, the plan on pull requests, pinned actions, versions in step with this repository).
 */
import { readFileSync } from "fs";
import * as path from "path";
import { parseDocument } from "yaml";
import { AWS_PROVIDER } from "../../tools/lib/terraform-harness";

const ROOT = path.resolve(__dirname, "../..");
const FILE = path.join(ROOT, "help/examples/ci/github-actions.yml");
const TEXT = readFileSync(FILE, "utf8");
const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8"));

type Step = { name?: string; uses?: string; run?: string; if?: string; with?: Record<string, unknown> };
type Workflow = { on: Record<string, unknown>; permissions?: Record<string, string>; env?: Record<string, string>; jobs: Record<string, { permissions?: Record<string, string>; steps: Step[] }> };

function parse(text: string): Workflow {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) throw new Error(doc.errors.map((e) => e.message).join("\n"));
  return doc.toJS() as Workflow;
}

/** Every problem of a workflow, as sentences; empty when it is what the guide promises. */
function workflowProblems(text: string): string[] {
  const wf = parse(text);
  const out: string[] = [];
  if (!wf.on || !("pull_request" in wf.on)) out.push("no pull_request trigger");
  if (!wf.on || !("push" in wf.on)) out.push("no push trigger");
  const top = wf.permissions ?? {};
  if (Object.entries(top).some(([k, v]) => v !== "read" || k !== "contents")) out.push(`top-level permissions beyond contents: read: ${JSON.stringify(top)}`);
  const check = wf.jobs?.check;
  if (!check) return [...out, "no check job"];
  const steps = check.steps ?? [];
  const index = (p: (s: Step) => boolean) => steps.findIndex(p);
  const install = index((s) => s.run?.trim() === "npm ci");
  const run = index((s) => s.run?.trim() === "npm run check");
  const upload = index((s) => /^github\/codeql-action\/upload-sarif@/.test(s.uses ?? ""));
  if (install < 0) out.push("no `npm ci` step");
  if (run < 0) out.push("no `npm run check` step");
  if (install >= 0 && run >= 0 && install > run) out.push("`npm run check` runs before `npm ci`");
  if (upload < 0) out.push("no upload-sarif step");
  else {
    if (upload < run) out.push("the SARIF is uploaded before the check writes it");
    if (steps[upload].with?.sarif_file !== "check-report.sarif") out.push(`upload-sarif's sarif_file is ${JSON.stringify(steps[upload].with?.sarif_file)}`);
    if (!/always\(\)|!cancelled\(\)/.test(String(steps[upload].if ?? ""))) out.push("the SARIF is not uploaded when the check fails");
  }
  if (check.permissions?.["security-events"] !== "write") out.push("the check job lacks security-events: write (upload-sarif needs it)");
  const extra = Object.entries(check.permissions ?? {}).filter(([k, v]) => !(k === "contents" && v === "read") && !(k === "security-events" && v === "write"));
  if (extra.length > 0) out.push(`the check job asks for more: ${JSON.stringify(Object.fromEntries(extra))}`);
  const plan = steps.find((s) => /\bdist\/tools\/plan\/main\.js\b|npm run plan/.test(s.run ?? ""));
  if (!plan) out.push("no plan step");
  else if (!/github\.event_name == 'pull_request'/.test(String(plan.if ?? ""))) out.push("the plan step does not run (only) on pull requests");
  for (const [job, j] of Object.entries(wf.jobs)) {
    for (const s of j.steps ?? []) {
      if (s.uses && !/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/.test(s.uses)) out.push(`${job}: ${s.uses} is not pinned to a commit SHA`);
    }
  }
  for (const line of text.split("\n").filter((l) => /uses: \S+@[0-9a-f]{40}/.test(l))) {
    if (!/# v\d+\.\d+\.\d+\s*$/.test(line)) out.push(`no release comment: ${line.trim()}`);
  }
  return out;
}

describe("the GitHub Actions workflow example", () => {
  test("parses as YAML (no duplicate keys) and has every part the guide promises", () => {
    expect(workflowProblems(TEXT)).toEqual([]);
  });

  test("uses the versions this repository uses: Terraform of the pipeline, the AWS provider of the harness, Node.js of package.json", () => {
    const wf = parse(TEXT);
    expect(wf.env?.AWS_PROVIDER_VERSION).toBe(AWS_PROVIDER.version);
    const pipelineSource = readFileSync(path.join(ROOT, "modules/pipeline/index.ts"), "utf8");
    expect(pipelineSource).toContain(`props.terraformVersion ?? "${wf.env?.TERRAFORM_VERSION}"`);
    const node = wf.jobs.check.steps.find((s) => s.uses?.startsWith("actions/setup-node@"))!.with!["node-version"];
    expect(pkg.engines.node).toBe(`>=${node}`);
  });

  test("runs commands that exist: the npm scripts, and flags the plan tool's usage lists", () => {
    expect(pkg.scripts.check).toBeDefined();
    expect(pkg.scripts.plan).toBeDefined();
    const usage = readFileSync(path.join(ROOT, "tools/plan/main.ts"), "utf8");
    const flags = TEXT.split("\n").filter((l) => l.includes("dist/tools/plan/main.js")).flatMap((l) => l.match(/--[a-z-]+/g) ?? []);
    expect(flags.length).toBeGreaterThan(0);
    for (const f of flags) expect({ f, listed: new RegExp(`\\n\\s+${f}\\s`).test(usage) }).toEqual({ f, listed: true });
  });

  // The checks above can fail: each mutation of the real file is caught, with the reason.
  test.each([
    ["no pull_request trigger", (t: string) => t.replace(/^  pull_request:\n/m, ""), /no pull_request trigger/],
    ["no SARIF permission", (t: string) => t.replace(/^      security-events: write.*\n/m, ""), /security-events: write/],
    ["the upload dropped", (t: string) => t.replace(/github\/codeql-action\/upload-sarif/, "github/codeql-action/analyze"), /no upload-sarif step/],
    ["the upload skipped on failure", (t: string) => t.replace("${{ !cancelled() }}", "success()"), /not uploaded when the check fails/],
    ["an action on a tag", (t: string) => t.replace(/actions\/checkout@[0-9a-f]{40} # v7\.0\.1/, "actions/checkout@v7"), /not pinned to a commit SHA/],
    ["the check command changed", (t: string) => t.replace("run: npm run check", "run: npm test"), /no `npm run check` step/],
    ["a plan on every push", (t: string) => t.replace("if: github.event_name == 'pull_request'", "if: always()"), /only\) on pull requests/],
    ["write-all at the top", (t: string) => t.replace(/^permissions:\n  contents: read/m, "permissions: write-all"), /top-level permissions/],
    ["a duplicate key", (t: string) => t.replace("    timeout-minutes: 30\n", "    timeout-minutes: 30\n    timeout-minutes: 40\n"), /unique|duplicate/i],
  ])("GIVEN %s THEN it is reported", (_name, mutate, problem) => {
    const mutated = mutate(TEXT);
    expect(mutated).not.toBe(TEXT);
    let problems: string[];
    try {
      problems = workflowProblems(mutated);
    } catch (e) {
      problems = [(e as Error).message];
    }
    expect(problems.join("\n")).toMatch(problem);
  });
});
