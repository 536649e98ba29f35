/** ElastiCache (Redis OSS / Valkey) replication group rules. */
import { asBool, asNumber, isExpression, many, TerraformModel, TfResource, valueAt } from "../model";
import type { RuleOutcome } from "../types";
import { byProps, fail, notApplicable, pass, PolicyRule, setBy, unknown } from "../rule";
import { boolAttr, numberAttr, show, unresolved } from "./util";

const RG = ["aws_elasticache_replication_group"];

export const EC_AT_REST: PolicyRule = {
  id: "CF-EC-1",
  title: "Replication groups are encrypted at rest",
  severity: "error",
  resourceTypes: RG,
  rationale: "Cached items are copies of table data; snapshots and swap of an unencrypted group hold them in clear.",
  remediation: "Set at_rest_encryption_enabled = true (it cannot be changed later: the group is replaced).",
  references: { checkov: ["CKV_AWS_29"], securityHub: ["ElastiCache.4"], cdkNag: ["AwsSolutions-AEC3"] },
  props: { "*": setBy("RedisCache") },
  evaluate(r, { model }) {
    return boolAttr(model, r, "at_rest_encryption_enabled", true, "non-compliant", "at_rest_encryption_enabled is not set (off unless true)");
  },
};

export const EC_IN_TRANSIT: PolicyRule = {
  id: "CF-EC-2",
  title: "Replication groups require TLS",
  severity: "error",
  resourceTypes: RG,
  rationale: "Without TLS the AUTH token and every cached value cross the VPC in clear; `preferred` mode still accepts plaintext clients.",
  remediation: "Set transit_encryption_enabled = true and transit_encryption_mode = \"required\" (or leave the mode unset).",
  references: { checkov: ["CKV_AWS_30"], securityHub: ["ElastiCache.5"], cdkNag: ["AwsSolutions-AEC3"] },
  props: { "*": setBy("RedisCache") },
  evaluate(r, { model }) {
    const enabled = boolAttr(model, r, "transit_encryption_enabled", true, "non-compliant",
      "transit_encryption_enabled is not set (off unless true)");
    if (enabled.status !== "pass") return enabled;
    const mode = model.value(r, "transit_encryption_mode");
    if (mode.state === "unknown") return unresolved("transit_encryption_mode", mode.expression);
    if (mode.state === "known" && mode.value !== "required") {
      return fail("transit_encryption_mode", `transit_encryption_mode = ${show(mode.value)} still accepts plaintext connections`);
    }
    return pass();
  },
};

export const EC_AUTH: PolicyRule = {
  id: "CF-EC-3",
  title: "Clients authenticate (AUTH token or RBAC user group) over TLS",
  severity: "error",
  resourceTypes: RG,
  rationale:
    "A security group limits who can connect, not who can read: AUTH (or RBAC users) makes a stolen network path " +
    "insufficient. A token written into the configuration is a secret in source control.",
  remediation:
    "Set auth_token from a generated secret (a Secrets Manager secret version, random_password) or user_group_ids, " +
    "with transit_encryption_enabled = true.",
  references: { checkov: ["CKV_AWS_31"], securityHub: ["ElastiCache.6"], cdkNag: ["AwsSolutions-AEC6"] },
  props: { "*": setBy("RedisCache, which generates the AUTH token into Secrets Manager") },
  evaluate(r, { model }) {
    const auth = authentication(r, model);
    if (auth.status !== "pass") return auth;
    // AUTH and RBAC are only safe (and only accepted by ElastiCache) over TLS.
    const tls = model.value(r, "transit_encryption_enabled");
    if (tls.state === "unknown") return unresolved("transit_encryption_enabled", tls.expression);
    if (tls.state === "absent" || asBool(tls.value) !== true) {
      return fail("transit_encryption_enabled", "authentication is configured without TLS, so the token or password crosses the network in clear");
    }
    return pass();
  },
};

/** Whether the group authenticates clients at all (AUTH token or RBAC user groups). */
function authentication(r: TfResource, model: TerraformModel): RuleOutcome {
  const groups = model.value(r, "user_group_ids");
  if (groups.state === "known" && many(groups.value).length > 0) return pass();
  if (model.follow(r, "user_group_ids").kind === "resource") return pass();
  const token = model.value(r, "auth_token");
  switch (token.state) {
    case "absent":
      if (groups.state === "unknown") return unresolved("user_group_ids", groups.expression);
      return fail("auth_token", "neither auth_token nor user_group_ids is set: any client that reaches the port can read and write");
    case "known":
      if (typeof token.value !== "string" || token.value.length === 0) return fail("auth_token", "auth_token is empty");
      // In a plan every value is literal; in the configuration a literal is a secret written into code.
      if (model.source === "synth") {
        return fail("auth_token", "auth_token is a literal in the configuration; generate it (Secrets Manager secret version, random_password)");
      }
      return pass();
    case "unknown":
      // A reference to another resource's generated value is fine; anything else waits for the plan.
      return model.follow(r, "auth_token").kind === "resource" ? pass() : unresolved("auth_token", token.expression);
  }
}

