/**
 * CacheApi's authorization, WAF and custom domain, on synthesized JSON: which methods verify the
 * caller and how, what the JWT authorizer creates (function outside the VPC, its own log group
 * and role, an invoke permission scoped to this authorizer), what the functions are told, and
 * the synth errors for every bad combination.
 */
import { Construct } from "constructs";
import { CacheApi, CacheApiProps, routesOf } from "../../modules/api";
import { Authorization } from "../../modules/authorization";
import { CacheAsideFunction } from "../../modules/function";
import { Network } from "../../modules/network";
import { WebAcl } from "../../modules/waf";
import { PropsValidationError } from "../../modules/core/validation";
import { SUPPRESSION_METADATA_TYPE } from "../../modules/policy";
import { PRODUCTS, SESSIONS } from "../../modules";
import { CONNECTIONS } from "../../functions/lib/contract";
import { onlyResource, resourcesOf, synthJson, SynthJson, testStack } from "../helpers/synth";
import { Profile } from "../../modules/core/profile";

const ISSUER = "https://login.example.test/";
const jwt = (extra: Partial<Parameters<typeof Authorization.jwt>[0]> = {}) => Authorization.jwt({ issuer: ISSUER, audience: "orders-api", ...extra });
const POOL = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_AbCdEf123";

/** GIVEN a stack with the session and product functions, WHEN an API serves both, THEN this JSON. */
function synthApi(props: Partial<CacheApiProps>, profile: Profile = "prod"): SynthJson {
  return synthJson((stack) => build(stack, props), profile);
}

function build(stack: Construct, props: Partial<CacheApiProps>): { api: CacheApi; sessions: CacheAsideFunction; products: CacheAsideFunction } {
  const network = new Network(stack, "network", { availabilityZones: ["us-east-1a", "us-east-1b"] });
  const sessions = new CacheAsideFunction(stack, "sessions", { network, contract: SESSIONS });
  const products = new CacheAsideFunction(stack, "products", { network, contract: PRODUCTS });
  // Both contracts serve /health: the API takes it from the session function only.
  const productRoutes = routesOf(products).filter((r) => r.path !== "/health");
  const api = new CacheApi(stack, "api", { functions: [sessions], routes: productRoutes, ...props });
  return { api, sessions, products };
}

function errorOf(props: Partial<CacheApiProps>): PropsValidationError {
  const { stack } = testStack();
  try {
    build(stack, props);
  } catch (e) {
    expect(e).toBeInstanceOf(PropsValidationError);
    return e as PropsValidationError;
  }
  throw new Error("expected a PropsValidationError");
}

/** method → authorization of every method, as "GET /sessions/{sessionId}" → "CUSTOM". */
function authorizationByRoute(json: SynthJson): Record<string, string> {
  const paths = new Map<string, string>();
  const byId = new Map(resourcesOf(json, "aws_api_gateway_resource"));
  const pathOf = (id: string): string => {
    const r = byId.get(id)!;
    const parent = /aws_api_gateway_resource\.([^.]+)\.id/.exec(r.parent_id);
    return `${parent ? pathOf(parent[1]) : ""}/${r.path_part}`;
  };
  for (const id of byId.keys()) paths.set(`\${aws_api_gateway_resource.${id}.id}`, pathOf(id));
  return Object.fromEntries(resourcesOf(json, "aws_api_gateway_method").map(([, m]) => [`${m.http_method} ${paths.get(m.resource_id)}`, m.authorization]));
}

const envOf = (json: SynthJson, fnPath: string) =>
  resourcesOf(json, "aws_lambda_function").find(([id]) => id.startsWith(fnPath))![1].environment.variables as Record<string, string>;

