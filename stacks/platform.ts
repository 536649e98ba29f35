/**
 * The stacks a platform team owns and deploys first: one account baseline per account and region,
 * and one network per environment that every service stack of that environment deploys into.
 */
import { Lazy, TerraformOutput } from "cdktf";
import { Construct } from "constructs";
import { AccountBaseline, Network } from "../modules";
import type { EnvironmentConfig } from "./config";
import { EnvironmentStack } from "./environment";

/** Props of the platform stacks. */
export interface PlatformStackProps {
  /** The environment (for the baseline: any environment of its account and region; see `baselineConfig`). */
  readonly config: EnvironmentConfig;
}

/**
 * The account-and-region singletons ({@link AccountBaseline}): deployed once per account and region,
 * before any service stack; no service stack manages them.
 */
export class AccountBaselineStack extends EnvironmentStack {
  /** The account's API Gateway settings. */
  public readonly baseline: AccountBaseline;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, props.config);
    this.baseline = new AccountBaseline(this, "account");
  }
}

/**
 * One environment's network: the VPC, its private subnets, the DynamoDB gateway endpoint and the
 * interface endpoints its services need (created here, once, when a service stack asks for one).
 * Service stacks of the same app take `network` (cross-stack references); other teams take the
 * outputs into `Network.fromAttributes`.
 */
export class NetworkStack extends EnvironmentStack {
  /** The VPC, from the environment's availability zones and CIDR. */
  public readonly network: Network;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, props.config);
    this.network = new Network(this, "network", {
      availabilityZones: this.config.availabilityZones,
      cidr: this.config.vpcCidr,
      region: this.config.region,
      flowLogRetentionDays: this.config.logRetentionDays,
    });
    const n = this.network;
    const out = (name: string, value: unknown, description: string) => new TerraformOutput(this, name, { value, description });
    out("vpc_id", n.vpcId, "VPC id (Network.fromAttributes: vpcId)");
    out("availability_zones", n.availabilityZones, "AZs of the private subnets, in subnet order (availabilityZones)");
    out("private_subnet_ids", n.privateSubnetIds, "Private subnets, one per AZ (privateSubnetIds)");
    out("dynamodb_prefix_list_id", n.dynamoDbPrefixListId, "Prefix list of the DynamoDB gateway endpoint (dynamoDbPrefixListId)");
    // Endpoints are added while service stacks are built, after this constructor: read them at synth.
    out("interface_endpoint_security_groups",
      Lazy.anyValue({ produce: () => n.toAttributes().interfaceEndpoints ?? {} }),
      "Security group of each interface endpoint, by service (interfaceEndpoints)");
  }
}

/**
 * The config an account baseline shared by `configs` (environments of one account and region) is
 * deployed with: prod's when one of them is prod (the stricter profile), and only the tags they
 * all carry.
 */
export function baselineConfig(configs: readonly EnvironmentConfig[]): EnvironmentConfig {
  const chosen = configs.find((c) => c.name === "prod") ?? configs[0];
  const tags = Object.fromEntries(Object.entries(chosen.tags).filter(([k, v]) => configs.every((c) => c.tags[k] === v)));
  return { ...chosen, tags };
}

/** The id of the account baseline stack of an environment's account and region. */
export function baselineStackId(config: EnvironmentConfig): string {
  return ["account-baseline", config.accountId, config.region].filter(Boolean).join("-");
}
