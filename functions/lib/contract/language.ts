/**
 * The language a function's contract is written in: the facts that infrastructure and runtime
 * share, each stated once. A contract is plain data plus pure functions (no I/O, no cdktf), so
 * the handler, the constructs, the stacks and the local twin can all read the same object:
 *
 *   export const PRODUCTS = defineContract({
 *     name: "products", entry: "functions/products/handler.ts",
 *     routes: [{ method: "GET", path: "/products/{productId}", access: "public", cached: true, summary: "…" }],
 *     settings: {}, table: { partitionKey: { name: "productId", type: "S" } }, metrics: [...], …
 *   });
 *
 * Settings are environment variables with a name, a type, a default and a range. The Lambda
 * reads them with {@link readSettings} at cold start; `CacheAsideFunction` checks the same
 * ranges with {@link settingProblem} at synth time and writes the variables itself.
 */
/** Any JSON value. */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };
/** A JSON schema object (draft-04, the only draft API Gateway models understand). */
export type JsonSchema = { readonly [key: string]: JsonValue };

/** The `$schema` of draft-04, the only draft API Gateway models understand. */
export const JSON_SCHEMA_DRAFT_04 = "http://json-schema.org/draft-04/schema#";

/** HTTP methods a route may use. */
export type HttpMethod = "GET" | "PUT" | "POST" | "DELETE" | "PATCH";

/**
 * Who may call a route:
 * - `public`: anyone who can reach the API (say why in `publicReason`, else the policy pack
 *   reports the route as unauthorized);
 * - `apiKey`: callers that send an API key of the API's usage plan (`x-api-key`); a key identifies
 *   a calling application for throttling and quotas, it is not proof of who the caller is;
 * - `caller`: callers the API's authorization verified (a JWT, a Cognito token or a SigV4
 *   signature); the handler receives the verified identity, never a body field, and `CacheApi`
 *   refuses to serve the route when it has no authorization configured.
 */
export type RouteAccess = "public" | "apiKey" | "caller";

/** One HTTP route a function serves. */
export interface RouteSpec {
  /** The route's name in code (like an OpenAPI operationId), e.g. `getProduct`: the handler's map is keyed by it. */
  readonly name: string;
  /** HTTP method. */
  readonly method: HttpMethod;
  /** Resource path template exactly as API Gateway declares it, e.g. `/products/{productId}`. */
  readonly path: string;
  /** What the route does, one line (API docs, the twin's banner). */
  readonly summary: string;
  /** Who may call it. */
  readonly access: RouteAccess;
  /**
   * Why anyone may call a `public` route (at least 10 characters), e.g. "catalog data is public".
   * `CacheApi` records it as the reason of the policy pack's unauthorized-route suppression on the
   * method, so every report shows it.
   */
  readonly publicReason?: string;
  /**
   * Reads go through the cache, so the route counts towards the hit ratio and the circuit-open
   * alarm.
   */
  readonly cached: boolean;
  /** JSON schema (draft-04) of the request body; API Gateway and the handler both enforce it. */
  readonly body?: JsonSchema;
  /** Query string parameters: name → required. */
  readonly query?: { readonly [name: string]: boolean };
}

/** One route of a WebSocket API. */
export interface SocketRouteSpec {
  /** The route's name in code: the handler's socket map is keyed by it. */
  readonly name: string;
  /** `$connect`, `$disconnect`, `$default`, or the action value that selects this route. */
  readonly routeKey: string;
  /** What the route does, one line (docs, the twin's banner). */
  readonly summary: string;
  /** JSON schema (draft-04) of the message; the handler checks it before the route's code runs. */
  readonly body?: JsonSchema;
  /**
   * The route answers the sender on its own socket (an API Gateway route response): an
   * acknowledgement, or an error message the client can act on.
   * @default false
   */
  readonly reply?: boolean;
}

/** The WebSocket API of a function. */
export interface SocketSpec {
  /** The JSON field of a message whose value selects the route (`$request.body.<actionField>`). */
  readonly actionField: string;
  /** Query string parameters of the connect URL the handler reads, with what each is. */
  readonly connectQuery: Readonly<Record<string, string>>;
  /** The routes, `$connect` among them. */
  readonly routes: readonly SocketRouteSpec[];
}

