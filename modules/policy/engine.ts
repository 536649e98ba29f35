/**
 * Runs rules over a model and turns outcomes into findings: effective severity (prod
 * escalation), suppressions (per construct path or per resource, each with a reason), and
 * plan refinement of what synth could not decide.
 */
import type { Profile } from "../core/profile";
import type { FindingStatus, ModelSource, RuleOutcome, Severity } from "./types";
import type { TerraformModel, TfResource } from "./model";
import { appliesIn, ConstructSetting, PolicyRule, settingOf, settingText, severityIn } from "./rule";
import { ALL_RULES } from "./rules";

/** Key of the pack's record in a synthesized stack's `//` metadata. */
export const POLICY_METADATA_KEY = "cachefront_policy";

/** Shortest reason a suppression may give. */
export const MIN_REASON_LENGTH = 10;

/** A rule switched off for part of a stack, with the reason why. */
export interface Suppression {
  /** Rule id, e.g. `CF-SM-2`. */
  readonly ruleId: string;
  /** Why the rule does not apply here (at least 10 characters); shown in every report. */
  readonly reason: string;
  /**
   * Construct path the suppression covers, with everything below it. Absolute
   * (`session-store-prod/cache`) or, in `applyPolicy` options, relative to the stack (`cache`).
   * Omit it to cover the whole stack.
   */
  readonly path?: string;
  /** Limits the suppression to one resource, by Terraform address (`aws_secretsmanager_secret.cache_auth-secret_17C4D2DF`). */
  readonly address?: string;
}

/** The outcome of one rule on one resource (not-applicable outcomes are not findings). */
export interface Finding {
  /** Id of the rule, e.g. `CF-SG-1`. */
  readonly ruleId: string;
  /** The rule's title. */
  readonly title: string;
  /** Effective severity in this stack (after prod escalation). */
  readonly severity: Severity;
  /** Outcome: pass, fail, unknown or suppressed. */
  readonly status: FindingStatus;
  /** For suppressed findings: what the rule said before the suppression. */
  readonly suppressedStatus?: "fail" | "unknown";
  /** Stack the resource belongs to. */
  readonly stack: string;
  /** Terraform address, e.g. `aws_lambda_function.fn_function_DEA3557A`. */
  readonly address: string;
  /** Terraform resource type, e.g. `aws_lambda_function`. */
  readonly resourceType: string;
  /** Construct path of the resource. */
  readonly path: string;
  /** Offending attribute (fail, unknown, suppressed). */
  readonly attribute?: string;
  /**
   * What sets the attribute in the constructs (from the rule's `props`): construct props such as
   * `DaxCluster.replicationFactor`, or none and what sets it instead; absent when the rule says nothing.
   */
  readonly construct?: ConstructSetting;
  /** What is wrong or unknown. */
  readonly message?: string;
  /** The rule's fix. */
  readonly remediation: string;
  /** The suppression that covered it. */
  readonly suppression?: { readonly reason: string; readonly scope: string };
  /** `plan` when the outcome was decided from `terraform show -json` because synth could not. */
  readonly source: ModelSource;
}

/** A suppression and how many findings it covered (0 means it is stale). */
export interface SuppressionUse extends Suppression {
  /** Absolute construct path (`` for the whole stack). */
  readonly path: string;
  /** Findings it covered. */
  readonly matched: number;
}

/** Counts of a stack's findings. */
export interface ReportSummary {
  /** Error-level violations (not suppressed). */
  readonly errors: number;
  /** Warning-level violations (not suppressed). */
  readonly warnings: number;
  /** Outcomes that could not be decided from the configuration. */
  readonly unknown: number;
  /** Violations or unknowns covered by a suppression. */
  readonly suppressed: number;
  /** Passing outcomes. */
  readonly passed: number;
  /** Resources evaluated. */
  readonly resources: number;
  /** Rules evaluated. */
  readonly rules: number;
}