describe("Authorization.jwt", () => {
  const json = synthApi({ authorization: jwt({ resultTtlSeconds: 60 }) });

  test("caller routes (session reads and appends, product writes) use the TOKEN authorizer; health and the public catalog read do not", () => {
    expect(authorizationByRoute(json)).toEqual({
      "GET /health": "NONE",
      "GET /sessions/{sessionId}": "CUSTOM",
      "GET /sessions/{sessionId}/presence": "CUSTOM",
      "POST /sessions/{sessionId}/turns": "CUSTOM",
      "GET /products/{productId}": "NONE",
      "PUT /products/{productId}": "CUSTOM",
      "DELETE /products/{productId}": "CUSTOM",
    });
    const [authorizerId] = resourcesOf(json, "aws_api_gateway_authorizer")[0];
    for (const [, m] of resourcesOf(json, "aws_api_gateway_method").filter(([, x]) => x.authorization === "CUSTOM")) {
      expect(m.authorizer_id).toBe(`\${aws_api_gateway_authorizer.${authorizerId}.id}`);
    }
  });

  test("the authorizer reads the bearer token from Authorization, refuses malformed headers before invoking, caches per token for the TTL", () => {
    const a = onlyResource(json, "aws_api_gateway_authorizer");
    expect(a).toMatchObject({ type: "TOKEN", identity_source: "method.request.header.Authorization", authorizer_result_ttl_in_seconds: 60 });
    expect(a.authorizer_uri).toMatch(/^\$\{aws_lambda_function\.api_authorizer-fn_function_[A-Z0-9]+\.invoke_arn\}$/);
    const re = new RegExp(a.identity_validation_expression);
    expect(re.test("Bearer aaa.bbb.ccc")).toBe(true);
    expect(re.test("Basic dXNlcjpwYXNz")).toBe(false);
  });

  test("API Gateway may invoke the authorizer function through this authorizer of this API only", () => {
    const permissions = resourcesOf(json, "aws_lambda_permission").map(([, p]) => p);
    const own = permissions.filter((p) => String(p.function_name).includes("authorizer-fn"));
    expect(own).toHaveLength(1);
    expect(own[0].source_arn).toMatch(/^\$\{aws_api_gateway_rest_api\.api_[A-Z0-9]+\.execution_arn\}\/authorizers\/\$\{aws_api_gateway_authorizer\.api_authorizer_[A-Z0-9]+\.id\}$/);
  });

  test("the authorizer function runs outside the VPC with its own log group and a role for logs and traces only", () => {
    const [id, fn] = resourcesOf(json, "aws_lambda_function").find(([x]) => x.startsWith("api_authorizer-fn"))!;
    expect(fn.vpc_config).toBeUndefined();
    expect(fn.tracing_config).toEqual({ mode: "Active" });
    expect(fn.logging_config.log_group).toMatch(/api_authorizer-fn_logs_group/);
    const groups = resourcesOf(json, "aws_cloudwatch_log_group").filter(([x]) => x.startsWith("api_authorizer-fn"));
    expect(groups.map(([, g]) => g.retention_in_days)).toEqual([90]);
    const roleId = /aws_iam_role\.([^.]+)\.arn/.exec(fn.role as string)![1];
    const own = resourcesOf(json, "aws_iam_role_policy").filter(([, p]) => String(p.role).includes(roleId)).map(([, p]) => p.name).sort();
    expect({ id, own }).toEqual({ id, own: ["write-logs", "xray-tracing"] });
  });

  test("its settings are written into its environment, the JWKS URL derived from the issuer", () => {
    expect(envOf(json, "api_authorizer-fn")).toMatchObject({
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: "orders-api",
      JWT_JWKS_URL: `${ISSUER.replace(/\/$/, "")}/.well-known/jwks.json`,
      JWT_IDENTITY_CLAIM: "sub",
      JWT_ALGORITHMS: "RS256",
    });
  });

  test("functions behind caller routes learn where the verified caller is; the API key machinery is not created", () => {
    expect(envOf(json, "sessions_function")[CONNECTIONS.callerIdentity.env]).toBe("lambda");
    expect(envOf(json, "products_function")[CONNECTIONS.callerIdentity.env]).toBe("lambda");
    expect(resourcesOf(json, "aws_api_gateway_usage_plan")).toEqual([]);
  });

  test("the catalog's public read carries the contract's reason as a CF-APIGW-7 suppression on its method", () => {
    const { stack } = testStack();
    const { api } = build(stack, { authorization: jwt() });
    const suppressions = [...api.methods.entries()].flatMap(([key, m]) =>
      m.node.metadata.filter((x) => x.type === SUPPRESSION_METADATA_TYPE).map((x) => [key, (x.data as { ruleId: string }).ruleId, (x.data as { reason: string }).reason]));
    expect(suppressions).toEqual([["GET /products/{productId}", "CF-APIGW-7", "a catalog is public: products hold no customer data"]]);
  });

  test("a changed authorization redeploys the API", () => {
    const hash = (props: Partial<CacheApiProps>) => {
      const { stack } = testStack();
      return build(stack, props).api.redeploymentHash;
    };
    expect(hash({ authorization: jwt() })).toBe(hash({ authorization: jwt() }));
    expect(hash({ authorization: jwt() })).not.toBe(hash({ authorization: jwt({ resultTtlSeconds: 0 }) }));
    expect(hash({ authorization: jwt() })).not.toBe(hash({ authorization: Authorization.iam() }));
  });
});

