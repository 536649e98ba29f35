/**
 * Lambda's Invoke API for the twin's functions (`POST /2015-03-31/functions/<name>/invocations`,
 * RequestResponse), so a client built for a deployment (the AWS SDK with an endpoint override, as
 * `npm run warm` uses it) works against the twin: 200 with the function's answer, or 200 with
 * `X-Amz-Function-Error: Unhandled` and the error as payload, as Lambda answers; 404
 * ResourceNotFoundException for a function the stack does not have. No signature is checked.
 */
import { randomUUID } from "crypto";
import type { IncomingMessage, ServerResponse } from "http";
import type { FunctionPool } from "./functions";

const PATH_RE = /^\/2015-03-31\/functions\/([^/]+)\/invocations\/?$/;

export class LocalLambdaApi {
  constructor(private readonly pools: () => Iterable<FunctionPool>) {}

  /** True when `req` is an Invoke call (then it is answered). */
  handles(req: IncomingMessage): boolean {
    return PATH_RE.test((req.url ?? "").split("?")[0]);
  }

  /** Answers one Invoke call; the body is read here. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      this.invoke(req, Buffer.concat(chunks).toString("utf8")).then(({ status, headers, body }) => {
        res.writeHead(status, { "content-type": "application/json", "x-amzn-requestid": randomUUID(), ...headers });
        res.end(body);
      });
    });
  }

  private async invoke(req: IncomingMessage, payload: string): Promise<{ status: number; headers: Record<string, string>; body: string }> {
    const name = decodeURIComponent(PATH_RE.exec((req.url ?? "").split("?")[0])![1]).split(":").pop()!;
    const pool = [...this.pools()].find((p) => p.fn.name === name);
    if (!pool) {
      return { status: 404, headers: { "x-amzn-errortype": "ResourceNotFoundException" }, body: JSON.stringify({ Type: "User", message: `Function not found: ${name}` }) };
    }
    if (req.headers["x-amz-invocation-type"] && req.headers["x-amz-invocation-type"] !== "RequestResponse") {
      return { status: 400, headers: { "x-amzn-errortype": "InvalidParameterValueException" }, body: JSON.stringify({ message: "the twin runs RequestResponse invocations only" }) };
    }
    let event: unknown;
    try {
      event = payload === "" ? {} : JSON.parse(payload);
    } catch {
      return { status: 400, headers: { "x-amzn-errortype": "InvalidRequestContentException" }, body: JSON.stringify({ message: "Could not parse request body into json" }) };
    }
    const out = await pool.invoke(event, randomUUID());
    if (out.kind === "ok") return { status: 200, headers: { "x-amz-executed-version": "$LATEST" }, body: JSON.stringify(out.result ?? null) };
    const error = out.kind === "error" ? out.error : { errorType: out.kind === "timeout" ? "Sandbox.Timedout" : "Runtime.ExitError", errorMessage: out.kind === "timeout" ? `timed out after ${out.afterMs} ms` : out.detail };
    return { status: 200, headers: { "x-amz-function-error": "Unhandled", "x-amz-executed-version": "$LATEST" }, body: JSON.stringify(error) };
  }
}
