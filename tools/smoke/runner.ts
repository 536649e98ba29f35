/**
 * Runs named checks in order, one line each (PASS/FAIL/SKIP, HTTP status, latency, detail):
 *   const run = new Runner(print);
 *   await run.check("health", async () => { const r = await call(...); expect(r.status === 200, "…"); return { status: r.status }; });
 */

export interface CheckResult {
  readonly name: string;
  readonly outcome: "pass" | "fail" | "skip";
  readonly status?: number;
  readonly latencyMs: number;
  readonly detail: string;
}

export interface CheckReturn {
  /** HTTP status of the (last) request. */
  readonly status?: number;
  readonly detail?: string;
  /** Latency to report; default: the check's wall time. */
  readonly ms?: number;
}

export class CheckFailed extends Error {
  constructor(message: string, readonly status?: number) {
    super(message);
  }
}

/** Throws a failed check unless `cond`. */
export function expect(cond: unknown, message: string, status?: number): asserts cond {
  if (!cond) throw new CheckFailed(message, status);
}

export class Runner {
  readonly results: CheckResult[] = [];
  /** True when the last failed check could not reach the API at all (not an HTTP answer). */
  lastFailureUnreachable = false;

  constructor(private readonly print: (line: string) => void) {}

  private record(r: CheckResult): void {
    this.results.push(r);
    const tag = r.outcome.toUpperCase().padEnd(4);
    const status = r.status === undefined ? "   " : String(r.status);
    const ms = `${r.latencyMs.toFixed(0).padStart(5)} ms`;
    this.print(`${tag}  ${r.name.padEnd(22)} ${status} ${ms}  ${r.detail}`);
  }

  async check(name: string, fn: () => Promise<CheckReturn | void>): Promise<boolean> {
    const started = performance.now();
    try {
      const r = (await fn()) ?? {};
      this.record({ name, outcome: "pass", status: r.status, latencyMs: r.ms ?? performance.now() - started, detail: r.detail ?? "" });
      return true;
    } catch (err) {
      const status = err instanceof CheckFailed ? err.status : undefined;
      this.lastFailureUnreachable = !(err instanceof CheckFailed);
      this.record({ name, outcome: "fail", status, latencyMs: performance.now() - started, detail: (err as Error).message });
      return false;
    }
  }

  skip(name: string, why: string): void {
    this.record({ name, outcome: "skip", latencyMs: 0, detail: why });
  }

  get failed(): number {
    return this.results.filter((r) => r.outcome === "fail").length;
  }
}
