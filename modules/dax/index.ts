/**
 *   const dax = new DaxCluster(this, "dax", { network, tables: [{ tableArn: table.tableArn }] });
 *   fn.useDax(dax);   // ingress on 9111 from fn only, dax:GetItem… on this cluster, DAX_ENDPOINT
 */
import { DaxCluster as TfDaxCluster } from "@cdktf/provider-aws/lib/dax-cluster";
import { DaxParameterGroup } from "@cdktf/provider-aws/lib/dax-parameter-group";
import { DaxSubnetGroup } from "@cdktf/provider-aws/lib/dax-subnet-group";
import { Token } from "cdktf";
import { Construct, IConstruct } from "constructs";
import { CACHE_ID_RE, physicalName } from "../core/naming";
import { byProfile, Profile, profileOf } from "../core/profile";
import { MAINTENANCE_WINDOW_RE, PropsValidator } from "../core/validation";
import { IGrantable, Role } from "../iam";
import { TABLE_ARN_RE } from "../table";
import type { INetwork } from "../network";
import { Connections, IConnectable, SecurityGroup } from "../security-group";

/** A DAX cluster a function can be wired to (`fn.useDax(dax)`), owned by this stack or not. */
export interface IDaxCluster extends IConnectable, IConstruct {
  /** `daxs://…:9111` discovery endpoint (daxs: the cluster only accepts TLS). */
  readonly discoveryEndpoint: string;
  /** The network the nodes are in: only functions in the same VPC can reach them. */
  readonly network: INetwork;
  /** ARNs of the tables the cluster fronts: a function's table must be one of them. */
  readonly tableArns: readonly string[];
  /** Lets `peer` reach the cluster's TLS port. */
  allowFrom(peer: IConnectable): void;
  /** Lets `grantee` call the DAX data-plane actions on this cluster. */
  grantAccess(grantee: IGrantable): void;
}

/** A DynamoDB table the cluster fronts. */
export interface DaxTableRef {
  /** ARN of the table, e.g. `arn:aws:dynamodb:us-east-1:123456789012:table/Sessions`. */
  readonly tableArn: string;
}

/** Props of {@link DaxCluster}. */
export interface DaxClusterProps {
  /** The VPC the nodes run in: a subnet group over all its private subnets. */
  readonly network: INetwork;
  /**
   * The tables the cluster fronts (at least one). The DAX service role may read and write
   * these tables and their indexes, and nothing else.
   */
  readonly tables: readonly DaxTableRef[];
  /**
   * Node type; must be a DAX type (`dax.<family>.<size>`), ElastiCache `cache.*` types do not work.
   * @default "dax.r5.large" in prod, "dax.t3.small" in dev
   */
  readonly nodeType?: string;
  /**
   * Number of nodes (1–10): one primary and `n - 1` read replicas. Above 1 the nodes go to
   * distinct AZs of the network: `availability_zones` is pinned to the first `n` AZs when the
   * network has at least `n`, else left to DAX, which spreads the nodes over the subnet
   * group's AZs (the provider stores the list as a set, so a repeated AZ would be dropped and
   * the list would no longer match the node count, which the DAX API rejects).
   * Caveat: `availability_zones` forces replacement when it changes, so moving between
   * factors that pin different AZ lists (e.g. 2 → 3 on a 3-AZ network) recreates the cluster
   * and empties its cache.
   * @default 3 in prod (one node per AZ: survives an AZ outage), 1 in dev
   */
  readonly replicationFactor?: number;
  /**
   * How long an item fetched by GetItem/BatchGetItem stays in the item cache, in ms
   * (0 to 2,592,000,000 = 30 days; 0 disables the item cache). Writes through DAX update the
   * item cache; writes made directly to DynamoDB are invisible to DAX until this expires.
   * @default 300000 (5 minutes)
   */
  readonly recordTtlMillis?: number;
  /**
   * How long a Query/Scan result stays in the query cache, in ms (0 to 2,592,000,000).
   * Consistency caveat: the query cache is NOT invalidated by writes, not even writes through
   * DAX, so this value is the upper bound on how stale a Query or Scan result can be. Keep it
   * short, or set 0 for tables whose query results must reflect recent writes.
   * @default 60000 (1 minute): the query cache is never invalidated, so its TTL is the staleness bound
   */
  readonly queryTtlMillis?: number;
  /**
   * Cluster name: 1–20 lowercase letters, digits and single hyphens, starting with a letter
   * and not ending with a hyphen.
   * @default derived from the construct path (≤ 20 characters)
   */
  readonly clusterName?: string;
  /**
   * Weekly maintenance window, `ddd:hh24:mi-ddd:hh24:mi` in UTC.
   * @default "sun:05:00-sun:06:00"
   */
  readonly maintenanceWindow?: string;
  /**
   * What the cluster is for.
   * @default "DAX in front of <n> DynamoDB table(s) (<construct path>)"
   */
  readonly description?: string;
  /**
   * Deployment profile.
   * @default the enclosing stack's profile, else `prod`
   */
  readonly profile?: Profile;
}

