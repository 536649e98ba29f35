/**
 * Container-scope wiring shared by the handlers: configuration, the cache store (behind its
 * circuit breaker), the table client (DAX when configured) and the request wrapper that turns
 * every outcome into a JSON response with metrics. A handler module is its contract plus one
 * function per route:
 *
 *   export const { handler, createHandler } = defineHandler(PRODUCTS, {
 *     health: healthRoute, getProduct, putProduct, deleteProduct,   // every route of the contract by name, no other
 *   });
 */
import { createCacheStore } from "./cache";
import type { CacheStore } from "./cache/types";
import { CacheAside } from "./cache-aside";
import { cacheControlOf, NO_STORE, withCacheControl } from "./cache-control";
import { verifiedCaller } from "./caller";
import { loadRuntimeConfig, RuntimeConfig } from "./config";
import { FunctionContract, readSettings, routeKey, RouteName, RouteSpec, SettingsOf, SettingsSpec, SocketSpec } from "./contract";
import { classifyError } from "./errors";
import { errorResult, HttpError, json, ProxyEvent, ProxyResult, Route, Router } from "./http";
import { errorFields, log } from "./log";
import { METRIC, RequestMetrics } from "./metrics";
import { createRealtime, Pusher, Realtime } from "./realtime";
import { compileSchema } from "./schema";
import { bindSocketRoutes, handleSocketEvent, isSocketEvent, SocketHandlers, SocketRouteHandler } from "./socket";
import { createTableClient, TableClient } from "./table";
import { parseJsonBody } from "./validate";

/**
 * What a handler's routes work with, built once per container: the configuration, the function's
 * own settings, the cache store, the cache-aside reader on top of it, and the table client.
 */
export interface Runtime<S extends SettingsSpec = SettingsSpec> {
  /** The runtime's configuration, read from the environment. */
  readonly config: RuntimeConfig;
  /** The function's own settings (its contract's `settings`), read from the environment. */
  readonly settings: SettingsOf<S>;
  /** The cache backend (Redis, DynamoDB or memory) behind its circuit breaker. */
  readonly store: CacheStore;
  /** Cache-aside reads (`read`) and invalidation (`invalidate`) over `store`. */
  readonly cache: CacheAside;
  /** DynamoDB access, through DAX when `DAX_ENDPOINT` is set. */
  readonly table: TableClient;
}

/** Overrides for tests and the local twin; anything not given is built from the environment. */
export interface RuntimeDeps {
  /** Environment to read the configuration and settings from. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Configuration to use instead of the one read from `env`. */
  readonly config?: RuntimeConfig;
  /** Cache store to use instead of the configured backend. */
  readonly store?: CacheStore;
  /** Table client to use instead of the configured DynamoDB/DAX client. */
  readonly table?: TableClient;
  /** Pusher to use instead of the function named by `REALTIME_PUSHER_FUNCTION` (tests stand in for AWS). */
  readonly pusher?: Pusher;
}

let fallbackCounter = 0;

/**
 * Builds a {@link Runtime} for `settings`: whatever `deps` does not give is built from the
 * environment (by default `process.env`).
 */
export function createRuntime<S extends SettingsSpec>(settings: S, deps: RuntimeDeps = {}): Runtime<S> {
  const env = deps.env ?? process.env;
  const config = deps.config ?? loadRuntimeConfig(env);
  const store = deps.store ?? createCacheStore(config);
  const table = deps.table ?? createTableClient(config, () => fallbackCounter++);
  const cache = new CacheAside(store, {
    ttlSeconds: config.ttlSeconds,
    jitterRatio: config.ttlJitterRatio,
    negativeTtlSeconds: config.negativeTtlSeconds,
    leaseTtlMs: config.leaseTtlMs,
    leaseWaitMs: config.leaseWaitMs,
  }, config.l1);
  return { config, settings: readSettings(settings, env), store, cache, table };
}

