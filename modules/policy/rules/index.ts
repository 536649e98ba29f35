/** Every rule of the cachefront pack, in report order. */
import type { PolicyRule } from "../rule";
import { API_GATEWAY_RULES } from "./api-gateway";
import { API_GATEWAY_AUTH_RULES } from "./api-gateway-auth";
import { CLOUDFRONT_RULES } from "./cloudfront";
import { DAX_RULES } from "./dax";
import { DYNAMODB_RULES } from "./dynamodb";
import { ELASTICACHE_RULES } from "./elasticache";
import { EVENT_SOURCE_RULES } from "./event-source";
import { IAM_RULES } from "./iam";
import { LAMBDA_RULES } from "./lambda";
import { LOGS_RULES, SECRETS_RULES } from "./logs-secrets";
import { S3_RULES } from "./s3";
import { SECURITY_GROUP_RULES } from "./security-group";
import { VPC_RULES } from "./vpc";
import { WEBSOCKET_RULES } from "./websocket";

/**
 * Every rule of the cachefront pack, in evaluation order (exported as `CACHEFRONT_RULES`); help/policy.md lists them.
 */
export const ALL_RULES: readonly PolicyRule[] = [
  ...VPC_RULES,
  ...SECURITY_GROUP_RULES,
  ...ELASTICACHE_RULES,
  ...DAX_RULES,
  ...DYNAMODB_RULES,
  ...LAMBDA_RULES,
  ...EVENT_SOURCE_RULES,
  ...IAM_RULES,
  ...API_GATEWAY_RULES,
  ...API_GATEWAY_AUTH_RULES,
  ...WEBSOCKET_RULES,
  ...CLOUDFRONT_RULES,
  ...LOGS_RULES,
  ...SECRETS_RULES,
  ...S3_RULES,
];

export { LAMBDA_RUNTIME_DEPRECATION, VPC_BOUND_TYPES } from "./lambda";
export { BROAD_MANAGED_POLICIES, SCOPED_SERVICES } from "./iam";