/** The TLS port of a DAX cluster endpoint (8111 is the plaintext port, never used here). */
export const DAX_TLS_PORT = 9111;
/** Upper bound of the DAX TTL parameters: 30 days in ms. */
export const DAX_MAX_TTL_MILLIS = 2_592_000_000;
const DAX_NODE_TYPE_RE = /^dax\.[a-z0-9]+\.[a-z0-9]+$/;

/** Actions the DAX service role needs on the fronted tables (read-through and write-through). */
const DAX_ROLE_DYNAMODB_ACTIONS = [
  "dynamodb:GetItem",
  "dynamodb:BatchGetItem",
  "dynamodb:Query",
  "dynamodb:Scan",
  "dynamodb:PutItem",
  "dynamodb:UpdateItem",
  "dynamodb:DeleteItem",
  "dynamodb:BatchWriteItem",
  "dynamodb:ConditionCheckItem",
  "dynamodb:DescribeTable",
] as const;

/** Data-plane actions a client needs to use the cluster through the DAX SDK. */
export const DAX_DATA_ACTIONS = [
  "dax:GetItem",
  "dax:BatchGetItem",
  "dax:Query",
  "dax:Scan",
  "dax:PutItem",
  "dax:UpdateItem",
  "dax:DeleteItem",
  "dax:BatchWriteItem",
  "dax:ConditionCheckItem",
] as const;

/**
 * A DynamoDB Accelerator cluster in the network's private subnets: encrypted at rest and in
 * transit (TLS endpoint on 9111) in every profile, its own security group opened only by
 * wiring, and a service role limited to the tables it fronts.
 */
export class DaxCluster extends Construct implements IDaxCluster {
  /** The Terraform `aws_dax_cluster` resource. */
  public readonly resource: TfDaxCluster;
  /** Subnet group over the network's private subnets. */
  public readonly subnetGroup: DaxSubnetGroup;
  /** Parameter group holding the record and query TTLs. */
  public readonly parameterGroup: DaxParameterGroup;
  /** The cluster's security group: ingress only on 9111, only from wired clients. */
  public readonly securityGroup: SecurityGroup;
  /** The cluster's security group and TLS port, for wiring (`allowFrom`). */
  public readonly connections: Connections;
  /** Role DAX assumes to reach the tables. */
  public readonly role: Role;
  /**
   * @attribute `daxs://<cluster address>:9111`, the discovery endpoint DAX clients take. The
   * `daxs` scheme makes the client speak TLS, which a TLS-only cluster requires.
   */
  public readonly discoveryEndpoint: string;
  /** @attribute The cluster's ARN. */
  public readonly clusterArn: string;
  /** @attribute The cluster's name. */
  public readonly clusterName: string;
  /** @attribute DNS name of the discovery endpoint. */
  public readonly clusterAddress: string;
  /** @attribute Always {@link DAX_TLS_PORT}. */
  public readonly port: number = DAX_TLS_PORT;
  /** The node type in use (after defaults). */
  public readonly nodeType: string;
  /** The node count in use (after defaults). */
  public readonly replicationFactor: number;
  /** The network the nodes run in. */
  public readonly network: INetwork;
  /** ARNs of the tables the cluster fronts. */
  public readonly tableArns: readonly string[];
  private readonly accessPolicyName: string;

