/**
 * API Gateway's authorization step, emulated per method as the deployed API would run it:
 * - CUSTOM (TOKEN authorizer): no or malformed header → 401 without an invocation; else the
 *   authorizer function runs as a worker like any function, its result cached per token for the
 *   authorizer's TTL; "Unauthorized" → 401, an explicit Deny → 403, no matching Allow → 403, any other
 *   failure → 500; the context reaches the backend as `requestContext.authorizer`.
 * - COGNITO_USER_POOLS: the twin is the pool's issuer; the token is verified with its key (raw
 *   token in the header, as API Gateway expects), claims → `requestContext.authorizer.claims`.
 * - AWS_IAM: unsigned → 403 Missing Authentication Token; a SigV4 signature is verified against
 *   the twin's fake credentials (any other key is refused); the caller's IAM policy is not
 *   evaluated (there is no IAM here): a valid signature is allowed.
 */
import type { IncomingHttpHeaders } from "http";
import { CALLER_IDENTITY } from "../../functions/lib/contract";
import { FunctionPool } from "./functions";
import { LocalIssuer } from "./issuer";
import { TWIN_ACCOUNT } from "./local";
import { verifySigV4 } from "./sigv4";
import { AuthorizerDef, MethodDef } from "./stack";

/** The IAM principal the twin's fake credentials stand for. */
export const TWIN_ROLE = { arn: `arn:aws:sts::${TWIN_ACCOUNT}:assumed-role/cachefront-twin/local`, caller: "AROATWINLOCAL00000000:local" } as const;

/** What the backend's event gets from a successful authorization. */
export interface CallerContext {
  /** `requestContext.authorizer`. */
  readonly authorizer?: Record<string, unknown>;
  /** Fields of `requestContext.identity` a signed request sets. */
  readonly identity?: Record<string, string>;
}

/** The gateway responses the authorization step answers with (gateway.ts renders them). */
export type AuthErrorKind =
  | "UNAUTHORIZED" | "ACCESS_DENIED" | "AUTHORIZER_CONFIGURATION_ERROR" | "MISSING_AUTHENTICATION_TOKEN"
  | "INCOMPLETE_SIGNATURE" | "INVALID_SIGNATURE" | "UNRECOGNIZED_CLIENT";

export type AuthOutcome = { readonly ok: true; readonly context: CallerContext } | { readonly ok: false; readonly error: AuthErrorKind; readonly message?: string };

/** The request as the authorization step sees it. */
export interface AuthRequest {
  readonly method: string;
  /** Path below the stage, as sent. */
  readonly path: string;
  readonly query: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly stage: string;
}

/** The caller context a function would get for `id` through `source` (CALLER_IDENTITY_SOURCE): for seeding and tests. */
export function callerContext(source: string | undefined, id: string): CallerContext {
  if (source === CALLER_IDENTITY.iam) return { identity: { userArn: id } };
  if (source?.startsWith(CALLER_IDENTITY.cognitoPrefix)) return { authorizer: { claims: { [source.slice(CALLER_IDENTITY.cognitoPrefix.length)]: id } } };
  return { authorizer: { principalId: id } };
}

interface Statement {
  Effect?: string;
  Action?: string | string[];
  Resource?: string | string[];
}

/** IAM wildcard match (`*` any run, `?` one character). */
function wildcard(pattern: string, value: string): boolean {
  const re = new RegExp(`^${pattern.split("").map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\]/g, "\\$&"))).join("")}$`);
  return re.test(value);
}

const many = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** `allow`, `deny` (explicit) or `none` for `methodArn` under an authorizer's policy document. */
export function evaluatePolicy(policy: unknown, methodArn: string): "allow" | "deny" | "none" {
  const statements = many((policy as { Statement?: Statement | Statement[] } | undefined)?.Statement as never) as unknown as Statement[];
  const applies = (s: Statement) =>
    many(s.Action).some((a) => wildcard(a.toLowerCase(), "execute-api:invoke")) && many(s.Resource).some((r) => wildcard(r, methodArn));
  if (statements.some((s) => s.Effect === "Deny" && applies(s))) return "deny";
  if (statements.some((s) => s.Effect === "Allow" && applies(s))) return "allow";
  return "none";
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(",") : v;
}

export interface AuthorizersOptions {
  /** Function pools by logical id (the authorizer functions among them). */
  readonly pools: ReadonlyMap<string, FunctionPool>;
  /** The twin's issuer (Cognito methods verify with it). */
  readonly issuer?: LocalIssuer;
  readonly region: string;
  readonly apiId: string;
  readonly note: (line: string) => void;
  /** Clock for cache expiry and signature skew. @default Date.now */
  readonly now?: () => number;
}

