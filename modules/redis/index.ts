/**
 *   const cache = new RedisCache(this, "cache", { network, engine: CacheEngine.valkey("8.0"), auth: CacheAuth.iam() });
 *   fn.useCache(cache); // ingress from fn's SG on the cache port + fn's own ElastiCache user (its key prefix only) + elasticache:Connect
 */
import { ElasticacheParameterGroup } from "@cdktf/provider-aws/lib/elasticache-parameter-group";
import { ElasticacheReplicationGroup } from "@cdktf/provider-aws/lib/elasticache-replication-group";
import { ElasticacheSubnetGroup } from "@cdktf/provider-aws/lib/elasticache-subnet-group";
import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { SecretsmanagerSecretVersion } from "@cdktf/provider-aws/lib/secretsmanager-secret-version";
import { Fn, Lazy } from "cdktf";
import { Construct } from "constructs";
import { CACHE_ID_RE, physicalName } from "../core/naming";
import { byProfile, Profile, profileOf } from "../core/profile";
import { DAILY_WINDOW_RE, MAINTENANCE_WINDOW_RE, PropsValidator } from "../core/validation";
import { dailyOverlapsWeekly, dailyWindowMinutes, weeklyWindowMinutes } from "../core/windows";
import { LogGroup } from "../logs";
import type { INetwork } from "../network";
import { suppressRule } from "../policy";
import { Connections, IConnectable, SecurityGroup } from "../security-group";
import { CacheAuth, CacheUsers, defaultCacheAuth, redisClientAuth, validateCacheAuth } from "./auth";
import { CacheConnection, CacheConnectOptions, ICache, ICacheClient } from "./cache";

import { CACHE_ENGINE_NAMES, CacheEngine, CacheEngineName } from "./engine";
import { ImportedRedisCache, RedisCacheAttributes } from "./imported";

// Public: the auth modes and the users construct; the wiring helpers stay inside the module.
export { CacheAuth, CacheUsers, supportsIamAuth } from "./auth";
export type { CacheAuthMode, CacheUsersProps, PasswordAuthOptions, TokenAuthOptions, TokenMigrationStage } from "./auth";
export * from "./cache";
export * from "./engine";
export type { RedisCacheAttributes } from "./imported";
export * from "./memcached";
export * from "./rotation";
export * from "./serverless";

/** Eviction policies Redis OSS and Valkey accept for `maxmemory-policy`. */
export const MAXMEMORY_POLICIES = [
  "volatile-lru",
  "allkeys-lru",
  "volatile-lfu",
  "allkeys-lfu",
  "volatile-random",
  "allkeys-random",
  "volatile-ttl",
  "noeviction",
] as const;
/** A `maxmemory-policy` value. */
export type MaxmemoryPolicy = (typeof MAXMEMORY_POLICIES)[number];

const NODE_TYPE_RE = /^cache\.[a-z0-9]+\.[a-z0-9]+$/;

