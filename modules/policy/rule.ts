/**
 * What a rule is and what it returns. A rule is pure: given one resource and the stack's
 * model it says compliant, non-compliant, unknown (the value is only known after planning,
 * or lives outside the stack) or not applicable. It never reads anything else.
 */
import type { Profile } from "../core/profile";
import type { RuleOutcome, Severity } from "./types";
import type { TerraformModel, TfResource } from "./model";

/** Public controls a rule corresponds to, where one exists. */
export interface PublicControls {
  /** Checkov check ids, e.g. `CKV_AWS_29`. */
  readonly checkov?: readonly string[];
  /** AWS Security Hub (Foundational Security Best Practices) control ids, e.g. `ElastiCache.4`. */
  readonly securityHub?: readonly string[];
  /** cdk-nag rule ids, e.g. `AwsSolutions-AEC3`. */
  readonly cdkNag?: readonly string[];
}

/** What a rule sees besides the resource. */
export interface RuleContext {
  /** Every resource of the stack, for following references. */
  readonly model: TerraformModel;
  /** Profile of the stack (`prod` escalates some severities and enables prod-only rules). */
  readonly profile: Profile;
  /** The evaluation date, `YYYY-MM-DD` (date-dependent rules such as runtime support use it). */
  readonly today: string;
}

/** One rule of a pack. */
export interface PolicyRule {
  /** Stable id, e.g. `CF-EC-1`; suppressions name it. */
  readonly id: string;
  /** What compliance looks like, in a few words. */
  readonly title: string;
  /** Severity outside prod (and in prod unless `prodSeverity` says otherwise). */
  readonly severity: Severity;
  /** Severity in prod stacks, when it differs. */
  readonly prodSeverity?: Severity;
  /** Profiles the rule applies to; all when absent (e.g. `["prod"]` for prod-only rules). */
  readonly profiles?: readonly Profile[];
  /** Resource types it evaluates (`aws_vpc`, or `data.aws_vpc` for data sources). */
  readonly resourceTypes: readonly string[];
  /** Why it matters, one or two sentences. */
  readonly rationale: string;
  /** How to fix a violation, one sentence. */
  readonly remediation: string;
  /** Equivalent public controls. */
  readonly references: PublicControls;
  /** Evaluates one resource of a listed type. */
  evaluate(resource: TfResource, ctx: RuleContext): RuleOutcome | readonly RuleOutcome[];
}

/** Compliant. */
export function pass(): RuleOutcome {
  return { status: "pass" };
}

/** Not relevant to this resource (e.g. failover on a group without replicas). */
export function notApplicable(): RuleOutcome {
  return { status: "not-applicable" };
}

/** Non-compliant at `attribute`. */
export function fail(attribute: string, message: string): RuleOutcome {
  return { status: "fail", attribute, message };
}

/** Undecidable from this configuration. */
export function unknown(attribute: string, message: string): RuleOutcome {
  return { status: "unknown", attribute, message };
}

/** The severity of `rule` in a stack of `profile`. */
export function severityIn(rule: PolicyRule, profile: Profile): Severity {
  return profile === "prod" && rule.prodSeverity ? rule.prodSeverity : rule.severity;
}

/** True when `rule` applies to stacks of `profile`. */
export function appliesIn(rule: PolicyRule, profile: Profile): boolean {
  return !rule.profiles || rule.profiles.includes(profile);
}
