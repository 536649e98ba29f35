/**
 * Runs the compiled local twin and smoke CLI as real processes, the way a user does:
 *   const twin = await startTwin(["--stack", "session-store-dev"]);   // free port, own outputs file
 *   const smoke = await runSmoke(["--outputs", twin.outputsFile, "--json"]);
 *   await twin.stop("SIGTERM");
 * `npm test` compiles first (tsc), so dist/tools/ matches the sources.
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "fs";
import * as net from "net";
import { tmpdir } from "os";
import * as path from "path";

export const ROOT = path.resolve(__dirname, "../..");
export const TWIN_JS = path.join(ROOT, "dist", "tools", "twin", "main.js");
export const SMOKE_JS = path.join(ROOT, "dist", "tools", "smoke", "main.js");
export const WARM_JS = path.join(ROOT, "dist", "tools", "warm", "main.js");

/** Fails the calling test file early with the fix when the tools were not compiled. */
export function requireCompiledTools(): void {
  for (const f of [TWIN_JS, SMOKE_JS]) {
    if (!existsSync(f)) throw new Error(`${path.relative(ROOT, f)} is missing: run npm run build (npm test compiles first)`);
  }
}

const live = new Set<ChildProcess>();
process.on("exit", () => live.forEach((p) => p.kill("SIGKILL")));

export interface TwinProcess {
  readonly proc: ChildProcess;
  readonly pid: number;
  /** `http://127.0.0.1:<port>` from the ready line. */
  readonly url: string;
  readonly port: number;
  readonly stack: string;
  readonly outputsFile: string;
  readonly dir: string;
  stdout(): string;
  stderr(): string;
  /** The stack's entry of the outputs file. */
  outputs(): Record<string, unknown>;
  /** Pids of every process below the twin (redis-server, its watchdog sh, function processes). */
  descendants(): number[];
  /** Sends `signal` and waits for the twin to exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface StartOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Keep the request log (default: --quiet). */
  readonly verbose?: boolean;
  readonly timeoutMs?: number;
}

function waitExit(p: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve({ code: p.exitCode, signal: p.signalCode });
  return new Promise((resolve) => p.once("exit", (code, signal) => resolve({ code, signal })));
}

/** Every process below `pid` (by parent pid), from `ps`. */
export function descendantsOf(pid: number): number[] {
  const r = spawnSync("ps", ["-e", "-o", "pid=,ppid="], { encoding: "utf8" });
  const children = new Map<number, number[]>();
  for (const line of r.stdout.split("\n")) {
    const [p, pp] = line.trim().split(/\s+/).map(Number);
    if (!p) continue;
    (children.get(pp) ?? children.set(pp, []).get(pp)!).push(p);
  }
  const out: number[] = [];
  const walk = (p: number) => (children.get(p) ?? []).forEach((c) => (out.push(c), walk(c)));
  walk(pid);
  return out;
}

/** The command name of a pid (`redis-server`, `node`, `sh`), or undefined when it is gone. */
export function commandOf(pid: number): string | undefined {
  const r = spawnSync("ps", ["-o", "comm=", "-p", String(pid)], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() || undefined : undefined;
}

/** True while `pid` runs (a zombie does not count: it has exited). */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    if (existsSync("/proc/self/stat")) return false;
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
}

/** Waits until none of `pids` runs; returns those still running after `timeoutMs`. */
export async function waitGone(pids: readonly number[], timeoutMs = 5_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const running = pids.filter(isRunning);
    if (running.length === 0 || Date.now() > deadline) return running;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs the twin CLI to completion (for the error cases). */
export function runTwin(args: string[], env?: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runNode(TWIN_JS, args, env, timeoutMs);
}

/** Runs the smoke CLI to completion. */
export function runSmoke(args: string[], timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runNode(SMOKE_JS, args, undefined, timeoutMs);
}

/** Runs the warm CLI (`npm run warm`) to completion. */
export function runWarm(args: string[], timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runNode(WARM_JS, args, undefined, timeoutMs);
}

function runNode(script: string, args: string[], env: NodeJS.ProcessEnv | undefined, timeoutMs: number) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const p = spawn(process.execPath, [script, ...args], { cwd: ROOT, env: env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    live.add(p);
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
    p.once("exit", (code) => {
      clearTimeout(timer);
      live.delete(p);
      // Let the pipes drain.
      setImmediate(() => resolve({ code, stdout, stderr }));
    });
  });
}

/** Starts `node dist/tools/twin/main.js --port 0 …` and waits for its ready line. */
export async function startTwin(args: string[] = [], opts: StartOptions = {}): Promise<TwinProcess> {
  const dir = mkdtempSync(path.join(tmpdir(), "twin-test-"));
  const outputsFile = path.join(dir, "outputs.json");
  const full = ["--port", "0", "--outputs", outputsFile, ...(opts.verbose ? [] : ["--quiet"]), ...args];
  const proc = spawn(process.execPath, [TWIN_JS, ...full], { cwd: ROOT, env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
  live.add(proc);
  proc.once("exit", () => live.delete(proc));
  let out = "";
  let err = "";
  proc.stderr!.on("data", (d) => (err += d));
  const ready = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`twin ${full.join(" ")}: no ready line within ${opts.timeoutMs ?? 90_000} ms\nstdout:\n${out}\nstderr:\n${err}`));
    }, opts.timeoutMs ?? 90_000);
    proc.stdout!.on("data", (d) => {
      out += d;
      const m = /^ready: (http:\/\/127\.0\.0\.1:(\d+)) \((\S+)\)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    });
    proc.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`twin ${full.join(" ")} exited with ${code} before ready\nstdout:\n${out}\nstderr:\n${err}`));
    });
  });
  const [, url, port, stack] = ready;
  return {
    proc,
    pid: proc.pid!,
    url,
    port: Number(port),
    stack,
    outputsFile,
    dir,
    stdout: () => out,
    stderr: () => err,
    outputs: () => (JSON.parse(readFileSync(outputsFile, "utf8")) as Record<string, Record<string, unknown>>)[stack],
    descendants: () => descendantsOf(proc.pid!),
    stop: async (signal = "SIGTERM") => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      const result = await waitExit(proc);
      rmSync(dir, { recursive: true, force: true });
      return result;
    },
  };
}

/** A port nothing listens on (bound and released). */
export function unusedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}
