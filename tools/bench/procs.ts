/**
 * Processes the benchmark runs and controls: timed children (wall time + peak RSS), its own
 * redis-server (killable and restartable on the same port), dynalite in a child process, the
 * local twin and the raw-GET HTTP baseline. Everything started here is stopped by pid at exit.
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import { existsSync } from "fs";
import * as path from "path";
import { createInterface } from "readline";
import { freePort, ping } from "../twin/redis";

const live = new Set<ChildProcess>();
let hooked = false;

/** Kills every child this process started and that is still running (by pid). */
export function killAll(): void {
  for (const p of live) {
    try {
      if (p.pid && p.exitCode === null && p.signalCode === null) process.kill(p.pid, "SIGKILL");
    } catch {
      /* gone */
    }
  }
  live.clear();
}

function track(p: ChildProcess): ChildProcess {
  if (!hooked) {
    hooked = true;
    process.on("exit", killAll);
  }
  live.add(p);
  p.once("exit", () => live.delete(p));
  return p;
}

function waitExit(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((r) => p.once("exit", () => r()));
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const TIME_BIN = "/usr/bin/time";

export interface TimedRun {
  readonly wallMs: number;
  /** Peak resident set size in bytes. */
  readonly peakRssBytes: number;
  /** How the peak RSS was measured. */
  readonly rssSource: "/usr/bin/time -v" | "process.resourceUsage().maxRSS";
  readonly code: number | null;
  readonly stderrTail: string;
}

/**
 * Runs a command to completion and measures the whole process: wall time from spawn to exit and
 * its peak RSS (GNU time's "Maximum resident set size" when /usr/bin/time exists, else the
 * child's maxRSS read by a tiny Node wrapper through process.resourceUsage()).
 */
export async function runTimed(cmd: string, args: readonly string[], opts: { cwd: string; env: NodeJS.ProcessEnv }): Promise<TimedRun> {
  const useTime = existsSync(TIME_BIN);
  let bin: string;
  let argv: string[];
  if (useTime) {
    bin = TIME_BIN;
    argv = ["-v", cmd, ...args];
  } else {
    // The wrapper runs the command and reports the child's maxRSS (kilobytes) on its last stderr line.
    const wrapper = `
      const { spawnSync } = require("child_process");
      const r = spawnSync(process.argv[1], process.argv.slice(2), { stdio: ["ignore", "ignore", "inherit"] });
      process.stderr.write("\\nMaximum resident set size (kbytes): " + process.resourceUsage().maxRSS + "\\n");
      process.exit(r.status === null ? 1 : r.status);`;
    bin = process.execPath;
    argv = ["-e", wrapper, cmd, ...args];
  }
  const start = process.hrtime.bigint();
  const child = track(spawn(bin, argv, { cwd: opts.cwd, env: opts.env, stdio: ["ignore", "ignore", "pipe"] }));
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-20_000)));
  const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
  const tail = stderr.replace(/\n?\s*Command being timed:[\s\S]*$/, "").replace(/\nMaximum resident set size[\s\S]*$/, "");
  return {
    wallMs,
    peakRssBytes: m ? Number(m[1]) * 1024 : NaN,
    rssSource: useTime ? "/usr/bin/time -v" : "process.resourceUsage().maxRSS",
    code,
    stderrTail: tail.slice(-2_000),
  };
}

export function redisServerBin(): string {
  const r = spawnSync("/bin/sh", ["-c", "command -v redis-server"], { encoding: "utf8" });
  const p = r.stdout?.trim();
  if (r.status !== 0 || !p) throw new Error("redis-server is not on PATH (apt-get install -y redis-server)");
  return p;
}

export function redisServerVersion(): string {
  try {
    const r = spawnSync(redisServerBin(), ["--version"], { encoding: "utf8" });
    return /v=(\S+)/.exec(r.stdout)?.[1] ?? r.stdout.trim();
  } catch {
    return "absent";
  }
}

