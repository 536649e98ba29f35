/**
 * IAM policy documents as rules see them, whatever form the configuration holds them in:
 * a JSON string, cdktf's `${jsonencode({...})}` (HCL object syntax with references left in),
 * a reference to a `data.aws_iam_policy_document`, or a rendered plan value.
 */
import { isExpression, many, TerraformModel, TfResource, wholeReference } from "./model";

/** One statement, normalised. Lists hold `${...}` strings where an element is an expression. */
export interface StatementView {
  /** `Allow` or `Deny`. */
  readonly effect: "Allow" | "Deny";
  /** Actions of `Action` (empty when the statement uses `NotAction`). */
  readonly actions: readonly string[];
  /** Present when the statement uses `NotAction`. */
  readonly notActions?: readonly string[];
  /** Resources of `Resource` (empty when the statement uses `NotResource`). */
  readonly resources: readonly string[];
  /** Present when the statement uses `NotResource`. */
  readonly notResources?: readonly string[];
  /** Principals by type (`Service`, `AWS`, `Federated`, `*`). */
  readonly principals: Readonly<Record<string, readonly string[]>>;
  /** True when the statement has a `Condition`. */
  readonly hasCondition: boolean;
  /** The condition as operator → key → values (`{ Bool: { "aws:SecureTransport": ["false"] } }`); empty without one. */
  readonly conditions: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;
}

/** A parsed document, or why it could not be read. */
export interface DocumentView {
  /** True when the document was read. */
  readonly ok: boolean;
  /** The statements (empty when not read). */
  readonly statements: readonly StatementView[];
  /** Why it could not be read. */
  readonly reason?: string;
}

/**
 * Reads the policy document at `attribute` of `resource` (e.g. `policy`, `assume_role_policy`).
 */
export function readPolicyDocument(model: TerraformModel, resource: TfResource, attribute: string): DocumentView {
  const pointer = model.follow(resource, attribute);
  if (pointer.kind === "absent") return { ok: false, statements: [], reason: `${attribute} is not set` };
  if (pointer.kind === "resource") {
    if (pointer.resource.type === "aws_iam_policy_document" && pointer.resource.mode === "data") {
      return fromPolicyDocumentData(pointer.resource);
    }
    return { ok: false, statements: [], reason: `${attribute} refers to ${pointer.resource.address}, which is not a policy document` };
  }
  if (pointer.kind === "literal") return parseDocument(pointer.value);
  return parseDocument(pointer.expression);
}

/** Parses a document given as a JSON string, an object, or `${jsonencode(...)}`. */
export function parseDocument(value: unknown): DocumentView {
  let doc: unknown = value;
  if (typeof value === "string") {
    const m = /^\$\{jsonencode\(([\s\S]*)\)\}$/.exec(value.trim());
    if (m) {
      const parsed = parseHclValue(m[1]);
      if (parsed === undefined) return { ok: false, statements: [], reason: "jsonencode(...) expression that cannot be read" };
      doc = parsed;
    } else {
      // A JSON string may carry ${...} interpolations inside its values (ARNs); those stay strings.
      try {
        doc = JSON.parse(value);
      } catch {
        return { ok: false, statements: [], reason: isExpression(value) ? `expression ${value}` : "not valid JSON" };
      }
    }
  }
  if (doc === null || typeof doc !== "object") return { ok: false, statements: [], reason: "not a policy document" };
  const raw = (doc as Record<string, unknown>).Statement;
  if (isExpression(raw)) return { ok: false, statements: [], reason: `Statement is an expression ${String(raw)}` };
  return { ok: true, statements: many(raw).map(statementOf) };
}

function statementOf(s: unknown): StatementView {
  const o = (s ?? {}) as Record<string, unknown>;
  const list = (v: unknown): string[] => many(v).map((x) => String(x));
  const principals: Record<string, string[]> = {};
  const p = o.Principal;
  if (p === "*") principals["*"] = ["*"];
  else if (p && typeof p === "object") {
    for (const [k, v] of Object.entries(p as Record<string, unknown>)) principals[k] = list(v);
  } else if (typeof p === "string") principals.unknown = [p];
  return {
    effect: o.Effect === "Deny" ? "Deny" : "Allow",
    actions: list(o.Action),
    notActions: o.NotAction !== undefined ? list(o.NotAction) : undefined,
    resources: list(o.Resource),
    notResources: o.NotResource !== undefined ? list(o.NotResource) : undefined,
    principals,
    hasCondition: o.Condition !== undefined,
    conditions: Object.fromEntries(Object.entries((o.Condition && typeof o.Condition === "object" ? o.Condition : {}) as Record<string, unknown>).map(([op, keys]) =>
      [op, Object.fromEntries(Object.entries((keys && typeof keys === "object" ? keys : {}) as Record<string, unknown>).map(([k, v]) => [k, list(v)]))])),
  };
}

