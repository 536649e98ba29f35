/**
 * The delivery pipeline (seed 004): one per account, checking every push and deploying the app's
 * stacks environment by environment, dev first, prod after a manual approval.
 */
import { TerraformOutput, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { DeliveryPipeline, PROFILE_CONTEXT_KEY } from "../modules";
import type { EnvironmentConfig } from "./config";
import { EnvironmentStack } from "./environment";
import { AccountBaselineStack } from "./platform";

/** One environment the pipeline deploys. */
export interface PipelineEnvironment {
  /** Environment name, e.g. `dev` (the stage is `Deploy-<name>`). */
  readonly name: string;
  /** Its stacks, in the order `cdktf deploy` gets them. */
  readonly stacks: readonly TerraformStack[];
  /** Wait for a manual approval before deploying. @default true for `prod`, false otherwise */
  readonly approval?: boolean;
}

/** Props of {@link DeliveryPipelineStack}. */
export interface DeliveryPipelineStackProps {
  /** Where the pipeline itself runs: region, tags, remote state and profile (use the prod environment). */
  readonly config: EnvironmentConfig;
  /** GitHub repository (`owner/name`) holding the app. */
  readonly repository: string;
  /** Branch that is deployed. @default DeliveryPipeline's ("main") */
  readonly branch?: string;
  /** An existing GitHub connection. @default DeliveryPipeline's (a new, PENDING connection) */
  readonly connectionArn?: string;
  /** The environments, in deploy order. */
  readonly environments: readonly PipelineEnvironment[];
}

/**
 * The stacks of `scope` (an app) whose profile context is `environment`, in creation order (a
 * network before the services on it), account baselines left out (they have a stage of their own,
 * first): how the default app's environments are grouped into deploy stages.
 */
export function stacksOfEnvironment(scope: Construct, environment: string): TerraformStack[] {
  return scope.node.children.filter((c): c is TerraformStack =>
    TerraformStack.isStack(c) && !(c instanceof AccountBaselineStack) && c.node.tryGetContext(PROFILE_CONTEXT_KEY) === environment);
}

/**
 * A {@link DeliveryPipeline} in a stack of its own, with the outputs a person needs after the
 * first deploy: the connection to complete, the pipeline, and the buckets.
 */
export class DeliveryPipelineStack extends EnvironmentStack {
  /** The pipeline. */
  public readonly pipeline: DeliveryPipeline;

  constructor(scope: Construct, id: string, props: DeliveryPipelineStackProps) {
    super(scope, id, props.config);
    this.pipeline = new DeliveryPipeline(this, "pipeline", {
      repository: props.repository,
      branch: props.branch,
      connectionArn: props.connectionArn,
      logRetentionDays: this.config.logRetentionDays,
      stages: props.environments.map((e) => ({
        name: e.name,
        stacks: e.stacks,
        approval: e.approval ?? e.name === "prod",
        // Stacks with remote state of their own keep it; the deploy role may use it.
        stateBackends: e.stacks.flatMap((s) => {
          const rs = s instanceof EnvironmentStack ? s.config.remoteState : undefined;
          return rs ? [{ bucket: rs.bucket, keyPrefix: rs.keyPrefix.replace(/\/?$/, "/") }] : [];
        }),
      })),
    });
    const p = this.pipeline;
    new TerraformOutput(this, "pipeline_name", { value: p.pipelineName, description: "The CodePipeline" });
    new TerraformOutput(this, "connection_arn", {
      value: p.connectionArn,
      description: "GitHub connection: PENDING until completed once in the console (Developer Tools > Settings > Connections)",
    });
    new TerraformOutput(this, "artifact_bucket", { value: p.artifacts.bucketName, description: "Build artifacts (KMS, versioned)" });
    new TerraformOutput(this, "state_bucket", { value: p.state.bucketName, description: "Terraform state of the deployed stacks: cachefront/<stack>.tfstate" });
  }
}
