import { App, TerraformStack, Testing } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Construct } from "constructs";
import { PROFILE_CONTEXT_KEY, Profile } from "../../modules/core/profile";

/** Synthesized Terraform JSON of one stack. */
export interface SynthJson {
  resource?: Record<string, Record<string, any>>;
  data?: Record<string, Record<string, any>>;
  output?: Record<string, any>;
  terraform?: any;
  provider?: any;
}

/** A test stack with an AWS provider and the given profile, as the real stacks set it. */
export function testStack(profile: Profile = "prod"): { app: App; stack: TerraformStack } {
  const app = Testing.app();
  const stack = new TerraformStack(app, "test");
  stack.node.setContext(PROFILE_CONTEXT_KEY, profile);
  new AwsProvider(stack, "aws", { region: "us-east-1" });
  return { app, stack };
}

/** GIVEN a stack built by `build`, WHEN synthesized, THEN this JSON. */
export function synthJson(build: (stack: Construct) => void, profile: Profile = "prod"): SynthJson {
  const { stack } = testStack(profile);
  build(stack);
  return JSON.parse(Testing.synth(stack));
}

/** All resources of a type, as [logicalId, config] pairs. */
export function resourcesOf(json: SynthJson, type: string): Array<[string, any]> {
  return Object.entries(json.resource?.[type] ?? {});
}

/** The single resource of a type; fails when there is not exactly one. */
export function onlyResource(json: SynthJson, type: string): any {
  const all = resourcesOf(json, type);
  if (all.length !== 1) throw new Error(`expected exactly one ${type}, found ${all.length}`);
  return all[0][1];
}

/** Parsed IAM policy documents of every aws_iam_role_policy (jsonencode'd objects). */
export function rolePolicies(json: SynthJson): Array<{ name: string; doc: any }> {
  return resourcesOf(json, "aws_iam_role_policy").map(([, r]) => ({ name: r.name, doc: decodeJsonencode(r.policy) }));
}

/**
 * cdktf renders `Fn.jsonencode(obj)` as the string "${jsonencode({...})}" in HCL-ish object
 * syntax; this turns it back into an object with references left as strings.
 */
export function decodeJsonencode(expr: string): any {
  const m = /^\$\{jsonencode\(([\s\S]*)\)\}$/.exec(expr);
  if (!m) return JSON.parse(expr);
  return hclToJs(m[1]);
}

function hclToJs(src: string): any {
  let i = 0;
  const ws = () => { while (i < src.length && /[\s,]/.test(src[i])) i++; };
  const value = (): any => {
    ws();
    const c = src[i];
    if (c === "{") {
      i++;
      const obj: any = {};
      for (;;) {
        ws();
        if (src[i] === "}") { i++; return obj; }
        const key = value();
        ws();
        if (src[i] === "=" || src[i] === ":") i++;
        obj[key] = value();
      }
    }
    if (c === "[") {
      i++;
      const arr: any[] = [];
      for (;;) {
        ws();
        if (src[i] === "]") { i++; return arr; }
        arr.push(value());
      }
    }
    if (c === '"') {
      let out = "";
      i++;
      let depth = 0;
      while (i < src.length) {
        if (src[i] === "\\") { out += src[i + 1] === '"' ? '"' : src[i] + src[i + 1]; i += 2; continue; }
        if (src[i] === "$" && src[i + 1] === "{") { depth++; out += "${"; i += 2; continue; }
        if (src[i] === "}" && depth > 0) { depth--; out += "}"; i++; continue; }
        if (src[i] === '"' && depth === 0) { i++; return out; }
        out += src[i++];
      }
      return out;
    }
    // bare word: number, boolean, reference
    const start = i;
    while (i < src.length && !/[\s,\]}=:]/.test(src[i])) i++;
    const word = src.slice(start, i);
    if (word === "true") return true;
    if (word === "false") return false;
    if (/^-?\d+(\.\d+)?$/.test(word)) return Number(word);
    return `\${${word}}`;
  };
  return value();
}
