/**
 * A throw-away server process for tests (redis-server, memcached): started on a free loopback
 * port, probed until it answers, killed (an outage) and restarted on the same port, and never
 * left behind by a crashed jest worker.
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as net from "net";
import { readdirSync, readFileSync } from "fs";

export interface ServerProcessHandle {
  readonly port: number;
  /** Shuts the server down and waits for the process to exit. */
  stop(): Promise<void>;
  /** SIGKILLs the server (an outage: connections drop, nothing answers). */
  kill(): Promise<void>;
  /** Starts the server again on the same port and waits until it answers. */
  restart(): Promise<void>;
  /** SIGSTOPs the server (a stall: connections stay open, nothing answers) until {@link resume}. */
  pause(): void;
  /** SIGCONTs a paused server. */
  resume(): void;
}

export interface ServerProcessSpec {
  /** The executable's name on PATH, e.g. `redis-server`. */
  readonly command: string;
  /** What to tell a developer whose machine lacks it. */
  readonly installHint: string;
  /** Arguments for a server on `port`. */
  readonly args: (port: number) => readonly string[];
  /** One readiness probe: true when the server on `port` answers. */
  readonly answers: (port: number) => Promise<boolean>;
  /** Runs once the server answers (e.g. forming a cluster), on every (re)start. */
  readonly afterReady?: (port: number) => Promise<void>;
  /** A fixed port (e.g. one a client is already trying to reach). @default a free port */
  readonly port?: number;
  /** Runs after stop() (e.g. removing a data directory). */
  readonly onStop?: () => void;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

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

function binaryPath(command: string, installHint: string): string {
  const found = spawnSync("sh", ["-c", `command -v ${command}`], { encoding: "utf8" });
  const p = found.stdout.trim();
  if (found.status !== 0 || !p) throw new Error(`${command} not found: ${installHint}`);
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

function waitExit(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => p.once("exit", () => resolve()));
}

export async function startServerProcess(spec: ServerProcessSpec): Promise<ServerProcessHandle> {
  const bin = binaryPath(spec.command, spec.installHint);
  installExitHook();
  let port = spec.port ?? (await freePort());
  let proc: ChildProcess | undefined;
  let output = "";

  const launch = async (): Promise<void> => {
    output = "";
    const p = spawn(bin, [...spec.args(port)], { stdio: ["ignore", "pipe", "pipe"] });
    // Servers log bind errors to stdout or stderr; keep the tail for error messages.
    const keep = (d: Buffer) => (output = (output + d.toString()).slice(-4_000));
    p.stdout?.on("data", keep);
    p.stderr?.on("data", keep);
    live.add(p);
    p.once("exit", () => live.delete(p));
    proc = p;
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      if (p.exitCode !== null) throw new PortError(`${spec.command} exited with ${p.exitCode} on port ${port}: ${output}`);
      if (await spec.answers(port)) {
        await spec.afterReady?.(port);
        return;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    p.kill("SIGKILL");
    throw new Error(`${spec.command} on port ${port} did not answer within 5 s: ${output}`);
  };

  const killProc = async (signal: NodeJS.Signals): Promise<void> => {
    const p = proc;
    proc = undefined;
    if (!p) return;
    if (p.exitCode === null && p.signalCode === null) {
      p.kill(signal);
      // A paused (SIGSTOPped) server would otherwise never act on SIGTERM.
      p.kill("SIGCONT");
    }
    await waitExit(p);
  };

  // The free port may be taken between probing and binding: then try another (own ports only).
  for (let attempt = 1; ; attempt++) {
    try {
      await launch();
      break;
    } catch (err) {
      if (!(err instanceof PortError) || spec.port !== undefined || attempt >= 3) throw err;
      port = await freePort();
    }
  }
  return {
    port,
    stop: async () => {
      await killProc("SIGTERM");
      spec.onStop?.();
    },
    kill: () => killProc("SIGKILL"),
    pause: () => {
      if (!proc?.pid) return;
      proc.kill("SIGSTOP");
      // kill() returns once the signal is queued; on a busy machine a thread may still answer a
      // request before it stops. Return only when every thread is stopped (state "T").
      waitStopped(proc.pid);
    },
    resume: () => void proc?.kill("SIGCONT"),
    restart: async () => {
      await killProc("SIGKILL");
      await launch();
    },
  };
}

/** Waits (up to 2 s) until every thread of `pid` is stopped; Linux /proc only, else returns at once. */
function waitStopped(pid: number): void {
  const until = Date.now() + 2_000;
  const state = (file: string) => /\) (\S)/.exec(readFileSync(file, "utf8"))?.[1];
  while (Date.now() < until) {
    try {
      const threads = readdirSync(`/proc/${pid}/task`);
      if (threads.every((t) => state(`/proc/${pid}/task/${t}/stat`) === "T")) return;
    } catch {
      return; // no /proc (not Linux) or the process is gone
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
  }
}
