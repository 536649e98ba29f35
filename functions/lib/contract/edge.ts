/**
 * The CloudFront edge in the contract language: which answers a shared cache may keep (public,
 * cached reads), and which of its cached paths a change to a table item makes stale. The runtime's
 * `Cache-Control` (functions/lib/cache-control.ts), `CacheEdge`'s behaviours and the edge
 * invalidator all read these, so what is cached at the edge and what is invalidated there are one rule:
 *
 *   export const PRODUCTS_EDGE_INVALIDATOR = defineEdgeInvalidator(PRODUCTS, { entry: "functions/invalidator/edge-products.ts" });
 */
import { fillPath, FunctionContract, pathParameters, RouteSpec } from "./language";
import { EDGE_INVALIDATION_METRICS } from "./metrics";

/** True when answers of `route` (2xx) may be kept by a shared cache: public, cached GETs only. */
export function sharedCacheable(route: Pick<RouteSpec, "access" | "cached" | "method">): boolean {
  return route.access === "public" && route.cached && route.method === "GET";
}

/** The routes of `contract` whose answers the edge may keep. */
export function edgeCachedRoutes(contract: Pick<FunctionContract, "routes">): RouteSpec[] {
  return contract.routes.filter(sharedCacheable);
}

/**
 * The edge paths (below the stage: the distribution's origin path is the stage) that hold a copy
 * of the item with table keys `keys`: every shared-cacheable route whose path parameters are all
 * keys of the contract's table, filled with their values. A route whose cache key has query
 * strings is invalidated with a trailing `*` (one path for every query variant).
 */
export function edgePathsOf(contract: Pick<FunctionContract, "routes" | "table">, keys: Readonly<Record<string, unknown>>): string[] {
  const table = contract.table;
  if (!table) return [];
  const keyNames = new Set([table.partitionKey.name, ...(table.sortKey ? [table.sortKey.name] : [])]);
  const out = new Set<string>();
  for (const route of edgeCachedRoutes(contract)) {
    const params = pathParameters(route.path);
    if (params.length === 0 || !params.every((p) => keyNames.has(p))) continue;
    const values: Record<string, string> = {};
    for (const p of params) {
      const v = keys[p];
      if (typeof v !== "string" && typeof v !== "number") break;
      values[p] = String(v);
    }
    if (Object.keys(values).length !== params.length) continue;
    const path = fillPath(route.path, values);
    out.add(Object.keys(route.query ?? {}).length > 0 ? `${path}*` : path);
  }
  return [...out];
}

/** Settings of the edge invalidator: none of its own (it reads the runtime's service name, namespace and log level). */
export const EDGE_INVALIDATOR_SETTINGS = {} as const;

/** The contract of an edge invalidator: no routes, and the contract whose edge-cached paths it invalidates. */
export interface EdgeInvalidatorContract<F extends FunctionContract = FunctionContract>
  extends FunctionContract<typeof EDGE_INVALIDATOR_SETTINGS, readonly []> {
  /** The function behind the edge: its table layout and cached routes are the mapping from a changed item to paths. */
  readonly fronts: F;
}

/**
 * The contract of the edge invalidator of `fronts`, bundled from `opts.entry` (a module built with
 * `defineEdgeInvalidatorHandler`). `fronts` must declare its table and a cached public route whose
 * path parameters are the table's keys (else no change could name a path).
 */
export function defineEdgeInvalidator<F extends FunctionContract>(fronts: F, opts: { readonly entry: string }): EdgeInvalidatorContract<F> {
  if (!fronts.table) throw new Error(`contract ${fronts.name} declares no table: an edge invalidator maps a table's keys to paths`);
  const sample = Object.fromEntries([fronts.table.partitionKey, fronts.table.sortKey].filter((k) => k).map((k) => [k!.name, "x"]));
  if (edgePathsOf(fronts, sample).length === 0) {
    throw new Error(`contract ${fronts.name} has no public cached GET route whose path parameters are its table's keys: no change maps to an edge path`);
  }
  return {
    name: `${fronts.name}-edge-invalidator`,
    entry: opts.entry,
    description: `Invalidates the CloudFront paths of ${fronts.name} when its table changes (DynamoDB stream)`,
    routes: [],
    settings: EDGE_INVALIDATOR_SETTINGS,
    table: fronts.table,
    metrics: EDGE_INVALIDATION_METRICS,
    fronts,
  };
}
