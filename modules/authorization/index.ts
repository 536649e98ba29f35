/**
 * Who may call an API's `caller` routes, as a typed choice a `CacheApi` applies:
 *   new CacheApi(this, "api", { functions: [fn], authorization: Authorization.jwt({ issuer, audience: "orders-api" }) });
 *   Authorization.cognito(userPoolArn)   // COGNITO_USER_POOLS: API Gateway verifies the pool's tokens itself
 *   Authorization.iam()                  // AWS_IAM: SigV4-signed calls from other services
 * The API hands the function the verified caller (`CALLER_IDENTITY_SOURCE` tells it where), and
 * the function's `caller` routes refuse requests without one. API keys are not authorization: they
 * name an application for usage plans, and may be required on top of any of these.
 */
import { ApiGatewayAuthorizer } from "@cdktf/provider-aws/lib/api-gateway-authorizer";
import { LambdaFunction } from "@cdktf/provider-aws/lib/lambda-function";
import { LambdaPermission } from "@cdktf/provider-aws/lib/lambda-permission";
import { Construct, IConstruct } from "constructs";
import * as path from "path";
import { CALLER_IDENTITY, environmentOf } from "../../functions/lib/contract";
import { AUTHORIZER, BEARER, BEARER_TOKEN_PATTERN, defaultJwksUrl, JWS_ALGORITHMS } from "../../functions/authorizer/contract";
import { packageRoot } from "../core/project-root";
import { physicalName } from "../core/naming";
import { Profile, profileOf } from "../core/profile";
import { PropsValidator } from "../core/validation";
import type { Bundle } from "../function/bundle";
import { outsideVpcFunction } from "../function/outside-vpc";
import { resolveSettings } from "../function/settings";
import { Role } from "../iam";
import { LogGroup } from "../logs";

/** A JWS algorithm the JWT authorizer accepts (asymmetric only: a JWKS publishes public keys). */
export type JwtAlgorithm = (typeof JWS_ALGORITHMS)[number];

/** API Gateway's bounds on an authorizer's result cache. */
const RESULT_TTL = { min: 0, max: 3600 } as const;
const HEADER_RE = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/;
const CLAIM_RE = /^[A-Za-z0-9_:./-]{1,128}$/;
const USER_POOL_ARN_RE = /^arn:aws[a-z-]*:cognito-idp:[a-z0-9-]+:\d{12}:userpool\/[\w-]+_[0-9a-zA-Z]+$|^\$\{.+\}$/;

/** Props of {@link Authorization.jwt}. */
export interface JwtAuthorizationProps {
  /** The issuer (`iss`) every token must name exactly, e.g. `https://example.eu.auth0.com/`; an https URL. */
  readonly issuer: string;
  /** The audience (`aud`) a token must carry; with several, any one of them. */
  readonly audience: string | readonly string[];
  /**
   * Where the issuer publishes its signing keys (an https URL).
   * @default `<issuer>/.well-known/jwks.json`
   */
  readonly jwksUrl?: string;
  /**
   * The claim whose value is the caller's id: the session store's customer.
   * @default "sub"
   */
  readonly identityClaim?: string;
  /**
   * Signature algorithms accepted; `none` and HS* are not possible.
   * @default ["RS256"]
   */
  readonly algorithms?: readonly JwtAlgorithm[];
  /**
   * Clock skew allowed on `exp` and `nbf`, in seconds (0-300).
   * @default 5
   */
  readonly clockToleranceSeconds?: number;
  /**
   * Seconds API Gateway caches the authorizer's answer per token (0-3600; 0 invokes the
   * authorizer on every request). A revoked token keeps working until its entry expires.
   * @default 300
   */
  readonly resultTtlSeconds?: number;
  /**
   * The request header carrying `Bearer <token>` (the authorizer's identity source).
   * @default "Authorization"
   */
  readonly header?: string;
}

/** Props of {@link Authorization.cognito}. */
export interface CognitoAuthorizationProps {
  /**
   * The token claim whose value is the caller's id.
   * @default "sub"
   */
  readonly identityClaim?: string;
  /**
   * OAuth scopes of which an access token must carry one; with none, API Gateway expects ID tokens.
   * @default none (ID tokens)
   */
  readonly scopes?: readonly string[];
  /**
   * Seconds API Gateway caches a verified token (0-3600).
   * @default 300
   */
  readonly resultTtlSeconds?: number;
  /**
   * The request header carrying the token.
   * @default "Authorization"
   */
  readonly header?: string;
}

/** The API an {@link Authorization} is applied to: what binding it needs to know. */
export interface AuthorizedApi extends IConstruct {
  /** @attribute The REST API's id. */
  readonly restApiId: string;
  /** @attribute The REST API's execution ARN (what the authorizer's invoke permission is scoped to). */
  readonly executionArn: string;
}

