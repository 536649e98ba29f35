/**
 * The health route every handler serves (`HEALTH_ROUTE` in the runtime contract): what each
 * dependency's state is now, as the runtime sees it. The table's answer decides the status code
 * (200 while it answers; a cache outage only degrades); the cache is tried (its first connection
 * included) unless its circuit is open, in which case it is reported as not tried.
 */
import { BreakerCacheStore } from "./cache/breaker";
import { json, ProxyResult } from "./http";
import type { RouteHandler, Runtime } from "./runtime";

/** What the health route says of the cache. */
export type CacheHealth = "ready" | "unreachable" | "circuit-open";

/** The health of the cache, the table (and DAX in front of it) and the overall status. */
export async function health(rt: Runtime): Promise<ProxyResult> {
  const breaker = rt.store instanceof BreakerCacheStore ? rt.store.breaker : undefined;
  const circuit = breaker?.state ?? "none"; // "none": an in-process store has no breaker, it cannot be down
  const [cacheState, tableUp] = await Promise.all([
    circuit === "open"
      ? Promise.resolve<CacheHealth>("circuit-open")
      : rt.store.ping().then((ok): CacheHealth => (ok ? "ready" : "unreachable"), (): CacheHealth => "unreachable"),
    rt.table.describeTable({ TableName: rt.config.tableName }).then(() => true, () => false),
  ]);
  const cacheUp = cacheState === "ready";
  const body = {
    status: tableUp ? (cacheUp ? "ok" : "degraded") : "unavailable",
    service: rt.config.serviceName,
    cache: { backend: rt.store.kind, state: cacheState, reachable: cacheUp, circuit: breaker?.state ?? circuit },
    table: { name: rt.config.tableName, reachable: tableUp, dax: rt.table.daxState },
  };
  return json(tableUp ? 200 : 503, body);
}

/** `GET /health` as a route handler. */
export const healthRoute: RouteHandler = (_event, _params, { rt }) => health(rt);
