/** ElastiCache rules: Redis OSS / Valkey replication groups, Serverless caches, users, Memcached clusters. */
import { asBool, asNumber, isExpression, many, one, TerraformModel, TfResource, valueAt } from "../model";
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
  props: { "*": byProps("RedisCache.auth", "a user group by default (CacheAuth.iam()); CacheAuth.token() generates the AUTH token into Secrets Manager") },
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

export const EC_RBAC: PolicyRule = {
  id: "CF-EC-10",
  title: "Redis/Valkey caches authenticate clients as their own users (RBAC user group, IAM or passwords), not one shared token",
  severity: "warning",
  prodSeverity: "error",
  resourceTypes: [...RG, "aws_elasticache_serverless_cache"],
  rationale:
    "With one AUTH token every client can read and delete every key of every service on the cache, and the token cannot be " +
    "rotated without reaching all of them at once. A user per service, limited to its key prefix, confines a leaked credential.",
  remediation:
    "Attach a user group (user_group_ids, or user_group_id on Serverless) with a user per client: RedisCache's default " +
    "CacheAuth.iam(), or CacheAuth.password(); help/caching.md#migrating-from-the-auth-token moves a token cache over.",
  references: { securityHub: ["ElastiCache.6"], cdkNag: ["AwsSolutions-AEC6"] },
  props: { "*": byProps(["RedisCache.auth", "ServerlessCache.auth"], "CacheAuth.iam() or .password() attach the group; every wired function gets a user in it") },
  evaluate(r, { model }) {
    const path = r.type === "aws_elasticache_serverless_cache" ? "user_group_id" : "user_group_ids";
    const groups = model.value(r, path);
    if (groups.state === "known" && many(groups.value).filter((g) => g !== "" && g !== null).length > 0) return pass();
    if (model.follow(r, path).kind === "resource") return pass();
    if (groups.state === "unknown") return unresolved(path, groups.expression);
    if (r.type === "aws_elasticache_serverless_cache") {
      return fail(path, "no user_group_id: any client that reaches the endpoint logs in as the default user, with every key and command");
    }
    // No token either is CF-EC-3's finding (no authentication at all), not this one's.
    const token = model.value(r, "auth_token");
    if (token.state === "absent") return notApplicable();
    return fail(path, "clients share one AUTH token (auth_token) and no user group is attached: every client can touch every key");
  },
};

/** The `aws_secretsmanager_secret` a user's password comes from (through a secret version), if it can be traced. */
function passwordSecret(r: TfResource, model: TerraformModel): TfResource | undefined {
  for (const v of model.referencedResources(r, "authentication_mode")) {
    if (v.type === "aws_secretsmanager_secret") return v;
    if (v.type === "aws_secretsmanager_secret_version") {
      const s = model.follow(v, "secret_id");
      if (s.kind === "resource" && s.resource.type === "aws_secretsmanager_secret") return s.resource;
    }
  }
  return undefined;
}

export const EC_USER_PASSWORD_ROTATION: PolicyRule = {
  id: "CF-EC-11",
  title: "ElastiCache password users take their password from a rotated secret",
  severity: "error",
  resourceTypes: ["aws_elasticache_user"],
  rationale:
    "A user password written into the configuration is a secret in source control, and one never rotated stays valid as long as " +
    "any copy of it exists. ElastiCache keeps two passwords per user, so a rotation (set both, test, promote) locks no client out.",
  remediation:
    "Generate the password into a Secrets Manager secret (CacheAuth.password() does) with an aws_secretsmanager_secret_rotation " +
    "(rotation_rules) whose function uses ElastiCache's two-password overlap; or use IAM authentication (CacheAuth.iam()).",
  references: { securityHub: ["SecretsManager.1"], cdkNag: ["AwsSolutions-SMG4"] },
  props: { "*": byProps("RedisCache.auth", "CacheAuth.password({ rotationDays }) generates each password into its own secret and rotates it") },
  evaluate(r, { model }) {
    const type = model.value(r, "authentication_mode.type");
    const legacyPasswords = model.value(r, "passwords");
    if (type.state === "unknown") return unresolved("authentication_mode.type", type.expression);
    const usesPassword = (type.state === "known" && type.value === "password") || (type.state === "absent" && legacyPasswords.state !== "absent");
    if (!usesPassword) return notApplicable();
    // The disabled default user of a group carries no usable password.
    const access = model.value(r, "access_string");
    if (access.state === "known" && /^off\b/.test(String(access.value).trim())) return notApplicable();
    const secret = passwordSecret(r, model);
    if (!secret) {
      if (model.source === "plan") return unknown("authentication_mode.passwords", "the password's source cannot be traced in a plan");
      return fail("authentication_mode.passwords", "the password is not taken from a Secrets Manager secret (a literal, or from elsewhere)");
    }
    for (const rot of model.ofType("aws_secretsmanager_secret_rotation")) {
      const p = model.follow(rot, "secret_id");
      if (p.kind === "resource" && p.resource.address === secret.address) {
        const rules = valueAt(rot.values, "rotation_rules");
        if (valueAt(rules, "automatically_after_days") === undefined && valueAt(rules, "schedule_expression") === undefined) {
          return fail("authentication_mode.passwords", `${rot.address} rotates ${secret.address} on no schedule`);
        }
        return pass();
      }
    }
    return fail("authentication_mode.passwords", `the password's secret ${secret.address} has no aws_secretsmanager_secret_rotation`);
  },
};

