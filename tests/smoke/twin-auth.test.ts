/**
 * The twin's authorization step in-process (tools/twin/authorizers.ts) as API Gateway runs it:
 * TOKEN authorizers (malformed header refused without an invocation, results cached per token for
 * the TTL, 401/403/500 by the authorizer's answer), Cognito tokens from the twin's issuer, and
 * SigV4 against the twin's fake credentials. The authorizer function here is a stand-in; the
 * bundled one runs in tests/smoke/smoke-suite.test.ts through the real twin.
 */
import { Hash } from "@smithy/hash-node";
import { SignatureV4 } from "@smithy/signature-v4";
import type { FunctionPool, InvokeOutcome } from "../../tools/twin/functions";
import { Authorizers, AuthRequest, evaluatePolicy, TWIN_ROLE } from "../../tools/twin/authorizers";
import { LocalIssuer } from "../../tools/twin/issuer";
import { FAKE_CREDENTIALS } from "../../tools/twin/local";
import type { AuthorizerDef, MethodDef } from "../../tools/twin/stack";
import { BEARER_TOKEN_PATTERN } from "../../functions/authorizer/contract";

const TOKEN_AUTHORIZER: AuthorizerDef = {
  logicalId: "jwt", type: "TOKEN", header: "Authorization", validationExpression: BEARER_TOKEN_PATTERN, ttlSeconds: 300, functionLogicalId: "authfn", providerArns: [],
};
const method = (authorization: string, authorizer?: AuthorizerDef): MethodDef => ({
  httpMethod: "GET", resourcePath: "/sessions/{sessionId}", authorization, authorizer, authorizationScopes: [], apiKeyRequired: false,
  requestParameters: {}, validateBody: false, validateParameters: false, models: {},
});
const request = (headers: Record<string, string> = {}, path = "/sessions/s1"): AuthRequest =>
  ({ method: "GET", path, query: "", headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])), body: Buffer.alloc(0), stage: "v1" });
const policy = (effect: "Allow" | "Deny", resource = "arn:aws:execute-api:us-east-1:123456789012:twin/v1/*/*") =>
  ({ Version: "2012-10-17", Statement: [{ Action: "execute-api:Invoke", Effect: effect, Resource: resource }] });

/** Authorizers whose authorizer function answers `answer`; the clock is `clock.now`. */
function setup(answer: (event: { authorizationToken: string; methodArn: string }) => InvokeOutcome, issuer?: LocalIssuer) {
  const clock = { now: Date.now() };
  const seen: string[] = [];
  const pool = { fn: { name: "authfn" }, invoke: async (e: { authorizationToken: string; methodArn: string }) => (seen.push(e.methodArn), answer(e)) } as unknown as FunctionPool;
  const authorizers = new Authorizers({ pools: new Map([["authfn", pool]]), issuer, region: "us-east-1", apiId: "twin", note: () => undefined, now: () => clock.now });
  return { authorizers, seen, clock };
}
const ok = (result: unknown): InvokeOutcome => ({ kind: "ok", result, coldStart: false });
const BEARER = { authorization: "Bearer aaa.bbb.ccc" };

describe("TOKEN authorizer", () => {
  test("no header, or one the validation expression refuses: 401 without invoking the authorizer", async () => {
    const { authorizers, seen } = setup(() => ok({ principalId: "c", policyDocument: policy("Allow") }));
    for (const headers of [{} as Record<string, string>, { authorization: "Basic abc" }, { authorization: "Bearer not-a-jwt" }]) {
      expect(await authorizers.check(method("CUSTOM", TOKEN_AUTHORIZER), request(headers))).toEqual({ ok: false, error: "UNAUTHORIZED" });
    }
    expect(seen).toEqual([]);
  });

  test("an Allow passes the principalId and context to the backend; the result is cached per token for the TTL, then asked again", async () => {
    const { authorizers, seen, clock } = setup((e) => ok({ principalId: e.authorizationToken.slice(-3), policyDocument: policy("Allow"), context: { tier: "gold" } }));
    const m = method("CUSTOM", TOKEN_AUTHORIZER);
    const first = await authorizers.check(m, request(BEARER));
    expect(first).toEqual({ ok: true, context: { authorizer: { principalId: "ccc", tier: "gold", integrationLatency: 0 } } });
    await authorizers.check(m, request(BEARER, "/sessions/other"));
    expect(seen).toEqual(["arn:aws:execute-api:us-east-1:123456789012:twin/v1/GET/sessions/s1"]); // one invocation: cached
    await authorizers.check(m, request({ authorization: "Bearer aaa.bbb.ddd" }));
    expect(seen).toHaveLength(2); // another token: its own entry
    clock.now += 301_000;
    await authorizers.check(m, request(BEARER));
    expect(seen).toHaveLength(3); // expired
    const uncached = setup(() => ok({ principalId: "c", policyDocument: policy("Allow") }));
    const zeroTtl = method("CUSTOM", { ...TOKEN_AUTHORIZER, ttlSeconds: 0 });
    await uncached.authorizers.check(zeroTtl, request(BEARER));
    await uncached.authorizers.check(zeroTtl, request(BEARER));
    expect(uncached.seen).toHaveLength(2);
  });

  test("Unauthorized → 401; explicit Deny → 403 'explicit deny'; no matching Allow → 403; a failure or a malformed answer → 500", async () => {
    const outcome = async (answer: InvokeOutcome) => setup(() => answer).authorizers.check(method("CUSTOM", TOKEN_AUTHORIZER), request(BEARER));
    expect(await outcome({ kind: "error", error: { errorType: "Error", errorMessage: "Unauthorized" }, coldStart: false })).toEqual({ ok: false, error: "UNAUTHORIZED" });
    expect(await outcome(ok({ principalId: "c", policyDocument: policy("Deny") }))).toEqual({
      ok: false, error: "ACCESS_DENIED", message: "User is not authorized to access this resource with an explicit deny",
    });
    expect(await outcome(ok({ principalId: "c", policyDocument: policy("Allow", "arn:aws:execute-api:us-east-1:123456789012:twin/v1/POST/*") }))).toEqual({
      ok: false, error: "ACCESS_DENIED", message: "User is not authorized to access this resource",
    });
    expect(await outcome({ kind: "error", error: { errorType: "Error", errorMessage: "JWKS down" }, coldStart: false })).toEqual({ ok: false, error: "AUTHORIZER_CONFIGURATION_ERROR" });
    expect(await outcome({ kind: "timeout", afterMs: 5000 })).toEqual({ ok: false, error: "AUTHORIZER_CONFIGURATION_ERROR" });
    expect(await outcome(ok({ policyDocument: policy("Allow") }))).toEqual({ ok: false, error: "AUTHORIZER_CONFIGURATION_ERROR" });
  });

  test("policy evaluation: wildcards, Deny over Allow, other actions ignored", () => {
    const arn = "arn:aws:execute-api:us-east-1:123456789012:twin/v1/GET/sessions/s1";
    expect(evaluatePolicy(policy("Allow", "arn:aws:execute-api:us-east-1:123456789012:twin/v1/GET/sessions/*"), arn)).toBe("allow");
    expect(evaluatePolicy({ Statement: [...policy("Allow").Statement, ...policy("Deny", arn).Statement] }, arn)).toBe("deny");
    expect(evaluatePolicy({ Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "*" }] }, arn)).toBe("none");
    expect(evaluatePolicy({ Statement: [{ Effect: "Allow", Action: ["execute-api:*"], Resource: ["*"] }] }, arn)).toBe("allow");
  });
});

