/**
 * Lambda's Invoke API on the twin's port, for functions that invoke other functions of the stack
 * (the session function invokes the WebSocket pusher): every function process gets
 * `AWS_ENDPOINT_URL_LAMBDA` pointing here, so the SDK's own client calls it as it would call AWS.
 *   POST /2015-03-31/functions/{FunctionName}/invocations   (SigV4 for "lambda", the twin's credentials)
 * RequestResponse answers the function's result (a function error as 200 with X-Amz-Function-Error,
 * as Lambda does); Event answers 202 and runs it in the background; an unknown function is 404
 * ResourceNotFoundException; a payload over 6 MB is 413.
 */
import type { IncomingMessage, ServerResponse } from "http";
import { FunctionPool } from "./functions";
import { LAMBDA_MAX_PAYLOAD } from "./gateway";
import { TWIN_ACCOUNT } from "./local";
import { verifySigV4 } from "./sigv4";

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

interface Reply {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body: string;
}

const error = (status: number, type: string, message: string): Reply =>
  ({ status, headers: { "x-amzn-errortype": type }, body: JSON.stringify({ Type: "User", message }) });

export class LambdaApi {
  constructor(
    private readonly pools: ReadonlyMap<string, FunctionPool>,
    private readonly region: string,
    private readonly note: (line: string) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Handles an Invoke request; false when the path is not Lambda's (the caller answers it). */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const raw = req.url ?? "/";
    const q = raw.indexOf("?");
    const path = q < 0 ? raw : raw.slice(0, q);
    const m = INVOKE_PATH.exec(path);
    if (!m || req.method !== "POST") return false;
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size <= LAMBDA_MAX_PAYLOAD) chunks.push(c);
    });
    req.on("error", () => undefined);
    req.on("end", () => {
      const body = size > LAMBDA_MAX_PAYLOAD ? undefined : Buffer.concat(chunks);
      this.invoke(req, path, q < 0 ? "" : raw.slice(q + 1), decodeURIComponent(m[1]), body)
        .catch((err: unknown) => error(500, "ServiceException", err instanceof Error ? err.message : String(err)))
        .then((r) => {
          res.writeHead(r.status, { "content-type": "application/json", "content-length": String(Buffer.byteLength(r.body)), ...r.headers });
          res.end(r.body);
        });
    });
    return true;
  }

  private async invoke(req: IncomingMessage, path: string, query: string, name: string, body: Buffer | undefined): Promise<Reply> {
    if (!body) return error(413, "RequestTooLargeException", `Request must be smaller than ${LAMBDA_MAX_PAYLOAD} bytes for the InvokeFunction operation`);
    const signed = await verifySigV4({ method: "POST", path, query, headers: req.headers, body }, this.now());
    if (!signed.ok) return error(403, signed.error === "UNRECOGNIZED_CLIENT" ? "UnrecognizedClientException" : "InvalidSignatureException", signed.message ?? "The request signature is not valid");
    if (signed.service !== "lambda") return error(403, "InvalidSignatureException", `Credential should be scoped to correct service: 'lambda', not '${signed.service}'`);
    // A function name, or its ARN (the SDK sends either as given).
    const fnName = name.startsWith("arn:") ? name.split(":")[6] ?? "" : name;
    const pool = [...this.pools.values()].find((p) => p.fn.name === fnName);
    if (!pool) return error(404, "ResourceNotFoundException", `Function not found: arn:aws:lambda:${this.region}:${TWIN_ACCOUNT}:function:${fnName}`);
    let event: unknown = {};
    if (body.length > 0) {
      try {
        event = JSON.parse(body.toString("utf8"));
      } catch {
        return error(400, "InvalidRequestContentException", "Could not parse request body into json");
      }
    }
    const requestId = `twin-invoke-${this.now()}-${Math.random().toString(36).slice(2, 8)}`;
    const type = String(req.headers["x-amz-invocation-type"] ?? "RequestResponse");
    if (type === "DryRun") return { status: 204, body: "" };
    if (type === "Event") {
      pool.invoke(event, requestId).then((o) => o.kind !== "ok" && this.note(`${pool.fn.name} (async invoke): ${o.kind}`), () => undefined);
      return { status: 202, body: "" };
    }
    const outcome = await pool.invoke(event, requestId);
    const base = { "x-amz-executed-version": "$LATEST", "x-amzn-requestid": requestId };
    if (outcome.kind === "ok") return { status: 200, headers: base, body: JSON.stringify(outcome.result ?? null) };
    const failure = outcome.kind === "error"
      ? { errorType: outcome.error.errorType, errorMessage: outcome.error.errorMessage, trace: outcome.error.stack ?? [] }
      : outcome.kind === "timeout"
        ? { errorType: "Sandbox.Timedout", errorMessage: `Task timed out after ${(outcome.afterMs / 1000).toFixed(2)} seconds` }
        : { errorType: "Runtime.ExitError", errorMessage: outcome.detail };
    return { status: 200, headers: { ...base, "x-amz-function-error": "Unhandled" }, body: JSON.stringify(failure) };
  }
}
