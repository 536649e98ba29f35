/**
 * A read-only view of one stack's Terraform configuration that rules evaluate: either the
 * synthesized JSON (`cdk.tf.json`, where other resources appear as `${type.name.attr}`
 * references) or `terraform show -json` of a plan (where values are resolved, unknown
 * attributes are flagged, and references come from the plan's `configuration` block).
 */
import type { AttrValue, ModelSource } from "./types";

/**
 * What an attribute that names another resource points at: nothing, a resource of this
 * stack, a literal (name, id, ARN), or an expression that cannot be followed here.
 */
export type Pointer =
  | { readonly kind: "absent" }
  | { readonly kind: "resource"; readonly resource: TfResource }
  | { readonly kind: "literal"; readonly value: unknown }
  | { readonly kind: "unknown"; readonly expression: string };

/** Placeholder a plan model puts where a value is only known after apply. */
export const UNKNOWN_AFTER_APPLY = "${(known after apply)}";


/** One resource or data source of the configuration. */
export interface TfResource {
  /** `managed` for resources, `data` for data sources. */
  readonly mode: "managed" | "data";
  /** Resource type, e.g. `aws_lambda_function`. */
  readonly type: string;
  /** Logical name, e.g. `fn_function_DEA3557A`. */
  readonly name: string;
  /** Terraform address without index: `aws_x.name`, or `data.aws_x.name`. */
  readonly address: string;
  /** Construct path from cdktf's metadata (`stack/fn/function`), else the address. */
  readonly path: string;
  /** The configuration (synth) or planned values (plan), without cdktf's `//` metadata. */
  readonly values: Readonly<Record<string, unknown>>;
}


const REF_IN_EXPR = /(?<![\w.])((?:data\.)?[a-z][a-z0-9_]*\.[A-Za-z_][A-Za-z0-9_-]*)(?:\[[^\]]*\])?(?:\.([A-Za-z0-9_.*[\]"]+))?/g;
const WHOLE_EXPR = /^\$\{([\s\S]*)\}$/;
/** A value read from another stack's outputs, as cdktf writes a cross-stack reference. */
const CROSS_STACK_INPUT = /^\$\{data\.terraform_remote_state\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)\}$/;

/** True when `v` is a string holding a Terraform expression (`${...}`). */
export function isExpression(v: unknown): v is string {
  return typeof v === "string" && v.includes("${");
}

/**
 * Resource addresses an expression string mentions, e.g. `["aws_dax_cluster.dax"]` for
 * `daxs://${aws_dax_cluster.dax.cluster_address}:${aws_dax_cluster.dax.port}`.
 * `var.`, `local.`, `each.`, `count.`, `path.`, `module.` and `self.` are not resources.
 */
export function referencedAddresses(expr: string): string[] {
  const out = new Set<string>();
  for (const m of expr.matchAll(/\$\{([^}]*)\}/g)) {
    const body = m[1].replace(/"(?:[^"\\]|\\.)*"/g, '""');
    for (const r of body.matchAll(REF_IN_EXPR)) {
      const address = r[1];
      if (/^(var|local|each|count|path|module|self|terraform)\./.test(address)) continue;
      if (/^data\.[a-z]/.test(address) && !/^data\.[a-z][a-z0-9_]*\.[A-Za-z_]/.test(address)) continue;
      // A bare function call like `jsonencode(` never matches (no dot); a type needs an underscore.
      if (!/^(data\.)?[a-z0-9]+_[a-z0-9_]+\./.test(address)) continue;
      out.add(address);
    }
  }
  return [...out];
}

