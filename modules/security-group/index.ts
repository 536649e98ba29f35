/**
 * Security groups that are filled by wiring, never by hand:
 *
 *   cache.connections.allowDefaultPortFrom(fn);   // ingress on the cache port from fn's SG
 *                                                 // + the matching egress on fn's SG
 */
import { SecurityGroup as TfSecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Token } from "cdktf";
import { Construct, IConstruct } from "constructs";
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
 * A security group wiring can write rules on: one this stack creates ({@link SecurityGroup}), or
 * one another stack or team owns ({@link SecurityGroup.fromId}). Rules are separate resources in
 * the stack that wires, so the stack that needs a flow owns it, and destroying that stack removes
 * only its own rules.
 */
export interface ISecurityGroup extends IConstruct {
  /** @attribute The security group's id. */
  readonly securityGroupId: string;
  /** Ingress on `port` from another group. Idempotent per (peer, port). */
  addIngressFromGroup(peer: ISecurityGroup, port: number, description: string): void;
  /** Egress on `port` to another group. Idempotent per (peer, port). */
  addEgressToGroup(peer: ISecurityGroup, port: number, description: string): void;
  /** Egress on `port` to a managed prefix list (e.g. the DynamoDB gateway endpoint's). */
  addEgressToPrefixList(prefixListId: string, port: number, description: string): void;
}

/** The rule-writing half every security group shares. */
abstract class SecurityGroupBase extends Construct implements ISecurityGroup {
  abstract readonly securityGroupId: string;
  private readonly ruleKeys = new Set<string>();

  /** Ingress on `port` from another group. Idempotent per (peer, port). */
  addIngressFromGroup(peer: ISecurityGroup, port: number, description: string): void {
    this.rule("in", { referencedSecurityGroupId: peer.securityGroupId }, `in|${peer.node.path}|${port}`, port, description);
  }

  /** Egress on `port` to another group. Idempotent per (peer, port). */
  addEgressToGroup(peer: ISecurityGroup, port: number, description: string): void {
    this.rule("out", { referencedSecurityGroupId: peer.securityGroupId }, `out|${peer.node.path}|${port}`, port, description);
  }

  /**
   * Egress on `port` to a managed prefix list (e.g. the DynamoDB gateway endpoint's), so a
   * function in a private subnet reaches DynamoDB without any 0.0.0.0/0 rule.
   */
  addEgressToPrefixList(prefixListId: string, port: number, description: string): void {
    // Keyed by what the rule is for, not by the prefix list id: that is a token whose text depends on
    // how many tokens were made before it, and a logical id must not move when unrelated code changes.
    this.rule("out", { prefixListId }, `pl|${description}|${port}`, port, description);
  }

  /** One TCP rule on `port`, once per `key` (its logical id derives from the key). */
  private rule(direction: "in" | "out", peer: { referencedSecurityGroupId?: string; prefixListId?: string }, key: string, port: number, description: string): void {
    if (this.ruleKeys.has(key)) return;
    this.ruleKeys.add(key);
    const config = { securityGroupId: this.securityGroupId, ...peer, ipProtocol: "tcp", fromPort: port, toPort: port, description };
    if (direction === "in") new VpcSecurityGroupIngressRule(this, `in-${shortHash(key)}`, config);
    else new VpcSecurityGroupEgressRule(this, `out-${shortHash(key)}`, config);
  }
}

const SG_ID_RE = /^sg-[0-9a-f]{8}(?:[0-9a-f]{9})?$/;

/**
 * A security group with no rules of its own: ingress and egress are added only by
 * {@link Connections} when two resources are wired together. Terraform, unlike the console,
 * does not add the default allow-all egress rule, so an unwired group can talk to nobody.
 */
export class SecurityGroup extends SecurityGroupBase {
  /**
   * A group that already exists (another stack's, or a platform team's), by id: rules wiring adds
   * to it are created in `scope`'s stack. Nothing is looked up, so plans stay offline. The owner
   * must manage the group's rules as separate resources (as {@link SecurityGroup} does), never
   * inline: inline rules would delete these on the owner's next apply.
   *
   *   const cacheSg = SecurityGroup.fromId(this, "platform-cache-sg", "sg-0123456789abcdef0");
   */
  static fromId(scope: Construct, id: string, securityGroupId: string): ISecurityGroup {
    new PropsValidator(`${scope.node.path}/${id}`)
      .check(Token.isUnresolved(securityGroupId) || SG_ID_RE.test(securityGroupId), "securityGroupId", securityGroupId,
        "a security group id such as \"sg-0123456789abcdef0\" (or a reference to one)")
      .throwIfAny();
    return new ImportedSecurityGroup(scope, id, securityGroupId);
  }

  /** The Terraform resource. */
  public readonly resource: TfSecurityGroup;
  /** @attribute The security group's id. */
  public readonly securityGroupId: string;

  constructor(scope: Construct, id: string, props: SecurityGroupProps) {
    super(scope, id);
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
}

/** A group created elsewhere; see {@link SecurityGroup.fromId}. */
class ImportedSecurityGroup extends SecurityGroupBase {
  constructor(scope: Construct, id: string, public readonly securityGroupId: string) {
    super(scope, id);
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
    public readonly securityGroup: ISecurityGroup,
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