/** Replicas per shard of a replication group, or "unknown". */
function replicas(values: Record<string, unknown>): number | "unknown" {
  const clusterMode = values.cluster_mode === "enabled" || values.num_node_groups !== undefined || values.replicas_per_node_group !== undefined;
  const raw = clusterMode ? values.replicas_per_node_group : values.num_cache_clusters ?? values.number_cache_clusters;
  if (raw === undefined || raw === null) return 0;
  if (isExpression(raw)) return "unknown";
  const n = asNumber(raw);
  if (n === undefined) return "unknown";
  return clusterMode ? n : n - 1;
}

export const EC_FAILOVER: PolicyRule = {
  id: "CF-EC-4",
  title: "Groups with replicas fail over automatically across AZs",
  severity: "warning",
  prodSeverity: "error",
  resourceTypes: RG,
  rationale:
    "A replica that is never promoted does not keep the cache up when the primary's node or AZ fails; " +
    "automatic failover with multi-AZ does.",
  remediation: "Set automatic_failover_enabled = true and multi_az_enabled = true (RedisCache does whenever replicasPerShard >= 1).",
  references: { checkov: ["CKV2_AWS_50"], securityHub: ["ElastiCache.3"], cdkNag: ["AwsSolutions-AEC4"] },
  props: { num_cache_clusters: byProps("RedisCache.replicasPerShard"), "*": byProps("RedisCache.multiAz") },
  evaluate(r, { model }) {
    const n = replicas(r.values as Record<string, unknown>);
    if (n === "unknown") return unknown("num_cache_clusters", "the number of nodes is an expression");
    if (n < 1) return notApplicable();
    const out: RuleOutcome[] = [];
    for (const attr of ["automatic_failover_enabled", "multi_az_enabled"]) {
      const o = boolAttr(model, r, attr, true, "non-compliant", `${attr} is not set (off), though the group has ${n} replica(s) per shard`);
      if (o.status !== "pass") out.push(o);
    }
    return out.length > 0 ? out : pass();
  },
};

export const EC_SNAPSHOTS: PolicyRule = {
  id: "CF-EC-5",
  title: "Daily snapshots are kept at least 1 day",
  severity: "error",
  resourceTypes: RG,
  rationale: "With retention 0 there are no automatic backups: a bad flush or a lost group cannot be restored, only refilled cold.",
  remediation: "Set snapshot_retention_limit to 1 or more (7 in prod).",
  references: { securityHub: ["ElastiCache.1"], checkov: ["CKV_AWS_134"], cdkNag: ["NIST.800.53.R5-ElastiCacheRedisClusterAutomaticBackup"] },
  props: { "*": byProps("RedisCache.snapshotRetentionLimit") },
  evaluate(r, { model }) {
    return numberAttr(model, r, "snapshot_retention_limit", "snapshot_retention_limit is not set (0: no automatic snapshots)",
      (n) => (n >= 1 ? undefined : "at least 1 day is required"));
  },
};

export const EC_SUBNET_GROUP: PolicyRule = {
  id: "CF-EC-6",
  title: "Replication groups use their own subnet group",
  severity: "error",
  resourceTypes: RG,
  rationale: "Without a subnet group ElastiCache uses `default`, which spans the default VPC's (public) subnets.",
  remediation: "Create an aws_elasticache_subnet_group over private subnets and set subnet_group_name to it.",
  references: { securityHub: ["ElastiCache.7"], checkov: ["CKV_AWS_323"], cdkNag: ["AwsSolutions-AEC1"] },
  props: { "*": setBy("RedisCache, over its network's private subnets") },
  evaluate(r, { model }) {
    const p = model.follow(r, "subnet_group_name");
    if (p.kind === "absent") return fail("subnet_group_name", "subnet_group_name is not set, so the group lands in the `default` subnet group");
    if (p.kind === "unknown") return unresolved("subnet_group_name", p.expression);
    if (p.kind === "literal" && String(p.value).toLowerCase() === "default") {
      return fail("subnet_group_name", "subnet_group_name = \"default\" is the default VPC's subnet group");
    }
    return pass();
  },
};