function fromPolicyDocumentData(data: TfResource): DocumentView {
  const v = data.values;
  if (isExpression(v.statement)) return { ok: false, statements: [], reason: `${data.address} builds its statements dynamically` };
  if (v.source_policy_documents || v.override_policy_documents) {
    return { ok: false, statements: [], reason: `${data.address} merges other documents` };
  }
  // A plan holds the rendered JSON; use it when it is known.
  if (typeof v.json === "string" && !isExpression(v.json)) return parseDocument(v.json);
  const statements = many(v.statement).map((raw) => {
    const s = (raw ?? {}) as Record<string, unknown>;
    const list = (x: unknown): string[] => many(x).map((e) => String(e));
    const principals: Record<string, string[]> = {};
    for (const pr of many(s.principals)) {
      const { type, identifiers } = (pr ?? {}) as { type?: string; identifiers?: unknown };
      if (type) principals[type] = [...(principals[type] ?? []), ...list(identifiers)];
    }
    return {
      effect: s.effect === "Deny" ? "Deny" : "Allow",
      actions: list(s.actions),
      notActions: s.not_actions !== undefined ? list(s.not_actions) : undefined,
      resources: list(s.resources),
      notResources: s.not_resources !== undefined ? list(s.not_resources) : undefined,
      principals,
      hasCondition: s.condition !== undefined,
      conditions: many(s.condition).reduce<Record<string, Record<string, string[]>>>((acc, raw) => {
        const c = (raw ?? {}) as { test?: string; variable?: string; values?: unknown };
        if (c.test && c.variable) acc[c.test] = { ...acc[c.test], [c.variable]: list(c.values) };
        return acc;
      }, {}),
    } as StatementView;
  });
  return { ok: true, statements };
}

/**
 * Parses the HCL object syntax cdktf writes inside `jsonencode(...)`: `{"k" = v, ...}`,
 * lists, quoted strings (with `${...}` interpolations kept), numbers, booleans, and bare
 * expressions (references, function calls), which come back as `${expression}` strings.
 * Returns undefined when the text does not parse.
 */
export function parseHclValue(src: string): unknown {
  let i = 0;
  const fail = (): never => {
    throw new Error("parse");
  };
  const ws = () => {
    while (i < src.length && /\s/.test(src[i])) i++;
  };
  const sep = () => {
    while (i < src.length && /[\s,]/.test(src[i])) i++;
  };
  const str = (): string => {
    let out = "";
    i++; // opening quote
    let depth = 0;
    while (i < src.length) {
      const c = src[i];
      if (c === "\\") {
        const n = src[i + 1];
        out += n === '"' ? '"' : n === "\\" ? "\\" : n === "n" ? "\n" : n === "t" ? "\t" : `\\${n}`;
        i += 2;
        continue;
      }
      if (c === "$" && src[i + 1] === "{") {
        depth++;
        out += "${";
        i += 2;
        continue;
      }
      if (c === "}" && depth > 0) depth--;
      if (c === '"' && depth === 0) {
        i++;
        return out;
      }
      out += c;
      i++;
    }
    return fail();
  };
  const bare = (): unknown => {
    const start = i;
    let depth = 0;
    while (i < src.length) {
      const c = src[i];
      if (c === '"') {
        str();
        continue;
      }
      if (c === "(" || c === "[" || c === "{") depth++;
      else if (c === ")" || c === "]" || c === "}") {
        if (depth === 0) break;
        depth--;
      } else if ((c === "," || c === "\n" || c === "=") && depth === 0) break;
      i++;
    }
    const word = src.slice(start, i).trim();
    if (word === "") return fail();
    if (word === "true") return true;
    if (word === "false") return false;
    if (word === "null") return null;
    if (/^-?\d+(\.\d+)?$/.test(word)) return Number(word);
    return `\${${word}}`;
  };
  const value = (): unknown => {
    ws();
    const c = src[i];
    if (c === "{") {
      i++;
      const obj: Record<string, unknown> = {};
      for (;;) {
        sep();
        if (i >= src.length) return fail();
        if (src[i] === "}") {
          i++;
          return obj;
        }
        const key = src[i] === '"' ? str() : String(bare()).replace(/^\$\{|\}$/g, "");
        ws();
        if (src[i] !== "=" && src[i] !== ":") return fail();
        i++;
        obj[key] = value();
      }
    }
    if (c === "[") {
      i++;
      const arr: unknown[] = [];
      for (;;) {
        sep();
        if (i >= src.length) return fail();
        if (src[i] === "]") {
          i++;
          return arr;
        }
        arr.push(value());
      }
    }
    if (c === '"') return str();
    return bare();
  };
  try {
    const v = value();
    ws();
    return i >= src.length ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The IAM service prefix of an action (`dynamodb` for `DynamoDB:GetItem`), lowercased. */
export function serviceOf(action: string): string {
  return action.split(":")[0].toLowerCase();
}

/** True when a list element is an unresolved expression rather than a literal. */
export function isUnresolvedElement(s: string): boolean {
  return isExpression(s) && wholeReference(s) === undefined;
}
