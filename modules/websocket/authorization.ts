/**
 * Internal: an `Authorization` bound to a WebSocket API's `$connect`. A JWT authorization becomes
 * a REQUEST authorizer reading the token from the connect URL's query string (browsers cannot set
 * headers on a WebSocket upgrade), run by the same authorizer function as the REST API's (or one of
 * its own); IAM stays IAM. API Gateway's WebSocket APIs take no Cognito or JWT authorizer of their
 * own, so a Cognito authorization is refused with what to use instead.
 */
import { Apigatewayv2Authorizer } from "@cdktf/provider-aws/lib/apigatewayv2-authorizer";
import { LambdaPermission } from "@cdktf/provider-aws/lib/lambda-permission";
import { Construct } from "constructs";
import { CALLER_IDENTITY } from "../../functions/lib/contract";
import { TOKEN_QUERY_PARAMETER } from "../../functions/authorizer/contract";
import { Authorization, JwtAuthorizerFunction } from "../authorization";
import { authorizerInvokePermission } from "../authorization/permission";
import { physicalName } from "../core/naming";
import { Profile } from "../core/profile";
import { PropsValidator } from "../core/validation";

/** What an authorization became on a WebSocket API's `$connect`. */
export interface BoundSocketAuthorization {
  /** `authorization_type` of the `$connect` route. */
  readonly authorizationType: "CUSTOM" | "AWS_IAM";
  /** The REQUEST authorizer, for JWT. */
  readonly authorizer?: Apigatewayv2Authorizer;
  /** The function that verifies the tokens, for JWT (possibly shared with a REST API). */
  readonly function?: JwtAuthorizerFunction;
  /** Lets API Gateway invoke that function through this authorizer only, for JWT. */
  readonly invokePermission?: LambdaPermission;
  /** `CALLER_IDENTITY_SOURCE` of the function behind the routes. */
  readonly callerIdentitySource: string;
  /** What the deployment hash includes. */
  readonly fingerprint: Readonly<Record<string, string>>;
}

/** The API an authorization is bound to. */
interface SocketApi extends Construct {
  readonly apiId: string;
  readonly executionArn: string;
}

/** Binds `authorization` to `api`'s `$connect` (problems name `api`'s path and `authorization`). */
export function bindSocketAuthorization(
  api: SocketApi,
  authorization: Authorization,
  opts: { readonly function?: JwtAuthorizerFunction; readonly logRetentionDays?: number; readonly profile?: Profile },
): BoundSocketAuthorization {
  PropsValidator.for(api)
    .check(authorization.kind !== "cognito", "authorization", authorization.kind,
      "Authorization.jwt(…) or Authorization.iam(): WebSocket APIs take only Lambda (REQUEST) and IAM authorizers on $connect. " +
        "Verify Cognito tokens with Authorization.jwt({ issuer: \"https://cognito-idp.<region>.amazonaws.com/<pool id>\", audience: <app client id> })")
    .throwIfAny();
  if (authorization.kind === "iam") {
    return { authorizationType: "AWS_IAM", callerIdentitySource: CALLER_IDENTITY.iam, fingerprint: { kind: "iam" } };
  }
  const jwt = authorization.jwtSettings!;
  const fn = opts.function ?? new JwtAuthorizerFunction(api, "authorizer-fn", { ...jwt, logRetentionDays: opts.logRetentionDays, profile: opts.profile });
  const authorizer = new Apigatewayv2Authorizer(api, "authorizer", {
    apiId: api.apiId,
    name: physicalName(api, 128, "jwt"),
    authorizerType: "REQUEST",
    authorizerUri: fn.invokeArn,
    // A connect without the parameter is refused with 401 before the function runs.
    identitySources: [`route.request.querystring.${TOKEN_QUERY_PARAMETER}`],
  });
  const invokePermission = authorizerInvokePermission(api, fn.functionName, api.executionArn, authorizer.id);
  return {
    authorizationType: "CUSTOM",
    authorizer,
    function: fn,
    invokePermission,
    callerIdentitySource: CALLER_IDENTITY.lambda,
    fingerprint: { kind: "jwt", source: TOKEN_QUERY_PARAMETER },
  };
}