/** `{ address, attribute }` when `v` is exactly one reference, e.g. `${aws_iam_role.r.arn}`. */
export function wholeReference(v: unknown): { address: string; attribute: string } | undefined {
  if (typeof v !== "string") return undefined;
  const m = WHOLE_EXPR.exec(v);
  if (!m || m[1].includes("${")) return undefined;
  const r = /^((?:data\.)?[a-z][a-z0-9_]*\.[A-Za-z_][A-Za-z0-9_-]*)(?:\[[^\]]*\])?\.([A-Za-z0-9_.*[\]"]+)$/.exec(m[1].trim());
  if (!r) return undefined;
  return { address: r[1], attribute: r[2] };
}

/** The first element of a block that cdktf writes as an object and a plan as a one-element list. */
export function one(v: unknown): Record<string, unknown> | undefined {
  if (Array.isArray(v)) return v.length > 0 && isObject(v[0]) ? (v[0] as Record<string, unknown>) : undefined;
  return isObject(v) ? (v as Record<string, unknown>) : undefined;
}

/** Every element of a repeated block or list (an object counts as one element). */
export function many(v: unknown): unknown[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}

/** `true`/`false` from a boolean or its string form; undefined for anything else. */
export function asBool(v: unknown): boolean | undefined {
  if (v === true || v === "true") return true;
  if (v === false || v === "false") return false;
  return undefined;
}

/** A number from a number or numeric string; undefined otherwise. */
export function asNumber(v: unknown): number | undefined {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string" && /^-?\d+(\.\d+)?$/.test(v.trim())) return Number(v);
  return undefined;
}

function isObject(v: unknown): boolean {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/**
 * The value at a dotted path (`logging_config.log_group`, `ingress.0.cidr_blocks`). A block
 * written as a one-element list (plans, hand-written JSON) is stepped into transparently.
 */
export function valueAt(values: unknown, path: string): unknown {
  let cur: unknown = values;
  for (const key of path.split(".")) {
    if (cur === undefined || cur === null) return undefined;
    if (Array.isArray(cur)) {
      if (/^\d+$/.test(key)) {
        cur = cur[Number(key)];
        continue;
      }
      cur = cur.length === 1 ? cur[0] : undefined;
      if (cur === undefined) return undefined;
    }
    if (!isObject(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

interface PlanResourceJson {
  address: string;
  mode: string;
  type: string;
  name: string;
  index?: unknown;
  values?: Record<string, unknown>;
}

interface PlanModuleJson {
  resources?: PlanResourceJson[];
  child_modules?: PlanModuleJson[];
}

interface PlanJson {
  planned_values?: { root_module?: PlanModuleJson };
  prior_state?: { values?: { root_module?: PlanModuleJson } };
  resource_changes?: Array<{ address: string; change?: { after_unknown?: unknown } }>;
  configuration?: { root_module?: { resources?: Array<{ address: string; expressions?: Record<string, unknown> }> } };
}

/** Options of {@link TerraformModel.fromPlan}. */
export interface PlanModelOptions {
  /** Stack name for reports. */
  readonly stackName: string;
  /** Construct path of each address, e.g. from the synthesized model of the same stack. */
  readonly paths?: ReadonlyMap<string, string>;
}

/** A stack's resources, indexed for rules. */
export class TerraformModel {
  private readonly byAddress = new Map<string, TfResource[]>();
  private readonly byType = new Map<string, TfResource[]>();
  /** Plan only: address → attribute path → referenced resource addresses. */
  private readonly planRefs = new Map<string, Map<string, string[]>>();
  /** The stack's outputs (synth): name → value as written. */
  private readonly outputs = new Map<string, unknown>();
  /** Models of the other stacks of the app, by stack name, for references across stacks. */
  private linked: ReadonlyMap<string, TerraformModel> = new Map();

  private constructor(
    /** `synth` or `plan`. */
    public readonly source: ModelSource,
    /** The stack's name. */
    public readonly stackName: string,
    /** Every resource and data source. */
    public readonly resources: readonly TfResource[],
  ) {
    for (const r of resources) {
      push(this.byAddress, r.address, r);
      push(this.byType, r.mode === "data" ? `data.${r.type}` : r.type, r);
    }
  }

  /** The model of a synthesized stack (`cdk.tf.json` content, or `stack.toTerraform()`). */
  static fromSynth(json: unknown, stackName?: string): TerraformModel {
    const doc = (json ?? {}) as Record<string, any>;
    const name = stackName ?? doc["//"]?.metadata?.stackName ?? "stack";
    const resources: TfResource[] = [];
    for (const [mode, key] of [["managed", "resource"], ["data", "data"]] as const) {
      for (const [type, byName] of Object.entries((doc[key] ?? {}) as Record<string, Record<string, any>>)) {
        for (const [logical, cfg] of Object.entries(byName ?? {})) {
          const { ["//"]: meta, ...values } = (cfg ?? {}) as Record<string, any>;
          const address = mode === "data" ? `data.${type}.${logical}` : `${type}.${logical}`;
          resources.push({ mode, type, name: logical, address, path: meta?.metadata?.path ?? address, values });
        }
      }
    }
    const model = new TerraformModel("synth", name, resources);
    for (const [out, cfg] of Object.entries((doc.output ?? {}) as Record<string, { value?: unknown }>)) model.outputs.set(out, cfg?.value);
    return model;
  }

  /**
   * The model of `terraform show -json <planfile>`: planned values, with every attribute the
   * plan marks unknown set to {@link UNKNOWN_AFTER_APPLY}, and references taken from the
   * plan's configuration section. Instances of `count`/`for_each` resources share the address
   * without index.
   */
  static fromPlan(plan: unknown, options: PlanModelOptions): TerraformModel {
    const p = (plan ?? {}) as PlanJson;
    const unknownByAddress = new Map<string, unknown>();
    for (const rc of p.resource_changes ?? []) unknownByAddress.set(rc.address, rc.change?.after_unknown);
    const resources: TfResource[] = [];
    const visit = (m: PlanModuleJson | undefined) => {
      for (const r of m?.resources ?? []) {
        const base = r.address.replace(/\[[^\]]*\]$/, "");
        const values = withUnknowns(r.values ?? {}, unknownByAddress.get(r.address)) as Record<string, unknown>;
        resources.push({
          mode: r.mode === "data" ? "data" : "managed",
          type: r.type,
          name: r.name,
          address: base,
          path: options.paths?.get(base) ?? base,
          values,
        });
      }
      for (const c of m?.child_modules ?? []) visit(c);
    };
    visit(p.planned_values?.root_module);
    const model = new TerraformModel("plan", options.stackName, resources);
    for (const r of p.configuration?.root_module?.resources ?? []) {
      const refs = new Map<string, string[]>();
      collectRefs(r.expressions ?? {}, "", refs);
      model.planRefs.set(r.address, refs);
    }
    return model;
  }

  /**
   * Lets references into other stacks of the same app be followed: a value read from another
   * stack's outputs (`${data.terraform_remote_state.<from>.outputs.<name>}`, as cdktf writes a
   * cross-stack reference) points at the resource that output names in that stack's model.
   */
  linkStacks(models: Iterable<TerraformModel>): this {
    this.linked = new Map([...models].filter((m) => m !== this).map((m) => [m.stackName, m] as const));
    return this;
  }

  /** Resources of a type (`aws_subnet`) or data sources (`data.aws_iam_policy_document`). */
  ofType(type: string): readonly TfResource[] {
    return this.byType.get(type) ?? [];
  }

  /** The resource at an address (`aws_x.name`), if it is in this stack. */
  get(address: string): TfResource | undefined {
    return this.byAddress.get(address)?.[0];
  }

  /** What `resource.values[path]` holds: absent, a known value, or an unresolved expression. */
  value(resource: TfResource, path: string): AttrValue {
    const v = valueAt(resource.values, path);
    if (v === undefined || v === null) return { state: "absent" };
    if (isExpression(v)) return { state: "unknown", expression: v };
    return { state: "known", value: v };
  }

  /** What the attribute at `path` of `resource` points at (see {@link Pointer}). */
  follow(resource: TfResource, path: string): Pointer {
    return this.pointerFor(resource, path, valueAt(resource.values, path));
  }

  /**
   * Each element of a list attribute (`subnet_ids`) as a pointer. A list given as one
   * expression (`${var.subnets}`) is a single unknown pointer.
   */
  followAll(resource: TfResource, path: string): Pointer[] {
    const v = valueAt(resource.values, path);
    if (this.source === "plan") {
      const refs = this.planRefsOf(resource, path);
      if (refs.length > 0) return refs.map((a) => ({ kind: "resource", resource: this.get(a)! }));
    }
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) return [this.pointerFor(resource, path, v)];
    return v.map((e) => this.pointerFor(resource, path, e, false));
  }

  /**
   * A pointer turned into a resource of `type`: a reference is taken as is, a literal is
   * matched against `key` of every resource of that type (e.g. a log group by `name`).
   * `undefined` when a literal matches nothing here (the resource lives elsewhere).
   */
  resolve(pointer: Pointer, type: string, key = "name"): TfResource | undefined {
    if (pointer.kind === "resource") return pointer.resource.type === type ? pointer.resource : undefined;
    if (pointer.kind !== "literal") return undefined;
    return this.ofType(type).find((r) => valueAt(r.values, key) === pointer.value);
  }

  /**
   * True when `value` (an attribute of some other resource) designates `target`: a reference
   * to it (synth, or plan configuration), or the same literal as the target's `key` attribute.
   */
  designates(owner: TfResource, path: string, target: TfResource, key = "id"): boolean {
    const p = this.follow(owner, path);
    if (p.kind === "resource") return p.resource.address === target.address;
    if (p.kind === "literal") {
      const k = valueAt(target.values, key);
      return k !== undefined && k !== null && !isExpression(k) && k === p.value;
    }
    return false;
  }

  /**
   * Every reference under `path` of `resource` (e.g. `environment.variables`), as written:
   * `aws_secretsmanager_secret_version.s.secret_string`. From `${...}` expressions in a
   * synthesized model, from the plan's configuration in a plan model.
   */
  rawReferences(resource: TfResource, path: string): string[] {
    if (this.source === "plan") {
      const key = path.replace(/\.\d+(?=\.|$)/g, "");
      const out: string[] = [];
      for (const [p, refs] of this.planRefs.get(resource.address) ?? []) {
        if (p === key || p.startsWith(`${key}.`)) out.push(...refs);
      }
      return [...new Set(out)];
    }
    const out = new Set<string>();
    const walk = (v: unknown) => {
      if (typeof v === "string" && v.includes("${")) {
        for (const m of v.matchAll(/\$\{([^}]*)\}/g)) {
          const body = m[1].replace(/"(?:[^"\\]|\\.)*"/g, '""');
          for (const r of body.matchAll(REF_IN_EXPR)) {
            const full = r[2] ? `${r[1]}.${r[2]}` : r[1];
            if (/^(var|local|each|count|path|module|self|terraform)\./.test(r[1])) out.add(full);
            else if (/^(data\.)?[a-z0-9]+_[a-z0-9_]+\./.test(r[1])) out.add(full);
          }
        }
      } else if (Array.isArray(v)) v.forEach(walk);
      else if (v !== null && typeof v === "object") Object.values(v).forEach(walk);
    };
    walk(valueAt(resource.values, path));
    return [...out];
  }

  /** Resources of this stack referenced anywhere under `path` of `resource`. */
  referencedResources(resource: TfResource, path: string): TfResource[] {
    const out = new Map<string, TfResource>();
    for (const ref of this.rawReferences(resource, path)) {
      const address = /^((?:data\.)?[a-z][a-z0-9_]*\.[A-Za-z_][A-Za-z0-9_-]*)/.exec(ref)?.[1];
      const r = address ? this.get(address) : undefined;
      if (r) out.set(r.address, r);
    }
    return [...out.values()];
  }

  private pointerFor(resource: TfResource, path: string, v: unknown, usePlanRefs = true): Pointer {
    if (this.source === "plan" && usePlanRefs) {
      const refs = this.planRefsOf(resource, path);
      if (refs.length === 1) return { kind: "resource", resource: this.get(refs[0])! };
    }
    if (v === undefined || v === null) return { kind: "absent" };
    if (!isExpression(v)) return { kind: "literal", value: v };
    const ref = wholeReference(v);
    if (ref) {
      const target = this.get(ref.address);
      if (target) return { kind: "resource", resource: target };
    }
    return this.acrossStacks(v) ?? { kind: "unknown", expression: v };
  }

  /** Where a cross-stack reference `v` leads in the linked model of the stack it comes from, if known. */
  private acrossStacks(v: string): Pointer | undefined {
    const m = CROSS_STACK_INPUT.exec(v);
    if (!m) return undefined;
    const remote = this.get(`data.terraform_remote_state.${m[1]}`);
    const from = remote && /^cross-stack-reference-input-(.+)$/.exec(remote.name)?.[1];
    const model = from ? this.linked.get(from) : undefined;
    if (!model || !model.outputs.has(m[2])) return undefined;
    const value = model.outputs.get(m[2]);
    if (value === undefined || value === null) return { kind: "absent" };
    if (!isExpression(value)) return { kind: "literal", value };
    const ref = wholeReference(value);
    const target = ref ? model.get(ref.address) : undefined;
    return target ? { kind: "resource", resource: target } : { kind: "unknown", expression: value };
  }

  private planRefsOf(resource: TfResource, path: string): string[] {
    const refs = this.planRefs.get(resource.address)?.get(path.replace(/\.\d+(?=\.|$)/g, "")) ?? [];
    const addresses = refs.map((ref) => /^((?:data\.)?[a-z][a-z0-9_]*\.[A-Za-z_][A-Za-z0-9_-]*)/.exec(ref)?.[1]);
    return [...new Set(addresses.filter((a): a is string => !!a && this.byAddress.has(a)))];
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Plan values with every attribute flagged in `after_unknown` replaced by the placeholder. */
function withUnknowns(values: unknown, unknown: unknown): unknown {
  if (unknown === true) return UNKNOWN_AFTER_APPLY;
  if (Array.isArray(unknown)) {
    const list = Array.isArray(values) ? [...values] : [];
    unknown.forEach((u, i) => {
      if (u !== false && u !== undefined) list[i] = withUnknowns(list[i], u);
    });
    return list;
  }
  if (isObject(unknown)) {
    const obj: Record<string, unknown> = isObject(values) ? { ...(values as Record<string, unknown>) } : {};
    for (const [k, u] of Object.entries(unknown as Record<string, unknown>)) {
      if (u !== false && u !== undefined) obj[k] = withUnknowns(obj[k], u);
    }
    return obj;
  }
  return values;
}

/** Walks plan `expressions`; nested blocks are lists of expression maps. */
function collectRefs(exprs: Record<string, unknown>, prefix: string, out: Map<string, string[]>): void {
  for (const [key, e] of Object.entries(exprs)) {
    const path = prefix ? `${prefix}.${key}` : key;
    const blocks = Array.isArray(e) ? e : [e];
    for (const b of blocks) {
      if (!isObject(b)) continue;
      const obj = b as Record<string, unknown>;
      if (Array.isArray(obj.references)) {
        const refs = (obj.references as string[]).filter((r) => typeof r === "string");
        out.set(path, [...new Set([...(out.get(path) ?? []), ...refs])]);
      } else if (!("constant_value" in obj)) {
        collectRefs(obj, path, out);
      }
    }
  }
}
