/**
 * The JWT authorizer (functions/authorizer) against a real JWKS served over HTTP, with tokens
 * signed by jose: a valid token is allowed for the whole stage with its `sub` as principalId;
 * every way a token can be wrong is "Unauthorized" (API Gateway's 401), one test each; a JWKS
 * that cannot be fetched is an error of its own (API Gateway's 500), never a 401.
 */
import { createServer, Server } from "http";
import type { AddressInfo } from "net";
import { exportJWK, generateKeyPair, JWTPayload, SignJWT } from "jose";
import { createAuthorizer, TokenAuthorizerEvent } from "../../functions/authorizer/handler";
import { AUTHORIZER, TOKEN_QUERY_PARAMETER } from "../../functions/authorizer/contract";
import { environmentOf } from "../../functions/lib/contract";

process.env.LOG_LEVEL = "silent";

const ISSUER = "https://login.example.test/";
const AUDIENCE = "orders-api";
const METHOD_ARN = "arn:aws:execute-api:eu-west-1:123456789012:abc123/v1/GET/sessions/s1";

type Key = Awaited<ReturnType<typeof generateKeyPair>>;
let server: Server;
let jwksUrl: string;
let rsa: Key;
let other: Key;
let jwksRequests = 0;

beforeAll(async () => {
  [rsa, other] = await Promise.all([generateKeyPair("RS256"), generateKeyPair("RS256")]);
  const publicJwk = { ...(await exportJWK(rsa.publicKey)), kid: "k1", alg: "RS256", use: "sig" };
  server = createServer((req, res) => {
    jwksRequests++;
    if (req.url === "/jwks.json") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ keys: [publicJwk] }));
    } else {
      res.writeHead(503);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

const env = (overrides: Record<string, string> = {}) => ({
  ...environmentOf(AUTHORIZER.settings, { issuer: ISSUER, audience: AUDIENCE, jwksUrl }),
  ...overrides,
});

/** A token with sensible claims, then `claims` on top, signed with `key` (the JWKS key by default). */
async function token(claims: JWTPayload = {}, opts: { key?: Key; kid?: string; alg?: string } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: ISSUER, aud: AUDIENCE, sub: "customer-1", iat: now, exp: now + 300, ...claims })
    .setProtectedHeader({ alg: opts.alg ?? "RS256", kid: opts.kid ?? "k1" })
    .sign((opts.key ?? rsa).privateKey);
}

const event = (authorizationToken?: string): TokenAuthorizerEvent => ({ type: "TOKEN", authorizationToken, methodArn: METHOD_ARN });
const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");

describe("a valid token", () => {
  test("is allowed on every method of the stage, with the identity claim as principalId", async () => {
    const result = await createAuthorizer(env())(event(`Bearer ${await token()}`));
    expect(result).toEqual({
      principalId: "customer-1",
      policyDocument: {
        Version: "2012-10-17",
        Statement: [{ Action: "execute-api:Invoke", Effect: "Allow", Resource: "arn:aws:execute-api:eu-west-1:123456789012:abc123/v1/*/*" }],
      },
    });
  });

  test("the identity comes from the configured claim, and the scheme is case-insensitive", async () => {
    const result = await createAuthorizer(env({ [AUTHORIZER.settings.identityClaim.env]: "customer_id" }))(
      event(`bearer ${await token({ customer_id: "c-42" })}`));
    expect(result.principalId).toBe("c-42");
  });

  test("any of several configured audiences is accepted; the JWKS is fetched once per container", async () => {
    const authorize = createAuthorizer(env({ [AUTHORIZER.settings.audience.env]: `other-api,${AUDIENCE}` }));
    const before = jwksRequests;
    for (let i = 0; i < 3; i++) expect((await authorize(event(`Bearer ${await token()}`))).principalId).toBe("customer-1");
    expect(jwksRequests - before).toBe(1);
  });
});

