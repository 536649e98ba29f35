/**
 * The Lambda runtime library, the package's `./runtime` subpath: what the bundled handlers
 * (`functions/products`, `functions/sessions`) are built from, for writing your own
 * cache-aside handler. Bundle it into the function with `CacheAsideFunction` (esbuild, at synth):
 *
 *   import { defineHandler, json, validateId } from "@cachefront/cdktf-dynamodb-cache/runtime";
 *   export const { handler } = defineHandler([{ method: "GET", path: "/items/{id}", handle: async (_e, p, { rt, metrics }) => {
 *     const r = await rt.cache.read(`item:${validateId("id", p.id)}`, async () => (await rt.table.getItem({ … })).Item, metrics);
 *     return json(r.value ? 200 : 404, r.value ?? { error: "not found" }, { "x-cache": r.status });
 *   } }]);
 *
 * Configuration comes from the environment variables the construct sets (help/runtime.md).
 * Plain TypeScript: no cdktf, no constructs.
 */
export { createRuntime, defineHandler, handleRequest } from "./runtime";
export type { BoundHandler, RequestContext, Runtime, RuntimeDeps } from "./runtime";
export { errorResult, header, HttpError, json, Router } from "./http";
export type { ProxyEvent, ProxyResult, Route } from "./http";
export { health } from "./health";
export { checkFields, ID_RE, parseJsonBody, validateId } from "./validate";
export type { FieldRule } from "./validate";
export { CacheAside, isCircuitOpen, jitteredTtl } from "./cache-aside";
export type { CacheAsideSettings, CacheStatus, ReadResult } from "./cache-aside";
export { ConfigError, loadRuntimeConfig } from "./config";
export type { BreakerSettings, RedisSettings, RuntimeConfig } from "./config";
export type { ItemApi, TableClient } from "./table";
export { METRIC, RequestMetrics } from "./metrics";
export type { MetricName } from "./metrics";
export type { CacheBackendKind, CacheStore } from "./cache/types";