/** The names of a socket spec's routes: the keys of a handler's socket map. */
export type SocketRouteName<S extends { readonly routes: readonly SocketRouteSpec[] }> = S["routes"][number]["name"];

/** A key attribute of a table or index. */
export interface KeyAttribute {
  /** Attribute name (1–255 characters). */
  readonly name: string;
  /** `S` string, `N` number, `B` binary. */
  readonly type: "S" | "N" | "B";
}

/** A global secondary index a handler queries. */
export interface IndexSpec {
  /** Index name (3–255 of a-z, A-Z, 0-9, `_`, `-`, `.`). */
  readonly indexName: string;
  /** Partition key of the index. */
  readonly partitionKey: KeyAttribute;
  /** Sort key of the index. @default none */
  readonly sortKey?: KeyAttribute;
  /**
   * Attributes copied into the index: `ALL`, `KEYS_ONLY`, or a list of non-key attributes.
   * @default "ALL"
   */
  readonly projection?: "ALL" | "KEYS_ONLY" | readonly string[];
}

/** The table layout a handler is written against. */
export interface TableSpec {
  /** Partition key. */
  readonly partitionKey: KeyAttribute;
  /** Sort key. @default none */
  readonly sortKey?: KeyAttribute;
  /** Attribute holding each item's expiry (epoch seconds), when the handler writes one. @default none */
  readonly timeToLiveAttribute?: string;
  /** Indexes the handler queries. @default none */
  readonly globalSecondaryIndexes?: readonly IndexSpec[];
}

interface SettingBase<T> {
  /** The environment variable. */
  readonly env: string;
  /** What it sets, one sentence (help/runtime.md). */
  readonly description: string;
  /** Value when the variable is unset or empty; absent: the variable is required (or derived, see `derived`). */
  readonly default?: T;
  /** When there is no fixed default: how the runtime derives the value, in words. */
  readonly derived?: string;
  /** Unset means "none" (an endpoint that is not wired): read as `undefined`, never required. */
  readonly optional?: true;
}
/** An integer setting within [min, max]. */
export interface IntegerSetting extends SettingBase<number> {
  /** Discriminator. */
  readonly type: "integer";
  /** Smallest value accepted. */
  readonly min: number;
  /** Largest value accepted. */
  readonly max: number;
}
/** A finite number within [min, max]. */
export interface NumberSetting extends SettingBase<number> {
  /** Discriminator. */
  readonly type: "number";
  /** Smallest value accepted. */
  readonly min: number;
  /** Largest value accepted. */
  readonly max: number;
}
/** `true`/`false` (`1`/`0` accepted in the environment). */
export interface BooleanSetting extends SettingBase<boolean> {
  /** Discriminator. */
  readonly type: "boolean";
}
/** A string, optionally one of `values` or matching `pattern`. */
export interface StringSetting extends SettingBase<string> {
  /** Discriminator. */
  readonly type: "string";
  /** The only accepted values. */
  readonly values?: readonly string[];
  /** Regular expression source the value must match. */
  readonly pattern?: string;
  /** What `pattern` accepts, in words. */
  readonly patternText?: string;
}
/** One setting of a contract. */
export type Setting = IntegerSetting | NumberSetting | BooleanSetting | StringSetting;
/** Settings by their key in code (`ttlSeconds`), each naming its variable (`CACHE_TTL_SECONDS`). */
export type SettingsSpec = { readonly [key: string]: Setting };
/** The value type of a setting. */
export type SettingValue<S> = S extends BooleanSetting ? boolean : S extends StringSetting ? string : number;
/** Parsed values of a settings spec (`undefined` for an unset optional one). */
export type SettingsOf<S extends SettingsSpec> = {
  readonly [K in keyof S]: S[K] extends { readonly optional: true } ? SettingValue<S[K]> | undefined : SettingValue<S[K]>;
};

type SettingOptions<T> = Omit<SettingBase<T>, "env">;

