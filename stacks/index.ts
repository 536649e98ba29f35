/**
 * The package's `./stacks` entry point: the ready-made stacks (product catalog, session store, delivery pipeline),
 * their shared base and the typed environment config, and the default app's builder.
 *
 *   import { ProductCatalogStack, loadConfig } from "@cachefront/cdktf-dynamodb-cache/stacks";
 */
export * from "./base";
export * from "./config";
export * from "./environment";
export * from "./platform";
export * from "./product-catalog";
export * from "./session-store";
export * from "./pipeline";
export { buildApp, ENVIRONMENT_NAMES, STACK_KINDS } from "./app";
