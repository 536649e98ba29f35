/**
 * Resources another stack or team owns, wired as if they were this stack's: an existing VPC
 * (`Network.fromAttributes`), a network shared by a platform stack of the same app
 * (`Network.importInto`), and an existing security group (`SecurityGroup.fromId`). What is imported
 * is never created; the rules and grants wiring needs are created in the importing stack.
 */
import { App, TerraformStack, Testing } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { CacheAsideFunction, CacheAuth, CacheTable, Network, NetworkAttributes, PRODUCTS, PRODUCTS_TABLE, RedisCache } from "../../modules";
import { PROFILE_CONTEXT_KEY } from "../../modules/core/profile";
import { PropsValidationError } from "../../modules/core/validation";
import { Connections, SecurityGroup } from "../../modules/security-group";
import { resourcesOf, rolePolicies, synthJson, SynthJson, testStack } from "../helpers/synth";

const EXISTING: NetworkAttributes = {
  vpcId: "vpc-0123456789abcdef0",
  region: "eu-west-1",
  availabilityZones: ["eu-west-1a", "eu-west-1b"],
  privateSubnetIds: ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"],
  dynamoDbPrefixListId: "pl-6da54004",
  interfaceEndpoints: { secretsmanager: { securityGroupId: "sg-0eeeeeeeeeeeeeeee" } },
};

/**
 * A product function, its table and a cache, all on `network`. The cache uses token auth, so the
 * function reads a secret and needs the Secrets Manager endpoint (IAM auth, the default, needs none).
 */
function service(scope: TerraformStack, network: ReturnType<typeof Network.fromAttributes>) {
  const table = new CacheTable(scope, "products", PRODUCTS_TABLE);
  const cache = new RedisCache(scope, "cache", { network, auth: CacheAuth.token() });
  const fn = new CacheAsideFunction(scope, "fn", { network, contract: PRODUCTS });
  fn.useTable(table, { write: true }).useCache(cache);
  return { table, cache, fn };
}

const types = (json: SynthJson) => Object.keys(json.resource ?? {});