/** Props of {@link RedisCache}. */
export interface RedisCacheProps {
  /** VPC whose private subnets host the nodes and whose `vpcId` holds the cache's security group. */
  readonly network: INetwork;
  /**
   * Engine and version.
   * @default CacheEngine.valkey("8.0") — Valkey is wire-compatible with Redis OSS clients and
   * about 20 % cheaper per node-hour on ElastiCache
   */
  readonly engine?: CacheEngine;
  /**
   * Node type, e.g. `cache.r7g.large` (`cache.<family>.<size>`).
   * @default "cache.r7g.large" in prod, "cache.t4g.micro" in dev
   */
  readonly nodeType?: string;
  /**
   * Read replicas per shard (0–5). With at least one, automatic failover and multi-AZ are on.
   * @default 1 in prod, 0 in dev
   */
  readonly replicasPerShard?: number;
  /**
   * Number of shards (1–500). Giving it turns cluster mode on (clients must speak the cluster
   * protocol, and connect to the configuration endpoint).
   * @default cluster mode off: one primary plus `replicasPerShard` replicas
   */
  readonly numShards?: number;
  /**
   * Place replicas in other AZs than the primary. Needs at least one replica.
   * @default true whenever `replicasPerShard` ≥ 1
   */
  readonly multiAz?: boolean;
  /**
   * How clients authenticate: `CacheAuth.iam()`, `CacheAuth.password({ rotationDays })` or
   * `CacheAuth.token()`. With IAM or passwords each wired function gets its own ElastiCache user,
   * limited to its key prefix and the runtime's commands.
   * @default CacheAuth.iam() where the engine accepts it (Valkey >= 7.2, Redis OSS >= 7.0), else
   * CacheAuth.password() — in dev as well: IAM costs nothing, and unlike a secret needs no Secrets
   * Manager interface endpoint ($14.60 a month over dev's 2 AZs, $21.90 over prod's 3, at
   * us-east-1 prices in tools/cost/prices.ts, plus $0.40 a month per secret)
   */
  readonly auth?: CacheAuth;
  /**
   * Customer-managed KMS key ARN for at-rest encryption of the nodes, snapshots and the
   * secrets (AUTH token or user passwords). Encryption at rest and in transit is always on; only the key is a choice.
   * @default AWS-managed keys
   */
  readonly kmsKeyArn?: string;
  /**
   * Eviction policy once memory is full. A cache in front of DynamoDB can always reload, so
   * evicting the least recently used key beats refusing writes.
   * @default "allkeys-lru"
   */
  readonly maxmemoryPolicy?: MaxmemoryPolicy;
  /**
   * Replication group id: 1–40 lowercase letters, digits and single hyphens, starting with a
   * letter and not ending with a hyphen.
   * @default derived from the construct path
   */
  readonly replicationGroupId?: string;
  /**
   * What the cache holds.
   * @default "<Engine> cache <construct path>"
   */
  readonly description?: string;
  /**
   * Port the nodes listen on (1024–65535).
   * @default 6379
   */
  readonly port?: number;
  /**
   * Days to keep daily snapshots (0–35, 0 turns snapshots off).
   * @default 7 in prod, 1 in dev
   */
  readonly snapshotRetentionLimit?: number;
  /**
   * Daily UTC window for snapshots, `hh24:mi-hh24:mi`, at least 60 minutes.
   * @default "03:00-05:00"
   */
  readonly snapshotWindow?: string;
  /**
   * Weekly UTC maintenance window, `ddd:hh24:mi-ddd:hh24:mi`.
   * @default "sun:05:00-sun:07:00"
   */
  readonly maintenanceWindow?: string;
  /**
   * Days to keep the slow log and engine log.
   * @default 90 in prod, 14 in dev
   */
  readonly logRetentionDays?: number;
  /**
   * Deployment profile.
   * @default the enclosing stack's profile, else `prod`
   */
  readonly profile?: Profile;
}

/**
 * An ElastiCache Redis OSS / Valkey replication group in private subnets: encrypted at rest
 * and in transit (TLS required), clients authenticated as their own ElastiCache users (IAM or
 * rotated passwords, each limited to its key prefix) or with one AUTH token, slow and engine logs
 * in CloudWatch Logs, a security group that admits only wired clients, and multi-AZ automatic
 * failover whenever it has replicas.
 */
export class RedisCache extends Construct implements ICache {
  /**
   * A replication group another stack or team owns. Wiring a function to it creates the function's
   * user (and its grants and security-group rules) in this stack and associates the user with the
   * group; no replication group is managed here.
   */
  static fromAttributes(scope: Construct, id: string, attrs: RedisCacheAttributes): ICache {
    return new ImportedRedisCache(scope, id, attrs);
  }