describe("Authorization.cognito and Authorization.iam", () => {
  test("Cognito: COGNITO_USER_POOLS on the caller routes, with the pool and the scopes; the functions read the claim", () => {
    const json = synthApi({ authorization: Authorization.cognito(POOL, { scopes: ["sessions/write"], identityClaim: "username" }) });
    expect(onlyResource(json, "aws_api_gateway_authorizer")).toMatchObject({ type: "COGNITO_USER_POOLS", provider_arns: [POOL] });
    const guarded = resourcesOf(json, "aws_api_gateway_method").filter(([, m]) => m.authorization === "COGNITO_USER_POOLS");
    expect(guarded).toHaveLength(5);
    expect(guarded.every(([, m]) => JSON.stringify(m.authorization_scopes) === '["sessions/write"]')).toBe(true);
    expect(envOf(json, "sessions_function")[CONNECTIONS.callerIdentity.env]).toBe("cognito:username");
    expect(resourcesOf(json, "aws_lambda_function").some(([id]) => id.includes("authorizer"))).toBe(false);
  });

  test("IAM: AWS_IAM on the caller routes, no authorizer, the functions read the signer's ARN", () => {
    const json = synthApi({ authorization: Authorization.iam() });
    expect(Object.values(authorizationByRoute(json)).filter((a) => a === "AWS_IAM")).toHaveLength(5);
    expect(resourcesOf(json, "aws_api_gateway_authorizer")).toEqual([]);
    expect(envOf(json, "products_function")[CONNECTIONS.callerIdentity.env]).toBe("iam");
  });
});

describe("synth errors", () => {
  test("a route that needs a verified caller on an API without authorization names the construct, the field and the choices", () => {
    const e = errorOf({});
    expect(e.constructPath).toBe("test/api");
    expect(e.problems.map((p) => p.field)).toEqual(["authorization", "authorization", "authorization", "authorization", "authorization"]);
    expect(e.message).toMatch(/authorization = undefined: Authorization\.jwt\(…\), Authorization\.cognito\(…\) or Authorization\.iam\(\): route GET \/sessions\/\{sessionId\} \(sessions\) needs a verified caller/);
  });

  test("every bad JWT setting is reported together: http issuer, TTL, header, algorithm, claim", () => {
    const e = errorOf({
      authorization: Authorization.jwt({
        issuer: "http://login.example.test/", audience: "a", resultTtlSeconds: 7200, header: "Auth Header",
        algorithms: ["HS256" as never], identityClaim: "a b",
      }),
    });
    expect(e.problems.map((p) => p.field).sort()).toEqual([
      "authorization.algorithms", "authorization.header", "authorization.identityClaim", "authorization.issuer", "authorization.jwksUrl", "authorization.resultTtlSeconds",
    ]);
    expect(e.message).toMatch(/authorization\.issuer = "http:\/\/login\.example\.test\/": an https URL/);
    expect(e.message).toMatch(/authorization\.algorithms = "HS256": a comma-separated list of RS256/);
  });

  test("a Cognito authorization needs a user pool ARN", () => {
    expect(errorOf({ authorization: Authorization.cognito("us-east-1_AbC") }).problems.map((p) => p.field)).toEqual(["authorization.userPoolArn"]);
  });

  test("a public reason must say something, and only on a route anyone may call", () => {
    const { stack } = testStack();
    const network = new Network(stack, "network", { availabilityZones: ["us-east-1a", "us-east-1b"] });
    const fn = new CacheAsideFunction(stack, "fn", { network, contract: PRODUCTS });
    expect(() => new CacheApi(stack, "api", { routes: [{ method: "GET", path: "/x", function: fn, publicReason: "because" }] }))
      .toThrow(/routes\[0\]\.publicReason = "because": a reason of at least 10 characters/);
  });
});

