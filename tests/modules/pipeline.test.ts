/**
 * DeliveryPipeline: what it creates (bucket, key, roles, projects, the pipeline's stages), the
 * deploy permissions it derives from the stacks it deploys, its validation, and the buildspecs'
 * backend override script, run for real with node against synthesized stack folders.
 */
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { spawnSync } from "child_process";
import { App, TerraformStack, Testing } from "cdktf";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import {
  BACKEND_OVERRIDE_FILE, BACKEND_OVERRIDE_SCRIPT, CacheTable, DEPLOY_ENV, DeliveryPipeline, DeliveryPipelineProps, PROFILE_CONTEXT_KEY,
  Role, serviceOfType,
} from "../../modules";
import { PolicyPack } from "../../modules/policy";
import { propsError } from "../helpers/props-error";
import { decodeJsonencode, onlyResource, resourcesOf, SynthJson } from "../helpers/synth";

/** A service stack with a table and a role, as the pipeline deploys it. */
function serviceStack(app: App, id: string): TerraformStack {
  const s = new TerraformStack(app, id);
  new AwsProvider(s, "aws", { region: "us-east-1" });
  new CacheTable(s, "table", { partitionKey: { name: "id", type: "S" } });
  new Role(s, "role", { assumedBy: "lambda.amazonaws.com", description: "a function's role" });
  return s;
}

interface Built {
  readonly app: App;
  readonly stack: TerraformStack;
  readonly pipeline: DeliveryPipeline;
  readonly dev: TerraformStack;
  readonly prod: TerraformStack;
}

function build(props: Partial<DeliveryPipelineProps> = {}): Built {
  const app = Testing.app();
  const dev = serviceStack(app, "shop-dev");
  const prod = serviceStack(app, "shop-prod");
  const stack = new TerraformStack(app, "pipeline-stack");
  stack.node.setContext(PROFILE_CONTEXT_KEY, "prod");
  new AwsProvider(stack, "aws", { region: "eu-west-1" });
  const pipeline = new DeliveryPipeline(stack, "pipeline", {
    repository: "acme/shop",
    stages: [{ name: "dev", stacks: [dev] }, { name: "prod", stacks: [prod], approval: true }],
    ...props,
  });
  return { app, stack, pipeline, dev, prod };
}

const synth = (b: Built): SynthJson => JSON.parse(Testing.synth(b.stack));
const byName = (json: SynthJson, type: string) => Object.fromEntries(resourcesOf(json, type).map(([id, r]) => [id, r]));

const error = propsError;

