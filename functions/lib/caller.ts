/**
 * The caller API Gateway verified, read from where its authorization put it (never from the
 * request's headers or body, which the client controls):
 *   const customerId = verifiedCaller(event, rt.config.callerIdentitySource);   // undefined: not verified
 * `CALLER_IDENTITY_SOURCE` (set by `CacheApi` when it wires its authorization to the function)
 * says which authorizer the API uses; see `CALLER_IDENTITY` in the runtime contract.
 */
import { CALLER_IDENTITY } from "./contract";
import type { ProxyEvent } from "./http";

/**
 * What a caller id may look like: 1-256 printable ASCII characters without spaces or braces. It
 * becomes part of cache keys, where a brace would move the Redis Cluster hash tag.
 */
export const CALLER_ID_RE = /^[\x21-\x7a\x7c\x7e]{1,256}$/;

function field(value: unknown, key: string): unknown {
  return value !== null && typeof value === "object" ? (value as Record<string, unknown>)[key] : undefined;
}

/**
 * The verified caller of `event` by `source` (`lambda`, `iam` or `cognito:<claim>`), or
 * undefined when the source is unset, the identity is absent or it is not a usable id.
 */
export function verifiedCaller(event: ProxyEvent, source: string | undefined): string | undefined {
  if (!source) return undefined;
  const ctx = event?.requestContext;
  let id: unknown;
  if (source === CALLER_IDENTITY.lambda) id = field(field(ctx, "authorizer"), "principalId");
  else if (source === CALLER_IDENTITY.iam) id = field(field(ctx, "identity"), "userArn");
  else if (source.startsWith(CALLER_IDENTITY.cognitoPrefix)) {
    id = field(field(field(ctx, "authorizer"), "claims"), source.slice(CALLER_IDENTITY.cognitoPrefix.length));
  }
  return typeof id === "string" && CALLER_ID_RE.test(id) ? id : undefined;
}
