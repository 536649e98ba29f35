/**
 * Security groups that are filled by wiring, never by hand:
 *
 *   cache.connections.allowDefaultPortFrom(fn);   // ingress on the cache port from fn's SG
 *                                                 // + the matching egress on fn's SG
 */
import { SecurityGroup as TfSecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Construct } from "constructs";
import { createHash } from "crypto";
import { physicalName } from "../core/naming";
import { PropsValidator } from "../core/validation";

/** Props of {@link SecurityGroup}. */
export interface SecurityGroupProps {
  /** VPC the group lives in. */
  readonly vpcId: string;
  /** What the group protects; shown in the console and required by the policy pack. */
  readonly description: string;
  /**
   * Name prefix of the group (Terraform adds a unique suffix, so replacements never clash).
   * @default derived from the construct path
   */
  readonly namePrefix?: string;
}

/**
 * A security group with no rules of its own: ingress and egress are added only by
 * {@link Connections} when two resources are wired together. Terraform, unlike the console,
 * does not add the default allow-all egress rule, so an unwired group can talk to nobody.
 */
export class SecurityGroup extends Construct {
  /**
   * A group another stack owns, by id: wiring adds rules to it from this stack (the consumer's
   * side, so no cross-stack cycle), and nothing else of it is managed here.
   */
  static fromSecurityGroupId(scope: Construct, id: string, securityGroupId: string): SecurityGroup {
    return new SecurityGroup(scope, id, { existingSecurityGroupId: securityGroupId });
  }

  /** The Terraform resource; undefined for a group imported with {@link SecurityGroup.fromSecurityGroupId}. */
  public readonly resource?: TfSecurityGroup;
  /** @attribute The security group's id. */
  public readonly securityGroupId: string;
  private readonly ruleKeys = new Set<string>();

  constructor(scope: Construct, id: string, props: SecurityGroupProps | { readonly existingSecurityGroupId: string }) {
    super(scope, id);
    if ("existingSecurityGroupId" in props) {
      this.securityGroupId = props.existingSecurityGroupId;
      return;
    }
    PropsValidator.for(this)
      .check(props.description.trim().length > 0, "description", props.description, "a non-empty description")
      .check(props.description.length <= 255, "description", props.description, "at most 255 characters")
      .check(/^[\x20-\x7e]*$/.test(props.description), "description", props.description,
        "printable ASCII only (a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$*)")
      .throwIfAny();
    this.resource = new TfSecurityGroup(this, "group", {
      namePrefix: `${props.namePrefix ?? physicalName(this, 200)}-`,
      description: props.description,
      vpcId: props.vpcId,
      revokeRulesOnDelete: true,
      lifecycle: { createBeforeDestroy: true },
    });
    this.securityGroupId = this.resource.id;
  }

  /** Ingress on `port` from another group. Idempotent per (peer, port). */
  addIngressFromGroup(peer: SecurityGroup, port: number, description: string): void {
    const key = `in|${peer.node.path}|${port}`;
    if (this.ruleKeys.has(key)) return;
    this.ruleKeys.add(key);
    new VpcSecurityGroupIngressRule(this, `in-${shortHash(key)}`, {
      securityGroupId: this.securityGroupId,
      referencedSecurityGroupId: peer.securityGroupId,
      ipProtocol: "tcp",
      fromPort: port,
      toPort: port,
      description,
    });
  }

  /** Egress on `port` to another group. Idempotent per (peer, port). */
  addEgressToGroup(peer: SecurityGroup, port: number, description: string): void {
    const key = `out|${peer.node.path}|${port}`;
    if (this.ruleKeys.has(key)) return;
    this.ruleKeys.add(key);
    new VpcSecurityGroupEgressRule(this, `out-${shortHash(key)}`, {
      securityGroupId: this.securityGroupId,
      referencedSecurityGroupId: peer.securityGroupId,
      ipProtocol: "tcp",
      fromPort: port,
      toPort: port,
      description,
    });
  }

  /**
   * Egress on `port` to a managed prefix list (e.g. the DynamoDB gateway endpoint's), so a
   * function in a private subnet reaches DynamoDB without any 0.0.0.0/0 rule.
   */
  addEgressToPrefixList(prefixListId: string, port: number, description: string): void {
    // Keyed by what the rule is for, not by the prefix list id: that is a token whose text depends on
    // how many tokens were made before it, and a logical id must not move when unrelated code changes.
    const key = `pl|${description}|${port}`;
    if (this.ruleKeys.has(key)) return;
    this.ruleKeys.add(key);
    new VpcSecurityGroupEgressRule(this, `out-${shortHash(key)}`, {
      securityGroupId: this.securityGroupId,
      prefixListId,
      ipProtocol: "tcp",
      fromPort: port,
      toPort: port,
      description,
    });
  }
}

function shortHash(s: string): string {
  return createHash("sha256").update(s).digest("hex").slice(0, 8);
}

/** Anything that owns a security group and can be wired to others. */
export interface IConnectable {
  /** Its security group and listening port, which wiring (`allowFrom`) writes rules on. */
  readonly connections: Connections;
}

/**
 * The network side of a resource: its security group and the port it listens on. Wiring
 * writes both halves of a flow, the ingress on the listener and the egress on the caller.
 */
export class Connections {
  constructor(
    /** The group of the resource. */
    public readonly securityGroup: SecurityGroup,
    /** The port the resource listens on, if it listens at all (a Lambda does not). */
    public readonly defaultPort?: number,
    /** Label used in rule descriptions, e.g. "Redis". */
    public readonly label: string = "service",
  ) {}

  /** Lets `peer` reach this resource on its default port. */
  allowDefaultPortFrom(peer: IConnectable, description?: string): void {
    if (this.defaultPort === undefined) {
      throw new Error(`${this.securityGroup.node.path}: this resource listens on no port; nothing can be allowed in`);
    }
    this.allowFrom(peer, this.defaultPort, description);
  }

  /** Lets `peer` reach this resource on `port`: ingress here, egress on the peer. */
  allowFrom(peer: IConnectable, port: number, description?: string): void {
    const peerName = peer.connections.label;
    this.securityGroup.addIngressFromGroup(
      peer.connections.securityGroup,
      port,
      description ?? `${this.label} port ${port} from ${peerName} (${peer.connections.securityGroup.node.path})`,
    );
    peer.connections.securityGroup.addEgressToGroup(
      this.securityGroup,
      port,
      description ?? `${peerName} to ${this.label} port ${port} (${this.securityGroup.node.path})`,
    );
  }
}
