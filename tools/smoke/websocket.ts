/**
 * The session store's WebSocket check: connect to the stage with a token, send a turn, receive
 * its acknowledgement and the turn pushed back (the socket follows the session it writes to),
 * disconnect, and see the connection map cleaned (the session's presence: no live connection).
 */
import WebSocket from "ws";
import { TOKEN_QUERY_PARAMETER } from "../../functions/authorizer/contract";
import { fillPath, routeOf } from "../../functions/lib/contract";
import { SEND_TURN_ACTION, SESSIONS, SESSIONS_SOCKET } from "../../functions/sessions/contract";
import { call } from "./http";
import { expect } from "./runner";

/** What the check needs. */
export interface SocketCheckInput {
  /** `websocket_url` of the outputs (`wss://…/v1`, or the twin's `ws://…/ws/v1`). */
  readonly url: string;
  /** api_url, for the presence read. */
  readonly base: string;
  readonly sessionId: string;
  readonly token: string;
  readonly headers: Record<string, string>;
  readonly timeoutMs: number;
}

/** Runs the check; throws a failed check, answers the detail line. */
export async function socketRoundTrip(i: SocketCheckInput): Promise<{ ms: number; detail: string }> {
  const started = performance.now();
  const q = new URLSearchParams({ [Object.keys(SESSIONS_SOCKET.connectQuery)[0]]: i.sessionId, [TOKEN_QUERY_PARAMETER]: i.token });
  const ws = new WebSocket(`${i.url}?${q}`, { handshakeTimeout: i.timeoutMs });
  const messages: Array<Record<string, unknown>> = [];
  try {
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("unexpected-response", (_req, res) => reject(new Error(`the upgrade was refused with ${res.statusCode}`)));
      ws.once("error", reject);
    });
    const content = `smoke socket turn ${i.sessionId}`;
    const arrived = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no acknowledgement and pushed turn within ${i.timeoutMs} ms; got ${JSON.stringify(messages)}`)), i.timeoutMs);
      ws.on("message", (d) => {
        messages.push(JSON.parse(d.toString()) as Record<string, unknown>);
        const acked = messages.some((m) => m.type === "ack");
        const pushed = messages.some((m) => m.type === "turn" && m.content === content);
        const failed = messages.find((m) => m.type === "error" || m.message !== undefined);
        if (failed) {
          clearTimeout(timer);
          reject(new Error(`the API answered ${JSON.stringify(failed)}`));
        } else if (acked && pushed) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    ws.send(JSON.stringify({ [SESSIONS_SOCKET.actionField]: SEND_TURN_ACTION, sessionId: i.sessionId, role: "user", content }));
    await arrived;
  } finally {
    await new Promise<void>((r) => (ws.readyState === WebSocket.CLOSED ? r() : (ws.once("close", () => r()), ws.close())));
  }
  const roundTrip = performance.now() - started;
  // $disconnect runs after the close: the map is clean within moments, not at once.
  const presenceUrl = `${i.base}${fillPath(routeOf(SESSIONS, "getPresence").path, { sessionId: i.sessionId })}`;
  const until = Date.now() + Math.min(i.timeoutMs, 5_000);
  let connections: unknown;
  for (;;) {
    const r = await call("GET", presenceUrl, { headers: i.headers, timeoutMs: i.timeoutMs });
    expect(r.status === 200, `presence: expected 200, got ${r.status}`, r.status);
    connections = (r.json as { connections?: unknown } | undefined)?.connections;
    if (connections === 0 || Date.now() > until) break;
    await new Promise((res) => setTimeout(res, 200));
  }
  expect(connections === 0, `after disconnect the session still has ${String(connections)} connection(s) in the map`);
  return { ms: roundTrip, detail: `connected, turn acknowledged and pushed back in ${roundTrip.toFixed(0)} ms, disconnected, map cleaned` };
}
