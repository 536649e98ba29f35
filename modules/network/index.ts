/**
 * A VPC for caches and the functions that use them: private subnets in every AZ given,
 * a DynamoDB gateway endpoint, flow logs and a locked default security group.
 *
 *   const network = new Network(this, "network", { availabilityZones: ["eu-west-1a", "eu-west-1b"] });
 */
import { DefaultSecurityGroup } from "@cdktf/provider-aws/lib/default-security-group";
import { Eip } from "@cdktf/provider-aws/lib/eip";
import { FlowLog } from "@cdktf/provider-aws/lib/flow-log";
import { InternetGateway } from "@cdktf/provider-aws/lib/internet-gateway";
import { NatGateway } from "@cdktf/provider-aws/lib/nat-gateway";
import { Route } from "@cdktf/provider-aws/lib/route";
import { RouteTable } from "@cdktf/provider-aws/lib/route-table";
import { RouteTableAssociation } from "@cdktf/provider-aws/lib/route-table-association";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { VpcEndpoint } from "@cdktf/provider-aws/lib/vpc-endpoint";
import { Token } from "cdktf";
import { Construct, IConstruct } from "constructs";
import { Role } from "../iam";
import { LogGroup } from "../logs";
import { physicalName } from "../core/naming";
import { byProfile, Profile, profileOf } from "../core/profile";
import { PropsValidator } from "../core/validation";
import { Connections, IConnectable, SecurityGroup } from "../security-group";
import { contains, formatCidr, overlaps, parseCidr, subnet } from "./cidr";

/** How many NAT gateways to run when public subnets exist. */
export type NatGateways = "none" | "single" | "perAz";

/** Props of {@link Network}. */
export interface NetworkProps {
  /**
   * Availability zones for the subnets, at least 2 and at most 6, all in one region
   * (e.g. `["us-east-1a", "us-east-1b"]`). Given in config, never looked up, so plans run
   * offline and the layout never shifts when AWS adds a zone.
   */
  readonly availabilityZones: readonly string[];
  /**
   * IPv4 CIDR of the VPC, prefix /16 to /24.
   * @default "10.0.0.0/16"
   */
  readonly cidr?: string;
  /**
   * Prefix length of each subnet. Private subnets take the first blocks of the VPC, public
   * ones (when enabled) start half way through, so adding public subnets later moves nothing.
   * @default VPC prefix + 4 (a /16 gives /20 subnets of 4,091 usable addresses)
   */
  readonly subnetPrefixLength?: number;
  /**
   * Explicit private subnet CIDRs, one per AZ in the same order. Overrides the derived ones.
   * @default derived from `cidr` and `subnetPrefixLength`
   */
  readonly privateSubnetCidrs?: readonly string[];
  /**
   * Create public subnets with an internet gateway (needed only for NAT).
   * @default false — nothing in this module set needs the internet: DynamoDB is reached through
   * a gateway endpoint and AWS APIs through interface endpoints
   */
  readonly publicSubnets?: boolean;
  /**
   * NAT gateways for the private subnets when `publicSubnets` is on.
   * @default "perAz" in prod, "single" in dev; always "none" without public subnets
   */
  readonly natGateways?: NatGateways;
  /**
   * AWS services to reach through interface VPC endpoints with private DNS, e.g.
   * `["secretsmanager"]` so a function can fetch the Redis AUTH token without NAT.
   * @default none
   */
  readonly interfaceEndpoints?: readonly string[];
  /**
   * Region of the VPC, used in endpoint service names.
   * @default derived from the availability zone names
   */
  readonly region?: string;
  /**
   * Days to keep VPC flow logs.
   * @default 90 in prod, 14 in dev
   */
  readonly flowLogRetentionDays?: number;
  /**
   * Which traffic the flow log records.
   * @default "ALL"
   */
  readonly flowLogTrafficType?: "ACCEPT" | "REJECT" | "ALL";
  /**
   * Deployment profile.
   * @default the enclosing stack's profile, else `prod`
   */
  readonly profile?: Profile;
}

