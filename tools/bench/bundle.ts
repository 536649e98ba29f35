/**
 * Scenario 2 — bundles and cold start: each handler bundled as the function construct bundles it
 * (esbuild, minified, node22, @aws-sdk/* and @smithy/* external, source map), its zipped size, and
 * the time a fresh Node process takes to load it, against a bare bundle of only ioredis +
 * @aws-sdk/client-dynamodb built the same way. Processes run with NODE_OPTIONS=--enable-source-maps
 * and NODE_PATH=<repo>/node_modules, as the deployed functions (and the twin) do.
 */
import { spawn } from "child_process";
import { mkdirSync, readFileSync, writeFileSync } from "fs";
import * as path from "path";
// The bench measures the bundler itself (size and cold start of what the construct ships), an internal
// the package does not export: the one place tools reach below the public entry points, on purpose.
import { bundleHandler } from "../../modules/function/bundle";
import { CONNECTIONS, environmentOf } from "../../functions/lib/contract";
import { readZip } from "../twin/unzip";
import type { BenchContext } from "./context";
import { pick } from "./context";
import { cdfPoints, ratio, roundSummary, Summary, summarize } from "./stats";

export const ZIP_BUDGET_BYTES = 350 * 1024;

export interface BundleFigures {
  readonly name: string;
  readonly entry: string;
  readonly zipBytes: number;
  readonly indexJsBytes: number;
  /** Time of `require(index.js)` inside the fresh process, ms. */
  readonly requireMs: Summary;
  /** Spawn to exit of the whole process (Node's own start included), ms. */
  readonly processMs: Summary;
  /** RSS after the require, MB. */
  readonly rssMB: Summary;
  readonly requireCdf: Array<[number, number]>;
}

export interface BundleResult {
  readonly processes: number;
  readonly warmupProcesses: number;
  readonly options: { target: string; externals: string[]; sourceMap: boolean; nodeOptions: string };
  readonly handlers: BundleFigures[];
  readonly baseline: BundleFigures;
  /** Per handler: its require-time median / the baseline's. */
  readonly requireRatios: Record<string, number>;
  readonly processRatios: Record<string, number>;
  readonly largestZipBytes: number;
}

const OPTIONS = { target: "node22", externals: ["@aws-sdk/*", "@smithy/*"], sourceMap: true };
const NODE_OPTIONS = "--enable-source-maps";

interface Sample {
  requireMs: number;
  processMs: number;
  rss: number;
}

const LOAD_SCRIPT = `
const file = process.argv[1];
const t0 = performance.now();
const m = require(file);
const t1 = performance.now();
if (typeof m.handler !== "function") { process.stderr.write("no handler export\\n"); process.exit(3); }
process.stdout.write(JSON.stringify({ requireMs: t1 - t0, rss: process.memoryUsage().rss }));
`;

function loadOnce(root: string, file: string): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(process.execPath, ["-e", LOAD_SCRIPT, file], {
      cwd: path.dirname(file),
      env: { PATH: process.env.PATH ?? "", NODE_PATH: path.join(root, "node_modules"), NODE_OPTIONS, ...environmentOf(CONNECTIONS, { region: "us-east-1" }), LAMBDA_TASK_ROOT: path.dirname(file) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.once("exit", (code) => {
      const processMs = Number(process.hrtime.bigint() - start) / 1e6;
      if (code !== 0) return reject(new Error(`loading ${file} failed (exit ${code}): ${err.slice(0, 1000)}`));
      const r = JSON.parse(out) as { requireMs: number; rss: number };
      resolve({ requireMs: r.requireMs, processMs, rss: r.rss });
    });
  });
}

export async function runBundles(ctx: BenchContext): Promise<BundleResult> {
  const processes = pick(ctx, 20, 10);
  const warmupProcesses = pick(ctx, 2, 1);
  const entries = [
    { name: "products", entry: path.join(ctx.root, "functions", "products", "handler.ts") },
    { name: "sessions", entry: path.join(ctx.root, "functions", "sessions", "handler.ts") },
    // The fixture's TypeScript source: bundled by esbuild like the handlers (tsc's copy in dist/ is not used).
    { name: "bare (ioredis + client-dynamodb)", entry: path.join(ctx.root, "tools", "bench", "fixtures", "bare-handler.ts") },
  ];
  const built = entries.map((e) => {
    const b = bundleHandler({ entry: e.entry, ...OPTIONS });
    const dir = path.join(ctx.tmp, "bundles", e.name.replace(/\W+/g, "-"));
    mkdirSync(dir, { recursive: true });
    let indexJsBytes = 0;
    for (const f of readZip(readFileSync(b.zipPath))) {
      writeFileSync(path.join(dir, f.name), f.data);
      if (f.name === "index.js") indexJsBytes = f.data.length;
    }
    ctx.progress(`bundled ${e.name}: ${(b.zipBytes / 1024).toFixed(1)} KB zipped, index.js ${(indexJsBytes / 1024).toFixed(1)} KB`);
    return { ...e, zipBytes: b.zipBytes, indexJsBytes, file: path.join(dir, "index.js"), samples: [] as Sample[] };
  });
  // Round-robin, so a noisy moment costs every bundle alike.
  for (let i = 0; i < warmupProcesses + processes; i++) {
    for (const b of built) {
      const s = await loadOnce(ctx.root, b.file);
      if (i >= warmupProcesses) b.samples.push(s);
    }
    if (i >= warmupProcesses && ((i - warmupProcesses + 1) % 5 === 0 || i === warmupProcesses + processes - 1)) {
      ctx.progress(`cold loads: ${i - warmupProcesses + 1}/${processes} processes per bundle`);
    }
  }
  const figures = built.map((b): BundleFigures => ({
    name: b.name,
    entry: path.relative(ctx.root, b.entry),
    zipBytes: b.zipBytes,
    indexJsBytes: b.indexJsBytes,
    requireMs: roundSummary(summarize(b.samples.map((s) => s.requireMs)), 2),
    processMs: roundSummary(summarize(b.samples.map((s) => s.processMs)), 1),
    rssMB: roundSummary(summarize(b.samples.map((s) => s.rss / 2 ** 20)), 1),
    requireCdf: cdfPoints(b.samples.map((s) => s.requireMs), 40),
  }));
  const baseline = figures[2];
  const handlers = figures.slice(0, 2);
  return {
    processes,
    warmupProcesses,
    options: { ...OPTIONS, externals: [...OPTIONS.externals], nodeOptions: NODE_OPTIONS },
    handlers,
    baseline,
    requireRatios: Object.fromEntries(handlers.map((h) => [h.name, ratio(h.requireMs.p50, baseline.requireMs.p50)])),
    processRatios: Object.fromEntries(handlers.map((h) => [h.name, ratio(h.processMs.p50, baseline.processMs.p50)])),
    largestZipBytes: Math.max(...handlers.map((h) => h.zipBytes)),
  };
}

