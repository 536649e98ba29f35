/**
 *   const cache = new RedisCache(this, "cache", { network, engine: CacheEngine.valkey("8.0") });
 *   fn.useCache(cache); // ingress from fn's SG on the cache port + read access to the AUTH secret
 */
import { ElasticacheParameterGroup } from "@cdktf/provider-aws/lib/elasticache-parameter-group";
import { ElasticacheReplicationGroup } from "@cdktf/provider-aws/lib/elasticache-replication-group";
import { ElasticacheSubnetGroup } from "@cdktf/provider-aws/lib/elasticache-subnet-group";
import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { SecretsmanagerSecretVersion } from "@cdktf/provider-aws/lib/secretsmanager-secret-version";
import { Fn } from "cdktf";
import { Construct, IConstruct } from "constructs";
import { CACHE_ID_RE, physicalName } from "../core/naming";
import { byProfile, Profile, profileOf } from "../core/profile";
import { DAILY_WINDOW_RE, MAINTENANCE_WINDOW_RE, PropsValidator } from "../core/validation";
import { dailyOverlapsWeekly, dailyWindowMinutes, weeklyWindowMinutes } from "../core/windows";
import { IGrantable, PolicyStatement } from "../iam";
import { LogGroup } from "../logs";
import type { INetwork } from "../network";
import { suppressRule } from "../policy";
import { Connections, IConnectable, SecurityGroup } from "../security-group";

/**
 * A Redis/Valkey cache a function can be wired to (`fn.useCache(cache)`), owned by this stack or not.
 */
export interface ICache extends IConnectable, IConstruct {
  /** Address clients connect to (primary endpoint, or configuration endpoint in cluster mode). */
  readonly endpointAddress: string;
  /** Port clients connect to (TLS). */
  readonly port: number;
  /** ARN of the secret holding the AUTH token. */
  readonly authSecretArn: string;
  /** True in cluster mode (clients must use the cluster protocol). */
  readonly clusterMode: boolean;
  /** The network the cache's nodes are in: only functions in the same VPC can reach it. */
  readonly network: INetwork;
  /** Lets `peer` reach the cache port. */
  allowFrom(peer: IConnectable): void;
  /** Lets `grantee` read the AUTH token secret. */
  grantAuthSecret(grantee: IGrantable): void;
}

/** Engines an ElastiCache replication group can run. */
export type CacheEngineName = "redis" | "valkey";
/** Redis OSS versions this construct supports. */
export type RedisVersion = "6.2" | "7.0" | "7.1";
/** Valkey versions this construct supports. */
export type ValkeyVersion = "7.2" | "8.0" | "8.1";

/** Supported versions and the parameter group family each belongs to. */
const FAMILIES: Record<CacheEngineName, Record<string, string>> = {
  redis: { "6.2": "redis6.x", "7.0": "redis7", "7.1": "redis7" },
  valkey: { "7.2": "valkey7", "8.0": "valkey8", "8.1": "valkey8" },
};

/** The version an engine runs when none is given. */
export const DEFAULT_ENGINE_VERSIONS: Readonly<Record<CacheEngineName, string>> = { valkey: "8.0", redis: "7.1" };

/**
 * An engine and version, e.g. `CacheEngine.valkey("8.0")`. The parameter group family is
 * derived from it, so the two can never disagree.
 */
export class CacheEngine {
  /** Valkey, the open-source fork of Redis OSS: same protocol, lower ElastiCache price. */
  static valkey(version: ValkeyVersion): CacheEngine {
    return new CacheEngine("valkey", version);
  }

  /** Redis OSS. */
  static redis(version: RedisVersion): CacheEngine {
    return new CacheEngine("redis", version);
  }

  /**
   * Engine and version from untyped config (e.g. an environment variable). Unsupported
   * combinations are reported by the construct that uses them, with its path.
   * @param version @default the engine's default version ({@link DEFAULT_ENGINE_VERSIONS})
   */
  static of(engine: CacheEngineName, version?: string): CacheEngine {
    return new CacheEngine(engine, version ?? DEFAULT_ENGINE_VERSIONS[engine]);
  }

  /** The default engine: Valkey at its default version. */
  static default(): CacheEngine {
    return CacheEngine.of("valkey");
  }