/** An interface VPC endpoint, reachable on 443 from what is wired to it. */
export class InterfaceEndpoint extends Construct implements IConnectable {
  /** The Terraform `aws_vpc_endpoint` resource. */
  public readonly resource: VpcEndpoint;
  /** The endpoint's security group on port 443: wire clients with `connections.allowDefaultPortFrom(fn)`. */
  public readonly connections: Connections;
  /** @attribute Id of the endpoint's security group. */
  public readonly securityGroupId: string;

  constructor(
    scope: Construct,
    id: string,
    props: {
      /** VPC the endpoint and its security group live in. */
      vpcId: string;
      /** Service name after `com.amazonaws.<region>.`, e.g. `secretsmanager`. */
      service: string;
      /** Region of the service name, e.g. `eu-west-1`. */
      region: string;
      /** Subnets that get an endpoint network interface (the private subnets). */
      subnetIds: string[];
    },
  ) {
    super(scope, id);
    const sg = new SecurityGroup(this, "sg", {
      vpcId: props.vpcId,
      description: `Interface endpoint for ${props.service}: HTTPS from wired clients only`,
    });
    this.connections = new Connections(sg, 443, `${props.service} endpoint`);
    this.securityGroupId = sg.securityGroupId;
    this.resource = new VpcEndpoint(this, "endpoint", {
      vpcId: props.vpcId,
      serviceName: `com.amazonaws.${props.region}.${props.service}`,
      vpcEndpointType: "Interface",
      privateDnsEnabled: true,
      subnetIds: props.subnetIds,
      securityGroupIds: [sg.securityGroupId],
      tags: { Name: `${props.service}-endpoint` },
    });
  }
}

/**
 * A VPC that caches and functions can be placed in: what wiring needs of a network, whether this
 * stack owns it ({@link Network}) or not.
 */
export interface INetwork extends IConstruct {
  /** @attribute The VPC's id. */
  readonly vpcId: string;
  /** Region of the VPC. */
  readonly region: string;
  /** The AZs of the private subnets, in subnet order. */
  readonly availabilityZones: readonly string[];
  /** @attribute Ids of the private subnets, one per AZ, in AZ order. */
  readonly privateSubnetIds: readonly string[];
  /** Prefix list of the DynamoDB gateway endpoint: the destination of function egress to DynamoDB. */
  readonly dynamoDbPrefixListId: string;
  /** The interface endpoint for `service` (e.g. "secretsmanager"), created on first use or already there. */
  addInterfaceEndpoint(service: string): IConnectable;
}

/**
 * What {@link Network.fromAttributes} needs to know of a VPC that already exists (a landing zone's,
 * a platform team's, another stack's). Nothing is looked up, so plans stay offline.
 */
export interface NetworkAttributes {
  /** The VPC's id, e.g. `"vpc-0123456789abcdef0"`. */
  readonly vpcId: string;
  /** Region of the VPC, e.g. `"eu-west-1"`. */
  readonly region: string;
  /** AZs of the private subnets, in subnet order (2 to 6, one region). */
  readonly availabilityZones: readonly string[];
  /** Private subnets caches and functions go in: one per AZ, in the order of `availabilityZones`. */
  readonly privateSubnetIds: readonly string[];
  /**
   * Prefix list of the VPC's DynamoDB gateway endpoint (`"pl-…"`): function egress to DynamoDB
   * goes to it. Give it whenever the VPC has that endpoint: a route table takes one route per
   * prefix list, so a second endpoint on the same route tables fails at apply.
   * @default none: this stack creates a DynamoDB gateway endpoint on `privateRouteTableIds`
   */
  readonly dynamoDbPrefixListId?: string;
  /**
   * Route tables of the private subnets, where this stack adds a DynamoDB gateway endpoint when
   * the VPC has none (`dynamoDbPrefixListId` absent).
   * @default none (then `dynamoDbPrefixListId` is required)
   */
  readonly privateRouteTableIds?: readonly string[];
  /**
   * Interface endpoints the VPC already has, by service name (e.g. `secretsmanager`), each with the
   * security group on its network interfaces: wiring adds ingress rules to that group in this stack.
   * @default none
   */
  readonly interfaceEndpoints?: Readonly<Record<string, { readonly securityGroupId: string }>>;
  /**
   * Create an interface endpoint wiring needs and `interfaceEndpoints` lacks, in this stack. Off by
   * default: endpoints use private DNS, and a second endpoint for the same service in one VPC (two
   * teams each creating it) fails at apply, so a missing one is a synth error that says so.
   * @default false
   */
  readonly createMissingEndpoints?: boolean;
}