/** Per-request context handed to routes. */
export interface RequestContext<S extends SettingsSpec = SettingsSpec> {
  /** The container's runtime. */
  readonly rt: Runtime<S>;
  /** This request's metrics, written as one EMF line when the request ends. */
  readonly metrics: RequestMetrics;
  /** API Gateway's request id, echoed in error bodies. */
  readonly requestId?: string;
  /** The request body, parsed and checked against the route's schema; only on routes with a body schema. */
  readonly body: Record<string, unknown>;
  /**
   * The caller API Gateway's authorization verified (see `verifiedCaller`); set on every route
   * whose access is `caller` (the request is refused with 401 before the route's code otherwise).
   */
  readonly caller?: string;
  /** The connection map and the push; set when the contract needs a connection map (`needs.connectionMap`). */
  readonly realtime?: Realtime;
}

/** One route's code: answers the request; `params` holds the decoded path parameters. */
export type RouteHandler<S extends SettingsSpec = SettingsSpec> = (
  event: ProxyEvent,
  params: Record<string, string>,
  ctx: RequestContext<S>,
) => Promise<ProxyResult>;

/** A contract route with its code and compiled body check. */
interface BoundRoute<S extends SettingsSpec> extends Route<RequestContext<S>> {
  readonly spec: RouteSpec;
}

/**
 * Runs one request: routes it, parses and checks its body, counts DAX fallbacks, flushes
 * metrics, and maps every error to JSON by the one error model of `./errors` (a refused request
 * is a 400, an unreachable or throttling table a 503 with Retry-After, a bug a 500).
 */
export async function handleRequest<S extends SettingsSpec>(event: ProxyEvent, router: Router<RequestContext<S>>, rt: Runtime<S>, realtime?: Realtime): Promise<ProxyResult> {
  const metrics = new RequestMetrics(rt.config.metricsNamespace, rt.config.serviceName);
  const requestId = event?.requestContext?.requestId;
  const fallbacksBefore = fallbackCounter;
  let spec: RouteSpec | undefined;
  let result: ProxyResult;
  try {
    const { route, params } = router.match(event ?? ({} as ProxyEvent));
    spec = (route as Partial<BoundRoute<S>>).spec;
    metrics.setRoute(routeKey(route as Route<RequestContext<S>> & Pick<RouteSpec, "method" | "path">));
    result = await route.handle(event, params, { rt, metrics, requestId, body: {}, realtime });

  } catch (err) {
    const { error, bug } = classifyError(err);
    if (bug) log("error", "request failed", { requestId, ...errorFields(err), stack: err instanceof Error ? err.stack : undefined });
    else if (error.statusCode >= 500) log("error", error.message, { requestId, ...errorFields(err) });
    result = errorResult(error, requestId);
  } finally {
    if (fallbackCounter > fallbacksBefore) metrics.count(METRIC.Fallback, fallbackCounter - fallbacksBefore);
    metrics.flush();
  }
  // Last, over whatever the route's code set: the contract alone decides what a shared cache may keep.
  const c = rt.config;
  const cacheControl = cacheControlOf(spec, result.statusCode, {
    maxAgeSeconds: c.cacheControlMaxAgeSeconds,
    sharedMaxAgeSeconds: c.cacheControlSharedMaxAgeSeconds,
    staleWhileRevalidateSeconds: c.cacheControlStaleWhileRevalidateSeconds,
  });
  return { ...result, headers: withCacheControl(result.headers ?? {}, cacheControl) };
}

/**
 * Runs `handle` with the verified caller; without one, 401 before any of its code runs, whatever
 * the API in front is configured to do.
 */
function withCaller<S extends SettingsSpec>(handle: RouteHandler<S>): RouteHandler<S> {
  return (event, params, ctx) => {
    const caller = verifiedCaller(event, ctx.rt.config.callerIdentitySource);
    if (!caller) throw new HttpError(401, "this route needs a verified caller (a valid token or signature)");
    return handle(event, params, { ...ctx, caller });
  };
}

/**
 * A handler bound to its runtime (tests and the local twin reach the clients through `runtime`,
 * and the connection map through `realtime`). It takes REST events, and WebSocket events when the
 * contract has a socket spec.
 */