describe("COGNITO_USER_POOLS", () => {
  const cognito: AuthorizerDef = { ...TOKEN_AUTHORIZER, type: "COGNITO_USER_POOLS", functionLogicalId: undefined, providerArns: ["arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_Pool"] };

  test("an ID token of the twin's pool passes with its claims; expired, foreign or access tokens are 401", async () => {
    const issuer = await LocalIssuer.create({ kind: "cognito", issuer: "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Pool", audience: "client", identityClaim: "sub", alg: "RS256", jwksUrl: "http://127.0.0.1/x" });
    const other = await LocalIssuer.create({ ...issuer.config });
    const { authorizers } = setup(() => ok({}), issuer);
    const m = method("COGNITO_USER_POOLS", cognito);
    const good = await authorizers.check(m, request({ authorization: await issuer.token("user-1") }));
    expect(good).toMatchObject({ ok: true, context: { authorizer: { claims: { sub: "user-1", token_use: "id" } } } });
    for (const token of [
      await issuer.token("user-1", { claims: { exp: Math.floor(Date.now() / 1000) - 60 } }),
      await other.token("user-1"),
      await issuer.token("user-1", { claims: { token_use: "access" } }),
    ]) expect(await authorizers.check(m, request({ authorization: token }))).toEqual({ ok: false, error: "UNAUTHORIZED" });
    expect(await authorizers.check(m, request())).toEqual({ ok: false, error: "UNAUTHORIZED" });
  });
});

describe("AWS_IAM (SigV4 with the twin's fake credentials)", () => {
  const iam = method("AWS_IAM");
  async function signed(opts: { secret?: string; accessKeyId?: string; path?: string } = {}): Promise<AuthRequest> {
    const signer = new SignatureV4({
      credentials: { accessKeyId: opts.accessKeyId ?? FAKE_CREDENTIALS.AWS_ACCESS_KEY_ID, secretAccessKey: opts.secret ?? FAKE_CREDENTIALS.AWS_SECRET_ACCESS_KEY },
      region: "us-east-1", service: "execute-api", sha256: Hash.bind(null, "sha256"),
    });
    const r = await signer.sign({ method: "GET", protocol: "http:", hostname: "127.0.0.1", port: 3210, path: "/v1/sessions/s1", query: {}, headers: { host: "127.0.0.1:3210" } });
    return { ...request(r.headers as Record<string, string>, opts.path ?? "/sessions/s1") }; // the path below the stage (v1)
  }

  test("unsigned: 403 Missing Authentication Token, as API Gateway answers", async () => {
    expect(await setup(() => ok({})).authorizers.check(iam, request())).toEqual({ ok: false, error: "MISSING_AUTHENTICATION_TOKEN" });
  });

  test("a valid signature passes with the twin role's ARN as the caller", async () => {
    const r = await setup(() => ok({})).authorizers.check(iam, await signed());
    expect(r).toEqual({ ok: true, context: { identity: expect.objectContaining({ userArn: TWIN_ROLE.arn, accessKey: FAKE_CREDENTIALS.AWS_ACCESS_KEY_ID }) } });
  });

  test("a wrong secret, another path than signed, or another access key: 403", async () => {
    const { authorizers } = setup(() => ok({}));
    expect(await authorizers.check(iam, await signed({ secret: "not-the-secret" }))).toEqual({ ok: false, error: "INVALID_SIGNATURE" });
    expect(await authorizers.check(iam, await signed({ path: "/sessions/s2" }))).toEqual({ ok: false, error: "INVALID_SIGNATURE" });
    expect(await authorizers.check(iam, await signed({ accessKeyId: "AKIAOTHERKEY00000000" }))).toEqual({ ok: false, error: "UNRECOGNIZED_CLIENT" });
    expect((await authorizers.check(iam, request({ authorization: "AWS4-HMAC-SHA256 nonsense" }))).ok).toBe(false);
  });
});