const AZ_RE = /^([a-z]{2}(?:-gov)?-[a-z]+-\d)[a-z]$/;

/**
 * VPC with private subnets across the given AZs, private route tables, a DynamoDB gateway
 * endpoint on them, flow logs to CloudWatch Logs and the default security group emptied.
 */
export class Network extends Construct implements INetwork {
  /** The Terraform `aws_vpc` resource. */
  public readonly vpc: Vpc;
  /** @attribute The VPC's id. */
  public readonly vpcId: string;
  /** The AZs, in the order given. */
  public readonly availabilityZones: readonly string[];
  /** Region of the VPC (given, or derived from the availability zone names). */
  public readonly region: string;
  /** Private subnets, one per AZ. */
  public readonly privateSubnets: Subnet[] = [];
  /** @attribute Ids of the private subnets, one per AZ, in AZ order. */
  public readonly privateSubnetIds: string[];
  /** Literal CIDRs of the private subnets. */
  public readonly privateSubnetCidrs: readonly string[];
  /** Route tables of the private subnets, one per AZ (the DynamoDB gateway endpoint is on each). */
  public readonly privateRouteTables: RouteTable[] = [];
  /** Public subnets, one per AZ; empty unless `publicSubnets` is on. */
  public readonly publicSubnets: Subnet[] = [];
  /** The DynamoDB gateway endpoint. */
  public readonly dynamoDbEndpoint: VpcEndpoint;
  /** Prefix list of the DynamoDB endpoint: the destination for function egress to DynamoDB. */
  public readonly dynamoDbPrefixListId: string;
  /** The VPC flow log (all traffic by default, one-minute aggregation). */
  public readonly flowLog: FlowLog;
  /** Log group the flow log delivers to, with the profile's retention. */
  public readonly flowLogGroup: LogGroup;
  /** True when private subnets route to the internet through NAT. */
  public readonly hasNat: boolean;
  private readonly endpoints = new Map<string, InterfaceEndpoint>();

  /**
   * A VPC that already exists, as wiring sees it: caches and functions go in its private subnets,
   * their rules and (on request) missing endpoints are created in `scope`'s stack, and the VPC,
   * subnets, routes and listed endpoints are never created or changed.
   *
   *   const network = Network.fromAttributes(this, "network", {
   *     vpcId: "vpc-0123456789abcdef0", region: "eu-west-1",
   *     availabilityZones: ["eu-west-1a", "eu-west-1b"],
   *     privateSubnetIds: ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"],
   *     dynamoDbPrefixListId: "pl-6da54004",
   *   });
   */
  static fromAttributes(scope: Construct, id: string, attrs: NetworkAttributes): INetwork {
    return new ImportedNetwork(scope, id, attrs);
  }

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const profile = profileOf(this, props.profile);
    const azs = props.availabilityZones;
    const cidrText = props.cidr ?? "10.0.0.0/16";
    const v = PropsValidator.for(this);

