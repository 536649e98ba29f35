/**
 * IAM roles whose permissions come only from wiring (`table.grantReadData(fn)`), each grant
 * one named inline policy, so the synthesized JSON shows who was given what and why.
 */
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { Fn } from "cdktf";
import { Construct } from "constructs";
import { physicalName } from "../core/naming";
import { SCOPED_SERVICES } from "../policy/rules/iam";

/** One IAM policy statement (always Allow: deny statements are not what wiring expresses). */
export interface PolicyStatement {
  /** IAM actions, e.g. `dynamodb:GetItem`. */
  readonly actions: readonly string[];
  /** ARNs the actions apply to. `*` is refused for data-plane services (see {@link ScopedServices}). */
  readonly resources: readonly string[];
  /** Optional IAM condition block. */
  readonly conditions?: Record<string, Record<string, string | string[]>>;
}

/**
 * Services whose actions must always be scoped to ARNs: a `*` resource here would let a
 * function read every table, cluster, secret, key or bucket in the account. The policy pack's
 * CF-IAM-2 list, so a grant refused here is the finding the pack would report.
 */
export const ScopedServices: readonly string[] = SCOPED_SERVICES;

/** Something that can be granted permissions, e.g. a function. */
export interface IGrantable {
  /** The principal grants are added to (a function's execution role). */
  readonly grantPrincipal: IPrincipal;
}

/** The receiving end of a grant. */
export interface IPrincipal {
  /**
   * Adds a named inline policy. Calling twice with the same `name` is a no-op, so grants are
   * idempotent.
   */
  addToPrincipalPolicy(name: string, statements: readonly PolicyStatement[]): void;
}

/** Props of {@link Role}. */
export interface RoleProps {
  /** Service principal that may assume the role, e.g. `lambda.amazonaws.com`. Nothing else can. */
  readonly assumedBy: string;
  /** What the role is for. */
  readonly description: string;
  /**
   * Role name.
   * @default derived from the construct path (≤ 64 characters)
   */
  readonly roleName?: string;
}

/** An IAM role trusted by exactly one AWS service, with permissions added by grants. */
export class Role extends Construct implements IPrincipal, IGrantable {
  /** The Terraform `aws_iam_role` resource. */
  public readonly resource: IamRole;
  /** @attribute The role's ARN. */
  public readonly roleArn: string;
  /** @attribute The role's name. */
  public readonly roleName: string;
  /** The role itself: grants to the role add inline policies to it. */
  public readonly grantPrincipal: IPrincipal = this;
  private readonly policies = new Map<string, IamRolePolicy>();

  constructor(scope: Construct, id: string, props: RoleProps) {
    super(scope, id);
    this.resource = new IamRole(this, "role", {
      name: props.roleName ?? physicalName(this, 64),
      description: props.description,
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Principal: { Service: props.assumedBy }, Action: "sts:AssumeRole" },
        ],
      }),
    });
    this.roleArn = this.resource.arn;
    this.roleName = this.resource.name;
  }

  addToPrincipalPolicy(name: string, statements: readonly PolicyStatement[]): void {
    if (this.policies.has(name)) return;
    assertScoped(this, name, statements);
    const policy = new IamRolePolicy(this, `policy-${name}`, {
      name,
      role: this.resource.id,
      policy: Fn.jsonencode({
        Version: "2012-10-17",
        Statement: statements.map((s) => ({
          Effect: "Allow",
          Action: [...s.actions],
          Resource: [...s.resources],
          ...(s.conditions ? { Condition: s.conditions } : {}),
        })),
      }),
    });
    this.policies.set(name, policy);
  }

  /** The inline policy resource added under `name`, if any. */
  policyResource(name: string): IamRolePolicy | undefined {
    return this.policies.get(name);
  }

  /** Names of the inline policies added so far. */
  get policyNames(): string[] {
    return [...this.policies.keys()];
  }
}

function assertScoped(scope: Construct, name: string, statements: readonly PolicyStatement[]): void {
  for (const s of statements) {
    // IAM matches action names case-insensitively, so "DynamoDB:GetItem" is dynamodb too.
    const scoped = s.actions.filter((a) => ScopedServices.includes(a.split(":")[0].toLowerCase()));
    if (s.actions.includes("*")) {
      throw new Error(`${scope.node.path}: policy "${name}" grants action "*"; list the actions the caller needs`);
    }
    if (scoped.length > 0 && s.resources.includes("*")) {
      throw new Error(
        `${scope.node.path}: policy "${name}" grants ${scoped.join(", ")} on resource "*"; ` +
          `scope ${ScopedServices.join("/")} actions to ARNs`,
      );
    }
  }
}
