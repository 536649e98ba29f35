/**
 * Every rule of the pack against small synthesized-JSON fixtures: the golden stack complies
 * with all of them (and each rule passes on at least one of its resources there), and each
 * non-compliant fixture (an attribute missing, or explicitly wrong) makes exactly the named
 * rules fail — no other rule fails, and nothing is left unknown.
 */
import * as path from "path";
import { byProps, CACHEFRONT_RULES, checkSynthesizedStack, formatFinding, setBy, settingOf, StackReport } from "../../modules/policy";
import { Billing, CacheTable } from "../../modules/table";
import { synthJson } from "../helpers/synth";
import { analyzeModules } from "../../tools/docs/gen-reference";
import { check, failing, golden, set, TODAY, undecided } from "./fixtures";

type Doc = ReturnType<typeof golden>;

interface Fixture {
  /** The rule under test. */
  readonly rule: string;
  /** `missing`: the attribute (or resource) is absent; `wrong`: it is set to a non-compliant value. */
  readonly kind: "missing" | "wrong";
  readonly what: string;
  readonly mutate: (doc: Doc) => void;
  /** Rules expected to fail; just `rule` unless the change also breaks another rule by nature. */
  readonly fires?: readonly string[];
  /** The offending attribute the finding of `rule` must name. */
  readonly attribute?: string | RegExp;
  readonly profile?: "dev" | "prod";
}

const R = "resource";
const rg = `${R}.aws_elasticache_replication_group.cache`;
const sc = `${R}.aws_elasticache_serverless_cache.serverless`;
const mc = `${R}.aws_elasticache_cluster.memcached`;
const fn = `${R}.aws_lambda_function.fn`;
const stage = `${R}.aws_api_gateway_stage.v1`;
const settings = `${R}.aws_api_gateway_method_settings.all`;
const get = `${R}.aws_api_gateway_method.get`;
const put = `${R}.aws_api_gateway_method.put`;
const esm = `${R}.aws_lambda_event_source_mapping.stream`;
const wsStage = `${R}.aws_apigatewayv2_stage.ws`;
const cf = `${R}.aws_cloudfront_distribution.edge`;
const policyJson = (statement: object) => JSON.stringify({ Version: "2012-10-17", Statement: [statement] });

/** A provisioned table with a `byCategory` index, the table and the index autoscaled for reads and writes. */
function provisionedWithIndex(d: Doc): void {
  const table = `${R}.aws_dynamodb_table.table`;
  set(d, `${table}.billing_mode`, "PROVISIONED");
  set(d, `${table}.attribute`, [{ name: "productId", type: "S" }, { name: "category", type: "S" }]);
  set(d, `${table}.global_secondary_index`, [{ name: "byCategory", hash_key: "category", projection_type: "ALL", read_capacity: 5, write_capacity: 5 }]);
  for (const [id, part, kind] of [["table", "", "table"], ["index", "/index/byCategory", "index"]]) {
    for (const dim of ["Read", "Write"]) {
      set(d, `${R}.aws_appautoscaling_target.${id}_${dim.toLowerCase()}`, { service_namespace: "dynamodb",
        resource_id: `table/\${aws_dynamodb_table.table.name}${part}`, scalable_dimension: `dynamodb:${kind}:${dim}CapacityUnits`, min_capacity: 5, max_capacity: 50 });
    }
  }
}