/** What an {@link Authorization} became on one API: what its `caller` methods set, and what it created. */
export interface BoundAuthorization {
  /** `authorization` of the `caller` methods. */
  readonly authorizationType: "CUSTOM" | "COGNITO_USER_POOLS" | "AWS_IAM";
  /** The `aws_api_gateway_authorizer`, for JWT and Cognito. */
  readonly authorizer?: ApiGatewayAuthorizer;
  /** OAuth scopes the `caller` methods require (Cognito access tokens). */
  readonly scopes?: readonly string[];
  /** `CALLER_IDENTITY_SOURCE` of the functions behind `caller` routes: where they find the caller. */
  readonly callerIdentitySource: string;
  /** The JWT authorizer's function, for JWT. */
  readonly function?: JwtAuthorizerFunction;
  /** Lets API Gateway invoke the authorizer function through this authorizer only, for JWT. */
  readonly invokePermission?: LambdaPermission;
  /** What the API's deployment hash includes, so a changed authorizer is redeployed. */
  readonly fingerprint: Readonly<Record<string, string | number>>;
}

/**
 * How an API verifies its callers: a JWT issuer (Lambda authorizer), a Cognito user pool, or IAM.
 * Built with the static factories; a `CacheApi` binds it to its `caller` routes.
 */
export abstract class Authorization {
  /**
   * JWTs of any OIDC issuer, verified by a Lambda TOKEN authorizer (functions/authorizer) against
   * the issuer's JWKS. The function runs outside the VPC: it touches no private resource and
   * needs HTTPS to the issuer, which a VPC without NAT would not give it.
   */
  static jwt(props: JwtAuthorizationProps): Authorization {
    return new JwtAuthorization(props);
  }

  /** Tokens of a Cognito user pool (ARN), verified by API Gateway itself (COGNITO_USER_POOLS). */
  static cognito(userPoolArn: string, props: CognitoAuthorizationProps = {}): Authorization {
    return new CognitoAuthorization(userPoolArn, props);
  }

  /**
   * SigV4-signed requests (AWS_IAM), for service-to-service calls: the caller's IAM policy must
   * allow `execute-api:Invoke` on the method, and the caller's id is its ARN.
   */
  static iam(): Authorization {
    return new IamAuthorization();
  }

  /** `jwt`, `cognito` or `iam`. */
  abstract readonly kind: "jwt" | "cognito" | "iam";

  /** Creates what this authorization needs on `api` (validated: problems name `api`'s path and `authorization.<field>`). */
  abstract bind(api: AuthorizedApi, opts: { readonly logRetentionDays?: number; readonly profile?: Profile }): BoundAuthorization;
}

class JwtAuthorization extends Authorization {
  readonly kind = "jwt";

  constructor(private readonly props: JwtAuthorizationProps) {
    super();
  }

  bind(api: AuthorizedApi, opts: { readonly logRetentionDays?: number; readonly profile?: Profile }): BoundAuthorization {
    const p = this.props;
    const ttl = p.resultTtlSeconds ?? 300;
    const header = p.header ?? BEARER.header;
    const v = PropsValidator.for(api)
      .intRange("authorization.resultTtlSeconds", ttl, RESULT_TTL.min, RESULT_TTL.max)
      .matches("authorization.header", header, HEADER_RE, "an HTTP header name");
    const fn = new JwtAuthorizerFunction(api, "authorizer-fn", { ...p, logRetentionDays: opts.logRetentionDays, profile: opts.profile, validator: v });
    const authorizer = new ApiGatewayAuthorizer(api, "authorizer", {
      restApiId: api.restApiId,
      name: physicalName(api, 128, "jwt"),
      type: "TOKEN",
      authorizerUri: fn.invokeArn,
      identitySource: `method.request.header.${header}`,
      identityValidationExpression: BEARER_TOKEN_PATTERN,
      authorizerResultTtlInSeconds: ttl,
    });
    // Scoped to this authorizer of this API: no other API (or route) may invoke the function.
    const invokePermission = new LambdaPermission(api, "authorizer-invoke", {
      functionName: fn.functionName,
      action: "lambda:InvokeFunction",
      principal: "apigateway.amazonaws.com",
      sourceArn: `${api.executionArn}/authorizers/${authorizer.id}`,
    });
    return {
      authorizationType: "CUSTOM",
      authorizer,
      callerIdentitySource: CALLER_IDENTITY.lambda,
      function: fn,
      invokePermission,
      fingerprint: { kind: this.kind, header, ttl },
    };
  }
}

class CognitoAuthorization extends Authorization {
  readonly kind = "cognito";

  constructor(private readonly userPoolArn: string, private readonly props: CognitoAuthorizationProps) {
    super();
  }

