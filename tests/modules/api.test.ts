import { AccountBaseline } from "../../modules/account";
import { Authorization } from "../../modules/authorization";
import { TerraformOutput } from "cdktf";
import { Construct } from "constructs";
import { ApiRoute, CacheApi, CacheApiProps, JSON_SCHEMA_DRAFT_04 } from "../../modules/api";
import { CacheAsideFunction } from "../../modules/function";
import { Network } from "../../modules/network";
import { Profile } from "../../modules/core/profile";
import { PropsValidationError } from "../../modules/core/validation";
import { onlyResource, resourcesOf, rolePolicies, synthJson, SynthJson, testStack } from "../helpers/synth";
import { PRODUCTS } from "../../modules";


const productSchema = {
  type: "object",
  required: ["name", "price"],
  properties: { name: { type: "string" }, price: { type: "number", minimum: 0 } },
};

interface Fixture {
  network: Network;
  products: CacheAsideFunction;
  sessions: CacheAsideFunction;
}

function fixture(scope: Construct): Fixture {
  const network = new Network(scope, "network", { availabilityZones: ["us-east-1a", "us-east-1b"] });
  return {
    network,
    products: new CacheAsideFunction(scope, "products", { network, contract: PRODUCTS }),
    sessions: new CacheAsideFunction(scope, "sessions", { network, contract: PRODUCTS }),
  };
}

function defaultRoutes(f: Fixture): ApiRoute[] {
  return [
    { method: "GET", path: "/products", function: f.products, optionalQueryParameters: ["limit"] },
    { method: "POST", path: "/products", function: f.products, bodySchema: productSchema },
    { method: "GET", path: "/products/{productId}", function: f.products },
    { method: "DELETE", path: "/products/{productId}", function: f.products },
    { method: "GET", path: "/products/{productId}/reviews", function: f.products, requiredQueryParameters: ["page"] },
    { method: "GET", path: "/sessions/{proxy+}", function: f.sessions },
  ];
}

/** GIVEN a stack with a network and two functions, WHEN an API is built from `routes`, THEN this JSON. */
function synthApi(
  routes: (f: Fixture) => ApiRoute[] = defaultRoutes,
  props: Partial<CacheApiProps> = {},
  profile: Profile = "prod",
): SynthJson {
  return synthJson((stack) => {
    const f = fixture(stack);
    new CacheApi(stack, "api", { routes: routes(f), ...props });
  }, profile);
}

/** Builds an API and returns the validation error it throws. */
function errorOf(routes: (f: Fixture) => ApiRoute[], props: Partial<CacheApiProps> = {}): PropsValidationError {
  const { stack } = testStack();
  const f = fixture(stack);
  try {
    new CacheApi(stack, "api", { routes: routes(f), ...props });
  } catch (e) {
    expect(e).toBeInstanceOf(PropsValidationError);
    return e as PropsValidationError;
  }
  throw new Error("expected a PropsValidationError");
}

/** Resolves `${aws_api_gateway_resource.X.id}` to the path of that resource. */
function resourcePaths(json: SynthJson): Map<string, string> {
  const byId = new Map(resourcesOf(json, "aws_api_gateway_resource"));
  const paths = new Map<string, string>();
  const pathOf = (logicalId: string): string => {
    const r = byId.get(logicalId)!;
    const parent = /aws_api_gateway_resource\.([^.]+)\.id/.exec(r.parent_id);
    return `${parent ? pathOf(parent[1]) : ""}/${r.path_part}`;
  };
  for (const id of byId.keys()) paths.set(`\${aws_api_gateway_resource.${id}.id}`, pathOf(id));
  return paths;
}

/** The method for METHOD on path, with its resource resolved. */
function methodAt(json: SynthJson, httpMethod: string, path: string): any {
  const paths = resourcePaths(json);
  const found = resourcesOf(json, "aws_api_gateway_method").filter(
    ([, m]) => m.http_method === httpMethod && (paths.get(m.resource_id) ?? "/") === path,
  );
  expect(found).toHaveLength(1);
  return found[0][1];
}

