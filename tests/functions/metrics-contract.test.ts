/**
 * The metrics contract: every runtime metric the dashboard and the alarms read is one the
 * handlers really emit, under the same namespace, the same dimension names and matching values.
 *
 * Two stacks are composed from the real modules (as stacks/product-catalog.ts and
 * stacks/session-store.ts do) with CacheObservability, and synthesized. The real product and
 * session handlers then run against redis-server and dynalite, configured from the synthesized
 * Lambda's environment, through cache hits, misses and a Redis outage (circuit open, fallback);
 * their EMF lines are collected and every metric reference in the synthesized alarms and
 * dashboard is checked against them.
 */
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { TerraformStack, Testing } from "cdktf";
import { loadRuntimeConfig } from "../../functions/lib/config";
import { METRIC, METRIC_DIMENSIONS, METRIC_UNITS, MetricName, routeDimension } from "../../functions/lib/metrics";
import { routeKey, RUNTIME_SETTINGS } from "../../functions/lib/contract";
import { PRODUCTS, PRODUCTS_TABLE as PRODUCTS_LAYOUT } from "../../functions/products/contract";
import { SESSIONS, SESSIONS_TABLE as SESSIONS_LAYOUT } from "../../functions/sessions/contract";
import type { ProxyEvent } from "../../functions/lib/http";
import * as productsHandler from "../../functions/products/handler";
import * as sessionsHandler from "../../functions/sessions/handler";
import { CacheApi } from "../../modules/api";
import { Authorization } from "../../modules/authorization";
import { PROFILE_CONTEXT_KEY } from "../../modules/core/profile";
import { DaxCluster } from "../../modules/dax";
import { CacheAsideFunction, FunctionSettings } from "../../modules/function";
import { Network } from "../../modules/network";
import { CacheObservability, CacheObservabilityProps } from "../../modules/observability";
import { CacheEngine, RedisCache } from "../../modules/redis";
import { CacheTable } from "../../modules/table";
import { loadConfig } from "../../stacks/config";
import { ProductCatalogStack } from "../../stacks/product-catalog";
import { SessionStoreStack } from "../../stacks/session-store";
import { decodeJsonencode, onlyResource, resourcesOf, SynthJson } from "../helpers/synth";
import { apiEvent, getProduct, product } from "./events";
import { handlerEnv, PRODUCTS_TABLE, SESSIONS_TABLE, uid } from "./handler-env";

jest.setTimeout(120_000);



const DEFAULT_METRICS_NAMESPACE = RUNTIME_SETTINGS.metricsNamespace.default;
const DEFAULT_SERVICE_NAME = RUNTIME_SETTINGS.serviceName.default;
const METRICS_ENV = { namespace: RUNTIME_SETTINGS.metricsNamespace.env, serviceName: RUNTIME_SETTINGS.serviceName.env };

// One redis-server and one dynalite for both services (one EMF sink per process).
const env = handlerEnv({ service: "product-catalog", table: PRODUCTS_TABLE });
beforeAll(async () => {
  await env.dyn.createTable(SESSIONS_TABLE);
});

// ---------------------------------------------------------------------------------------------
// The stacks: the real modules composed as the stacks compose them, with observability on.

type Kind = "products" | "sessions";
const HANDLERS = { products: productsHandler, sessions: sessionsHandler } as const;
const CONTRACTS = { products: PRODUCTS, sessions: SESSIONS } as const;

function composeStack(kind: Kind, observability: Partial<CacheObservabilityProps> = {}, settings: FunctionSettings = {}): SynthJson {
  const app = Testing.app();
  const stack = new TerraformStack(app, `${kind}-contract`);
  stack.node.setContext(PROFILE_CONTEXT_KEY, "prod");
  new AwsProvider(stack, "aws", { region: "us-east-1" });
  const network = new Network(stack, "network", { availabilityZones: ["us-east-1a", "us-east-1b", "us-east-1c"] });
  const table = kind === "products" ? new CacheTable(stack, "products", PRODUCTS_LAYOUT) : new CacheTable(stack, "sessions", SESSIONS_LAYOUT);
  const cache = new RedisCache(stack, "cache", { network, engine: CacheEngine.valkey("8.0") });
  const fn: CacheAsideFunction = kind === "products"
    ? new CacheAsideFunction(stack, "fn", { network, contract: PRODUCTS, settings: { serviceName: "product-catalog", ttlSeconds: 300, ...settings } })
    : new CacheAsideFunction(stack, "fn", { network, contract: SESSIONS, settings: { serviceName: "session-store", contextTurns: 3, rateLimitPerWindow: 1000, ...settings } });
  fn.useTable(table, { write: true });
  const dax = kind === "sessions" ? new DaxCluster(stack, "dax", { network, tables: [table] }) : undefined;
  if (dax) fn.useDax(dax);
  fn.useCache(cache);
  // The API declares exactly the routes of the handler's contract (the last test checks the real stacks do too).
  const api = new CacheApi(stack, "api", { functions: [fn], authorization: Authorization.iam() });
  new CacheObservability(stack, "observability", { api, function: fn, table, cache, dax, ...observability });
  return JSON.parse(Testing.synth(stack));
}