export const EC_MINOR_UPGRADES: PolicyRule = {
  id: "CF-EC-7",
  title: "Automatic minor version upgrades are not disabled",
  severity: "error",
  resourceTypes: RG,
  rationale: "Minor versions carry security fixes; turning automatic upgrades off leaves known vulnerabilities running.",
  remediation: "Remove auto_minor_version_upgrade or set it to true.",
  references: { securityHub: ["ElastiCache.2"], checkov: ["CKV_AWS_322"] },
  props: { "*": setBy("RedisCache") },
  evaluate(r, { model }) {
    return boolAttr(model, r, "auto_minor_version_upgrade", true, "compliant", "");
  },
};

export const EC_MAXMEMORY_POLICY: PolicyRule = {
  id: "CF-EC-8",
  title: "The parameter group sets maxmemory-policy",
  severity: "warning",
  resourceTypes: RG,
  rationale:
    "What happens when memory is full is a design decision: the default (volatile-lru) evicts only keys with a TTL " +
    "and then refuses writes. A cache in front of a table should say which keys may go.",
  remediation: "Use an aws_elasticache_parameter_group with a maxmemory-policy parameter (e.g. allkeys-lru) and set parameter_group_name to it.",
  references: {},
  props: { "*": setBy("RedisCache, whose maxmemoryPolicy chooses the policy") },
  evaluate(r, { model }) {
    const p = model.follow(r, "parameter_group_name");
    if (p.kind === "absent") return fail("parameter_group_name", "parameter_group_name is not set: the engine's default group does not choose an eviction policy");
    if (p.kind === "unknown") return unresolved("parameter_group_name", p.expression);
    if (p.kind === "literal" && /^default\./.test(String(p.value))) {
      return fail("parameter_group_name", `parameter_group_name = ${show(p.value)} is a default group, which cannot set maxmemory-policy`);
    }
    const group = model.resolve(p, "aws_elasticache_parameter_group");
    if (!group) return unknown("parameter_group_name", `parameter group ${show(p.kind === "literal" ? p.value : p)} is not defined in this stack`);
    const params = model.value(group, "parameter");
    if (params.state === "unknown") return unknown(`${group.address}.parameter`, "the parameters are an expression");
    const policy = many(params.state === "known" ? params.value : []).find((x) => valueAt(x, "name") === "maxmemory-policy");
    if (!policy) return fail("parameter_group_name", `${group.address} has no maxmemory-policy parameter`);
    const value = valueAt(policy, "value");
    if (typeof value !== "string" || value.trim() === "") return fail("parameter_group_name", `${group.address} sets maxmemory-policy to an empty value`);
    return pass();
  },
};

export const EC_LOG_DELIVERY: PolicyRule = {
  id: "CF-EC-9",
  title: "Slow and engine logs are delivered",
  severity: "warning",
  prodSeverity: "error",
  resourceTypes: RG,
  rationale: "The slow log and engine log are the only view of slow commands, failovers and evictions from outside the nodes.",
  remediation: "Add log_delivery_configuration blocks (slow-log and engine-log) to CloudWatch Logs or Kinesis Firehose.",
  references: {},
  props: { "*": setBy("RedisCache") },
  evaluate(r, { model }) {
    const v = model.value(r, "log_delivery_configuration");
    if (v.state === "absent" || (v.state === "known" && many(v.value).length === 0)) {
      return fail("log_delivery_configuration", "no log_delivery_configuration: slow and engine logs stay on the nodes");
    }
    if (v.state === "unknown") return unresolved("log_delivery_configuration", v.expression);
    const out: RuleOutcome[] = [];
    many(v.value).forEach((entry, i) => {
      const dest = valueAt(entry, "destination");
      if (dest === undefined || dest === null || (typeof dest === "string" && dest.trim() === "")) {
        out.push(fail(`log_delivery_configuration.${i}.destination`, "log delivery has no destination"));
      }
      const enabled = asBool(valueAt(entry, "enabled"));
      if (enabled === false) out.push(fail(`log_delivery_configuration.${i}.enabled`, "log delivery is disabled"));
    });
    return out.length > 0 ? out : pass();
  },
};

export const ELASTICACHE_RULES: readonly PolicyRule[] = [
  EC_AT_REST, EC_IN_TRANSIT, EC_AUTH, EC_FAILOVER, EC_SNAPSHOTS, EC_SUBNET_GROUP, EC_MINOR_UPGRADES, EC_MAXMEMORY_POLICY, EC_LOG_DELIVERY,
];
