import { App } from "cdktf";
import { packageInfo } from "../modules";
import type { Profile } from "../modules";
import { loadConfig } from "./config";
import { DeliveryPipelineStack, stacksOfEnvironment } from "./pipeline";
import { ProductCatalogStack } from "./product-catalog";
import { SessionStoreStack } from "./session-store";

/** Stack kinds of the default app, by name prefix. */
export const STACK_KINDS = {
  "product-catalog": ProductCatalogStack,
  "session-store": SessionStoreStack,
} as const;

/**
 * The environments the default app builds, in order: every stack kind is synthesized once per name (`<kind>-<env>`).
 */
export const ENVIRONMENT_NAMES: readonly Profile[] = ["dev", "prod"];

/** Builds every stack kind × environment into `app` (`<kind>-<env>`), and the delivery pipeline that deploys them. */
export function buildApp(app: App): App {
  for (const env of ENVIRONMENT_NAMES) {
    const config = loadConfig(env);
    for (const [kind, StackClass] of Object.entries(STACK_KINDS)) {
      new StackClass(app, `${kind}-${env}`, { config });
    }
  }
  // One per account, in the prod environment's region, deploying the stacks above dev → prod.
  new DeliveryPipelineStack(app, "delivery-pipeline", {
    config: loadConfig("prod"),
    repository: packageInfo().githubRepository,
    environments: ENVIRONMENT_NAMES.map((env) => ({ name: env, stacks: stacksOfEnvironment(app, env) })),
  });
  return app;
}