function validatorRef(json: SynthJson, validateBody: boolean): string {
  const found = resourcesOf(json, "aws_api_gateway_request_validator").filter(
    ([, v]) => v.validate_request_body === validateBody,
  );
  expect(found).toHaveLength(1);
  return `\${aws_api_gateway_request_validator.${found[0][0]}.id}`;
}

describe("CacheApi", () => {
  describe("resources and methods", () => {
    const json = synthApi();

    test("builds one resource per distinct segment path, sharing prefixes", () => {
      const paths = [...resourcePaths(json).values()].sort();
      expect(paths).toEqual([
        "/products",
        "/products/{productId}",
        "/products/{productId}/reviews",
        "/sessions",
        "/sessions/{proxy+}",
      ]);
      const rest = Object.keys(json.resource!.aws_api_gateway_rest_api)[0];
      const roots = resourcesOf(json, "aws_api_gateway_resource").filter(
        ([, r]) => r.parent_id === `\${aws_api_gateway_rest_api.${rest}.root_resource_id}`,
      );
      expect(roots.map(([, r]) => r.path_part).sort()).toEqual(["products", "sessions"]);
    });

    test("declares path parameters as required request parameters", () => {
      expect(methodAt(json, "GET", "/products/{productId}").request_parameters).toEqual({
        "method.request.path.productId": true,
      });
      expect(methodAt(json, "GET", "/sessions/{proxy+}").request_parameters).toEqual({
        "method.request.path.proxy": true,
      });
      expect(methodAt(json, "GET", "/products/{productId}/reviews").request_parameters).toEqual({
        "method.request.path.productId": true,
        "method.request.querystring.page": true,
      });
      expect(methodAt(json, "GET", "/products").request_parameters).toEqual({
        "method.request.querystring.limit": false,
      });
    });

    test("attaches the params validator to methods with parameters and the body validator to methods with a body", () => {
      const params = validatorRef(json, false);
      const body = validatorRef(json, true);
      expect(methodAt(json, "GET", "/products/{productId}").request_validator_id).toBe(params);
      expect(methodAt(json, "GET", "/products/{productId}/reviews").request_validator_id).toBe(params);
      const post = methodAt(json, "POST", "/products");
      expect(post.request_validator_id).toBe(body);
      expect(post.request_models["application/json"]).toMatch(/^\$\{aws_api_gateway_model\.[^.]+\.name\}$/);
    });

    test("writes the body schema as a draft-04 JSON model with an alphanumeric name", () => {
      const model = onlyResource(json, "aws_api_gateway_model");
      expect(model.content_type).toBe("application/json");
      expect(model.name).toMatch(/^[A-Za-z0-9]+$/);
      expect(JSON.parse(model.schema)).toEqual({ $schema: JSON_SCHEMA_DRAFT_04, ...productSchema });
    });

    test("integrates every method as an AWS_PROXY POST to its function's invoke ARN", () => {
      const integrations = resourcesOf(json, "aws_api_gateway_integration").map(([, i]) => i);
      expect(integrations).toHaveLength(6);
      for (const i of integrations) {
        expect(i.type).toBe("AWS_PROXY");
        expect(i.integration_http_method).toBe("POST");
        expect(i.uri).toMatch(/^\$\{aws_lambda_function\.[^.]+\.invoke_arn\}$/);
      }
      const fns = Object.entries(json.resource!.aws_lambda_function);
      const sessionsFn = fns.find(([, f]) => /sessions/.test(f.function_name))![0];
      const sessionsIntegrations = integrations.filter((i) => i.uri === `\${aws_lambda_function.${sessionsFn}.invoke_arn}`);
      expect(sessionsIntegrations).toHaveLength(1);
    });

    test("makes the REST API regional with its execute-api endpoint on", () => {
      const api = onlyResource(json, "aws_api_gateway_rest_api");
      expect(api.endpoint_configuration.types).toEqual(["REGIONAL"]);
      expect(api.disable_execute_api_endpoint).toBe(false);
      expect(api.minimum_compression_size).toBeUndefined();
      expect(api.name).toBeTruthy();
    });

    test("answers JSON for default 4XX and 5XX responses", () => {
      const responses = resourcesOf(json, "aws_api_gateway_gateway_response").map(([, r]) => r);
      expect(responses.map((r) => r.response_type).sort()).toEqual(["DEFAULT_4XX", "DEFAULT_5XX"]);
      for (const r of responses) {
        expect(r.response_templates["application/json"]).toBe('{"message":$context.error.messageString}');
        expect(r.response_parameters["gatewayresponse.header.Content-Type"]).toBe("'application/json'");
      }
    });
  });

  describe("deployment", () => {
    test("depends on every method and integration, is created before destroyed, has no stage name", () => {
      const json = synthApi();
      const deployment = onlyResource(json, "aws_api_gateway_deployment");
      for (const type of ["aws_api_gateway_method", "aws_api_gateway_integration"]) {
        for (const [id] of resourcesOf(json, type)) expect(deployment.depends_on).toContain(`${type}.${id}`);
      }
      expect(deployment.lifecycle.create_before_destroy).toBe(true);
      expect(deployment.stage_name).toBeUndefined();
      expect(deployment.triggers.redeployment).toMatch(/^[0-9a-f]{64}$/);
    });

    test("keeps the same trigger when nothing changes, even if routes are listed in another order", () => {
      const a = onlyResource(synthApi(), "aws_api_gateway_deployment").triggers.redeployment;
      const b = onlyResource(synthApi(), "aws_api_gateway_deployment").triggers.redeployment;
      const reversed = onlyResource(synthApi((f) => defaultRoutes(f).reverse()), "aws_api_gateway_deployment")
        .triggers.redeployment;
      expect(b).toBe(a);
      expect(reversed).toBe(a);
    });

    test("changes the trigger when a route, its parameters, schema or key requirement change", () => {
      const base = onlyResource(synthApi(), "aws_api_gateway_deployment").triggers.redeployment;
      const variants: Array<(f: Fixture) => ApiRoute[]> = [
        (f) => [...defaultRoutes(f), { method: "PUT", path: "/products/{productId}", function: f.products }],
        (f) => defaultRoutes(f).map((r) => (r.method === "GET" && r.path === "/products" ? { ...r, optionalQueryParameters: ["cursor"] } : r)),
        (f) => defaultRoutes(f).map((r) => (r.bodySchema ? { ...r, bodySchema: { ...productSchema, required: ["name"] } } : r)),
        (f) => defaultRoutes(f).map((r) => (r.path === "/products/{productId}" ? { ...r, apiKeyRequired: true } : r)),
        (f) => defaultRoutes(f).map((r) => (r.path === "/products/{productId}" ? { ...r, function: f.sessions } : r)),
      ];
      const hashes = variants.map((v) => onlyResource(synthApi(v), "aws_api_gateway_deployment").triggers.redeployment);
      for (const h of hashes) expect(h).not.toBe(base);
      expect(new Set(hashes).size).toBe(hashes.length);
    });
  });

  describe("stage", () => {
    const json = synthApi();

    test("writes JSON access logs to a log group with retention and turns on X-Ray", () => {
      const stage = onlyResource(json, "aws_api_gateway_stage");
      expect(stage.stage_name).toBe("v1");
      expect(stage.xray_tracing_enabled).toBe(true);
      expect(stage.access_log_settings.destination_arn).toMatch(/^\$\{aws_cloudwatch_log_group\.[^.]+\.arn\}$/);
      const format = JSON.parse(stage.access_log_settings.format);
      expect(Object.keys(format)).toEqual([
        "requestId", "ip", "caller", "principal", "user", "requestTime", "httpMethod", "resourcePath", "status",
        "protocol", "responseLength", "integrationLatency", "integrationStatus", "errorMessage",
      ]);
      for (const value of Object.values(format)) expect(value).toMatch(/^\$context\./);
      const groupId = /aws_cloudwatch_log_group\.([^.]+)\.arn/.exec(stage.access_log_settings.destination_arn)![1];
      expect(json.resource!.aws_cloudwatch_log_group[groupId].retention_in_days).toBe(90);
    });

    test("creates the execution log group API Gateway would otherwise create without retention", () => {
      const groups = resourcesOf(json, "aws_cloudwatch_log_group").map(([, g]) => g);
      const execution = groups.find((g) => String(g.name).startsWith("API-Gateway-Execution-Logs_"));
      expect(execution.name).toMatch(/^API-Gateway-Execution-Logs_\$\{aws_api_gateway_rest_api\.[^.]+\.id\}\/v1$/);
      expect(execution.retention_in_days).toBe(90);
    });

    test("enables metrics, never data trace, and throttles with the prod defaults", () => {
      const s = onlyResource(json, "aws_api_gateway_method_settings");
      expect(s.method_path).toBe("*/*");
      expect(s.settings).toMatchObject({
        metrics_enabled: true,
        data_trace_enabled: false,
        logging_level: "ERROR",
        throttling_rate_limit: 1000,
        throttling_burst_limit: 2000,
      });
    });

    test("uses the cheaper dev defaults for throttling, logging and retention", () => {
      const dev = synthApi(defaultRoutes, {}, "dev");
      expect(onlyResource(dev, "aws_api_gateway_method_settings").settings).toMatchObject({
        logging_level: "INFO",
        data_trace_enabled: false,
        throttling_rate_limit: 50,
        throttling_burst_limit: 100,
      });
      const retentions = resourcesOf(dev, "aws_cloudwatch_log_group")
        .filter(([, g]) => /apigateway|API-Gateway/.test(g.name))
        .map(([, g]) => g.retention_in_days);
      expect(retentions).toEqual([14, 14]);
    });

    test("takes throttling, stage name and log level from props", () => {
      const custom = synthApi(defaultRoutes, {
        throttlingRateLimit: 25,
        throttlingBurstLimit: 40,
        stageName: "live",
        loggingLevel: "OFF",
      });
      expect(onlyResource(custom, "aws_api_gateway_method_settings").settings).toMatchObject({
        throttling_rate_limit: 25,
        throttling_burst_limit: 40,
        logging_level: "OFF",
      });
      expect(onlyResource(custom, "aws_api_gateway_stage").stage_name).toBe("live");
    });

    test("never manages the account's API Gateway settings itself (an AccountBaseline does)", () => {
      expect(resourcesOf(json, "aws_api_gateway_account")).toHaveLength(0);
      expect(rolePolicies(json).find((p) => p.name === "push-to-cloudwatch-logs")).toBeUndefined();
    });

    test("with accountSettings from the same stack, the stage waits for them", () => {
      const json2 = synthJson((stack) => {
        const f = fixture(stack);
        new CacheApi(stack, "api", { routes: defaultRoutes(f), accountSettings: new AccountBaseline(stack, "account") });
      });
      const [accountId] = resourcesOf(json2, "aws_api_gateway_account")[0];
      expect(onlyResource(json2, "aws_api_gateway_stage").depends_on).toContain(`aws_api_gateway_account.${accountId}`);
    });
  });

  describe("lambda permissions", () => {
    test("grants invoke once per distinct function, scoped to this API's execution ARN", () => {
      const json = synthApi();
      const permissions = resourcesOf(json, "aws_lambda_permission").map(([, p]) => p);
      expect(permissions).toHaveLength(2);
      const rest = Object.keys(json.resource!.aws_api_gateway_rest_api)[0];
      for (const p of permissions) {
        expect(p.action).toBe("lambda:InvokeFunction");
        expect(p.principal).toBe("apigateway.amazonaws.com");
        expect(p.source_arn).toBe(`\${aws_api_gateway_rest_api.${rest}.execution_arn}/*/*`);
      }
      expect(new Set(permissions.map((p) => p.function_name)).size).toBe(2);
    });
  });

  describe("API keys", () => {
    test("creates no usage plan or key when no route requires one", () => {
      const json = synthApi();
      for (const type of ["aws_api_gateway_usage_plan", "aws_api_gateway_api_key", "aws_api_gateway_usage_plan_key"]) {
        expect(resourcesOf(json, type)).toHaveLength(0);
      }
    });

    test("creates a usage plan on the stage, an enabled key and their link when a route requires a key", () => {
      let api: CacheApi | undefined;
      const json = synthJson((stack) => {
        const f = fixture(stack);
        api = new CacheApi(stack, "api", {
          routes: defaultRoutes(f).map((r) => (r.method === "DELETE" ? { ...r, apiKeyRequired: true } : r)),
        });
      });
      expect(methodAt(json, "DELETE", "/products/{productId}").api_key_required).toBe(true);
      expect(methodAt(json, "GET", "/products/{productId}").api_key_required).toBe(false);
      const plan = onlyResource(json, "aws_api_gateway_usage_plan");
      expect(plan.api_stages[0].stage).toMatch(/^\$\{aws_api_gateway_stage\.[^.]+\.stage_name\}$/);
      expect(plan.throttle_settings).toEqual({ rate_limit: 1000, burst_limit: 2000 });
      expect(onlyResource(json, "aws_api_gateway_api_key").enabled).toBe(true);
      const link = onlyResource(json, "aws_api_gateway_usage_plan_key");
      expect(link.key_type).toBe("API_KEY");
      expect(link.key_id).toMatch(/aws_api_gateway_api_key\.[^.]+\.id/);
      expect(link.usage_plan_id).toMatch(/aws_api_gateway_usage_plan\.[^.]+\.id/);
      expect(api!.apiKeyValue).toBeDefined();
      expect(api!.apiKeyId).toBeDefined();
    });
  });

  describe("attributes", () => {
    test("exposes the stage URL, ids, stage name and resources, with the key value for a sensitive output", () => {
      let api: CacheApi | undefined;
      const json = synthJson((stack) => {
        const f = fixture(stack);
        api = new CacheApi(stack, "api", {
          routes: defaultRoutes(f).map((r) => (r.method === "DELETE" ? { ...r, apiKeyRequired: true } : r)),
        });
        new TerraformOutput(stack, "url", { value: api.url });
        new TerraformOutput(stack, "rest_api_id", { value: api.restApiId });
        new TerraformOutput(stack, "execution_arn", { value: api.executionArn });
        new TerraformOutput(stack, "api_key_id", { value: api.apiKeyId });
        new TerraformOutput(stack, "api_key", { value: api.apiKeyValue, sensitive: true });
      });
      expect(json.output!.url.value).toMatch(/^\$\{aws_api_gateway_stage\.[^.]+\.invoke_url\}$/);
      expect(json.output!.rest_api_id.value).toMatch(/^\$\{aws_api_gateway_rest_api\.[^.]+\.id\}$/);
      expect(json.output!.execution_arn.value).toMatch(/^\$\{aws_api_gateway_rest_api\.[^.]+\.execution_arn\}$/);
      expect(json.output!.api_key_id.value).toMatch(/^\$\{aws_api_gateway_api_key\.[^.]+\.id\}$/);
      expect(json.output!.api_key.value).toMatch(/^\$\{aws_api_gateway_api_key\.[^.]+\.value\}$/);
      expect(api!.stageName).toBe("v1");
      expect([...api!.resources.keys()].sort()).toEqual([
        "/products", "/products/{productId}", "/products/{productId}/reviews", "/sessions", "/sessions/{proxy+}",
      ]);
      expect(api!.methods.size).toBe(6);
      expect(api!.integrations.size).toBe(6);
    });
  });

  describe("validation", () => {
    const expectProblem = (e: PropsValidationError, field: string, value: string) => {
      expect(e.message).toContain("test/api");
      expect(e.message).toContain(field);
      expect(e.message).toContain(value);
    };

    test("rejects a path without a leading slash", () => {
      const e = errorOf((f) => [{ method: "GET", path: "products", function: f.products }]);
      expectProblem(e, "routes[0].path", '"products"');
    });

    test("rejects a segment with characters API Gateway does not allow", () => {
      const e = errorOf((f) => [{ method: "GET", path: "/products/a b", function: f.products }]);
      expectProblem(e, "routes[0].path", '"/products/a b"');
    });

    test("rejects a route listed twice", () => {
      const e = errorOf((f) => [
        { method: "GET", path: "/products", function: f.products },
        { method: "GET", path: "/products", function: f.sessions },
      ]);
      expectProblem(e, "routes[1]", '"GET /products"');
    });

    test("rejects a body schema on GET", () => {
      const e = errorOf((f) => [{ method: "GET", path: "/products", function: f.products, bodySchema: productSchema }]);
      expectProblem(e, "routes[0].bodySchema", '"GET"');
    });

    test("rejects a stage name with other characters", () => {
      const e = errorOf(defaultRoutes, { stageName: "v1.0" });
      expectProblem(e, "stageName", '"v1.0"');
    });

    test("rejects a non-positive throttling rate", () => {
      const e = errorOf(defaultRoutes, { throttlingRateLimit: 0 });
      expectProblem(e, "throttlingRateLimit", "= 0");
    });

    test("rejects a burst limit below 1", () => {
      const e = errorOf(defaultRoutes, { throttlingBurstLimit: 0 });
      expectProblem(e, "throttlingBurstLimit", "= 0");
    });

    test("rejects an empty route list", () => {
      const e = errorOf(() => []);
      expectProblem(e, "routes", "[]");
    });

    test("rejects two different path parameters under one parent", () => {
      const e = errorOf((f) => [
        { method: "GET", path: "/products/{productId}", function: f.products },
        { method: "PUT", path: "/products/{id}", function: f.products },
      ]);
      expectProblem(e, "routes[1].path", '"/products/{id}"');
    });

    test("rejects a greedy parameter before the last segment", () => {
      const e = errorOf((f) => [{ method: "GET", path: "/files/{proxy+}/meta", function: f.products }]);
      expectProblem(e, "routes[0].path", '"/files/{proxy+}/meta"');
    });

    test("rejects a body schema in another draft than draft-04", () => {
      const draft7 = "http://json-schema.org/draft-07/schema#";
      const e = errorOf((f) => [
        { method: "POST", path: "/products", function: f.products, bodySchema: { $schema: draft7, type: "object" } },
      ]);
      expectProblem(e, "routes[0].bodySchema.$schema", draft7);
    });

    test("rejects a function whose timeout exceeds the 29 s integration timeout, naming the function and its routes", () => {
      // GIVEN a contract's function with a 30 s timeout behind the API
      const { stack } = testStack();
      const network = new Network(stack, "network", { availabilityZones: ["us-east-1a", "us-east-1b"] });
      const slow = new CacheAsideFunction(stack, "slow", { network, contract: PRODUCTS, timeoutSeconds: 30 });
      const fast = new CacheAsideFunction(stack, "fast", { network, contract: PRODUCTS, timeoutSeconds: 29 });
      // WHEN / THEN
      let e: PropsValidationError | undefined;
      try {
        new CacheApi(stack, "api", { functions: [slow], routes: [{ method: "GET", path: "/health-fast", function: fast }], authorization: Authorization.iam() });
      } catch (err) {
        e = err as PropsValidationError;
      }
      expect(e).toBeInstanceOf(PropsValidationError);
      expect(e!.problems.map((p) => [p.field, p.value])).toEqual([["function(test/slow).timeoutSeconds", 30]]);
      expect(e!.message).toContain("at most 29, API Gateway's REST integration timeout");
      expect(e!.message).toContain("GET /products/{productId}");
    });

    test("rejects a query parameter both required and optional", () => {
      const e = errorOf((f) => [
        { method: "GET", path: "/products", function: f.products, requiredQueryParameters: ["q"], optionalQueryParameters: ["q"] },
      ]);
      expectProblem(e, "routes[0].queryParameters", '["q","q"]');
    });
  });
});
