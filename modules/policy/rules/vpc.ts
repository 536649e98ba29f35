/** VPC rules: flow logs, a closed default security group, no public IPs by default, no default VPC. */
import { asBool, many, TerraformModel, TfResource } from "../model";
import type { RuleOutcome } from "../types";
import { fail, pass, PolicyRule, setBy, unknown } from "../rule";
import { boolAttr } from "./util";

/** Resource types that write security group rules into a group named by `security_group_id`. */
const RULE_TYPES = ["aws_security_group_rule", "aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule"];

/**
 * Finds the resources of `type` whose `attr` points at `target`. `unknown` is true when some
 * resource of that type has an attribute that cannot be followed (it might point there).
 */
function pointingAt(model: TerraformModel, type: string, attr: string, target: TfResource): { found: TfResource[]; unknown: boolean } {
  const found: TfResource[] = [];
  let undecided = false;
  for (const r of model.ofType(type)) {
    const p = model.follow(r, attr);
    if (p.kind === "resource" && p.resource.address === target.address) found.push(r);
    else if (p.kind === "unknown") undecided = true;
  }
  return { found, unknown: undecided };
}

export const VPC_FLOW_LOGS: PolicyRule = {
  id: "CF-VPC-1",
  title: "VPCs have flow logs",
  severity: "error",
  resourceTypes: ["aws_vpc"],
  rationale:
    "Flow logs are the only record of which addresses talked to the caches and functions in the VPC; " +
    "without them an incident cannot be reconstructed.",
  remediation: "Add an aws_flow_log with vpc_id set to this VPC and a log destination (the Network construct does this).",
  references: { checkov: ["CKV2_AWS_11"], securityHub: ["EC2.6"], cdkNag: ["AwsSolutions-VPC7", "NIST.800.53.R5-VPCFlowLogsEnabled"] },
  props: { "*": setBy("Network") },
  evaluate(vpc, { model }) {
    const { found, unknown: undecided } = pointingAt(model, "aws_flow_log", "vpc_id", vpc);
    if (found.length > 0) return pass();
    if (undecided) return unknown("aws_flow_log.vpc_id", "a flow log's vpc_id is an expression; cannot tell whether it covers this VPC");
    return fail("aws_flow_log.vpc_id", `no aws_flow_log in the stack has vpc_id = ${vpc.address}.id`);
  },
};

export const VPC_DEFAULT_SG_CLOSED: PolicyRule = {
  id: "CF-VPC-2",
  title: "The default security group has no rules",
  severity: "error",
  resourceTypes: ["aws_vpc", "aws_default_security_group"],
  rationale:
    "AWS creates every VPC's default group allowing all traffic between its members and all egress; anything " +
    "launched without a group lands in it. Managing it with no rules closes that door.",
  remediation:
    "Adopt the default group with an aws_default_security_group (vpc_id = the VPC) that has no ingress or egress, " +
    "and attach no rule resources to it.",
  references: { checkov: ["CKV2_AWS_12"], securityHub: ["EC2.2"], cdkNag: ["NIST.800.53.R5-VPCDefaultSecurityGroupClosed"] },
  props: { "*": setBy("Network") },
  evaluate(r, { model }) {
    if (r.type === "aws_default_security_group") {
      const out: RuleOutcome[] = [];
      for (const dir of ["ingress", "egress"] as const) {
        const v = model.value(r, dir);
        if (v.state === "unknown") out.push(unknown(dir, `${dir} is an expression; cannot tell whether it is empty`));
        else if (v.state === "known" && many(v.value).length > 0) {
          out.push(fail(dir, `${dir} has ${many(v.value).length} rule(s); the default group must allow nothing`));
        }
      }
      for (const type of RULE_TYPES) {
        for (const rule of pointingAt(model, type, "security_group_id", r).found) {
          out.push(fail(`${rule.address}.security_group_id`, `${rule.address} adds a rule to the default security group`));
        }
      }
      return out.length > 0 ? out : pass();
    }
    // aws_vpc: its default group must be adopted, and no rule may target it through default_security_group_id.
    const out: RuleOutcome[] = [];
    for (const type of RULE_TYPES) {
      for (const rule of model.ofType(type)) {
        const v = rule.values.security_group_id;
        if (typeof v === "string" && v === `\${${r.address}.default_security_group_id}`) {
          out.push(fail(`${rule.address}.security_group_id`, `${rule.address} adds a rule to the VPC's default security group`));
        }
      }
    }
    const adopted = pointingAt(model, "aws_default_security_group", "vpc_id", r);
    if (adopted.found.length === 0) {
      if (adopted.unknown) out.push(unknown("aws_default_security_group.vpc_id", "a default security group's vpc_id is an expression"));
      else {
        out.push(fail("aws_default_security_group.vpc_id",
          "the VPC's default security group is not managed, so it keeps AWS's rules (all traffic between members, all egress)"));
      }
    }
    return out.length > 0 ? out : pass();
  },
};

export const VPC_NO_PUBLIC_IP: PolicyRule = {
  id: "CF-VPC-3",
  title: "Subnets do not assign public IPs",
  severity: "error",
  resourceTypes: ["aws_subnet", "aws_default_subnet"],
  rationale:
    "A subnet that maps public IPs gives every network interface launched in it an internet address, " +
    "whether or not the workload should be reachable.",
  remediation: "Set map_public_ip_on_launch = false (the default for aws_subnet; aws_default_subnet defaults to true).",
  references: { checkov: ["CKV_AWS_130"], securityHub: ["EC2.15"], cdkNag: ["NIST.800.53.R5-VPCSubnetAutoAssignPublicIpDisabled"] },
  props: { "*": setBy("Network") },
  evaluate(r, { model }) {
    return boolAttr(model, r, "map_public_ip_on_launch", false,
      r.type === "aws_subnet" ? "compliant" : "non-compliant",
      "map_public_ip_on_launch is not set, and default subnets assign public IPs unless it is false");
  },
};

export const VPC_NO_DEFAULT_VPC: PolicyRule = {
  id: "CF-VPC-4",
  title: "Nothing uses the default VPC",
  severity: "error",
  resourceTypes: ["aws_default_vpc", "aws_default_subnet", "data.aws_vpc"],
  rationale:
    "The default VPC has public subnets, an internet gateway and no flow logs; workloads belong in a VPC this " +
    "configuration builds and controls.",
  remediation: "Create a VPC (the Network construct) and pass its ids instead of adopting or looking up the default VPC.",
  references: { checkov: ["CKV_AWS_148"] },
  props: { "*": setBy("Network, which builds its own VPC") },
  evaluate(r, { model }) {
    if (r.type === "aws_default_vpc") return fail("(resource)", "aws_default_vpc adopts the account's default VPC");
    if (r.type === "aws_default_subnet") return fail("(resource)", "aws_default_subnet adopts a subnet of the default VPC");
    const d = model.value(r, "default");
    if (d.state === "known" && asBool(d.value) === true) return fail("default", "data.aws_vpc looks up the default VPC (default = true)");
    if (d.state === "unknown") return unknown("default", "default is an expression");
    const selectors = ["id", "cidr_block", "filter", "tags", "dhcp_options_id", "state"];
    if (!selectors.some((k) => model.value(r, k).state !== "absent")) {
      return fail("id", "data.aws_vpc has no id or filter, so it resolves to the default VPC whenever that is the only one");
    }
    return pass();
  },
};

export const VPC_RULES: readonly PolicyRule[] = [VPC_FLOW_LOGS, VPC_DEFAULT_SG_CLOSED, VPC_NO_PUBLIC_IP, VPC_NO_DEFAULT_VPC];
