/**
 * A delivery pipeline for cdktf stacks (seed 004): GitHub source through a CodeStar connection,
 * a check stage (`npm ci && npm run check`), then one deploy stage per environment running
 * `cdktf deploy`, with a manual approval where asked (before prod):
 *
 *   new DeliveryPipeline(this, "pipeline", { repository: "acme/shop", stages: [
 *     { name: "dev", stacks: [shopDev] }, { name: "prod", stacks: [shopProd], approval: true }] });
 *
 * One CodeBuild project (and role) per deploy stage rather than one parameterised project: the
 * prod project's role, logs and build history are its own, and nobody who may start a dev build
 * can start it with prod's stacks by overriding a variable, which would skip the approval.
 */
import { CodebuildProject } from "@cdktf/provider-aws/lib/codebuild-project";
import { Codepipeline, CodepipelineStageAction } from "@cdktf/provider-aws/lib/codepipeline";
import { CodestarconnectionsConnection } from "@cdktf/provider-aws/lib/codestarconnections-connection";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { Fn, Lazy, TerraformStack, Token } from "cdktf";
import { Construct } from "constructs";
import { physicalName } from "../core/naming";
import { byProfile, Profile, profileOf } from "../core/profile";
import { PropsValidator } from "../core/validation";
import { Role } from "../iam";
import { LogGroup } from "../logs";
import { SCOPED_SERVICES, suppressRule } from "../policy";
import { PipelineBucket } from "./bucket";
import { checkBuildspec, DEPLOY_ENV, deployBuildspec } from "./buildspec";
import { awsTypesOf, deployStatements, serviceOfType, unmappedTypes } from "./deploy-permissions";

export { PipelineBucket } from "./bucket";
export type { PipelineBucketProps } from "./bucket";
export { BACKEND_OVERRIDE_FILE, BACKEND_OVERRIDE_SCRIPT, DEPLOY_ENV } from "./buildspec";
export { DEPLOY_SERVICE_OF_TYPE, deployStatements, serviceOfType } from "./deploy-permissions";
export type { DeployStatement, DeployStatementsInput } from "./deploy-permissions";

/** An S3 backend a stack declares itself, whose state objects a deploy build reads and writes. */
export interface StateBackend {
  /** The state bucket's name. */
  readonly bucket: string;
  /** Key prefix of the stacks' state objects, e.g. `cachefront/`. */
  readonly keyPrefix: string;
}

/** One deploy stage of a {@link DeliveryPipeline}. */
export interface DeployStage {
  /** Stage name, e.g. `dev` (1-40 letters, digits, `-`, `_`, `.`); the stage is `Deploy-<name>`. */
  readonly name: string;
  /**
   * The stacks `cdktf deploy` applies in this stage. Their resource types decide which AWS
   * services the stage's deploy role may manage, and their names which IAM roles.
   */
  readonly stacks: readonly TerraformStack[];
  /**
   * A manual approval before the deploy (CodePipeline's Manual action).
   * @default false
   */
  readonly approval?: boolean;
  /**
   * S3 backends the stacks declare themselves (`remoteState` of their config): the deploy role may
   * read and write their state objects. Stacks without one keep their state in the pipeline's state bucket.
   * @default none: every stack's state goes to the pipeline's state bucket
   */
  readonly stateBackends?: readonly StateBackend[];
}

