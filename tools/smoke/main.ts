/**
 * Post-deploy smoke tests against whatever an outputs file describes: a deployment
 * (`cdktf deploy <stack> --outputs-file out.json --outputs-file-include-sensitive-outputs`)
 * or the local twin (`cdktf.out/twin-outputs.json`).
 *   npm run smoke -- --outputs out.json [--stack product-catalog-dev] [--json]
 * Exit status: 0 every check passed, 1 a check failed, 2 bad usage or outputs file.
 * See help/smoke-tests.md.
 */
import * as path from "path";
import { call } from "./http";
import { intFlag, parseCli, reportError, UsageError } from "../lib/cli";
import { readOutputs } from "./outputs";
import { Runner } from "./runner";
import { StackKind, SUITES } from "./suites";

const USAGE = `usage: npm run smoke -- --outputs <file> [options]   (or: node dist/tools/smoke/main.js …)

  --outputs <file>                outputs file: { "<stack>": { "api_url": …, "api_key": …, … } }
  --stack <name>                  the stack in the file (needed when it holds several)
  --kind <kind>                   product-catalog or session-store (default: from the stack name, else GET /health)
  --json                          print a JSON report on stdout (the check lines go to stderr)
  --timeout <ms>                  per request (default 10000)
  --max-rate-limit-requests <n>   skip the rate-limit check when it needs more requests (default 200)
  --token <jwt>                   a token the API accepts (default: the outputs' sample_token, which the twin writes)
  --other-token <jwt>             another customer's token, for the cross-customer check (default: sample_token_other)
  -h, --help                      this text`;

const KINDS: StackKind[] = ["product-catalog", "session-store"];

function kindFromName(stack: string): StackKind | undefined {
  return KINDS.find((k) => stack === k || stack.startsWith(`${k}-`));
}

async function kindFromHealth(base: string, timeoutMs: number): Promise<StackKind | undefined> {
  try {
    const r = await call("GET", `${base}/health`, { timeoutMs });
    const service = (r.json as { service?: string } | undefined)?.service;
    return service ? KINDS.find((k) => service.startsWith(k)) : undefined;
  } catch {
    return undefined;
  }
}

async function main(): Promise<number> {
  let v;
  try {
    const args = parseCli(process.argv.slice(2), {
      outputs: { type: "string" },
      stack: { type: "string" },
      kind: { type: "string" },
      json: { type: "boolean" },
      timeout: { type: "string" },
      "max-rate-limit-requests": { type: "string" },
      token: { type: "string" },
      "other-token": { type: "string" },
    }, USAGE);
    if (args === "help") return 0;
    v = args.values;
  } catch (err) {
    return reportError(err);
  }
  const asJson = !!v.json;
  // With --json, stdout carries only the report.
  const print = (l: string) => (asJson ? process.stderr : process.stdout).write(`${l}\n`);
  try {
    if (!v.outputs) throw new UsageError("--outputs <file> is required (see --help)");
    const timeoutMs = intFlag("timeout", v.timeout, 10_000, 1, Number.MAX_SAFE_INTEGER);
    const maxRateLimitRequests = intFlag("max-rate-limit-requests", v["max-rate-limit-requests"], 200, 1, Number.MAX_SAFE_INTEGER);
    const file = path.resolve(v.outputs);
    const { stack, outputs } = readOutputs(file, v.stack);
    const base = String(outputs.api_url).replace(/\/+$/, "");
    if (v.kind && !KINDS.includes(v.kind as StackKind)) throw new UsageError(`--kind ${v.kind}: one of ${KINDS.join(", ")}`);
    const kind = (v.kind as StackKind | undefined) ?? kindFromName(stack) ?? (await kindFromHealth(base, timeoutMs));
    if (!kind) throw new UsageError(`cannot tell the kind of stack ${stack} (name or GET /health): pass --kind`);

    print(`smoke: ${stack} (${kind}) at ${base}`);
    const started = performance.now();
    const run = new Runner(print);
    const fromOutputs = (k: string) => (typeof outputs[k] === "string" && outputs[k] ? (outputs[k] as string) : undefined);
    const token = v.token ?? fromOutputs("sample_token");
    const otherToken = v["other-token"] ?? fromOutputs("sample_token_other");
    await SUITES[kind]({ base, outputs, run, timeoutMs, maxRateLimitRequests, token, otherToken, note: print });
    const passed = run.results.filter((r) => r.outcome === "pass").length;
    const skipped = run.results.filter((r) => r.outcome === "skip").length;
    const durationMs = Math.round(performance.now() - started);
    print(`smoke: ${run.failed === 0 ? "ok" : "FAILED"}: ${passed} passed, ${run.failed} failed, ${skipped} skipped in ${(durationMs / 1000).toFixed(1)} s`);
    if (asJson) {
      const report = {
        stack,
        kind,
        apiUrl: base,
        ok: run.failed === 0,
        passed,
        failed: run.failed,
        skipped,
        durationMs,
        checks: run.results.map((r) => ({ ...r, latencyMs: Math.round(r.latencyMs) })),
      };
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    }
    return run.failed === 0 ? 0 : 1;
  } catch (err) {
    return reportError(err);
  }
}

main().then((code) => {
  process.exitCode = code;
});
