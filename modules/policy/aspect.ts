/**
 * The pack as a cdktf Aspect: registered on a stack, it evaluates the stack's synthesized
 * JSON in a validation (after every aspect has run), fails `app.synth()` on errors, prints
 * warnings, and records its profile and suppressions in the stack's `//` metadata so the
 * JSON-only checker (`npm run check`) sees the same suppressions.
 */
import { Aspects, IAspect, Lazy, TerraformStack } from "cdktf";
import { IConstruct } from "constructs";
import { Profile, PROFILE_CONTEXT_KEY } from "../core/profile";
import {
  evaluateModel,
  formatFinding,
  POLICY_METADATA_KEY,
  StackReport,
  Suppression,
  validateSuppression,
} from "./engine";
import type { PolicyMode } from "./types";
import { TerraformModel } from "./model";
import { PolicyRule } from "./rule";
import { ALL_RULES } from "./rules";

/** Construct metadata type of a suppression added with {@link suppressRule}. */
export const SUPPRESSION_METADATA_TYPE = "cachefront:policy:suppression";

/** Environment variable that overrides the mode of every pack: `enforce`, `report` or `off`. */
export const POLICY_MODE_ENV = "CACHEFRONT_POLICY";

/** What the pack records in a stack's `//` metadata. */
export interface PolicyMetadata {
  /** Name of the pack that recorded it (`cachefront`). */
  readonly pack: string;
  /** Profile the stack was evaluated with. */
  readonly profile: Profile;
  /** Suppressions in force in the stack. */
  readonly suppressions: readonly Suppression[];
}

/** Options of {@link PolicyPack} and {@link applyPolicy}. */
export interface PolicyPackOptions {
  /**
   * Suppressions for this stack; `path` is relative to the stack (`cache/auth-secret`).
   * @default none (constructs can still carry their own, see suppressRule)
   */
  readonly suppressions?: readonly Suppression[];
  /**
   * Profile whose severities apply.
   * @default the stack's `cachefront:profile` context, else its name suffix (`-dev`, `-prod`), else `prod`
   */
  readonly profile?: Profile;
  /**
   * What to do with findings.
   * @default the CACHEFRONT_POLICY environment variable, else "enforce"
   */
  readonly mode?: PolicyMode;
  /**
   * Rules to run.
   * @default every rule of the pack
   */
  readonly rules?: readonly PolicyRule[];
  /**
   * Receives each stack's report after evaluation.
   * @default prints a summary, warnings, unknowns and suppressions (and errors unless enforcing) to stdout
   */
  readonly onReport?: (report: StackReport) => void;
  /**
   * Evaluation date `YYYY-MM-DD`, for date-dependent rules (runtime deprecation).
   * @default today (UTC)
   */
  readonly today?: string;
}

/**
 * The profile of a stack: `explicit` if given, else its `cachefront:profile` context, else the
 * suffix of its name (`-dev`, `-prod`), else `prod` (the strict side).
 */
export function policyProfile(stack: IConstruct, explicit?: Profile): Profile {
  if (explicit) return explicit;
  const ctx = stack.node.tryGetContext(PROFILE_CONTEXT_KEY);
  if (ctx === "dev" || ctx === "prod") return ctx;
  return profileFromName(stack.node.id);
}

/** `dev` for names ending in `-dev` (or `_dev`), else `prod`. */
export function profileFromName(name: string): Profile {
  return /[-_]dev$/i.test(name) ? "dev" : "prod";
}

/**
 * Suppresses `ruleId` for `scope` and everything below it (pass a Terraform resource to
 * suppress one resource). The reason is mandatory and appears in every report.
 *
 *   suppressRule(cache.authSecret, "CF-SM-2", "rotation needs a Lambda rotator, which does not exist yet");
 */
export function suppressRule(scope: IConstruct, ruleId: string, reason: string): void {
  validateSuppression({ ruleId, reason }, ALL_RULES, `suppression on ${scope.node.path}`);
  scope.node.addMetadata(SUPPRESSION_METADATA_TYPE, { ruleId, reason: reason.trim() });
}

/**
 * The cachefront policy pack as an Aspect. Add it to each stack (an Aspect added to the App is
 * not invoked by cdktf 0.21; `applyPolicy(app)` adds it to every stack instead):
 *
 *   Aspects.of(stack).add(new PolicyPack());
 */
export class PolicyPack implements IAspect {
  /** Reports of the stacks evaluated so far, by stack path. */
  public readonly reports = new Map<string, StackReport>();
  private readonly registered = new WeakSet<TerraformStack>();
  private readonly rules: readonly PolicyRule[];

  constructor(private readonly options: PolicyPackOptions = {}) {
    this.rules = options.rules ?? ALL_RULES;
    (options.suppressions ?? []).forEach((s, i) => validateSuppression(s, this.rules, `suppressions[${i}]`));
  }

  /** The mode in force: the environment variable wins, so CI can turn a stack to report-only. */
  get mode(): PolicyMode {
    const env = process.env[POLICY_MODE_ENV];
    if (env === "enforce" || env === "report" || env === "off") return env;
    return this.options.mode ?? "enforce";
  }

  visit(node: IConstruct): void {
    if (!TerraformStack.isStack(node) || this.registered.has(node)) return;
    const stack = node;
    this.registered.add(stack);
    stack.addOverride(`//.${POLICY_METADATA_KEY}`, Lazy.anyValue({ produce: () => this.metadata(stack) }));
    stack.node.addValidation({ validate: () => this.validate(stack) });
  }