describe("DeliveryPipeline", () => {
  const built = build();
  const json = synth(built);
  const roles = resourcesOf(json, "aws_iam_role").map(([id, r]) => ({ id, ...r, trust: JSON.parse(r.assume_role_policy) }));
  const policies = resourcesOf(json, "aws_iam_role_policy").map(([id, r]) => ({ id, name: r.name, role: r.role, doc: decodeJsonencode(r.policy) }));
  const roleRef = (constructId: string) => `\${aws_iam_role.${roles.find((r) => r.id.startsWith(`pipeline_${constructId}_`))!.id}.id}`;
  const policiesOf = (constructId: string) => policies.filter((p) => p.role === roleRef(constructId));

  test("GIVEN the default props THEN one key with rotation encrypts both buckets, the artifact store and every project", () => {
    const key = onlyResource(json, "aws_kms_key");
    expect(key.enable_key_rotation).toBe(true);
    expect(key.deletion_window_in_days).toBe(30);
    const keyArn = `\${aws_kms_key.${resourcesOf(json, "aws_kms_key")[0][0]}.arn}`;
    const sse = resourcesOf(json, "aws_s3_bucket_server_side_encryption_configuration").map(([, r]) => r.rule[0].apply_server_side_encryption_by_default);
    expect(sse).toEqual([{ sse_algorithm: "aws:kms", kms_master_key_id: keyArn }, { sse_algorithm: "aws:kms", kms_master_key_id: keyArn }]);
    for (const [, p] of resourcesOf(json, "aws_codebuild_project")) expect(p.encryption_key).toBe(keyArn);
    expect(onlyResource(json, "aws_codepipeline").artifact_store[0].encryption_key).toEqual({ id: keyArn, type: "KMS" });
  });

  test("THEN each bucket is versioned, private (all four blocks, ACLs off), TLS-only, with old versions expiring", () => {
    expect(resourcesOf(json, "aws_s3_bucket")).toHaveLength(2);
    for (const [, v] of resourcesOf(json, "aws_s3_bucket_versioning")) expect(v.versioning_configuration.status).toBe("Enabled");
    for (const [, b] of resourcesOf(json, "aws_s3_bucket_public_access_block")) {
      expect(b).toMatchObject({ block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true });
    }
    for (const [, o] of resourcesOf(json, "aws_s3_bucket_ownership_controls")) expect(o.rule.object_ownership).toBe("BucketOwnerEnforced");
    for (const [, p] of resourcesOf(json, "aws_s3_bucket_policy")) {
      const [s] = decodeJsonencode(p.policy).Statement;
      expect(s).toMatchObject({ Effect: "Deny", Principal: "*", Action: "s3:*", Condition: { Bool: { "aws:SecureTransport": "false" } } });
    }
    const lifecycles = resourcesOf(json, "aws_s3_bucket_lifecycle_configuration").map(([id, l]) => [id.split("_")[1], l.rule[0]]);
    expect(Object.fromEntries(lifecycles)).toEqual({
      artifacts: expect.objectContaining({ expiration: [{ days: 30 }], noncurrent_version_expiration: [{ noncurrent_days: 1 }] }),
      state: expect.objectContaining({ noncurrent_version_expiration: [{ noncurrent_days: 90 }] }),
    });
    expect(Object.fromEntries(lifecycles).state.expiration).toBeUndefined(); // Terraform state never expires
  });

  test("THEN every role is trusted by exactly one service: codepipeline for the pipeline, codebuild for the builds", () => {
    const trusted = Object.fromEntries(roles.map((r) => [r.id.split("_")[1], r.trust.Statement.map((s: any) => s.Principal.Service)]));
    expect(trusted).toEqual({
      "pipeline-role": ["codepipeline.amazonaws.com"],
      "check-role": ["codebuild.amazonaws.com"],
      "deploy-dev-role": ["codebuild.amazonaws.com"],
      "deploy-prod-role": ["codebuild.amazonaws.com"],
    });
  });

  test("THEN the pipeline role may start only its projects, use only its connection and its artifact bucket", () => {
    const statements = policiesOf("pipeline-role").flatMap((p) => p.doc.Statement);
    const projects = resourcesOf(json, "aws_codebuild_project").map(([id]) => `\${aws_codebuild_project.${id}.arn}`);
    expect(statements.find((s: any) => s.Action.includes("codebuild:StartBuild")).Resource.sort()).toEqual(projects.sort());
    const connection = `\${aws_codestarconnections_connection.${resourcesOf(json, "aws_codestarconnections_connection")[0][0]}.arn}`;
    expect(statements.find((s: any) => s.Action.includes("codestar-connections:UseConnection")).Resource).toEqual([connection]);
    for (const s of statements) {
      expect(s.Resource).not.toContain("*");
      for (const a of s.Action) expect(a).not.toMatch(/(^\*$|:\*$)/);
    }
  });

  test("THEN the check role can write its logs and read artifacts, nothing else", () => {
    expect(policiesOf("check-role").map((p) => p.name).sort()).toEqual(["artifacts-read", "build-key", "build-logs"]);
    const actions = policiesOf("check-role").flatMap((p) => p.doc.Statement.flatMap((s: any) => s.Action));
    expect(actions.filter((a: string) => !/^(s3:(Get|List)|kms:(Decrypt|GenerateDataKey)|logs:(CreateLogStream|PutLogEvents))/.test(a))).toEqual([]);
  });

  test("THEN the stages are Source, Check, Deploy-dev, Deploy-prod; only prod waits for an approval, before its deploy", () => {
    const p = onlyResource(json, "aws_codepipeline");
    expect(p.pipeline_type).toBe("V2");
    expect(p.stage.map((s: any) => s.name)).toEqual(["Source", "Check", "Deploy-dev", "Deploy-prod"]);
    expect(p.stage[0].action[0]).toMatchObject({
      provider: "CodeStarSourceConnection", output_artifacts: ["source"],
      configuration: { FullRepositoryId: "acme/shop", BranchName: "main", OutputArtifactFormat: "CODE_ZIP" },
    });
    expect(p.stage[2].action.map((a: any) => a.category)).toEqual(["Build"]);
    expect(p.stage[3].action.map((a: any) => [a.category, a.provider, a.run_order])).toEqual([["Approval", "Manual", 1], ["Build", "CodeBuild", 2]]);
    expect(p.stage[3].action[0].configuration.CustomData).toContain("shop-prod");
    expect(p.trigger[0].git_configuration).toEqual({ source_action_name: "Source", push: [{ branches: { includes: ["main"] } }] });
  });

  test("THEN each deploy project deploys its stage's stacks, with state going to the pipeline's bucket", () => {
    const projects = byName(json, "aws_codebuild_project");
    const env = (stage: string) => Object.fromEntries(Object.entries(projects).find(([id]) => id.startsWith(`pipeline_deploy-${stage}_`))![1]
      .environment.environment_variable.map((v: any) => [v.name, v.value]));
    expect(env("dev")[DEPLOY_ENV.stacks]).toBe("shop-dev");
    expect(env("prod")[DEPLOY_ENV.stacks]).toBe("shop-prod");
    expect(env("prod")[DEPLOY_ENV.stateKeyPrefix]).toBe("cachefront/");
    expect(env("prod")[DEPLOY_ENV.stateBucket]).toMatch(/^\$\{aws_s3_bucket\.pipeline_state_bucket_[A-F0-9]+\.bucket\}$/);
    for (const [, p] of Object.entries(projects)) {
      expect(p.environment).toMatchObject({ compute_type: "BUILD_GENERAL1_SMALL", privileged_mode: false, image: "aws/codebuild/standard:7.0" });
      expect(p.logs_config.cloudwatch_logs.status).toBe("ENABLED");
    }
    for (const [, g] of resourcesOf(json, "aws_cloudwatch_log_group")) expect(g.retention_in_days).toBe(90);
  });

  test("THEN the buildspecs are YAML CodeBuild reads: a checksummed Terraform, npm ci, then the check or the deploy", () => {
    const specs = Object.fromEntries(resourcesOf(json, "aws_codebuild_project").map(([id, p]) => [id.split("_")[1], parseYaml(p.source.buildspec)]));
    for (const s of Object.values(specs)) {
      expect(s.version).toBe("0.2");
      expect(s.phases.install["runtime-versions"]).toEqual({ nodejs: "20" });
      expect(s.phases.install.commands.join("\n")).toMatch(/terraform_1\.11\.4_linux_amd64\.zip[\s\S]*sha256sum -c -/);
      expect(s.phases.build.commands[0]).toBe("npm ci");
    }
    expect(specs.check.phases.build.commands).toEqual(["npm ci", "npm run check"]);
    const deploy = specs["deploy-prod"].phases.build.commands;
    expect(deploy[1]).toBe("npx cdktf synth");
    expect(deploy[2]).toMatch(/^node -e '/);
    expect(deploy[3]).toBe(`npx cdktf deploy $${DEPLOY_ENV.stacks} --skip-synth --auto-approve`);
  });

  test("THEN the deploy policy covers the services of the stage's stacks, IAM only on their roles, and never the pipeline's key", () => {
    const deploy = policiesOf("deploy-prod-role").find((p) => p.name === "deploy")!.doc.Statement;
    const sids = Object.fromEntries(deploy.map((s: any) => [s.Sid, s]));
    expect(sids.ServicesOfTheStacks.Action).toEqual(["dynamodb:*"]); // a table (and a role) is all shop-prod holds
    expect(sids.RolesAndPoliciesOfTheStacks.Resource.map((r: string) => r.replace(/^.*:iam::\$\{[^}]+\}:/, ""))).toEqual([
      "role/shop-prod-*", "policy/shop-prod-*", "instance-profile/shop-prod-*",
    ]);
    expect(sids.NotThePipelinesOwnKey).toMatchObject({ Effect: "Deny", Resource: [expect.stringMatching(/^\$\{aws_kms_key\./)] });
    // shop-prod's role really is named under that prefix
    const prodRole = JSON.parse(Testing.synth(built.prod)).resource.aws_iam_role;
    expect(Object.values(prodRole).map((r: any) => r.name)).toEqual([expect.stringMatching(/^shop-prod-/)]);
  });

  test("THEN the policy pack passes it with no error, and suppresses only the deploy policies' broad grants, with reasons", () => {
    const report = new PolicyPack({ onReport: () => undefined }).evaluate(built.stack);
    expect(report.summary.errors).toBe(0);
    expect(report.summary.unknown).toBe(0);
    const suppressed = report.findings.filter((f) => f.status === "suppressed");
    expect([...new Set(suppressed.map((f) => `${f.ruleId} ${f.path}`))].sort()).toEqual([
      "CF-IAM-2 pipeline-stack/pipeline/deploy-dev-role/policy-deploy", "CF-IAM-2 pipeline-stack/pipeline/deploy-prod-role/policy-deploy",
      "CF-IAM-5 pipeline-stack/pipeline/deploy-dev-role/policy-deploy", "CF-IAM-5 pipeline-stack/pipeline/deploy-prod-role/policy-deploy",
    ]);
    for (const id of ["CF-S3-1", "CF-S3-2", "CF-S3-3", "CF-S3-4", "CF-IAM-4"]) {
      expect({ id, passed: report.findings.some((f) => f.ruleId === id && f.status === "pass") }).toEqual({ id, passed: true });
    }
  });

  // The rules see the real resources: loosen one through an escape hatch and the pack reports it.
  test.each([
    ["CF-S3-3", (b: Built) => b.pipeline.state.node.findChild("public-access-block"), "block_public_policy", false],
    ["CF-S3-1", (b: Built) => b.pipeline.artifacts.node.findChild("encryption"), "rule.0.apply_server_side_encryption_by_default.sse_algorithm", "AES256"],
    ["CF-IAM-4", (b: Built) => b.pipeline.deployRoles.get("dev")!.resource, "assume_role_policy",
      JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: "arn:aws:iam::123456789012:root" }, Action: "sts:AssumeRole" }] })],
  ] as const)("GIVEN %s broken on the pipeline's own resource THEN the policy pack reports it as an error", (rule, target, attribute, value) => {
    const b = build();
    (target(b) as unknown as { addOverride(p: string, v: unknown): void }).addOverride(attribute, value);
    const report = new PolicyPack({ onReport: () => undefined }).evaluate(b.stack);
    expect(report.findings.filter((f) => f.status === "fail" && f.severity === "error").map((f) => f.ruleId)).toEqual([rule]);
  });

  test("GIVEN a resource added to a deployed stack after the pipeline THEN the deploy policy includes its service (computed at synth)", () => {
    const b = build();
    new CacheTable(b.dev, "late", { partitionKey: { name: "id", type: "S" } });
    const { SnsTopic } = jest.requireActual("@cdktf/provider-aws/lib/sns-topic");
    new SnsTopic(b.dev, "topic", { name: "late" });
    const devPolicy = resourcesOf(synth(b), "aws_iam_role_policy").map(([, r]) => r).find((r) => r.name === "deploy" && r.role.includes("deploy-dev-role"));
    expect(decodeJsonencode(devPolicy.policy).Statement[0].Action).toEqual(["dynamodb:*", "sns:*"]);
  });

  test("GIVEN a resource type whose IAM service is unknown THEN synthesis fails naming the stage, type and stack", () => {
    const b = build();
    const { TerraformResource } = jest.requireActual("cdktf");
    new TerraformResource(b.prod, "odd", { terraformResourceType: "aws_quantum_computer" });
    expect(() => Testing.synth(b.stack, true)).toThrow(/pipeline-stack\/pipeline\] stages\[prod\]: the stacks declare aws_quantum_computer \(shop-prod\)/);
    expect(serviceOfType("aws_quantum_computer")).toBeUndefined();
    expect(serviceOfType("aws_cloudwatch_log_group")).toBe("logs");
    expect(serviceOfType("aws_cloudwatch_metric_alarm")).toBe("cloudwatch");
    expect(serviceOfType("aws_iam_policy_document")).toBeNull();
  });

  test("GIVEN deployPolicyArns THEN they are attached instead of the generated policy; GIVEN connectionArn THEN no new connection", () => {
    const arn = "arn:aws:codestar-connections:eu-west-1:123456789012:connection/0b6f4c6e-1234-4c3e-9f00-123456789abc";
    const j = synth(build({ deployPolicyArns: ["arn:aws:iam::123456789012:policy/shop-deployer"], connectionArn: arn }));
    expect(resourcesOf(j, "aws_iam_role_policy").map(([, r]) => r.name)).not.toContain("deploy");
    expect(resourcesOf(j, "aws_iam_role_policy_attachment").map(([, r]) => r.policy_arn)).toEqual(Array(2).fill("arn:aws:iam::123456789012:policy/shop-deployer"));
    expect(resourcesOf(j, "aws_codestarconnections_connection")).toEqual([]);
    expect(onlyResource(j, "aws_codepipeline").stage[0].action[0].configuration.ConnectionArn).toBe(arn);
  });

  test("GIVEN bad props THEN one error names the construct path and every field, value and what is allowed", () => {
    const app = Testing.app();
    const dev = serviceStack(app, "shop-dev");
    const stack = new TerraformStack(app, "p");
    new AwsProvider(stack, "aws", { region: "eu-west-1" });
    const err = error(() => new DeliveryPipeline(stack, "pipeline", {
      repository: "not a repo",
      branch: "feature..x",
      connectionArn: "arn:aws:s3:::bucket",
      terraformVersion: "latest",
      computeType: "BUILD_GENERAL1_HUGE",
      deployPolicyArns: ["AdministratorAccess"],
      artifactRetentionDays: 0,
      stages: [{ name: "dev", stacks: [dev, stack] }, { name: "dev", stacks: [dev] }, { name: "bad name!", stacks: [] }],
    }));
    expect(err.constructPath).toBe("p/pipeline");
    expect(err.problems.map((p) => p.field)).toEqual([
      "repository", "branch", "connectionArn", "terraformVersion", "computeType", "artifactRetentionDays", "deployPolicyArns[0]",
      "stages[0].stacks[1]", "stages[1].name", "stages[1].stacks[0]", "stages[2].name", "stages[2].stacks",
    ]);
    expect(err.message).toContain('- stages[0].stacks[1] = "p": a stack other than the pipeline\'s own');
    expect(err.message).toContain('- stages[1].stacks[0] = "shop-dev": a stack no earlier stage deploys (stage dev does)');
    expect(err.message).toContain('- repository = "not a repo": a GitHub repository as "owner/name"');
    expect(() => new DeliveryPipeline(new TerraformStack(Testing.app(), "q"), "pipeline", { repository: "a/b", stages: [] })).toThrow(/stages = 0: at least one deploy stage/);
  });
});

