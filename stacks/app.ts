import { App, TerraformStack } from "cdktf";
import { packageInfo } from "../modules";
import type { Profile } from "../modules";
import { loadConfig } from "./config";
import { DeliveryPipelineStack, stacksOfEnvironment } from "./pipeline";
import { AccountBaselineStack, baselineConfig, baselineStackId, NetworkStack } from "./platform";
import { ProductCatalogStack } from "./product-catalog";
import { SessionStoreStack } from "./session-store";

/** Service stack kinds of the default app, by name prefix. */
export const STACK_KINDS = {
  "product-catalog": ProductCatalogStack,
  "session-store": SessionStoreStack,
} as const;

/**
 * The environments the default app builds, in order: every stack kind is synthesized once per name (`<kind>-<env>`).
 */
export const ENVIRONMENT_NAMES: readonly Profile[] = ["dev", "prod"];

/**
 * Builds the default app as a platform deploys it into `app`: one account baseline stack per account
 * and region (`account-baseline-<region>`), then per environment one network stack (`network-<env>`)
 * and every service stack kind on top of it (`<kind>-<env>`), and the delivery pipeline that deploys
 * them all: the baselines first, then each environment (dev, then prod after an approval). Service
 * stacks read the network's ids through cross-stack references and depend on the baseline, so
 * `cdktf deploy '*'` applies them in that order too.
 */
export function buildApp(app: App): App {
  const configs = ENVIRONMENT_NAMES.map((env) => loadConfig(env));
  const baselines = new Map<string, TerraformStack>();
  for (const config of configs) {
    const id = baselineStackId(config);
    if (baselines.has(id)) continue;
    const sharing = configs.filter((c) => baselineStackId(c) === id);
    baselines.set(id, new AccountBaselineStack(app, id, { config: baselineConfig(sharing) }));
  }
  for (const config of configs) {
    const { network } = new NetworkStack(app, `network-${config.name}`, { config });
    for (const [kind, StackClass] of Object.entries(STACK_KINDS)) {
      new StackClass(app, `${kind}-${config.name}`, { config, network }).addDependency(baselines.get(baselineStackId(config))!);
    }
  }
  // One per account, in the prod environment's region, deploying the stacks above: the account
  // baselines (the API stages of every environment need them), then dev → prod.
  new DeliveryPipelineStack(app, "delivery-pipeline", {
    config: loadConfig("prod"),
    repository: packageInfo().githubRepository,
    environments: [
      { name: "account", stacks: [...baselines.values()], approval: false },
      ...ENVIRONMENT_NAMES.map((env) => ({ name: env, stacks: stacksOfEnvironment(app, env) })),
    ],
  });
  return app;
}
