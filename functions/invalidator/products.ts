/** The products table's stream invalidator (see ../lib/stream.ts for the protocol). */
import { defineStreamInvalidator } from "../lib/stream";
import { PRODUCTS_INVALIDATOR } from "./contract";

export const { createHandler, handler } = defineStreamInvalidator(PRODUCTS_INVALIDATOR);
