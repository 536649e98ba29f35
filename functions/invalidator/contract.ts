/**
 * The stream invalidators of the handlers this package ships: each consumes its table's DynamoDB
 * stream and invalidates, with the fronted contract's `cacheKeysOf`, what a change makes stale
 * (a product item → `product:<id>`; any item under `SESSION#<id>` → that session's context).
 * `StreamInvalidator` picks the one whose `fronts` is the function it is given.
 */
import { defineEdgeInvalidator, defineInvalidator } from "../lib/contract";
import { PRODUCTS } from "../products/contract";
import { SESSIONS } from "../sessions/contract";

/** Invalidates `product:<id>` when the products table's item `<id>` changes. */
export const PRODUCTS_INVALIDATOR = defineInvalidator(PRODUCTS, { entry: "functions/invalidator/products.ts" });

/** Invalidates a session's assembled context when any item under its partition changes or expires. */
export const SESSIONS_INVALIDATOR = defineInvalidator(SESSIONS, { entry: "functions/invalidator/sessions.ts" });

/** Every invalidator the package ships. */
export const INVALIDATORS = [PRODUCTS_INVALIDATOR, SESSIONS_INVALIDATOR] as const;

/** Invalidates the edge path of product `<id>` (`/products/<id>`) when the products table's item `<id>` changes. */
export const PRODUCTS_EDGE_INVALIDATOR = defineEdgeInvalidator(PRODUCTS, { entry: "functions/invalidator/edge-products.ts" });

/** Every edge invalidator the package ships (the session store caches nothing at the edge: its routes are the caller's). */
export const EDGE_INVALIDATORS = [PRODUCTS_EDGE_INVALIDATOR] as const;