describe("Network.fromAttributes (an existing VPC)", () => {
  test("a whole service on it creates no VPC, subnet, route or endpoint, and places everything in the given subnets", () => {
    const json = synthJson((stack) => service(stack as TerraformStack, Network.fromAttributes(stack, "network", EXISTING)));
    for (const t of ["aws_vpc", "aws_subnet", "aws_route_table", "aws_route_table_association", "aws_vpc_endpoint", "aws_flow_log", "aws_default_security_group"]) {
      expect(types(json)).not.toContain(t);
    }
    const [, fn] = resourcesOf(json, "aws_lambda_function")[0];
    expect(fn.vpc_config.subnet_ids).toEqual(EXISTING.privateSubnetIds);
    const [, subnetGroup] = resourcesOf(json, "aws_elasticache_subnet_group")[0];
    expect(subnetGroup.subnet_ids).toEqual(EXISTING.privateSubnetIds);
    for (const [, sg] of resourcesOf(json, "aws_security_group")) expect(sg.vpc_id).toBe(EXISTING.vpcId);
    // egress to DynamoDB goes to the VPC's own gateway endpoint's prefix list
    const egress = resourcesOf(json, "aws_vpc_security_group_egress_rule").map(([, r]) => r);
    expect(egress.some((r) => r.prefix_list_id === EXISTING.dynamoDbPrefixListId && r.from_port === 443)).toBe(true);
  });

  test("a listed interface endpoint gets the function's ingress rule on its existing group, in this stack", () => {
    const json = synthJson((stack) => service(stack as TerraformStack, Network.fromAttributes(stack, "network", EXISTING)));
    const ingress = resourcesOf(json, "aws_vpc_security_group_ingress_rule").map(([, r]) => r);
    const toEndpoint = ingress.filter((r) => r.security_group_id === "sg-0eeeeeeeeeeeeeeee");
    expect(toEndpoint).toHaveLength(1);
    expect(toEndpoint[0]).toMatchObject({ from_port: 443, to_port: 443, ip_protocol: "tcp" });
    expect(toEndpoint[0].referenced_security_group_id).toMatch(/^\$\{aws_security_group\.fn_sg_group_/);
  });

  test("without a prefix list, a DynamoDB gateway endpoint is created on the given route tables", () => {
    const json = synthJson((stack) => {
      const attrs = { ...EXISTING, dynamoDbPrefixListId: undefined, privateRouteTableIds: ["rtb-0aaaaaaaaaaaaaaaa", "rtb-0bbbbbbbbbbbbbbbb"] };
      service(stack as TerraformStack, Network.fromAttributes(stack, "network", attrs));
    });
    const endpoints = resourcesOf(json, "aws_vpc_endpoint").map(([, r]) => r);
    expect(endpoints).toHaveLength(1);
    expect(endpoints[0]).toMatchObject({
      vpc_id: EXISTING.vpcId, vpc_endpoint_type: "Gateway", service_name: "com.amazonaws.eu-west-1.dynamodb",
      route_table_ids: ["rtb-0aaaaaaaaaaaaaaaa", "rtb-0bbbbbbbbbbbbbbbb"],
    });
  });

  test("an endpoint wiring needs and the attributes lack is a synth error naming it; createMissingEndpoints creates it here", () => {
    const { stack } = testStack("prod");
    const network = Network.fromAttributes(stack, "network", { ...EXISTING, interfaceEndpoints: {} });
    expect(() => network.addInterfaceEndpoint("secretsmanager")).toThrow(PropsValidationError);
    expect(() => network.addInterfaceEndpoint("secretsmanager")).toThrow(/test\/network.*interfaceEndpoints\.secretsmanager.*createMissingEndpoints/s);

    const json = synthJson((s) => {
      Network.fromAttributes(s, "network", { ...EXISTING, interfaceEndpoints: {}, createMissingEndpoints: true }).addInterfaceEndpoint("secretsmanager");
    });
    const [, ep] = resourcesOf(json, "aws_vpc_endpoint")[0];
    expect(ep).toMatchObject({ vpc_id: EXISTING.vpcId, vpc_endpoint_type: "Interface", private_dns_enabled: true, subnet_ids: EXISTING.privateSubnetIds });
  });

  test.each<[string, Partial<NetworkAttributes>, RegExp]>([
    ["a malformed VPC id", { vpcId: "vpc-xyz" }, /vpcId.*vpc-xyz/],
    ["one AZ", { availabilityZones: ["eu-west-1a"], privateSubnetIds: ["subnet-0aaaaaaaaaaaaaaaa"] }, /availabilityZones.*2 to 6/],
    ["an AZ of another region", { availabilityZones: ["eu-west-1a", "us-east-1b"] }, /availabilityZones\[1\].*us-east-1b.*eu-west-1/],
    ["fewer subnets than AZs", { privateSubnetIds: ["subnet-0aaaaaaaaaaaaaaaa"] }, /privateSubnetIds.*one subnet per availability zone \(2\)/],
    ["a malformed subnet id", { privateSubnetIds: ["subnet-0aaaaaaaaaaaaaaaa", "sub-1"] }, /privateSubnetIds\[1\].*sub-1/],
    ["neither a prefix list nor route tables", { dynamoDbPrefixListId: undefined }, /privateRouteTableIds.*dynamoDbPrefixListId/],
    ["a malformed prefix list", { dynamoDbPrefixListId: "pl-zz" }, /dynamoDbPrefixListId.*pl-zz/],
    ["a malformed endpoint group", { interfaceEndpoints: { sts: { securityGroupId: "default" } } }, /interfaceEndpoints\.sts\.securityGroupId.*default/],
  ])("refuses %s, naming the construct path, field and value", (_, change, message) => {
    const { stack } = testStack("prod");
    let err: unknown;
    try {
      Network.fromAttributes(stack, "network", { ...EXISTING, ...change });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PropsValidationError);
    expect((err as Error).message).toContain("test/network");
    expect((err as Error).message).toMatch(message);
  });
});

describe("Network.importInto (a platform stack's network shared with a service stack)", () => {
  function platformApp() {
    const app = Testing.app();
    const stacks = ["network", "svc-a", "svc-b"].map((id) => {
      const s = new TerraformStack(app, id);
      s.node.setContext(PROFILE_CONTEXT_KEY, "prod");
      new AwsProvider(s, "aws", { region: "us-east-1" });
      return s;
    });
    const [netStack, a, b] = stacks;
    const net = new Network(netStack, "network", { availabilityZones: ["us-east-1a", "us-east-1b"] });
    for (const s of [a, b]) service(s, net.importInto(s, "network"));
    return { app, netStack, a, b };
  }
  const synthOf = (app: App, s: TerraformStack): SynthJson => {
    app.synth(); // resolves cross-stack references into outputs and remote state
    return JSON.parse(Testing.synth(s));
  };

  test("the services own no network resources and read the network's ids across stacks; they depend on it, not it on them", () => {
    const { app, netStack, a, b } = platformApp();
    const svc = synthOf(app, a);
    expect(types(svc)).not.toContain("aws_vpc");
    expect(types(svc)).not.toContain("aws_subnet");
    expect(types(svc)).not.toContain("aws_vpc_endpoint");
    expect(Object.keys(svc.data?.terraform_remote_state ?? {})).toEqual([expect.stringContaining("network")]);
    const [, fn] = resourcesOf(svc, "aws_lambda_function")[0];
    for (const id of fn.vpc_config.subnet_ids) expect(id).toMatch(/^\$\{data\.terraform_remote_state\..*network.*\.outputs\./);
    expect(a.dependencies).toContain(netStack);
    expect(b.dependencies).toContain(netStack);
    expect(netStack.dependencies).toEqual([]);
  });

  test("an endpoint two services need is created once, in the network stack; each service's rule to it lives in the service's stack", () => {
    const { app, netStack, a, b } = platformApp();
    const net = synthOf(app, netStack);
    const endpoints = resourcesOf(net, "aws_vpc_endpoint").map(([, r]) => r);
    expect(endpoints.filter((e) => e.vpc_endpoint_type === "Interface").map((e) => e.service_name)).toEqual(["com.amazonaws.us-east-1.secretsmanager"]);
    // the network stack holds no rule that references a service's group (that would be a cycle)
    expect(resourcesOf(net, "aws_vpc_security_group_ingress_rule")).toEqual([]);
    for (const s of [a, b]) {
      const svc = synthOf(app, s);
      const toEndpoint = resourcesOf(svc, "aws_vpc_security_group_ingress_rule")
        .map(([, r]) => r)
        .filter((r) => String(r.security_group_id).includes("terraform_remote_state"));
      expect(toEndpoint).toHaveLength(1);
      expect(toEndpoint[0].from_port).toBe(443);
    }
  });
});

describe("SecurityGroup.fromId", () => {
  test("wiring writes rules on the existing group in the importing stack, and never creates the group", () => {
    const json = synthJson((stack) => {
      const existing = SecurityGroup.fromId(stack, "platform-cache-sg", "sg-0123456789abcdef0");
      const mine = new SecurityGroup(stack, "mine", { vpcId: "vpc-0123456789abcdef0", description: "client" });
      new Connections(existing, 6379, "shared cache").allowDefaultPortFrom({ connections: new Connections(mine, undefined, "client") });
    });
    expect(resourcesOf(json, "aws_security_group")).toHaveLength(1);
    const [, ingress] = resourcesOf(json, "aws_vpc_security_group_ingress_rule")[0];
    expect(ingress).toMatchObject({ security_group_id: "sg-0123456789abcdef0", from_port: 6379 });
    const [, egress] = resourcesOf(json, "aws_vpc_security_group_egress_rule")[0];
    expect(egress.referenced_security_group_id).toBe("sg-0123456789abcdef0");
  });

  test.each(["sg-123", "0123456789abcdef0", "sg-0123456789ABCDEF0"])("refuses the malformed id %s, naming it", (id) => {
    const { stack } = testStack("prod");
    expect(() => SecurityGroup.fromId(stack, "x", id)).toThrow(new RegExp(`test/x.*securityGroupId.*${id}`, "s"));
  });
});

describe("CacheTable.fromAttributes (a table another team owns)", () => {
  const ORDERS = { ...PRODUCTS_TABLE, tableName: "orders", tableArn: "arn:aws:dynamodb:eu-west-1:123456789012:table/orders" };
  const wire = (stack: TerraformStack, table: ReturnType<typeof CacheTable.fromAttributes>) => {
    const network = Network.fromAttributes(stack, "network", EXISTING);
    const fn = new CacheAsideFunction(stack, "fn", { network, contract: PRODUCTS });
    fn.useTable(table, { write: true });
    return fn;
  };

  test("wiring grants on its ARN (and its key), writes its name, and creates no table", () => {
    const json = synthJson((stack) => {
      wire(stack as TerraformStack, CacheTable.fromAttributes(stack, "orders", { ...ORDERS, kmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/0b7c5d2e-1111-2222-3333-444455556666" }));
    });
    expect(types(json)).not.toContain("aws_dynamodb_table");
    const [, fn] = resourcesOf(json, "aws_lambda_function")[0];
    expect(fn.environment.variables.TABLE_NAME).toBe("orders");
    const grant = rolePolicies(json).find((p) => /read-write$/.test(p.name))!;
    expect(grant.doc.Statement[0].Resource).toEqual([ORDERS.tableArn, `${ORDERS.tableArn}/index/*`]);
    expect(grant.doc.Statement[1]).toMatchObject({ Resource: ["arn:aws:kms:eu-west-1:123456789012:key/0b7c5d2e-1111-2222-3333-444455556666"] });
  });

  test("its layout is checked against the contract like an owned table's", () => {
    const { stack } = testStack("prod");
    const table = CacheTable.fromAttributes(stack, "orders", { ...ORDERS, partitionKey: { name: "orderId", type: "S" } });
    expect(() => wire(stack, table)).toThrow(/partitionKey|productId/);
  });

  test("a stream consumer needs the owner's stream: without streamArn, enableStream is a synth error naming it", () => {
    const { stack } = testStack("prod");
    const table = CacheTable.fromAttributes(stack, "orders", ORDERS);
    expect(() => table.enableStream()).toThrow(/test\/orders.*streamArn.*only the table's owner can turn it on/s);
    const streamArn = `${ORDERS.tableArn}/stream/2026-01-01T00:00:00.000`;
    expect(CacheTable.fromAttributes(stack, "orders2", { ...ORDERS, streamArn }).enableStream()).toBe(streamArn);
  });

  test.each<[string, Record<string, string>, RegExp]>([
    ["a malformed ARN", { tableArn: "orders" }, /tableArn.*orders/],
    ["the ARN of another table", { tableArn: "arn:aws:dynamodb:eu-west-1:123456789012:table/payments" }, /tableArn.*the ARN of table orders/],
    ["a bad name", { tableName: "o" }, /tableName/],
    ["a malformed stream ARN", { streamArn: "stream" }, /streamArn.*stream/],
  ])("refuses %s, naming the construct path and field", (_, change, message) => {
    const { stack } = testStack("prod");
    expect(() => CacheTable.fromAttributes(stack, "orders", { ...ORDERS, ...change })).toThrow(PropsValidationError);
    expect(() => CacheTable.fromAttributes(stack, "orders-b", { ...ORDERS, ...change })).toThrow(message);
  });
});
