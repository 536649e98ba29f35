/**
 * The twin's Redis: its own `redis-server` on a free port when one is on PATH, an existing one
 * (`--redis-url`), or none (the functions then use the in-memory cache backend).
 *   const r = await startRedisServer();  …  r.host, r.port, r.pid  …  await r.stop();
 * The server runs under a tiny `sh` watchdog that kills it when the twin's end of its stdin
 * closes, so even a twin killed with SIGKILL leaves no redis-server behind.
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as net from "net";

export interface LocalRedis {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  /** Pid of the redis-server the twin started (absent for --redis-url). */
  readonly pid?: number;
  stop(): Promise<void>;
}

/** Absolute path of redis-server on PATH, or undefined. */
export function findRedisServer(): string | undefined {
  const r = spawnSync("/bin/sh", ["-c", "command -v redis-server"], { encoding: "utf8" });
  const p = r.stdout?.trim();
  return r.status === 0 && p ? p : undefined;
}

export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, host, () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** One PING over a raw socket: true when a Redis answers (NOAUTH counts: it is up). */
export function ping(host: string, port: number, timeoutMs = 300): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    let buf = "";
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.on("error", () => done(false));
    sock.on("connect", () => sock.write("PING\r\n"));
    sock.on("data", (d) => {
      buf += d.toString();
      if (buf.includes("\r\n")) done(buf.startsWith("+PONG") || buf.startsWith("-NOAUTH"));
    });
  });
}

/** Sends one command (inline) and returns the first reply line. */
export function command(host: string, port: number, line: string, timeoutMs = 1_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    let buf = "";
    sock.setTimeout(timeoutMs, () => {
      sock.destroy();
      reject(new Error(`redis ${line}: no answer within ${timeoutMs} ms`));
    });
    sock.on("error", reject);
    sock.on("connect", () => sock.write(`${line}\r\n`));
    sock.on("data", (d) => {
      buf += d.toString();
      const cut = buf.indexOf("\r\n");
      if (cut >= 0) {
        sock.destroy();
        resolve(buf.slice(0, cut));
      }
    });
  });
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

const WATCHDOG = 'redis-server "$@" & pid=$!; echo "pid $pid"; read -r _ignored; kill "$pid" 2>/dev/null; wait "$pid"';

async function launch(bin: string, port: number): Promise<LocalRedis> {
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning", "--daemonize", "no"];
  const sh: ChildProcess = spawn("/bin/sh", ["-c", WATCHDOG.replace("redis-server", `'${bin.replace(/'/g, "'\\''")}'`), "sh", ...args], {
    stdio: ["pipe", "pipe", "pipe"],
    detached: true, // its own process group: Ctrl-C reaches the twin, which stops it in order
  });
  let output = "";
  let pid: number | undefined;
  const gotPid = new Promise<number>((resolve) => {
    const onData = (d: Buffer) => {
      output = (output + d.toString()).slice(-4_000);
      const m = /^pid (\d+)$/m.exec(output);
      if (m && pid === undefined) {
        pid = Number(m[1]);
        resolve(pid);
      }
    };
    sh.stdout!.on("data", onData);
    sh.stderr!.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-4_000)));
  });
  sh.stdin!.on("error", () => undefined);
  const shExited = new Promise<void>((r) => sh.once("exit", () => r()));

  const stop = async (): Promise<void> => {
    sh.stdin!.end();
    if (pid !== undefined && alive(pid)) process.kill(pid, "SIGTERM");
    const deadline = Date.now() + 3_000;
    while (pid !== undefined && alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (pid !== undefined && alive(pid)) process.kill(pid, "SIGKILL");
    if (sh.exitCode === null && sh.signalCode === null) sh.kill("SIGKILL");
    await shExited;
  };

  const redisPid = await Promise.race([gotPid, shExited.then(() => undefined)]);
  const deadline = Date.now() + 5_000;
  while (redisPid !== undefined && Date.now() < deadline) {
    if (!alive(redisPid)) break;
    if (await ping("127.0.0.1", port)) return { host: "127.0.0.1", port, tls: false, pid: redisPid, stop };
    await new Promise((r) => setTimeout(r, 20));
  }
  await stop();
  const reason = output.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("pid ")).slice(-1)[0] ?? "no output";
  throw new Error(`redis-server did not start on port ${port}: ${reason}`);
}

/** Starts redis-server on a free port (another one if the port was taken meanwhile). */
export async function startRedisServer(bin: string): Promise<LocalRedis> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await launch(bin, await freePort());
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

/** An existing Redis from `--redis-url redis://host:port` (no AUTH, database 0). */
export async function connectRedisUrl(url: string): Promise<LocalRedis> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`--redis-url ${url}: not a URL (use redis://host:port)`);
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:") throw new Error(`--redis-url ${url}: use redis://host:port or rediss://host:port`);
  if (u.password || u.username) {
    throw new Error("--redis-url: the functions read the Redis AUTH token only from Secrets Manager; use a Redis without AUTH");
  }
  if (u.pathname && u.pathname !== "/" && u.pathname !== "/0") throw new Error("--redis-url: the functions always use database 0");
  const host = u.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1";
  const port = Number(u.port || 6379);
  const tls = u.protocol === "rediss:";
  if (!tls && !(await ping(host, port, 1_000))) throw new Error(`--redis-url ${url}: no Redis answers PING there`);
  return { host, port, tls, stop: async () => undefined };
}
