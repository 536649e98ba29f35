/**
 * The handler's own check of a request body against its route's JSON schema (draft-04), the same
 * schema API Gateway's request validator enforces, so a request that reaches the function without
 * API Gateway (a direct invocation, a misconfigured validator) is held to the same bar:
 *   const check = compileSchema(route.body);   const problems = check(body);   // [] when valid
 * A Lambda bundle cannot afford a full validator library, so this checks a subset of the keywords,
 * and `compileSchema` refuses a schema that uses any other: the handler is never silently more
 * lenient than the API (the local twin checks models with a complete draft-04 validator).
 */
import type { JsonSchema } from "./contract";

/** Keywords that carry no constraint (annotations). */
const ANNOTATIONS = new Set(["$schema", "id", "title", "description", "default", "example", "examples"]);
/** Keywords this validator checks. */
export const CHECKED_KEYWORDS: ReadonlySet<string> = new Set([
  "type", "required", "properties", "patternProperties", "additionalProperties", "minLength", "maxLength", "minimum",
  "maximum", "exclusiveMinimum", "exclusiveMaximum", "pattern", "enum", "items", "minItems", "maxItems", "maxProperties",
]);

/** Keywords of `schema` (at any depth) the validator does not check. */
export function unsupportedKeywords(schema: JsonSchema): string[] {
  const found = new Set<string>();
  const walk = (s: unknown): void => {
    if (!s || typeof s !== "object" || Array.isArray(s)) return;
    for (const [k, v] of Object.entries(s as JsonSchema)) {
      if (!CHECKED_KEYWORDS.has(k) && !ANNOTATIONS.has(k)) found.add(k);
      if ((k === "properties" || k === "patternProperties") && v && typeof v === "object") Object.values(v).forEach(walk);
      if (k === "additionalProperties") walk(v);
      if (k === "items") (Array.isArray(v) ? v : [v]).forEach(walk);
    }
  };
  walk(schema);
  return [...found].sort();
}

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v;
}

function matchesType(v: unknown, type: string): boolean {
  if (type === "integer") return typeof v === "number" && Number.isInteger(v);
  if (type === "number") return typeof v === "number" && Number.isFinite(v);
  return typeOf(v) === type;
}

/** Characters as JSON Schema counts them (code points, not UTF-16 units). */
const lengthOf = (s: string) => [...s].length;
const where = (path: string) => (path === "" ? "body" : path.slice(1));
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Every violation of `schema` by `value`, as readable strings naming the field; empty when valid. */
function check(s: JsonSchema, value: unknown, path: string, regexes: Map<string, RegExp>, out: string[]): void {
  const re = (src: string) => {
    let r = regexes.get(src);
    if (!r) regexes.set(src, (r = new RegExp(src, "u")));
    return r;
  };
  if (s.type !== undefined) {
    const types = (Array.isArray(s.type) ? s.type : [s.type]) as string[];
    if (!types.some((t) => matchesType(value, t))) {
      out.push(`${where(path)} must be ${types.map((t) => (t === "integer" ? "an integer" : `a${/^[aeiou]/.test(t) ? "n" : ""} ${t}`)).join(" or ")}`);
      return; // the other keywords assume the type
    }
  }
  if (Array.isArray(s.enum) && !s.enum.some((e) => same(e, value))) {
    out.push(`${where(path)} must be one of ${s.enum.map((e) => JSON.stringify(e)).join(", ")}`);
  }
  if (typeof value === "string") {
    if (typeof s.minLength === "number" && lengthOf(value) < s.minLength) out.push(`${where(path)} must have at least ${s.minLength} characters`);
    if (typeof s.maxLength === "number" && lengthOf(value) > s.maxLength) out.push(`${where(path)} must have at most ${s.maxLength} characters`);
    if (typeof s.pattern === "string" && !re(s.pattern).test(value)) out.push(`${where(path)} has an invalid format`);
  }
  if (typeof value === "number") {
    if (typeof s.minimum === "number" && (s.exclusiveMinimum === true ? value <= s.minimum : value < s.minimum)) {
      out.push(`${where(path)} must be ${s.exclusiveMinimum === true ? ">" : "≥"} ${s.minimum}`);
    }
    if (typeof s.maximum === "number" && (s.exclusiveMaximum === true ? value >= s.maximum : value > s.maximum)) {
      out.push(`${where(path)} must be ${s.exclusiveMaximum === true ? "<" : "≤"} ${s.maximum}`);
    }
  }
  if (Array.isArray(value)) {
    if (typeof s.minItems === "number" && value.length < s.minItems) out.push(`${where(path)} must have at least ${s.minItems} items`);
    if (typeof s.maxItems === "number" && value.length > s.maxItems) out.push(`${where(path)} must have at most ${s.maxItems} items`);
    if (Array.isArray(s.items)) {
      (s.items as JsonSchema[]).forEach((item, i) => i < value.length && check(item, value[i], `${path}/${i}`, regexes, out));
    } else if (s.items && typeof s.items === "object") {
      value.forEach((item, i) => check(s.items as JsonSchema, item, `${path}/${i}`, regexes, out));
    }
  }
  if (typeOf(value) === "object") {
    const obj = value as Record<string, unknown>;
    const props = (s.properties ?? {}) as Record<string, JsonSchema>;
    const patterns = Object.entries((s.patternProperties ?? {}) as Record<string, JsonSchema>);
    if (Array.isArray(s.required)) {
      for (const k of s.required as string[]) if (!(k in obj)) out.push(`${where(`${path}/${k}`)} is required`);
    }
    if (typeof s.maxProperties === "number" && Object.keys(obj).length > s.maxProperties) {
      out.push(`${where(path)} must have at most ${s.maxProperties} fields`);
    }
    for (const [k, v] of Object.entries(obj)) {
      let matched = false;
      if (Object.prototype.hasOwnProperty.call(props, k)) {
        matched = true;
        check(props[k], v, `${path}/${k}`, regexes, out);
      }
      for (const [p, ps] of patterns) {
        if (re(p).test(k)) {
          matched = true;
          check(ps, v, `${path}/${k}`, regexes, out);
        }
      }
      if (matched) continue;
      if (s.additionalProperties === false) out.push(`${where(`${path}/${k}`)} is not an allowed field`);
      else if (s.additionalProperties && typeof s.additionalProperties === "object") {
        check(s.additionalProperties as JsonSchema, v, `${path}/${k}`, regexes, out);
      }
    }
  }
}

/** A body check: the problems of a value, each naming the field; empty when valid. */
export type BodyCheck = (value: unknown) => string[];

/**
 * Compiles `schema` into a check. Throws when the schema uses a keyword this validator does not
 * check, naming it, so the gap shows up in the handler's tests instead of in production.
 */
export function compileSchema(schema: JsonSchema): BodyCheck {
  const unsupported = unsupportedKeywords(schema);
  if (unsupported.length > 0) {
    throw new Error(`request schema ${String(schema.title ?? "")} uses ${unsupported.join(", ")}, which the runtime's validator does not check`);
  }
  const regexes = new Map<string, RegExp>();
  return (value) => {
    const out: string[] = [];
    check(schema, value, "", regexes, out);
    return out;
  };
}