  /** @attribute Always `redis`: the runtime speaks the Redis protocol to Redis OSS and Valkey. */
  public readonly backend = "redis" as const;
  /** The Terraform `aws_elasticache_replication_group` resource. */
  public readonly replicationGroup: ElasticacheReplicationGroup;
  /** Subnet group over the network's private subnets. */
  public readonly subnetGroup: ElasticacheSubnetGroup;
  /** Parameter group of the engine's family (`maxmemory-policy`, and `cluster-enabled` in cluster mode). */
  public readonly parameterGroup: ElasticacheParameterGroup;
  /** The cache's security group: ingress only on its port, only from wired clients. */
  public readonly securityGroup: SecurityGroup;
  /** The cache's security group and port, for wiring (`allowFrom`). */
  public readonly connections: Connections;
  /** How clients authenticate, after defaults. */
  public readonly auth: CacheAuth;
  /** The user group and each wired function's user (IAM or password auth, or a token migration). */
  public readonly users?: CacheUsers;
  /** Secret holding the AUTH token (token auth only). */
  public readonly authSecret?: SecretsmanagerSecret;
  /** The token secret's one version; its value is generated once and then left alone. */
  public readonly authSecretVersion?: SecretsmanagerSecretVersion;
  /** Log group receiving the slow log (JSON). */
  public readonly slowLogGroup: LogGroup;
  /** Log group receiving the engine log (JSON). */
  public readonly engineLogGroup: LogGroup;
  /** Engine and version in force. */
  public readonly engine: CacheEngine;
  /** @attribute `redis` or `valkey`. */
  public readonly engineName: CacheEngineName;
  /** @attribute e.g. `8.0`. */
  public readonly engineVersion: string;
  /** Parameter group family derived from the engine, e.g. `valkey8`. */
  public readonly parameterGroupFamily: string;
  /** True in cluster mode (`numShards` given). */
  public readonly clusterMode: boolean;
  /** Node type in force, after defaults. */
  public readonly nodeType: string;
  /** Replicas per shard in force, after defaults. */
  public readonly replicasPerShard: number;
  /** Shards (1 when cluster mode is off). */
  public readonly numShards: number;
  /** True when replicas sit in other AZs with automatic failover. */
  public readonly multiAz: boolean;
  /** @attribute Primary endpoint, or the configuration endpoint in cluster mode. */
  public readonly endpointAddress: string;
  /** @attribute Reader endpoint (load-balanced over replicas); undefined in cluster mode. */
  public readonly readerEndpointAddress?: string;
  /** @attribute Port the nodes listen on (TLS). */
  public readonly port: number;
  /** @attribute ARN of the secret holding the AUTH token (token auth only). */
  public readonly authSecretArn?: string;
  /** @attribute The replication group's id. */
  public readonly replicationGroupId: string;
  /** @attribute The replication group's ARN. */
  public readonly replicationGroupArn: string;
  /**
   * Cache cluster ids of the member nodes, known at synth time: `<id>-001`, `<id>-002`, … without
   * cluster mode, `<id>-0001-001`, `<id>-0001-002`, `<id>-0002-001`, … with it (shard, then node).
   * They are the `CacheClusterId` dimension of the nodes' CloudWatch metrics. A failover swaps
   * roles but keeps the ids; resharding in cluster mode can renumber shards.
   */
  public readonly memberClusterIds: readonly string[];
  /** The network the nodes run in. */
  public readonly network: INetwork;
  private readonly kmsKeyArn?: string;

