import { Construct } from "constructs";
import { PropsValidationError } from "../../modules/core/validation";
import { Connections, IConnectable, SecurityGroup } from "../../modules/security-group";
import { onlyResource, resourcesOf, synthJson, SynthJson, testStack } from "../helpers/synth";

const VPC_ID = "vpc-0123456789abcdef0";

class Listener extends Construct implements IConnectable {
  readonly connections: Connections;
  constructor(scope: Construct, id: string, port: number | undefined, label: string) {
    super(scope, id);
    this.connections = new Connections(new SecurityGroup(this, "sg", { vpcId: VPC_ID, description: `${label} group` }), port, label);
  }
}

function sgRef(json: SynthJson, pathPrefix: string): string {
  const found = resourcesOf(json, "aws_security_group").filter(([id]) => id.startsWith(pathPrefix));
  expect(found).toHaveLength(1);
  return `\${aws_security_group.${found[0][0]}.id}`;
}

/** GIVEN a cache on 6379 and a caller, WHEN `wire` runs, THEN this JSON. */
function synthWired(wire: (cache: Listener, caller: Listener, scope: Construct) => void): SynthJson {
  return synthJson((stack) => {
    const cache = new Listener(stack, "cache", 6379, "Redis");
    const caller = new Listener(stack, "fn", undefined, "Lambda");
    wire(cache, caller, stack);
  });
}

function everyRule(json: SynthJson): any[] {
  return [
    ...resourcesOf(json, "aws_vpc_security_group_ingress_rule"),
    ...resourcesOf(json, "aws_vpc_security_group_egress_rule"),
  ].map(([, r]) => r);
}

describe("SecurityGroup", () => {
  test("has no inline rules, revokes rules on delete and is replaced before destroyed", () => {
    const json = synthJson((stack) => { new SecurityGroup(stack, "sg", { vpcId: VPC_ID, description: "what it protects" }); });
    const sg = onlyResource(json, "aws_security_group");
    expect(sg.ingress).toBeUndefined();
    expect(sg.egress).toBeUndefined();
    expect(sg.vpc_id).toBe(VPC_ID);
    expect(sg.description).toBe("what it protects");
    expect(sg.revoke_rules_on_delete).toBe(true);
    expect(sg.lifecycle).toEqual({ create_before_destroy: true });
    expect(sg.name_prefix).toMatch(/-$/);
    expect(everyRule(json)).toHaveLength(0);
  });

  test.each(["", "   "])("refuses the empty description %p", (description) => {
    const { stack } = testStack();
    let err: unknown;
    try {
      new SecurityGroup(stack, "sg", { vpcId: VPC_ID, description });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PropsValidationError);
    const msg = (err as Error).message;
    expect(msg).toContain("test/sg");
    expect(msg).toContain("description");
    expect(msg).toContain(JSON.stringify(description));
  });

  test("refuses a non-ASCII description", () => {
    const { stack } = testStack();
    expect(() => new SecurityGroup(stack, "sg", { vpcId: VPC_ID, description: "café" })).toThrow(/test\/sg[\s\S]*description = "café"/);
  });

  test("refuses a description over 255 characters", () => {
    const { stack } = testStack();
    expect(() => new SecurityGroup(stack, "sg", { vpcId: VPC_ID, description: "x".repeat(256) })).toThrow(/test\/sg[\s\S]*description/);
  });
});

describe("Connections", () => {
  test("allowDefaultPortFrom writes ingress on the listener from the peer and the matching egress on the peer", () => {
    // GIVEN a cache and a function / WHEN the cache allows the function
    const json = synthWired((cache, fn) => cache.connections.allowDefaultPortFrom(fn));
    const cacheSg = sgRef(json, "cache_");
    const fnSg = sgRef(json, "fn_");
    // THEN
    const ingress = onlyResource(json, "aws_vpc_security_group_ingress_rule");
    expect(ingress).toMatchObject({
      security_group_id: cacheSg,
      referenced_security_group_id: fnSg,
      ip_protocol: "tcp",
      from_port: 6379,
      to_port: 6379,
    });
    expect(ingress.description).toContain("6379");
    expect(ingress.description).toContain("Lambda");
    const egress = onlyResource(json, "aws_vpc_security_group_egress_rule");
    expect(egress).toMatchObject({
      security_group_id: fnSg,
      referenced_security_group_id: cacheSg,
      ip_protocol: "tcp",
      from_port: 6379,
      to_port: 6379,
    });
    expect(egress.description).toContain("Redis");
  });

  test("an explicit description is used on both halves", () => {
    const json = synthWired((cache, fn) => cache.connections.allowDefaultPortFrom(fn, "cache-aside reads"));
    for (const r of everyRule(json)) expect(r.description).toBe("cache-aside reads");
  });

  test("wiring is idempotent: twice gives one ingress and one egress", () => {
    const json = synthWired((cache, fn) => {
      cache.connections.allowDefaultPortFrom(fn);
      cache.connections.allowDefaultPortFrom(fn);
      cache.connections.allowFrom(fn, 6379);
    });
    expect(resourcesOf(json, "aws_vpc_security_group_ingress_rule")).toHaveLength(1);
    expect(resourcesOf(json, "aws_vpc_security_group_egress_rule")).toHaveLength(1);
  });

  test("two peers get two rule pairs", () => {
    const json = synthWired((cache, fn, scope) => {
      const other = new Listener(scope, "other", undefined, "Other");
      cache.connections.allowDefaultPortFrom(fn);
      cache.connections.allowDefaultPortFrom(other);
    });
    expect(resourcesOf(json, "aws_vpc_security_group_ingress_rule")).toHaveLength(2);
    expect(resourcesOf(json, "aws_vpc_security_group_egress_rule")).toHaveLength(2);
  });

  test("prefix-list egress is idempotent and names the prefix list", () => {
    const json = synthWired((_cache, fn) => {
      fn.connections.securityGroup.addEgressToPrefixList("pl-12345678", 443, "HTTPS to DynamoDB");
      fn.connections.securityGroup.addEgressToPrefixList("pl-12345678", 443, "HTTPS to DynamoDB");
    });
    const egress = onlyResource(json, "aws_vpc_security_group_egress_rule");
    expect(egress).toMatchObject({ prefix_list_id: "pl-12345678", from_port: 443, to_port: 443, ip_protocol: "tcp" });
    expect(egress.cidr_ipv4).toBeUndefined();
  });

  test("no rule anywhere opens to a CIDR (no 0.0.0.0/0, no ::/0)", () => {
    const json = synthWired((cache, fn) => {
      cache.connections.allowDefaultPortFrom(fn);
      fn.connections.securityGroup.addEgressToPrefixList("pl-12345678", 443, "HTTPS to DynamoDB");
    });
    const text = JSON.stringify(json.resource);
    expect(text).not.toContain("0.0.0.0/0");
    expect(text).not.toContain("::/0");
    for (const r of everyRule(json)) {
      expect(r.cidr_ipv4).toBeUndefined();
      expect(r.cidr_ipv6).toBeUndefined();
      expect(r.ip_protocol).not.toBe("-1");
    }
  });

  test("allowDefaultPortFrom on something that listens on no port throws, naming its group", () => {
    const { stack } = testStack();
    const cache = new Listener(stack, "cache", 6379, "Redis");
    const fn = new Listener(stack, "fn", undefined, "Lambda");
    expect(() => fn.connections.allowDefaultPortFrom(cache)).toThrow(/test\/fn\/sg.*listens on no port/);
  });
});
