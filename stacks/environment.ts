import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { DataTerraformRemoteStateLocal, LocalBackend, S3Backend, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import * as path from "path";
import { PROFILE_CONTEXT_KEY } from "../modules";
import { applyPolicy } from "../modules/policy";
import { EnvironmentConfig, validateConfig } from "./config";

/**
 * Local state in the project folder, as cdktf's own default keeps it, but written as a path relative
 * to the stack's working folder (`cdktf.out/stacks/<stack>`, where cdktf runs Terraform) rather than
 * an absolute one: the synthesized JSON is the same on every machine, and a stack reading another's
 * outputs (a cross-stack reference) finds that state from its own folder.
 */
class ProjectLocalBackend extends LocalBackend {
  constructor(scope: TerraformStack, private readonly toProject: string) {
    super(scope, { path: ProjectLocalBackend.statePath(toProject, scope.node.id) });
  }

  private static statePath(toProject: string, stack: string): string {
    return path.posix.join(toProject, `terraform.${stack}.tfstate`);
  }

  getRemoteStateDataSource(scope: Construct, name: string, fromStack: string): DataTerraformRemoteStateLocal {
    return new DataTerraformRemoteStateLocal(scope, name, { path: ProjectLocalBackend.statePath(this.toProject, fromStack) });
  }
}

/**
 * What every stack of an environment shares: the AWS provider (region, default tags and, when
 * configured, the one account it may touch; credentials come from the environment), its state
 * (S3 when configured, else a local file in the project folder), the profile every construct below
 * reads, and the policy pack.
 */
export abstract class EnvironmentStack extends TerraformStack {
  /** The environment this stack deploys, validated. */
  public readonly config: EnvironmentConfig;

  constructor(scope: Construct, id: string, config: EnvironmentConfig) {
    super(scope, id);
    this.config = validateConfig(config);
    this.node.setContext(PROFILE_CONTEXT_KEY, this.config.name);
    applyPolicy(this); // the cachefront policy pack: errors fail synthesis of this stack (help/policy.md)

    new AwsProvider(this, "aws", {
      region: this.config.region,
      allowedAccountIds: this.config.accountId ? [this.config.accountId] : undefined,
      defaultTags: [{ tags: { ...this.config.tags, Stack: id, ManagedBy: "cdktf" } }],
    });

    const rs = this.config.remoteState;
    if (rs) {
      // S3-native locking (use_lockfile): the DynamoDB lock table is deprecated since Terraform 1.11.
      new S3Backend(this, {
        bucket: rs.bucket,
        key: `${rs.keyPrefix.replace(/\/?$/, "/")}${id}.tfstate`,
        region: rs.region,
        encrypt: true,
        kmsKeyId: rs.kmsKeyId,
      });
      // cdktf 0.21's S3Backend has no typed field for it yet.
      this.addOverride("terraform.backend.s3.use_lockfile", true);
    } else {
      // Every stack's working folder is <outdir>/stacks/<stack>; the project folder is where the app runs.
      const outdir = (this.node.root as { outdir?: string }).outdir ?? "cdktf.out";
      const toProject = path.relative(path.resolve(outdir, "stacks", id), process.cwd()).split(path.sep).join("/") || ".";
      new ProjectLocalBackend(this, toProject);
    }
  }
}