describe("every wrong token is Unauthorized (API Gateway answers 401)", () => {
  const authorize = () => createAuthorizer(env());
  const refused = async (header: string | undefined) => expect(authorize()(event(header))).rejects.toThrow(/^Unauthorized$/);

  test("no header", () => refused(undefined));
  test("not a Bearer token", async () => refused(`Basic ${Buffer.from("a:b").toString("base64")}`));
  test("a bad signature (signed with another key under the JWKS key's kid)", async () => refused(`Bearer ${await token({}, { key: other })}`));
  test("a tampered payload", async () => {
    const [h, , s] = (await token()).split(".");
    return refused(`Bearer ${h}.${b64({ iss: ISSUER, aud: AUDIENCE, sub: "admin", exp: Math.floor(Date.now() / 1000) + 300 })}.${s}`);
  });
  test("the wrong issuer", async () => refused(`Bearer ${await token({ iss: "https://evil.example.test/" })}`));
  test("the wrong audience", async () => refused(`Bearer ${await token({ aud: "another-api" })}`));
  test("expired (beyond the clock tolerance)", async () => refused(`Bearer ${await token({ exp: Math.floor(Date.now() / 1000) - 60 })}`));
  test("not yet valid (nbf in the future)", async () => refused(`Bearer ${await token({ nbf: Math.floor(Date.now() / 1000) + 600 })}`));
  test("without exp", async () => refused(`Bearer ${await token({ exp: undefined })}`));
  test("alg: none (an unsigned token)", async () => {
    const now = Math.floor(Date.now() / 1000);
    return refused(`Bearer ${b64({ alg: "none", typ: "JWT" })}.${b64({ iss: ISSUER, aud: AUDIENCE, sub: "customer-1", exp: now + 300 })}.`);
  });
  test("HS256 signed with the public key as the secret (algorithm confusion)", async () => {
    const secret = new TextEncoder().encode(JSON.stringify(await exportJWK(rsa.publicKey)));
    const now = Math.floor(Date.now() / 1000);
    const forged = await new SignJWT({ iss: ISSUER, aud: AUDIENCE, sub: "customer-1", exp: now + 300 }).setProtectedHeader({ alg: "HS256", kid: "k1" }).sign(secret);
    return refused(`Bearer ${forged}`);
  });
  test("an unknown kid", async () => refused(`Bearer ${await token({}, { key: other, kid: "k2" })}`));
  test("no identity claim", async () => refused(`Bearer ${await token({ sub: undefined })}`));
  test("an identity that cannot be a caller id (braces, spaces)", async () => refused(`Bearer ${await token({ sub: "{a} b" })}`));
  test("garbage", () => refused("Bearer not.a.jwt"));
});

describe("failures that are not the token's", () => {
  test("an unreachable JWKS is an error other than Unauthorized (API Gateway answers 500, not 401)", async () => {
    const authorize = createAuthorizer(env({ [AUTHORIZER.settings.jwksUrl.env]: jwksUrl.replace("/jwks.json", "/down") }));
    const err = await authorize(event(`Bearer ${await token()}`)).then(() => undefined, (e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err!.message).not.toBe("Unauthorized");
  });

  test("a bad setting fails at cold start naming the variable: an http issuer off the loopback, HS256, none", () => {
    expect(() => createAuthorizer(env({ [AUTHORIZER.settings.jwksUrl.env]: "http://keys.example.test/jwks.json" }))).toThrow(/JWT_JWKS_URL/);
    expect(() => createAuthorizer(env({ [AUTHORIZER.settings.algorithms.env]: "HS256" }))).toThrow(/JWT_ALGORITHMS/);
    expect(() => createAuthorizer(env({ [AUTHORIZER.settings.algorithms.env]: "none" }))).toThrow(/JWT_ALGORITHMS/);
  });

  test("the JWKS URL defaults to <issuer>/.well-known/jwks.json", () => {
    const { [AUTHORIZER.settings.jwksUrl.env]: _dropped, ...rest } = env();
    expect(() => createAuthorizer(rest)).not.toThrow();
  });
});

describe("as a WebSocket API's REQUEST authorizer (browsers cannot set headers on an upgrade)", () => {
  const CONNECT_ARN = "arn:aws:execute-api:eu-west-1:123456789012:ws123/v1/$connect";
  const connect = (query: Record<string, string> | null) => ({ type: "REQUEST" as const, methodArn: CONNECT_ARN, queryStringParameters: query });

  test("the token comes from the connect URL's query string; the Allow covers the stage's routes (no method in the ARN)", async () => {
    const result = await createAuthorizer(env())(connect({ [TOKEN_QUERY_PARAMETER]: await token(), sessionId: "s1" }));
    expect(result.principalId).toBe("customer-1");
    expect(result.policyDocument.Statement).toEqual([{ Action: "execute-api:Invoke", Effect: "Allow", Resource: "arn:aws:execute-api:eu-west-1:123456789012:ws123/v1/*" }]);
  });

  test("no token, a Bearer-prefixed one, or one signed by another key is Unauthorized", async () => {
    const authorize = createAuthorizer(env());
    const queries: Array<Record<string, string> | null> = [null, {}, { [TOKEN_QUERY_PARAMETER]: `Bearer ${await token()}` }, { [TOKEN_QUERY_PARAMETER]: await token({}, { key: other }) }];
    for (const q of queries) {
      await expect(authorize(connect(q))).rejects.toThrow(/^Unauthorized$/);
    }
  });
});
