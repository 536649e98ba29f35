/**
 * Container-scope wiring shared by the handlers: configuration, the cache store (behind its
 * circuit breaker), the table client (DAX when configured) and the request wrapper that turns
 * every outcome into a JSON response with metrics.
 */
import { createCacheStore } from "./cache";
import type { CacheStore } from "./cache/types";
import { CacheAside } from "./cache-aside";
import { loadRuntimeConfig, RuntimeConfig } from "./config";
import { errorResult, HttpError, json, ProxyEvent, ProxyResult, Route, Router } from "./http";
import { errorFields, log } from "./log";
import { METRIC, RequestMetrics, routeDimension } from "./metrics";
import { createTableClient, TableClient } from "./table";

/**
 * What a handler's routes work with, built once per container: the configuration, the cache store, the cache-aside
 * reader on top of it, and the table client.
 */
export interface Runtime {
  /** Configuration read from the environment. */
  readonly config: RuntimeConfig;
  /** The cache backend (Redis, DynamoDB or memory) behind its circuit breaker. */
  readonly store: CacheStore;
  /** Cache-aside reads (`read`) and invalidation (`invalidate`) over `store`. */
  readonly cache: CacheAside;
  /** DynamoDB access, through DAX when `DAX_ENDPOINT` is set. */
  readonly table: TableClient;
}

/** Overrides for tests and the local twin; anything not given is built from the config. */
export interface RuntimeDeps {
  /** Configuration to use instead of the environment's. */
  readonly config?: RuntimeConfig;
  /** Cache store to use instead of the configured backend. */
  readonly store?: CacheStore;
  /** Table client to use instead of the configured DynamoDB/DAX client. */
  readonly table?: TableClient;
}

let fallbackCounter = 0;

/**
 * Builds a {@link Runtime}: whatever `deps` does not give is built from the configuration (by default
 * `loadRuntimeConfig()` on `process.env`).
 */
export function createRuntime(deps: RuntimeDeps = {}): Runtime {
  const config = deps.config ?? loadRuntimeConfig();
  const store = deps.store ?? createCacheStore(config);
  const table = deps.table ?? createTableClient(config, () => fallbackCounter++);
  const cache = new CacheAside(store, {
    ttlSeconds: config.ttlSeconds,
    jitterRatio: config.ttlJitterRatio,
    negativeTtlSeconds: config.negativeTtlSeconds,
    leaseTtlMs: config.leaseTtlMs,
    leaseWaitMs: config.leaseWaitMs,
  });
  return { config, store, cache, table };
}

/** Per-request context handed to routes. */
export interface RequestContext {
  /** The container's runtime. */
  readonly rt: Runtime;
  /** This request's metrics, written as one EMF line when the request ends. */
  readonly metrics: RequestMetrics;
  /** API Gateway's request id, echoed in error bodies. */
  readonly requestId?: string;
}

/** Errors about the request itself (DynamoDB refused its shape): a 400, not an outage. */
const CLIENT_ERRORS = new Set(["ValidationException", "SerializationException"]);

/**
 * Runs one request: routes it, counts DAX fallbacks, flushes metrics, and maps every error
 * to JSON — HttpError to its status, a refused request to 400, an unreachable table to 503.
 */
export async function handleRequest(event: ProxyEvent, router: Router<RequestContext>, rt: Runtime): Promise<ProxyResult> {
  const metrics = new RequestMetrics(rt.config.metricsNamespace, rt.config.serviceName);
  const requestId = event.requestContext?.requestId;
  const fallbacksBefore = fallbackCounter;
  try {
    const { route, params } = router.match(event ?? ({} as ProxyEvent));
    metrics.setRoute(routeDimension(route.method, route.path));
    return await route.handle(event, params, { rt, metrics, requestId });
  } catch (err) {
    if (err instanceof HttpError) return errorResult(err, requestId);
    if (err instanceof Error && CLIENT_ERRORS.has(err.name)) {
      return errorResult(new HttpError(400, `request refused by the table: ${err.message}`), requestId);
    }
    log("error", "table unavailable", { requestId, ...errorFields(err) });
    return errorResult(new HttpError(503, "service unavailable: the table cannot be reached; retry shortly", { "retry-after": "1" }), requestId);
  } finally {
    if (fallbackCounter > fallbacksBefore) metrics.count(METRIC.Fallback, fallbackCounter - fallbacksBefore);
    metrics.flush();
  }
}

/** A handler bound to its runtime (tests and the local twin reach the clients through `runtime`). */
export type BoundHandler = ((event: ProxyEvent) => Promise<ProxyResult>) & { runtime: Runtime };

/**
 * The two entry points of a handler module: `createHandler(deps)` for tests and the local
 * twin, and `handler` for Lambda, which builds its clients once per container and reuses them.
 */
export function defineHandler(routes: readonly Route<RequestContext>[]): {
  createHandler: (deps?: RuntimeDeps) => BoundHandler;
  handler: (event: ProxyEvent) => Promise<ProxyResult>;
} {
  const router = new Router<RequestContext>(routes);
  const createHandler = (deps: RuntimeDeps = {}): BoundHandler => {
    const rt = createRuntime(deps);
    return Object.assign((event: ProxyEvent) => handleRequest(event, router, rt), { runtime: rt });
  };
  let container: BoundHandler | undefined;
  const handler = async (event: ProxyEvent): Promise<ProxyResult> => {
    if (!container) {
      try {
        container = createHandler();
      } catch (err) {
        // A deployment mistake (e.g. a bad environment variable), not the caller's: say which.
        log("error", "function misconfigured", errorFields(err));
        return json(500, { error: "function misconfigured", details: err instanceof Error ? err.message : String(err) });
      }
    }
    return container(event);
  };
  return { createHandler, handler };
}