  bind(api: AuthorizedApi): BoundAuthorization {
    const p = this.props;
    const ttl = p.resultTtlSeconds ?? 300;
    const header = p.header ?? BEARER.header;
    const claim = p.identityClaim ?? "sub";
    const v = PropsValidator.for(api)
      .matches("authorization.userPoolArn", this.userPoolArn, USER_POOL_ARN_RE, "a Cognito user pool ARN (arn:aws:cognito-idp:<region>:<account>:userpool/<id>)")
      .intRange("authorization.resultTtlSeconds", ttl, RESULT_TTL.min, RESULT_TTL.max)
      .matches("authorization.header", header, HEADER_RE, "an HTTP header name")
      .matches("authorization.identityClaim", claim, CLAIM_RE, "a claim name of letters, digits, '_', ':', '.', '/', '-'");
    for (const s of p.scopes ?? []) v.matches("authorization.scopes", s, /^\S{1,256}$/, "OAuth scope names without spaces");
    v.throwIfAny();
    const authorizer = new ApiGatewayAuthorizer(api, "authorizer", {
      restApiId: api.restApiId,
      name: physicalName(api, 128, "cognito"),
      type: "COGNITO_USER_POOLS",
      providerArns: [this.userPoolArn],
      identitySource: `method.request.header.${header}`,
      authorizerResultTtlInSeconds: ttl,
    });
    return {
      authorizationType: "COGNITO_USER_POOLS",
      authorizer,
      scopes: p.scopes && p.scopes.length > 0 ? [...p.scopes] : undefined,
      callerIdentitySource: `${CALLER_IDENTITY.cognitoPrefix}${claim}`,
      fingerprint: { kind: this.kind, header, ttl, scopes: (p.scopes ?? []).join(" ") },
    };
  }
}

class IamAuthorization extends Authorization {
  readonly kind = "iam";

  bind(): BoundAuthorization {
    return { authorizationType: "AWS_IAM", callerIdentitySource: CALLER_IDENTITY.iam, fingerprint: { kind: this.kind } };
  }
}

/** Props of {@link JwtAuthorizerFunction}. */
export interface JwtAuthorizerFunctionProps extends JwtAuthorizationProps {
  /**
   * Days to keep the authorizer's logs.
   * @default 90 in prod, 14 in dev
   */
  readonly logRetentionDays?: number;
  /**
   * Deployment profile.
   * @default the enclosing stack's profile, else `prod`
   */
  readonly profile?: Profile;
  /**
   * Collects this function's prop problems with its caller's (the API's) and throws them together.
   * @default a validator of its own
   */
  readonly validator?: PropsValidator;
}

/**
 * The JWT authorizer's Lambda (`functions/authorizer`): bundled like every handler, with its own
 * log group and a role that may only write its logs and traces. It runs outside the VPC on
 * purpose: it reads no private resource, and fetching the issuer's JWKS over HTTPS from a VPC
 * would need a NAT gateway per AZ.
 */
export class JwtAuthorizerFunction extends Construct {
  /** The Terraform `aws_lambda_function` resource. */
  public readonly resource: LambdaFunction;
  /** The execution role: its logs and X-Ray only. */
  public readonly role: Role;
  /** The function's log group, with a retention. */
  public readonly logGroup: LogGroup;
  /** The bundle deployed. */
  public readonly bundle: Bundle;
  /** The authorizer's settings in force, by key (the environment holds the same values). */
  public readonly settings: Readonly<Record<string, string | number | boolean>>;
  /** @attribute The function's name. */
  public readonly functionName: string;
  /** @attribute — the ARN API Gateway invokes. */
  public readonly invokeArn: string;

  constructor(scope: Construct, id: string, props: JwtAuthorizerFunctionProps) {
    super(scope, id);
    const audience = props.audience === undefined ? [] : typeof props.audience === "string" ? [props.audience] : [...props.audience];
    const given = {
      issuer: props.issuer,
      audience: audience.join(","),
      jwksUrl: props.jwksUrl ?? (typeof props.issuer === "string" ? defaultJwksUrl(props.issuer) : undefined),
      identityClaim: props.identityClaim,
      algorithms: props.algorithms?.join(","),
      clockToleranceSeconds: props.clockToleranceSeconds,
    };
    const v = props.validator ?? PropsValidator.for(this);
    // Problems are named as the authorization's fields (`authorization.issuer`), as the user wrote them.
    const settings = resolveSettings(v, AUTHORIZER.settings, given, "authorization.");
    v.check(audience.length > 0, "authorization.audience", props.audience, "at least one audience");
    v.check(typeof props.issuer === "string" && props.issuer !== "", "authorization.issuer", props.issuer, "the issuer every token must name (an https URL)");
    v.throwIfAny();
    this.settings = settings.values;

    const made = outsideVpcFunction(this, {
      entry: path.join(packageRoot(), AUTHORIZER.entry),
      description: AUTHORIZER.description,
      // Verification is one signature check; the JWKS is fetched once per container.
      memorySize: 256,
      timeoutSeconds: 5,
      environment: environmentOf(AUTHORIZER.settings, settings.values),
      logRetentionDays: props.logRetentionDays,
      profile: profileOf(this, props.profile),
    });
    ({ bundle: this.bundle, logGroup: this.logGroup, role: this.role, resource: this.resource } = made);
    this.functionName = this.resource.functionName;
    this.invokeArn = this.resource.invokeArn;
  }
}
