/**
 * The JSON Schema draft-04 subset API Gateway request models use here, checked the way API
 * Gateway's request validator checks a body before the integration runs:
 *   const errors = validateSchema(JSON.parse(model.schema), body);   // [] when valid
 * Keywords: type, required, properties, additionalProperties, minLength, maxLength, minimum,
 * maximum (+ draft-04 boolean exclusiveMinimum/exclusiveMaximum), pattern, enum, items,
 * minItems, maxItems. `unsupportedKeywords` names anything else so the twin can say what it
 * does not check.
 */

export type Schema = { readonly [key: string]: unknown };

/** Keywords that carry no constraint (annotations). */
const ANNOTATIONS = new Set(["$schema", "id", "title", "description", "default", "example", "examples", "definitions"]);
const CHECKED = new Set([
  "type", "required", "properties", "additionalProperties", "minLength", "maxLength", "minimum", "maximum",
  "exclusiveMinimum", "exclusiveMaximum", "pattern", "enum", "items", "minItems", "maxItems", "patternProperties",
]);

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v;
}

function matchesType(v: unknown, type: string): boolean {
  switch (type) {
    case "integer":
      return typeof v === "number" && Number.isInteger(v);
    case "number":
      return typeof v === "number" && Number.isFinite(v);
    default:
      return typeOf(v) === type;
  }
}

/** Characters as JSON Schema counts them (code points, not UTF-16 units). */
const lengthOf = (s: string) => [...s].length;

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

const where = (path: string) => (path === "" ? "body" : path);

/** Every violation of `schema` by `value`, as human-readable strings; empty when valid. */
export function validateSchema(schema: Schema, value: unknown, path = ""): string[] {
  const errors: string[] = [];
  const s = schema;
  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
    if (!types.some((t) => matchesType(value, t))) {
      errors.push(`${where(path)}: instance type (${typeOf(value)}) does not match any allowed primitive type (allowed: [${types.map((t) => `"${t}"`).join(", ")}])`);
      return errors; // the other keywords assume the type
    }
  }
  if (Array.isArray(s.enum) && !s.enum.some((e) => deepEqual(e, value))) {
    errors.push(`${where(path)}: instance value (${JSON.stringify(value)}) not found in enum (possible values: ${JSON.stringify(s.enum)})`);
  }
  if (typeof value === "string") {
    if (typeof s.minLength === "number" && lengthOf(value) < s.minLength) {
      errors.push(`${where(path)}: string "${value.slice(0, 40)}" is too short (length: ${lengthOf(value)}, required minimum: ${s.minLength})`);
    }
    if (typeof s.maxLength === "number" && lengthOf(value) > s.maxLength) {
      errors.push(`${where(path)}: string is too long (length: ${lengthOf(value)}, maximum allowed: ${s.maxLength})`);
    }
    if (typeof s.pattern === "string" && !new RegExp(s.pattern, "u").test(value)) {
      errors.push(`${where(path)}: ECMA 262 regex "${s.pattern}" does not match input string "${value.slice(0, 40)}"`);
    }
  }
  if (typeof value === "number") {
    if (typeof s.minimum === "number" && (s.exclusiveMinimum === true ? value <= s.minimum : value < s.minimum)) {
      errors.push(`${where(path)}: numeric instance is lower than the required minimum (minimum: ${s.minimum}, found: ${value})`);
    }
    if (typeof s.maximum === "number" && (s.exclusiveMaximum === true ? value >= s.maximum : value > s.maximum)) {
      errors.push(`${where(path)}: numeric instance is greater than the required maximum (maximum: ${s.maximum}, found: ${value})`);
    }
  }
  if (Array.isArray(value)) {
    if (typeof s.minItems === "number" && value.length < s.minItems) errors.push(`${where(path)}: array has too few items (${value.length} < ${s.minItems})`);
    if (typeof s.maxItems === "number" && value.length > s.maxItems) errors.push(`${where(path)}: array has too many items (${value.length} > ${s.maxItems})`);
    if (Array.isArray(s.items)) {
      (s.items as Schema[]).forEach((itemSchema, i) => {
        if (i < value.length) errors.push(...validateSchema(itemSchema, value[i], `${path}/${i}`));
      });
    } else if (s.items && typeof s.items === "object") {
      value.forEach((item, i) => errors.push(...validateSchema(s.items as Schema, item, `${path}/${i}`)));
    }
  }
  if (typeOf(value) === "object") {
    const obj = value as Record<string, unknown>;
    const props = (s.properties ?? {}) as Record<string, Schema>;
    if (Array.isArray(s.required)) {
      const missing = (s.required as string[]).filter((k) => !(k in obj));
      if (missing.length > 0) {
        errors.push(`${where(path)}: object has missing required properties (${JSON.stringify(missing)})`);
      }
    }
    const patterns = Object.entries((s.patternProperties ?? {}) as Record<string, Schema>);
    for (const [k, v] of Object.entries(obj)) {
      const matching = patterns.filter(([p]) => new RegExp(p, "u").test(k));
      for (const [, ps] of matching) errors.push(...validateSchema(ps, v, `${path}/${k}`));
      if (props[k]) errors.push(...validateSchema(props[k], v, `${path}/${k}`));
      else if (matching.length > 0) continue;
      else if (s.additionalProperties === false) {
        errors.push(`${where(path)}: object instance has properties which are not allowed by the schema: ["${k}"]`);
      } else if (s.additionalProperties && typeof s.additionalProperties === "object") {
        errors.push(...validateSchema(s.additionalProperties as Schema, v, `${path}/${k}`));
      }
    }
  }
  return errors;
}

/** Keywords in `schema` (at any depth) that {@link validateSchema} does not check. */
export function unsupportedKeywords(schema: Schema): string[] {
  const found = new Set<string>();
  const walk = (s: unknown): void => {
    if (!s || typeof s !== "object" || Array.isArray(s)) return;
    for (const [k, v] of Object.entries(s as Schema)) {
      if (!CHECKED.has(k) && !ANNOTATIONS.has(k)) found.add(k);
      if ((k === "properties" || k === "patternProperties") && v && typeof v === "object") Object.values(v as Schema).forEach(walk);
      if (k === "additionalProperties") walk(v);
      if (k === "items") (Array.isArray(v) ? v : [v]).forEach(walk);
    }
  };
  walk(schema);
  return [...found].sort();
}