/** The benchmark's own redis-server: `kill()` is an outage (SIGKILL), `restart()` brings it back on the same port. */
export interface BenchRedis {
  readonly port: number;
  readonly url: string;
  readonly pid: () => number | undefined;
  kill(): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startBenchRedis(): Promise<BenchRedis> {
  const bin = redisServerBin();
  let port = await freePort();
  let proc: ChildProcess | undefined;
  const launch = async (): Promise<void> => {
    const p = track(spawn(bin, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning"], { stdio: "ignore" }));
    proc = p;
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      if (p.exitCode !== null) throw new Error(`redis-server exited with ${p.exitCode} on port ${port}`);
      if (await ping("127.0.0.1", port, 200)) return;
      await sleep(10);
    }
    throw new Error(`redis-server on port ${port} did not answer within 5 s`);
  };
  for (let attempt = 1; ; attempt++) {
    try {
      await launch();
      break;
    } catch (err) {
      if (attempt >= 3) throw err;
      port = await freePort();
    }
  }
  const killWith = async (sig: NodeJS.Signals) => {
    const p = proc;
    proc = undefined;
    if (!p) return;
    if (p.exitCode === null && p.signalCode === null) p.kill(sig);
    await waitExit(p);
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    pid: () => proc?.pid,
    kill: () => killWith("SIGKILL"),
    restart: async () => {
      await killWith("SIGKILL");
      await launch();
    },
    stop: () => killWith("SIGTERM"),
  };
}

/** A child Node process (a compiled file of this folder) that prints `ready: <payload>` when up. */
export interface ReadyChild {
  readonly payload: string;
  readonly pid: number;
  readonly lines: string[];
  stop(): Promise<void>;
}

export async function startReadyChild(file: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; name: string }): Promise<ReadyChild> {
  const child = track(spawn(process.execPath, [file, ...args], {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ["pipe", "pipe", "pipe"],
  }));
  // Kept open: a child may watch its stdin to exit when this process goes away.
  child.stdin!.on("error", () => undefined);
  const lines: string[] = [];
  const keep = (l: string) => {
    lines.push(l);
    if (lines.length > 200) lines.shift();
  };
  createInterface({ input: child.stderr! }).on("line", keep);
  const payload = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${opts.name} did not print ready within ${opts.timeoutMs ?? 60_000} ms:\n${lines.slice(-20).join("\n")}`)), opts.timeoutMs ?? 60_000);
    createInterface({ input: child.stdout! }).on("line", (l) => {
      keep(l);
      const m = /^ready: (\S+)/.exec(l);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once("exit", (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`${opts.name} exited (${sig ?? `code ${code}`}) before it was ready:\n${lines.slice(-20).join("\n")}`));
    });
  });
  return {
    payload,
    pid: child.pid!,
    lines,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const t = setTimeout(() => child.exitCode === null && child.signalCode === null && child.kill("SIGKILL"), 5_000);
      await waitExit(child);
      clearTimeout(t);
    },
  };
}

/** The twin of `stack` with `--redis-url`, on a free port, from an already synthesized output folder. */
export async function startTwin(root: string, outDir: string, redisUrl: string, opts: { stack?: string; seed?: number; concurrency?: number } = {}): Promise<ReadyChild & { outputsFile: string }> {
  const outputsFile = path.join(outDir, "bench-twin-outputs.json");
  const args = ["--stack", opts.stack ?? "product-catalog-dev", "--port", "0", "--no-throttle", "--no-synth", "--quiet", "--redis-url", redisUrl, "--outputs", outputsFile];
  if (opts.seed) args.push("--seed", String(opts.seed));
  if (opts.concurrency) args.push("--concurrency", String(opts.concurrency));
  const child = await startReadyChild(path.join(root, "dist", "tools", "twin", "main.js"), args, {
    name: "the local twin",
    cwd: root,
    env: { ...process.env, CDKTF_OUTDIR: outDir },
  });
  return { ...child, outputsFile };
}
