/** Security group rules: no ingress from anywhere, descriptions everywhere, no all-ports ingress. */
import { asNumber, isExpression, many, TerraformModel, TfResource } from "../model";
import type { RuleOutcome } from "../types";
import { fail, notApplicable, pass, PolicyRule, setBy, setByWiring, unknown } from "../rule";
import { show } from "./util";

/** One ingress or egress permission, wherever it is written. */
interface Permission {
  /** Attribute path prefix of the permission (`ingress.0.` for inline blocks, `` for rule resources). */
  readonly at: string;
  readonly direction: "ingress" | "egress";
  readonly values: Record<string, unknown>;
  /** Names of the fields in this resource type. */
  readonly fields: { protocol: string; v4: string; v6: string };
}

function permissionsOf(r: TfResource, model: TerraformModel): Permission[] | "unknown" {
  if (r.type === "aws_security_group" || r.type === "aws_default_security_group") {
    const out: Permission[] = [];
    for (const direction of ["ingress", "egress"] as const) {
      const v = model.value(r, direction);
      if (v.state === "unknown") return "unknown";
      if (v.state === "absent") continue;
      many(v.value).forEach((b, i) =>
        out.push({ at: `${direction}.${i}.`, direction, values: (b ?? {}) as Record<string, unknown>,
          fields: { protocol: "protocol", v4: "cidr_blocks", v6: "ipv6_cidr_blocks" } }));
    }
    return out;
  }
  if (r.type === "aws_security_group_rule") {
    const type = r.values.type;
    if (isExpression(type)) return "unknown";
    return [{ at: "", direction: type === "egress" ? "egress" : "ingress", values: r.values as Record<string, unknown>,
      fields: { protocol: "protocol", v4: "cidr_blocks", v6: "ipv6_cidr_blocks" } }];
  }
  return [{ at: "", direction: r.type === "aws_vpc_security_group_egress_rule" ? "egress" : "ingress",
    values: r.values as Record<string, unknown>, fields: { protocol: "ip_protocol", v4: "cidr_ipv4", v6: "cidr_ipv6" } }];
}

const SG_TYPES = ["aws_security_group", "aws_security_group_rule", "aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule"];

function isAnywhere(cidr: string): boolean {
  return /^0\.0\.0\.0\/0$/.test(cidr.trim()) || /^(::|0(:0){0,7}|0::)\/0$/.test(cidr.trim());
}

export const SG_NO_OPEN_INGRESS: PolicyRule = {
  id: "CF-SG-1",
  title: "No ingress from 0.0.0.0/0 or ::/0",
  severity: "error",
  resourceTypes: SG_TYPES.filter((t) => t !== "aws_vpc_security_group_egress_rule"),
  rationale:
    "Caches, DAX and functions here are reached only by wired peers; an ingress rule from anywhere exposes the " +
    "port to every address that can route to the VPC.",
  remediation: "Replace the CIDR with the peer's security group (referenced_security_group_id / source_security_group_id) or a narrow CIDR.",
  references: {
    checkov: ["CKV_AWS_24", "CKV_AWS_25", "CKV_AWS_260", "CKV_AWS_277"],
    securityHub: ["EC2.18", "EC2.19"],
    cdkNag: ["AwsSolutions-EC23"],
  },
  props: { "*": setByWiring("fn.useTable, fn.useCache, fn.useDax open groups to a peer's group, never to a CIDR") },
  evaluate(r, { model }) {
    const perms = permissionsOf(r, model);
    if (perms === "unknown") return unknown("ingress", "the rules are an expression");
    const ingress = perms.filter((p) => p.direction === "ingress");
    if (ingress.length === 0) return notApplicable();
    const out: RuleOutcome[] = [];
    for (const p of ingress) {
      for (const field of [p.fields.v4, p.fields.v6]) {
        const v = p.values[field];
        if (v === undefined || v === null) continue;
        if (isExpression(v) && !Array.isArray(v)) {
          out.push(unknown(`${p.at}${field}`, `${p.at}${field} is the expression ${show(v)}`));
          continue;
        }
        for (const cidr of many(v)) {
          if (typeof cidr === "string" && isExpression(cidr)) out.push(unknown(`${p.at}${field}`, `${p.at}${field} holds an expression`));
          else if (typeof cidr === "string" && isAnywhere(cidr)) out.push(fail(`${p.at}${field}`, `ingress from ${cidr} (anywhere)`));
        }
      }
    }
    return out.length > 0 ? out : pass();
  },
};

