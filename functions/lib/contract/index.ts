/**
 * Contracts: the facts infrastructure and runtime share (routes, body schemas, settings and their
 * environment variables, table layout, cache keys, metrics), as plain data. Constructs, stacks
 * and tools may import this folder and `functions/<name>/contract.ts`; nothing else of
 * `functions/`. It imports nothing outside itself.
 */
export * from "./cache";
export * from "./language";
export * from "./metrics";
export * from "./runtime";
export * from "./invalidation";
export * from "./socket";
export * from "./edge";
export * from "./warm";