// ---------------------------------------------------------------------------------------------
// What the synthesized alarms and dashboard read.

/** One runtime metric read by an alarm or a dashboard graph. */
interface MetricRef {
  /** Where it is read, e.g. `alarm product-catalog-…-cache-hit-ratio` or `dashboard "Cache hit ratio (%)"`. */
  readonly source: string;
  readonly namespace: string;
  readonly metricName: string;
  /** Exact dimensions (a metric) … */
  readonly dimensions?: Readonly<Record<string, string>>;
  /** … or a SEARCH: the schema's dimension names and the values it matches. */
  readonly search?: { readonly dimensionNames: readonly string[]; readonly match: Readonly<Record<string, string>> };
}

const SEARCH_RE = /SEARCH\('\{([^}]*)\}\s+([^']*)',\s*'[^']+',\s*\d+\)/g;

/** Every metric in a namespace of our own (not `AWS/…`) that the stack's alarms and dashboard read. */
function runtimeMetricRefs(json: SynthJson): MetricRef[] {
  const refs: MetricRef[] = [];
  const own = (ns: unknown): ns is string => typeof ns === "string" && !ns.startsWith("AWS/");
  for (const [, a] of resourcesOf(json, "aws_cloudwatch_metric_alarm")) {
    const source = `alarm ${a.alarm_name}`;
    if (own(a.namespace)) refs.push({ source, namespace: a.namespace, metricName: a.metric_name, dimensions: a.dimensions ?? {} });
    for (const q of a.metric_query ?? []) {
      if (q.metric && own(q.metric.namespace)) {
        refs.push({ source, namespace: q.metric.namespace, metricName: q.metric.metric_name, dimensions: q.metric.dimensions ?? {} });
      }
      if (q.expression?.includes("SEARCH")) throw new Error(`${source} uses SEARCH, which alarms cannot`);
    }
  }
  for (const [, d] of resourcesOf(json, "aws_cloudwatch_dashboard")) {
    const body = decodeJsonencode(d.dashboard_body);
    for (const w of body.widgets) {
      const source = `dashboard "${w.properties.title ?? w.type}"`;
      for (const line of w.properties.metrics ?? []) {
        if (typeof line[0] === "object") {
          for (const m of String(line[0].expression).matchAll(SEARCH_RE)) {
            const [namespace, ...dimensionNames] = m[1].split(",").map((x) => x.trim());
            const terms = Object.fromEntries([...m[2].matchAll(/(\w+)="([^"]*)"/g)].map((t) => [t[1], t[2]]));
            const { MetricName: metricName, ...match } = terms;
            if (own(namespace)) refs.push({ source, namespace, metricName, search: { dimensionNames, match } });
          }
          continue;
        }
        const [namespace, metricName, ...rest] = line.filter((x: unknown) => typeof x === "string");
        if (!own(namespace)) continue;
        const dimensions: Record<string, string> = {};
        for (let i = 0; i < rest.length; i += 2) dimensions[rest[i]] = rest[i + 1];
        refs.push({ source, namespace, metricName, dimensions });
      }
    }
  }
  return refs;
}

// ---------------------------------------------------------------------------------------------
// What the runtime emitted, and the check.

interface Emitted {
  readonly namespace: string;
  readonly dimensionNames: readonly string[];
  readonly dimensions: Readonly<Record<string, string>>;
  readonly metrics: ReadonlyArray<{ readonly name: string; readonly unit: string }>;
  readonly values: Readonly<Record<string, unknown>>;
}

function parseEmfLines(lines: readonly string[]): Emitted[] {
  return lines.map((l) => {
    const doc = JSON.parse(l);
    const directive = doc._aws.CloudWatchMetrics;
    expect(directive).toHaveLength(1);
    const [dimensionNames] = directive[0].Dimensions as string[][];
    expect(directive[0].Dimensions).toHaveLength(1);
    return {
      namespace: directive[0].Namespace,
      dimensionNames,
      dimensions: Object.fromEntries(dimensionNames.map((n) => [n, doc[n]])),
      metrics: directive[0].Metrics.map((m: { Name: string; Unit: string }) => ({ name: m.Name, unit: m.Unit })),
      values: doc,
    };
  });
}

const sameNames = (a: readonly string[], b: readonly string[]) => [...a].sort().join(",") === [...b].sort().join(",");

/** Problems: every reference no emitted line satisfies, with the reason. Empty when the contract holds. */
function contractProblems(refs: readonly MetricRef[], emitted: readonly Emitted[], routes: readonly string[]): string[] {
  const problems: string[] = [];
  for (const ref of refs) {
    const names = ref.dimensions ? Object.keys(ref.dimensions) : ref.search!.dimensionNames;
    const wanted = ref.dimensions ?? ref.search!.match;
    const candidates = emitted.filter((e) => e.metrics.some((m) => m.name === ref.metricName) && e.values[ref.metricName] !== undefined);
    const what = `${ref.source} reads ${ref.namespace}/${ref.metricName} ${JSON.stringify(ref.dimensions ?? ref.search)}`;
    if (candidates.length === 0) {
      problems.push(`${what}: the runtime never emitted ${ref.metricName}`);
      continue;
    }
    const inNamespace = candidates.filter((e) => e.namespace === ref.namespace);
    if (inNamespace.length === 0) {
      problems.push(`${what}: emitted only in namespace ${[...new Set(candidates.map((e) => e.namespace))].join(", ")}`);
      continue;
    }
    const sameDims = inNamespace.filter((e) => sameNames(e.dimensionNames, names));
    if (sameDims.length === 0) {
      problems.push(`${what}: emitted with dimensions [${inNamespace[0].dimensionNames.join(", ")}], read with [${names.join(", ")}]`);
      continue;
    }
    const matching = sameDims.filter((e) => Object.entries(wanted).every(([k, v]) => e.dimensions[k] === v) &&
      (ref.dimensions !== undefined || routes.includes(e.dimensions.Route)));
    if (matching.length === 0) {
      const seen = [...new Set(sameDims.map((e) => JSON.stringify(e.dimensions)))].join(" ");
      problems.push(`${what}: no emitted line has those dimension values; emitted ${seen}`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Running the handlers with the synthesized Lambda's configuration.

/** The Lambda's environment variables that are literals (endpoints and ARNs are tokens, and local here). */
function literalLambdaEnv(json: SynthJson): Record<string, string> {
  const vars: Record<string, string> = onlyResource(json, "aws_lambda_function").environment.variables;
  return Object.fromEntries(Object.entries(vars).filter(([k, v]) => !v.includes("${") && !k.startsWith("REDIS_") && k !== "NODE_OPTIONS"));
}

const OUTAGE = { BREAKER_COOLDOWN_MS: "300", BREAKER_FAILURE_THRESHOLD: "3", CACHE_COMMAND_TIMEOUT_MS: "100" };

/** As a SigV4-signed caller (the composed API uses Authorization.iam()): API Gateway hands over the signer's ARN. */
const signed = (e: ProxyEvent): ProxyEvent => ({ ...e, requestContext: { ...e.requestContext, identity: { userArn: "arn:aws:iam::123456789012:role/writer" } } });
const getSession = (id: string) =>
  signed(apiEvent("GET", `/sessions/${id}`, { resource: "/sessions/{sessionId}", pathParameters: { sessionId: id } }));
const postTurn = (id: string, content: string) =>
  signed(apiEvent("POST", `/sessions/${id}/turns`, { resource: "/sessions/{sessionId}/turns", pathParameters: { sessionId: id }, body: { role: "user", content } }));
const health = () => apiEvent("GET", "/health", { resource: "/health" });

/** Hits, misses, a Redis outage (circuit open, fallback) and recovery; returns the EMF lines written. */
async function exercise(kind: Kind, lambdaEnv: Record<string, string>): Promise<string[]> {
  const start = env.emf.length;
  const lambda = env.env({ ...lambdaEnv, ...OUTAGE, TABLE_NAME: kind === "products" ? "products" : "sessions" });
  const h = env.track(HANDLERS[kind].createHandler({ env: lambda }));
  const ok = async (e: ProxyEvent, status: number[]) => {
    const r = await h(e);
    if (!status.includes(r.statusCode)) throw new Error(`${kind}: ${e.httpMethod} ${e.path} answered ${r.statusCode} ${r.body}, expected ${status.join(" or ")}`);
    return r;
  };
  const id = uid(kind);
  const read = kind === "products" ? () => getProduct(id) : () => getSession(id);
  const write = kind === "products" ? () => signed(product(id)) : () => postTurn(id, `turn ${Date.now()}`);

  await ok(health(), [200]);
  await ok(write(), [200, 201]);
  expect((await ok(read(), [200])).headers["x-cache"]).toBe("MISS");
  expect((await ok(read(), [200])).headers["x-cache"]).toBe("HIT");
  expect((await ok(kind === "products" ? getProduct(uid("missing")) : getSession(uid("missing")), [404])).headers["x-cache"]).toBe("MISS");

  await env.redis.kill();
  try {
    for (let i = 0; i < 8; i++) expect((await ok(read(), [200])).headers["x-cache"]).toBe("BYPASS");
    await ok(write(), [200, 201]); // invalidation fails (CacheError); sessions also fail open on the rate limit and lock (Fallback)
  } finally {
    await env.redis.restart();
  }
  const deadline = Date.now() + 10_000;
  let status = "";
  while (Date.now() < deadline && status !== "HIT") {
    status = (await h(read())).headers["x-cache"];
    if (status !== "HIT") await new Promise((r) => setTimeout(r, 100));
  }
  expect(status).toBe("HIT");
  // The L1 (opt-in): a read again within its TTL is answered in the function's memory (L1Hit).
  const withL1 = env.track(HANDLERS[kind].createHandler({ env: { ...lambda, [RUNTIME_SETTINGS.l1TtlMs.env]: "5000" } }));
  await withL1(read());
  expect((await withL1(read())).headers["x-cache-tier"]).toBe("l1");
  return env.emf.slice(start);
}

// ---------------------------------------------------------------------------------------------

const STACKS = { products: composeStack("products"), sessions: composeStack("sessions") };
const emittedBy: Partial<Record<Kind, Emitted[]>> = {};

beforeAll(async () => {
  // Sequential: both share the redis-server the outage kills.
  for (const kind of ["products", "sessions"] as const) {
    emittedBy[kind] = parseEmfLines(await exercise(kind, literalLambdaEnv(STACKS[kind])));
  }
});

const routesOf = (kind: Kind) => CONTRACTS[kind].routes.map((r) => routeKey(r));

describe.each(["products", "sessions"] as const)("%s: what the alarms and dashboard read is what the handler emits", (kind) => {
  const json = STACKS[kind];
  const refs = runtimeMetricRefs(json);
  const service = kind === "products" ? "product-catalog" : "session-store";

  test("the stack reads runtime metrics from both alarms and dashboard, in the namespace the Lambda is configured with", () => {
    const lambdaEnv = literalLambdaEnv(json);
    expect(lambdaEnv[METRICS_ENV.namespace]).toBe(`Cachefront/${service}`); // CacheAsideFunction's default for the service
    expect(lambdaEnv[METRICS_ENV.serviceName]).toBe(service);
    const runtimeConfig = loadRuntimeConfig({ ...lambdaEnv, TABLE_NAME: "t", CACHE_BACKEND: "memory" });
    expect(new Set(refs.map((r) => r.namespace))).toEqual(new Set([runtimeConfig.metricsNamespace]));
    expect(refs.some((r) => r.source.startsWith("alarm"))).toBe(true);
    expect(refs.some((r) => r.source.startsWith("dashboard"))).toBe(true);
    const read = new Set(refs.map((r) => r.metricName));
    for (const m of [METRIC.CacheHit, METRIC.CacheMiss, METRIC.CircuitOpen, METRIC.Fallback]) expect(read).toContain(m);
  });

  test("the handler emitted hits, misses, circuit-open events and fallbacks, each line with Service and Route dimensions only", () => {
    const emitted = emittedBy[kind]!;
    const names = new Set(emitted.flatMap((e) => e.metrics.map((m) => m.name)));
    for (const m of [METRIC.CacheHit, METRIC.CacheMiss, METRIC.CircuitOpen, METRIC.Fallback, METRIC.CacheError, METRIC.LoadLatency]) expect(names).toContain(m);
    for (const e of emitted) {
      expect(e.namespace).toBe(`Cachefront/${service}`);
      expect(e.dimensionNames).toEqual([...METRIC_DIMENSIONS]);
      expect(e.dimensions.Service).toBe(service);
      expect(routesOf(kind)).toContain(e.dimensions.Route);
      for (const m of e.metrics) expect(m.unit).toBe(METRIC_UNITS[m.name as MetricName]);
    }
  });

  test("every runtime metric an alarm or a graph reads is emitted: same namespace, same dimension names, Service = serviceName, Route ∈ the API's routes", () => {
    expect(refs.length).toBeGreaterThan(5);
    for (const r of refs) {
      const names = r.dimensions ? Object.keys(r.dimensions) : r.search!.dimensionNames;
      expect(sameNames(names, METRIC_DIMENSIONS)).toBe(true);
      const service = r.dimensions?.Service ?? r.search!.match.Service;
      expect(service).toBe(kind === "products" ? "product-catalog" : "session-store");
      if (r.dimensions) expect(routesOf(kind)).toContain(r.dimensions.Route);
    }
    expect(contractProblems(refs, emittedBy[kind]!, routesOf(kind))).toEqual([]);
  });
});

describe("the check catches drift", () => {
  test("GIVEN a metric name the runtime does not emit (a typo) THEN it is reported", () => {
    const refs = runtimeMetricRefs(STACKS.products);
    const hit = refs.find((r) => r.metricName === METRIC.CacheHit && r.dimensions)!;
    const drifted: MetricRef = { ...hit, source: "alarm drifted", metricName: "CacheHits" };
    expect(contractProblems([...refs, drifted], emittedBy.products!, routesOf("products"))).toEqual([
      expect.stringMatching(/^alarm drifted reads Cachefront\/product-catalog\/CacheHits .*: the runtime never emitted CacheHits$/),
    ]);
  });

  test("GIVEN the hit ratio pointed at a route that never reads the cache THEN every CacheHit/CacheMiss reference to it is reported", () => {
    const json = composeStack("products", { cacheRoutes: ["GET /health"] });
    const problems = contractProblems(runtimeMetricRefs(json), emittedBy.products!, routesOf("products"));
    expect(problems.length).toBeGreaterThanOrEqual(4);
    expect(problems.every((p) => /"Route":"GET \/health"/.test(p) && /no emitted line has those dimension values/.test(p))).toBe(true);
  });

  test("GIVEN a namespace or a dimension set the runtime does not write THEN it is reported", () => {
    const refs = runtimeMetricRefs(composeStack("products", {}, { metricsNamespace: "Cachefront-v2" }));
    // The function's settings pin METRICS_NAMESPACE, so the deployed code would follow; the lines
    // emitted above used the service's derived namespace, and the check sees the difference.
    const problems = contractProblems(refs, emittedBy.products!, routesOf("products"));
    expect(problems.length).toBe(refs.length);
    expect(problems[0]).toMatch(/emitted only in namespace Cachefront\/product-catalog$/);
    const oneDim: MetricRef = { source: "graph drifted", namespace: "Cachefront/product-catalog", metricName: METRIC.CacheHit, dimensions: { Service: "product-catalog" } };
    expect(contractProblems([oneDim], emittedBy.products!, routesOf("products"))).toEqual([
      expect.stringMatching(/emitted with dimensions \[Service, Route\], read with \[Service\]$/),
    ]);
  });
});

describe("the single definition", () => {
  test("the runtime's defaults are the definition's: namespace and service name", () => {
    const cfg = loadRuntimeConfig({ TABLE_NAME: "t", CACHE_BACKEND: "memory" });
    expect(cfg.metricsNamespace).toBe(DEFAULT_METRICS_NAMESPACE);
    expect(cfg.serviceName).toBe(DEFAULT_SERVICE_NAME);
    const named = loadRuntimeConfig({ TABLE_NAME: "t", CACHE_BACKEND: "memory", [METRICS_ENV.namespace]: "X/Y", [METRICS_ENV.serviceName]: "svc" });
    expect([named.metricsNamespace, named.serviceName]).toEqual(["X/Y", "svc"]);
  });

  test("the real stacks declare exactly the routes their handlers serve (the Route values alarms are built from)", () => {
    const app = Testing.app();
    const config = loadConfig("prod");
    const stacks = { products: new ProductCatalogStack(app, "pc", { config }), sessions: new SessionStoreStack(app, "ss", { config }) };
    for (const kind of ["products", "sessions"] as const) {
      const declared = stacks[kind].api.routes.map((r) => routeDimension(r.method, r.path));
      expect(declared.sort()).toEqual(routesOf(kind).sort());
    }
  });
});
