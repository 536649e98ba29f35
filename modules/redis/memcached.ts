/**
 *   const cache = new MemcachedCache(this, "cache", { network });
 *   fn.useCache(cache); // ingress from fn's SG on 11211, MEMCACHED_HOST/PORT/TLS in fn's environment
 *
 * ElastiCache for Memcached (node-based): simple keys and values, multi-threaded nodes, no
 * replication, no AUTH (the security group is the only gate; TLS keeps values private on the
 * wire). The runtime's memcached store cannot do a sliding window, so a function whose contract
 * needs one cannot be wired to it (a synth error).
 */
import { ElasticacheCluster } from "@cdktf/provider-aws/lib/elasticache-cluster";
import { ElasticacheParameterGroup } from "@cdktf/provider-aws/lib/elasticache-parameter-group";
import { ElasticacheSubnetGroup } from "@cdktf/provider-aws/lib/elasticache-subnet-group";
import { Construct } from "constructs";
import { CACHE_ID_RE, physicalName } from "../core/naming";
import { byProfile, Profile, profileOf } from "../core/profile";
import { MAINTENANCE_WINDOW_RE, PropsValidator } from "../core/validation";
import type { INetwork } from "../network";
import { Connections, IConnectable, SecurityGroup } from "../security-group";
import { CacheConnection, ICache, ICacheClient } from "./cache";

/** Memcached versions this construct supports: those with in-transit encryption (≥ 1.6.12). */
export const MEMCACHED_VERSIONS = ["1.6.22", "1.6.17", "1.6.12"] as const;
/** A supported Memcached version. */
export type MemcachedVersion = (typeof MEMCACHED_VERSIONS)[number];

const NODE_TYPE_RE = /^cache\.[a-z0-9]+\.[a-z0-9]+$/;

/** Props of {@link MemcachedCache}. */
export interface MemcachedCacheProps {
  /** VPC whose private subnets host the nodes. */
  readonly network: INetwork;
  /**
   * Engine version (only versions with in-transit encryption).
   * @default "1.6.22"
   */
  readonly engineVersion?: MemcachedVersion;
  /**
   * Node type, `cache.<family>.<size>`.
   * @default "cache.r7g.large" in prod, "cache.t4g.micro" in dev
   */
  readonly nodeType?: string;
  /**
   * Nodes (1–40). With 2 or more they are spread over the network's AZs (`az_mode = "cross-az"`),
   * so one AZ's loss empties only its share of a sharding client's keys. The runtime's store
   * connects to the first node only; more nodes serve clients that shard by key.
   * @default 2 in prod, 1 in dev
   */
  readonly numNodes?: number;
  /**
   * Port (1024–65535).
   * @default 11211
   */
  readonly port?: number;
  /**
   * Engine parameters of the cache's own parameter group (family `memcached1.6`), e.g. `{ max_item_size: "2097152" }`.
   * @default none changed
   */
  readonly parameters?: Readonly<Record<string, string>>;
  /**
   * Weekly UTC maintenance window, `ddd:hh24:mi-ddd:hh24:mi`.
   * @default "sun:05:00-sun:07:00"
   */
  readonly maintenanceWindow?: string;
  /**
   * Cluster id: 1–40 lowercase letters, digits and single hyphens, starting with a letter.
   * @default derived from the construct path
   */
  readonly clusterId?: string;
  /**
   * Deployment profile.
   * @default the enclosing stack's profile, else `prod`
   */
  readonly profile?: Profile;
}

/** An ElastiCache Memcached cluster: TLS in transit, nodes across AZs in prod, its own parameter group. */
export class MemcachedCache extends Construct implements ICache {
  /** @attribute `memcached`: clients use the runtime's memcached store. */
  public readonly backend = "memcached" as const;
  /** The Terraform `aws_elasticache_cluster` resource. */
  public readonly cluster: ElasticacheCluster;
  /** The cluster's parameter group (family `memcached1.6`). */
  public readonly parameterGroup: ElasticacheParameterGroup;
  /** Subnet group over the network's private subnets. */
  public readonly subnetGroup: ElasticacheSubnetGroup;
  /** The cluster's security group: ingress only from wired clients. */
  public readonly securityGroup: SecurityGroup;
  /** The cluster's security group and port, for wiring. */
  public readonly connections: Connections;
  /** Nodes, after defaults. */
  public readonly numNodes: number;
  /** Node type, after defaults. */
  public readonly nodeType: string;
  /** @attribute The first node's address: where the runtime's store connects. */
  public readonly endpointAddress: string;
  /** @attribute The configuration endpoint (auto discovery of every node). */
  public readonly configurationEndpoint: string;
  /** @attribute Port. */
  public readonly port: number;
  /** Always false: Memcached has no cluster protocol. */
  public readonly clusterMode = false;
  /** The cluster's id (the `CacheClusterId` of its metrics). */
  public readonly clusterId: string;
  /** The network the nodes run in. */
  public readonly network: INetwork;

