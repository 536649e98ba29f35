/**
 * Pushing a message to every live connection of a session, from a function in the VPC:
 *   await realtime.pushToSession(sessionId, JSON.stringify(message), metrics);
 * The connections come from the connection map; the posts are made by the pusher function outside
 * the VPC (functions/pusher: the management API is public and the VPC has no NAT), invoked through
 * the VPC's Lambda endpoint; connections it finds gone are pruned from the map. Nothing here fails
 * the caller: the turn is stored before, and a push that cannot happen is counted, not thrown.
 */
import type { LambdaClient } from "@aws-sdk/client-lambda";
import { METRIC } from "../contract/metrics";
import { withDeadline } from "../deadline";
import { errorFields, log } from "../log";
import type { RequestMetrics } from "../metrics";
import { MAX_CONNECTIONS_PER_PUSH, PushRequest, PushResult } from "../contract/socket";
import { ConnectionMapUnsupportedError, ConnectionRegistry } from "./registry";

/** Posts one message to connections; AWS's side of a push (the pusher function). */
export interface Pusher {
  /** Posts `data` to each connection; throws when the push as a whole could not be made. */
  push(request: PushRequest): Promise<PushResult>;
}

/** The pusher function, invoked synchronously through the Lambda API (its VPC endpoint). */
export class LambdaPusher implements Pusher {
  private client?: { client: LambdaClient; mod: typeof import("@aws-sdk/client-lambda") };

  constructor(private readonly functionName: string, private readonly region: string) {}

  async push(request: PushRequest): Promise<PushResult> {
    if (!this.client) {
      // Loaded on the first push (most invocations never push), with require: a bundle's import()
      // resolves as ESM, which ignores NODE_PATH, where Lambda and the local twin provide the SDK.
      const mod = require("@aws-sdk/client-lambda") as typeof import("@aws-sdk/client-lambda");
      this.client = { mod, client: new mod.LambdaClient({ region: this.region, maxAttempts: 1 }) };
    }
    const { client, mod } = this.client;
    const out = await client.send(new mod.InvokeCommand({ FunctionName: this.functionName, Payload: Buffer.from(JSON.stringify(request)) }));
    const text = out.Payload ? Buffer.from(out.Payload).toString("utf8") : "";
    if (out.FunctionError) throw new Error(`pusher ${this.functionName} failed (${out.FunctionError}): ${text.slice(0, 300)}`);
    const r = JSON.parse(text) as Partial<PushResult>;
    if (!Array.isArray(r.delivered) || !Array.isArray(r.gone) || !Array.isArray(r.failed)) throw new Error(`pusher ${this.functionName} answered ${text.slice(0, 300)}`);
    return r as PushResult;
  }
}

/** Options of {@link SessionPush}. */
export interface SessionPushOptions {
  /** The connection map. */
  readonly registry: ConnectionRegistry;
  /** Who posts; absent: the function has no WebSocket API wired, and turns are pushed to nobody. */
  readonly pusher?: Pusher;
  /** Longest one push (map lookup, posts, prune) may take. */
  readonly timeoutMs: number;
}

/** Pushes messages to a session's connections and keeps the map clean of gone ones. */
export class SessionPush {
  constructor(private readonly o: SessionPushOptions) {}

  /**
   * Posts `data` to every live connection of the session; counts `Push`, `PushPruned`,
   * `PushFailure`, or `PushDegraded` when the map cannot be read. Never throws.
   */
  async pushToSession(sessionId: string, data: string, metrics: RequestMetrics): Promise<void> {
    if (!this.o.pusher) return;
    let connections: string[];
    try {
      connections = await this.o.registry.connectionsOf(sessionId);
    } catch (err) {
      metrics.count(METRIC.PushDegraded);
      log(err instanceof ConnectionMapUnsupportedError ? "error" : "warn", "connection map unavailable; turn stored, not pushed", { sessionId, ...errorFields(err) });
      return;
    }
    if (connections.length === 0) return;
    const pusher = this.o.pusher;
    const batches: string[][] = [];
    for (let i = 0; i < connections.length; i += MAX_CONNECTIONS_PER_PUSH) batches.push(connections.slice(i, i + MAX_CONNECTIONS_PER_PUSH));
    const results = await Promise.all(batches.map(async (connectionIds) => {
      try {
        return await withDeadline(pusher.push({ connectionIds, data }), this.o.timeoutMs, () => new Error(`push took longer than ${this.o.timeoutMs} ms`));
      } catch (err) {
        log("warn", "push failed; turn stored", { sessionId, connections: connectionIds.length, ...errorFields(err) });
        return { delivered: [], gone: [], failed: connectionIds };
      }
    }));
    const gone = results.flatMap((r) => r.gone);
    metrics.count(METRIC.Push, results.reduce((n, r) => n + r.delivered.length, 0));
    const failed = results.reduce((n, r) => n + r.failed.length, 0);
    if (failed > 0) metrics.count(METRIC.PushFailure, failed);
    if (gone.length === 0) return;
    try {
      await this.o.registry.prune(sessionId, gone);
      metrics.count(METRIC.PushPruned, gone.length);
    } catch (err) {
      // They expire with their TTL; the next push finds them gone again.
      log("warn", "gone connections not pruned", { sessionId, connections: gone.length, ...errorFields(err) });
    }
  }
}
