/**
 * Internal: the provider that creates what AWS requires in us-east-1 for CloudFront (a
 * CLOUDFRONT-scope web ACL and its log group): the stack's own when its region is us-east-1,
 * else one alias `us-east-1` per stack, with the default provider's account guard and tags.
 */
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { TerraformStack } from "cdktf";
import type { IConstruct } from "constructs";

/** The region CloudFront's web ACLs, their logs and viewer certificates live in. */
export const CLOUDFRONT_REGION = "us-east-1";
const ALIAS = "us-east-1";

/** The stack's unaliased AwsProvider, if any. */
export function defaultAwsProvider(scope: IConstruct): AwsProvider | undefined {
  return TerraformStack.of(scope).node.findAll().find((c): c is AwsProvider => c instanceof AwsProvider && c.alias === undefined);
}

/**
 * undefined (use the default provider) when the stack's default provider is in us-east-1; else the
 * stack's `us-east-1` alias, made once.
 */
export function usEast1Provider(scope: IConstruct): AwsProvider | undefined {
  const base = defaultAwsProvider(scope);
  if (base?.region === CLOUDFRONT_REGION) return undefined;
  const stack = TerraformStack.of(scope);
  const existing = stack.node.findAll().find((c): c is AwsProvider => c instanceof AwsProvider && c.alias === ALIAS);
  if (existing) return existing;
  return new AwsProvider(stack, `aws-${ALIAS}`, {
    alias: ALIAS,
    region: CLOUDFRONT_REGION,
    allowedAccountIds: base?.allowedAccountIds,
    defaultTags: base?.defaultTags as never,
    profile: base?.profile,
  });
}
