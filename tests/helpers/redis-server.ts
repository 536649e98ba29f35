/**
 * A real, throw-away redis-server for tests: `const r = await startRedis(); ... await r.stop();`
 * `kill()` simulates an outage (SIGKILL), `restart()` brings it back on the same port.
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import { mkdtempSync, rmSync } from "fs";
import Redis from "ioredis";
import * as net from "net";
import { ping } from "../../tools/twin/redis";
import { tmpdir } from "os";
import * as path from "path";

export interface RedisServerHandle {
  readonly port: number;
  readonly url: string;
  /** Shuts the server down and waits for the process to exit. */
  stop(): Promise<void>;
  /** SIGKILLs the server (an outage: connections drop, nothing answers). */
  kill(): Promise<void>;
  /** Starts the server again on the same port and waits until it answers PING. */
  restart(): Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

// A crashed or interrupted jest worker must not leave redis-servers behind.
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const p of live) {
      try {
        p.kill("SIGKILL");
      } catch {
        /* already gone */
      }
    }
  });
}

function redisServerPath(): string {
  const found = spawnSync("sh", ["-c", "command -v redis-server"], { encoding: "utf8" });
  const p = found.stdout.trim();
  if (found.status !== 0 || !p) throw new Error("redis-server not found: apt-get install -y redis-server");
  return p;
}

class PortError extends Error {}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Sends one inline PING over a raw socket: true when the server answers (NOAUTH counts). */
function pingOnce(port: number, timeoutMs = 200): Promise<boolean> {
  return ping("127.0.0.1", port, timeoutMs);
}

function waitExit(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => p.once("exit", () => resolve()));
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
  const bin = redisServerPath();
  installExitHook();
  let port = options.port ?? (await freePort());
  let proc: ChildProcess | undefined;
  let stderr = "";
  const dir = options.cluster ? mkdtempSync(path.join(tmpdir(), "redis-cluster-")) : undefined;
  const clusterArgs = dir ? ["--cluster-enabled", "yes", "--cluster-config-file", path.join(dir, "nodes.conf"), "--dir", dir, "--cluster-announce-ip", "127.0.0.1"] : [];

  const launch = async (): Promise<void> => {
    stderr = "";
    const p = spawn(bin, ["--port", String(port), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1", ...clusterArgs, ...(options.args ?? [])], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    // redis-server logs (bind errors included) to stdout; keep the tail for error messages.
    const keep = (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4_000));
    p.stdout?.on("data", keep);
    p.stderr?.on("data", keep);
    live.add(p);
    p.once("exit", () => live.delete(p));
    proc = p;
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      if (p.exitCode !== null) throw new PortError(`redis-server exited with ${p.exitCode} on port ${port}: ${stderr}`);
      if (await pingOnce(port)) {
        if (options.cluster) await formSingleNodeCluster(port);
        return;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    p.kill("SIGKILL");
    throw new Error(`redis-server on port ${port} did not answer PING within 5 s: ${stderr}`);
  };

  const killProc = async (signal: NodeJS.Signals): Promise<void> => {
    const p = proc;
    proc = undefined;
    if (!p) return;
    if (p.exitCode === null && p.signalCode === null) p.kill(signal);
    await waitExit(p);
  };

  // The free port may be taken between probing and binding: then try another (own ports only).
  for (let attempt = 1; ; attempt++) {
    try {
      await launch();
      break;
    } catch (err) {
      if (!(err instanceof PortError) || options.port !== undefined || attempt >= 3) throw err;
      port = await freePort();
    }
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      await killProc("SIGTERM");
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
    kill: () => killProc("SIGKILL"),
    restart: async () => {
      await killProc("SIGKILL");
      await launch();
    },
  };
}