  /** Profile and every suppression of `stack` (options and construct metadata), with absolute paths. */
  metadata(stack: TerraformStack): PolicyMetadata {
    const base = stack.node.path;
    const abs = (p: string | undefined) => (p === undefined || p === "" ? base : p === base || p.startsWith(`${base}/`) ? p : `${base}/${p}`);
    const suppressions: Suppression[] = (this.options.suppressions ?? []).map((s) => ({
      ruleId: s.ruleId,
      reason: s.reason.trim(),
      path: abs(s.path),
      ...(s.address ? { address: s.address } : {}),
    }));
    for (const c of stack.node.findAll()) {
      for (const m of c.node.metadata) {
        if (m.type !== SUPPRESSION_METADATA_TYPE) continue;
        const d = m.data as { ruleId: string; reason: string };
        suppressions.push({ ruleId: d.ruleId, reason: d.reason, path: c.node.path });
      }
    }
    return { pack: "cachefront", profile: policyProfile(stack, this.options.profile), suppressions };
  }

  /** Evaluates `stack` now and returns its report (what the validation does at synth). */
  evaluate(stack: TerraformStack): StackReport {
    return this.evaluateJson(stack, stack.toTerraform());
  }

  private evaluateJson(stack: TerraformStack, json: unknown): StackReport {
    const meta = this.metadata(stack);
    const model = TerraformModel.fromSynth(json, stack.node.id).linkStacks(this.producersOf(stack, json));
    const report = evaluateModel(model, { profile: meta.profile, rules: this.rules, suppressions: meta.suppressions, today: this.options.today });
    this.reports.set(stack.node.path, report);
    return report;
  }

  /** Models of the stacks whose outputs `stack` reads (cross-stack references), so rules can follow them. */
  private producersOf(stack: TerraformStack, json: unknown): TerraformModel[] {
    const remote = Object.keys((json as { data?: { terraform_remote_state?: object } }).data?.terraform_remote_state ?? {});
    const names = remote.map((n) => /^cross-stack-reference-input-(.+)$/.exec(n)?.[1]).filter((n): n is string => !!n);
    return stack.node.root.node.children
      .filter((c): c is TerraformStack => TerraformStack.isStack(c) && names.includes(c.node.id))
      .map((producer) => TerraformModel.fromSynth(producer.toTerraform(), producer.node.id));
  }

  private validate(stack: TerraformStack): string[] {
    const mode = this.mode;
    if (mode === "off") return [];
    const json = stack.toTerraform();
    handOver(stack, json);
    const report = this.evaluateJson(stack, json);
    (this.options.onReport ?? ((r) => printReport(r, mode)))(report);
    if (mode !== "enforce") return [];
    return report.findings.filter((f) => f.status === "fail" && f.severity === "error").map(formatFinding);
  }
}

/**
 * Synthesis calls `stack.toTerraform()` right after the validations, and nothing between the
 * two changes the configuration (assets are copied, annotations collected). Resolving every
 * token of a stack twice costs about 30 ms a stack, so the validation's result is handed to
 * that next call, once. The hand-over expires at the end of the current synchronous turn
 * (synthesis is synchronous), so a later call always resolves afresh.
 */
function handOver(stack: TerraformStack, json: { [key: string]: unknown }): void {
  const own = Object.prototype.hasOwnProperty.call(stack, "toTerraform");
  const previous = stack.toTerraform;
  const restore = () => {
    if (own) stack.toTerraform = previous;
    else delete (stack as { toTerraform?: unknown }).toTerraform;
  };
  stack.toTerraform = () => {
    restore();
    return json;
  };
  queueMicrotask(restore);
}

/**
 * Adds the pack to `scope` (one line in a stack constructor) and returns it. Given an App (or
 * any other construct), it adds the pack to every stack defined below it so far: cdktf 0.21
 * runs aspects from each stack down, so an Aspect added to the App itself is never invoked.
 */
export function applyPolicy(scope: IConstruct, options: PolicyPackOptions = {}): PolicyPack {
  const pack = new PolicyPack(options);
  const stacks = TerraformStack.isStack(scope) ? [scope] : scope.node.findAll().filter(TerraformStack.isStack);
  if (stacks.length === 0) throw new Error(`applyPolicy: ${scope.node.path || "the app"} holds no TerraformStack yet; call it after creating the stacks`);
  for (const s of stacks) Aspects.of(s).add(pack);
  return pack;
}

/**
 * The default reporter: a summary line, then what needs attention, on stdout. Nothing here fails
 * synthesis (errors that do are thrown by the validation, and cdktf prints them on stderr), and
 * the cdktf CLI shows every stderr line of the app as `[ERROR]`, so a clean app writes no stderr.
 */
export function printReport(report: StackReport, mode: PolicyMode = "enforce", write: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): void {
  const s = report.summary;
  write(`policy ${report.stack} (${report.profile}): ${s.errors} error(s), ${s.warnings} warning(s), ${s.unknown} unknown, ` +
    `${s.suppressed} suppressed; ${s.rules} rules on ${s.resources} resources`);
  for (const f of report.findings) {
    if (f.status === "pass") continue;
    if (f.status === "fail" && f.severity === "error" && mode === "enforce") continue; // the synth error carries these
    if (f.status === "suppressed") write(`  suppressed ${f.ruleId} ${f.path} [${f.address}]: ${f.suppression?.reason}`);
    else write(`  ${formatFinding(f)}`);
  }
  for (const u of report.suppressions) {
    if (u.matched === 0) write(`  stale suppression ${u.ruleId} on ${u.address ?? u.path}: it matches no finding (${u.reason})`);
  }
}