export class Authorizers {
  /** TOKEN authorizer results by authorizer and token: what API Gateway caches for the TTL. */
  private readonly cache = new Map<string, { policy: unknown; context: Record<string, unknown>; expires: number }>();
  private readonly now: () => number;
  /** Invocations of each authorizer function (tests read it to see the cache work). */
  readonly invocations = new Map<string, number>();

  constructor(private readonly opts: AuthorizersOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Runs the method's authorization for one request. */
  async check(m: MethodDef, req: AuthRequest): Promise<AuthOutcome> {
    switch (m.authorization) {
      case "NONE":
        return { ok: true, context: {} };
      case "AWS_IAM":
        return this.iam(req);
      case "CUSTOM":
        return this.token(m.authorizer!, req);
      case "COGNITO_USER_POOLS":
        return this.cognito(m.authorizer!, req);
      default:
        return { ok: false, error: "UNAUTHORIZED" };
    }
  }

  private methodArn(req: AuthRequest): string {
    return `arn:aws:execute-api:${this.opts.region}:${TWIN_ACCOUNT}:${this.opts.apiId}/${req.stage}/${req.method}${req.path}`;
  }

  private async token(a: AuthorizerDef, req: AuthRequest): Promise<AuthOutcome> {
    const token = headerValue(req.headers, a.header ?? "Authorization");
    if (!token) return { ok: false, error: "UNAUTHORIZED" };
    if (a.validationExpression && !new RegExp(a.validationExpression).test(token)) return { ok: false, error: "UNAUTHORIZED" };
    const methodArn = this.methodArn(req);
    const key = `${a.logicalId} ${token}`;
    let entry = this.cache.get(key);
    if (!entry || entry.expires <= this.now()) {
      this.cache.delete(key);
      const pool = this.opts.pools.get(a.functionLogicalId ?? "");
      if (!pool) return { ok: false, error: "AUTHORIZER_CONFIGURATION_ERROR" };
      this.invocations.set(a.logicalId, (this.invocations.get(a.logicalId) ?? 0) + 1);
      const outcome = await pool.invoke({ type: "TOKEN", authorizationToken: token, methodArn }, `twin-authorizer-${this.now()}`);
      if (outcome.kind === "error" && outcome.error.errorMessage === "Unauthorized") return { ok: false, error: "UNAUTHORIZED" };
      if (outcome.kind !== "ok") {
        this.opts.note(`authorizer ${pool.fn.name} failed (${outcome.kind === "error" ? `${outcome.error.errorType}: ${outcome.error.errorMessage}` : outcome.kind}) → 500`);
        return { ok: false, error: "AUTHORIZER_CONFIGURATION_ERROR" };
      }
      const r = outcome.result as { principalId?: unknown; policyDocument?: unknown; context?: Record<string, unknown> } | null;
      if (!r || typeof r.principalId !== "string" || !r.policyDocument) {
        this.opts.note(`authorizer ${pool.fn.name} answered without principalId or policyDocument → 500`);
        return { ok: false, error: "AUTHORIZER_CONFIGURATION_ERROR" };
      }
      entry = { policy: r.policyDocument, context: { ...(r.context ?? {}), principalId: r.principalId }, expires: this.now() + a.ttlSeconds * 1000 };
      if (a.ttlSeconds > 0) this.cache.set(key, entry);
    }
    const verdict = evaluatePolicy(entry.policy, methodArn);
    if (verdict === "deny") return { ok: false, error: "ACCESS_DENIED", message: "User is not authorized to access this resource with an explicit deny" };
    if (verdict === "none") return { ok: false, error: "ACCESS_DENIED", message: "User is not authorized to access this resource" };
    return { ok: true, context: { authorizer: { ...entry.context, integrationLatency: 0 } } };
  }

  private async cognito(a: AuthorizerDef, req: AuthRequest): Promise<AuthOutcome> {
    const token = headerValue(req.headers, a.header ?? "Authorization");
    if (!token || !this.opts.issuer) return { ok: false, error: "UNAUTHORIZED" };
    try {
      const claims = await this.opts.issuer.verifyCognito(token);
      const flat = Object.fromEntries(Object.entries(claims).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
      return { ok: true, context: { authorizer: { claims: flat } } };
    } catch {
      return { ok: false, error: "UNAUTHORIZED" };
    }
  }

  private async iam(req: AuthRequest): Promise<AuthOutcome> {
    const r = await verifySigV4({ ...req, path: decodeURIComponent(`/${req.stage}${req.path}`) }, this.now());
    if (!r.ok) return r;
    return { ok: true, context: { identity: { userArn: TWIN_ROLE.arn, caller: TWIN_ROLE.caller, user: TWIN_ROLE.caller, accountId: TWIN_ACCOUNT, accessKey: r.accessKeyId } } };
  }
}