  private constructor(
    /** `redis` or `valkey`. */
    public readonly name: CacheEngineName,
    /** Major.minor version, e.g. `8.0`. */
    public readonly version: string,
  ) {}

  /** Parameter group family, e.g. `valkey8`; undefined for an unsupported version. */
  get family(): string | undefined {
    return FAMILIES[this.name]?.[this.version];
  }

  /** Versions supported for this engine. */
  get supportedVersions(): string[] {
    return Object.keys(FAMILIES[this.name] ?? {});
  }

  /** Human label used in descriptions, e.g. "Valkey". */
  get label(): string {
    return this.name === "valkey" ? "Valkey" : "Redis";
  }
}

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
   * Customer-managed KMS key ARN for at-rest encryption of the nodes, snapshots and the AUTH
   * secret. Encryption at rest and in transit is always on; only the key is a choice.
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
 * and in transit (TLS required), AUTH token generated by Terraform into Secrets Manager,
 * slow and engine logs in CloudWatch Logs, a security group that admits only wired clients,
 * and multi-AZ automatic failover whenever it has replicas.
 */
export class RedisCache extends Construct implements ICache {
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
  /** Secret holding the AUTH token. */
  public readonly authSecret: SecretsmanagerSecret;
  /** The secret's one version; its value is generated once and then left alone. */
  public readonly authSecretVersion: SecretsmanagerSecretVersion;
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
  /** @attribute ARN of the secret holding the AUTH token. */
  public readonly authSecretArn: string;
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
  private readonly region: string;

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

    const v = PropsValidator.for(this);
    v.oneOf("engine.name", engine.name, Object.keys(FAMILIES) as CacheEngineName[]);
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
    v.throwIfAny();

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
    this.region = props.network.region;
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

    // --- AUTH token
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
      secretString: Fn.replace(`${Fn.uuid()}${Fn.uuid()}`, "-", ""),
      // uuid() changes on every plan: the value is generated once, then kept.
      lifecycle: { ignoreChanges: ["secret_string"] },
    });
    this.authSecretArn = this.authSecret.arn;
    // Policy CF-SM-2 (secrets rotate) cannot hold yet: rotating this token means a rotator Lambda that sets the
    // new token on the group (ROTATE, then SET) before storing it, and there is none. Recorded, not hidden.
    suppressRule(this.authSecret, "CF-SM-2",
      "AUTH token rotation needs a Lambda rotator that updates the replication group (ROTATE, then SET) " +
        "before the secret; none exists yet, and Secrets Manager's managed rotation cannot change an ElastiCache AUTH token");

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
      authToken: this.authSecretVersion.secretString,
      // ROTATE keeps the old and the new token both valid while clients pick up the new secret;
      // a later apply with SET drops the old one. SET straight away would cut off every client
      // still holding the old token.
      authTokenUpdateStrategy: "ROTATE",
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
   * Lets `grantee` read the AUTH token: this one secret only, and the customer key (if any)
   * only when Secrets Manager uses it on the caller's behalf.
   */
  grantAuthSecret(grantee: IGrantable): void {
    const statements: PolicyStatement[] = [
      { actions: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], resources: [this.authSecretArn] },
    ];
    if (this.kmsKeyArn) {
      statements.push({
        actions: ["kms:Decrypt"],
        resources: [this.kmsKeyArn],
        conditions: { StringEquals: { "kms:ViaService": `secretsmanager.${this.region}.amazonaws.com` } },
      });
    }
    grantee.grantPrincipal.addToPrincipalPolicy(`read-auth-${physicalName(this, 100)}`, statements);
  }
}

/** Member cache cluster ids ElastiCache gives the nodes of a replication group. */
function memberClusterIds(rgId: string, shards: number | undefined, replicas: number): string[] {
  const pad = (n: number, width: number) => String(n).padStart(width, "0");
  const nodes = Array.from({ length: 1 + replicas }, (_, i) => pad(i + 1, 3));
  if (shards === undefined) return nodes.map((n) => `${rgId}-${n}`);
  return Array.from({ length: shards }, (_, s) => nodes.map((n) => `${rgId}-${pad(s + 1, 4)}-${n}`)).flat();
}
