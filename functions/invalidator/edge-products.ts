/** The products table's edge invalidator (see ../lib/edge-invalidation.ts for the protocol). */
import { defineEdgeInvalidatorHandler } from "../lib/edge-invalidation";
import { PRODUCTS_EDGE_INVALIDATOR } from "./contract";

export const { createHandler, handler } = defineEdgeInvalidatorHandler(PRODUCTS_EDGE_INVALIDATOR);