/** Props of {@link DeliveryPipeline}. */
export interface DeliveryPipelineProps {
  /** GitHub repository, `owner/name`. */
  readonly repository: string;
  /**
   * Branch whose pushes start the pipeline.
   * @default "main"
   */
  readonly branch?: string;
  /**
   * ARN of an existing CodeStar/CodeConnections connection to GitHub (one per account is enough).
   * @default a new GitHub connection: AWS creates it PENDING, and someone completes the handshake once in the console (help/pipeline.md)
   */
  readonly connectionArn?: string;
  /** The deploy stages, in order (dev before prod). */
  readonly stages: readonly DeployStage[];
  /**
   * The check stage's command, after `npm ci`.
   * @default "npm run check" (policy pack, terraform validate and an offline plan of every stack)
   */
  readonly checkCommand?: string;
  /**
   * Terraform release the builds install (checked against HashiCorp's SHA256SUMS).
   * @default "1.11.4", the release the offline tests run
   */
  readonly terraformVersion?: string;
  /**
   * Node.js major version of the builds (CodeBuild `runtime-versions`).
   * @default "20"
   */
  readonly nodeVersion?: string;
  /**
   * CodeBuild image.
   * @default "aws/codebuild/standard:7.0" (Ubuntu 22.04, Node.js 18/20)
   */
  readonly buildImage?: string;
  /**
   * CodeBuild compute type of every project.
   * @default "BUILD_GENERAL1_SMALL" (2 vCPUs, 3 GB): the machine `npm run check` is sized for (two plans at a time)
   */
  readonly computeType?: string;
  /**
   * Managed policy ARNs the deploy builds run `cdktf deploy` with, instead of the generated policy.
   * A broad one (AdministratorAccess) fails the policy pack's CF-IAM-3 until you suppress it with a reason.
   * @default a policy generated from the stacks of each stage: every action of the services their resources belong to, IAM only on roles named after the stacks
   */
  readonly deployPolicyArns?: readonly string[];
  /**
   * Days build artifacts (source zips) are kept.
   * @default 30
   */
  readonly artifactRetentionDays?: number;
  /**
   * Retention of the builds' log groups.
   * @default LogGroup's for the profile (90 days in prod, 14 in dev)
   */
  readonly logRetentionDays?: number;
  /**
   * Pipeline name (1-100 letters, digits, `.`, `@`, `-`, `_`).
   * @default derived from the construct path
   */
  readonly pipelineName?: string;
  /**
   * Deployment profile.
   * @default the enclosing stack's profile, else `prod`
   */
  readonly profile?: Profile;
}

/** CodeBuild compute types a project may use (Linux containers). */
export const BUILD_COMPUTE_TYPES = ["BUILD_GENERAL1_SMALL", "BUILD_GENERAL1_MEDIUM", "BUILD_GENERAL1_LARGE", "BUILD_GENERAL1_XLARGE", "BUILD_GENERAL1_2XLARGE"] as const;

/** Key prefix of the state objects in the pipeline's state bucket. */
export const STATE_KEY_PREFIX = "cachefront/";

