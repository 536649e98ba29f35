import { Construct } from "constructs";
import { PropsValidationError } from "../../modules/core/validation";
import { Network, NetworkProps } from "../../modules/network";
import { contains, formatCidr, overlaps, parseCidr, subnet } from "../../modules/network/cidr";
import { onlyResource, resourcesOf, rolePolicies, synthJson, SynthJson, testStack } from "../helpers/synth";

const AZS = ["eu-west-1a", "eu-west-1b", "eu-west-1c"];

function synthNetwork(
  props: Partial<NetworkProps> = {},
  profile: "dev" | "prod" = "prod",
  extra?: (n: Network, scope: Construct) => void,
): SynthJson {
  return synthJson((stack) => {
    const n = new Network(stack, "net", { availabilityZones: AZS, ...props });
    extra?.(n, stack);
  }, profile);
}

/** Logical id → Terraform reference of a resource's attribute. */
function ref(type: string, logicalId: string, attr = "id"): string {
  return `\${${type}.${logicalId}.${attr}}`;
}

function validationError(props: Partial<NetworkProps>): PropsValidationError {
  const { stack } = testStack("prod");
  try {
    new Network(stack, "net", { availabilityZones: AZS, ...props });
  } catch (e) {
    expect(e).toBeInstanceOf(PropsValidationError);
    return e as PropsValidationError;
  }
  throw new Error("expected a PropsValidationError");
}

function expectInvalid(props: Partial<NetworkProps>, field: string, valueText: string): PropsValidationError {
  const err = validationError(props);
  expect(err.message).toContain("test/net");
  expect(err.message).toContain(field);
  expect(err.message).toContain(valueText);
  expect(err.problems.map((p) => p.field)).toContain(field);
  return err;
}

describe("Network private subnets and routing", () => {
  test("one private subnet per AZ with literal, non-overlapping CIDRs inside the VPC and no public IPs", () => {
    // GIVEN a network over three AZs / WHEN synthesized
    const json = synthNetwork();
    const vpc = onlyResource(json, "aws_vpc");
    const subnets = resourcesOf(json, "aws_subnet").map(([, s]) => s);
    // THEN
    expect(vpc.cidr_block).toBe("10.0.0.0/16");
    expect(vpc.enable_dns_hostnames).toBe(true);
    expect(vpc.enable_dns_support).toBe(true);
    expect(subnets).toHaveLength(3);
    expect(subnets.map((s) => s.availability_zone).sort()).toEqual(AZS);
    const vpcCidr = parseCidr(vpc.cidr_block)!;
    const parsed = subnets.map((s) => parseCidr(s.cidr_block));
    parsed.forEach((c, i) => {
      expect(c).toBeDefined();
      expect(contains(vpcCidr, c!)).toBe(true);
      for (let j = 0; j < i; j++) expect(overlaps(c!, parsed[j]!)).toBe(false);
    });
    for (const s of subnets) {
      expect(s.map_public_ip_on_launch).toBe(false);
      expect(s.tags.Tier).toBe("private");
    }
  });

  test("one private route table per AZ, each associated with its subnet", () => {
    const json = synthNetwork();
    const subnets = resourcesOf(json, "aws_subnet");
    const tables = resourcesOf(json, "aws_route_table");
    const assocs = resourcesOf(json, "aws_route_table_association").map(([, a]) => a);
    expect(tables).toHaveLength(3);
    expect(assocs).toHaveLength(3);
    const subnetRefs = new Set(subnets.map(([id]) => ref("aws_subnet", id)));
    const tableRefs = new Set(tables.map(([id]) => ref("aws_route_table", id)));
    expect(new Set(assocs.map((a) => a.subnet_id))).toEqual(subnetRefs);
    expect(new Set(assocs.map((a) => a.route_table_id))).toEqual(tableRefs);
  });

  test("a DynamoDB gateway endpoint on every private route table, named from the AZs' region", () => {
    const json = synthNetwork();
    const tableRefs = resourcesOf(json, "aws_route_table").map(([id]) => ref("aws_route_table", id));
    const endpoints = resourcesOf(json, "aws_vpc_endpoint").map(([, e]) => e);
    expect(endpoints).toHaveLength(1);
    const ep = endpoints[0];
    expect(ep.vpc_endpoint_type).toBe("Gateway");
    expect(ep.service_name).toBe("com.amazonaws.eu-west-1.dynamodb");
    expect([...ep.route_table_ids].sort()).toEqual([...tableRefs].sort());
  });

  test("no internet gateway, NAT, EIP, public subnet or route by default", () => {
    const json = synthNetwork();
    expect(resourcesOf(json, "aws_internet_gateway")).toHaveLength(0);
    expect(resourcesOf(json, "aws_nat_gateway")).toHaveLength(0);
    expect(resourcesOf(json, "aws_eip")).toHaveLength(0);
    expect(resourcesOf(json, "aws_route")).toHaveLength(0);
    expect(resourcesOf(json, "aws_subnet").every(([, s]) => s.tags.Tier === "private")).toBe(true);
  });

  test("the default security group is adopted with no ingress and no egress", () => {
    const json = synthNetwork();
    const dsg = onlyResource(json, "aws_default_security_group");
    expect(dsg.vpc_id).toBe(ref("aws_vpc", resourcesOf(json, "aws_vpc")[0][0]));
    expect(dsg.ingress).toBeUndefined();
    expect(dsg.egress).toBeUndefined();
  });

  test("explicit privateSubnetCidrs are used as given, in AZ order", () => {
    const cidrs = ["10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"];
    const json = synthNetwork({ privateSubnetCidrs: cidrs });
    const byAz = Object.fromEntries(resourcesOf(json, "aws_subnet").map(([, s]) => [s.availability_zone, s.cidr_block]));
    expect(byAz).toEqual({ "eu-west-1a": cidrs[0], "eu-west-1b": cidrs[1], "eu-west-1c": cidrs[2] });
  });

  test("the region prop, when it matches the AZs, names the endpoint service", () => {
    const json = synthNetwork({ region: "eu-west-1" });
    expect(onlyResource(json, "aws_vpc_endpoint").service_name).toBe("com.amazonaws.eu-west-1.dynamodb");
  });
});

