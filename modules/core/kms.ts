/** Customer-managed KMS keys the account administers, as the constructs that encrypt with one make them. */
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { Fn, Token } from "cdktf";
import type { Construct } from "constructs";
import { byProfile, Profile } from "./profile";

/** An AWS service that may use the key, and for what. */
export interface KeyServiceGrant {
  /** The statement's id, saying who and why, e.g. `CloudWatchAlarmsPublish`. */
  readonly sid: string;
  /** The service principal, e.g. `cloudwatch.amazonaws.com`. */
  readonly service: string;
  /** The KMS actions it may take. */
  readonly actions: string | readonly string[];
}

/**
 * A key with rotation on, deleted after 7 days in dev and 30 in prod, whose policy lets the
 * account administer it (without that statement nobody, not even the account's administrators,
 * could manage it; IAM policies grant its use) and lets `services` use it. The account is read
 * from `arnInStack` (an IAM role's ARN, say), so plans need no aws_caller_identity and run offline.
 */
export function customerKey(scope: Construct, id: string, o: {
  readonly description: string;
  readonly arnInStack: string;
  readonly profile: Profile;
  readonly services?: readonly KeyServiceGrant[];
}): KmsKey {
  const arnParts = Fn.split(":", o.arnInStack);
  const partition = Token.asString(Fn.element(arnParts, 1));
  const accountId = Token.asString(Fn.element(arnParts, 4));
  return new KmsKey(scope, id, {
    description: o.description,
    enableKeyRotation: true,
    deletionWindowInDays: byProfile(o.profile, { dev: 7, prod: 30 }),
    policy: Fn.jsonencode({
      Version: "2012-10-17",
      Statement: [
        { Sid: "AccountAdministersTheKey", Effect: "Allow", Principal: { AWS: `arn:${partition}:iam::${accountId}:root` }, Action: "kms:*", Resource: "*" },
        ...(o.services ?? []).map((s) => ({
          Sid: s.sid, Effect: "Allow", Principal: { Service: s.service }, Action: typeof s.actions === "string" ? s.actions : [...s.actions], Resource: "*",
        })),
      ],
    }),
  });
}