const REPOSITORY_RE = /^[A-Za-z0-9-]{1,39}\/[A-Za-z0-9._-]{1,100}$/;
// git check-ref-format, simplified: no spaces, `..`, `~^:?*[\`, leading `-` or `/`, trailing `/` or `.lock`.
const BRANCH_RE = /^(?!-|\/)(?!.*(\.\.|\/\/|@\{|\.lock$|\/$))[^\s~^:?*[\\]{1,255}$/;
const STAGE_NAME_RE = /^[A-Za-z0-9._-]{1,40}$/;
const PIPELINE_NAME_RE = /^[A-Za-z0-9.@_-]{1,100}$/;
const CONNECTION_ARN_RE = /^arn:aws[a-z-]*:(codestar-connections|codeconnections):[a-z0-9-]+:\d{12}:connection\/[A-Za-z0-9-]+$/;
const POLICY_ARN_RE = /^arn:aws[a-z-]*:iam::(aws|\d{12}):policy\/[\w+=,.@/-]+$/;

/**
 * A CodePipeline (V2) that checks, then deploys, a cdktf app: artifacts and Terraform state in
 * two {@link PipelineBucket}s under one customer-managed key of the pipeline (rotation on), build
 * logs in log groups with retention, and roles trusted by codepipeline.amazonaws.com or
 * codebuild.amazonaws.com only, each scoped to the bucket, key, connection and projects it uses.
 */
export class DeliveryPipeline extends Construct {
  /** The pipeline's customer-managed key: artifacts, state and build outputs (rotation on). */
  public readonly key: KmsKey;
  /** Build artifacts (the source zip of each run); objects expire after `artifactRetentionDays`. */
  public readonly artifacts: PipelineBucket;
  /** Terraform state of every deployed stack without an S3 backend of its own (`cachefront/<stack>.tfstate`). */
  public readonly state: PipelineBucket;
  /** The GitHub connection this construct created, when `connectionArn` was not given. */
  public readonly connection?: CodestarconnectionsConnection;
  /** @attribute ARN of the GitHub connection the source action uses. */
  public readonly connectionArn: string;
  /** The role CodePipeline runs the pipeline as. */
  public readonly pipelineRole: Role;
  /** The check stage's CodeBuild project. */
  public readonly checkProject: CodebuildProject;
  /** Deploy projects by stage name. */
  public readonly deployProjects: ReadonlyMap<string, CodebuildProject>;
  /** Deploy roles by stage name (the only roles that can change the deployed stacks). */
  public readonly deployRoles: ReadonlyMap<string, Role>;
  /** The Terraform `aws_codepipeline` resource. */
  public readonly pipeline: Codepipeline;
  /** @attribute The pipeline's name. */
  public readonly pipelineName: string;

  constructor(scope: Construct, id: string, props: DeliveryPipelineProps) {
    super(scope, id);
    const profile = profileOf(this, props.profile);
    const branch = props.branch ?? "main";
    const terraformVersion = props.terraformVersion ?? "1.11.4";
    const nodeVersion = props.nodeVersion ?? "20";
    const computeType = props.computeType ?? "BUILD_GENERAL1_SMALL";
    const pipelineName = props.pipelineName ?? physicalName(this, 100);
    validate(this, props, { branch, terraformVersion, nodeVersion, computeType, pipelineName });

    this.pipelineName = pipelineName;
    this.pipelineRole = new Role(this, "pipeline-role", {
      assumedBy: "codepipeline.amazonaws.com",
      description: `Runs the delivery pipeline ${pipelineName}`,
    });
    // The account and partition come from an ARN of this stack: no aws_caller_identity, so plans run offline.
    const arnParts = Fn.split(":", this.pipelineRole.roleArn);
    const partition = Token.asString(Fn.element(arnParts, 1));
    const accountId = Token.asString(Fn.element(arnParts, 4));

    // The default key policy (the account administers the key through IAM) is what lets the
    // roles below use it by their IAM grants alone; no service principal needs the key directly.
    this.key = new KmsKey(this, "key", {
      description: `Encrypts the artifacts, state and build outputs of ${this.node.path}`,
      enableKeyRotation: true,
      deletionWindowInDays: byProfile(profile, { dev: 7, prod: 30 }),
    });
    new KmsAlias(this, "key-alias", { name: `alias/${physicalName(this, 200)}`, targetKeyId: this.key.keyId });
    this.artifacts = new PipelineBucket(this, "artifacts", {
      keyArn: this.key.arn,
      purpose: "artifacts",
      expireObjectsAfterDays: props.artifactRetentionDays ?? 30,
      noncurrentVersionDays: 1,
    });
    this.state = new PipelineBucket(this, "state", { keyArn: this.key.arn, purpose: "terraform-state" });

    if (props.connectionArn === undefined) {
      this.connection = new CodestarconnectionsConnection(this, "github", { name: physicalName(this, 32), providerType: "GitHub" });
    }
    this.connectionArn = props.connectionArn ?? this.connection!.arn;

    const buildOptions = { terraformVersion, nodeVersion };
    const project = (pid: string, role: Role, description: string, buildspec: string, env: Record<string, string> = {}) => {
      const name = physicalName(this, 150, pid);
      const logs = new LogGroup(this, `${pid}-logs`, { name: `/aws/codebuild/${name}`, retentionDays: props.logRetentionDays, profile });
      role.addToPrincipalPolicy("build-logs", [{ actions: ["logs:CreateLogStream", "logs:PutLogEvents"], resources: [`${logs.logGroupArn}:*`] }]);
      this.artifacts.grantRead(role);
      // CodeBuild encrypts what it writes (build outputs, cache) with the project's key.
      role.addToPrincipalPolicy("build-key", [{ actions: ["kms:Decrypt", "kms:GenerateDataKey*"], resources: [this.key.arn] }]);
      return new CodebuildProject(this, pid, {
        name,
        description,
        serviceRole: role.roleArn,
        encryptionKey: this.key.arn,
        buildTimeout: 60,
        source: { type: "CODEPIPELINE", buildspec },
        artifacts: { type: "CODEPIPELINE" },
        environment: {
          type: "LINUX_CONTAINER",
          computeType,
          image: props.buildImage ?? "aws/codebuild/standard:7.0",
          imagePullCredentialsType: "CODEBUILD",
          privilegedMode: false,
          environmentVariable: Object.entries(env).map(([n, value]) => ({ name: n, value, type: "PLAINTEXT" })),
        },
        logsConfig: { cloudwatchLogs: { groupName: logs.logGroupName, status: "ENABLED" }, s3Logs: { status: "DISABLED" } },
      });
    };

    const checkRole = new Role(this, "check-role", { assumedBy: "codebuild.amazonaws.com", description: `Check builds of ${pipelineName}` });
    this.checkProject = project("check", checkRole, `npm ci && ${props.checkCommand ?? "npm run check"} for ${pipelineName}`,
      checkBuildspec({ ...buildOptions, command: props.checkCommand ?? "npm run check" }));

    const deployProjects = new Map<string, CodebuildProject>();
    const deployRoles = new Map<string, Role>();
    for (const stage of props.stages) {
      const names = stage.stacks.map((s) => s.node.id);
      const role = new Role(this, `deploy-${stage.name}-role`, {
        assumedBy: "codebuild.amazonaws.com",
        description: `cdktf deploy of ${names.join(", ")} (${pipelineName})`,
      });
      this.state.grantReadWrite(role, STATE_KEY_PREFIX);
      (stage.stateBackends ?? []).forEach((b, i) => role.addToPrincipalPolicy(`own-state-${i}`, [
        { actions: ["s3:ListBucket", "s3:GetBucketLocation"], resources: [`arn:${partition}:s3:::${b.bucket}`] },
        { actions: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], resources: [`arn:${partition}:s3:::${b.bucket}/${b.keyPrefix}*`] },
      ]));
      this.grantDeploy(role, stage, props.deployPolicyArns, { partition, accountId });
      deployRoles.set(stage.name, role);
      deployProjects.set(stage.name, project(`deploy-${stage.name}`, role, `cdktf deploy ${names.join(" ")} for ${pipelineName}`,
        deployBuildspec(buildOptions), {
          [DEPLOY_ENV.stacks]: names.join(" "),
          [DEPLOY_ENV.stateBucket]: this.state.bucketName,
          [DEPLOY_ENV.stateRegion]: this.state.resource.region,
          [DEPLOY_ENV.stateKeyArn]: this.key.arn,
          [DEPLOY_ENV.stateKeyPrefix]: STATE_KEY_PREFIX,
        }));
    }
    this.deployProjects = deployProjects;
    this.deployRoles = deployRoles;

    const projects = [this.checkProject, ...deployProjects.values()];
    this.artifacts.grantReadWrite(this.pipelineRole);
    this.pipelineRole.addToPrincipalPolicy("source-connection", [
      // Connections made before the CodeConnections rename answer to either action name.
      { actions: ["codestar-connections:UseConnection", "codeconnections:UseConnection"], resources: [this.connectionArn] },
    ]);
    this.pipelineRole.addToPrincipalPolicy("builds", [
      { actions: ["codebuild:StartBuild", "codebuild:BatchGetBuilds"], resources: projects.map((p) => p.arn) },
    ]);

    const build = (name: string, p: CodebuildProject, runOrder = 1): CodepipelineStageAction => ({
      name, category: "Build", owner: "AWS", provider: "CodeBuild", version: "1", runOrder,
      inputArtifacts: ["source"], configuration: { ProjectName: p.name },
    });
    this.pipeline = new Codepipeline(this, "pipeline", {
      name: pipelineName,
      pipelineType: "V2",
      roleArn: this.pipelineRole.roleArn,
      artifactStore: [{ location: this.artifacts.bucketName, type: "S3", encryptionKey: { id: this.key.arn, type: "KMS" } }],
      stage: [
        {
          name: "Source",
          action: [{
            name: "Source", category: "Source", owner: "AWS", provider: "CodeStarSourceConnection", version: "1",
            outputArtifacts: ["source"],
            configuration: { ConnectionArn: this.connectionArn, FullRepositoryId: props.repository, BranchName: branch, OutputArtifactFormat: "CODE_ZIP" },
          }],
        },
        { name: "Check", action: [build("Check", this.checkProject)] },
        ...props.stages.map((s) => ({
          name: `Deploy-${s.name}`,
          action: [
            ...(s.approval ? [{
              name: "Approve", category: "Approval", owner: "AWS", provider: "Manual", version: "1", runOrder: 1,
              configuration: { CustomData: `Deploys ${s.stacks.map((x) => x.node.id).join(", ")}. Approve once the stages before it are healthy.` },
            }] : []),
            build("Deploy", deployProjects.get(s.name)!, s.approval ? 2 : 1),
          ],
        })),
      ],
      trigger: [{
        providerType: "CodeStarSourceConnection",
        gitConfiguration: { sourceActionName: "Source", push: [{ branches: { includes: [branch] } }] },
      }],
    });
  }

  /**
   * What `cdktf deploy` needs: `deployPolicyArns` when given, else the generated policy. The
   * generated one is computed at synth, from the stage's stacks as they are then.
   */
  private grantDeploy(role: Role, stage: DeployStage, arns: readonly string[] | undefined, account: { partition: string; accountId: string }): void {
    if (arns !== undefined) {
      arns.forEach((policyArn, i) => new IamRolePolicyAttachment(role, `deploy-policy-${i}`, { role: role.roleName, policyArn }));
      return;
    }
    const policy = new IamRolePolicy(role, "policy-deploy", {
      name: "deploy",
      role: role.resource.id,
      policy: Lazy.stringValue({
        produce: () => Fn.jsonencode({
          Version: "2012-10-17",
          Statement: deployStatements({ stacks: stage.stacks, ...account, pipelineKeyArn: this.key.arn }),
        }),
      }),
    });
    // Terraform creates, changes and deletes the stacks' tables, clusters, keys and secrets, and a
    // name that does not exist yet cannot be named in a Resource: that is the deploy role's job, not a
    // slip. It is bounded to the stacks' services, IAM is scoped to the stacks' role names, and the
    // manual approval guards prod. Still, it can create roles for those stacks with any policy, so it
    // is as powerful as those roles could be: protect the branch, and see help/pipeline.md.
    // (Only where the stacks hold such resources: a suppression that matches nothing is reported as stale.)
    const services = [...awsTypesOf(stage.stacks).keys()].map(serviceOfType);
    if (services.some((s) => !!s && SCOPED_SERVICES.includes(s))) {
      suppressRule(policy, "CF-IAM-2", "a deploy role manages the stacks' tables, clusters, keys and secrets, including ones not created yet, so it cannot name them in advance");
    }
    suppressRule(policy, "CF-IAM-5", "a deploy role runs terraform apply for every resource type of its stacks; the generated policy lists exactly their services");
    this.node.addValidation({
      validate: () => unmappedTypes(stage.stacks).map((t) =>
        `stages[${stage.name}]: the stacks declare ${t}, whose IAM service the generated deploy policy does not know; ` +
        "pass deployPolicyArns, or add its type prefix to DEPLOY_SERVICE_OF_TYPE"),
    });
  }
}

function validate(
  scope: Construct,
  props: DeliveryPipelineProps,
  resolved: { branch: string; terraformVersion: string; nodeVersion: string; computeType: string; pipelineName: string },
): void {
  const v = PropsValidator.for(scope);
  v.matches("repository", props.repository, REPOSITORY_RE, "a GitHub repository as \"owner/name\"");
  v.matches("branch", resolved.branch, BRANCH_RE, "a git branch name");
  v.matches("connectionArn", props.connectionArn, CONNECTION_ARN_RE, "the ARN of a CodeStar/CodeConnections connection");
  v.matches("terraformVersion", resolved.terraformVersion, /^\d+\.\d+\.\d+$/, "a Terraform release such as \"1.11.4\"");
  v.matches("nodeVersion", resolved.nodeVersion, /^(18|20|22)$/, "a Node.js major version CodeBuild's images provide: \"18\", \"20\" or \"22\"");
  v.oneOf("computeType", resolved.computeType, BUILD_COMPUTE_TYPES);
  v.matches("pipelineName", resolved.pipelineName, PIPELINE_NAME_RE, "1-100 letters, digits, '.', '@', '-', '_'");
  v.intRange("artifactRetentionDays", props.artifactRetentionDays, 1, 3650);
  (props.deployPolicyArns ?? []).forEach((a, i) => v.matches(`deployPolicyArns[${i}]`, a, POLICY_ARN_RE, "an IAM managed policy ARN"));
  v.check(props.deployPolicyArns === undefined || props.deployPolicyArns.length > 0, "deployPolicyArns", props.deployPolicyArns,
    "at least one policy ARN, or leave it out for the generated policy");
  v.check(props.stages.length > 0, "stages", props.stages.length, "at least one deploy stage");
  const own = TerraformStack.of(scope);
  const seen = new Map<string, string>();
  props.stages.forEach((s, i) => {
    v.matches(`stages[${i}].name`, s.name, STAGE_NAME_RE, "1-40 letters, digits, '.', '-', '_'");
    v.check(props.stages.findIndex((o) => o.name === s.name) === i, `stages[${i}].name`, s.name, "a name no other stage has");
    v.check(s.stacks.length > 0, `stages[${i}].stacks`, [], "at least one stack");
    s.stacks.forEach((st, j) => {
      const name = st.node.id;
      v.check(st !== own, `stages[${i}].stacks[${j}]`, name, "a stack other than the pipeline's own (deploy the pipeline itself by hand, once)");
      v.check(!seen.has(name), `stages[${i}].stacks[${j}]`, name, `a stack no earlier stage deploys (stage ${seen.get(name)} does)`);
      seen.set(name, s.name);
    });
    (s.stateBackends ?? []).forEach((b, j) => {
      v.matches(`stages[${i}].stateBackends[${j}].bucket`, b.bucket, /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "an S3 bucket name");
    });
  });
  v.throwIfAny();
}