describe("Network flow logs", () => {
  test("records ALL traffic to its own CloudWatch log group", () => {
    const json = synthNetwork();
    const fl = onlyResource(json, "aws_flow_log");
    const [lgId, lg] = resourcesOf(json, "aws_cloudwatch_log_group")[0];
    expect(resourcesOf(json, "aws_cloudwatch_log_group")).toHaveLength(1);
    expect(fl.traffic_type).toBe("ALL");
    expect(fl.log_destination_type).toBe("cloud-watch-logs");
    expect(fl.log_destination).toBe(ref("aws_cloudwatch_log_group", lgId, "arn"));
    expect(fl.vpc_id).toBe(ref("aws_vpc", resourcesOf(json, "aws_vpc")[0][0]));
    expect(lg.retention_in_days).toBe(90);
  });

  test("keeps flow logs 14 days in dev", () => {
    const json = synthNetwork({}, "dev");
    expect(onlyResource(json, "aws_cloudwatch_log_group").retention_in_days).toBe(14);
  });

  test("delivers through a role trusted only by vpc-flow-logs.amazonaws.com, scoped to the log group", () => {
    const json = synthNetwork();
    const fl = onlyResource(json, "aws_flow_log");
    const [roleId, role] = resourcesOf(json, "aws_iam_role")[0];
    expect(resourcesOf(json, "aws_iam_role")).toHaveLength(1);
    expect(fl.iam_role_arn).toBe(ref("aws_iam_role", roleId, "arn"));
    const trust = JSON.parse(role.assume_role_policy);
    expect(trust.Statement).toHaveLength(1);
    expect(trust.Statement[0].Principal).toEqual({ Service: "vpc-flow-logs.amazonaws.com" });
    expect(trust.Statement[0].Action).toBe("sts:AssumeRole");

    const lgArn = ref("aws_cloudwatch_log_group", resourcesOf(json, "aws_cloudwatch_log_group")[0][0], "arn");
    const policies = rolePolicies(json);
    expect(policies).toHaveLength(1);
    for (const s of policies[0].doc.Statement) {
      expect(s.Effect).toBe("Allow");
      expect(s.Resource).not.toContain("*");
      for (const r of s.Resource) expect([lgArn, `${lgArn}:*`]).toContain(r);
      for (const a of s.Action) expect(a).toMatch(/^logs:/);
    }
  });

  test("flowLogTrafficType and flowLogRetentionDays are honoured", () => {
    const json = synthNetwork({ flowLogTrafficType: "REJECT", flowLogRetentionDays: 30 });
    expect(onlyResource(json, "aws_flow_log").traffic_type).toBe("REJECT");
    expect(onlyResource(json, "aws_cloudwatch_log_group").retention_in_days).toBe(30);
  });
});

