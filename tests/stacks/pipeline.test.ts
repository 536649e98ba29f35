/**
 * The default app's delivery pipeline: one stack deploying every other stack of the app, dev
 * before prod, with deploy permissions that cover what those stacks really contain.
 */
import { Testing } from "cdktf";
import { readFileSync } from "fs";
import * as path from "path";
import { DEPLOY_ENV, serviceOfType } from "../../modules";
import { buildApp } from "../../stacks/app";
import { DeliveryPipelineStack } from "../../stacks/pipeline";
import { decodeJsonencode, onlyResource, resourcesOf, SynthJson } from "../helpers/synth";

const app = buildApp(Testing.app());
const pipelineStack = app.node.findChild("delivery-pipeline") as DeliveryPipelineStack;
const json: SynthJson = JSON.parse(Testing.synth(pipelineStack));
const stackJson = (id: string): SynthJson => JSON.parse(Testing.synth(app.node.findChild(id) as never));
const pkg = JSON.parse(readFileSync(path.resolve(__dirname, "../../package.json"), "utf8"));

const STAGES = {
  account: ["account-baseline-us-east-1"],
  dev: ["network-dev", "product-catalog-dev", "session-store-dev"],
  prod: ["network-prod", "product-catalog-prod", "session-store-prod"],
} as const;

/** The deploy policy statements of a stage. */
function deployPolicy(stage: string): any[] {
  const p = resourcesOf(json, "aws_iam_role_policy").map(([, r]) => r).find((r) => r.name === "deploy" && r.role.includes(`deploy-${stage}-role`));
  return decodeJsonencode(p.policy).Statement;
}

describe("the default app's delivery pipeline", () => {
  test("is one stack in the prod environment's region, building this package's repository", () => {
    expect(app.node.children.filter((c) => c instanceof DeliveryPipelineStack)).toHaveLength(1);
    expect(json.provider.aws[0].region).toBe("us-east-1");
    const source = onlyResource(json, "aws_codepipeline").stage[0].action[0].configuration;
    expect(`https://github.com/${source.FullRepositoryId}`).toBe(pkg.repository.url.replace(/^git\+/, "").replace(/\.git$/, ""));
  });

  test("deploys the account baseline, then dev (its network first), then prod after a manual approval", () => {
    const stages = onlyResource(json, "aws_codepipeline").stage;
    expect(stages.map((s: any) => [s.name, s.action.map((a: any) => a.name)])).toEqual([
      ["Source", ["Source"]], ["Check", ["Check"]], ["Deploy-account", ["Deploy"]], ["Deploy-dev", ["Deploy"]], ["Deploy-prod", ["Approve", "Deploy"]],
    ]);
    for (const [stage, stacks] of Object.entries(STAGES)) {
      const project = resourcesOf(json, "aws_codebuild_project").find(([id]) => id.startsWith(`pipeline_deploy-${stage}_`))![1];
      const env = Object.fromEntries(project.environment.environment_variable.map((v: any) => [v.name, v.value]));
      expect(env[DEPLOY_ENV.stacks]).toBe(stacks.join(" "));
    }
  });

  test.each(Object.entries(STAGES))("the %s deploy role covers every resource type and every role of its stacks", (stage, stacks) => {
    const statements = deployPolicy(stage);
    const services = new Set<string>(statements.find((s) => s.Sid === "ServicesOfTheStacks").Action.map((a: string) => a.split(":")[0]));
    const rolePatterns: RegExp[] = statements.find((s) => s.Sid === "RolesAndPoliciesOfTheStacks").Resource
      .filter((r: string) => r.includes(":role/"))
      .map((r: string) => new RegExp(`^${r.replace(/^.*:role\//, "").replace(/[.*+?^${}()|[\]\\]/g, (c) => (c === "*" ? ".*" : `\\${c}`))}$`));
    for (const id of stacks) {
      const j = stackJson(id);
      for (const type of [...Object.keys(j.resource ?? {}), ...Object.keys(j.data ?? {})]) {
        const s = serviceOfType(type);
        expect({ type, covered: s === null || s === "iam" || services.has(s!) }).toEqual({ type, covered: true });
      }
      for (const [, role] of resourcesOf(j, "aws_iam_role")) {
        expect({ role: role.name, covered: rolePatterns.some((p) => p.test(role.name)) }).toEqual({ role: role.name, covered: true });
      }
    }
  });

  test("declares the outputs a person needs after the first deploy", () => {
    expect(Object.keys(json.output ?? {}).sort()).toEqual(["artifact_bucket", "connection_arn", "pipeline_name", "state_bucket"]);
    expect(json.output!.connection_arn.description).toMatch(/PENDING/);
  });
});