  constructor(scope: Construct, id: string, props: MemcachedCacheProps) {
    super(scope, id);
    const profile = profileOf(this, props.profile);
    const version = props.engineVersion ?? "1.6.22";
    const nodeType = props.nodeType ?? byProfile(profile, { dev: "cache.t4g.micro", prod: "cache.r7g.large" });
    const numNodes = props.numNodes ?? byProfile(profile, { dev: 1, prod: 2 });
    const port = props.port ?? 11211;
    const clusterId = props.clusterId ?? physicalName(this, 40);
    const maintenanceWindow = props.maintenanceWindow ?? "sun:05:00-sun:07:00";
    const azs = props.network.availabilityZones;

    const v = PropsValidator.for(this);
    v.oneOf("engineVersion", version, MEMCACHED_VERSIONS);
    v.check(NODE_TYPE_RE.test(nodeType), "nodeType", nodeType, "an ElastiCache node type of the form cache.<family>.<size>");
    v.intRange("numNodes", numNodes, 1, 40);
    v.check(numNodes < 2 || azs.length >= 2, "network.availabilityZones", azs, "at least 2 availability zones for nodes across AZs");
    if (props.port !== undefined) v.intRange("port", port, 1024, 65535);
    v.matches("clusterId", clusterId, CACHE_ID_RE, "lowercase letters, digits and single hyphens, starting with a letter and not ending with a hyphen");
    v.check(clusterId.length <= 40, "clusterId", clusterId, "at most 40 characters");
    v.matches("maintenanceWindow", maintenanceWindow, MAINTENANCE_WINDOW_RE, "a weekly UTC window \"ddd:hh24:mi-ddd:hh24:mi\"");
    v.throwIfAny();

    this.numNodes = numNodes;
    this.clusterId = clusterId;
    this.nodeType = nodeType;
    this.port = port;
    this.network = props.network;
    const baseName = physicalName(this, 200);
    this.securityGroup = new SecurityGroup(this, "sg", {
      vpcId: props.network.vpcId,
      description: `Memcached ${this.node.path}: port ${port} from wired clients only`,
    });
    this.connections = new Connections(this.securityGroup, port, "Memcached");
    this.subnetGroup = new ElasticacheSubnetGroup(this, "subnets", {
      name: baseName,
      description: `Private subnets of ${this.node.path}`,
      subnetIds: [...props.network.privateSubnetIds],
    });
    this.parameterGroup = new ElasticacheParameterGroup(this, "parameters", {
      name: `${baseName}-memcached1-6`,
      family: "memcached1.6",
      description: `Memcached ${version} parameters of ${this.node.path}`,
      parameter: Object.entries(props.parameters ?? {}).map(([name, value]) => ({ name, value })),
      lifecycle: { createBeforeDestroy: true },
    });
    this.cluster = new ElasticacheCluster(this, "cluster", {
      clusterId,
      engine: "memcached",
      engineVersion: version,
      nodeType,
      numCacheNodes: numNodes,
      port,
      parameterGroupName: this.parameterGroup.name,
      subnetGroupName: this.subnetGroup.name,
      securityGroupIds: [this.securityGroup.securityGroupId],
      transitEncryptionEnabled: true,
      ...(numNodes >= 2
        ? { azMode: "cross-az", preferredAvailabilityZones: Array.from({ length: numNodes }, (_, i) => azs[i % azs.length]) }
        : { azMode: "single-az" }),
      maintenanceWindow,
      applyImmediately: byProfile(profile, { dev: true, prod: false }),
    });
    this.endpointAddress = this.cluster.cacheNodes.get(0).address;
    this.configurationEndpoint = this.cluster.clusterAddress;
  }

  /** Lets `peer` reach the cache port: ingress here, egress there. */
  allowFrom(peer: IConnectable): void {
    this.connections.allowDefaultPortFrom(peer);
  }

  /** Wires `client`: the port only (Memcached has no users), and where to connect. */
  connectFunction(client: ICacheClient): CacheConnection {
    this.allowFrom(client);
    return { backend: "memcached", host: this.endpointAddress, port: this.port, tls: true, clusterMode: false, auth: { mode: "none" } };
  }
}