    // --- validation: everything wrong is reported together
    v.check(azs.length >= 2 && azs.length <= 6, "availabilityZones", azs,
      "2 to 6 availability zones: the caches and functions here are multi-AZ");
    v.check(new Set(azs).size === azs.length, "availabilityZones", azs, "distinct availability zones");
    for (const [i, az] of azs.entries()) {
      v.matches(`availabilityZones[${i}]`, az, AZ_RE, "an AZ name such as \"us-east-1a\"");
    }
    const regions = new Set(azs.map((az) => AZ_RE.exec(az)?.[1]).filter((r): r is string => !!r));
    v.check(regions.size <= 1, "availabilityZones", azs, "zones of a single region");
    this.region = props.region ?? [...regions][0] ?? "us-east-1";
    if (props.region && regions.size === 1) {
      v.check(regions.has(props.region), "region", props.region, `the region of the AZs (${[...regions][0]})`);
    }
    const vpcCidr = parseCidr(cidrText);
    v.check(!!vpcCidr, "cidr", cidrText, "an IPv4 CIDR with no host bits set, e.g. \"10.0.0.0/16\"");
    if (vpcCidr) v.check(vpcCidr.prefix >= 16 && vpcCidr.prefix <= 24, "cidr", cidrText, "a prefix from /16 to /24 (AWS VPC limits)");
    const subnetPrefix = props.subnetPrefixLength ?? (vpcCidr ? vpcCidr.prefix + 4 : 20);
    if (vpcCidr) {
      v.intRange("subnetPrefixLength", subnetPrefix, vpcCidr.prefix + 1, 28);
      const blocks = 2 ** (subnetPrefix - vpcCidr.prefix);
      // Private subnets use the first half of the blocks, public ones the second half.
      const room = props.publicSubnets ? blocks / 2 : blocks;
      v.check(room >= azs.length, "subnetPrefixLength", subnetPrefix,
        `a prefix that leaves room for ${azs.length} ${props.publicSubnets ? "private and public " : ""}subnets in ${cidrText}`);
    }
    if (props.privateSubnetCidrs) {
      v.check(props.privateSubnetCidrs.length === azs.length, "privateSubnetCidrs", props.privateSubnetCidrs,
        `one CIDR per availability zone (${azs.length})`);
      const parsed = props.privateSubnetCidrs.map((c) => parseCidr(c));
      parsed.forEach((c, i) => {
        const text = props.privateSubnetCidrs![i];
        v.check(!!c, `privateSubnetCidrs[${i}]`, text, "an IPv4 CIDR with no host bits set");
        if (c && vpcCidr) v.check(contains(vpcCidr, c), `privateSubnetCidrs[${i}]`, text, `a block inside the VPC CIDR ${cidrText}`);
        if (c) v.check(c.prefix <= 28, `privateSubnetCidrs[${i}]`, text, "a prefix of /28 or larger (AWS subnet limit)");
        // Public subnets stay derived (upper half of the VPC), so explicit private ones must avoid them.
        if (c && vpcCidr && props.publicSubnets && subnetPrefix > vpcCidr.prefix && subnetPrefix <= 28) {
          const half = 2 ** (subnetPrefix - vpcCidr.prefix) / 2;
          azs.forEach((_, k) => {
            const pub = subnet(vpcCidr, subnetPrefix, half + k);
            v.check(!overlaps(c, pub), `privateSubnetCidrs[${i}]`, text,
              `a block not overlapping public subnet ${k} (${formatCidr(pub)})`);
          });
        }
        for (let j = 0; j < i; j++) {
          const other = parsed[j];
          if (c && other) {
            v.check(!overlaps(c, other), `privateSubnetCidrs[${i}]`, text,
              `a block not overlapping privateSubnetCidrs[${j}] (${props.privateSubnetCidrs![j]})`);
          }
        }
      });
    }
    const natMode: NatGateways = props.publicSubnets
      ? props.natGateways ?? byProfile(profile, { dev: "single", prod: "perAz" })
      : "none";
    if (!props.publicSubnets && props.natGateways && props.natGateways !== "none") {
      v.check(false, "natGateways", props.natGateways, "\"none\" unless publicSubnets is true (NAT lives in a public subnet)");
    }
    v.oneOf("natGateways", props.natGateways, ["none", "single", "perAz"] as NatGateways[]);
    for (const [i, svc] of (props.interfaceEndpoints ?? []).entries()) {
      v.matches(`interfaceEndpoints[${i}]`, svc, /^[a-z0-9][a-z0-9.-]*$/, "an AWS service endpoint name such as \"secretsmanager\"");
    }
    v.throwIfAny();

    // --- resources
    this.availabilityZones = [...azs];
    const name = physicalName(this, 48);
    this.vpc = new Vpc(this, "vpc", {
      cidrBlock: cidrText,
      enableDnsHostnames: true, // interface endpoints with private DNS need both
      enableDnsSupport: true,
      tags: { Name: name },
    });
    this.vpcId = this.vpc.id;

    // Terraform empties the default SG when it adopts it; nothing should ever use it.
    new DefaultSecurityGroup(this, "default-sg", { vpcId: this.vpcId, tags: { Name: `${name}-default-unused` } });