export type BoundHandler<S extends SettingsSpec = SettingsSpec> = ((event: ProxyEvent) => Promise<ProxyResult>) & {
  runtime: Runtime<S>;
  realtime?: Realtime;
};

/** One function per route of contract `C`: exactly its routes, by name. */
export type RouteHandlers<C extends FunctionContract> = { readonly [K in RouteName<C>]: RouteHandler<C["settings"]> };

/**
 * The two entry points of a handler module, built from its contract: `createHandler(deps)` for
 * tests and the local twin, and `handler` for Lambda, which builds its clients once per container
 * and reuses them. A route with a body schema gets its body parsed and checked before its code runs.
 * A contract with a socket spec takes one function per socket route as `socketHandlers`, and the
 * handler serves the WebSocket API's events too (./socket.ts).
 */
export function defineHandler<C extends FunctionContract>(
  contract: C,
  handlers: RouteHandlers<C>,
  socketHandlers?: SocketHandlers<NonNullable<C["socket"]> & SocketSpec, Runtime<C["settings"]>>,
): {
  createHandler: (deps?: RuntimeDeps) => BoundHandler<C["settings"]>;
  handler: (event: ProxyEvent) => Promise<ProxyResult>;
} {
  type S = C["settings"];
  const given = handlers as unknown as Record<string, RouteHandler<S>>;
  const names = new Set(contract.routes.map((r) => r.name));
  const extra = Object.keys(given).filter((k) => !names.has(k));
  if (extra.length > 0) throw new Error(`handler of ${contract.name}: no route ${extra.join(", ")} in its contract`);
  const routes: BoundRoute<S>[] = contract.routes.map((spec) => {
    const handle = given[spec.name];
    if (!handle) throw new Error(`handler of ${contract.name}: route ${spec.name} (${routeKey(spec)}) has no code`);
    // The caller is checked first, as API Gateway runs its authorizer before validating the body.
    const guard = spec.access === "caller" ? withCaller<S> : (h: RouteHandler<S>) => h;
    if (!spec.body) return { method: spec.method, path: spec.path, spec, handle: guard(handle) };
    const checkBody = compileSchema(spec.body);
    return {
      method: spec.method,
      path: spec.path,
      spec,
      handle: guard((event, params, ctx) => {
        const body = parseJsonBody(event, ctx.rt.config.maxBodyBytes);
        const problems = checkBody(body);
        if (problems.length > 0) throw new HttpError(400, "invalid body", {}, problems);
        return handle(event, params, { ...ctx, body });
      }),
    };
  });
  const router = new Router<RequestContext<S>>(routes);
  if (!!contract.socket !== !!socketHandlers) throw new Error(`handler of ${contract.name}: socket routes need both a socket spec in the contract and their code`);
  const socketRoutes = contract.socket && bindSocketRoutes(contract.name, contract.socket, socketHandlers as unknown as Record<string, SocketRouteHandler<Runtime<S>>>);
  const createHandler = (deps: RuntimeDeps = {}): BoundHandler<S> => {
    const rt = createRuntime(contract.settings as S, deps);
    const realtime = contract.needs?.connectionMap ? createRealtime(rt, deps.env ?? process.env, deps.pusher) : undefined;
    const run = (event: ProxyEvent): Promise<ProxyResult> => {
      if (socketRoutes && realtime && isSocketEvent(event)) return handleSocketEvent(event, socketRoutes, rt, realtime);
      return handleRequest(event, router, rt, realtime);
    };
    return Object.assign(run, { runtime: rt, realtime });
  };
  let container: BoundHandler<S> | undefined;
  const handler = async (event: ProxyEvent): Promise<ProxyResult> => {
    if (!container) {
      try {
        container = createHandler();
      } catch (err) {
        // A deployment mistake (e.g. a bad environment variable), not the caller's: say which.
        log("error", "function misconfigured", errorFields(err));
        return json(500, { error: "function misconfigured", details: err instanceof Error ? err.message : String(err) }, { "cache-control": NO_STORE });
      }
    }
    return container(event);
  };
  return { createHandler, handler };
}
