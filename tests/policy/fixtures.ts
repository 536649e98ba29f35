/**
 * A small synthesized stack (the shape of cdk.tf.json) that complies with every rule of the
 * pack in prod, and touches every rule at least once. Rule tests start from a fresh copy
 * and change one attribute, so exactly the rule under test should fire.
 */
import { checkSynthesizedStack, CheckOptions, StackReport } from "../../modules/policy";

/** Evaluation date of every fixture test: rules that depend on dates stay stable. */
export const TODAY = "2026-11-22";

type Json = Record<string, any>;

const ref = (address: string) => `\${${address}}`;

function res(name: string, values: Json): Json {
  return { "//": { metadata: { path: `fixture-prod/${name}`, uniqueId: name } }, ...values };
}

/** A fresh, fully compliant stack. */
export function golden(): Json {
  const r: Record<string, Record<string, Json>> = {
    aws_vpc: { vpc: res("network/vpc", { cidr_block: "10.0.0.0/16", enable_dns_hostnames: true }) },
    aws_subnet: {
      a: res("network/a", { vpc_id: ref("aws_vpc.vpc.id"), availability_zone: "us-east-1a", cidr_block: "10.0.0.0/20", map_public_ip_on_launch: false }),
      b: res("network/b", { vpc_id: ref("aws_vpc.vpc.id"), availability_zone: "us-east-1b", cidr_block: "10.0.16.0/20" }),
    },
    aws_default_security_group: { default: res("network/default-sg", { vpc_id: ref("aws_vpc.vpc.id") }) },
    aws_flow_log: {
      flow: res("network/flow-log", {
        vpc_id: ref("aws_vpc.vpc.id"),
        traffic_type: "ALL",
        log_destination_type: "cloud-watch-logs",
        log_destination: ref("aws_cloudwatch_log_group.flow.arn"),
        iam_role_arn: "arn:aws:iam::123456789012:role/flow-logs",
      }),
    },
    aws_cloudwatch_log_group: {
      flow: res("network/flow-logs", { name: "/vpc/flow-logs", retention_in_days: 90 }),
      slow: res("cache/slow-log", { name: "/aws/vendedlogs/cache/slow-log", retention_in_days: 90 }),
      fn: res("fn/logs", { name: "/aws/lambda/products", retention_in_days: 90 }),
      access: res("api/access-logs", { name: "/aws/apigateway/api/access", retention_in_days: 90 }),
      ws_access: res("realtime/access-logs", { name: "/aws/apigateway/realtime/access", retention_in_days: 90 }),
    },
    aws_security_group: {
      cache: res("cache/sg", { vpc_id: ref("aws_vpc.vpc.id"), name_prefix: "cache-", description: "Valkey: port 6379 from the function only" }),
      fn: res("fn/sg", { vpc_id: ref("aws_vpc.vpc.id"), name_prefix: "fn-", description: "Lambda: egress only to what it is wired to" }),
    },
    aws_vpc_security_group_ingress_rule: {
      cache_from_fn: res("cache/sg/in", {
        security_group_id: ref("aws_security_group.cache.id"),
        referenced_security_group_id: ref("aws_security_group.fn.id"),
        ip_protocol: "tcp",
        from_port: 6379,
        to_port: 6379,
        description: "Valkey port 6379 from the function",
      }),
    },
    aws_vpc_security_group_egress_rule: {
      fn_to_cache: res("fn/sg/out", {
        security_group_id: ref("aws_security_group.fn.id"),
        referenced_security_group_id: ref("aws_security_group.cache.id"),
        ip_protocol: "tcp",
        from_port: 6379,
        to_port: 6379,
        description: "Function to Valkey port 6379",
      }),
    },
    aws_security_group_rule: {
      legacy: res("cache/sg/legacy", {
        type: "ingress",
        security_group_id: ref("aws_security_group.cache.id"),
        source_security_group_id: ref("aws_security_group.fn.id"),
        protocol: "tcp",
        from_port: 6380,
        to_port: 6380,
        description: "TLS proxy port from the function",
      }),
    },
    aws_kms_key: { key: res("key", { description: "Secrets of the fixture", enable_key_rotation: true }) },
    aws_secretsmanager_secret: {
      auth: res("cache/auth-secret", { name_prefix: "auth-", kms_key_id: ref("aws_kms_key.key.arn") }),
    },
    aws_secretsmanager_secret_version: {
      auth: res("cache/auth-secret-value", {
        secret_id: ref("aws_secretsmanager_secret.auth.id"),
        secret_string: '${replace("${uuid()}${uuid()}", "-", "")}',
      }),
    },
    aws_secretsmanager_secret_rotation: {
      auth: res("cache/rotation", {
        secret_id: ref("aws_secretsmanager_secret.auth.id"),
        rotation_lambda_arn: "arn:aws:lambda:us-east-1:123456789012:function:rotator",
        rotation_rules: { automatically_after_days: 30 },
      }),
    },
    aws_elasticache_user: {
      default: res("cache/users/default-user", {
        user_id: "cache-dflt", user_name: "default", engine: "valkey", access_string: "off -@all",
        authentication_mode: { type: "no-password-required" },
      }),
      svc: res("cache/users/user-fn", {
        user_id: "svc", user_name: "svc", engine: "valkey", access_string: "on ~svc:{* -@all +get +set",
        authentication_mode: { type: "password", passwords: ['${lookup(jsondecode(aws_secretsmanager_secret_version.auth.secret_string), "password", "")}'] },
      }),
      iam: res("cache/users/user-other", {
        user_id: "other", user_name: "other", engine: "valkey", access_string: "on ~other:{* -@all +get", authentication_mode: { type: "iam" },
      }),
    },
    aws_elasticache_user_group: {
      users: res("cache/users/group", {
        user_group_id: "cache-users", engine: "valkey",
        user_ids: [ref("aws_elasticache_user.default.user_id"), ref("aws_elasticache_user.svc.user_id"), ref("aws_elasticache_user.iam.user_id")],
      }),
    },
    aws_elasticache_serverless_cache: {
      serverless: res("serverless/cache", {
        name: "serverless", engine: "valkey", major_engine_version: "8",
        cache_usage_limits: { data_storage: { maximum: 10, unit: "GB" }, ecpu_per_second: { maximum: 10000 } },
        security_group_ids: [ref("aws_security_group.cache.id")], subnet_ids: [ref("aws_subnet.a.id"), ref("aws_subnet.b.id")],
        snapshot_retention_limit: 7, user_group_id: ref("aws_elasticache_user_group.users.user_group_id"),
      }),
    },
    aws_elasticache_cluster: {
      memcached: res("memcached/cluster", {
        cluster_id: "memcached", engine: "memcached", engine_version: "1.6.22", node_type: "cache.r7g.large", num_cache_nodes: 2,
        az_mode: "cross-az", transit_encryption_enabled: true, subnet_group_name: ref("aws_elasticache_subnet_group.cache.name"),
        security_group_ids: [ref("aws_security_group.cache.id")],
      }),
    },
    aws_elasticache_subnet_group: {
      cache: res("cache/subnets", { name: "cache-subnets", subnet_ids: [ref("aws_subnet.a.id"), ref("aws_subnet.b.id")] }),
    },
    aws_elasticache_parameter_group: {
      cache: res("cache/parameters", { name: "cache-valkey8", family: "valkey8", parameter: [{ name: "maxmemory-policy", value: "allkeys-lru" }] }),
    },
    aws_elasticache_replication_group: {
      cache: res("cache/replication-group", {
        replication_group_id: "cache",
        description: "cache",
        engine: "valkey",
        engine_version: "8.0",
        node_type: "cache.r7g.large",
        num_cache_clusters: 2,
        automatic_failover_enabled: true,
        multi_az_enabled: true,
        at_rest_encryption_enabled: "true",
        transit_encryption_enabled: true,
        transit_encryption_mode: "required",
        user_group_ids: [ref("aws_elasticache_user_group.users.user_group_id")],
        subnet_group_name: ref("aws_elasticache_subnet_group.cache.name"),
        parameter_group_name: ref("aws_elasticache_parameter_group.cache.name"),
        security_group_ids: [ref("aws_security_group.cache.id")],
        snapshot_retention_limit: 7,
        auto_minor_version_upgrade: "true",
        log_delivery_configuration: [
          { destination: ref("aws_cloudwatch_log_group.slow.name"), destination_type: "cloudwatch-logs", log_format: "json", log_type: "slow-log" },
        ],
      }),
    },
    aws_dynamodb_table: {
      table: res("products/table", {
        name: "products",
        billing_mode: "PAY_PER_REQUEST",
        hash_key: "productId",
        attribute: [{ name: "productId", type: "S" }],
        point_in_time_recovery: { enabled: true },
        server_side_encryption: { enabled: true },
        deletion_protection_enabled: true,
        stream_enabled: true,
        stream_view_type: "KEYS_ONLY",
      }),
    },
    aws_sqs_queue: { failures: res("invalidator/queue", { name: "invalidation-failures", kms_master_key_id: ref("aws_kms_key.key.arn") }) },
    aws_lambda_event_source_mapping: {
      stream: res("invalidator/mapping", {
        event_source_arn: ref("aws_dynamodb_table.table.stream_arn"),
        function_name: ref("aws_lambda_function.fn.arn"),
        starting_position: "LATEST",
        function_response_types: ["ReportBatchItemFailures"],
        bisect_batch_on_function_error: true,
        maximum_retry_attempts: 10,
        maximum_record_age_in_seconds: 334,
        destination_config: { on_failure: { destination_arn: ref("aws_sqs_queue.failures.arn") } },
      }),
    },
    aws_iam_role: {
      dax: res("dax/role/role", {
        name: "dax",
        assume_role_policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Principal: { Service: "dax.amazonaws.com" }, Action: "sts:AssumeRole" }],
        }),
      }),
      fn: res("fn/role/role", {
        name: "fn",
        assume_role_policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
        }),
      }),
    },
    aws_iam_role_policy: {
      // cdktf's Fn.jsonencode form, with references left in
      dax_tables: res("dax/role/policy-dynamodb-tables", {
        name: "dynamodb-tables",
        role: ref("aws_iam_role.dax.id"),
        policy:
          '${jsonencode({"Version" = "2012-10-17", "Statement" = [{"Effect" = "Allow", "Action" = ["dynamodb:GetItem", "dynamodb:Query"], ' +
          '"Resource" = [aws_dynamodb_table.table.arn, "${aws_dynamodb_table.table.arn}/index/*"]}]})}',
      }),
      // a plain JSON string
      fn_table: res("fn/role/policy-table", {
        name: "table",
        role: ref("aws_iam_role.fn.id"),
        policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:PutItem"], Resource: [ref("aws_dynamodb_table.table.arn")] }],
        }),
      }),
      // a data.aws_iam_policy_document
      fn_secret: res("fn/role/policy-secret", { name: "secret", role: ref("aws_iam_role.fn.id"), policy: ref("data.aws_iam_policy_document.fn_secret.json") }),
      // The pusher's grant, as WebSocketApi writes it (cdktf's jsonencode form).
      pusher_connections: res("realtime/pusher/role/policy-manage-connections", {
        name: "manage-connections",
        role: ref("aws_iam_role.fn.id"),
        policy:
          '${jsonencode({"Version" = "2012-10-17", "Statement" = [{"Effect" = "Allow", "Action" = ["execute-api:ManageConnections"], ' +
          '"Resource" = ["${aws_apigatewayv2_api.ws.execution_arn}/v1/POST/@connections/*"]}]})}',
      }),
      fn_vpc: res("fn/role/policy-vpc", {
        name: "vpc",
        role: ref("aws_iam_role.fn.id"),
        policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Action: ["ec2:CreateNetworkInterface", "xray:PutTraceSegments"], Resource: ["*"] }],
        }),
      }),
    },
    aws_iam_role_policy_attachment: {
      fn_basic: res("fn/role/basic", { role: ref("aws_iam_role.fn.name"), policy_arn: "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole" }),
    },
    aws_dax_subnet_group: { dax: res("dax/subnets", { name: "dax", subnet_ids: [ref("aws_subnet.a.id"), ref("aws_subnet.b.id")] }) },
    aws_dax_cluster: {
      dax: res("dax/cluster", {
        cluster_name: "dax",
        iam_role_arn: ref("aws_iam_role.dax.arn"),
        node_type: "dax.r5.large",
        replication_factor: 3,
        server_side_encryption: { enabled: true },
        cluster_endpoint_encryption_type: "TLS",
        subnet_group_name: ref("aws_dax_subnet_group.dax.name"),
      }),
    },
    aws_lambda_function: {
      fn: res("fn/function", {
        function_name: "products",
        runtime: "nodejs22.x",
        handler: "index.handler",
        role: ref("aws_iam_role.fn.arn"),
        filename: "assets/fn.zip",
        memory_size: 512,
        timeout: 10,
        tracing_config: { mode: "Active" },
        logging_config: { log_format: "Text", log_group: ref("aws_cloudwatch_log_group.fn.name") },
        vpc_config: { subnet_ids: [ref("aws_subnet.a.id"), ref("aws_subnet.b.id")], security_group_ids: [ref("aws_security_group.fn.id")] },
        environment: {
          variables: {
            TABLE_NAME: ref("aws_dynamodb_table.table.name"),
            REDIS_HOST: ref("aws_elasticache_replication_group.cache.primary_endpoint_address"),
            REDIS_AUTH_SECRET_ARN: ref("aws_secretsmanager_secret.auth.arn"),
            DAX_ENDPOINT: "daxs://${aws_dax_cluster.dax.cluster_address}:${aws_dax_cluster.dax.port}",
            TOKEN_TTL_SECONDS: "300",
            LOG_LEVEL: "info",
          },
        },
      }),
    },
    aws_lambda_permission: {
      api: res("api/invoke", {
        function_name: ref("aws_lambda_function.fn.function_name"),
        action: "lambda:InvokeFunction",
        principal: "apigateway.amazonaws.com",
        source_arn: "${aws_api_gateway_rest_api.api.execution_arn}/*/*",
      }),
    },
    aws_lambda_function_url: {
      url: res("fn/url", { function_name: ref("aws_lambda_function.fn.function_name"), authorization_type: "AWS_IAM" }),
    },
    aws_api_gateway_rest_api: { api: res("api/api", { name: "api" }) },
    aws_api_gateway_resource: {
      item: res("api/resource-item", { rest_api_id: ref("aws_api_gateway_rest_api.api.id"), parent_id: ref("aws_api_gateway_rest_api.api.root_resource_id"), path_part: "{id}" }),
      health: res("api/resource-health", { rest_api_id: ref("aws_api_gateway_rest_api.api.id"), parent_id: ref("aws_api_gateway_rest_api.api.root_resource_id"), path_part: "health" }),
    },
    aws_api_gateway_authorizer: {
      jwt: res("api/authorizer", {
        rest_api_id: ref("aws_api_gateway_rest_api.api.id"),
        name: "jwt",
        type: "TOKEN",
        authorizer_uri: ref("aws_lambda_function.fn.invoke_arn"),
        identity_source: "method.request.header.Authorization",
      }),
    },
    aws_api_gateway_request_validator: {
      params: res("api/validate-params", { rest_api_id: ref("aws_api_gateway_rest_api.api.id"), name: "params", validate_request_parameters: true, validate_request_body: false }),
      body: res("api/validate-body", { rest_api_id: ref("aws_api_gateway_rest_api.api.id"), name: "body", validate_request_parameters: true, validate_request_body: true }),
    },
    aws_api_gateway_method: {
      get: res("api/method-GET", {
        rest_api_id: ref("aws_api_gateway_rest_api.api.id"),
        resource_id: ref("aws_api_gateway_resource.item.id"),
        http_method: "GET",
        authorization: "CUSTOM",
        authorizer_id: ref("aws_api_gateway_authorizer.jwt.id"),
        request_parameters: { "method.request.path.id": true },
        request_validator_id: ref("aws_api_gateway_request_validator.params.id"),
      }),
      put: res("api/method-PUT", {
        rest_api_id: ref("aws_api_gateway_rest_api.api.id"),
        resource_id: ref("aws_api_gateway_resource.item.id"),
        http_method: "PUT",
        authorization: "CUSTOM",
        authorizer_id: ref("aws_api_gateway_authorizer.jwt.id"),
        api_key_required: true,
        request_parameters: { "method.request.path.id": true },
        request_models: { "application/json": "Item" },
        request_validator_id: ref("aws_api_gateway_request_validator.body.id"),
      }),
      delete: res("api/method-DELETE", {
        rest_api_id: ref("aws_api_gateway_rest_api.api.id"),
        resource_id: ref("aws_api_gateway_resource.item.id"),
        http_method: "DELETE",
        authorization: "AWS_IAM",
        request_parameters: { "method.request.path.id": true },
        request_validator_id: ref("aws_api_gateway_request_validator.params.id"),
      }),
      health: res("api/method-GET-health", {
        rest_api_id: ref("aws_api_gateway_rest_api.api.id"),
        resource_id: ref("aws_api_gateway_resource.health.id"),
        http_method: "GET",
        authorization: "NONE",
      }),
    },
    aws_api_gateway_deployment: { deployment: res("api/deployment", { rest_api_id: ref("aws_api_gateway_rest_api.api.id") }) },
    aws_api_gateway_stage: {
      v1: res("api/stage", {
        rest_api_id: ref("aws_api_gateway_rest_api.api.id"),
        deployment_id: ref("aws_api_gateway_deployment.deployment.id"),
        stage_name: "v1",
        xray_tracing_enabled: true,
        access_log_settings: { destination_arn: ref("aws_cloudwatch_log_group.access.arn"), format: '{"requestId":"$context.requestId"}' },
      }),
    },
    aws_api_gateway_method_settings: {
      all: res("api/method-settings", {
        rest_api_id: ref("aws_api_gateway_rest_api.api.id"),
        stage_name: ref("aws_api_gateway_stage.v1.stage_name"),
        method_path: "*/*",
        settings: { metrics_enabled: true, logging_level: "ERROR", data_trace_enabled: false, throttling_rate_limit: 100, throttling_burst_limit: 200 },
      }),
    },
    aws_wafv2_web_acl: {
      acl: res("api/waf/acl", { name: "acl", scope: "REGIONAL", default_action: { allow: {} } }),
      edge: res("edge/waf/acl", { name: "edge-acl", scope: "CLOUDFRONT", default_action: { allow: {} } }),
    },
    // A distribution in front of the stage, as CacheEdge writes it with a custom domain.
    aws_cloudfront_distribution: {
      edge: res("edge/distribution", {
        enabled: true,
        origin: [{
          origin_id: "api", domain_name: "abc123.execute-api.us-east-1.amazonaws.com", origin_path: "/v1",
          custom_origin_config: { http_port: 80, https_port: 443, origin_protocol_policy: "https-only", origin_ssl_protocols: ["TLSv1.2"] },
        }],
        default_cache_behavior: { target_origin_id: "api", viewer_protocol_policy: "https-only", allowed_methods: ["GET", "HEAD"], cached_methods: ["GET", "HEAD"] },
        ordered_cache_behavior: [
          { path_pattern: "/products/*", target_origin_id: "api", viewer_protocol_policy: "redirect-to-https", allowed_methods: ["GET", "HEAD"], cached_methods: ["GET", "HEAD"] },
        ],
        restrictions: { geo_restriction: { restriction_type: "none" } },
        viewer_certificate: { acm_certificate_arn: "arn:aws:acm:us-east-1:123456789012:certificate/abc-123", ssl_support_method: "sni-only", minimum_protocol_version: "TLSv1.2_2021" },
        logging_config: { bucket: ref("aws_s3_bucket.artifacts.bucket_domain_name"), include_cookies: false, prefix: "cloudfront/" },
        web_acl_id: ref("aws_wafv2_web_acl.edge.arn"),
      }),
    },
    aws_wafv2_web_acl_association: {
      stage: res("api/waf-association", { resource_arn: ref("aws_api_gateway_stage.v1.arn"), web_acl_arn: ref("aws_wafv2_web_acl.acl.arn") }),
    },
    aws_api_gateway_usage_plan: {
      plan: res("api/usage-plan", { name: "plan", api_stages: [{ api_id: ref("aws_api_gateway_rest_api.api.id"), stage: ref("aws_api_gateway_stage.v1.stage_name") }] }),
    },
    aws_api_gateway_api_key: { key: res("api/api-key", { name: "key", enabled: true }) },
    aws_api_gateway_usage_plan_key: {
      key: res("api/usage-plan-key", { key_id: ref("aws_api_gateway_api_key.key.id"), key_type: "API_KEY", usage_plan_id: ref("aws_api_gateway_usage_plan.plan.id") }),
    },
    // A WebSocket API, as WebSocketApi writes it.
    aws_apigatewayv2_api: { ws: res("realtime/api", { name: "ws", protocol_type: "WEBSOCKET", route_selection_expression: "$request.body.action" }) },
    aws_apigatewayv2_stage: {
      ws: res("realtime/stage", {
        api_id: ref("aws_apigatewayv2_api.ws.id"),
        name: "v1",
        access_log_settings: { destination_arn: ref("aws_cloudwatch_log_group.ws_access.arn"), format: '{"requestId":"$context.requestId"}' },
        default_route_settings: { throttling_rate_limit: 100, throttling_burst_limit: 200, logging_level: "ERROR", data_trace_enabled: false },
      }),
    },
        // A pipeline's artifact bucket, as PipelineBucket writes it.
    aws_s3_bucket: { artifacts: res("pipeline/artifacts/bucket", { bucket_prefix: "artifacts-", force_destroy: false }) },
    aws_s3_bucket_versioning: {
      artifacts: res("pipeline/artifacts/versioning", { bucket: ref("aws_s3_bucket.artifacts.id"), versioning_configuration: { status: "Enabled" } }),
    },
    aws_s3_bucket_server_side_encryption_configuration: {
      artifacts: res("pipeline/artifacts/encryption", {
        bucket: ref("aws_s3_bucket.artifacts.id"),
        rule: [{ apply_server_side_encryption_by_default: { sse_algorithm: "aws:kms", kms_master_key_id: ref("aws_kms_key.key.arn") }, bucket_key_enabled: true }],
      }),
    },
    aws_s3_bucket_public_access_block: {
      artifacts: res("pipeline/artifacts/public-access-block", {
        bucket: ref("aws_s3_bucket.artifacts.id"), block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true,
      }),
    },
    aws_s3_bucket_policy: {
      artifacts: res("pipeline/artifacts/policy", {
        bucket: ref("aws_s3_bucket.artifacts.id"),
        policy:
          '${jsonencode({"Version" = "2012-10-17", "Statement" = [{"Sid" = "DenyRequestsWithoutTls", "Effect" = "Deny", "Principal" = "*", ' +
          '"Action" = "s3:*", "Resource" = [aws_s3_bucket.artifacts.arn, "${aws_s3_bucket.artifacts.arn}/*"], ' +
          '"Condition" = {"Bool" = {"aws:SecureTransport" = "false"}}}]})}',
      }),
    },
  };
  return {
    "//": { metadata: { stackName: "fixture-prod", backend: "local" } },
    provider: { aws: [{ region: "us-east-1" }] },
    data: {
      aws_iam_policy_document: {
        fn_secret: res("fn/secret-doc", { statement: [{ actions: ["secretsmanager:GetSecretValue"], resources: [ref("aws_secretsmanager_secret.auth.arn")] }] }),
      },
      aws_vpc: { peer: res("peer-vpc", { id: "vpc-0123456789abcdef0" }) },
    },
    resource: r,
  };
}

/** Sets (or, with `undefined`, deletes) the value at `path` (dots; numbers index lists). */
export function set(doc: Json, path: string, value: unknown): Json {
  const keys = path.split(".");
  let cur: any = doc;
  for (const k of keys.slice(0, -1)) {
    if (cur[k] === undefined) cur[k] = {};
    cur = cur[k];
  }
  const last = keys[keys.length - 1];
  if (value === undefined) delete cur[last];
  else cur[last] = value;
  return doc;
}

/** The report of `doc` in `profile`. */
export function check(doc: Json, profile: "dev" | "prod" = "prod", extra: CheckOptions = {}): StackReport {
  return checkSynthesizedStack(doc, { profile, today: TODAY, ...extra });
}

/** Ids of the rules with a failing finding, sorted. */
export function failing(report: StackReport): string[] {
  return [...new Set(report.findings.filter((f) => f.status === "fail").map((f) => f.ruleId))].sort();
}

/** Ids of the rules with an unknown finding, sorted. */
export function undecided(report: StackReport): string[] {
  return [...new Set(report.findings.filter((f) => f.status === "unknown").map((f) => f.ruleId))].sort();
}