const TERRAFORM_DEFAULT_DESCRIPTION = "Managed by Terraform";

export const SG_DESCRIPTIONS: PolicyRule = {
  id: "CF-SG-2",
  title: "Every security group and rule has a description",
  severity: "warning",
  resourceTypes: SG_TYPES,
  rationale:
    "Security groups outlive the people who wrote them; a description is how a reviewer tells a needed flow from " +
    "a forgotten one.",
  remediation: "Give the group and each rule a description saying what it protects or allows and why.",
  references: { checkov: ["CKV_AWS_23"], cdkNag: ["AwsSolutions-EC27"] },
  props: { "*": setBy("SecurityGroup and Connections") },
  evaluate(r, { model }) {
    const out: RuleOutcome[] = [];
    const check = (at: string, v: unknown, what: string) => {
      if (v === undefined || v === null) out.push(fail(at, `${what} has no description`));
      else if (isExpression(v)) out.push(unknown(at, `${at} is an expression`));
      else if (typeof v !== "string" || v.trim() === "") out.push(fail(at, `${what} has an empty description`));
      else if (v.trim() === TERRAFORM_DEFAULT_DESCRIPTION) out.push(fail(at, `${what} has Terraform's placeholder description "${TERRAFORM_DEFAULT_DESCRIPTION}"`));
    };
    if (r.type === "aws_security_group") {
      check("description", r.values.description, "the group");
      const perms = permissionsOf(r, model);
      if (perms !== "unknown") for (const p of perms) check(`${p.at}description`, p.values.description, `rule ${p.at.slice(0, -1)}`);
    } else {
      check("description", r.values.description, "the rule");
    }
    return out.length > 0 ? out : pass();
  },
};

export const SG_NO_ALL_PORTS_INGRESS: PolicyRule = {
  id: "CF-SG-3",
  title: "No ingress on all ports",
  severity: "error",
  resourceTypes: SG_TYPES.filter((t) => t !== "aws_vpc_security_group_egress_rule"),
  rationale: "A service listens on one port; opening every port (or every protocol) admits anything else that runs there.",
  remediation: "Allow the one port the service listens on (from_port = to_port = the port) with protocol tcp.",
  references: { checkov: ["CKV_AWS_277"], securityHub: ["EC2.19"] },
  props: { "*": setByWiring("fn.useCache, fn.useDax open the one port the service listens on") },
  evaluate(r, { model }) {
    const perms = permissionsOf(r, model);
    if (perms === "unknown") return unknown("ingress", "the rules are an expression");
    const ingress = perms.filter((p) => p.direction === "ingress");
    if (ingress.length === 0) return notApplicable();
    const out: RuleOutcome[] = [];
    for (const p of ingress) {
      const proto = p.values[p.fields.protocol];
      if (isExpression(proto)) {
        out.push(unknown(`${p.at}${p.fields.protocol}`, "the protocol is an expression"));
        continue;
      }
      const protocol = String(proto ?? "").toLowerCase();
      if (protocol === "-1" || protocol === "all") {
        out.push(fail(`${p.at}${p.fields.protocol}`, `${p.fields.protocol} = ${show(proto)} allows every protocol and port`));
        continue;
      }
      if (!["tcp", "udp", "6", "17"].includes(protocol)) continue; // ICMP types, other protocols: no ports
      const fromV = p.values.from_port;
      const toV = p.values.to_port;
      if (isExpression(fromV) || isExpression(toV)) {
        out.push(unknown(`${p.at}from_port`, "the port range is an expression"));
        continue;
      }
      const from = asNumber(fromV);
      const to = asNumber(toV);
      if (from === undefined || to === undefined) {
        out.push(fail(`${p.at}${from === undefined ? "from_port" : "to_port"}`, `${protocol} ingress with no port range covers every port`));
      } else if (from <= 1 && to >= 65535) {
        out.push(fail(`${p.at}from_port`, `ports ${from}-${to} cover every port`));
      }
    }
    return out.length > 0 ? out : pass();
  },
};

export const SECURITY_GROUP_RULES: readonly PolicyRule[] = [SG_NO_OPEN_INGRESS, SG_DESCRIPTIONS, SG_NO_ALL_PORTS_INGRESS];