/** Everything the pack found in one stack. */
export interface StackReport {
  /** Stack name. */
  readonly stack: string;
  /** Profile the stack was evaluated with. */
  readonly profile: Profile;
  /** Every finding, passes included. */
  readonly findings: readonly Finding[];
  /** Every suppression in force, with how many findings it covered. */
  readonly suppressions: readonly SuppressionUse[];
  /** Counts of the findings. */
  readonly summary: ReportSummary;
  /** Rules evaluated (ids), in pack order. */
  readonly ruleIds: readonly string[];
}

/** Options of {@link evaluateModel}. */
export interface EvaluateOptions {
  /** Profile of the stack. */
  readonly profile: Profile;
  /** Rules to run. @default every rule of the pack */
  readonly rules?: readonly PolicyRule[];
  /** Suppressions with absolute paths (see {@link Suppression}). @default none */
  readonly suppressions?: readonly Suppression[];
  /** Evaluation date, `YYYY-MM-DD`. @default today (UTC) */
  readonly today?: string;
}

/** Throws when a suppression names no rule of `rules` or gives too short a reason. */
export function validateSuppression(s: Suppression, rules: readonly PolicyRule[] = ALL_RULES, where = "suppression"): void {
  const problems: string[] = [];
  if (!rules.some((r) => r.id === s.ruleId)) {
    problems.push(`ruleId ${JSON.stringify(s.ruleId)} is not a rule of the pack (known: ${rules.map((r) => r.id).join(", ")})`);
  }
  const reason = typeof s.reason === "string" ? s.reason.trim() : "";
  if (reason.length < MIN_REASON_LENGTH) {
    problems.push(`reason ${JSON.stringify(s.reason ?? "")} is too short: say why the rule does not apply (at least ${MIN_REASON_LENGTH} characters)`);
  }
  if (problems.length > 0) throw new Error(`Invalid ${where}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
}

/** Today as `YYYY-MM-DD` (UTC). */
export function todayUtc(): string {
  return new Date().toISOString().slice(0, 10);
}

function covers(s: Suppression, ruleId: string, r: { readonly address: string; readonly path: string }): boolean {
  if (s.ruleId !== ruleId) return false;
  if (s.address && s.address !== r.address) return false;
  const scope = s.path ?? "";
  return scope === "" || r.path === scope || r.path.startsWith(`${scope}/`);
}

function finding(rule: PolicyRule, r: TfResource, o: RuleOutcome, model: TerraformModel, severity: Severity): Finding {
  const base = {
    ruleId: rule.id,
    title: rule.title,
    severity,
    stack: model.stackName,
    address: r.address,
    resourceType: r.type,
    path: r.path,
    remediation: rule.remediation,
    source: model.source,
  };
  if (o.status === "fail" || o.status === "unknown") {
    const setting = settingOf(rule, o.attribute);
    return { ...base, status: o.status, attribute: o.attribute, ...(setting ? { construct: setting } : {}), message: o.message };
  }
  return { ...base, status: "pass" };
}

/** Runs one rule on one resource, turning a thrown error into an unknown outcome. */
function run(rule: PolicyRule, r: TfResource, model: TerraformModel, profile: Profile, today: string): RuleOutcome[] {
  try {
    const out = rule.evaluate(r, { model, profile, today });
    return Array.isArray(out) ? [...out] : [out as RuleOutcome];
  } catch (e) {
    return [{ status: "unknown", attribute: "(rule)", message: `the rule failed: ${(e as Error).message}` }];
  }
}

/** Evaluates `rules` on every resource of `model`. */
export function evaluateModel(model: TerraformModel, options: EvaluateOptions): StackReport {
  const rules = options.rules ?? ALL_RULES;
  const today = options.today ?? todayUtc();
  const suppressions = (options.suppressions ?? []).map((s) => ({ ...s, path: s.path ?? "" }));
  const findings: Finding[] = [];
  for (const rule of rules) {
    if (!appliesIn(rule, options.profile)) continue;
    const severity = severityIn(rule, options.profile);
    for (const type of rule.resourceTypes) {
      for (const r of model.ofType(type)) {
        for (const o of run(rule, r, model, options.profile, today)) {
          if (o.status === "not-applicable") continue;
          findings.push(finding(rule, r, o, model, severity));
        }
      }
    }
  }
  return finish(model.stackName, options.profile, rules, applySuppressions(findings, suppressions), suppressions, model.resources.length);
}

function applySuppressions(findings: Finding[], suppressions: ReadonlyArray<Suppression & { path: string }>): Finding[] {
  return findings.map((f) => {
    if (f.status !== "fail" && f.status !== "unknown") return f;
    const s = suppressions.find((x) => covers(x, f.ruleId, f));
    if (!s) return f;
    return { ...f, status: "suppressed", suppressedStatus: f.status, suppression: { reason: s.reason, scope: s.address ?? (s.path || "(stack)") } };
  });
}

function finish(
  stack: string,
  profile: Profile,
  rules: readonly PolicyRule[],
  findings: Finding[],
  suppressions: ReadonlyArray<Suppression & { path: string }>,
  resources: number,
): StackReport {
  const uses: SuppressionUse[] = suppressions.map((s) => ({
    ...s,
    matched: findings.filter((f) => f.status === "suppressed" && f.ruleId === s.ruleId &&
      f.suppression?.scope === (s.address ?? (s.path || "(stack)"))).length,
  }));
  const count = (pred: (f: Finding) => boolean) => findings.filter(pred).length;
  return {
    stack,
    profile,
    findings,
    suppressions: uses,
    ruleIds: rules.filter((r) => appliesIn(r, profile)).map((r) => r.id),
    summary: {
      errors: count((f) => f.status === "fail" && f.severity === "error"),
      warnings: count((f) => f.status === "fail" && f.severity === "warning"),
      unknown: count((f) => f.status === "unknown"),
      suppressed: count((f) => f.status === "suppressed"),
      passed: count((f) => f.status === "pass"),
      resources,
      rules: rules.filter((r) => appliesIn(r, profile)).length,
    },
  };
}

/**
 * Re-decides, from a plan model of the same stack, every finding synth left unknown (also
 * suppressed ones that were unknown): the rule runs again on the planned resource, and its
 * outcome replaces the unknown one (marked `source: "plan"`). Other findings stay as they are.
 */
export function refineWithPlan(report: StackReport, plan: TerraformModel, options: EvaluateOptions): StackReport {
  const rules = options.rules ?? ALL_RULES;
  const today = options.today ?? todayUtc();
  const suppressions = report.suppressions.map(({ matched: _matched, ...s }) => s);
  const out: Finding[] = [];
  const redone = new Set<string>();
  for (const f of report.findings) {
    const undecided = f.status === "unknown" || (f.status === "suppressed" && f.suppressedStatus === "unknown");
    const rule = rules.find((r) => r.id === f.ruleId);
    const planned = plan.ofType(f.resourceType).filter((r) => r.address === f.address);
    if (!undecided || !rule || planned.length === 0) {
      out.push(f);
      continue;
    }
    const key = `${f.ruleId}|${f.address}`;
    if (redone.has(key)) continue; // one unknown of a resource re-decides all of them
    redone.add(key);
    const severity = severityIn(rule, options.profile);
    for (const r of planned) {
      for (const o of run(rule, r, plan, options.profile, today)) {
        if (o.status === "not-applicable") continue;
        out.push(finding(rule, { ...r, path: f.path }, o, plan, severity));
      }
    }
  }
  return finish(report.stack, report.profile, rules, applySuppressions(out, suppressions), suppressions, report.summary.resources);
}

/** One line naming the rule, the construct path, the resource, the attribute, the construct prop behind it and the fix. */
export function formatFinding(f: Finding): string {
  const head = `${f.ruleId} (${f.status === "suppressed" ? `suppressed ${f.suppressedStatus}` : f.status === "unknown" ? "unknown" : f.severity}) ${f.title}`;
  const where = `${f.path} [${f.address}]`;
  const what = f.attribute ? ` ${f.attribute}: ${f.message ?? ""}` : "";
  const construct = f.construct ? ` ${settingText(f.construct)}.` : "";
  const tail = f.status === "suppressed" ? ` Suppressed: ${f.suppression?.reason}` : f.status === "fail" ? ` Fix: ${f.remediation}` : "";
  return `${head}: ${where}${what}.${construct}${tail}`.replace(/\.\./g, ".");
}