// The declared options are kept in the type (`default: 300`), so code reading a default needs no check.
/** Declares an integer setting. */
export function integer<const O extends SettingOptions<number> & { readonly min: number; readonly max: number }>(env: string, o: O): IntegerSetting & O {
  return { env, type: "integer", ...o };
}
/** Declares a number setting. */
export function number<const O extends SettingOptions<number> & { readonly min: number; readonly max: number }>(env: string, o: O): NumberSetting & O {
  return { env, type: "number", ...o };
}
/** Declares a boolean setting. */
export function boolean<const O extends SettingOptions<boolean>>(env: string, o: O): BooleanSetting & O {
  return { env, type: "boolean", ...o };
}
/** Declares a string setting. */
export function string<const O extends SettingOptions<string> & Pick<StringSetting, "values" | "pattern" | "patternText">>(env: string, o: O): StringSetting & O {
  return { env, type: "string", ...o };
}

/** A bad environment variable: the message names it, its value and what is allowed. */
export class ConfigError extends Error {
  constructor(
    /** The variable. */
    public readonly variable: string,
    /** Its value as found. */
    public readonly value: string,
    /** What would have been accepted. */
    public readonly allowed: string,
  ) {
    super(`environment variable ${variable}=${JSON.stringify(value)}: ${allowed}`);
    this.name = "ConfigError";
  }
}

/** What a setting accepts, in words: "an integer from 1 to 86400". */
export function allowedText(s: Setting): string {
  switch (s.type) {
    case "integer":
      return `an integer from ${s.min} to ${s.max}`;
    case "number":
      return `a number from ${s.min} to ${s.max}`;
    case "boolean":
      return "true or false";
    case "string":
      if (s.values) return `one of ${s.values.join(", ")}`;
      return s.patternText ?? (s.pattern ? `a value matching /${s.pattern}/` : "a non-empty string");
  }
}

/** Why `value` is not acceptable for `s` (its allowed text), or undefined when it is. */
export function settingProblem(s: Setting, value: unknown): string | undefined {
  switch (s.type) {
    case "integer":
      return typeof value === "number" && Number.isInteger(value) && value >= s.min && value <= s.max ? undefined : allowedText(s);
    case "number":
      return typeof value === "number" && Number.isFinite(value) && value >= s.min && value <= s.max ? undefined : allowedText(s);
    case "boolean":
      return typeof value === "boolean" ? undefined : allowedText(s);
    case "string": {
      if (typeof value !== "string" || value === "") return allowedText(s);
      if (s.values && !s.values.includes(value)) return allowedText(s);
      if (s.pattern && !new RegExp(s.pattern).test(value)) return allowedText(s);
      return undefined;
    }
  }
}

/** The environment text of a setting's value (`true`, `300`, `0.1`). */
export function formatSetting(value: string | number | boolean): string {
  return String(value);
}

/** The environment variables of `values`, by their settings' names (unset values are left out). */
export function environmentOf<S extends SettingsSpec>(spec: S, values: { readonly [K in keyof S]?: SettingValue<S[K]> }): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) {
    const s = spec[key];
    if (!s) throw new Error(`no setting ${key}; known: ${Object.keys(spec).join(", ")}`);
    if (value !== undefined) out[s.env] = formatSetting(value as string | number | boolean);
  }
  return out;
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The value of one setting from the environment: its default when unset or empty; a
 * {@link ConfigError} naming the variable when the text is not acceptable or a required one is missing.
 */
export function readSetting<S extends Setting>(s: S, env: Env, fallback?: SettingValue<S>): SettingValue<S> {
  const raw = env[s.env];
  if (raw === undefined || raw === "") {
    const d = (s.default ?? fallback) as SettingValue<S> | undefined;
    if (d === undefined && !s.optional) throw new ConfigError(s.env, "", "required");
    return d as SettingValue<S>;
  }
  let value: unknown = raw;
  if (s.type === "integer" || s.type === "number") value = raw.trim() === "" ? NaN : Number(raw);
  else if (s.type === "boolean") value = raw === "true" || raw === "1" ? true : raw === "false" || raw === "0" ? false : undefined;
  const problem = settingProblem(s, value);
  if (problem) throw new ConfigError(s.env, raw, problem);
  return value as SettingValue<S>;
}

/**
 * Every setting of `spec` read from `env` (the first bad one throws a {@link ConfigError});
 * `derived` gives the values of settings whose default depends on other variables.
 */