  constructor(scope: Construct, id: string, props: RedisCacheProps) {
    super(scope, id);
    const profile = profileOf(this, props.profile);
    const engine = props.engine ?? CacheEngine.default();
    const nodeType = props.nodeType ?? byProfile(profile, { dev: "cache.t4g.micro", prod: "cache.r7g.large" });
    const replicas = props.replicasPerShard ?? byProfile(profile, { dev: 0, prod: 1 });
    const clusterMode = props.numShards !== undefined;
    const multiAz = props.multiAz ?? replicas >= 1;
    const rgId = props.replicationGroupId ?? physicalName(this, 40);
    const port = props.port ?? 6379;
    const retention = props.snapshotRetentionLimit ?? byProfile(profile, { dev: 1, prod: 7 });
    const snapshotWindow = props.snapshotWindow ?? "03:00-05:00";
    const maintenanceWindow = props.maintenanceWindow ?? "sun:05:00-sun:07:00";
    const maxmemoryPolicy = props.maxmemoryPolicy ?? "allkeys-lru";
    const auth = props.auth ?? defaultCacheAuth(engine.name, engine.version);

    const v = PropsValidator.for(this);
    v.oneOf("engine.name", engine.name, CACHE_ENGINE_NAMES);
    v.check(engine.family !== undefined, "engine.version", engine.version,
      `a supported ${engine.name} version: ${engine.supportedVersions.map((s) => JSON.stringify(s)).join(", ")}`);
    v.check(NODE_TYPE_RE.test(nodeType), "nodeType", nodeType,
      "an ElastiCache node type of the form cache.<family>.<size>, e.g. \"cache.r7g.large\" " +
        "(dax.* and db.* node types are not of the engine's family)");
    v.intRange("replicasPerShard", replicas, 0, 5);
    v.intRange("numShards", props.numShards, 1, 500);
    v.check(!(multiAz && replicas === 0), "multiAz", props.multiAz,
      "false when replicasPerShard is 0: multi-AZ needs a replica in another AZ to fail over to");
    v.check(replicas === 0 || props.network.availabilityZones.length >= 2, "network.availabilityZones",
      props.network.availabilityZones, "at least 2 availability zones when the cache has replicas (multi-AZ failover)");
    v.check(rgId.length >= 1 && rgId.length <= 40, "replicationGroupId", rgId, "1 to 40 characters");
    v.matches("replicationGroupId", rgId, CACHE_ID_RE,
      "lowercase letters, digits and single hyphens, starting with a letter and not ending with a hyphen");
    if (props.port !== undefined) v.intRange("port", port, 1024, 65535);
    v.intRange("snapshotRetentionLimit", retention, 0, 35);
    v.matches("snapshotWindow", snapshotWindow, DAILY_WINDOW_RE, "a daily UTC window \"hh24:mi-hh24:mi\", e.g. \"03:00-05:00\"");
    if (DAILY_WINDOW_RE.test(snapshotWindow)) {
      v.check(dailyWindowMinutes(snapshotWindow) >= 60, "snapshotWindow", snapshotWindow, "a window of at least 60 minutes");
    }
    v.matches("maintenanceWindow", maintenanceWindow, MAINTENANCE_WINDOW_RE,
      "a weekly UTC window \"ddd:hh24:mi-ddd:hh24:mi\" with ddd one of sun, mon, tue, wed, thu, fri, sat, e.g. \"sun:05:00-sun:07:00\"");
    if (MAINTENANCE_WINDOW_RE.test(maintenanceWindow)) {
      v.check(weeklyWindowMinutes(maintenanceWindow) >= 60, "maintenanceWindow", maintenanceWindow, "a window of at least 60 minutes");
      if (DAILY_WINDOW_RE.test(snapshotWindow)) {
        const day = dailyOverlapsWeekly(snapshotWindow, maintenanceWindow);
        v.check(day === undefined, "snapshotWindow", snapshotWindow,
          `a daily window that does not overlap maintenanceWindow (${maintenanceWindow}); on ${day} they overlap, and ElastiCache ` +
            "refuses a snapshot window that overlaps the maintenance window");
      }
    }
    v.oneOf("maxmemoryPolicy", maxmemoryPolicy, MAXMEMORY_POLICIES);
    v.kmsKeyArn("kmsKeyArn", props.kmsKeyArn);
    if (props.description !== undefined) {
      v.check(props.description.trim().length > 0, "description", props.description, "a non-empty description");
    }
    validateCacheAuth(v, auth, { engine: engine.name, version: engine.version, tls: true });
    v.throwIfAny();

    this.auth = auth;
    this.engine = engine;
    this.engineName = engine.name;
    this.engineVersion = engine.version;
    this.parameterGroupFamily = engine.family!;
    this.clusterMode = clusterMode;
    this.nodeType = nodeType;
    this.replicasPerShard = replicas;
    this.numShards = props.numShards ?? 1;
    this.multiAz = multiAz;
    this.memberClusterIds = memberClusterIds(rgId, clusterMode ? this.numShards : undefined, replicas);
    this.port = port;
    this.kmsKeyArn = props.kmsKeyArn;
    this.network = props.network;
    const baseName = physicalName(this, 200);

    // --- network
    this.securityGroup = new SecurityGroup(this, "sg", {
      vpcId: props.network.vpcId,
      description: `${engine.label} ${this.node.path}: port ${port} from wired clients only`,
    });
    this.connections = new Connections(this.securityGroup, port, engine.label);
    this.subnetGroup = new ElasticacheSubnetGroup(this, "subnets", {
      name: baseName,
      description: `Private subnets of ${this.node.path}`,
      subnetIds: [...props.network.privateSubnetIds],
    });

    // --- parameters
    const parameters: Array<{ name: string; value: string }> = [{ name: "maxmemory-policy", value: maxmemoryPolicy }];
    if (clusterMode) parameters.push({ name: "cluster-enabled", value: "yes" });
    this.parameterGroup = new ElasticacheParameterGroup(this, "parameters", {
      // The family is part of the name and the group is created before the old one is destroyed,
      // so an engine upgrade swaps groups instead of failing on a name clash or an in-use group.
      name: `${baseName}-${engine.family!.replace(/[^a-z0-9]+/g, "-").replace(/-+$/, "")}`,
      family: engine.family!,
      description: `${engine.label} ${engine.version} parameters of ${this.node.path}`,
      parameter: parameters,
      lifecycle: { createBeforeDestroy: true },
    });

    // --- AUTH token (token auth, and a migration away from it until it completes)
    if (auth.mode === "token") {
      this.authSecret = new SecretsmanagerSecret(this, "auth-secret", {
        // A prefix, not a name: a deleted secret keeps its name through the recovery window.
        namePrefix: `${baseName}-auth-`,
        description: `AUTH token of ${engine.label} replication group ${rgId} (${this.node.path})`,
        kmsKeyId: props.kmsKeyArn,
        // prod keeps a deleted token recoverable for 30 days; dev deletes at once so a stack can
        // be torn down and recreated under the same names.
        recoveryWindowInDays: byProfile(profile, { dev: 0, prod: 30 }),
      });
      this.authSecretVersion = new SecretsmanagerSecretVersion(this, "auth-secret-value", {
        secretId: this.authSecret.id,
        // uuid() is crypto-random and evaluated by Terraform at apply time, so the token is never
        // in this code, the synthesized JSON or a provider we do not have offline; two UUIDs without
        // hyphens give 64 hex characters (256 bits, within AUTH's 16–128 printable characters).
        secretString: Fn.replace(Fn.join("", [Fn.uuid(), Fn.uuid()]), "-", ""),
        // uuid() changes on every plan: the value is generated once, then kept.
        lifecycle: { ignoreChanges: ["secret_string"] },
      });
      this.authSecretArn = this.authSecret.arn;
      // Policy CF-SM-2 (secrets rotate) cannot hold for one token every client shares: a rotation would have
      // to reach all of them between ROTATE and SET. Per-user passwords rotate (CacheAuth.password()), IAM has none.
      suppressRule(this.authSecret, "CF-SM-2",
        "one AUTH token shared by every client is not rotated; CacheAuth.password() gives each function a rotated " +
          "password and CacheAuth.iam() needs no secret (help/caching.md#migrating-from-the-auth-token)");
    }

    // --- users (IAM, passwords, or a migration from the token under way)
    if (auth.usesUserGroup) {
      this.users = new CacheUsers(this, "users", {
        engine: engine.name,
        auth,
        cacheArn: Lazy.stringValue({ produce: () => this.replicationGroupArn }),
        cacheName: rgId,
        cacheArnType: "replicationgroup",
        serverless: false,
        legacyToken: this.authSecretVersion?.secretString,
        network: props.network,
        endpoint: { host: Lazy.stringValue({ produce: () => this.endpointAddress }), port, tls: true, clusterMode },
        allowFrom: (peer) => this.allowFrom(peer),
        kmsKeyArn: props.kmsKeyArn,
        profile,
      });
    }

    // --- logs
    // Under /aws/vendedlogs/ so the resource policy CloudWatch Logs adds for ElastiCache
    // delivery covers them without one policy per group (the account has only 10).
    this.slowLogGroup = new LogGroup(this, "slow-log", {
      name: `/aws/vendedlogs/elasticache/${baseName}/slow-log`,
      retentionDays: props.logRetentionDays,
      profile,
    });
    this.engineLogGroup = new LogGroup(this, "engine-log", {
      name: `/aws/vendedlogs/elasticache/${baseName}/engine-log`,
      retentionDays: props.logRetentionDays,
      profile,
    });

    // --- replication group
    this.replicationGroup = new ElasticacheReplicationGroup(this, "replication-group", {
      replicationGroupId: rgId,
      description: props.description ?? `${engine.label} cache ${this.node.path}`,
      engine: engine.name,
      engineVersion: engine.version,
      nodeType,
      port,
      parameterGroupName: this.parameterGroup.name,
      subnetGroupName: this.subnetGroup.name,
      securityGroupIds: [this.securityGroup.securityGroupId],
      ...(clusterMode
        ? { clusterMode: "enabled", numNodeGroups: props.numShards, replicasPerNodeGroup: replicas }
        : { clusterMode: "disabled", numCacheClusters: 1 + replicas }),
      // Cluster mode always needs failover (a shard without it cannot promote a replica).
      automaticFailoverEnabled: clusterMode || replicas >= 1,
      multiAzEnabled: multiAz,
      atRestEncryptionEnabled: "true",
      kmsKeyId: props.kmsKeyArn,
      transitEncryptionEnabled: true,
      transitEncryptionMode: "required",
      ...replicationGroupAuth(auth, this.authSecretVersion?.secretString, this.users?.userGroupId),
      autoMinorVersionUpgrade: "true",
      applyImmediately: byProfile(profile, { dev: true, prod: false }),
      snapshotRetentionLimit: retention,
      snapshotWindow,
      maintenanceWindow,
      finalSnapshotIdentifier: profile === "prod" ? `${rgId}-final` : undefined,
      logDeliveryConfiguration: [
        {
          destinationType: "cloudwatch-logs",
          destination: this.slowLogGroup.logGroupName,
          logFormat: "json",
          logType: "slow-log",
        },
        {
          destinationType: "cloudwatch-logs",
          destination: this.engineLogGroup.logGroupName,
          logFormat: "json",
          logType: "engine-log",
        },
      ],
    });

    this.replicationGroupId = this.replicationGroup.id;
    this.replicationGroupArn = this.replicationGroup.arn;
    if (clusterMode) {
      this.endpointAddress = this.replicationGroup.configurationEndpointAddress;
    } else {
      this.endpointAddress = this.replicationGroup.primaryEndpointAddress;
      this.readerEndpointAddress = this.replicationGroup.readerEndpointAddress;
    }
  }

