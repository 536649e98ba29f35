/**
 * Lambda functions of the twin: each bundle is unzipped into a temp folder and run in child
 * processes (`worker.ts`), each with its own environment and module state, one invocation at a
 * time per process as in Lambda; more processes start (cold) when all are busy, up to a limit.
 *   const pool = new FunctionPool(fn, { codeDir, env, maxWorkers: 4, log });
 *   await pool.start();  const outcome = await pool.invoke(event, requestId);  await pool.close();
 */
import { ChildProcess, fork } from "child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "fs";
import * as path from "path";
import { createInterface } from "readline";
import { CONNECTIONS } from "../../functions/lib/contract";
import { TWIN_ACCOUNT } from "./local";
import { FunctionDef } from "./stack";
import { readZip } from "./unzip";

export type InvokeOutcome =
  | { kind: "ok"; result: unknown; coldStart: boolean }
  | { kind: "error"; error: { errorType: string; errorMessage: string; stack?: string[] }; coldStart: boolean }
  | { kind: "timeout"; afterMs: number }
  | { kind: "crash"; detail: string };

/** Unzips a deployment package into `dir`; returns the handler module's file and export name. */
export function extractBundle(fn: FunctionDef, dir: string): { file: string; exportName: string } {
  if (!existsSync(fn.zipPath)) throw new Error(`function ${fn.name}: bundle ${fn.zipPath} is missing; synthesize again (npm run synth)`);
  mkdirSync(dir, { recursive: true });
  for (const e of readZip(readFileSync(fn.zipPath))) {
    const target = path.join(dir, e.name);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, e.data);
  }
  const cut = fn.handler.lastIndexOf(".");
  if (cut <= 0) throw new Error(`function ${fn.name}: handler ${fn.handler} is not <file>.<export>`);
  const base = path.join(dir, fn.handler.slice(0, cut));
  const file = [".js", ".cjs", ".mjs"].map((ext) => base + ext).find((f) => existsSync(f));
  if (!file) throw new Error(`function ${fn.name}: the bundle has no ${fn.handler.slice(0, cut)}.js for handler ${fn.handler}`);
  return { file, exportName: fn.handler.slice(cut + 1) };
}

export interface FunctionPoolOptions {
  /** Unzipped bundle. */
  readonly entry: { file: string; exportName: string };
  readonly env: Record<string, string>;
  /** Most processes at once (Lambda's concurrency). */
  readonly maxWorkers: number;
  /** Each line a function process writes. */
  readonly log: (line: string, stream: "stdout" | "stderr") => void;
  /** Start a fresh process for every invocation (a cold start each time). @default false */
  readonly freshEachInvoke?: boolean;
}

interface Pending {
  resolve: (o: InvokeOutcome) => void;
  timer: NodeJS.Timeout;
  started: number;
}

const WORKER_JS = path.join(__dirname, "worker.js");

class Worker {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  busy = false;
  invocations = 0;
  pending: Pending | undefined;
  exited = false;

  constructor(entry: { file: string; exportName: string }, env: Record<string, string>, log: FunctionPoolOptions["log"], onExit: (w: Worker) => void) {
    // NODE_OPTIONS of the function (e.g. --enable-source-maps) applies as it would in Lambda.
    this.child = fork(WORKER_JS, [], {
      env,
      cwd: path.dirname(entry.file),
      execArgv: [],
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      // Own process group: Ctrl-C in a terminal reaches the twin only, which then stops this.
      detached: true,
    });
    for (const stream of ["stdout", "stderr"] as const) {
      createInterface({ input: this.child[stream]! }).on("line", (l) => log(l, stream));
    }
    this.ready = new Promise<void>((resolve, reject) => {
      const onMsg = (m: { t: string; error?: { errorType: string; errorMessage: string } }) => {
        if (m.t === "ready") {
          this.child.off("message", onMsg);
          resolve();
        } else if (m.t === "init-error") {
          this.child.off("message", onMsg);
          reject(new Error(`${m.error?.errorType}: ${m.error?.errorMessage}`));
        }
      };
      this.child.on("message", onMsg);
      this.child.once("exit", (code, signal) => reject(new Error(`the function process exited during init (${signal ?? `code ${code}`})`)));
    });
    this.ready.catch(() => undefined);
    this.child.once("exit", (code, signal) => {
      this.exited = true;
      const p = this.pending;
      this.pending = undefined;
      if (p) {
        clearTimeout(p.timer);
        p.resolve({ kind: "crash", detail: `the function process exited (${signal ?? `code ${code}`})` });
      }
      onExit(this);
    });
    this.child.on("error", () => undefined);
    this.child.send({ t: "init", file: entry.file, exportName: entry.exportName });
  }

  kill(signal: NodeJS.Signals = "SIGKILL"): void {
    if (!this.exited) {
      try {
        this.child.kill(signal);
      } catch {
        /* already gone */
      }
    }
  }

