/**
 * One Lambda execution environment, run by the twin with `fork()`: it loads the bundled handler
 * once (the init phase) and then runs one invocation at a time, as Lambda does. Messages:
 *   parent → { t: "init", file, exportName }            child → { t: "ready" } | { t: "init-error", error }
 *   parent → { t: "invoke", id, event, context }          child → { t: "result", id, result } | { t: "error", id, error }
 * The process exits when the twin goes away (IPC disconnect), so it never outlives it.
 */
import { pathToFileURL } from "url";

interface InvokeContext {
  readonly functionName: string;
  readonly functionVersion: string;
  readonly invokedFunctionArn: string;
  readonly memoryLimitInMB: string;
  readonly awsRequestId: string;
  readonly logGroupName: string;
  readonly logStreamName: string;
  readonly deadlineMs: number;
}

type Message =
  | { t: "init"; file: string; exportName: string }
  | { t: "invoke"; id: number; event: unknown; context: InvokeContext };

type Handler = (event: unknown, context: unknown, callback?: (err: unknown, result?: unknown) => void) => unknown;

let handler: Handler | undefined;

function send(msg: unknown): void {
  if (process.connected) process.send?.(msg);
}

function errorInfo(err: unknown): { errorType: string; errorMessage: string; stack?: string[] } {
  if (err instanceof Error) return { errorType: err.name, errorMessage: err.message, stack: err.stack?.split("\n") };
  return { errorType: "Error", errorMessage: typeof err === "string" ? err : JSON.stringify(err) };
}

// A dynamic import that TypeScript's CommonJS output does not turn into require (for .mjs handlers).
const importEsm = new Function("u", "return import(u)") as (u: string) => Promise<Record<string, unknown>>;

async function init(file: string, exportName: string): Promise<void> {
  const mod = (file.endsWith(".mjs") ? await importEsm(pathToFileURL(file).href) : require(file)) as Record<string, unknown>;
  const h = mod[exportName];
  if (typeof h !== "function") throw new Error(`${file} does not export a function named ${exportName}`);
  handler = h as Handler;
}

function run(event: unknown, c: InvokeContext): Promise<unknown> {
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: c.functionName,
    functionVersion: c.functionVersion,
    invokedFunctionArn: c.invokedFunctionArn,
    memoryLimitInMB: c.memoryLimitInMB,
    awsRequestId: c.awsRequestId,
    logGroupName: c.logGroupName,
    logStreamName: c.logStreamName,
    getRemainingTimeInMillis: () => Math.max(0, c.deadlineMs - Date.now()),
  };
  return new Promise((resolve, reject) => {
    const callback = (err: unknown, result?: unknown) => (err ? reject(err) : resolve(result));
    const out = handler!(event, context, callback);
    if (out && typeof (out as Promise<unknown>).then === "function") (out as Promise<unknown>).then(resolve, reject);
    else if (handler!.length < 3) resolve(out);
  });
}

process.on("message", (msg: Message) => {
  if (msg.t === "init") {
    init(msg.file, msg.exportName).then(
      () => send({ t: "ready" }),
      (err) => send({ t: "init-error", error: errorInfo(err) }),
    );
  } else if (msg.t === "invoke") {
    run(msg.event, msg.context).then(
      (result) => send({ t: "result", id: msg.id, result: result === undefined ? null : result }),
      (err) => send({ t: "error", id: msg.id, error: errorInfo(err) }),
    );
  }
});

process.on("disconnect", () => process.exit(0));