export function readSettings<S extends SettingsSpec>(spec: S, env: Env, derived: Partial<SettingsOf<S>> = {}): SettingsOf<S> {
  const out: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(spec)) out[key] = readSetting(s, env, (derived as Record<string, never>)[key]);
  return out as SettingsOf<S>;
}

/** The contract of one Lambda function: everything its construct, stack, API and twin must agree on. */
export interface FunctionContract<
  S extends SettingsSpec = SettingsSpec,
  R extends readonly RouteSpec[] = readonly RouteSpec[],
  W extends SocketSpec | undefined = SocketSpec | undefined,
> {
  /** Short name, e.g. `products`. */
  readonly name: string;
  /**
   * Handler entry file the construct bundles: relative to the package root for the handlers this
   * package ships (`functions/products/handler.ts`), or absolute for your own.
   */
  readonly entry: string;
  /** What the function does, one line (the Lambda description). */
  readonly description: string;
  /** The routes it serves. */
  readonly routes: R;
  /** Its own settings, on top of the runtime's common ones. */
  readonly settings: S;
  /** The table layout it is written against: a table wired with `useTable` must match it. */
  readonly table?: TableSpec;
  /**
   * The cache keys a change to the item with these table keys makes stale (the stream invalidator
   * and the write path both use it). Keys are given as plain values, e.g. `{ productId: "p1" }`.
   */
  readonly cacheKeysOf?: (keys: Readonly<Record<string, unknown>>) => readonly string[];
  /** Metric names it emits besides the runtime's own (see `METRIC`). */
  readonly metrics: readonly string[];
  /**
   * Cache operations it needs beyond get/set/lease/invalidate (a backend lacking one is refused at
   * synth): a sliding window (rate limits), a connection map (WebSocket connections and presence).
   */
  readonly needs?: { readonly slidingWindow?: boolean; readonly connectionMap?: boolean };
  /** The routes it serves on a WebSocket API (`WebSocketApi`), when it has one. @default none */
  readonly socket?: W;
}

/** The route names of a contract: the keys of its handler map. */
export type RouteName<C extends { readonly routes: readonly RouteSpec[] }> = C["routes"][number]["name"];

/** `"<METHOD> <path>"` of a route: the `Route` metric dimension and the API's method key. */
export function routeKey(route: Pick<RouteSpec, "method" | "path">): string {
  return `${route.method} ${route.path}`;
}

/** Path parameter names of a template: `["productId"]` for `/products/{productId}`, `proxy` for `{proxy+}`. */
export function pathParameters(path: string): string[] {
  return (path === "/" ? [] : path.slice(1).split("/"))
    .filter((s) => s.startsWith("{"))
    .map((s) => s.slice(1, -1).replace(/\+$/, ""));
}

/** The route of `contract` named `name` (a typo fails to compile). */
export function routeOf<C extends FunctionContract>(contract: C, name: RouteName<C>): C["routes"][number] {
  const r = contract.routes.find((x) => x.name === name);
  if (!r) throw new Error(`contract ${contract.name} has no route ${String(name)}`);
  return r;
}

/** A concrete request path of a route template: `{name}` replaced by the percent-encoded `params.name`. */
export function fillPath(template: string, params: Readonly<Record<string, string>>): string {
  return template.replace(/\{([A-Za-z0-9._-]+)\+?\}/g, (_m, name: string) => {
    const v = params[name];
    if (v === undefined) throw new Error(`path ${template}: no value for {${name}}`);
    return encodeURIComponent(v);
  });
}

/** Declares a contract (keeps its literal route types, so a handler map is checked against them). */
export function defineContract<const S extends SettingsSpec, const R extends readonly RouteSpec[], const W extends SocketSpec | undefined = undefined>(
  c: FunctionContract<S, R, W>,
): FunctionContract<S, R, W> {
  const seen = new Set<string>();
  for (const r of c.routes) {
    for (const k of [routeKey(r), r.name]) {
      if (seen.has(k)) throw new Error(`contract ${c.name}: route ${k} twice`);
      seen.add(k);
    }
    if (r.publicReason !== undefined && (r.access !== "public" || r.publicReason.trim().length < 10)) {
      throw new Error(`contract ${c.name}: route ${r.name} publicReason: only on public routes, at least 10 characters`);
    }
  }
  return c;
}
