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

/**
 * What sets an attribute a rule checks, for users of the cachefront constructs: construct props
 * (`DaxCluster.replicationFactor`), or none, with what sets it instead (a construct that always
 * writes it compliantly, or wiring such as `fn.useCache(cache)`).
 */
export type ConstructSetting =
  | { readonly props: readonly string[]; readonly note?: string }
  | { readonly none: string };

/** Set by these construct props (`Class.prop`, each a field of `ClassProps` or of interface `Class`). */
export function byProps(props: string | readonly string[], note?: string): ConstructSetting {
  return { props: typeof props === "string" ? [props] : [...props], ...(note ? { note } : {}) };
}

/** No prop: `construct` always sets the attribute compliantly (a finding means an override or a raw resource). */
export function setBy(construct: string): ConstructSetting {
  return { none: `set by ${construct}` };
}

/** No prop: wiring (`calls`) writes the attribute. */
export function setByWiring(calls: string): ConstructSetting {
  return { none: `set by wiring (${calls})` };
}

/** `Construct prop: DaxCluster.replicationFactor`, or `No construct prop: set by RedisCache`. */
export function settingText(s: ConstructSetting): string {
  if ("none" in s) return `No construct prop: ${s.none}`;
  return `Construct prop: ${s.props.join(" / ")}${s.note ? ` (${s.note})` : ""}`;
}

/**
 * The setting of `rule` behind `attribute`: the `props` key equal to the attribute or to its last
 * (or first) dotted segments, the longest such key first, else the `*` entry.
 */
export function settingOf(rule: PolicyRule, attribute: string): ConstructSetting | undefined {
  const props = rule.props ?? {};
  const keys = Object.keys(props).filter((k) => k !== "*").sort((a, b) => b.length - a.length);
  const hit = keys.find((k) => attribute === k || attribute.endsWith(`.${k}`) || attribute.startsWith(`${k}.`) || attribute.startsWith(`${k} `));
  return hit ? props[hit] : props["*"];
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
  /**
   * What sets each attribute the rule reports, in the cachefront constructs, keyed by attribute
   * (`retention_in_days` also covers `aws_cloudwatch_log_group.fn.retention_in_days`), `*` for
   * any other; findings and help/policy.md show it.
   * @default none (findings name only the Terraform attribute)
   */
  readonly props?: Readonly<Record<string, ConstructSetting>>;
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
