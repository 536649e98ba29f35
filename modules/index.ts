/**
 * The package's root entry point, `@cachefront/cdktf-dynamodb-cache`: every construct of
 * `modules/` (network, security groups, IAM, logs, table, Redis/Valkey, DAX, function, API,
 * observability) and the building blocks of the ready-made stacks (`CacheStack`, the typed
 * environment config, `ProductCatalogStack`, `SessionStoreStack`, `buildApp`).
 *
 *   import { CacheTable, Network, RedisCache, CacheEngine } from "@cachefront/cdktf-dynamodb-cache";
 *   import { applyPolicy } from "@cachefront/cdktf-dynamodb-cache/policy";
 *
 * The policy pack is the `./policy` subpath and the Lambda runtime library (for your own
 * handlers) the `./runtime` subpath. help/using-the-package.md describes all three, and
 * help/examples/consumer is a complete app built on this package.
 */
export * from "./network";
export * from "./security-group";
export * from "./iam";
export * from "./logs";
export * from "./table";
export * from "./redis";
export * from "./dax";
export * from "./function";
export * from "./api";
export * from "./observability";
export type { Bundle } from "./function/bundle";
export { packageRoot } from "./core/project-root";
export { PROFILE_CONTEXT_KEY, profileOf } from "./core/profile";
export type { Profile } from "./core/profile";
export { LOG_RETENTION_DAYS, PropsValidationError } from "./core/validation";
export type { PropsProblem } from "./core/validation";
export * from "../stacks";
export { buildApp, ENVIRONMENT_NAMES, STACK_KINDS } from "../stacks/app";
export { PRODUCT_SCHEMA, TURN_SCHEMA } from "../stacks/schemas";
