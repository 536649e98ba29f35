/**
 * The product catalog on the other caches its users ask for, for tests/terraform/cache-variants.test.ts:
 * Valkey Serverless, Memcached, and Redis/Valkey nodes with rotated password users. Run with node
 * (CDKTF_OUTDIR chooses where), not by jest.
 */
import { App } from "cdktf";
import { loadConfig, ProductCatalogStack } from "../../../stacks";

/** Stack name → the override of the embedded environment that makes the variant. */
export const CACHE_VARIANTS = {
  "product-catalog-serverless-prod": loadConfig("prod", { cacheKind: "serverless" }),
  "product-catalog-memcached-prod": loadConfig("prod", { cacheKind: "memcached" }),
  "product-catalog-password-dev": loadConfig("dev", { redis: { auth: "password" } }),
} as const;

if (require.main === module) {
  const app = new App();
  for (const [name, config] of Object.entries(CACHE_VARIANTS)) new ProductCatalogStack(app, name, { config });
  app.synth();
}
