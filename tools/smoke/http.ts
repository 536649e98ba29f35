/** One HTTP request with its latency: `const r = await call("GET", url); r.status, r.header("x-cache"), r.json`. */

export interface CallResult {
  readonly status: number;
  readonly text: string;
  /** The parsed body when it is JSON, else undefined. */
  readonly json: unknown;
  readonly ms: number;
  header(name: string): string | undefined;
}

export interface CallOptions {
  readonly headers?: Record<string, string>;
  readonly body?: unknown;
  readonly timeoutMs?: number;
}

export async function call(method: string, url: string, opts: CallOptions = {}): Promise<CallResult> {
  const headers: Record<string, string> = { "user-agent": "cachefront-smoke", ...opts.headers };
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
    headers["content-type"] ??= "application/json";
  }
  const started = performance.now();
  let res: Response;
  try {
    res = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000), redirect: "manual" });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const why = e.name === "TimeoutError" ? `no answer within ${opts.timeoutMs ?? 10_000} ms` : e.cause?.code ?? e.cause?.message ?? e.message;
    throw new Error(`${method} ${url}: ${why}`);
  }
  const text = await res.text();
  const ms = performance.now() - started;
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json, ms, header: (n) => res.headers.get(n) ?? undefined };
}
