import { Testing } from "cdktf";
import { buildApp } from "../../stacks/app";
import { CacheStack } from "../../stacks/base";
import { EnvironmentStack } from "../../stacks/environment";
import { loadConfig } from "../../stacks/config";
import { SessionStoreStack } from "../../stacks/session-store";
import * as path from "path";
import { bundleHandler } from "../../modules/function/bundle";
import { decodeJsonencode } from "../helpers/synth";
import { PUSHER } from "../../functions/pusher/contract";

const app = buildApp(Testing.app());
app.synth(); // resolves the cross-stack references (network → services) into outputs and remote state
const everyStack = app.node.children
  .filter((c): c is EnvironmentStack => c instanceof EnvironmentStack)
  .map((s) => ({ id: s.node.id, json: JSON.parse(Testing.synth(s)) }));
const synthesized = everyStack.filter(({ id }) => app.node.findChild(id) instanceof CacheStack);

const REQUIRED_TYPES = [
  "aws_vpc", "aws_subnet", "aws_route_table", "aws_vpc_endpoint", "aws_flow_log", "aws_default_security_group",
  "aws_security_group", "aws_elasticache_subnet_group", "aws_elasticache_parameter_group",
  "aws_elasticache_replication_group", "aws_elasticache_user", "aws_elasticache_user_group", "aws_dax_subnet_group", "aws_dax_parameter_group",
  "aws_dax_cluster", "aws_iam_role", "aws_dynamodb_table", "aws_lambda_function", "aws_lambda_permission",
  "aws_cloudwatch_log_group", "aws_api_gateway_rest_api", "aws_api_gateway_deployment", "aws_api_gateway_stage",
  "aws_api_gateway_method_settings", "aws_api_gateway_request_validator",
];

function all(json: any, type: string): any[] {
  return Object.values(json.resource?.[type] ?? {});
}

describe("the default app, taken together", () => {
  test.each(REQUIRED_TYPES)("contains %s", (type) => {
    expect(everyStack.some(({ json }) => all(json, type).length > 0)).toBe(true);
  });
});