    const privateCidrs = props.privateSubnetCidrs
      ? [...props.privateSubnetCidrs]
      : azs.map((_, i) => formatCidr(subnet(vpcCidr!, subnetPrefix, i)));
    this.privateSubnetCidrs = privateCidrs;
    const half = 2 ** (subnetPrefix - vpcCidr!.prefix) / 2;

    let igw: InternetGateway | undefined;
    const nats: NatGateway[] = [];
    if (props.publicSubnets) {
      igw = new InternetGateway(this, "igw", { vpcId: this.vpcId, tags: { Name: name } });
      const publicRt = new RouteTable(this, "public-rt", { vpcId: this.vpcId, tags: { Name: `${name}-public` } });
      new Route(this, "public-default-route", { routeTableId: publicRt.id, destinationCidrBlock: "0.0.0.0/0", gatewayId: igw.id });
      azs.forEach((az, i) => {
        const s = new Subnet(this, `public-${i}`, {
          vpcId: this.vpcId,
          availabilityZone: az,
          cidrBlock: formatCidr(subnet(vpcCidr!, subnetPrefix, half + i)),
          mapPublicIpOnLaunch: false, // only the NAT gateways get public addresses, explicitly
          tags: { Name: `${name}-public-${az}`, Tier: "public" },
        });
        new RouteTableAssociation(this, `public-rta-${i}`, { subnetId: s.id, routeTableId: publicRt.id });
        this.publicSubnets.push(s);
        if (natMode === "perAz" || (natMode === "single" && i === 0)) {
          const eip = new Eip(this, `nat-eip-${i}`, { domain: "vpc", tags: { Name: `${name}-nat-${az}` } });
          nats.push(new NatGateway(this, `nat-${i}`, {
            allocationId: eip.allocationId,
            subnetId: s.id,
            tags: { Name: `${name}-nat-${az}` },
            dependsOn: [igw!],
          }));
        }
      });
    }
    this.hasNat = nats.length > 0;

    azs.forEach((az, i) => {
      const s = new Subnet(this, `private-${i}`, {
        vpcId: this.vpcId,
        availabilityZone: az,
        cidrBlock: privateCidrs[i],
        mapPublicIpOnLaunch: false,
        tags: { Name: `${name}-private-${az}`, Tier: "private" },
      });
      // One route table per AZ, so a NAT per AZ (or a later change to one) needs no re-association.
      const rt = new RouteTable(this, `private-rt-${i}`, { vpcId: this.vpcId, tags: { Name: `${name}-private-${az}` } });
      new RouteTableAssociation(this, `private-rta-${i}`, { subnetId: s.id, routeTableId: rt.id });
      if (nats.length > 0) {
        new Route(this, `private-nat-route-${i}`, {
          routeTableId: rt.id,
          destinationCidrBlock: "0.0.0.0/0",
          natGatewayId: nats[Math.min(i, nats.length - 1)].id,
        });
      }
      this.privateSubnets.push(s);
      this.privateRouteTables.push(rt);
    });
    this.privateSubnetIds = this.privateSubnets.map((s) => s.id);

    // Gateway endpoints are free and keep DynamoDB traffic off NAT and the internet.
    this.dynamoDbEndpoint = new VpcEndpoint(this, "dynamodb-endpoint", {
      vpcId: this.vpcId,
      serviceName: `com.amazonaws.${this.region}.dynamodb`,
      vpcEndpointType: "Gateway",
      routeTableIds: this.privateRouteTables.map((rt) => rt.id),
      tags: { Name: `${name}-dynamodb` },
    });
    this.dynamoDbPrefixListId = this.dynamoDbEndpoint.prefixListId;

    for (const svc of props.interfaceEndpoints ?? []) this.addInterfaceEndpoint(svc);

