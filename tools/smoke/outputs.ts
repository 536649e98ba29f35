/**
 * Reads an outputs file in the shape `cdktf deploy --outputs-file` and the local twin write:
 *   { "<stack>": { "api_url": "...", "api_key": "...", ... } }
 *   const { stack, outputs } = readOutputs("out.json", "product-catalog-dev");
 */
import { existsSync, readFileSync } from "fs";

export { UsageError } from "../lib/cli";
import { UsageError } from "../lib/cli";

export type StackOutputs = Record<string, unknown>;

export function readOutputs(file: string, stack?: string): { stack: string; outputs: StackOutputs } {
  if (!existsSync(file)) throw new UsageError(`outputs file ${file} not found (cdktf deploy <stack> --outputs-file ${file}, or start the twin)`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new UsageError(`outputs file ${file} is not JSON: ${(err as Error).message}`);
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new UsageError(`outputs file ${file}: expected { "<stack>": { "<output>": value } }`);
  const all = parsed as Record<string, unknown>;
  const stacks = Object.keys(all).filter((k) => all[k] && typeof all[k] === "object" && !Array.isArray(all[k]));
  if (stacks.length === 0) throw new UsageError(`outputs file ${file} holds no stack`);
  let chosen = stack;
  if (!chosen) {
    if (stacks.length > 1) throw new UsageError(`outputs file ${file} holds stacks ${stacks.join(", ")}: pick one with --stack`);
    chosen = stacks[0];
  }
  if (!stacks.includes(chosen)) throw new UsageError(`outputs file ${file} has no stack "${chosen}"; it holds ${stacks.join(", ")}`);
  const outputs = all[chosen] as StackOutputs;
  if (typeof outputs.api_url !== "string" || !/^https?:\/\//.test(outputs.api_url)) {
    throw new UsageError(`outputs of ${chosen} have no api_url (an http(s) URL)`);
  }
  return { stack: chosen, outputs };
}
