import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { S3Backend, TerraformOutput, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { PROFILE_CONTEXT_KEY } from "../modules/core/profile";
import { Network } from "../modules/network";
import { applyPolicy } from "../modules/policy";
import { EnvironmentConfig, validateConfig } from "./config";

/** Props every stack of this app takes. */
export interface CacheStackProps {
  /** The environment to deploy; validated again here so a hand-built config is checked too. */
  readonly config: EnvironmentConfig;
}

/**
 * What every stack shares: the AWS provider (region and default tags from config, nothing
 * else: credentials come from the environment), remote state when configured, the profile
 * every construct below reads, and the network.
 */
export abstract class CacheStack extends TerraformStack {
  /** The environment this stack deploys, validated. */
  public readonly config: EnvironmentConfig;
  /** The stack's VPC (`network`), in the environment's availability zones. */
  public readonly network: Network;

  constructor(scope: Construct, id: string, props: CacheStackProps) {
    super(scope, id);
    this.config = validateConfig(props.config);
    this.node.setContext(PROFILE_CONTEXT_KEY, this.config.name);
    applyPolicy(this); // the cachefront policy pack: errors fail synthesis of this stack (help/policy.md)

    new AwsProvider(this, "aws", {
      region: this.config.region,
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
    }

    this.network = new Network(this, "network", {
      availabilityZones: this.config.availabilityZones,
      cidr: this.config.vpcCidr,
      region: this.config.region,
      flowLogRetentionDays: this.config.logRetentionDays,
    });
  }

  /** A stack output; the names are the contract the smoke tests and the local twin read. */
  protected output(name: string, value: string | number, description: string, sensitive = false): TerraformOutput {
    return new TerraformOutput(this, name, { value, description, sensitive });
  }
}
