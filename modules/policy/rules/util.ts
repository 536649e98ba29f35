/** Small helpers shared by the rule files. */
import { asBool, asNumber, TerraformModel, TfResource } from "../model";
import type { RuleOutcome } from "../types";
import { fail, pass, unknown } from "../rule";

/** JSON text of a value for messages, short. */
export function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** The outcome for an attribute whose value is an unresolved expression. */
export function unresolved(path: string, expression: string): RuleOutcome {
  return unknown(path, `${path} is the expression ${show(expression)}, known only after planning`);
}

/**
 * A boolean attribute that must be `want`. `absentIs` says what Terraform/AWS do when it is
 * not set (`compliant` when the default is the wanted value).
 */
export function boolAttr(
  model: TerraformModel,
  r: TfResource,
  path: string,
  want: boolean,
  absentIs: "compliant" | "non-compliant",
  absentMessage: string,
): RuleOutcome {
  const v = model.value(r, path);
  if (v.state === "absent") return absentIs === "compliant" ? pass() : fail(path, absentMessage);
  if (v.state === "unknown") return unresolved(path, v.expression);
  const b = asBool(v.value);
  if (b === undefined) return fail(path, `${path} = ${show(v.value)} is not a boolean`);
  return b === want ? pass() : fail(path, `${path} = ${show(v.value)}; expected ${want}`);
}

/** A number attribute; `check` returns an error text or undefined when fine. */
export function numberAttr(
  model: TerraformModel,
  r: TfResource,
  path: string,
  absentMessage: string | undefined,
  check: (n: number) => string | undefined,
): RuleOutcome {
  const v = model.value(r, path);
  if (v.state === "absent") return absentMessage ? fail(path, absentMessage) : pass();
  if (v.state === "unknown") return unresolved(path, v.expression);
  const n = asNumber(v.value);
  if (n === undefined) return fail(path, `${path} = ${show(v.value)} is not a number`);
  const problem = check(n);
  return problem ? fail(path, `${path} = ${n}: ${problem}`) : pass();
}

/** The worst of several outcomes of one resource: fail > unknown > pass > not-applicable. */
export function worst(outcomes: readonly RuleOutcome[]): RuleOutcome[] {
  const fails = outcomes.filter((o) => o.status === "fail");
  if (fails.length > 0) return fails;
  const unknowns = outcomes.filter((o) => o.status === "unknown");
  if (unknowns.length > 0) return unknowns;
  if (outcomes.some((o) => o.status === "pass")) return [pass()];
  return [...outcomes.slice(0, 1)];
}
