/**
 * CacheEdge, EdgeInvalidator and CacheWarmer: behaviours derived from the API's routes (what is
 * cached, what is forwarded), the cache policy following the origin's Cache-Control, HTTPS and TLS,
 * standard logs, the WAF in us-east-1 (through an alias in another region), the origin locked to
 * the edge, the stream consumer that invalidates, the warm function and its schedule, and one
 * synth-time error per refused prop.
 */
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { App, TerraformStack, Testing } from "cdktf";
import { CacheApi, routesOf } from "../../modules/api";
import { Authorization } from "../../modules/authorization";
import { PROFILE_CONTEXT_KEY } from "../../modules/core/profile";
import { CacheEdge, CacheEdgeProps, edgeBehaviors, EdgeInvalidator, ORIGIN_VERIFY_HEADER, pathPatternOf } from "../../modules/edge";
import { CacheAsideFunction, FunctionSettings } from "../../modules/function";
import { Network } from "../../modules/network";
import { CacheObservability } from "../../modules/observability";
import { RedisCache } from "../../modules/redis";
import { CacheTable } from "../../modules/table";
import { CacheWarmer, CacheWarmerProps } from "../../modules/warming";
import { WebAcl } from "../../modules/waf";
import { PRODUCTS, PRODUCTS_RANKED_TABLE, PRODUCTS_TABLE, SESSIONS, SESSIONS_TABLE } from "../../modules";
import { propsError } from "../helpers/props-error";
import { decodeJsonencode, onlyResource, resourcesOf, rolePolicies, SynthJson } from "../helpers/synth";

const AZS = ["us-east-1a", "us-east-1b"];

interface Options {
  readonly edge?: Partial<CacheEdgeProps>;
  readonly settings?: FunctionSettings;
  readonly apiWaf?: false | object;
  readonly region?: string;
  readonly warm?: Partial<CacheWarmerProps> | false;
  readonly profile?: "dev" | "prod";
  /** The products table without the ranking index. */
  readonly unranked?: boolean;
}

function synth(o: Options = {}): { json: SynthJson; edge: CacheEdge; stack: TerraformStack } {
  const app: App = Testing.app();
  const stack = new TerraformStack(app, "test");
  stack.node.setContext(PROFILE_CONTEXT_KEY, o.profile ?? "prod");
  const region = o.region ?? "us-east-1";
  new AwsProvider(stack, "aws", { region, allowedAccountIds: ["123456789012"] });
  const network = new Network(stack, "network", { availabilityZones: region === "us-east-1" ? AZS : [`${region}a`, `${region}b`], region });
  const table = new CacheTable(stack, "products", o.unranked ? PRODUCTS_TABLE : PRODUCTS_RANKED_TABLE);
  const cache = new RedisCache(stack, "cache", { network });
  const fn = new CacheAsideFunction(stack, "fn", { network, contract: PRODUCTS, settings: o.settings });
  fn.useTable(table, { write: true }).useCache(cache);
  const api = new CacheApi(stack, "api", { functions: [fn], authorization: Authorization.iam(), waf: o.apiWaf as never });
  const edge = new CacheEdge(stack, "edge", { api, ...o.edge });
  new EdgeInvalidator(stack, "edge-invalidator", { edge, function: fn, table });
  if (o.warm !== false) new CacheWarmer(stack, "warmer", { function: fn, table, cache, ...o.warm });
  new CacheObservability(stack, "observability", { api, function: fn, table, cache, edge });
  return { json: JSON.parse(Testing.synth(stack)), edge, stack };
}

const errorOf = propsError;

describe("behaviours from the routes", () => {
  test("a path parameter and what follows become *", () => {
    expect(pathPatternOf("/products/{productId}")).toBe("/products/*");
    expect(pathPatternOf("/sessions/{sessionId}/turns")).toBe("/sessions/*");
    expect(pathPatternOf("/health")).toBe("/health");
  });

  test("products: the public read is cached with Authorization in its key (the writes on the same path need it forwarded)", () => {
    const { stack } = synth({ warm: false });
    const fn = stack.node.findAll().find((c): c is CacheAsideFunction => c instanceof CacheAsideFunction && c.contract === PRODUCTS)!;
    const [products, health] = edgeBehaviors(routesOf(fn));
    expect(products).toMatchObject({
      pathPattern: "/products/*", cached: true, cacheKey: { queryStrings: [], authorization: true },
      forwarding: { allViewerHeadersExceptHost: false, headers: ["content-type"], queryStrings: [] },
    });
    expect(products.allowedMethods).toContain("PUT");
    expect(health).toMatchObject({ pathPattern: "/health", cached: false, allowedMethods: ["GET", "HEAD"] });
  });

  test("sessions: nothing cached; every viewer header but Host forwarded (Authorization with caching off), the declared query string", () => {
    const app = Testing.app();
    const stack = new TerraformStack(app, "s");
    new AwsProvider(stack, "aws", { region: "us-east-1" });
    const network = new Network(stack, "network", { availabilityZones: AZS });
    const fn = new CacheAsideFunction(stack, "fn", { network, contract: SESSIONS });
    fn.useTable(new CacheTable(stack, "t", SESSIONS_TABLE), { write: true });
    const sessions = edgeBehaviors(routesOf(fn)).find((b) => b.pathPattern === "/sessions/*")!;
    expect(sessions).toMatchObject({ cached: false, forwarding: { allViewerHeadersExceptHost: true, queryStrings: ["consistent"] } });
    expect(sessions.cacheKey).toBeUndefined();
  });
});

