/** Internal: HCL string escaping for `Fn.jsonencode` bodies (dashboard JSON). */

/**
 * cdktf 0.21 writes the string literals inside `Fn.jsonencode(...)` into the HCL expression
 * without escaping `"` or `\` (only newlines and `${`), so a SEARCH expression's quotes would end
 * the HCL string early. Escaping them here yields a valid HCL string whose value is the original
 * text. Token markers contain neither character, so references inside strings survive.
 */
export function escapeForHcl<T>(value: T): T {
  if (typeof value === "string") return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"') as unknown as T;
  if (Array.isArray(value)) return value.map((v) => escapeForHcl(v)) as unknown as T;
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escapeForHcl(v)])) as T;
  }
  return value;
}