    this.flowLogGroup = new LogGroup(this, "flow-logs", {
      name: `/vpc/flow-logs/${name}`,
      retentionDays: props.flowLogRetentionDays,
      profile,
    });
    const flowRole = new Role(this, "flow-log-role", {
      assumedBy: "vpc-flow-logs.amazonaws.com",
      description: `Delivers flow logs of ${this.node.path} to its log group`,
    });
    flowRole.addToPrincipalPolicy("deliver-flow-logs", [
      {
        actions: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogGroups", "logs:DescribeLogStreams"],
        resources: [this.flowLogGroup.logGroupArn, `${this.flowLogGroup.logGroupArn}:*`],
      },
    ]);
    this.flowLog = new FlowLog(this, "flow-log", {
      vpcId: this.vpcId,
      trafficType: props.flowLogTrafficType ?? "ALL",
      logDestinationType: "cloud-watch-logs",
      logDestination: this.flowLogGroup.logGroupArn,
      iamRoleArn: flowRole.roleArn,
      maxAggregationInterval: 60,
    });
  }

  /**
   * The interface endpoint for `service` (e.g. "secretsmanager"), created on first use, in
   * every private subnet.
   */
  addInterfaceEndpoint(service: string): InterfaceEndpoint {
    let ep = this.endpoints.get(service);
    if (!ep) {
      ep = new InterfaceEndpoint(this, `endpoint-${service.replace(/[^a-z0-9]/g, "-")}`, {
        vpcId: this.vpcId,
        service,
        region: this.region,
        subnetIds: this.privateSubnetIds,
      });
      this.endpoints.set(service, ep);
    }
    return ep;
  }

  /**
   * This network as a stack of the same app sees it (the platform's network stack shared with a
   * service stack): its ids become cross-stack references, wiring's rules are created in `scope`'s
   * stack, and an interface endpoint a service needs is created here, once, in this network's stack.
   */
  importInto(scope: Construct, id: string): INetwork {
    return new ImportedNetwork(scope, id, this.toAttributes(), (service) => this.addInterfaceEndpoint(service).securityGroupId);
  }

  /** The attributes {@link Network.fromAttributes} takes, for handing this network to something that cannot hold the construct. */
  toAttributes(): NetworkAttributes {
    return {
      vpcId: this.vpcId,
      region: this.region,
      availabilityZones: this.availabilityZones,
      privateSubnetIds: this.privateSubnetIds,
      dynamoDbPrefixListId: this.dynamoDbPrefixListId,
      interfaceEndpoints: Object.fromEntries([...this.endpoints].map(([svc, ep]) => [svc, { securityGroupId: ep.securityGroupId }])),
    };
  }

  /** The interface endpoint for `service`, if one was created. */
  interfaceEndpoint(service: string): InterfaceEndpoint | undefined {
    return this.endpoints.get(service);
  }
}

const VPC_ID_RE = /^vpc-[0-9a-f]{8}(?:[0-9a-f]{9})?$/;
const SUBNET_ID_RE = /^subnet-[0-9a-f]{8}(?:[0-9a-f]{9})?$/;
const RTB_ID_RE = /^rtb-[0-9a-f]{8}(?:[0-9a-f]{9})?$/;
const PREFIX_LIST_RE = /^pl-[0-9a-f]{8}(?:[0-9a-f]{9})?$/;

/** A literal matching `re`, or a reference (another stack's output, a variable): those are checked by AWS. */
const literal = (value: string, re: RegExp) => Token.isUnresolved(value) || re.test(value);

/** A VPC this stack does not own; see {@link Network.fromAttributes} and {@link Network.importInto}. */
class ImportedNetwork extends Construct implements INetwork {
  public readonly vpcId: string;
  public readonly region: string;
  public readonly availabilityZones: readonly string[];
  public readonly privateSubnetIds: readonly string[];
  public readonly dynamoDbPrefixListId: string;
  private readonly endpoints = new Map<string, IConnectable>();

