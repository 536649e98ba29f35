/**
 * What a handler with a WebSocket API works with, built once per container next to its runtime:
 * the connection map on the function's cache and the push to a session's connections.
 *   ctx.realtime.registry.connect({ connectionId, sessionId, customerId }, ttlMs);
 *   await ctx.realtime.push.pushToSession(sessionId, JSON.stringify(message), metrics);
 */
import { CONNECTIONS, readSetting, REALTIME_SETTINGS, readSettings, SettingsOf } from "../contract";
import type { CacheStore } from "../cache/types";
import type { RuntimeConfig } from "../config";
import { LambdaPusher, Pusher, SessionPush } from "./push";
import { connectionRegistryOf, ConnectionRegistry } from "./registry";

export { LambdaPusher, SessionPush } from "./push";
export type { Pusher, SessionPushOptions } from "./push";
export { ConnectionMapUnsupportedError, connectionRegistryOf, MemoryConnectionRegistry, registryKeys } from "./registry";
export type { ConnectionEntry, ConnectionRegistry, ConnectionRegistryOptions } from "./registry";

/** The connection map, the push, and their settings. */
export interface Realtime {
  /** The connection map and presence on the function's cache. */
  readonly registry: ConnectionRegistry;
  /** Pushes to a session's connections (a no-op without a pusher wired). */
  readonly push: SessionPush;
  /** `REALTIME_*` settings. */
  readonly settings: SettingsOf<typeof REALTIME_SETTINGS>;
  /** True when a pusher is wired (`REALTIME_PUSHER_FUNCTION`, or one given to {@link createRealtime}). */
  readonly pushes: boolean;
}

/**
 * The realtime part of a runtime: the map on `rt.store`'s backend (refused for backends that
 * cannot hold it) and the pusher named in `env`, unless `pusher` is given (tests stand in for AWS).
 */
export function createRealtime(rt: { readonly store: CacheStore; readonly config: RuntimeConfig }, env: Readonly<Record<string, string | undefined>>, pusher?: Pusher): Realtime {
  const settings = readSettings(REALTIME_SETTINGS, env);
  const registry = connectionRegistryOf(rt.store, { keyPrefix: rt.config.keyPrefix, commandTimeoutMs: rt.config.breaker.commandTimeoutMs });
  const name = readSetting(CONNECTIONS.pusherFunction, env);
  const used = pusher ?? (name ? new LambdaPusher(name, rt.config.region) : undefined);
  return { registry, settings, pushes: !!used, push: new SessionPush({ registry, pusher: used, timeoutMs: settings.pushTimeoutMs }) };
}
