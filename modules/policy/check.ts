/**
 * The pack over files: a synthesized `cdk.tf.json` (with the profile and suppressions the
 * Aspect recorded in its `//` metadata) and, optionally, `terraform show -json` of its plan.
 */
import type { Profile } from "../core/profile";
import { profileFromName } from "./aspect";
import { evaluateModel, POLICY_METADATA_KEY, refineWithPlan, StackReport, Suppression } from "./engine";
import { TerraformModel } from "./model";
import type { PolicyRule } from "./rule";

/** Options of {@link checkSynthesizedStack}. */
export interface CheckOptions {
  /** Stack name. @default the name in the file's metadata */
  readonly stackName?: string;
  /** Profile. @default the one the Aspect recorded, else the name suffix, else prod */
  readonly profile?: Profile;
  /** Suppressions beyond those recorded in the file (absolute paths or addresses). @default none */
  readonly suppressions?: readonly Suppression[];
  /** Rules to run. @default every rule of the pack */
  readonly rules?: readonly PolicyRule[];
  /** Evaluation date `YYYY-MM-DD`. @default today (UTC) */
  readonly today?: string;
  /**
   * The other synthesized stacks of the app (`cdk.tf.json` by stack name), so references read from
   * their outputs can be followed. @default none (such references stay unknown)
   */
  readonly otherStacks?: Readonly<Record<string, unknown>>;
}

/** The profile and suppressions a synthesized stack carries in `//.cachefront_policy`. */
export function recordedPolicy(json: unknown): { profile?: Profile; suppressions: Suppression[] } {
  const meta = (json as Record<string, any> | undefined)?.["//"]?.[POLICY_METADATA_KEY];
  const profile = meta?.profile === "dev" || meta?.profile === "prod" ? (meta.profile as Profile) : undefined;
  const suppressions = Array.isArray(meta?.suppressions) ? (meta.suppressions as Suppression[]) : [];
  return { profile, suppressions };
}

/** Evaluates the pack on one synthesized stack (the parsed `cdk.tf.json`). */
export function checkSynthesizedStack(json: unknown, options: CheckOptions = {}): StackReport {
  const model = TerraformModel.fromSynth(json, options.stackName)
    .linkStacks(Object.entries(options.otherStacks ?? {}).map(([name, other]) => TerraformModel.fromSynth(other, name)));
  const recorded = recordedPolicy(json);
  const profile = options.profile ?? recorded.profile ?? profileFromName(model.stackName);
  return evaluateModel(model, {
    profile,
    rules: options.rules,
    suppressions: [...recorded.suppressions, ...(options.suppressions ?? [])],
    today: options.today,
  });
}

/**
 * Decides what {@link checkSynthesizedStack} left unknown from the plan of the same stack
 * (`terraform show -json <planfile>`); construct paths come from the synthesized JSON.
 */
export function refineWithPlanJson(report: StackReport, synthJson: unknown, planJson: unknown, options: CheckOptions = {}): StackReport {
  const synth = TerraformModel.fromSynth(synthJson, report.stack);
  const paths = new Map(synth.resources.map((r) => [r.address, r.path] as const));
  const plan = TerraformModel.fromPlan(planJson, { stackName: report.stack, paths });
  return refineWithPlan(report, plan, { profile: report.profile, rules: options.rules, today: options.today });
}
