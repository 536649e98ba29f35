/**
 * The pusher (see ./contract.ts): posts one message to each connection of the request through API
 * Gateway's management API, in parallel, each post bounded by `PUSH_POST_TIMEOUT_MS`, and answers
 * which connections were delivered, gone (410) or failed. The SDK client is loaded on the first
 * push (the Lambda runtime provides it; it is not bundled) and reused for the container's life.
 */
import type { ApiGatewayManagementApiClient } from "@aws-sdk/client-apigatewaymanagementapi";
import { CONNECTIONS, readSetting, readSettings, SettingsOf } from "../lib/contract";
import { errorFields, log } from "../lib/log";
import { MAX_CONNECTIONS_PER_PUSH, PUSHER, PushRequest, PushResult } from "./contract";

type Settings = SettingsOf<typeof PUSHER.settings>;

/** The management API of a WebSocket stage: the stage URL over HTTPS (HTTP for the twin's ws://). */
export function managementEndpoint(stageUrl: string): string {
  return stageUrl.replace(/^wss:/, "https:").replace(/^ws:/, "http:");
}

function checkRequest(event: unknown): PushRequest {
  const e = event as Partial<PushRequest> | null;
  const ids = e?.connectionIds;
  if (!Array.isArray(ids) || ids.length > MAX_CONNECTIONS_PER_PUSH || ids.some((id) => typeof id !== "string" || id === "") || typeof e?.data !== "string") {
    // Only the session function invokes the pusher: a malformed request is its bug, reported as a function error.
    throw new Error(`push request: { connectionIds: up to ${MAX_CONNECTIONS_PER_PUSH} non-empty strings, data: a string }`);
  }
  return { connectionIds: ids, data: e.data };
}

/** A pusher reading its settings from `env` (a bad value throws here, naming the variable). */
export function createPusher(env: Readonly<Record<string, string | undefined>> = process.env): (event: unknown) => Promise<PushResult> {
  const s: Settings = readSettings(PUSHER.settings, env);
  // Signed for the stage's region (Lambda sets AWS_REGION: the pusher runs in the API's region).
  const region = readSetting(CONNECTIONS.region, env, readSetting(CONNECTIONS.defaultRegion, env) ?? "us-east-1");
  let sdk: { client: ApiGatewayManagementApiClient; mod: typeof import("@aws-sdk/client-apigatewaymanagementapi") } | undefined;
  const load = () => {
    if (!sdk) {
      // require, not import(): a bundle's import() resolves as ESM, ignoring NODE_PATH (where the SDK is).
      const mod = require("@aws-sdk/client-apigatewaymanagementapi") as typeof import("@aws-sdk/client-apigatewaymanagementapi");
      // One attempt: a post is retried by nobody (the turn is stored; the client reads it on its next fetch).
      sdk = { mod, client: new mod.ApiGatewayManagementApiClient({ endpoint: managementEndpoint(s.stageUrl), region, maxAttempts: 1 }) };
    }
    return sdk;
  };
  return async (event) => {
    const req = checkRequest(event);
    const { client, mod } = load();
    const data = Buffer.from(req.data, "utf8");
    const delivered: string[] = [];
    const gone: string[] = [];
    const failed: string[] = [];
    await Promise.all(req.connectionIds.map(async (id) => {
      try {
        await client.send(new mod.PostToConnectionCommand({ ConnectionId: id, Data: data }), { abortSignal: AbortSignal.timeout(s.postTimeoutMs) });
        delivered.push(id);
      } catch (err) {
        if (err instanceof mod.GoneException) gone.push(id);
        else {
          failed.push(id);
          log("warn", "post to connection failed", { connectionId: id, ...errorFields(err) });
        }
      }
    }));
    return { delivered, gone, failed };
  };
}

let push: ReturnType<typeof createPusher> | undefined;

/** The Lambda entry point. */
export async function handler(event: unknown): Promise<PushResult> {
  push ??= createPusher();
  return push(event);
}