describe("Network with public subnets", () => {
  test("creates an internet gateway, public subnets in the upper half with no public IPs on launch", () => {
    const json = synthNetwork({ publicSubnets: true });
    expect(resourcesOf(json, "aws_internet_gateway")).toHaveLength(1);
    const subnets = resourcesOf(json, "aws_subnet").map(([, s]) => s);
    const pub = subnets.filter((s) => s.tags.Tier === "public");
    const priv = subnets.filter((s) => s.tags.Tier === "private");
    expect(pub).toHaveLength(3);
    expect(priv).toHaveLength(3);
    for (const s of subnets) expect(s.map_public_ip_on_launch).toBe(false);
    const upperHalf = parseCidr("10.0.128.0/17")!;
    for (const s of pub) expect(contains(upperHalf, parseCidr(s.cidr_block)!)).toBe(true);
    for (const p of pub) for (const q of priv) expect(overlaps(parseCidr(p.cidr_block)!, parseCidr(q.cidr_block)!)).toBe(false);
  });

  test("prod runs one NAT gateway per AZ and every private route table routes to its own", () => {
    const json = synthNetwork({ publicSubnets: true }, "prod");
    const nats = resourcesOf(json, "aws_nat_gateway");
    expect(nats).toHaveLength(3);
    expect(resourcesOf(json, "aws_eip")).toHaveLength(3);
    const natRoutes = resourcesOf(json, "aws_route").map(([, r]) => r).filter((r) => r.nat_gateway_id);
    expect(natRoutes).toHaveLength(3);
    expect(new Set(natRoutes.map((r) => r.nat_gateway_id))).toEqual(new Set(nats.map(([id]) => ref("aws_nat_gateway", id))));
    const privateTables = resourcesOf(json, "aws_route_table").filter(([, t]) => !String(t.tags.Name).endsWith("-public"));
    expect(new Set(natRoutes.map((r) => r.route_table_id))).toEqual(new Set(privateTables.map(([id]) => ref("aws_route_table", id))));
    for (const r of natRoutes) expect(r.destination_cidr_block).toBe("0.0.0.0/0");
  });

  test("dev runs a single NAT gateway shared by all private route tables", () => {
    const json = synthNetwork({ publicSubnets: true }, "dev");
    const nats = resourcesOf(json, "aws_nat_gateway");
    expect(nats).toHaveLength(1);
    const natRoutes = resourcesOf(json, "aws_route").map(([, r]) => r).filter((r) => r.nat_gateway_id);
    expect(natRoutes).toHaveLength(3);
    for (const r of natRoutes) expect(r.nat_gateway_id).toBe(ref("aws_nat_gateway", nats[0][0]));
  });

  test("the public route table routes to the internet gateway only", () => {
    const json = synthNetwork({ publicSubnets: true });
    const igwRoutes = resourcesOf(json, "aws_route").map(([, r]) => r).filter((r) => r.gateway_id);
    expect(igwRoutes).toHaveLength(1);
    expect(igwRoutes[0].gateway_id).toBe(ref("aws_internet_gateway", resourcesOf(json, "aws_internet_gateway")[0][0]));
  });

  test("natGateways none gives public subnets without NAT", () => {
    const json = synthNetwork({ publicSubnets: true, natGateways: "none" });
    expect(resourcesOf(json, "aws_nat_gateway")).toHaveLength(0);
    expect(resourcesOf(json, "aws_route").filter(([, r]) => r.nat_gateway_id)).toHaveLength(0);
  });
});

