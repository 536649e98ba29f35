/**
 * The cachefront policy pack: rules over a stack's Terraform configuration, applied as a
 * cdktf Aspect (errors fail `app.synth()`, warnings are printed) or over synthesized JSON
 * and `terraform show -json` plans (`npm run check`). help/policy.md lists every rule.
 *
 *   applyPolicy(stack);                                     // or: Aspects.of(stack).add(new PolicyPack())
 *   suppressRule(cache.authSecret, "CF-SM-2", "rotation needs a Lambda rotator that does not exist yet");
 */
import type { TfResource } from "./model";

export { applyPolicy, PolicyPack, policyProfile, printReport, profileFromName, suppressRule, POLICY_MODE_ENV, SUPPRESSION_METADATA_TYPE } from "./aspect";
export type { PolicyMetadata, PolicyPackOptions } from "./aspect";
export { checkSynthesizedStack, recordedPolicy, refineWithPlanJson } from "./check";
export type { CheckOptions } from "./check";
export { readPolicyDocument } from "./documents";
export type { DocumentView, StatementView } from "./documents";
export { evaluateModel, formatFinding, refineWithPlan, validateSuppression, MIN_REASON_LENGTH, POLICY_METADATA_KEY } from "./engine";
export type { EvaluateOptions, Finding, ReportSummary, StackReport, Suppression, SuppressionUse } from "./engine";
export { TerraformModel, UNKNOWN_AFTER_APPLY } from "./model";
export type { PlanModelOptions, TfResource } from "./model";
export { cellStatus, lineOfResource, renderRulesMarkdown, renderTable, toSarif, totals } from "./report";
export type { StackFile } from "./report";
export { appliesIn, fail, notApplicable, pass, severityIn, unknown } from "./rule";
export type { PolicyRule, PublicControls, RuleContext } from "./rule";
export { ALL_RULES as CACHEFRONT_RULES, BROAD_MANAGED_POLICIES, LAMBDA_RUNTIME_DEPRECATION, SCOPED_SERVICES, VPC_BOUND_TYPES } from "./rules";

/** `error` fails synthesis (and `npm run check`); `warning` is printed. */
export type Severity = "error" | "warning";

/** The result of one rule on one resource: `fail` and `unknown` name the attribute and say why. */
export type RuleOutcome =
  | { readonly status: "pass" }
  | { readonly status: "not-applicable" }
  | { readonly status: "fail"; readonly attribute: string; readonly message: string }
  | { readonly status: "unknown"; readonly attribute: string; readonly message: string };

/** Status of one rule on one resource in a report. */
export type FindingStatus = "pass" | "fail" | "unknown" | "suppressed";

/**
 * `enforce`: errors fail synthesis, the rest is printed. `report`: everything is printed,
 * nothing fails. `off`: nothing is evaluated (metadata is still recorded for the checker).
 */
export type PolicyMode = "enforce" | "report" | "off";

/** What one rule did in one stack, as the check table shows it. */
export type CellStatus = "FAIL" | "warn" | "unknown" | "suppressed" | "pass" | "-";

/** Where a model came from: the synthesized JSON or `terraform show -json` of a plan. */
export type ModelSource = "synth" | "plan";

/** What an attribute holds, from a rule's point of view. */
export type AttrValue =
  | { readonly state: "absent" }
  | { readonly state: "known"; readonly value: unknown }
  | { readonly state: "unknown"; readonly expression: string };

/**
 * What an attribute that names another resource points at: nothing, a resource of this
 * stack, a literal (name, id, ARN), or an expression that cannot be followed here.
 */
export type Pointer =
  | { readonly kind: "absent" }
  | { readonly kind: "resource"; readonly resource: TfResource }
  | { readonly kind: "literal"; readonly value: unknown }
  | { readonly kind: "unknown"; readonly expression: string };