  constructor(
    scope: Construct,
    id: string,
    private readonly attrs: NetworkAttributes,
    /** Makes the owner create an endpoint and returns its security group (a network of the same app). */
    private readonly ownerEndpoint?: (service: string) => string,
  ) {
    super(scope, id);
    const azs = attrs.availabilityZones;
    const v = PropsValidator.for(this);
    v.check(literal(attrs.vpcId, VPC_ID_RE), "vpcId", attrs.vpcId, "a VPC id such as \"vpc-0123456789abcdef0\"");
    v.check(azs.length >= 2 && azs.length <= 6, "availabilityZones", azs, "2 to 6 availability zones: the caches and functions here are multi-AZ");
    v.check(new Set(azs).size === azs.length, "availabilityZones", azs, "distinct availability zones");
    azs.forEach((az, i) => {
      const m = AZ_RE.exec(az);
      v.check(!!m && m[1] === attrs.region, `availabilityZones[${i}]`, az, `a zone of region ${attrs.region}, e.g. "${attrs.region}a"`);
    });
    v.check(attrs.privateSubnetIds.length === azs.length, "privateSubnetIds", attrs.privateSubnetIds,
      `one subnet per availability zone (${azs.length}), in the same order`);
    attrs.privateSubnetIds.forEach((sn, i) =>
      v.check(literal(sn, SUBNET_ID_RE), `privateSubnetIds[${i}]`, sn, "a subnet id such as \"subnet-0123456789abcdef0\""));
    if (attrs.dynamoDbPrefixListId !== undefined) {
      v.check(literal(attrs.dynamoDbPrefixListId, PREFIX_LIST_RE), "dynamoDbPrefixListId", attrs.dynamoDbPrefixListId,
        "the prefix list id of the VPC's DynamoDB gateway endpoint, such as \"pl-02cd2c6b\"");
    } else {
      const rts = attrs.privateRouteTableIds ?? [];
      v.check(rts.length > 0, "privateRouteTableIds", attrs.privateRouteTableIds,
        "the private subnets' route tables (for a DynamoDB gateway endpoint), or give dynamoDbPrefixListId when the VPC has that endpoint");
      rts.forEach((rt, i) => v.check(literal(rt, RTB_ID_RE), `privateRouteTableIds[${i}]`, rt, "a route table id such as \"rtb-0123456789abcdef0\""));
    }
    for (const [svc, ep] of Object.entries(attrs.interfaceEndpoints ?? {})) {
      v.matches(`interfaceEndpoints.${svc}`, svc, /^[a-z0-9][a-z0-9.-]*$/, "an AWS service endpoint name such as \"secretsmanager\"");
      v.check(literal(ep.securityGroupId, /^sg-[0-9a-f]{8}(?:[0-9a-f]{9})?$/), `interfaceEndpoints.${svc}.securityGroupId`, ep.securityGroupId,
        "the endpoint's security group id, such as \"sg-0123456789abcdef0\"");
    }
    v.throwIfAny();
    this.vpcId = attrs.vpcId;
    this.region = attrs.region;
    this.availabilityZones = [...azs];
    this.privateSubnetIds = [...attrs.privateSubnetIds];
    this.dynamoDbPrefixListId = attrs.dynamoDbPrefixListId ?? new VpcEndpoint(this, "dynamodb-endpoint", {
      vpcId: this.vpcId,
      serviceName: `com.amazonaws.${this.region}.dynamodb`,
      vpcEndpointType: "Gateway",
      routeTableIds: [...attrs.privateRouteTableIds!],
      tags: { Name: `${physicalName(this, 48)}-dynamodb` },
    }).prefixListId;
  }

  addInterfaceEndpoint(service: string): IConnectable {
    let ep = this.endpoints.get(service);
    if (ep) return ep;
    const slug = service.replace(/[^a-z0-9]/g, "-");
    const listed = this.attrs.interfaceEndpoints?.[service]?.securityGroupId;
    if (listed !== undefined || this.ownerEndpoint) {
      const sg = SecurityGroup.fromId(this, `endpoint-${slug}-sg`, listed ?? this.ownerEndpoint!(service));
      ep = { connections: new Connections(sg, 443, `${service} endpoint`) };
    } else {
      PropsValidator.for(this)
        .check(this.attrs.createMissingEndpoints === true, `interfaceEndpoints.${service}`, undefined,
          `the ${service} interface endpoint's security group (wiring needs it), or createMissingEndpoints: true to create one in this stack ` +
          "(only if the VPC has none: a second one with private DNS fails at apply)")
        .throwIfAny();
      ep = new InterfaceEndpoint(this, `endpoint-${slug}`, { vpcId: this.vpcId, service, region: this.region, subnetIds: [...this.privateSubnetIds] });
    }
    this.endpoints.set(service, ep);
    return ep;
  }
}
