/**
 * Load generation: autocannon (HTTP load at a fixed number of connections, with every response
 * time kept at microsecond resolution) and a small closed-loop HTTP client that records each
 * request (start, latency, status, X-Cache) for the failover timeline.
 */
import * as http from "http";

export interface AutocannonRun {
  readonly connections: number;
  readonly durationSeconds: number;
  readonly requests: number;
  readonly requestsPerSecond: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  /** Every response time, ms. */
  readonly latenciesMs: number[];
}

interface AutocannonResult {
  requests: { average: number; total: number; sent: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
}

type Tracker = PromiseLike<AutocannonResult> & {
  on(event: "response", fn: (client: unknown, statusCode: number, bytes: number, responseTimeMs: number) => void): void;
};

// autocannon ships no types (and @types/autocannon is not a dependency): its API as used here.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require("autocannon") as (opts: Record<string, unknown>) => Tracker;

export async function autocannonRun(url: string, opts: { connections: number; durationSeconds: number; headers?: Record<string, string> }): Promise<AutocannonRun> {
  const latenciesMs: number[] = [];
  const tracker = autocannon({
    url,
    connections: opts.connections,
    duration: opts.durationSeconds,
    headers: opts.headers ?? {},
    method: "GET",
    timeout: 10,
  });
  tracker.on("response", (_c, status, _b, ms) => {
    if (status >= 200 && status < 300) latenciesMs.push(ms);
  });
  const r = await tracker;
  return {
    connections: opts.connections,
    durationSeconds: r.duration,
    requests: r.requests.total,
    requestsPerSecond: r.requests.total / r.duration,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    latenciesMs,
  };
}

export interface RecordedRequest {
  /** Start, ms since the loader started. */
  readonly at: number;
  readonly latencyMs: number;
  /** HTTP status, or 0 for a transport error. */
  readonly status: number;
  readonly cache: string;
}

/**
 * Closed-loop load: `concurrency` workers each send the next request as soon as the previous one
 * answered (keep-alive), until `stop()` resolves. `path()` picks each request's path.
 */
export async function closedLoop(opts: {
  baseUrl: string;
  concurrency: number;
  path: () => string;
  headers?: Record<string, string>;
  until: Promise<void>;
  timeoutMs?: number;
}): Promise<RecordedRequest[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.concurrency });
  const t0 = performance.now();
  const out: RecordedRequest[] = [];
  let done = false;
  void opts.until.then(() => (done = true));
  const one = (p: string) =>
    new Promise<RecordedRequest>((resolve) => {
      const start = performance.now();
      const req = http.get(`${opts.baseUrl}${p}`, { agent, headers: opts.headers, timeout: opts.timeoutMs ?? 30_000 }, (res) => {
        res.resume();
        res.on("end", () =>
          resolve({ at: start - t0, latencyMs: performance.now() - start, status: res.statusCode ?? 0, cache: String(res.headers["x-cache"] ?? "") }),
        );
      });
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", () => resolve({ at: start - t0, latencyMs: performance.now() - start, status: 0, cache: "" }));
    });
  await Promise.all(
    Array.from({ length: opts.concurrency }, async () => {
      while (!done) out.push(await one(opts.path()));
    }),
  );
  agent.destroy();
  return out.sort((a, b) => a.at - b.at);
}

/** One request with a body (seeding), resolving to status, headers and body text. */
export function request(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? "GET", headers: opts.headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}