describe("Network interface endpoints", () => {
  test("addInterfaceEndpoint creates a private-DNS interface endpoint in all private subnets with its own SG", () => {
    // GIVEN a network WHEN a secretsmanager endpoint is added
    const json = synthNetwork({}, "prod", (n) => n.addInterfaceEndpoint("secretsmanager"));
    // THEN
    const eps = resourcesOf(json, "aws_vpc_endpoint").map(([, e]) => e).filter((e) => e.vpc_endpoint_type === "Interface");
    expect(eps).toHaveLength(1);
    const ep = eps[0];
    expect(ep.service_name).toBe("com.amazonaws.eu-west-1.secretsmanager");
    expect(ep.private_dns_enabled).toBe(true);
    const privateSubnetRefs = resourcesOf(json, "aws_subnet").map(([id]) => ref("aws_subnet", id));
    expect([...ep.subnet_ids].sort()).toEqual(privateSubnetRefs.sort());
    const sgs = resourcesOf(json, "aws_security_group");
    expect(sgs).toHaveLength(1);
    expect(ep.security_group_ids).toEqual([ref("aws_security_group", sgs[0][0])]);
    // an unwired endpoint accepts nothing
    expect(resourcesOf(json, "aws_vpc_security_group_ingress_rule")).toHaveLength(0);
  });

  test("addInterfaceEndpoint is idempotent per service and the endpoint listens on 443", () => {
    const { stack } = testStack("prod");
    const n = new Network(stack, "net", { availabilityZones: AZS });
    const a = n.addInterfaceEndpoint("secretsmanager");
    const b = n.addInterfaceEndpoint("secretsmanager");
    expect(a).toBe(b);
    expect(n.interfaceEndpoint("secretsmanager")).toBe(a);
    expect(n.interfaceEndpoint("kms")).toBeUndefined();
    expect(a.connections.defaultPort).toBe(443);
  });

  test("interfaceEndpoints prop creates one endpoint per service", () => {
    const json = synthNetwork({ interfaceEndpoints: ["secretsmanager", "kms"] });
    const names = resourcesOf(json, "aws_vpc_endpoint").map(([, e]) => e).filter((e) => e.vpc_endpoint_type === "Interface")
      .map((e) => e.service_name).sort();
    expect(names).toEqual(["com.amazonaws.eu-west-1.kms", "com.amazonaws.eu-west-1.secretsmanager"]);
  });
});

describe("Network validation", () => {
  test("refuses a single AZ", () => {
    expectInvalid({ availabilityZones: ["eu-west-1a"] }, "availabilityZones", '["eu-west-1a"]');
  });

  test("refuses seven AZs", () => {
    const seven = ["a", "b", "c", "d", "e", "f", "g"].map((l) => `us-east-1${l}`);
    expectInvalid({ availabilityZones: seven }, "availabilityZones", "us-east-1g");
  });

  test("refuses duplicate AZs", () => {
    const err = expectInvalid({ availabilityZones: ["eu-west-1a", "eu-west-1a"] }, "availabilityZones", '["eu-west-1a","eu-west-1a"]');
    expect(err.message).toContain("distinct");
  });

  test("refuses AZs of two regions", () => {
    const err = expectInvalid({ availabilityZones: ["eu-west-1a", "us-east-1b"] }, "availabilityZones", "us-east-1b");
    expect(err.message).toContain("single region");
  });

  test("refuses a malformed AZ name", () => {
    expectInvalid({ availabilityZones: ["eu-west-1a", "euwest1b"] }, "availabilityZones[1]", '"euwest1b"');
  });

  test.each(["10.0.0.0/33", "10.0.0.1/16", "banana", "300.0.0.0/16"])("refuses the malformed VPC CIDR %s", (cidr) => {
    expectInvalid({ cidr }, "cidr", `"${cidr}"`);
  });

  test.each(["10.0.0.0/8", "10.0.0.0/28"])("refuses the VPC prefix of %s (AWS allows /16 to /24)", (cidr) => {
    const err = expectInvalid({ cidr }, "cidr", `"${cidr}"`);
    expect(err.message).toContain("/16 to /24");
  });

  test("refuses a subnet prefix that leaves no room for one subnet per AZ", () => {
    // a /24 VPC split into /25s holds 2 subnets, not 3
    expectInvalid({ cidr: "10.0.0.0/24", subnetPrefixLength: 25 }, "subnetPrefixLength", "25");
  });

  test("refuses a subnet prefix not longer than the VPC's", () => {
    expectInvalid({ subnetPrefixLength: 16 }, "subnetPrefixLength", "16");
  });

  test("refuses privateSubnetCidrs that overlap each other", () => {
    const err = expectInvalid({ privateSubnetCidrs: ["10.0.0.0/20", "10.0.8.0/24", "10.0.32.0/20"] },
      "privateSubnetCidrs[1]", '"10.0.8.0/24"');
    expect(err.message).toContain("overlapping privateSubnetCidrs[0]");
  });

  test("refuses privateSubnetCidrs outside the VPC", () => {
    const err = expectInvalid({ privateSubnetCidrs: ["10.0.0.0/20", "10.1.0.0/20", "10.0.32.0/20"] },
      "privateSubnetCidrs[1]", '"10.1.0.0/20"');
    expect(err.message).toContain("inside the VPC CIDR 10.0.0.0/16");
  });

  test("refuses a malformed privateSubnetCidrs entry", () => {
    expectInvalid({ privateSubnetCidrs: ["10.0.0.0/20", "10.0.16.1/20", "10.0.32.0/20"] }, "privateSubnetCidrs[1]", '"10.0.16.1/20"');
  });

  test("refuses a privateSubnetCidrs count different from the AZ count", () => {
    const err = expectInvalid({ privateSubnetCidrs: ["10.0.0.0/20", "10.0.16.0/20"] }, "privateSubnetCidrs", '["10.0.0.0/20","10.0.16.0/20"]');
    expect(err.message).toContain("one CIDR per availability zone (3)");
  });

  test("refuses privateSubnetCidrs overlapping the derived public subnets", () => {
    // public subnets of a /16 split into /20s start at 10.0.128.0
    const err = expectInvalid({ publicSubnets: true, privateSubnetCidrs: ["10.0.0.0/20", "10.0.16.0/20", "10.0.128.0/24"] },
      "privateSubnetCidrs[2]", '"10.0.128.0/24"');
    expect(err.message).toContain("public subnet");
  });

  test("refuses natGateways without publicSubnets", () => {
    const err = expectInvalid({ natGateways: "single" }, "natGateways", '"single"');
    expect(err.message).toContain("publicSubnets");
  });

  test("refuses a region that is not the AZs' region", () => {
    expectInvalid({ region: "us-east-1" }, "region", '"us-east-1"');
  });

  test("refuses a malformed interface endpoint service name", () => {
    expectInvalid({ interfaceEndpoints: ["Secrets Manager"] }, "interfaceEndpoints[0]", '"Secrets Manager"');
  });

  test("reports every problem of one props object together", () => {
    // GIVEN one AZ and a bad CIDR WHEN constructed THEN one error lists both
    const err = validationError({ availabilityZones: ["eu-west-1a"], cidr: "banana" });
    const fields = err.problems.map((p) => p.field);
    expect(fields).toContain("availabilityZones");
    expect(fields).toContain("cidr");
    expect(err.message).toContain('"banana"');
    expect(err.message).toContain('["eu-west-1a"]');
  });
});

