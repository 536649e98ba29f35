/**
 * A real, throw-away redis-server for tests: `const r = await startRedis(); ... await r.stop();`
 * `kill()` simulates an outage (SIGKILL), `restart()` brings it back on the same port.
 */
import { mkdtempSync, rmSync } from "fs";
import Redis from "ioredis";
import { ping } from "../../tools/twin/redis";
import { tmpdir } from "os";
import * as path from "path";
import { freePort, ServerProcessHandle, startServerProcess } from "./server-process";

export { freePort };

export interface RedisServerHandle extends ServerProcessHandle {
  readonly url: string;
}

export interface StartRedisOptions {
  /**
   * Start a one-node Redis Cluster (announcing 127.0.0.1: a lone node otherwise reports its host
   * as "" in CLUSTER SLOTS and a cluster client never becomes ready) with all 16384 slots, to exercise cluster-mode clients.
   * @default false
   */
  readonly cluster?: boolean;
  /**
   * More redis-server arguments, e.g. `["--requirepass", "token"]`.
   * @default none
   */
  readonly args?: readonly string[];
  /**
   * Port to listen on (e.g. one a client is already trying to reach).
   * @default a free port
   */
  readonly port?: number;
}

/** Gives every slot to the lone node and waits for cluster_state:ok. */
async function formSingleNodeCluster(port: number): Promise<void> {
  const admin = new Redis({ host: "127.0.0.1", port, lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await admin.connect();
    const info = String(await admin.call("CLUSTER", "INFO"));
    if (!info.includes("cluster_state:ok")) {
      const slots = Array.from({ length: 16384 }, (_, i) => String(i));
      // Already assigned after a restart (nodes.conf survives): then this errors harmlessly.
      await admin.call("CLUSTER", "ADDSLOTS", ...slots).catch(() => undefined);
    }
    const deadline = Date.now() + 5_000;
    while (!String(await admin.call("CLUSTER", "INFO")).includes("cluster_state:ok")) {
      if (Date.now() > deadline) throw new Error(`redis cluster on port ${port} not ok within 5 s`);
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    admin.disconnect();
  }
}

export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServerHandle> {
  const dir = options.cluster ? mkdtempSync(path.join(tmpdir(), "redis-cluster-")) : undefined;
  const clusterArgs = dir ? ["--cluster-enabled", "yes", "--cluster-config-file", path.join(dir, "nodes.conf"), "--dir", dir, "--cluster-announce-ip", "127.0.0.1"] : [];
  const server = await startServerProcess({
    command: "redis-server",
    installHint: "apt-get install -y redis-server",
    args: (port) => ["--port", String(port), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1", ...clusterArgs, ...(options.args ?? [])],
    // One inline PING over a raw socket: NOAUTH counts as an answer.
    answers: (port) => ping("127.0.0.1", port, 200),
    afterReady: options.cluster ? formSingleNodeCluster : undefined,
    port: options.port,
    onStop: () => dir && rmSync(dir, { recursive: true, force: true }),
  });
  return { ...server, url: `redis://127.0.0.1:${server.port}` };
}