describe("CacheEdge", () => {
  const { json } = synth();
  const dist = onlyResource(json, "aws_cloudfront_distribution");
  const policies = resourcesOf(json, "aws_cloudfront_cache_policy").map(([, p]) => p);

  test("HTTPS only to viewers and to the API; the stage is the origin path; IPv6, HTTP/2 and 3, compression", () => {
    for (const b of [dist.default_cache_behavior, ...dist.ordered_cache_behavior]) {
      expect(b.viewer_protocol_policy).toBe("https-only");
      expect(b.compress).toBe(true);
    }
    const origin = dist.origin[0];
    expect(origin.custom_origin_config).toMatchObject({ origin_protocol_policy: "https-only", origin_ssl_protocols: ["TLSv1.2"], origin_read_timeout: 30 });
    expect(origin.origin_path).toBe("/v1");
    expect(origin.domain_name).toMatch(/split\("\/", aws_api_gateway_stage\..*invoke_url\)/);
    expect(dist).toMatchObject({ is_ipv6_enabled: true, http_version: "http2and3", price_class: "PriceClass_All" });
  });

  test("the cached behaviour's policy follows Cache-Control: min 0, default 0, max = the function's s-maxage", () => {
    const cached = policies.find((p) => p.max_ttl > 0);
    expect(cached).toMatchObject({ min_ttl: 0, default_ttl: 0, max_ttl: 60 });
    const key = cached.parameters_in_cache_key_and_forwarded_to_origin;
    expect(key.headers_config).toEqual({ header_behavior: "whitelist", headers: { items: ["Authorization"] } });
    expect(key.cookies_config.cookie_behavior).toBe("none");
    expect(key.enable_accept_encoding_brotli).toBe(true);
    expect(policies.find((p) => p.max_ttl === 0)).toMatchObject({ min_ttl: 0, default_ttl: 0 });
  });

  test("max TTL follows a function's s-maxage setting", () => {
    const { json: j } = synth({ settings: { cacheControlSharedMaxAgeSeconds: 300 }, warm: false });
    expect(resourcesOf(j, "aws_cloudfront_cache_policy").map(([, p]) => p.max_ttl)).toContain(300);
  });

  test("standard logs to a KMS bucket that keeps ACLs (CloudFront's legacy logging grants through them), key usable by log delivery", () => {
    expect(dist.logging_config.bucket).toMatch(/aws_s3_bucket\..*bucket_domain_name/);
    expect(onlyResource(json, "aws_s3_bucket_ownership_controls").rule.object_ownership).toBe("BucketOwnerPreferred");
    const key = resourcesOf(json, "aws_kms_key").map(([, k]) => decodeJsonencode(k.policy)).find((p) => JSON.stringify(p).includes("delivery.logs"));
    expect(key.Statement.find((s: any) => s.Principal.Service === "delivery.logs.amazonaws.com").Action).toBe("kms:GenerateDataKey*");
  });

  test("the origin is locked to the edge: a secret header, required by a rule ahead of the API's own WAF rules, redacted from its logs", () => {
    const header = dist.origin[0].custom_header[0];
    expect(header.name).toBe(ORIGIN_VERIFY_HEADER);
    expect(header.value).toMatch(/terraform_data\..*output/);
    const regional = resourcesOf(json, "aws_wafv2_web_acl").map(([, a]) => a).find((a) => a.scope === "REGIONAL");
    const first = regional.rule.find((r: any) => r.priority === 0);
    expect(first.action).toEqual({ block: {} });
    expect(first.statement.not_statement.statement.byte_match_statement).toMatchObject({
      field_to_match: { single_header: { name: ORIGIN_VERIFY_HEADER } }, positional_constraint: "EXACTLY", search_string: header.value,
    });
    const logging = resourcesOf(json, "aws_wafv2_web_acl_logging_configuration").map(([, l]) => l);
    expect(logging.some((l) => l.redacted_fields.some((f: any) => f.single_header.name === ORIGIN_VERIFY_HEADER))).toBe(true);
  });

  test("an API without WAF gets a minimal web ACL holding the origin rule", () => {
    const { json: j } = synth({ apiWaf: false, warm: false });
    const acls = resourcesOf(j, "aws_wafv2_web_acl").map(([, a]) => a);
    expect(acls).toHaveLength(1);
    expect(acls[0].rule.map((r: any) => r.name)).toEqual([`require-${ORIGIN_VERIFY_HEADER}`, "rate-per-ip"]);
    expect(resourcesOf(j, "aws_wafv2_web_acl_association")).toHaveLength(1);
    expect(onlyResource(j, "aws_cloudfront_distribution").web_acl_id).toBeUndefined();
  });

  test("the WAF at the edge is CLOUDFRONT-scope; in us-east-1 it uses the default provider", () => {
    const cf = resourcesOf(json, "aws_wafv2_web_acl").map(([, a]) => a).find((a) => a.scope === "CLOUDFRONT");
    expect(cf.provider).toBeUndefined();
    expect(dist.web_acl_id).toMatch(/aws_wafv2_web_acl\..*\.arn/);
  });

  test("in another region the CLOUDFRONT ACL and its log group go through a us-east-1 alias with the default provider's account guard", () => {
    const { json: j } = synth({ region: "eu-west-1", warm: false });
    const aws = j.provider.aws as any[];
    const alias = aws.find((p) => p.alias === "us-east-1");
    expect(alias).toMatchObject({ region: "us-east-1", allowed_account_ids: ["123456789012"] });
    const cf = resourcesOf(j, "aws_wafv2_web_acl").map(([, a]) => a).find((a) => a.scope === "CLOUDFRONT");
    expect(cf.provider).toBe("aws.us-east-1");
    const group = resourcesOf(j, "aws_cloudwatch_log_group").map(([, g]) => g).find((g) => String(g.name).startsWith("aws-waf-logs-") && g.provider);
    expect(group.provider).toBe("aws.us-east-1");
  });

  test("a custom domain: alias, SNI certificate, TLSv1.2_2021; without one, the TLS rule is suppressed with the reason", () => {
    const withDomain = synth({ warm: false, edge: { domain: { domainName: "api.example.com", certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/abc-123" } } });
    const d = onlyResource(withDomain.json, "aws_cloudfront_distribution");
    expect(d.aliases).toEqual(["api.example.com"]);
    expect(d.viewer_certificate).toMatchObject({ ssl_support_method: "sni-only", minimum_protocol_version: "TLSv1.2_2021" });
    const suppressed = (e: CacheEdge) => e.distribution.node.metadata.filter((m) => JSON.stringify(m.data).includes("CF-CF-2"));
    expect(suppressed(withDomain.edge)).toHaveLength(0);
    expect(suppressed(synth({ warm: false }).edge)[0].data).toMatchObject({ ruleId: "CF-CF-2", reason: expect.stringMatching(/TLSv1 policy/) });
  });

  test("policy names are unique per stack (CloudFront policy names are account-global)", () => {
    const names = resourcesOf(json, "aws_cloudfront_cache_policy").map(([, p]) => p.name);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(n).toMatch(/^test-/);
  });

  test("the dashboard shows the edge (us-east-1 metrics) and L1 hits beside cache hits", () => {
    const body = JSON.stringify(onlyResource(json, "aws_cloudwatch_dashboard").dashboard_body);
    expect(body).toMatch(/AWS\/CloudFront/);
    expect(body).toMatch(/CacheHitRate/);
    expect(body).toMatch(/L1Hit/);
    expect(body).toMatch(/Hits by tier/);
  });

  test("bad props fail synthesis, each named", () => {
    const e = errorOf(() => synth({
      warm: false,
      settings: { cacheControlSharedMaxAgeSeconds: 0 },
      edge: { priceClass: "PriceClass_9" as never, originShieldRegion: "mars", domain: { domainName: "API.example.com", certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/x" } },
    }));
    const fields = e.problems.map((p) => p.field);
    expect(fields).toEqual(expect.arrayContaining([
      "priceClass", "originShieldRegion", "domain.domainName", "domain.certificateArn", "api.function(test/fn).settings.cacheControlSharedMaxAgeSeconds",
    ]));
    expect(e.message).toMatch(/us-east-1/);
  });

  test("a regional web ACL cannot front a distribution", () => {
    const e = errorOf(() => {
      const app = Testing.app();
      const stack = new TerraformStack(app, "w");
      new AwsProvider(stack, "aws", { region: "us-east-1" });
      const network = new Network(stack, "network", { availabilityZones: AZS });
      const fn = new CacheAsideFunction(stack, "fn", { network, contract: PRODUCTS });
      const api = new CacheApi(stack, "api", { functions: [fn], authorization: Authorization.iam() });
      new CacheEdge(stack, "edge", { api, waf: new WebAcl(stack, "regional") });
    });
    expect(e.problems.map((p) => p.field)).toContain("waf");
  });
});

describe("EdgeInvalidator", () => {
  const { json } = synth({ warm: false });
  const fn = resourcesOf(json, "aws_lambda_function").find(([id]) => /edge-invalidator/.test(id))![1];

  test("runs outside the VPC, may invalidate this distribution only, reads the stream", () => {
    expect(fn.vpc_config).toBeUndefined();
    const policies = rolePolicies(json).filter((p) => JSON.stringify(p.doc).includes("cloudfront"));
    expect(policies).toHaveLength(1);
    expect(policies[0].doc.Statement[0]).toMatchObject({ Action: ["cloudfront:CreateInvalidation"], Resource: [expect.stringMatching(/aws_cloudfront_distribution\..*\.arn/)] });
    expect(fn.environment.variables.EDGE_DISTRIBUTION_ID).toMatch(/aws_cloudfront_distribution\..*\.id/);
  });

  test("its mapping: partial batch responses, a 1 s window, record age = s-maxage + stale-while-revalidate (floor 60)", () => {
    const m = resourcesOf(json, "aws_lambda_event_source_mapping").map(([, x]) => x).find((x) => String(x.function_name).includes("edge-invalidator"));
    expect(m).toMatchObject({ function_response_types: ["ReportBatchItemFailures"], maximum_batching_window_in_seconds: 1, maximum_record_age_in_seconds: 90 });
  });
});

describe("CacheWarmer", () => {
  test("in the function's network, read-only on the table, the fronted function's key prefix; the schedule's role may invoke it only", () => {
    const { json } = synth({ warm: { schedule: "rate(1 hour)", top: 50 } });
    const warm = resourcesOf(json, "aws_lambda_function").find(([id]) => /warmer/.test(id))![1];
    const fronted = resourcesOf(json, "aws_lambda_function").find(([id]) => /^fn_/.test(id))![1];
    expect(warm.vpc_config.subnet_ids).toEqual(fronted.vpc_config.subnet_ids);
    expect(warm.environment.variables.WARM_TOP_N).toBe("50");
    // The same service name, hence the same key prefix (derived from it) and metrics.
    expect(warm.environment.variables.SERVICE_NAME).toBe(fronted.environment.variables.SERVICE_NAME);
    expect(warm.environment.variables.CACHE_TTL_SECONDS).toBe(fronted.environment.variables.CACHE_TTL_SECONDS);
    const writes = rolePolicies(json).flatMap((p) => p.doc.Statement)
      .filter((s: any) => String(s.Resource).includes("dynamodb_table") && s.Action.includes("dynamodb:PutItem"));
    expect(writes.length).toBe(1); // the product function's only
    const schedule = onlyResource(json, "aws_scheduler_schedule");
    expect(schedule).toMatchObject({ schedule_expression: "rate(1 hour)", flexible_time_window: { mode: "OFF" } });
    expect(JSON.parse(schedule.target.input)).toEqual({ top: 50, list: "bestsellers" });
    const invoke = rolePolicies(json).find((p) => p.name === "invoke-warm-function")!;
    expect(invoke.doc.Statement).toEqual([{ Effect: "Allow", Action: ["lambda:InvokeFunction"], Resource: [expect.stringMatching(/aws_lambda_function\.warmer.*\.arn/)] }]);
    const role = resourcesOf(json, "aws_iam_role").map(([, r]) => JSON.parse(r.assume_role_policy)).find((p) => JSON.stringify(p).includes("scheduler"));
    expect(role.Statement[0].Principal).toEqual({ Service: "scheduler.amazonaws.com" });
  });

  test("runAfterDeploy: one invocation at apply, re-run when the code or the key set changes", () => {
    const { json } = synth({ warm: { runAfterDeploy: true, ids: ["a", "b"] } });
    const inv = onlyResource(json, "aws_lambda_invocation");
    expect(JSON.parse(inv.input)).toEqual({ ids: ["a", "b"] });
    expect(Object.keys(inv.triggers)).toEqual(["code", "keys"]);
  });

  test("a top N needs the ranking index on the table; ids do not", () => {
    const e = errorOf(() => synth({ unranked: true, warm: { top: 10 } }));
    expect(e.problems.map((p) => p.field)).toEqual(["table.globalSecondaryIndexes"]);
    expect(e.message).toMatch(/an index by-rank on rankList \(S\) \/ rank \(N\)/);
    expect(() => synth({ unranked: true, warm: { ids: ["a"] } })).not.toThrow();
  });

  test("bad props fail synthesis, each named", () => {
    const e = errorOf(() => synth({ warm: { schedule: "every hour", ids: [], timeoutSeconds: 5 } }));
    expect(e.problems.map((p) => p.field)).toEqual(expect.arrayContaining(["schedule", "ids", "timeoutSeconds"]));
  });
});
