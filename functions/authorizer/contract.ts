/**
 * The JWT authorizer's contract: a Lambda TOKEN authorizer in front of a REST API (and a REQUEST
 * authorizer on a WebSocket API's `$connect`, the token in the query string). It verifies the
 * bearer token against the issuer's JWKS (signature, `alg` from an allow-list, `iss`, `aud`,
 * `exp`/`nbf`) and answers API Gateway with an Allow policy for this API's stage and the verified
 * identity as `principalId`; a token that does not verify is "Unauthorized" (401). It serves no
 * route and touches no table or cache.
 */
import { defineContract, integer, string } from "../lib/contract";

/**
 * An https URL, or http on the loopback interface (the local twin serves its JWKS there); a
 * Lambda has no loopback server, so the exception cannot be used to downgrade a deployment.
 */
const URL_PATTERN = "^(https://[^\\s/?#]+(/[^\\s?#]*)?|http://(127\\.0\\.0\\.1|localhost|\\[::1\\])(:[0-9]{1,5})?(/[^\\s?#]*)?)$";
const URL_TEXT = "an https URL (http only on 127.0.0.1 or localhost, for the local twin)";

/** Asymmetric JWS algorithms a JWKS can publish keys for; `none` and the shared-secret HS* are never accepted. */
export const JWS_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"] as const;

/** Where the JWKS of an issuer usually is (Cognito, Auth0, Keycloak…); the authorizer's default. */
export const defaultJwksUrl = (issuer: string): string => `${issuer.replace(/\/+$/, "")}/.well-known/jwks.json`;

/** The header API Gateway reads the token from, and the scheme in front of it. */
export const BEARER = { header: "Authorization", scheme: "Bearer" } as const;

/**
 * The query string parameter a WebSocket client sends its token in (`wss://…/v1?token=<jwt>`):
 * browsers cannot set headers on a WebSocket upgrade, so the REQUEST authorizer of a WebSocket API
 * reads the raw token (no `Bearer ` scheme) from here.
 */
export const TOKEN_QUERY_PARAMETER = "token";

/**
 * What API Gateway checks the header against before it invokes the authorizer (a TOKEN
 * authorizer's identity validation expression): a malformed header is 401 at no Lambda cost.
 */
export const BEARER_TOKEN_PATTERN = `^[${BEARER.scheme[0]}${BEARER.scheme[0].toLowerCase()}]${BEARER.scheme.slice(1)} [A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*$`;

/** The JWT authorizer function (`functions/authorizer/handler.ts`). */
export const AUTHORIZER = defineContract({
  name: "authorizer",
  entry: "functions/authorizer/handler.ts",
  description: "JWT authorizer: verifies bearer tokens against the issuer's JWKS",
  routes: [],
  settings: {
    issuer: string("JWT_ISSUER", { pattern: URL_PATTERN, patternText: URL_TEXT, description: "the `iss` every token must carry, exactly" }),
    audience: string("JWT_AUDIENCE", {
      pattern: "^[^,\\s]{1,256}(,[^,\\s]{1,256}){0,9}$",
      patternText: "1-10 audiences separated by commas, without spaces",
      description: "the `aud` a token must carry (one of them, when several are listed)",
    }),
    jwksUrl: string("JWT_JWKS_URL", {
      pattern: URL_PATTERN, patternText: URL_TEXT, derived: "`<issuer>/.well-known/jwks.json`",
      description: "where the issuer publishes its signing keys (fetched on first use and when a token names an unknown `kid`)",
    }),
    identityClaim: string("JWT_IDENTITY_CLAIM", {
      default: "sub", pattern: "^[A-Za-z0-9_:./-]{1,128}$", patternText: "a claim name of letters, digits, '_', ':', '.', '/', '-'",
      description: "the claim whose value is the caller's id (the session store's customer)",
    }),
    algorithms: string("JWT_ALGORITHMS", {
      default: "RS256",
      pattern: `^(${JWS_ALGORITHMS.join("|")})(,(${JWS_ALGORITHMS.join("|")})){0,9}$`,
      patternText: `a comma-separated list of ${JWS_ALGORITHMS.join(", ")} (never none or HS*)`,
      description: "the signature algorithms accepted; a token signed otherwise (or with `alg: none`) is refused",
    }),
    clockToleranceSeconds: integer("JWT_CLOCK_TOLERANCE_SECONDS", {
      default: 5, min: 0, max: 300, description: "clock skew allowed when checking `exp` and `nbf`",
    }),
    jwksTimeoutMs: integer("JWKS_TIMEOUT_MS", {
      default: 3_000, min: 100, max: 10_000, description: "longest one JWKS fetch may take (a timeout is a 500, not a 401: the token was not judged)",
    }),
  },
  metrics: [],
});
