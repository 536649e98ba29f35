/**
 * One small stack in the four configurations of a move from the shared AUTH token to IAM users
 * (help/caching.md#migrating-from-the-auth-token), for tests/terraform/token-migration.test.ts:
 * CACHEFRONT_MIGRATION_STEP = token | attach | switch | iam picks the configuration; the stack's
 * name and construct paths stay the same, as they would between applies. The network is an
 * existing VPC (literal ids), so the plans hold only what the migration touches.
 */
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { App, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { CacheAsideFunction, CacheAuth, INetwork, PRODUCTS, RedisCache } from "../../../modules";
import { PROFILE_CONTEXT_KEY } from "../../../modules/core/profile";
import { Connections, IConnectable, SecurityGroup } from "../../../modules/security-group";

/** The steps, in the order they are applied. */
export const MIGRATION_STEPS = {
  token: () => CacheAuth.token(),
  attach: () => CacheAuth.token({ migrateTo: CacheAuth.iam(), stage: "attach" }),
  switch: () => CacheAuth.token({ migrateTo: CacheAuth.iam(), stage: "switch" }),
  iam: () => CacheAuth.iam(),
} as const;

/** A VPC another stack owns, by its ids. */
class ExistingNetwork extends Construct implements INetwork {
  readonly vpcId = "vpc-0123456789abcdef0";
  readonly region = "us-east-1";
  readonly availabilityZones = ["us-east-1a", "us-east-1b"];
  readonly privateSubnetIds = ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"];
  readonly dynamoDbPrefixListId = "pl-02cd2c6b";
  private readonly endpoints = new Map<string, IConnectable>();

  addInterfaceEndpoint(service: string): IConnectable {
    let e = this.endpoints.get(service);
    if (!e) {
      e = { connections: new Connections(SecurityGroup.fromId(this, `endpoint-${service}`, "sg-0eeeeeeeeeeeeeee1"), 443, `${service} endpoint`) };
      this.endpoints.set(service, e);
    }
    return e;
  }
}

if (require.main === module) {
  const step = (process.env.CACHEFRONT_MIGRATION_STEP ?? "token") as keyof typeof MIGRATION_STEPS;
  if (!MIGRATION_STEPS[step]) throw new Error(`CACHEFRONT_MIGRATION_STEP=${step}: one of ${Object.keys(MIGRATION_STEPS).join(", ")}`);
  const app = new App();
  const stack = new TerraformStack(app, "token-migration-prod");
  stack.node.setContext(PROFILE_CONTEXT_KEY, "prod");
  new AwsProvider(stack, "aws", { region: "us-east-1" });
  const network = new ExistingNetwork(stack, "network");
  const cache = new RedisCache(stack, "cache", { network, auth: MIGRATION_STEPS[step]() });
  new CacheAsideFunction(stack, "fn", { network, contract: PRODUCTS, settings: { serviceName: "products" } }).useCache(cache);
  app.synth();
}
