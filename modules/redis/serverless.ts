/**
 *   const cache = new ServerlessCache(this, "cache", { network, maxDataStorageGb: 10, maxEcpuPerSecond: 5000 });
 *   fn.useCache(cache); // cluster protocol over TLS to one endpoint, fn's own IAM user (REDIS_SERVERLESS=true)
 *
 * ElastiCache Serverless (Valkey): no nodes to size; billed per GB-hour stored (at least the
 * engine's metered minimum) and per ECPU. Usage limits cap both, so a runaway client cannot run up
 * the bill; help/caching.md#serverless-or-nodes says when it is cheaper than nodes.
 */
import { ElasticacheServerlessCache } from "@cdktf/provider-aws/lib/elasticache-serverless-cache";
import { Lazy } from "cdktf";
import { Construct } from "constructs";
import { CACHE_ID_RE, physicalName } from "../core/naming";
import { byProfile, Profile, profileOf } from "../core/profile";
import { PropsValidator } from "../core/validation";
import type { INetwork } from "../network";
import { Connections, IConnectable, SecurityGroup } from "../security-group";
import { CacheAuth, CacheUsers, validateCacheAuth } from "./auth";
import { CacheConnection, CacheConnectOptions, ICache, ICacheClient } from "./cache";

/** Serverless engines and their major versions. */
export type ServerlessEngine = { readonly name: "valkey"; readonly majorVersion: "7" | "8" } | { readonly name: "redis"; readonly majorVersion: "7" };

/** Default usage limits: what a cache in front of one service's table rarely needs more of. */
export const SERVERLESS_DEFAULT_LIMITS = {
  /** GB of data stored, at most. */
  maxDataStorageGb: { dev: 1, prod: 10 },
  /** ECPUs per second, at most (one ECPU ≈ one small GET/SET). */
  maxEcpuPerSecond: { dev: 1_000, prod: 10_000 },
} as const;

const KMS_KEY_ARN_RE = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;

/** Props of {@link ServerlessCache}. */
export interface ServerlessCacheProps {
  /** VPC whose private subnets the cache's endpoints are in (2 or 3 of them). */
  readonly network: INetwork;
  /**
   * Engine and major version.
   * @default { name: "valkey", majorVersion: "8" } — Valkey's serverless storage and ECPUs cost a third less than Redis OSS's, and its metered minimum is 100 MB, not 1 GB
   */
  readonly engine?: ServerlessEngine;
  /**
   * How clients authenticate: `CacheAuth.iam()` or `CacheAuth.password()` (Serverless has no AUTH token).
   * @default CacheAuth.iam()
   */
  readonly auth?: CacheAuth;
  /**
   * Most data stored, in GB (1–5000): writes beyond it are refused, so the storage bill has a ceiling.
   * @default 10 in prod, 1 in dev
   */
  readonly maxDataStorageGb?: number;
  /**
   * Most ECPUs per second (1000–15,000,000): requests beyond it are throttled, so the request bill has a ceiling.
   * @default 10000 in prod, 1000 in dev
   */
  readonly maxEcpuPerSecond?: number;
  /**
   * Customer-managed KMS key ARN for data at rest and snapshots (and password secrets).
   * @default AWS-managed key
   */
  readonly kmsKeyArn?: string;
  /**
   * Days to keep daily snapshots (0–35, 0 turns them off).
   * @default 7 in prod, 1 in dev
   */
  readonly snapshotRetentionLimit?: number;
  /**
   * UTC time of the daily snapshot, `hh24:mi`.
   * @default "03:00"
   */
  readonly dailySnapshotTime?: string;
  /**
   * Cache name: 1–40 lowercase letters, digits and single hyphens, starting with a letter.
   * @default derived from the construct path
   */
  readonly cacheName?: string;
  /**
   * Deployment profile.
   * @default the enclosing stack's profile, else `prod`
   */
  readonly profile?: Profile;
}

/** An ElastiCache Serverless Valkey (or Redis OSS) cache: TLS always, user group always, usage limits always. */
export class ServerlessCache extends Construct implements ICache {
  /** @attribute `redis`: clients speak the Redis protocol. */
  public readonly backend = "redis" as const;
  /** The Terraform `aws_elasticache_serverless_cache` resource. */
  public readonly resource: ElasticacheServerlessCache;
  /** The cache's security group: ingress only from wired clients. */
  public readonly securityGroup: SecurityGroup;
  /** The cache's security group and port, for wiring. */
  public readonly connections: Connections;
  /** The user group and each wired function's user. */
  public readonly users: CacheUsers;
  /** How clients authenticate, after defaults. */
  public readonly auth: CacheAuth;
  /** Engine in force. */
  public readonly engine: ServerlessEngine;
  /** Usage limits in force. */
  public readonly limits: { readonly maxDataStorageGb: number; readonly maxEcpuPerSecond: number };
  /** @attribute The cache's name (IAM tokens are signed for it). */
  public readonly cacheName: string;
  /** @attribute The endpoint clients connect to. */
  public readonly endpointAddress: string;
  /** @attribute Port of the endpoint (6379). */
  public readonly port = 6379;
  /** Always true: clients use the cluster protocol against the one endpoint. */
  public readonly clusterMode = true;
  /** The network the endpoints are in. */
  public readonly network: INetwork;