describe("the deploy build's backend override script", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "backend-override-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function stackDir(name: string, backend: Record<string, unknown>, data?: Record<string, unknown>): string {
    const d = path.join(dir, "cdktf.out", "stacks", name);
    mkdirSync(d, { recursive: true });
    writeFileSync(path.join(d, "cdk.tf.json"), JSON.stringify({ terraform: { backend }, ...(data ? { data } : {}) }));
    return d;
  }
  const run = (stacks: string) => spawnSync(process.execPath, ["-e", BACKEND_OVERRIDE_SCRIPT], {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, [DEPLOY_ENV.stacks]: stacks, [DEPLOY_ENV.stateBucket]: "state-bucket", [DEPLOY_ENV.stateRegion]: "eu-west-1",
      [DEPLOY_ENV.stateKeyArn]: "arn:aws:kms:eu-west-1:123456789012:key/k", [DEPLOY_ENV.stateKeyPrefix]: "cachefront/" },
  });

  test("GIVEN a stack with cdktf's local backend THEN its state moves to the pipeline's bucket; a stack with its own S3 backend keeps it", () => {
    const local = stackDir("a-dev", { local: { path: "terraform.a-dev.tfstate" } });
    const own = stackDir("b-dev", { s3: { bucket: "theirs", key: "b.tfstate" } });
    const r = run("a-dev b-dev");
    expect(r.status).toBe(0);
    expect(JSON.parse(readFileSync(path.join(local, BACKEND_OVERRIDE_FILE), "utf8"))).toEqual({
      terraform: { backend: { s3: { bucket: "state-bucket", key: "cachefront/a-dev.tfstate", region: "eu-west-1", encrypt: true,
        kms_key_id: "arn:aws:kms:eu-west-1:123456789012:key/k", use_lockfile: true } } },
    });
    expect(existsSync(path.join(own, BACKEND_OVERRIDE_FILE))).toBe(false);
    expect(r.stdout).toContain("b-dev: keeps its own S3 backend");
  });

  test("GIVEN a stack reading a network stack's outputs from local state THEN it reads them from that stack's key in the bucket", () => {
    const input = "cross-stack-reference-input-network-dev";
    const svc = stackDir("svc-dev", { local: { path: "../../../terraform.svc-dev.tfstate" } },
      { terraform_remote_state: { [input]: { backend: "local", config: { path: "../../../terraform.network-dev.tfstate" } } } });
    const r = run("svc-dev");
    expect(r.status).toBe(0);
    const override = JSON.parse(readFileSync(path.join(svc, BACKEND_OVERRIDE_FILE), "utf8"));
    expect(override.data.terraform_remote_state[input]).toEqual({
      backend: "s3",
      config: { bucket: "state-bucket", key: "cachefront/network-dev.tfstate", region: "eu-west-1", encrypt: true, kms_key_id: "arn:aws:kms:eu-west-1:123456789012:key/k" },
    });
    expect(override.terraform.backend.s3.key).toBe("cachefront/svc-dev.tfstate");
    expect(r.stdout).toContain("svc-dev: reads the outputs of network-dev from s3://state-bucket/cachefront/network-dev.tfstate");
  });

  test("GIVEN a stack with another remote backend THEN the build stops before deploying", () => {
    stackDir("c-prod", { remote: { organization: "x" } });
    const r = run("c-prod");
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("c-prod: backend remote is neither local nor s3");
  });
});