describe("WAF and custom domain", () => {
  test("prod puts a web ACL with the managed rule groups and a per-IP rate rule in front of the stage, logging with credentials redacted", () => {
    const json = synthApi({ authorization: jwt() });
    const acl = onlyResource(json, "aws_wafv2_web_acl");
    expect(acl.scope).toBe("REGIONAL");
    expect(acl.rule.map((r: { name: string }) => r.name)).toEqual(["AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet", "rate-per-ip"]);
    expect(acl.rule[2].statement.rate_based_statement).toEqual({ limit: 2000, aggregate_key_type: "IP", evaluation_window_sec: 300 });
    expect(onlyResource(json, "aws_wafv2_web_acl_association").resource_arn).toMatch(/^\$\{aws_api_gateway_stage\.api_stage_[A-Z0-9]+\.arn\}$/);
    const logging = onlyResource(json, "aws_wafv2_web_acl_logging_configuration");
    expect(logging.redacted_fields.map((f: { single_header: { name: string } }) => f.single_header.name)).toEqual(["authorization", "x-api-key", "x-amz-security-token"]);
    const group = resourcesOf(json, "aws_cloudwatch_log_group").find(([id]) => id.startsWith("api_waf"))![1];
    expect(group.name).toMatch(/^aws-waf-logs-/);
    expect(group.retention_in_days).toBe(90);
  });

  test("dev has no WAF unless asked; prod can turn it off or share one ACL", () => {
    expect(resourcesOf(synthApi({ authorization: jwt() }, "dev"), "aws_wafv2_web_acl")).toEqual([]);
    expect(resourcesOf(synthApi({ authorization: jwt(), waf: {} }, "dev"), "aws_wafv2_web_acl")).toHaveLength(1);
    expect(resourcesOf(synthApi({ authorization: jwt(), waf: false }), "aws_wafv2_web_acl_association")).toEqual([]);
    const shared = synthJson((stack) => {
      const acl = new WebAcl(stack, "shared-waf", { rateLimitPer5Minutes: 500 });
      build(stack, { authorization: jwt(), waf: acl });
    });
    expect(resourcesOf(shared, "aws_wafv2_web_acl")).toHaveLength(1);
    expect(onlyResource(shared, "aws_wafv2_web_acl_association").web_acl_arn).toMatch(/shared-waf/);
  });

  test("a WAF rate limit out of WAF's range is a synth error", () => {
    expect(errorOf({ authorization: jwt(), waf: { rateLimitPer5Minutes: 10 } }).message).toMatch(/rateLimitPer5Minutes = 10: an integer from 100 to 2000000000/);
  });

  test("a custom domain is regional, TLS 1.2, mapped to the stage; a bad certificate ARN is a synth error", () => {
    const cert = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012";
    const json = synthApi({ authorization: jwt(), domain: { domainName: "api.example.com", certificateArn: cert, basePath: "orders" } });
    expect(onlyResource(json, "aws_api_gateway_domain_name")).toMatchObject({
      domain_name: "api.example.com", regional_certificate_arn: cert, security_policy: "TLS_1_2", endpoint_configuration: { types: ["REGIONAL"] },
    });
    expect(onlyResource(json, "aws_api_gateway_base_path_mapping")).toMatchObject({ base_path: "orders" });
    expect(errorOf({ authorization: jwt(), domain: { domainName: "API.example.com", certificateArn: "arn:aws:iam::1:x" } }).problems.map((p) => p.field))
      .toEqual(["domain.domainName", "domain.certificateArn"]);
  });
});