describe("CIDR helpers", () => {
  test.each(["10.0.0.0/16", "192.168.1.0/24", "0.0.0.0/0", "255.255.255.255/32", "172.16.0.0/12"])(
    "parse/format round-trips %s",
    (text) => {
      expect(formatCidr(parseCidr(text)!)).toBe(text);
    },
  );

  test.each(["banana", "10.0.0.0", "10.0.0.0/33", "10.0.0.256/24", "10.0.0.1/16", "1.2.3/8", " 10.0.0.0/16"])(
    "parseCidr refuses %p",
    (text) => {
      expect(parseCidr(text)).toBeUndefined();
    },
  );

  test("contains", () => {
    const vpc = parseCidr("10.0.0.0/16")!;
    expect(contains(vpc, parseCidr("10.0.0.0/16")!)).toBe(true);
    expect(contains(vpc, parseCidr("10.0.255.240/28")!)).toBe(true);
    expect(contains(vpc, parseCidr("10.1.0.0/24")!)).toBe(false);
    expect(contains(vpc, parseCidr("10.0.0.0/15")!)).toBe(false);
    expect(contains(parseCidr("0.0.0.0/0")!, parseCidr("255.255.255.0/24")!)).toBe(true);
  });

  test("overlaps is symmetric and exclusive of touching blocks", () => {
    const a = parseCidr("10.0.0.0/20")!;
    const b = parseCidr("10.0.8.0/24")!;
    const c = parseCidr("10.0.16.0/20")!;
    expect(overlaps(a, b)).toBe(true);
    expect(overlaps(b, a)).toBe(true);
    expect(overlaps(a, c)).toBe(false);
    expect(overlaps(c, a)).toBe(false);
    expect(overlaps(a, a)).toBe(true);
  });

  test("subnet gives consecutive aligned blocks", () => {
    const vpc = parseCidr("10.0.0.0/16")!;
    expect(formatCidr(subnet(vpc, 20, 0))).toBe("10.0.0.0/20");
    expect(formatCidr(subnet(vpc, 20, 1))).toBe("10.0.16.0/20");
    expect(formatCidr(subnet(vpc, 20, 15))).toBe("10.0.240.0/20");
    expect(formatCidr(subnet(parseCidr("192.168.0.0/24")!, 26, 3))).toBe("192.168.0.192/26");
    const high = parseCidr("240.0.0.0/8")!;
    expect(formatCidr(subnet(high, 12, 15))).toBe("240.240.0.0/12");
    for (let i = 0; i < 16; i++) {
      const s = subnet(vpc, 20, i);
      expect(parseCidr(formatCidr(s))).toEqual(s);
      expect(contains(vpc, s)).toBe(true);
    }
  });
});
