/**
 * The Lambda runtime library, the package's `./runtime` subpath: what the bundled handlers
 * (`functions/products`, `functions/sessions`) are built from, for writing your own cache-aside
 * handler. A handler is a contract (its routes, settings, table layout, cache keys) plus one
 * function per route; `CacheAsideFunction` bundles it (esbuild, at synth) and `CacheApi` serves
 * its routes:
 *
 *   // contract.ts
 *   export const PRICES = defineContract({ name: "prices", entry: path.join(__dirname, "handler.ts"), description: "…",
 *     routes: [{ name: "getPrice", method: "GET", path: "/prices/{id}", summary: "…", access: "public", cached: true }],
 *     settings: {}, table: { partitionKey: { name: "productId", type: "S" } }, metrics: [] });
 *   // handler.ts
 *   export const { handler } = defineHandler(PRICES, { getPrice: async (_e, p, { rt, metrics }) => { … } });
 *
 * Configuration comes from the environment variables the construct writes (help/runtime.md).
 * Plain TypeScript: no cdktf, no constructs.
 */
export { createRuntime, defineHandler, handleRequest } from "./runtime";
export type { BoundHandler, RequestContext, RouteHandler, RouteHandlers, Runtime, RuntimeDeps } from "./runtime";
export { errorResult, header, HttpError, json, jsonText, Router } from "./http";
export type { ProxyEvent, ProxyResult, Route } from "./http";
export { isSocketEvent } from "./socket";
export type { SocketContext, SocketEvent, SocketHandlers, SocketResult, SocketRouteHandler, SocketRuntime } from "./socket";
export { connectionRegistryOf, ConnectionMapUnsupportedError, createRealtime, LambdaPusher, MemoryConnectionRegistry, SessionPush } from "./realtime";
export type { ConnectionEntry, ConnectionRegistry, ConnectionRegistryOptions, Pusher, Realtime, SessionPushOptions } from "./realtime";
export { createStreamRuntime, defineStreamInvalidator, keysOfRecord, UnmappableRecordError } from "./stream";
export { defineEdgeInvalidatorHandler, loadEdgeInvalidatorConfig, MAX_PATHS_PER_INVALIDATION } from "./edge-invalidation";
export type { BoundEdgeInvalidator, CreateInvalidation, EdgeInvalidatorConfig, EdgeInvalidatorDeps } from "./edge-invalidation";
export { cacheControlOf, NO_STORE, PRIVATE_NO_STORE, withCacheControl } from "./cache-control";
export type { CacheControlSettings } from "./cache-control";

export type { BoundStreamHandler, StreamBatchResponse, StreamContext, StreamEvent, StreamRecord, StreamRuntime, StreamRuntimeDeps } from "./stream";
export { health, healthRoute } from "./health";
export { CALLER_ID_RE, verifiedCaller } from "./caller";
export { ID_RE, parseJsonBody, validateId } from "./validate";
export { compileSchema, unsupportedKeywords } from "./schema";
export type { BodyCheck } from "./schema";
export { CacheAside, isCircuitOpen, jitteredTtl } from "./cache-aside";
export type { CacheAsideSettings, CacheStatus, CacheTier, ReadResult } from "./cache-aside";
export { loadRuntimeConfig } from "./config";
export type { BreakerSettings, L1Settings, RedisSettings, RuntimeConfig } from "./config";
export type { ItemApi, TableClient } from "./table";
export { RequestMetrics } from "./metrics";
export * from "./contract";
export type { CacheBackendKind, CacheStore } from "./cache/types";
export type { WarmEvent, WarmResult } from "./warm";
