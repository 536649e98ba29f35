/**
 * Contract of the rotation function of ElastiCache password users (functions/cache-rotator):
 * Secrets Manager invokes it, not an API, so it has no routes and no settings of its own; the cache
 * construct that creates it wires the cache's endpoint (`REDIS_HOST`, …) for its test login.
 */
import { defineContract } from "../lib/contract/language";

export const CACHE_ROTATOR = defineContract({
  name: "cache-rotator",
  entry: "functions/cache-rotator/handler.ts",
  description: "Rotates ElastiCache user passwords in Secrets Manager with ElastiCache's two-password overlap",
  routes: [],
  settings: {},
  metrics: [],
});