describe.each(synthesized.map((s) => [s.id, s.json] as const))("%s", (id, json) => {
  const prod = id.endsWith("-prod");
  const sessions = id.startsWith("session-store");

  test("declares the outputs the smoke tests read (the session store its WebSocket URL; the catalog its warm function, and in prod its edge)", () => {
    const catalog = id.startsWith("product-catalog");
    expect(Object.keys(json.output).sort()).toEqual(
      ["alarm_topic_arn", "api_url", "dashboard_name", "dax_endpoint", ...(catalog && prod ? ["edge_distribution_id", "edge_url"] : []),
        "function_name", "invalidation_failures_queue_url", "redis_auth_secret_arn", "redis_endpoint", "redis_port", "table_name",
        ...(catalog ? ["warm_function_name"] : []), ...(sessions ? ["websocket_url"] : [])],
    );
  });

  test("CloudFront in front of the catalog in prod only; writes do not invalidate it by default (s-maxage bounds it)", () => {
    const catalogProd = id === "product-catalog-prod";
    expect(all(json, "aws_cloudfront_distribution")).toHaveLength(catalogProd ? 1 : 0);
    expect(all(json, "aws_lambda_function").filter((f) => /edge-invalidator/.test(f.function_name))).toHaveLength(0);
    if (catalogProd) {
      const d = all(json, "aws_cloudfront_distribution")[0];
      expect(d.web_acl_id).toMatch(/aws_wafv2_web_acl\./);
      expect(all(json, "aws_wafv2_web_acl").map((a) => a.scope).sort()).toEqual(["CLOUDFRONT", "REGIONAL"]);
    }
  });

  test("verifies callers with the JWT authorizer, and puts WAF in front of the stage in prod only", () => {
    expect(all(json, "aws_api_gateway_authorizer").map((a) => a.type)).toEqual(["TOKEN"]);
    expect(all(json, "aws_api_gateway_method").filter((m) => m.authorization === "CUSTOM")).toHaveLength(sessions ? 3 : 2);
    // The WebSocket API's $connect: a REQUEST authorizer (browsers send the token in the query string).
    expect(all(json, "aws_apigatewayv2_authorizer").map((a) => a.authorizer_type)).toEqual(sessions ? ["REQUEST"] : []);
    expect(all(json, "aws_wafv2_web_acl_association")).toHaveLength(prod ? 1 : 0);
  });

  test("has no ingress from anywhere and no rule without a description", () => {
    for (const r of all(json, "aws_vpc_security_group_ingress_rule")) {
      expect(r.cidr_ipv4).toBeUndefined();
      expect(r.cidr_ipv6).toBeUndefined();
      expect(r.referenced_security_group_id).toBeDefined();
      expect(r.description).toBeTruthy();
    }
    for (const r of all(json, "aws_vpc_security_group_egress_rule")) {
      expect(r.cidr_ipv4).not.toBe("0.0.0.0/0");
      expect(r.description).toBeTruthy();
    }
    for (const sg of all(json, "aws_security_group")) {
      expect(sg.description).toBeTruthy();
      expect(sg.ingress).toBeUndefined();
    }
  });

  test("never grants dynamodb, dax or secretsmanager actions on *", () => {
    for (const p of all(json, "aws_iam_role_policy")) {
      for (const s of decodeJsonencode(p.policy).Statement) {
        const scoped = s.Action.some((a: string) => /^(dynamodb|dax|secretsmanager):/.test(a));
        if (scoped) expect(s.Resource).not.toContain("*");
        expect(s.Action).not.toContain("*");
      }
    }
  });

  test("encrypts the cache at rest and in transit; the function logs in as its own IAM user, no token, no secret", () => {
    for (const rg of all(json, "aws_elasticache_replication_group")) {
      expect(rg.at_rest_encryption_enabled).toBe("true");
      expect(rg.transit_encryption_enabled).toBe(true);
      expect(rg.auth_token).toBeUndefined();
      expect(rg.user_group_ids).toEqual([expect.stringMatching(/^\$\{aws_elasticache_user_group\./)]);
      expect(rg.automatic_failover_enabled).toBe(prod);
      expect(rg.multi_az_enabled).toBe(prod);
    }
    expect(all(json, "aws_secretsmanager_secret")).toEqual([]);
    // the disabled default user, and one IAM user per wired function: the service's, its stream invalidator's and (catalog) its warm function's
    const clients = id.startsWith("product-catalog") ? 3 : 2;
    const users = all(json, "aws_elasticache_user");
    expect(users.map((u) => [u.user_name === "default", u.authentication_mode.type]).sort())
      .toEqual([...Array(clients).fill([false, "iam"]), [true, "no-password-required"]]);
    const wired = all(json, "aws_lambda_function").filter((f) => f.environment?.variables?.REDIS_USER);
    expect(wired).toHaveLength(clients);
    for (const f of wired) expect(users.map((u) => u.user_id)).toContain(f.environment.variables.REDIS_USER);
  });

  test("protects and backs up the table", () => {
    for (const t of all(json, "aws_dynamodb_table")) {
      expect(t.point_in_time_recovery.enabled).toBe(true);
      expect(t.server_side_encryption.enabled).toBe(true);
      expect(t.deletion_protection_enabled).toBe(prod);
      expect(t.billing_mode).toBe("PAY_PER_REQUEST");
      expect(t.ttl.enabled).toBe(true);
    }
  });

  test("invalidates from the table's stream: KEYS_ONLY, partial batch responses, bounded retries, an on-failure queue", () => {
    const [table] = all(json, "aws_dynamodb_table");
    expect([table.stream_enabled, table.stream_view_type]).toEqual([true, "KEYS_ONLY"]);
    const [mapping] = all(json, "aws_lambda_event_source_mapping");
    expect(mapping).toEqual(expect.objectContaining({
      function_response_types: ["ReportBatchItemFailures"], bisect_batch_on_function_error: true, maximum_retry_attempts: 10,
      destination_config: { on_failure: { destination_arn: expect.stringMatching(/^\$\{aws_sqs_queue\./) } },
    }));
    expect(mapping.event_source_arn).toMatch(/^\$\{aws_dynamodb_table\.[^.]+\.stream_arn\}$/);
  });

  test("gives every log group a retention", () => {
    for (const g of all(json, "aws_cloudwatch_log_group")) expect(g.retention_in_days).toBe(prod ? 90 : 14);
  });

  test("traces and bounds the Lambdas; the service function runs in the VPC, the authorizer and the pusher (no private resource) outside", () => {
    for (const f of all(json, "aws_lambda_function")) {
      expect(f.tracing_config.mode).toBe("Active");
      expect(f.timeout).toBeGreaterThan(0);
      const outside = f.description.startsWith("JWT authorizer") || f.description === PUSHER.description;
      // The stream invalidator and the warm function do a few cache round trips per key: 256 MB everywhere.
      expect(f.memory_size).toBe(outside || !prod || /invalidator|warmer/.test(f.function_name) ? 256 : 512);
      expect(f.vpc_config?.subnet_ids.length).toBe(outside ? undefined : prod ? 3 : 2);

    }
  });

  test("scopes Lambda permissions to its APIs", () => {
    for (const p of all(json, "aws_lambda_permission")) {
      expect(p.principal).toBe("apigateway.amazonaws.com");
      expect(p.source_arn).toMatch(/^\$\{(aws_api_gateway_rest_api|aws_apigatewayv2_api)\.[^}]+\.execution_arn\}\//);
    }
  });

  test("reads no data source that calls AWS: only its network stack's outputs, from that stack's state (plans offline)", () => {
    const env = id.replace(/^.*-(dev|prod)$/, "$1");
    expect(Object.keys(json.data ?? {})).toEqual(["terraform_remote_state"]);
    expect(json.data.terraform_remote_state).toEqual({
      [`cross-stack-reference-input-network-${env}`]: { backend: "local", config: { path: expect.stringMatching(new RegExp(`terraform\\.network-${env}\\.tfstate$`)) } },
    });
  });
});

describe("session store", () => {
  test("models META/TURN#/SUMMARY# items under PK/SK with a customer index, behind DAX", () => {
    const { json } = synthesized.find((s) => s.id === "session-store-prod")!;
    const table = Object.values(json.resource.aws_dynamodb_table)[0] as any;
    expect(table.hash_key).toBe("PK");
    expect(table.range_key).toBe("SK");
    expect(table.global_secondary_index[0].hash_key).toBe("customerId");
    const dax = Object.values(json.resource.aws_dax_cluster)[0] as any;
    expect(dax.replication_factor).toBe(3);
    expect(dax.server_side_encryption.enabled).toBe(true);
    expect(dax.cluster_endpoint_encryption_type).toBe("TLS");
  });
});

describe("remote state", () => {
  test("is local unless configured, then S3 with native locking and encryption", () => {
    const local = synthesized.find((s) => s.id === "product-catalog-dev")!.json;
    expect(local.terraform.backend?.s3).toBeUndefined();

    const a = Testing.app();
    const cfg = loadConfig("prod", { remoteState: { bucket: "acme-tf-state", keyPrefix: "cachefront", region: "us-east-1" } } as never);
    const s3 = JSON.parse(Testing.synth(new SessionStoreStack(a, "session-store-prod", { config: cfg }))).terraform.backend.s3;
    expect(s3).toEqual(expect.objectContaining({
      bucket: "acme-tf-state", key: "cachefront/session-store-prod.tfstate", encrypt: true, use_lockfile: true,
    }));
    expect(s3.dynamodb_table).toBeUndefined();
  });
});

describe("deployed code", () => {
  test.each([
    ["product-catalog", "products"],
    ["session-store", "sessions"],
  ])("the %s stacks deploy the bundled functions/%s handler", (kind, folder) => {
    const expected = bundleHandler({
      entry: path.resolve(__dirname, "../../functions", folder, "handler.ts"),
      target: "node22",
      externals: ["@aws-sdk/*", "@smithy/*"],
      sourceMap: true,
    });
    for (const env of ["dev", "prod"]) {
      const { json } = synthesized.find((s) => s.id === `${kind}-${env}`)!;
      const fn = (json.resource.aws_lambda_function as Record<string, any>)[Object.keys(json.resource.aws_lambda_function).find((k) => k.startsWith("fn_"))!];
      expect(fn.source_code_hash).toBe(expected.sha256Base64);
      expect(fn.filename).toContain(expected.sha256Hex);
    }
  });
});
