/** Typed settings of a contract resolved into the environment a function is deployed with. */
import { formatSetting, settingProblem, SettingsSpec } from "../../functions/lib/contract";
import { PropsValidator } from "../core/validation";

/**
 * Every setting in force (given, else its default) and its environment, with problems recorded in
 * `v` under `<fieldPrefix><key>`.
 */
export function resolveSettings(v: PropsValidator, spec: SettingsSpec, given: Record<string, unknown>, fieldPrefix = "settings."): {
  values: Record<string, string | number | boolean>;
  environment: Record<string, string>;
} {
  const values: Record<string, string | number | boolean> = {};
  const environment: Record<string, string> = {};
  for (const key of Object.keys(given)) {
    v.check(key in spec, `${fieldPrefix}${key}`, key, `a setting of the runtime or the contract: ${Object.keys(spec).join(", ")}`);
  }
  for (const [key, s] of Object.entries(spec)) {
    const value = given[key] ?? s.default;
    if (value === undefined) continue; // derived at run time (see the setting's `derived`)
    const problem = settingProblem(s, value);
    v.check(!problem, `${fieldPrefix}${key}`, value, `${problem} (${s.env}, the same rule the Lambda applies at cold start)`);
    values[key] = value as string | number | boolean;
    environment[s.env] = formatSetting(value as string | number | boolean);
  }
  return { values, environment };
}
