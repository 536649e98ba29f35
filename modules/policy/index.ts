/**
 * The cachefront policy pack: rules over a stack's Terraform configuration, applied as a
 * cdktf Aspect (errors fail `app.synth()`, warnings are printed) or over synthesized JSON
 * and `terraform show -json` plans (`npm run check`). help/policy.md lists every rule.
 *
 *   applyPolicy(stack);                                     // or: Aspects.of(stack).add(new PolicyPack())
 *   suppressRule(cache.authSecret, "CF-SM-2", "rotation needs a Lambda rotator that does not exist yet");
 */
export { applyPolicy, PolicyPack, policyProfile, printReport, profileFromName, suppressRule, POLICY_MODE_ENV, SUPPRESSION_METADATA_TYPE } from "./aspect";
export type { PolicyMetadata, PolicyPackOptions } from "./aspect";
export { checkSynthesizedStack, recordedPolicy, refineWithPlanJson } from "./check";
export { ACCOUNT_SINGLETONS, checkDeployTogether, UNIQUE_NAMES } from "./deploy-together";
export type { DeployConflict, SynthesizedStack } from "./deploy-together";
export type { CheckOptions } from "./check";
export { readPolicyDocument } from "./documents";
export type { DocumentView, StatementView } from "./documents";
export { evaluateModel, formatFinding, refineWithPlan, validateSuppression, MIN_REASON_LENGTH, POLICY_METADATA_KEY } from "./engine";
export type { EvaluateOptions, Finding, ReportSummary, StackReport, Suppression, SuppressionUse } from "./engine";
export { TerraformModel, UNKNOWN_AFTER_APPLY } from "./model";
export type { PlanModelOptions, Pointer, TfResource } from "./model";
export { cellStatus, lineOfResource, renderRulesMarkdown, renderTable, toSarif, totals } from "./report";
export type { StackFile } from "./report";
export { appliesIn, byProps, fail, notApplicable, pass, setBy, setByWiring, settingOf, settingText, severityIn, unknown } from "./rule";
export type { ConstructSetting, PolicyRule, PublicControls, RuleContext } from "./rule";
export { ALL_RULES as CACHEFRONT_RULES, BROAD_MANAGED_POLICIES, LAMBDA_RUNTIME_DEPRECATION, SCOPED_SERVICES, VPC_BOUND_TYPES } from "./rules";

export type { AttrValue, CellStatus, FindingStatus, ModelSource, PolicyMode, RuleOutcome, Severity } from "./types";
