/**
 * The package's root entry point, `@cachefront/cdktf-dynamodb-cache`: the constructs of
 * `modules/` (account baseline, network, security groups, IAM, logs, table, Redis/Valkey, DAX, function, API,
 * observability, stream invalidation, WebSocket API, CloudFront edge, cache warming, delivery pipeline) and the contracts of the handlers the package ships (`PRODUCTS`, `SESSIONS`).

 *
 *   import { CacheTable, Network, RedisCache, CacheEngine, PRODUCTS } from "@cachefront/cdktf-dynamodb-cache";
 *   import { applyPolicy } from "@cachefront/cdktf-dynamodb-cache/policy";
 *   import { ProductCatalogStack, loadConfig } from "@cachefront/cdktf-dynamodb-cache/stacks";
 *
 * The ready-made stacks and their environment config are the `./stacks` subpath, the policy pack
 * `./policy` and the Lambda runtime library (for your own handlers and contracts) `./runtime`.
 * help/using-the-package.md describes all four; help/examples/consumer is a complete app.
 */
export * from "./account";
export * from "./network";
export * from "./security-group";
export * from "./iam";
export * from "./logs";
export * from "./table";
export * from "./redis";
export * from "./dax";
export * from "./function";
export * from "./api";
export * from "./authorization";
export * from "./waf";
export * from "./observability";
export * from "./invalidation";
export * from "./websocket";
export * from "./edge";
export * from "./warming";
export * from "./pipeline";
export type { Bundle } from "./function/bundle";
export { packageRoot } from "./core/project-root";
export { helpPageUrl, packageInfo } from "./core/package-info";
export type { PackageInfo } from "./core/package-info";
export { PROFILE_CONTEXT_KEY, profileOf } from "./core/profile";
export type { Profile } from "./core/profile";
export { LOG_RETENTION_DAYS, PropsValidationError, PropsValidator } from "./core/validation";
export type { PropsProblem } from "./core/validation";
export { PRODUCT_RANK_INDEX, PRODUCT_RANKING, PRODUCT_SCHEMA, PRODUCTS, PRODUCTS_RANKED_TABLE, PRODUCTS_TABLE } from "../functions/products/contract";
export { SESSIONS, SESSIONS_SOCKET, SESSIONS_TABLE, TURN_MESSAGE_SCHEMA, TURN_SCHEMA } from "../functions/sessions/contract";