  constructor(scope: Construct, id: string, props: DaxClusterProps) {
    super(scope, id);
    const profile = profileOf(this, props.profile);
    const nodeType = props.nodeType ?? byProfile(profile, { dev: "dax.t3.small", prod: "dax.r5.large" });
    const replicationFactor = props.replicationFactor ?? byProfile(profile, { dev: 1, prod: 3 });
    const recordTtl = props.recordTtlMillis ?? 300_000;
    const queryTtl = props.queryTtlMillis ?? 60_000;
    const clusterName = props.clusterName ?? physicalName(this, 20);
    const maintenanceWindow = props.maintenanceWindow ?? "sun:05:00-sun:06:00";
    const azs = props.network.availabilityZones;

    const v = PropsValidator.for(this)
      .check(props.tables.length >= 1, "tables", props.tables, "at least one table for the cluster to front")
      .matches("nodeType", nodeType, DAX_NODE_TYPE_RE,
        "a DAX node type such as \"dax.r5.large\" or \"dax.t3.small\"; this is not a DAX node type (ElastiCache \"cache.*\" types do not work)")
      .intRange("replicationFactor", replicationFactor, 1, 10)
      .intRange("recordTtlMillis", recordTtl, 0, DAX_MAX_TTL_MILLIS)
      .intRange("queryTtlMillis", queryTtl, 0, DAX_MAX_TTL_MILLIS)
      .check(clusterName.length >= 1 && clusterName.length <= 20, "clusterName", clusterName, "1 to 20 characters")
      .matches("clusterName", clusterName, CACHE_ID_RE,
        "lowercase letters, digits and single hyphens, starting with a letter and not ending with a hyphen")
      .matches("maintenanceWindow", maintenanceWindow, MAINTENANCE_WINDOW_RE,
        "a weekly window \"ddd:hh24:mi-ddd:hh24:mi\" in UTC, e.g. \"sun:05:00-sun:06:00\"");
    if (replicationFactor > 1) {
      v.check(azs.length >= 2, "replicationFactor", replicationFactor,
        `1, or a network with at least 2 availability zones so the nodes can be spread (network has ${azs.length})`);
    }
    props.tables.forEach((t, i) => {
      v.matches(`tables[${i}].tableArn`, t.tableArn, TABLE_ARN_RE,
        "a DynamoDB table ARN, e.g. \"arn:aws:dynamodb:us-east-1:123456789012:table/Sessions\"");
    });
    if (props.description !== undefined) {
      v.check(props.description.length <= 255, "description", props.description, "at most 255 characters");
    }
    v.throwIfAny();
    this.nodeType = nodeType;
    this.replicationFactor = replicationFactor;
    this.network = props.network;
    this.tableArns = props.tables.map((t) => t.tableArn);

    this.securityGroup = new SecurityGroup(this, "sg", {
      vpcId: props.network.vpcId,
      description: `DAX ${clusterName}: TLS port ${DAX_TLS_PORT} from wired clients only`,
    });
    this.connections = new Connections(this.securityGroup, DAX_TLS_PORT, "DAX");

    this.subnetGroup = new DaxSubnetGroup(this, "subnets", {
      name: `${clusterName}-subnets`,
      description: `Private subnets of DAX ${clusterName}`,
      subnetIds: [...props.network.privateSubnetIds],
    });

    this.parameterGroup = new DaxParameterGroup(this, "params", {
      name: `${clusterName}-params`,
      description: `Cache TTLs of DAX ${clusterName}`,
      parameters: [
        { name: "query-ttl-millis", value: String(queryTtl) },
        { name: "record-ttl-millis", value: String(recordTtl) },
      ],
    });

    this.role = new Role(this, "role", {
      assumedBy: "dax.amazonaws.com",
      description: `Lets DAX ${clusterName} (${this.node.path}) read and write the tables it fronts`,
    });
    const tableArns = this.tableArns;
    this.role.addToPrincipalPolicy("dynamodb-tables", [
      {
        actions: [...DAX_ROLE_DYNAMODB_ACTIONS],
        resources: tableArns.flatMap((arn) => [arn, `${arn}/index/*`]),
      },
    ]);

    // Pin one node per distinct AZ only when the list can have exactly `replicationFactor`
    // entries: the provider dedupes the list (it is a set) and the API rejects a length mismatch.
    const pinAzs = replicationFactor > 1 && replicationFactor <= azs.length;

    this.resource = new TfDaxCluster(this, "cluster", {
      clusterName,
      description: props.description ?? `DAX in front of ${tableArns.length} DynamoDB table(s) (${this.node.path})`,
      iamRoleArn: this.role.roleArn,
      nodeType,
      replicationFactor,
      availabilityZones: pinAzs ? azs.slice(0, replicationFactor) : undefined,
      subnetGroupName: this.subnetGroup.name,
      parameterGroupName: this.parameterGroup.name,
      securityGroupIds: [this.securityGroup.securityGroupId],
      maintenanceWindow,
      serverSideEncryption: { enabled: true },
      clusterEndpointEncryptionType: "TLS",
      // DAX validates the role's access when it creates the cluster.
      dependsOn: [this.role.policyResource("dynamodb-tables")!],
    });

    this.clusterArn = this.resource.arn;
    this.clusterName = this.resource.clusterName;
    this.clusterAddress = this.resource.clusterAddress;
    this.discoveryEndpoint = `daxs://${this.resource.clusterAddress}:${Token.asString(this.resource.port)}`;
    this.accessPolicyName = `dax-${physicalName(this, 60)}`;
  }

  /** Lets `peer` reach the cluster's TLS port (ingress here, egress on the peer). */
  allowFrom(peer: IConnectable): void {
    this.connections.allowDefaultPortFrom(peer);
  }

  /**
   * Gives `grantee` the DAX data-plane actions on this cluster only, as one inline policy.
   * Idempotent.
   */
  grantAccess(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(this.accessPolicyName, [
      { actions: [...DAX_DATA_ACTIONS], resources: [this.clusterArn] },
    ]);
  }
}
