/**
 * API Gateway request models checked the way API Gateway's request validator checks a body
 * before the integration runs: complete JSON Schema draft-04 (ajv with ajv-draft-04), every
 * keyword, compiled once per model when the twin starts.
 *   const check = compileModel("PutBody", JSON.parse(model.schema));   // throws ModelCompileError
 *   const errors = check(body);                                         // [] when valid
 * ajv is a dev dependency: the twin is a dev tool, none of this is in a Lambda bundle.
 */
import Ajv from "ajv-draft-04";
import type { ErrorObject, Options } from "ajv-draft-04";
import addFormats from "ajv-formats";

/** A JSON schema as read from an `aws_api_gateway_model` (draft-04). */
export type Schema = { readonly [key: string]: unknown };

/** Validates one parsed body: every violation as a readable line, `[]` when valid. */
export type ModelValidator = (value: unknown) => readonly string[];

/** A model schema that is not valid draft-04 (or that ajv cannot compile), naming the model. */
export class ModelCompileError extends Error {
  constructor(
    readonly model: string,
    detail: string,
  ) {
    super(`model ${model}: its schema does not compile as JSON Schema draft-04: ${detail}`);
  }
}

/**
 * The formats draft-04 defines (section 7.3 of the validation spec). Whether API Gateway enforces
 * `format` is not documented; the twin enforces these, so it is never the more lenient one, and
 * ignores other format names, as draft-04 lets a validator do with formats it does not know.
 */
const DRAFT4_FORMATS = ["date-time", "email", "hostname", "ipv4", "ipv6", "uri"] as const;

const AJV_OPTIONS: Options = {
  allErrors: true, // the note line names every violation, not just the first
  coerceTypes: false, // API Gateway never turns "1" into 1 …
  useDefaults: false, // … nor fills in `default`s: the function sees the body as sent
  removeAdditional: false,
  strict: false, // draft-04 ignores keywords it does not define (titles, examples, x-… extensions)
  validateFormats: true,
  unicodeRegExp: true, // `pattern` and string lengths count code points, not UTF-16 units
  logger: false, // unknown formats are ignored silently (see DRAFT4_FORMATS)
};

function newAjv(): Ajv {
  const ajv = new Ajv(AJV_OPTIONS);
  addFormats(ajv, [...DRAFT4_FORMATS]);
  return ajv;
}

/** `/price: must be >= 0`, with the offending property or allowed values where ajv has them. */
function describe(e: ErrorObject): string {
  const where = e.instancePath === "" ? "body" : e.instancePath;
  const p = e.params as Record<string, unknown>;
  const detail =
    e.keyword === "additionalProperties" ? ` (${JSON.stringify(p.additionalProperty)})`
    : e.keyword === "enum" ? ` (${JSON.stringify(p.allowedValues)})`
    : "";
  return `${where}: ${e.message ?? e.keyword}${detail}`;
}

/**
 * Compiles a model's schema once. Each model gets its own ajv instance, so two models that
 * declare the same draft-04 `id` do not collide.
 * @throws ModelCompileError when the schema is not valid draft-04.
 */
export function compileModel(name: string, schema: Schema): ModelValidator {
  let validate: ReturnType<Ajv["compile"]>;
  try {
    validate = newAjv().compile(schema as Record<string, unknown>);
  } catch (err) {
    throw new ModelCompileError(name, err instanceof Error ? err.message : String(err));
  }
  return (value) => (validate(value) ? [] : (validate.errors ?? []).map(describe));
}

const adHoc = new WeakMap<Schema, ModelValidator>();

/** Every violation of `schema` by `value`; compiles on first use per schema object (tests, tools). */
export function validateSchema(schema: Schema, value: unknown): readonly string[] {
  let check = adHoc.get(schema);
  if (!check) adHoc.set(schema, (check = compileModel("(ad hoc)", schema)));
  return check(value);
}