const FIXTURES: Fixture[] = [
  // --- VPC
  { rule: "CF-VPC-1", kind: "missing", what: "no flow log", mutate: (d) => set(d, `${R}.aws_flow_log`, undefined), attribute: "aws_flow_log.vpc_id" },
  { rule: "CF-VPC-1", kind: "wrong", what: "flow log on another VPC", mutate: (d) => set(d, `${R}.aws_flow_log.flow.vpc_id`, "vpc-0aaaaaaaaaaaaaaaa") },
  { rule: "CF-VPC-1", kind: "wrong", what: "flow log on a subnet only", mutate: (d) => {
    set(d, `${R}.aws_flow_log.flow.vpc_id`, undefined);
    set(d, `${R}.aws_flow_log.flow.subnet_id`, "${aws_subnet.a.id}");
  } },
  { rule: "CF-VPC-2", kind: "missing", what: "default security group not adopted", mutate: (d) => set(d, `${R}.aws_default_security_group`, undefined), attribute: "aws_default_security_group.vpc_id" },
  { rule: "CF-VPC-2", kind: "wrong", what: "default security group with an ingress rule", mutate: (d) =>
    set(d, `${R}.aws_default_security_group.default.ingress`, [{ protocol: "-1", self: true, from_port: 0, to_port: 0 }]), attribute: "ingress" },
  { rule: "CF-VPC-2", kind: "wrong", what: "a rule resource attached to the VPC's default group", mutate: (d) =>
    set(d, `${R}.aws_vpc_security_group_egress_rule.to_default`, {
      security_group_id: "${aws_vpc.vpc.default_security_group_id}", referenced_security_group_id: "${aws_security_group.fn.id}",
      ip_protocol: "tcp", from_port: 443, to_port: 443, description: "egress from the default group",
    }) },
  { rule: "CF-VPC-3", kind: "wrong", what: "subnet maps public IPs", mutate: (d) => set(d, `${R}.aws_subnet.a.map_public_ip_on_launch`, true), attribute: "map_public_ip_on_launch" },
  { rule: "CF-VPC-3", kind: "wrong", what: "subnet maps public IPs (string form)", mutate: (d) => set(d, `${R}.aws_subnet.b.map_public_ip_on_launch`, "true") },
  { rule: "CF-VPC-3", kind: "missing", what: "default subnet without map_public_ip_on_launch (defaults to true)", mutate: (d) =>
    set(d, `${R}.aws_default_subnet.c`, { availability_zone: "us-east-1c" }), fires: ["CF-VPC-3", "CF-VPC-4"] },
  { rule: "CF-VPC-4", kind: "wrong", what: "aws_default_vpc adopted", mutate: (d) => set(d, `${R}.aws_default_vpc.default`, {}) },
  { rule: "CF-VPC-4", kind: "wrong", what: "data.aws_vpc with default = true", mutate: (d) => set(d, "data.aws_vpc.peer", { default: true }), attribute: "default" },
  { rule: "CF-VPC-4", kind: "missing", what: "data.aws_vpc with no id or filter", mutate: (d) => set(d, "data.aws_vpc.peer", {}), attribute: "id" },

  // --- security groups
  { rule: "CF-SG-1", kind: "wrong", what: "ingress rule from 0.0.0.0/0", mutate: (d) => {
    set(d, `${R}.aws_vpc_security_group_ingress_rule.cache_from_fn.referenced_security_group_id`, undefined);
    set(d, `${R}.aws_vpc_security_group_ingress_rule.cache_from_fn.cidr_ipv4`, "0.0.0.0/0");
  }, attribute: "cidr_ipv4" },
  { rule: "CF-SG-1", kind: "wrong", what: "ingress rule from ::/0", mutate: (d) => {
    set(d, `${R}.aws_vpc_security_group_ingress_rule.cache_from_fn.referenced_security_group_id`, undefined);
    set(d, `${R}.aws_vpc_security_group_ingress_rule.cache_from_fn.cidr_ipv6`, "::/0");
  }, attribute: "cidr_ipv6" },
  { rule: "CF-SG-1", kind: "wrong", what: "inline ingress block from 0.0.0.0/0", mutate: (d) =>
    set(d, `${R}.aws_security_group.cache.ingress`, [{ protocol: "tcp", from_port: 6379, to_port: 6379, cidr_blocks: ["0.0.0.0/0"], description: "open" }]),
  attribute: "ingress.0.cidr_blocks" },
  { rule: "CF-SG-1", kind: "wrong", what: "aws_security_group_rule ingress from 0.0.0.0/0", mutate: (d) => {
    set(d, `${R}.aws_security_group_rule.legacy.source_security_group_id`, undefined);
    set(d, `${R}.aws_security_group_rule.legacy.cidr_blocks`, ["10.0.0.0/8", "0.0.0.0/0"]);
  }, attribute: "cidr_blocks" },
  { rule: "CF-SG-2", kind: "missing", what: "group without description", mutate: (d) => set(d, `${R}.aws_security_group.cache.description`, undefined), attribute: "description" },
  { rule: "CF-SG-2", kind: "wrong", what: "group with Terraform's placeholder description", mutate: (d) => set(d, `${R}.aws_security_group.fn.description`, "Managed by Terraform") },
  { rule: "CF-SG-2", kind: "missing", what: "ingress rule without description", mutate: (d) => set(d, `${R}.aws_vpc_security_group_ingress_rule.cache_from_fn.description`, undefined) },
  { rule: "CF-SG-2", kind: "wrong", what: "egress rule with an empty description", mutate: (d) => set(d, `${R}.aws_vpc_security_group_egress_rule.fn_to_cache.description`, " ") },
  { rule: "CF-SG-3", kind: "wrong", what: "ingress on every protocol", mutate: (d) => {
    const r = `${R}.aws_vpc_security_group_ingress_rule.cache_from_fn`;
    set(d, `${r}.ip_protocol`, "-1"); set(d, `${r}.from_port`, undefined); set(d, `${r}.to_port`, undefined);
  }, attribute: "ip_protocol" },
  { rule: "CF-SG-3", kind: "wrong", what: "ingress on ports 0-65535", mutate: (d) => {
    set(d, `${R}.aws_security_group_rule.legacy.from_port`, 0); set(d, `${R}.aws_security_group_rule.legacy.to_port`, 65535);
  }, attribute: "from_port" },
  { rule: "CF-SG-3", kind: "missing", what: "tcp ingress with no port range", mutate: (d) => {
    set(d, `${R}.aws_vpc_security_group_ingress_rule.cache_from_fn.from_port`, undefined);
    set(d, `${R}.aws_vpc_security_group_ingress_rule.cache_from_fn.to_port`, undefined);
  } },

  // --- ElastiCache
  { rule: "CF-EC-1", kind: "missing", what: "at-rest encryption not set", mutate: (d) => set(d, `${rg}.at_rest_encryption_enabled`, undefined), attribute: "at_rest_encryption_enabled" },
  { rule: "CF-EC-1", kind: "wrong", what: "at-rest encryption \"false\"", mutate: (d) => set(d, `${rg}.at_rest_encryption_enabled`, "false") },
  { rule: "CF-EC-2", kind: "missing", what: "transit encryption not set", mutate: (d) => set(d, `${rg}.transit_encryption_enabled`, undefined), attribute: "transit_encryption_enabled", fires: ["CF-EC-2", "CF-EC-3"] },
  { rule: "CF-EC-2", kind: "wrong", what: "transit encryption false", mutate: (d) => set(d, `${rg}.transit_encryption_enabled`, false), fires: ["CF-EC-2", "CF-EC-3"] },
  { rule: "CF-EC-2", kind: "wrong", what: "transit encryption mode preferred", mutate: (d) => set(d, `${rg}.transit_encryption_mode`, "preferred"), attribute: "transit_encryption_mode" },
  { rule: "CF-EC-3", kind: "missing", what: "no AUTH token and no user group", mutate: (d) => set(d, `${rg}.user_group_ids`, undefined), attribute: "auth_token" },
  { rule: "CF-EC-3", kind: "wrong", what: "empty AUTH token", mutate: (d) => { set(d, `${rg}.user_group_ids`, undefined); set(d, `${rg}.auth_token`, ""); },
    fires: ["CF-EC-3", "CF-EC-10"] },
  { rule: "CF-EC-3", kind: "wrong", what: "AUTH token written into the configuration", mutate: (d) => {
    set(d, `${rg}.user_group_ids`, undefined); set(d, `${rg}.auth_token`, "correct-horse-battery-staple");
  }, fires: ["CF-EC-3", "CF-EC-10"] },
  { rule: "CF-EC-3", kind: "wrong", what: "RBAC user group without TLS", mutate: (d) => {
    set(d, `${rg}.transit_encryption_enabled`, false);
  }, fires: ["CF-EC-2", "CF-EC-3"], attribute: "transit_encryption_enabled" },
  { rule: "CF-EC-10", kind: "wrong", what: "one shared AUTH token instead of a user group", mutate: (d) => {
    set(d, `${rg}.user_group_ids`, undefined); set(d, `${rg}.auth_token`, "${aws_secretsmanager_secret_version.auth.secret_string}");
  }, attribute: "user_group_ids" },
  { rule: "CF-EC-10", kind: "missing", what: "a serverless cache without a user group", mutate: (d) => set(d, `${sc}.user_group_id`, undefined), attribute: "user_group_id" },
  { rule: "CF-EC-11", kind: "wrong", what: "a password user with a literal password", mutate: (d) =>
    set(d, `${R}.aws_elasticache_user.svc.authentication_mode.passwords`, ["correct-horse-battery-staple-1"]), attribute: "authentication_mode.passwords" },
  { rule: "CF-EC-11", kind: "missing", what: "a password user whose secret has no rotation", mutate: (d) => set(d, `${R}.aws_secretsmanager_secret_rotation`, undefined),
    fires: ["CF-EC-11", "CF-SM-2"] },
  { rule: "CF-EC-11", kind: "wrong", what: "a password user whose secret rotates on no schedule", mutate: (d) =>
    set(d, `${R}.aws_secretsmanager_secret_rotation.auth.rotation_rules`, undefined), fires: ["CF-EC-11", "CF-SM-2"] },
  { rule: "CF-EC-12", kind: "missing", what: "no usage limits", mutate: (d) => set(d, `${sc}.cache_usage_limits`, undefined), attribute: "cache_usage_limits.data_storage.maximum" },
  { rule: "CF-EC-12", kind: "wrong", what: "a data storage minimum but no maximum", mutate: (d) =>
    set(d, `${sc}.cache_usage_limits.data_storage`, { minimum: 1, unit: "GB" }), attribute: "cache_usage_limits.data_storage.maximum" },
  { rule: "CF-EC-13", kind: "missing", what: "memcached without transit encryption", mutate: (d) => set(d, `${mc}.transit_encryption_enabled`, undefined), attribute: "transit_encryption_enabled" },
  { rule: "CF-EC-13", kind: "wrong", what: "memcached with transit encryption off", mutate: (d) => set(d, `${mc}.transit_encryption_enabled`, false) },
  { rule: "CF-EC-4", kind: "missing", what: "replicas without automatic failover", mutate: (d) => set(d, `${rg}.automatic_failover_enabled`, undefined), attribute: "automatic_failover_enabled" },
  { rule: "CF-EC-4", kind: "wrong", what: "replicas with multi-AZ off", mutate: (d) => set(d, `${rg}.multi_az_enabled`, false), attribute: "multi_az_enabled" },
  { rule: "CF-EC-4", kind: "wrong", what: "cluster mode replicas without failover", mutate: (d) => {
    set(d, `${rg}.num_cache_clusters`, undefined); set(d, `${rg}.num_node_groups`, 2); set(d, `${rg}.replicas_per_node_group`, 1);
    set(d, `${rg}.automatic_failover_enabled`, false);
  } },
  { rule: "CF-EC-5", kind: "missing", what: "no snapshot retention", mutate: (d) => set(d, `${rg}.snapshot_retention_limit`, undefined), attribute: "snapshot_retention_limit" },
  { rule: "CF-EC-5", kind: "wrong", what: "snapshot retention 0", mutate: (d) => set(d, `${rg}.snapshot_retention_limit`, 0) },
  { rule: "CF-EC-6", kind: "missing", what: "no subnet group", mutate: (d) => set(d, `${rg}.subnet_group_name`, undefined), attribute: "subnet_group_name" },
  { rule: "CF-EC-6", kind: "wrong", what: "the default subnet group", mutate: (d) => set(d, `${rg}.subnet_group_name`, "default") },
  { rule: "CF-EC-7", kind: "wrong", what: "minor upgrades \"false\"", mutate: (d) => set(d, `${rg}.auto_minor_version_upgrade`, "false"), attribute: "auto_minor_version_upgrade" },
  { rule: "CF-EC-7", kind: "wrong", what: "minor upgrades false", mutate: (d) => set(d, `${rg}.auto_minor_version_upgrade`, false) },
  { rule: "CF-EC-8", kind: "missing", what: "no parameter group", mutate: (d) => set(d, `${rg}.parameter_group_name`, undefined), attribute: "parameter_group_name" },
  { rule: "CF-EC-8", kind: "wrong", what: "a default parameter group", mutate: (d) => set(d, `${rg}.parameter_group_name`, "default.valkey8") },
  { rule: "CF-EC-8", kind: "missing", what: "parameter group without maxmemory-policy", mutate: (d) =>
    set(d, `${R}.aws_elasticache_parameter_group.cache.parameter`, [{ name: "timeout", value: "300" }]) },
  { rule: "CF-EC-9", kind: "missing", what: "no log delivery", mutate: (d) => set(d, `${rg}.log_delivery_configuration`, undefined), attribute: "log_delivery_configuration" },
  { rule: "CF-EC-9", kind: "wrong", what: "log delivery with an empty destination", mutate: (d) => set(d, `${rg}.log_delivery_configuration.0.destination`, "") },

  // --- DAX
  { rule: "CF-DAX-1", kind: "missing", what: "no server-side encryption", mutate: (d) => set(d, `${R}.aws_dax_cluster.dax.server_side_encryption`, undefined), attribute: "server_side_encryption.enabled" },
  { rule: "CF-DAX-1", kind: "wrong", what: "server-side encryption off", mutate: (d) => set(d, `${R}.aws_dax_cluster.dax.server_side_encryption.enabled`, false) },
  { rule: "CF-DAX-2", kind: "missing", what: "no endpoint encryption", mutate: (d) => set(d, `${R}.aws_dax_cluster.dax.cluster_endpoint_encryption_type`, undefined), attribute: "cluster_endpoint_encryption_type" },
  { rule: "CF-DAX-2", kind: "wrong", what: "plaintext endpoint", mutate: (d) => set(d, `${R}.aws_dax_cluster.dax.cluster_endpoint_encryption_type`, "NONE") },
  { rule: "CF-DAX-3", kind: "missing", what: "no replication factor", mutate: (d) => set(d, `${R}.aws_dax_cluster.dax.replication_factor`, undefined), attribute: "replication_factor" },
  { rule: "CF-DAX-3", kind: "wrong", what: "one node in prod", mutate: (d) => set(d, `${R}.aws_dax_cluster.dax.replication_factor`, 1) },
  { rule: "CF-DAX-4", kind: "missing", what: "no service role", mutate: (d) => set(d, `${R}.aws_dax_cluster.dax.iam_role_arn`, undefined), attribute: "iam_role_arn" },
  { rule: "CF-DAX-4", kind: "wrong", what: "role also trusted by Lambda", mutate: (d) => set(d, `${R}.aws_iam_role.dax.assume_role_policy`,
    policyJson({ Effect: "Allow", Principal: { Service: ["dax.amazonaws.com", "lambda.amazonaws.com"] }, Action: "sts:AssumeRole" })),
    attribute: "aws_iam_role.dax.assume_role_policy", fires: ["CF-DAX-4", "CF-IAM-4"] },
  { rule: "CF-DAX-4", kind: "wrong", what: "role trusted by any AWS principal", mutate: (d) => set(d, `${R}.aws_iam_role.dax.assume_role_policy`,
    policyJson({ Effect: "Allow", Principal: { AWS: "*" }, Action: "sts:AssumeRole" })), fires: ["CF-DAX-4", "CF-IAM-4"] },

  // --- DynamoDB
  { rule: "CF-DDB-1", kind: "missing", what: "no PITR", mutate: (d) => set(d, `${R}.aws_dynamodb_table.table.point_in_time_recovery`, undefined), attribute: "point_in_time_recovery.enabled" },
  { rule: "CF-DDB-1", kind: "wrong", what: "PITR off", mutate: (d) => set(d, `${R}.aws_dynamodb_table.table.point_in_time_recovery.enabled`, false) },
  { rule: "CF-DDB-2", kind: "missing", what: "no server-side encryption block", mutate: (d) => set(d, `${R}.aws_dynamodb_table.table.server_side_encryption`, undefined), attribute: "server_side_encryption.enabled" },
  { rule: "CF-DDB-2", kind: "wrong", what: "server-side encryption off", mutate: (d) => set(d, `${R}.aws_dynamodb_table.table.server_side_encryption.enabled`, "false") },
  { rule: "CF-DDB-3", kind: "missing", what: "no deletion protection", mutate: (d) => set(d, `${R}.aws_dynamodb_table.table.deletion_protection_enabled`, undefined), attribute: "deletion_protection_enabled" },
  { rule: "CF-DDB-3", kind: "wrong", what: "deletion protection off", mutate: (d) => set(d, `${R}.aws_dynamodb_table.table.deletion_protection_enabled`, false) },
  { rule: "CF-DDB-4", kind: "missing", what: "no billing mode (provisioned) and no autoscaling", mutate: (d) => set(d, `${R}.aws_dynamodb_table.table.billing_mode`, undefined), attribute: "billing_mode" },
  { rule: "CF-DDB-4", kind: "wrong", what: "provisioned with read autoscaling only", mutate: (d) => {
    set(d, `${R}.aws_dynamodb_table.table.billing_mode`, "PROVISIONED");
    set(d, `${R}.aws_appautoscaling_target.read`, { service_namespace: "dynamodb", resource_id: "table/${aws_dynamodb_table.table.name}",
      scalable_dimension: "dynamodb:table:ReadCapacityUnits", min_capacity: 5, max_capacity: 50 });
  } },
  { rule: "CF-DDB-4", kind: "wrong", what: "provisioned table autoscaled, its index not", mutate: (d) => {
    provisionedWithIndex(d);
    set(d, `${R}.aws_appautoscaling_target.index_write`, undefined);
  }, attribute: "global_secondary_index.byCategory" },

  // --- Lambda
  { rule: "CF-LAMBDA-1", kind: "missing", what: "no tracing config", mutate: (d) => set(d, `${fn}.tracing_config`, undefined), attribute: "tracing_config.mode" },
  { rule: "CF-LAMBDA-1", kind: "wrong", what: "PassThrough tracing", mutate: (d) => set(d, `${fn}.tracing_config.mode`, "PassThrough") },
  { rule: "CF-LAMBDA-2", kind: "missing", what: "default timeout", mutate: (d) => set(d, `${fn}.timeout`, undefined), attribute: "timeout" },
  { rule: "CF-LAMBDA-2", kind: "missing", what: "default memory", mutate: (d) => set(d, `${fn}.memory_size`, undefined), attribute: "memory_size" },
  { rule: "CF-LAMBDA-2", kind: "wrong", what: "timeout over 900 s", mutate: (d) => set(d, `${fn}.timeout`, 1000) },
  { rule: "CF-LAMBDA-3", kind: "missing", what: "no runtime for a zip package", mutate: (d) => set(d, `${fn}.runtime`, undefined), attribute: "runtime" },
  { rule: "CF-LAMBDA-3", kind: "wrong", what: "deprecated runtime nodejs16.x", mutate: (d) => set(d, `${fn}.runtime`, "nodejs16.x") },
  { rule: "CF-LAMBDA-3", kind: "wrong", what: "nodejs20.x after its deprecation (2026-04-30)", mutate: (d) => set(d, `${fn}.runtime`, "nodejs20.x") },
  { rule: "CF-LAMBDA-4", kind: "missing", what: "uses Redis and DAX with no vpc_config", mutate: (d) => set(d, `${fn}.vpc_config`, undefined), attribute: "vpc_config.subnet_ids" },
  { rule: "CF-LAMBDA-4", kind: "wrong", what: "one subnet", mutate: (d) => set(d, `${fn}.vpc_config.subnet_ids`, ["${aws_subnet.a.id}"]) },
  { rule: "CF-LAMBDA-4", kind: "wrong", what: "two subnets in one AZ", mutate: (d) => set(d, `${R}.aws_subnet.b.availability_zone`, "us-east-1a") },
  { rule: "CF-LAMBDA-5", kind: "wrong", what: "a password literal", mutate: (d) => set(d, `${fn}.environment.variables.DB_PASSWORD`, "s3cr3t-Passw0rd"), attribute: "environment.variables.DB_PASSWORD" },
  { rule: "CF-LAMBDA-5", kind: "wrong", what: "a secret's value copied in by reference", mutate: (d) =>
    set(d, `${fn}.environment.variables.REDIS_CREDENTIALS_VALUE`, "${aws_secretsmanager_secret_version.auth.secret_string}") },
  { rule: "CF-LAMBDA-5", kind: "wrong", what: "an AWS access key id under an innocent name", mutate: (d) => set(d, `${fn}.environment.variables.UPLOAD_KEY_ID`, "AKIAIOSFODNN7EXAMPLE") },
  { rule: "CF-LAMBDA-6", kind: "missing", what: "no log group at all", mutate: (d) => {
    set(d, `${fn}.logging_config`, undefined); set(d, `${R}.aws_cloudwatch_log_group.fn`, undefined);
  }, attribute: /log group/ },
  { rule: "CF-LAMBDA-6", kind: "wrong", what: "log group kept forever", mutate: (d) => set(d, `${R}.aws_cloudwatch_log_group.fn.retention_in_days`, 0),
    fires: ["CF-LAMBDA-6", "CF-LOGS-1"], attribute: "aws_cloudwatch_log_group.fn.retention_in_days" },
  { rule: "CF-LAMBDA-6", kind: "wrong", what: "the managed group has another name than the function writes to", mutate: (d) => {
    set(d, `${fn}.logging_config`, undefined); set(d, `${R}.aws_cloudwatch_log_group.fn.name`, "/aws/lambda/other");
  } },
  { rule: "CF-LAMBDA-7", kind: "wrong", what: "principal *", mutate: (d) => set(d, `${R}.aws_lambda_permission.api.principal`, "*"), attribute: "principal" },
  { rule: "CF-LAMBDA-7", kind: "missing", what: "no principal", mutate: (d) => set(d, `${R}.aws_lambda_permission.api.principal`, undefined) },
  { rule: "CF-LAMBDA-7", kind: "wrong", what: "function URL without auth", mutate: (d) => set(d, `${R}.aws_lambda_function_url.url.authorization_type`, "NONE"), attribute: "authorization_type" },
  { rule: "CF-LAMBDA-8", kind: "missing", what: "service principal without source_arn", mutate: (d) => set(d, `${R}.aws_lambda_permission.api.source_arn`, undefined), attribute: "source_arn" },
  { rule: "CF-LAMBDA-8", kind: "wrong", what: "source_arn *", mutate: (d) => set(d, `${R}.aws_lambda_permission.api.source_arn`, "*") },

  // --- event source mappings (stream consumers)
  { rule: "CF-ESM-1", kind: "missing", what: "a stream mapping without an on-failure destination", mutate: (d) => set(d, `${esm}.destination_config`, undefined),
    attribute: "destination_config.on_failure.destination_arn" },
  { rule: "CF-ESM-1", kind: "wrong", what: "an empty on-failure destination", mutate: (d) => set(d, `${esm}.destination_config.on_failure.destination_arn`, "") },
  { rule: "CF-ESM-1", kind: "missing", what: "a Kinesis stream (literal ARN) without a destination", mutate: (d) => {
    set(d, `${esm}.event_source_arn`, "arn:aws:kinesis:us-east-1:123456789012:stream/orders"); set(d, `${esm}.destination_config`, undefined);
  } },
  { rule: "CF-ESM-2", kind: "missing", what: "a stream consumer without function_response_types", mutate: (d) => set(d, `${esm}.function_response_types`, undefined),
    attribute: "function_response_types" },
  { rule: "CF-ESM-2", kind: "wrong", what: "function_response_types empty", mutate: (d) => set(d, `${esm}.function_response_types`, []) },

  // --- IAM (each document form: JSON string, jsonencode, policy document data source)
  { rule: "CF-IAM-1", kind: "wrong", what: "Action * (JSON string)", mutate: (d) =>
    set(d, `${R}.aws_iam_role_policy.fn_table.policy`, policyJson({ Effect: "Allow", Action: "*", Resource: "${aws_dynamodb_table.table.arn}" })), attribute: /Statement\[0\]\.Action/ },
  { rule: "CF-IAM-1", kind: "wrong", what: "Action * (jsonencode)", mutate: (d) => set(d, `${R}.aws_iam_role_policy.dax_tables.policy`,
    '${jsonencode({"Version" = "2012-10-17", "Statement" = [{"Effect" = "Allow", "Action" = ["*"], "Resource" = [aws_dynamodb_table.table.arn]}]})}') },
  { rule: "CF-IAM-1", kind: "wrong", what: "Allow with NotAction", mutate: (d) =>
    set(d, `${R}.aws_iam_role_policy.fn_table.policy`, policyJson({ Effect: "Allow", NotAction: "iam:*", Resource: "*" })), attribute: /NotAction/ },
  { rule: "CF-IAM-1", kind: "missing", what: "statement without Action", mutate: (d) =>
    set(d, `${R}.aws_iam_role_policy.fn_vpc.policy`, policyJson({ Effect: "Allow", Resource: "*" })) },
  { rule: "CF-IAM-2", kind: "wrong", what: "dynamodb actions on * (JSON string)", mutate: (d) =>
    set(d, `${R}.aws_iam_role_policy.fn_table.policy`, policyJson({ Effect: "Allow", Action: ["dynamodb:GetItem"], Resource: "*" })), attribute: /Resource/ },
  { rule: "CF-IAM-2", kind: "wrong", what: "secretsmanager on * (policy document data source)", mutate: (d) =>
    set(d, "data.aws_iam_policy_document.fn_secret.statement.0.resources", ["*"]) },
  { rule: "CF-IAM-2", kind: "wrong", what: "dynamodb on arn:aws:dynamodb:*:*:* (jsonencode)", mutate: (d) => set(d, `${R}.aws_iam_role_policy.dax_tables.policy`,
    '${jsonencode({"Version" = "2012-10-17", "Statement" = [{"Effect" = "Allow", "Action" = ["dynamodb:Query"], "Resource" = ["arn:aws:dynamodb:*:*:*"]}]})}') },
  { rule: "CF-IAM-2", kind: "missing", what: "dax actions with no Resource but NotResource", mutate: (d) =>
    set(d, `${R}.aws_iam_role_policy.fn_table.policy`, policyJson({ Effect: "Allow", Action: ["dax:GetItem"], NotResource: "arn:aws:dax:us-east-1:123456789012:cache/other" })) },
  { rule: "CF-IAM-3", kind: "wrong", what: "AdministratorAccess attached", mutate: (d) =>
    set(d, `${R}.aws_iam_role_policy_attachment.fn_basic.policy_arn`, "arn:aws:iam::aws:policy/AdministratorAccess"), attribute: "policy_arn" },
  { rule: "CF-IAM-3", kind: "wrong", what: "a FullAccess policy in managed_policy_arns", mutate: (d) =>
    set(d, `${R}.aws_iam_role.fn.managed_policy_arns`, ["arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess"]), attribute: "managed_policy_arns" },
  { rule: "CF-IAM-3", kind: "missing", what: "an attachment without policy_arn", mutate: (d) => set(d, `${R}.aws_iam_role_policy_attachment.fn_basic.policy_arn`, undefined) },
  { rule: "CF-IAM-4", kind: "missing", what: "a role without a trust policy", mutate: (d) => set(d, `${R}.aws_iam_role.fn.assume_role_policy`, undefined), attribute: "assume_role_policy" },
  { rule: "CF-IAM-4", kind: "wrong", what: "a role also trusted by an account", mutate: (d) => set(d, `${R}.aws_iam_role.fn.assume_role_policy`,
    policyJson({ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com", AWS: "arn:aws:iam::123456789012:root" }, Action: "sts:AssumeRole" })), attribute: "assume_role_policy" },
  { rule: "CF-IAM-4", kind: "wrong", what: "a role trusted by two services", mutate: (d) => set(d, `${R}.aws_iam_role.fn.assume_role_policy`,
    policyJson({ Effect: "Allow", Principal: { Service: ["lambda.amazonaws.com", "codebuild.amazonaws.com"] }, Action: "sts:AssumeRole" })) },
  { rule: "CF-IAM-4", kind: "wrong", what: "a role trusted by everyone", mutate: (d) => set(d, `${R}.aws_iam_role.fn.assume_role_policy`,
    policyJson({ Effect: "Allow", Principal: "*", Action: "sts:AssumeRole" })) },
  { rule: "CF-IAM-5", kind: "wrong", what: "s3:* on the bucket", mutate: (d) => set(d, `${R}.aws_iam_role_policy.fn_table.policy`,
    policyJson({ Effect: "Allow", Action: ["s3:*"], Resource: ["${aws_s3_bucket.artifacts.arn}", "${aws_s3_bucket.artifacts.arn}/*"] })), attribute: /Statement\[0\]\.Action/ },
  { rule: "CF-IAM-5", kind: "wrong", what: "iam:PassRole on *", mutate: (d) => set(d, `${R}.aws_iam_role_policy.fn_vpc.policy`,
    policyJson({ Effect: "Allow", Action: ["iam:PassRole"], Resource: "*" })), attribute: /Statement\[0\]\.Resource/ },

  // --- S3
  { rule: "CF-S3-1", kind: "missing", what: "no encryption configuration", mutate: (d) => set(d, `${R}.aws_s3_bucket_server_side_encryption_configuration`, undefined),
    attribute: "aws_s3_bucket_server_side_encryption_configuration.bucket" },
  { rule: "CF-S3-1", kind: "wrong", what: "SSE-S3 (AES256)", mutate: (d) =>
    set(d, `${R}.aws_s3_bucket_server_side_encryption_configuration.artifacts.rule.0.apply_server_side_encryption_by_default`, { sse_algorithm: "AES256" }), attribute: /sse_algorithm$/ },
  { rule: "CF-S3-1", kind: "missing", what: "aws:kms without a key (the AWS-managed aws/s3)", mutate: (d) =>
    set(d, `${R}.aws_s3_bucket_server_side_encryption_configuration.artifacts.rule.0.apply_server_side_encryption_by_default.kms_master_key_id`, undefined), attribute: /kms_master_key_id$/ },
  { rule: "CF-S3-1", kind: "wrong", what: "the alias of the AWS-managed key", mutate: (d) =>
    set(d, `${R}.aws_s3_bucket_server_side_encryption_configuration.artifacts.rule.0.apply_server_side_encryption_by_default.kms_master_key_id`, "alias/aws/s3") },
  { rule: "CF-S3-1", kind: "wrong", what: "encryption configured for another bucket", mutate: (d) =>
    set(d, `${R}.aws_s3_bucket_server_side_encryption_configuration.artifacts.bucket`, "some-other-bucket") },
  { rule: "CF-S3-2", kind: "missing", what: "no versioning resource", mutate: (d) => set(d, `${R}.aws_s3_bucket_versioning`, undefined), attribute: "aws_s3_bucket_versioning.bucket" },
  { rule: "CF-S3-2", kind: "wrong", what: "versioning suspended", mutate: (d) => set(d, `${R}.aws_s3_bucket_versioning.artifacts.versioning_configuration.status`, "Suspended"),
    attribute: /versioning_configuration\.status$/ },
  { rule: "CF-S3-3", kind: "missing", what: "no public access block", mutate: (d) => set(d, `${R}.aws_s3_bucket_public_access_block`, undefined), attribute: "aws_s3_bucket_public_access_block.bucket" },
  { rule: "CF-S3-3", kind: "wrong", what: "public policies allowed", mutate: (d) => set(d, `${R}.aws_s3_bucket_public_access_block.artifacts.block_public_policy`, false),
    attribute: /block_public_policy$/ },
  { rule: "CF-S3-3", kind: "missing", what: "restrict_public_buckets left out (false)", mutate: (d) =>
    set(d, `${R}.aws_s3_bucket_public_access_block.artifacts.restrict_public_buckets`, undefined), attribute: /restrict_public_buckets$/ },
  { rule: "CF-S3-4", kind: "missing", what: "no bucket policy", mutate: (d) => set(d, `${R}.aws_s3_bucket_policy`, undefined), attribute: "aws_s3_bucket_policy.bucket" },
  { rule: "CF-S3-4", kind: "wrong", what: "the TLS statement allows instead of denying", mutate: (d) => set(d, `${R}.aws_s3_bucket_policy.artifacts.policy`,
    policyJson({ Effect: "Allow", Principal: "*", Action: "s3:*", Resource: ["${aws_s3_bucket.artifacts.arn}/*"], Condition: { Bool: { "aws:SecureTransport": "false" } } })),
    attribute: "aws_s3_bucket_policy.artifacts.policy" },
  { rule: "CF-S3-4", kind: "wrong", what: "a deny that only covers the bucket, not its objects", mutate: (d) => set(d, `${R}.aws_s3_bucket_policy.artifacts.policy`,
    policyJson({ Effect: "Deny", Principal: "*", Action: "s3:*", Resource: ["${aws_s3_bucket.artifacts.arn}"], Condition: { Bool: { "aws:SecureTransport": "false" } } })) },

  // --- API Gateway
  { rule: "CF-APIGW-1", kind: "missing", what: "no access logs", mutate: (d) => set(d, `${stage}.access_log_settings`, undefined), attribute: "access_log_settings.destination_arn" },
  { rule: "CF-APIGW-1", kind: "wrong", what: "access logs without a format", mutate: (d) => set(d, `${stage}.access_log_settings.format`, ""), attribute: "access_log_settings.format" },
  { rule: "CF-APIGW-2", kind: "missing", what: "X-Ray not set", mutate: (d) => set(d, `${stage}.xray_tracing_enabled`, undefined), attribute: "xray_tracing_enabled" },
  { rule: "CF-APIGW-2", kind: "wrong", what: "X-Ray off", mutate: (d) => set(d, `${stage}.xray_tracing_enabled`, false) },
  { rule: "CF-APIGW-3", kind: "missing", what: "no method settings", mutate: (d) => set(d, `${R}.aws_api_gateway_method_settings`, undefined),
    fires: ["CF-APIGW-3", "CF-APIGW-4"], attribute: "aws_api_gateway_method_settings" },
  { rule: "CF-APIGW-3", kind: "missing", what: "metrics not set", mutate: (d) => set(d, `${settings}.settings.metrics_enabled`, undefined), attribute: /metrics_enabled/ },
  { rule: "CF-APIGW-3", kind: "wrong", what: "logging OFF", mutate: (d) => set(d, `${settings}.settings.logging_level`, "OFF"), attribute: /logging_level/ },
  { rule: "CF-APIGW-3", kind: "wrong", what: "data trace on", mutate: (d) => set(d, `${settings}.settings.data_trace_enabled`, true), attribute: /data_trace_enabled/ },
  { rule: "CF-APIGW-3", kind: "wrong", what: "settings for one method only", mutate: (d) => set(d, `${settings}.method_path`, "{id}/GET"), fires: ["CF-APIGW-3", "CF-APIGW-4"] },
  { rule: "CF-APIGW-4", kind: "missing", what: "no rate limit", mutate: (d) => set(d, `${settings}.settings.throttling_rate_limit`, undefined), attribute: /throttling_rate_limit/ },
  { rule: "CF-APIGW-4", kind: "wrong", what: "burst limit -1", mutate: (d) => set(d, `${settings}.settings.throttling_burst_limit`, -1), attribute: /throttling_burst_limit/ },
  { rule: "CF-APIGW-5", kind: "missing", what: "parameters without a validator", mutate: (d) => set(d, `${R}.aws_api_gateway_method.get.request_validator_id`, undefined), attribute: "request_validator_id" },
  { rule: "CF-APIGW-5", kind: "wrong", what: "a body model validated by a parameters-only validator", mutate: (d) =>
    set(d, `${R}.aws_api_gateway_method.put.request_validator_id`, "${aws_api_gateway_request_validator.params.id}") },
  // The golden PUT is authorized (CUSTOM) and keyed; an unauthorized write also fails CF-APIGW-7, which an API key cannot satisfy.
  { rule: "CF-APIGW-6", kind: "missing", what: "PUT with no authorization and no API key", mutate: (d) => {
    set(d, `${put}.authorization`, undefined); set(d, `${put}.api_key_required`, undefined);
  }, attribute: "authorization", fires: ["CF-APIGW-6", "CF-APIGW-7"] },
  { rule: "CF-APIGW-6", kind: "wrong", what: "api_key_required false", mutate: (d) => {
    set(d, `${put}.authorization`, "NONE"); set(d, `${put}.api_key_required`, false);
  }, attribute: "api_key_required", fires: ["CF-APIGW-6", "CF-APIGW-7"] },
  { rule: "CF-APIGW-6", kind: "wrong", what: "API key required but no usage plan", mutate: (d) => {
    set(d, `${put}.authorization`, "NONE");
    set(d, `${R}.aws_api_gateway_usage_plan`, undefined); set(d, `${R}.aws_api_gateway_usage_plan_key`, undefined);
  }, attribute: "api_key_required", fires: ["CF-APIGW-6", "CF-APIGW-7"] },
  { rule: "CF-APIGW-6", kind: "wrong", what: "CUSTOM authorization without an authorizer", mutate: (d) => set(d, `${R}.aws_api_gateway_method.delete.authorization`, "CUSTOM"),
    attribute: "authorizer_id", fires: ["CF-APIGW-6", "CF-APIGW-7"] },
  { rule: "CF-APIGW-7", kind: "missing", what: "a read with no authorization", mutate: (d) => {
    set(d, `${get}.authorization`, undefined); set(d, `${get}.authorizer_id`, undefined);
  }, attribute: "authorization" },
  { rule: "CF-APIGW-7", kind: "wrong", what: "a write with only an API key (a key is not an identity)", mutate: (d) => {
    set(d, `${put}.authorization`, "NONE"); set(d, `${put}.authorizer_id`, undefined);
  }, attribute: "authorization" },
  { rule: "CF-APIGW-7", kind: "wrong", what: "a read with authorization NONE, in dev too", mutate: (d) => set(d, `${get}.authorization`, "NONE"), profile: "dev" },
  { rule: "CF-APIGW-7", kind: "missing", what: "COGNITO_USER_POOLS without an authorizer", mutate: (d) => {
    set(d, `${get}.authorization`, "COGNITO_USER_POOLS"); set(d, `${get}.authorizer_id`, undefined);
  }, attribute: "authorizer_id" },
  // --- CloudFront
  { rule: "CF-CF-1", kind: "wrong", what: "the default behaviour allows HTTP", mutate: (d) => set(d, `${cf}.default_cache_behavior.viewer_protocol_policy`, "allow-all"),
    attribute: "default_cache_behavior.viewer_protocol_policy" },
  { rule: "CF-CF-1", kind: "missing", what: "an ordered behaviour without viewer_protocol_policy", mutate: (d) =>
    set(d, `${cf}.ordered_cache_behavior.0.viewer_protocol_policy`, undefined), attribute: "ordered_cache_behavior.0.viewer_protocol_policy" },
  { rule: "CF-CF-1", kind: "wrong", what: "the origin reached over HTTP when the viewer does", mutate: (d) =>
    set(d, `${cf}.origin.0.custom_origin_config.origin_protocol_policy`, "match-viewer"), attribute: "origin.0.custom_origin_config.origin_protocol_policy" },
  { rule: "CF-CF-1", kind: "wrong", what: "TLS 1.0 allowed to the origin", mutate: (d) =>
    set(d, `${cf}.origin.0.custom_origin_config.origin_ssl_protocols`, ["TLSv1", "TLSv1.2"]) },
  { rule: "CF-CF-2", kind: "wrong", what: "the default *.cloudfront.net certificate (TLSv1 policy)", mutate: (d) =>
    set(d, `${cf}.viewer_certificate`, { cloudfront_default_certificate: true }), attribute: "viewer_certificate.cloudfront_default_certificate" },
  { rule: "CF-CF-2", kind: "wrong", what: "an older policy (TLSv1.2_2019)", mutate: (d) => set(d, `${cf}.viewer_certificate.minimum_protocol_version`, "TLSv1.2_2019"),
    attribute: "viewer_certificate.minimum_protocol_version" },
  { rule: "CF-CF-2", kind: "missing", what: "no minimum protocol version (CloudFront's TLSv1)", mutate: (d) => set(d, `${cf}.viewer_certificate.minimum_protocol_version`, undefined) },
  { rule: "CF-CF-3", kind: "missing", what: "no logging_config", mutate: (d) => set(d, `${cf}.logging_config`, undefined), attribute: "logging_config.bucket" },
  { rule: "CF-CF-3", kind: "wrong", what: "an empty log bucket", mutate: (d) => set(d, `${cf}.logging_config.bucket`, "") },
  { rule: "CF-CF-4", kind: "missing", what: "a prod distribution without a web ACL", mutate: (d) => set(d, `${cf}.web_acl_id`, undefined), attribute: "web_acl_id" },
  { rule: "CF-CF-4", kind: "wrong", what: "an empty web ACL id", mutate: (d) => set(d, `${cf}.web_acl_id`, "") },

  { rule: "CF-APIGW-8", kind: "missing", what: "a prod stage without WAF", mutate: (d) => set(d, `${R}.aws_wafv2_web_acl_association`, undefined),
    attribute: "aws_wafv2_web_acl_association.resource_arn" },
  { rule: "CF-APIGW-8", kind: "wrong", what: "WAF on another stage", mutate: (d) =>
    set(d, `${R}.aws_wafv2_web_acl_association.stage.resource_arn`, "arn:aws:apigateway:us-east-1::/restapis/other/stages/v1") },

  // --- logs and secrets
  // --- WebSocket (API Gateway v2)
  { rule: "CF-APIGW-9", kind: "missing", what: "WebSocket stage without access logs", mutate: (d) => set(d, `${wsStage}.access_log_settings`, undefined),
    attribute: "access_log_settings.destination_arn" },
  { rule: "CF-APIGW-9", kind: "wrong", what: "WebSocket access logs without a format", mutate: (d) => set(d, `${wsStage}.access_log_settings.format`, " "),
    attribute: "access_log_settings.format" },
  { rule: "CF-APIGW-10", kind: "missing", what: "no default route throttling", mutate: (d) => set(d, `${wsStage}.default_route_settings.throttling_rate_limit`, undefined),
    attribute: "default_route_settings.throttling_rate_limit" },
  { rule: "CF-APIGW-10", kind: "wrong", what: "burst limit 0", mutate: (d) => set(d, `${wsStage}.default_route_settings.throttling_burst_limit`, 0),
    attribute: "default_route_settings.throttling_burst_limit" },
  { rule: "CF-APIGW-10", kind: "wrong", what: "data trace logs every message", mutate: (d) => set(d, `${wsStage}.default_route_settings.data_trace_enabled`, true),
    attribute: "default_route_settings.data_trace_enabled" },
  { rule: "CF-IAM-6", kind: "missing", what: "ManageConnections with NotResource", mutate: (d) => set(d, `${R}.aws_iam_role_policy.pusher_connections.policy`,
    policyJson({ Effect: "Allow", Action: ["execute-api:ManageConnections"], NotResource: ["arn:aws:execute-api:us-east-1:123456789012:other/v1/POST/@connections/*"] })), attribute: /NotResource$/ },
  { rule: "CF-IAM-6", kind: "wrong", what: "ManageConnections on *", mutate: (d) => set(d, `${R}.aws_iam_role_policy.pusher_connections.policy`,
    policyJson({ Effect: "Allow", Action: ["execute-api:ManageConnections"], Resource: ["*"] })), attribute: /Resource$/ },
  { rule: "CF-IAM-6", kind: "wrong", what: "ManageConnections on every API of the account", mutate: (d) => set(d, `${R}.aws_iam_role_policy.pusher_connections.policy`,
    policyJson({ Effect: "Allow", Action: ["execute-api:ManageConnections"], Resource: ["arn:aws:execute-api:us-east-1:123456789012:*/v1/POST/@connections/*"] })) },
  { rule: "CF-IAM-6", kind: "wrong", what: "ManageConnections on the whole API, not its @connections", mutate: (d) => set(d, `${R}.aws_iam_role_policy.pusher_connections.policy`,
    policyJson({ Effect: "Allow", Action: ["execute-api:ManageConnections"], Resource: ["${aws_apigatewayv2_api.ws.execution_arn}/*"] })) },

  { rule: "CF-LOGS-1", kind: "missing", what: "no retention", mutate: (d) => set(d, `${R}.aws_cloudwatch_log_group.access.retention_in_days`, undefined), attribute: "retention_in_days" },
  { rule: "CF-LOGS-1", kind: "wrong", what: "retention 0 (never expire)", mutate: (d) => set(d, `${R}.aws_cloudwatch_log_group.flow.retention_in_days`, 0) },
  { rule: "CF-SM-1", kind: "missing", what: "no customer key", mutate: (d) => set(d, `${R}.aws_secretsmanager_secret.auth.kms_key_id`, undefined), attribute: "kms_key_id" },
  { rule: "CF-SM-1", kind: "wrong", what: "the AWS-managed key by alias", mutate: (d) => set(d, `${R}.aws_secretsmanager_secret.auth.kms_key_id`, "alias/aws/secretsmanager") },
  { rule: "CF-SM-2", kind: "missing", what: "no rotation", mutate: (d) => set(d, `${R}.aws_secretsmanager_secret_rotation`, undefined), attribute: "aws_secretsmanager_secret_rotation.secret_id",
    fires: ["CF-EC-11", "CF-SM-2"] },
  { rule: "CF-SM-2", kind: "wrong", what: "rotation without a schedule", mutate: (d) => set(d, `${R}.aws_secretsmanager_secret_rotation.auth.rotation_rules`, undefined),
    attribute: "aws_secretsmanager_secret_rotation.auth.rotation_rules", fires: ["CF-EC-11", "CF-SM-2"] },
  { rule: "CF-SM-2", kind: "wrong", what: "rotation of another secret", mutate: (d) =>
    set(d, `${R}.aws_secretsmanager_secret_rotation.auth.secret_id`, "arn:aws:secretsmanager:us-east-1:123456789012:secret:other"), fires: ["CF-EC-11", "CF-SM-2"] },
];

/**
 * Rules that have no attribute whose absence is a violation, so their non-compliant fixtures
 * are all "wrong" values: absent means the compliant default, or the violation is a value.
 */
const NO_MISSING_CASE: Record<string, string> = {
  "CF-SG-1": "an ingress rule without a source admits nothing; only an explicit 0.0.0.0/0 or ::/0 is open",
  "CF-EC-7": "auto_minor_version_upgrade defaults to true; only an explicit false disables upgrades",
  "CF-LAMBDA-5": "a missing variable holds no secret; only present names and values can leak one",
  "CF-IAM-5": "a statement without a service-wide wildcard or iam:PassRole grants nothing this rule is about; only a present one violates it",
};

const RULE_IDS = CACHEFRONT_RULES.map((r) => r.id);

describe("the golden fixture", () => {
  const report = check(golden());

  test("fails no rule and leaves nothing unknown (prod)", () => {
    expect(failing(report)).toEqual([]);
    expect(undecided(report)).toEqual([]);
  });

  test("passes every rule of the pack on at least one resource (so each compliant case is exercised)", () => {
    const passed = new Set(report.findings.filter((f) => f.status === "pass").map((f) => f.ruleId));
    expect(RULE_IDS.filter((id) => !passed.has(id))).toEqual([]);
  });

  test("is also clean in dev, where prod-only rules do not run", () => {
    const dev = check(golden(), "dev");
    expect(failing(dev)).toEqual([]);
    expect(dev.ruleIds).not.toContain("CF-DAX-3");
    expect(dev.ruleIds).not.toContain("CF-DDB-3");
  });
});

describe("fixture coverage", () => {
  test("every rule has a compliant case and at least two non-compliant fixtures, missing and wrong", () => {
    const problems: string[] = [];
    for (const id of RULE_IDS) {
      const fx = FIXTURES.filter((f) => f.rule === id);
      if (fx.length < 2) problems.push(`${id}: ${fx.length} non-compliant fixture(s)`);
      if (!fx.some((f) => f.kind === "wrong")) problems.push(`${id}: no "wrong value" fixture`);
      if (!fx.some((f) => f.kind === "missing") && !NO_MISSING_CASE[id]) problems.push(`${id}: no "missing attribute" fixture`);
    }
    expect(problems).toEqual([]);
    expect(FIXTURES.every((f) => RULE_IDS.includes(f.rule))).toBe(true);
  });
});

function ruleFindings(report: StackReport, id: string) {
  return report.findings.filter((f) => f.ruleId === id && f.status === "fail");
}

describe.each(RULE_IDS)("%s", (id) => {
  const cases = FIXTURES.filter((f) => f.rule === id);
  test.each(cases.map((c) => [`${c.kind}: ${c.what}`, c] as const))("GIVEN %s THEN exactly the expected rules fail", (_name, c) => {
    const doc = golden();
    c.mutate(doc);
    const report = check(doc, c.profile ?? "prod");
    expect({ failing: failing(report), unknown: undecided(report) }).toEqual({ failing: [...(c.fires ?? [id])].sort(), unknown: [] });
    const own = ruleFindings(report, id);
    expect(own.length).toBeGreaterThan(0);
    for (const f of own) {
      expect(f.message).toBeTruthy();
      expect(f.remediation).toBe(CACHEFRONT_RULES.find((r) => r.id === id)!.remediation);
      // the construct path from cdktf metadata, or the address for resources added without it
      expect(f.path.startsWith("fixture-prod/") || f.path === f.address).toBe(true);
    }
    if (c.attribute) {
      const attrs = own.map((f) => f.attribute ?? "");
      expect(attrs.some((a) => (typeof c.attribute === "string" ? a === c.attribute : c.attribute!.test(a)))).toBe(true);
    }
  });
});

describe("findings name the construct prop behind the attribute", () => {
  // GIVEN each non-compliant fixture WHEN checked THEN every failing finding of its rule says which
  // construct prop sets the attribute, or that none does and what sets it instead
  test.each(FIXTURES.map((c) => [`${c.rule} ${c.kind}: ${c.what}`, c] as const))("%s", (_name, c) => {
    const doc = golden();
    c.mutate(doc);
    const own = ruleFindings(check(doc, c.profile ?? "prod"), c.rule);
    expect(own.length).toBeGreaterThan(0);
    for (const f of own) {
      expect({ attribute: f.attribute, construct: f.construct }).toEqual({ attribute: f.attribute, construct: expect.anything() });
      expect(formatFinding(f)).toMatch(/ (Construct prop: [A-Z]\w+\.[a-z]\w+|No construct prop: \S)/);
    }
  });

  test("the props of the rules the issue names: replication_factor, snapshot_retention_limit", () => {
    const find = (rule: string, attr: string, value: unknown) => {
      const doc = golden();
      set(doc, attr, value);
      return formatFinding(ruleFindings(check(doc), rule)[0]);
    };
    expect(find("CF-DAX-3", `${R}.aws_dax_cluster.dax.replication_factor`, 1)).toContain("replication_factor: replication_factor = 1: prod needs at least 3 nodes (one per AZ). Construct prop: DaxCluster.replicationFactor. Fix:");
    expect(find("CF-EC-5", `${rg}.snapshot_retention_limit`, 0)).toContain("Construct prop: RedisCache.snapshotRetentionLimit.");
    expect(find("CF-SG-1", `${R}.aws_vpc_security_group_ingress_rule.cache_from_fn.cidr_ipv4`, "0.0.0.0/0")).toContain("No construct prop: set by wiring (");
  });

  test("every construct prop a rule names is a prop of that construct (or a field of that interface)", () => {
    const modules = analyzeModules(path.resolve(__dirname, "../.."));
    const fields = new Map<string, Set<string>>();
    for (const m of modules) {
      for (const c of m.classes) if (c.props) fields.set(c.name, new Set(c.props.map((f) => f.name)));
      for (const i of m.interfaces) fields.set(i.name, new Set(i.fields.map((f) => f.name)));
    }
    const named = CACHEFRONT_RULES.flatMap((r) => Object.values(r.props ?? {}).flatMap((s) => ("props" in s ? s.props.map((p) => [r.id, p]) : [])));
    expect(named.length).toBeGreaterThan(10);
    const missing = named.filter(([, p]) => {
      const [owner, field] = p.split(".");
      return !fields.get(owner)?.has(field);
    });
    expect(missing).toEqual([]);
  });

  test("settingOf: the longest matching key (last or first dotted segments) wins, else `*`", () => {
    const rule = { ...CACHEFRONT_RULES[0], props: { timeout: byProps("A.timeout"), "settings.timeout": byProps("B.timeout"), environment: byProps("C.env"), "*": setBy("D") } };
    expect(settingOf(rule, "timeout")).toEqual(byProps("A.timeout"));
    expect(settingOf(rule, "aws_x.y.settings.timeout")).toEqual(byProps("B.timeout"));
    expect(settingOf(rule, "other.timeout")).toEqual(byProps("A.timeout"));
    expect(settingOf(rule, "environment.variables.X")).toEqual(byProps("C.env"));
    expect(settingOf(rule, "timeouts")).toEqual(setBy("D"));
    expect(settingOf({ ...rule, props: undefined }, "timeout")).toBeUndefined();
  });
});

describe("CloudFront rules: what they leave alone", () => {
  test("CF-CF-4 is prod-only: a dev distribution without WAF passes", () => {
    const doc = golden();
    set(doc, `${cf}.web_acl_id`, undefined);
    expect(failing(check(doc, "dev"))).toEqual([]);
    expect(check(doc, "dev").ruleIds).not.toContain("CF-CF-4");
  });
  test("CF-CF-3 takes standard logging v2 (a log delivery source of the distribution) as well", () => {
    const doc = golden();
    set(doc, `${cf}.logging_config`, undefined);
    set(doc, `${R}.aws_cloudwatch_log_delivery_source.edge`, { name: "edge", log_type: "ACCESS_LOGS", resource_arn: "${aws_cloudfront_distribution.edge.arn}" });
    expect(failing(check(doc))).toEqual([]);
  });
  test("an origin policy written as an expression is unknown, not passed", () => {
    const doc = golden();
    set(doc, `${cf}.origin.0.custom_origin_config.origin_protocol_policy`, "${var.policy}");
    expect(undecided(check(doc))).toEqual(["CF-CF-1"]);
  });
});

describe("CF-APIGW-7 and CF-APIGW-8: what they leave alone", () => {
  test("a health check and a CORS preflight need no authorization", () => {
    const doc = golden();
    set(doc, `${R}.aws_api_gateway_method.preflight`, {
      rest_api_id: "${aws_api_gateway_rest_api.api.id}", resource_id: "${aws_api_gateway_resource.item.id}", http_method: "OPTIONS", authorization: "NONE",
    });
    const findings = check(doc).findings.filter((f) => f.ruleId === "CF-APIGW-7");
    expect(findings.filter((f) => f.status !== "pass")).toEqual([]);
    expect(findings.map((f) => f.address).sort()).toEqual(["aws_api_gateway_method.delete", "aws_api_gateway_method.get", "aws_api_gateway_method.put"]);
  });

  test("a public route with a suppression and its reason is reported as suppressed, not failed", () => {
    const doc = set(golden(), `${get}.authorization`, "NONE");
    const report = check(doc, "prod", { suppressions: [{ ruleId: "CF-APIGW-7", path: "fixture-prod/api/method-GET", reason: "a catalog is public by design" }] });
    expect(failing(report)).toEqual([]);
    expect(report.findings.filter((f) => f.ruleId === "CF-APIGW-7" && f.status === "suppressed")).toHaveLength(1);
  });

  test("CF-APIGW-8 is a prod warning and does not run in dev", () => {
    const doc = set(golden(), `${R}.aws_wafv2_web_acl_association`, undefined);
    expect(ruleFindings(check(doc, "prod"), "CF-APIGW-8").map((f) => f.severity)).toEqual(["warning"]);
    expect(check(doc, "dev").ruleIds).not.toContain("CF-APIGW-8");
  });
});

describe("severities and profiles", () => {
  const noFailover = () => set(golden(), `${rg}.automatic_failover_enabled`, false);

  test("CF-EC-4 is a warning in dev and an error in prod", () => {
    const dev = ruleFindings(check(noFailover(), "dev"), "CF-EC-4");
    const prod = ruleFindings(check(noFailover(), "prod"), "CF-EC-4");
    expect(dev.map((f) => f.severity)).toEqual(["warning"]);
    expect(prod.map((f) => f.severity)).toEqual(["error"]);
    expect(check(noFailover(), "dev").summary).toMatchObject({ errors: 0, warnings: 1 });
  });

  test("CF-EC-4 does not apply to a group without replicas", () => {
    const doc = noFailover();
    set(doc, `${rg}.num_cache_clusters`, 1);
    set(doc, `${rg}.multi_az_enabled`, false);
    expect(check(doc).findings.filter((f) => f.ruleId === "CF-EC-4")).toEqual([]);
  });

  test("prod-only rules (DAX replication, deletion protection) do not run in dev", () => {
    const doc = golden();
    set(doc, `${R}.aws_dax_cluster.dax.replication_factor`, 1);
    set(doc, `${R}.aws_dynamodb_table.table.deletion_protection_enabled`, false);
    expect(failing(check(doc, "dev"))).toEqual([]);
    expect(failing(check(doc, "prod"))).toEqual(["CF-DAX-3", "CF-DDB-3"]);
  });

  test("without an explicit profile, the recorded one wins, then the stack name suffix", () => {
    const doc = golden();
    expect(check(doc, undefined as unknown as "prod").profile).toBe("prod");
    const named = JSON.parse(JSON.stringify(doc));
    named["//"].metadata.stackName = "fixture-dev";
    expect(checkProfile(named)).toBe("dev");
    named["//"].cachefront_policy = { profile: "prod", suppressions: [] };
    expect(checkProfile(named)).toBe("prod");
  });
});

function checkProfile(doc: object): string {
  const { checkSynthesizedStack } = jest.requireActual("../../modules/policy") as typeof import("../../modules/policy");
  return checkSynthesizedStack(doc, { today: TODAY }).profile;
}

describe("compliant variants", () => {
  test("a provisioned table with read and write autoscaling passes CF-DDB-4", () => {
    const doc = golden();
    set(doc, `${R}.aws_dynamodb_table.table.billing_mode`, "PROVISIONED");
    for (const dim of ["Read", "Write"]) {
      set(doc, `${R}.aws_appautoscaling_target.${dim}`, { service_namespace: "dynamodb", resource_id: "table/${aws_dynamodb_table.table.name}",
        scalable_dimension: `dynamodb:table:${dim}CapacityUnits`, min_capacity: 5, max_capacity: 50 });
    }
    expect(failing(check(doc))).toEqual([]);
  });

  test("a provisioned table whose index autoscales too passes CF-DDB-4", () => {
    const doc = golden();
    provisionedWithIndex(doc);
    expect(failing(check(doc))).toEqual([]);
  });

  test("a provisioned CacheTable with indexes passes CF-DDB-4: every index autoscales", () => {
    const json = synthJson((stack) => new CacheTable(stack, "t", {
      partitionKey: { name: "PK", type: "S" },
      globalSecondaryIndexes: [{ indexName: "by-a", partitionKey: { name: "a", type: "S" } }, { indexName: "by-b", partitionKey: { name: "b", type: "S" } }],
      billing: Billing.provisioned({ readCapacity: 1, writeCapacity: 1 }),
    }));
    const report = checkSynthesizedStack(json, { stackName: "test-prod", rules: CACHEFRONT_RULES.filter((r) => r.id === "CF-DDB-4"), today: TODAY });
    expect(report.findings.map((f) => f.status)).toEqual(["pass"]);
  });

  test("RBAC user groups satisfy CF-EC-3 without an AUTH token", () => {
    const doc = golden();
    set(doc, `${rg}.auth_token`, undefined);
    set(doc, `${rg}.user_group_ids`, ["${aws_elasticache_user_group.users.user_group_id}"]);
    expect(failing(check(doc))).toEqual([]);
  });

  test("absent auto_minor_version_upgrade is compliant (the default is on)", () => {
    const doc = golden();
    set(doc, `${rg}.auto_minor_version_upgrade`, undefined);
    expect(failing(check(doc))).toEqual([]);
  });

  test("a function with no VPC dependencies and no vpc_config is not subject to CF-LAMBDA-4", () => {
    const doc = golden();
    set(doc, `${fn}.vpc_config`, undefined);
    set(doc, `${fn}.environment.variables`, { TABLE_NAME: "${aws_dynamodb_table.table.name}" });
    const report = check(doc);
    expect(failing(report)).toEqual([]);
    expect(report.findings.filter((f) => f.ruleId === "CF-LAMBDA-4")).toEqual([]);
  });

  test("the function's default log group (/aws/lambda/<name>) counts when logging_config is absent", () => {
    const doc = golden();
    set(doc, `${fn}.logging_config`, undefined);
    expect(failing(check(doc))).toEqual([]);
  });

  test("a mapping that reads a queue, not a stream, is not subject to the stream consumer rules", () => {
    const doc = golden();
    set(doc, `${esm}.event_source_arn`, "${aws_sqs_queue.failures.arn}");
    set(doc, `${esm}.destination_config`, undefined);
    set(doc, `${esm}.function_response_types`, undefined);
    const report = check(doc);
    expect(failing(report)).toEqual([]);
    // Not applicable: no finding at all (the golden stack's stream mapping passes both).
    expect(report.findings.filter((f) => /^CF-ESM-/.test(f.ruleId))).toEqual([]);
    expect(check(golden()).findings.filter((f) => /^CF-ESM-/.test(f.ruleId)).map((f) => f.status)).toEqual(["pass", "pass"]);
  });

  test("a stream ARN only known after planning (a variable) is unknown, never passed", () => {
    const doc = golden();
    set(doc, `${esm}.event_source_arn`, "${var.stream_arn}");
    expect(undecided(check(doc))).toEqual(["CF-ESM-1", "CF-ESM-2"]);
  });

  test("a container-image function has no runtime to check", () => {
    const doc = golden();
    set(doc, `${fn}.runtime`, undefined);
    set(doc, `${fn}.package_type`, "Image");
    expect(check(doc).findings.filter((f) => f.ruleId === "CF-LAMBDA-3")).toEqual([]);
  });
});

describe("runtime support depends on the evaluation date", () => {
  test("nodejs20.x passes before 2026-04-30 and fails from that day", () => {
    const doc = set(golden(), `${fn}.runtime`, "nodejs20.x");
    expect(failing(check(doc, "prod", { today: "2026-04-29" }))).toEqual([]);
    expect(failing(check(doc, "prod", { today: "2026-04-30" }))).toEqual(["CF-LAMBDA-3"]);
  });

  test("a runtime the table does not know is unknown, never passed", () => {
    const report = check(set(golden(), `${fn}.runtime`, "nodejs99.x"));
    expect(failing(report)).toEqual([]);
    expect(undecided(report)).toEqual(["CF-LAMBDA-3"]);
  });

  test("the fixtures run on a fixed date", () => {
    expect(TODAY).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });
});
