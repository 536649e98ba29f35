/** The health route every handler serves (`HEALTH_ROUTE` in the runtime contract). */
import { json, ProxyResult } from "./http";
import type { RouteHandler, Runtime } from "./runtime";

/** Reachability of cache and table. 200 while the table answers (a cache outage only degrades). */
export async function health(rt: Runtime): Promise<ProxyResult> {
  const [cacheUp, tableUp] = await Promise.all([
    rt.store.ping().catch(() => false),
    rt.table.describeTable({ TableName: rt.config.tableName }).then(() => true, () => false),
  ]);
  const circuit = (rt.store as { circuitState?: string }).circuitState ?? "closed";
  const body = {
    status: tableUp ? (cacheUp ? "ok" : "degraded") : "unavailable",
    service: rt.config.serviceName,
    cache: { backend: rt.store.kind, reachable: cacheUp, circuit },
    table: { name: rt.config.tableName, reachable: tableUp, dax: rt.table.usesDax },
  };
  return json(tableUp ? 200 : 503, body, { "cache-control": "no-store" });
}

/** `GET /health` as a route handler. */
export const healthRoute: RouteHandler = (_event, _params, { rt }) => health(rt);
