/** The sessions table's stream invalidator (see ../lib/stream.ts for the protocol). */
import { defineStreamInvalidator } from "../lib/stream";
import { SESSIONS_INVALIDATOR } from "./contract";

export const { createHandler, handler } = defineStreamInvalidator(SESSIONS_INVALIDATOR);