export const EC_SERVERLESS_LIMITS: PolicyRule = {
  id: "CF-EC-12",
  title: "Serverless caches cap data storage and ECPUs per second",
  severity: "error",
  resourceTypes: ["aws_elasticache_serverless_cache"],
  rationale:
    "ElastiCache Serverless scales and bills without a ceiling: a key leak or a hot loop grows storage and ECPUs, and the bill, " +
    "until someone notices. Usage limits make that a throttle instead.",
  remediation: "Set cache_usage_limits with data_storage { maximum, unit = \"GB\" } and ecpu_per_second { maximum } (ServerlessCache always does).",
  references: {},
  props: { "*": byProps(["ServerlessCache.maxDataStorageGb", "ServerlessCache.maxEcpuPerSecond"]) },
  evaluate(r, { model }) {
    const limits = model.value(r, "cache_usage_limits");
    if (limits.state === "unknown") return unresolved("cache_usage_limits", limits.expression);
    const l = limits.state === "known" ? one(limits.value) : undefined;
    const out: RuleOutcome[] = [];
    for (const [block, what] of [["data_storage", "data stored"], ["ecpu_per_second", "ECPUs per second"]] as const) {
      const max = valueAt(one(l?.[block]), "maximum");
      if (max === undefined || max === null) out.push(fail(`cache_usage_limits.${block}.maximum`, `no maximum for ${what}: the cache grows, and bills, without a ceiling`));
      else if (isExpression(max)) out.push(unresolved(`cache_usage_limits.${block}.maximum`, max));
    }
    return out.length > 0 ? out : pass();
  },
};

export const EC_MEMCACHED_TLS: PolicyRule = {
  id: "CF-EC-13",
  title: "Memcached clusters encrypt in transit",
  severity: "error",
  resourceTypes: ["aws_elasticache_cluster"],
  rationale: "Memcached has no authentication on ElastiCache: without TLS every cached value crosses the VPC in clear, readable by anything on the path.",
  remediation: "Set transit_encryption_enabled = true (engine_version 1.6.12 or later; MemcachedCache always does).",
  references: { checkov: ["CKV_AWS_30"], securityHub: ["ElastiCache.5"] },
  props: { "*": setBy("MemcachedCache") },
  evaluate(r, { model }) {
    const engine = model.value(r, "engine");
    if (engine.state === "unknown") return unresolved("engine", engine.expression);
    // A member of a replication group is covered by CF-EC-2 on its group.
    if (engine.state === "absent" || engine.value !== "memcached") return notApplicable();
    return boolAttr(model, r, "transit_encryption_enabled", true, "non-compliant", "transit_encryption_enabled is not set (off unless true)");
  },
};

export const ELASTICACHE_RULES: readonly PolicyRule[] = [
  EC_AT_REST, EC_IN_TRANSIT, EC_AUTH, EC_FAILOVER, EC_SNAPSHOTS, EC_SUBNET_GROUP, EC_MINOR_UPGRADES, EC_MAXMEMORY_POLICY, EC_LOG_DELIVERY,
  EC_RBAC, EC_USER_PASSWORD_ROTATION, EC_SERVERLESS_LIMITS, EC_MEMCACHED_TLS,
];
