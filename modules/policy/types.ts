/** Types shared by the policy pack's rules, engine, model and reports (no code: nothing to import back). */
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
