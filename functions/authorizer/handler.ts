/**
 * The JWT authorizer (a Lambda TOKEN authorizer): `Authorization: Bearer <jwt>` in, an IAM policy
 * out; as a WebSocket API's REQUEST authorizer, the token comes from the connect URL (`?token=<jwt>`). Verification is jose's (`jwtVerify` against `createRemoteJWKSet`), with the algorithms,
 * issuer and audience pinned from the contract's settings and `exp` required:
 *   valid token           → Allow execute-api:Invoke on this API's stage, principalId = the identity claim
 *   any other token       → throw "Unauthorized": API Gateway answers 401 and caches nothing
 *   JWKS unreachable, bad configuration → any other error: API Gateway answers 500 (the token was never judged)
 * The Allow covers every method of the stage because API Gateway caches the result per token for
 * the authorizer's TTL and reuses it for other methods.
 */
import { createRemoteJWKSet, errors, JWTPayload, jwtVerify } from "jose";
import { readSettings, SettingsOf } from "../lib/contract";
import { errorFields, log } from "../lib/log";
import { CALLER_ID_RE } from "../lib/caller";
import { AUTHORIZER, BEARER, defaultJwksUrl, TOKEN_QUERY_PARAMETER } from "./contract";

/** The event of a TOKEN authorizer. */
export interface TokenAuthorizerEvent {
  readonly type: "TOKEN";
  /** The identity source header's value: `Bearer <jwt>`. */
  readonly authorizationToken?: string;
  /** `arn:aws:execute-api:<region>:<account>:<api id>/<stage>/<METHOD>/<path>` of the request. */
  readonly methodArn: string;
}

/** The event of a REQUEST authorizer on a WebSocket API's `$connect` (the fields read here). */
export interface RequestAuthorizerEvent {
  readonly type: "REQUEST";
  /** `arn:aws:execute-api:<region>:<account>:<api id>/<stage>/$connect`. */
  readonly methodArn: string;
  /** The connect URL's query string: the token is `token=<jwt>`. */
  readonly queryStringParameters?: Record<string, string | undefined> | null;
}

/** What API Gateway expects back from an authorizer that allows the request. */
export interface AuthorizerResult {
  readonly principalId: string;
  readonly policyDocument: {
    readonly Version: "2012-10-17";
    readonly Statement: ReadonlyArray<{ readonly Action: string; readonly Effect: "Allow" | "Deny"; readonly Resource: string }>;
  };
}

type Settings = SettingsOf<typeof AUTHORIZER.settings>;

/** The one error message API Gateway turns into 401 Unauthorized. */
const UNAUTHORIZED = "Unauthorized";

/**
 * The stage's methods from the request's method ARN: `arn:…:<api id>/<stage>/*\/*` on a REST API
 * (method and path), `arn:…:<api id>/<stage>/*` on a WebSocket API (a route key, no method).
 */
function stageArn(methodArn: string, event: "TOKEN" | "REQUEST"): string {
  const [apiPart, stage] = methodArn.split("/");
  if (!apiPart?.startsWith("arn:") || !stage) throw new Error(`unexpected methodArn ${JSON.stringify(methodArn)}`);
  return event === "TOKEN" ? `${apiPart}/${stage}/*/*` : `${apiPart}/${stage}/*`;
}

/** The raw token of an event: `Bearer <jwt>` of a TOKEN event, `token=<jwt>` of a REQUEST event; undefined when malformed. */
function tokenOf(event: TokenAuthorizerEvent | RequestAuthorizerEvent): string | undefined {
  if (event?.type === "REQUEST") {
    const t = event.queryStringParameters?.[TOKEN_QUERY_PARAMETER];
    return t && !t.includes(" ") ? t : undefined;
  }
  const [scheme, token, extra] = (event?.authorizationToken ?? "").split(" ");
  return scheme?.toLowerCase() === BEARER.scheme.toLowerCase() && token && extra === undefined ? token : undefined;
}

/**
 * jose's errors about the token itself (bad signature, claims, algorithm, format, unknown key).
 * Anything else, a failed or timed-out JWKS fetch included, means the token was never judged.
 */
function isTokenProblem(err: unknown): boolean {
  if (!(err instanceof errors.JOSEError)) return false;
  return !(err instanceof errors.JWKSTimeout) && !(err instanceof errors.JWKSInvalid) && err.code !== errors.JOSEError.code;
}

/** An authorizer reading its settings from `env` (a bad value throws here, naming the variable). */
export function createAuthorizer(
  env: Readonly<Record<string, string | undefined>> = process.env,
): (event: TokenAuthorizerEvent | RequestAuthorizerEvent) => Promise<AuthorizerResult> {
  const issuer = env[AUTHORIZER.settings.issuer.env];
  const s: Settings = readSettings(AUTHORIZER.settings, env, { jwksUrl: issuer ? defaultJwksUrl(issuer) : undefined });
  const jwks = createRemoteJWKSet(new URL(s.jwksUrl), { timeoutDuration: s.jwksTimeoutMs });
  const options = {
    issuer: s.issuer,
    audience: s.audience.split(","),
    algorithms: s.algorithms.split(","),
    clockTolerance: s.clockToleranceSeconds,
    requiredClaims: ["exp", s.identityClaim],
  };
  return async (event) => {
    const token = tokenOf(event);
    if (!token) throw new Error(UNAUTHORIZED);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, jwks, options));
    } catch (err) {
      if (!isTokenProblem(err)) {
        log("error", "token not verified: JWKS unavailable", { jwksUrl: s.jwksUrl, ...errorFields(err) });
        throw new Error("the issuer's signing keys cannot be fetched");
      }
      log("info", "token refused", { reason: (err as InstanceType<typeof errors.JOSEError>).code });
      throw new Error(UNAUTHORIZED);
    }
    const id = payload[s.identityClaim];
    if (typeof id !== "string" || !CALLER_ID_RE.test(id)) {
      log("info", "token refused", { reason: `claim ${s.identityClaim} is not a usable caller id` });
      throw new Error(UNAUTHORIZED);
    }
    return {
      principalId: id,
      policyDocument: { Version: "2012-10-17", Statement: [{ Action: "execute-api:Invoke", Effect: "Allow", Resource: stageArn(event.methodArn, event.type) }] },
    };
  };
}

let authorize: ReturnType<typeof createAuthorizer> | undefined;

/** The Lambda entry point: settings and the JWKS cache live for the container's lifetime. */
export async function handler(event: TokenAuthorizerEvent | RequestAuthorizerEvent): Promise<AuthorizerResult> {
  authorize ??= createAuthorizer();
  return authorize(event);
}
