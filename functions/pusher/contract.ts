/**
 * The pusher's contract: a small function outside the VPC that posts messages to WebSocket
 * connections through API Gateway's management API (`POST <stage>/@connections/{id}`).
 *
 * Why a function of its own: the management API of a WebSocket API is public, and a function in a
 * VPC without NAT cannot reach it. An `execute-api` interface endpoint does not help: it serves
 * private REST APIs only (WebSocket APIs cannot be private), and with private DNS on it would send
 * every execute-api call of the VPC, this one included, to the endpoint and get 403. So the session
 * function invokes the pusher (through the VPC's `lambda` interface endpoint) with the connections
 * to reach, and the pusher answers which were delivered, gone (410: pruned from the map by the caller)
 * or failed. It touches no table and no cache.
 */
import { defineContract, integer, string } from "../lib/contract";

export { MAX_CONNECTIONS_PER_PUSH } from "../lib/contract";
export type { PushRequest, PushResult } from "../lib/contract";

/** A WebSocket stage URL: wss on AWS, ws on the loopback interface for the local twin. */
const STAGE_URL_PATTERN = "^(wss://[^\\s/?#]+/[^\\s?#]+|ws://(127\\.0\\.0\\.1|localhost|\\[::1\\])(:[0-9]{1,5})?/[^\\s?#]+)$";

/** The pusher function (`functions/pusher/handler.ts`). */
export const PUSHER = defineContract({
  name: "pusher",
  entry: "functions/pusher/handler.ts",
  description: "Posts messages to WebSocket connections through API Gateway's management API",
  routes: [],
  settings: {
    stageUrl: string("WEBSOCKET_STAGE_URL", {
      pattern: STAGE_URL_PATTERN,
      patternText: "a WebSocket stage URL, wss://<host>/<stage> (ws:// only on 127.0.0.1 or localhost, for the local twin)",
      description: "the WebSocket API's stage URL; its management API (`@connections`) is the same URL over HTTPS (set by `WebSocketApi`)",
    }),
    postTimeoutMs: integer("PUSH_POST_TIMEOUT_MS", {
      default: 1_000, min: 50, max: 10_000, description: "longest one PostToConnection may take before the connection counts as failed",
    }),
  },
  metrics: [],
});