  waitExit(): Promise<void> {
    if (this.exited || this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((r) => this.child.once("exit", () => r()));
  }
}

let invokeSeq = 0;

export class FunctionPool {
  private readonly workers = new Set<Worker>();
  private readonly queue: Array<() => void> = [];
  private closed = false;

  constructor(
    readonly fn: FunctionDef,
    private readonly opts: FunctionPoolOptions,
  ) {}

  /** Starts one process and waits for the handler module to load (a failure here is the init error). */
  async start(): Promise<void> {
    const w = this.spawn();
    await w.ready;
  }

  private spawn(): Worker {
    const w = new Worker(this.opts.entry, this.opts.env, this.opts.log, (dead) => {
      this.workers.delete(dead);
      this.next();
    });
    this.workers.add(w);
    return w;
  }

  private next(): void {
    const waiting = this.queue.shift();
    if (waiting) waiting();
  }

  private async acquire(): Promise<{ worker: Worker; cold: boolean }> {
    for (;;) {
      if (this.closed) throw new Error("the twin is shutting down");
      const idle = [...this.workers].filter((w) => !w.busy && !w.exited);
      if (!this.opts.freshEachInvoke && idle.length > 0) {
        idle[0].busy = true;
        return { worker: idle[0], cold: false };
      }
      if (this.opts.freshEachInvoke) {
        // Retire used environments so every invocation starts cold.
        for (const w of idle) {
          this.workers.delete(w);
          w.kill("SIGTERM");
        }
      }
      if (this.workers.size < this.opts.maxWorkers) {
        const w = this.spawn();
        w.busy = true;
        try {
          await w.ready;
        } catch (err) {
          this.workers.delete(w);
          w.kill();
          throw err;
        }
        return { worker: w, cold: true };
      }
      await new Promise<void>((r) => this.queue.push(r));
    }
  }

  private release(w: Worker): void {
    w.busy = false;
    this.next();
  }

  /** Runs one invocation, as Lambda's Invoke (RequestResponse) would. */
  async invoke(event: unknown, awsRequestId: string): Promise<InvokeOutcome> {
    let acquired: { worker: Worker; cold: boolean };
    try {
      acquired = await this.acquire();
    } catch (err) {
      return { kind: "crash", detail: `init failed: ${err instanceof Error ? err.message : String(err)}` };
    }
    const { worker, cold } = acquired;
    const timeoutMs = this.fn.timeoutSeconds * 1000;
    const id = ++invokeSeq;
    worker.invocations++;
    const outcome = await new Promise<InvokeOutcome>((resolve) => {
      const started = Date.now();
      const timer = setTimeout(() => {
        worker.pending = undefined;
        // Lambda ends a timed-out environment; the next request gets a fresh one.
        this.workers.delete(worker);
        worker.kill();
        resolve({ kind: "timeout", afterMs: Date.now() - started });
      }, timeoutMs);
      worker.pending = { resolve, timer, started };
      const onMsg = (m: { t: string; id?: number; result?: unknown; error?: { errorType: string; errorMessage: string; stack?: string[] } }) => {
        if (m.id !== id) return;
        worker.child.off("message", onMsg);
        clearTimeout(timer);
        worker.pending = undefined;
        if (m.t === "result") resolve({ kind: "ok", result: m.result, coldStart: cold });
        else resolve({ kind: "error", error: m.error ?? { errorType: "Error", errorMessage: "unknown" }, coldStart: cold });
      };
      worker.child.on("message", onMsg);
      worker.child.send({
        t: "invoke",
        id,
        event,
        context: {
          functionName: this.fn.name,
          functionVersion: "$LATEST",
          invokedFunctionArn: `arn:aws:lambda:${this.opts.env[CONNECTIONS.region.env]}:${TWIN_ACCOUNT}:function:${this.fn.name}`,
          memoryLimitInMB: String(this.fn.memorySize),
          awsRequestId,
          logGroupName: `/aws/lambda/${this.fn.name}`,
          logStreamName: `twin/[$LATEST]${worker.child.pid}`,
          deadlineMs: Date.now() + timeoutMs,
        },
      }, (err) => {
        if (err && worker.pending) {
          clearTimeout(timer);
          worker.pending = undefined;
          resolve({ kind: "crash", detail: `cannot reach the function process: ${err.message}` });
        }
      });
    });
    if (!worker.exited && this.workers.has(worker)) this.release(worker);
    else this.next();
    return outcome;
  }

  /** Stops every process: SIGTERM, then SIGKILL after `graceMs`. */
  async close(graceMs = 2_000): Promise<void> {
    this.closed = true;
    for (const waiting of this.queue.splice(0)) waiting();
    const all = [...this.workers];
    for (const w of all) w.kill("SIGTERM");
    const timer = setTimeout(() => all.forEach((w) => w.kill("SIGKILL")), graceMs);
    await Promise.all(all.map((w) => w.waitExit()));
    clearTimeout(timer);
  }
}