  /** Lets `peer` reach the cache port: ingress here from its security group, egress there. */
  allowFrom(peer: IConnectable): void {
    this.connections.allowDefaultPortFrom(peer);
  }

  /**
   * Wires `client`: the cache port, and its own user (IAM: `elasticache:Connect` on this group and
   * that user; password: read on its secret) or, with token auth, read on the token secret.
   */
  connectFunction(client: ICacheClient, options: CacheConnectOptions): CacheConnection {
    this.allowFrom(client);
    const auth = redisClientAuth({ owner: this, auth: this.auth, users: this.users, tokenSecretArn: this.authSecretArn, network: this.network, kmsKeyArn: this.kmsKeyArn },
      client, options);
    return { backend: "redis", host: this.endpointAddress, port: this.port, tls: true, clusterMode: this.clusterMode, auth };
  }
}

/**
 * The replication group's authentication: the token (ROTATE keeps the old and the new token both
 * valid while clients pick up a new secret; SET straight away would cut off every client still
 * holding the old one), or the user group. Moving from the token to the group is one modify with
 * DELETE, which drops the token as the group attaches (help/caching.md#migrating-from-the-auth-token).
 */
function replicationGroupAuth(auth: CacheAuth, token: string | undefined, userGroupId: string | undefined): {
  authToken?: string; authTokenUpdateStrategy?: string; userGroupIds?: string[];
} {
  if (auth.mode === "token" && !auth.migration) return { authToken: token, authTokenUpdateStrategy: "ROTATE" };
  // DELETE stays after a migration: back to the provider's default (ROTATE) would be a modify that
  // sends ROTATE with no token. On a group created without a token it is never sent (create has no strategy).
  return { authTokenUpdateStrategy: "DELETE", userGroupIds: [userGroupId!] };
}

/** Member cache cluster ids ElastiCache gives the nodes of a replication group. */
function memberClusterIds(rgId: string, shards: number | undefined, replicas: number): string[] {
  const pad = (n: number, width: number) => String(n).padStart(width, "0");
  const nodes = Array.from({ length: 1 + replicas }, (_, i) => pad(i + 1, 3));
  if (shards === undefined) return nodes.map((n) => `${rgId}-${n}`);
  return Array.from({ length: shards }, (_, s) => nodes.map((n) => `${rgId}-${pad(s + 1, 4)}-${n}`)).flat();
}