  constructor(scope: Construct, id: string, props: ServerlessCacheProps) {
    super(scope, id);
    const profile = profileOf(this, props.profile);
    const engine = props.engine ?? { name: "valkey", majorVersion: "8" };
    const auth = props.auth ?? CacheAuth.iam();
    const name = props.cacheName ?? physicalName(this, 40);
    const maxDataStorageGb = props.maxDataStorageGb ?? byProfile(profile, SERVERLESS_DEFAULT_LIMITS.maxDataStorageGb);
    const maxEcpuPerSecond = props.maxEcpuPerSecond ?? byProfile(profile, SERVERLESS_DEFAULT_LIMITS.maxEcpuPerSecond);
    const retention = props.snapshotRetentionLimit ?? byProfile(profile, { dev: 1, prod: 7 });
    const snapshotTime = props.dailySnapshotTime ?? "03:00";
    const subnets = props.network.privateSubnetIds.slice(0, 3);

    const v = PropsValidator.for(this);
    v.oneOf("engine.name", engine.name, ["valkey", "redis"] as const);
    v.check((engine.name === "valkey" && ["7", "8"].includes(engine.majorVersion)) || (engine.name === "redis" && engine.majorVersion === "7"),
      "engine.majorVersion", engine.majorVersion, "\"7\" or \"8\" for valkey, \"7\" for redis");
    // Serverless runs the latest minor of its major: Valkey 7 is 7.2, so every engine here accepts IAM.
    validateCacheAuth(v, auth, { engine: engine.name, version: engine.name === "valkey" && engine.majorVersion === "7" ? "7.2" : engine.majorVersion, tls: true, serverless: true });
    v.intRange("maxDataStorageGb", maxDataStorageGb, 1, 5_000);
    v.intRange("maxEcpuPerSecond", maxEcpuPerSecond, 1_000, 15_000_000);
    v.intRange("snapshotRetentionLimit", retention, 0, 35);
    v.matches("dailySnapshotTime", snapshotTime, /^([01]\d|2[0-3]):[0-5]\d$/, "a UTC time \"hh24:mi\", e.g. \"03:00\"");
    v.matches("cacheName", name, CACHE_ID_RE, "1-40 lowercase letters, digits and single hyphens, starting with a letter");
    v.check(name.length <= 40, "cacheName", name, "at most 40 characters");
    v.matches("kmsKeyArn", props.kmsKeyArn, KMS_KEY_ARN_RE, "a KMS key ARN, arn:aws:kms:<region>:<account>:key/<id>");
    v.check(subnets.length >= 2, "network.privateSubnetIds", props.network.privateSubnetIds, "at least 2 private subnets (ElastiCache Serverless spans 2 or 3 AZs)");
    v.throwIfAny();

    this.engine = engine;
    this.auth = auth;
    this.limits = { maxDataStorageGb, maxEcpuPerSecond };
    this.cacheName = name;
    this.network = props.network;
    const label = engine.name === "valkey" ? "Valkey Serverless" : "Redis Serverless";
    this.securityGroup = new SecurityGroup(this, "sg", {
      vpcId: props.network.vpcId,
      description: `${label} ${this.node.path}: port ${this.port} from wired clients only`,
    });
    this.connections = new Connections(this.securityGroup, this.port, label);
    this.users = new CacheUsers(this, "users", {
      engine: engine.name,
      auth,
      cacheArn: Lazy.stringValue({ produce: () => this.resource.arn }),
      cacheName: name,
      cacheArnType: "serverlesscache",
      serverless: true,
      network: props.network,
      endpoint: { host: Lazy.stringValue({ produce: () => this.endpointAddress }), port: this.port, tls: true, clusterMode: true },
      allowFrom: (peer) => this.allowFrom(peer),
      kmsKeyArn: props.kmsKeyArn,
      profile,
    });
    this.resource = new ElasticacheServerlessCache(this, "cache", {
      name,
      engine: engine.name,
      majorEngineVersion: engine.majorVersion,
      description: `${label} cache ${this.node.path}`,
      cacheUsageLimits: [{
        dataStorage: [{ maximum: maxDataStorageGb, unit: "GB" }],
        ecpuPerSecond: [{ maximum: maxEcpuPerSecond }],
      }],
      kmsKeyId: props.kmsKeyArn,
      securityGroupIds: [this.securityGroup.securityGroupId],
      subnetIds: subnets,
      snapshotRetentionLimit: retention,
      dailySnapshotTime: snapshotTime,
      userGroupId: this.users.userGroupId,
    });
    // Terraform exposes the endpoint as a one-element list of objects.
    this.endpointAddress = this.resource.endpoint.get(0).address;
  }

  /** Lets `peer` reach port 6379: ingress here, egress there. */
  allowFrom(peer: IConnectable): void {
    this.connections.allowDefaultPortFrom(peer);
  }

  /** Wires `client`: the port, its own user in the group, and the grants that user needs. */
  connectFunction(client: ICacheClient, options: CacheConnectOptions): CacheConnection {
    this.allowFrom(client);
    const auth = this.users.addClient(client, options);
    return { backend: "redis", host: this.endpointAddress, port: this.port, tls: true, clusterMode: true, auth };
  }
}
