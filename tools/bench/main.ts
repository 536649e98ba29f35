/**
 * The benchmark: every scenario against its baseline in the same run, so ratios hold on a noisy
 * machine. Prints progress, a figures table and pass/fail lines for the targets; writes
 * tools/bench/results/latest.json, the chart latest.svg, and the figures into help/performance.md.
 *   npm run bench                 # full run (a few minutes)
 *   npm run bench -- --quick      # reduced counts (about a minute); results under results/quick/
 *   node dist/tools/bench/main.js --help
 * See help/performance.md.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import * as os from "os";
import * as path from "path";
import { packageRoot } from "../../modules";
import { parseCli, reportError } from "../lib/cli";
import Redis from "ioredis";
import { runBackends } from "./backends";
import { runBundles } from "./bundle";
import type { BenchContext } from "./context";
import { runFailover } from "./failover";
import { runHitRatio } from "./hit-ratio";
import { runInvalidation } from "./invalidation";
import { runL1 } from "./l1";
import { runLatency } from "./latency";
import { machineFacts } from "./machine";
import { BenchRedis, killAll, ReadyChild, runTimed, startBenchRedis, startReadyChild } from "./procs";
import { BenchResults, chart, consoleTable, pageSection, replaceSection, Scenarios, targetLines, targets } from "./report";
import { quietRuntime } from "./runtime-env";
import { runStampede } from "./stampede";
import { runSynth } from "./synth";
import { runWarming } from "./warming";

const SCENARIOS = ["synth", "bundle", "latency", "hits", "stampede", "failover", "backends", "invalidation", "l1", "warming"] as const;
type ScenarioName = (typeof SCENARIOS)[number];

const TITLES: Record<ScenarioName, string> = {
  synth: "synth: project vs naive (ts-node, root provider import)",
  bundle: "bundles and cold start vs a bare ioredis + client-dynamodb bundle",
  latency: "cache-hit latency: handler vs raw GET; twin vs raw HTTP server",
  hits: "hit ratio and table offload: Zipf(1.0), 10,000 ids, 1 % writes",
  stampede: "stampede: 200 concurrent reads of a cold key, lease vs naive",
  failover: "failover: redis-server killed for 5 s under load through the twin",
  backends: "cache backends: redis, dynamodb, memory",
  invalidation: "invalidation lag: a write straight to the table → its cache entry gone, stream path alone",
  l1: "in-process L1: hit vs raw Redis GET; Redis GETs per Zipf(1.0) workload with a 1 s L1; staleness after a remote write",
  warming: "cold start to a 90 % hit ratio: warm function first vs none",
};

const USAGE = `usage: npm run bench -- [options]      (or: node dist/tools/bench/main.js [options])

Runs every benchmark scenario against its baseline in the same run and reports ratios.

  --quick            reduced counts (about a minute); writes under tools/bench/results/quick/
  --only <list>      comma-separated scenarios: ${SCENARIOS.join(", ")}
  --out <dir>        where latest.json and latest.svg go (default tools/bench/results[/quick])
  --no-page          do not rewrite the figures in help/performance.md (full runs rewrite them)
  -h, --help         this text`;


async function main(): Promise<number> {
  let values;
  try {
    const args = parseCli(process.argv.slice(2), {
      quick: { type: "boolean" },
      only: { type: "string" },
      out: { type: "string" },
      "no-page": { type: "boolean" },
    }, USAGE);
    if (args === "help") return 0;
    values = args.values;
  } catch (err) {
    return reportError(err);
  }
  const only = values.only ? values.only.split(",").map((s) => s.trim()) : [...SCENARIOS];
  const unknown = only.filter((s) => !(SCENARIOS as readonly string[]).includes(s));
  if (unknown.length) {
    process.stderr.write(`error: unknown scenario(s) ${unknown.join(", ")}; choose from ${SCENARIOS.join(", ")}\n`);
    return 2;
  }
  const root = packageRoot();
  if (!existsSync(path.join(root, "dist", "main.js"))) {
    process.stderr.write("error: dist/ is missing; run npm run bench (it compiles first) or npm run build\n");
    return 2;
  }
  const quick = !!values.quick;
  const outDir = path.resolve(values.out ?? path.join(root, "tools", "bench", "results", ...(quick ? ["quick"] : [])));
  const writePage = !quick && !values["no-page"] && !values.out && only.length === SCENARIOS.length;
  quietRuntime();

  const t0 = performance.now();
  const tmp = mkdtempSync(path.join(os.tmpdir(), "cachefront-bench-"));
  const machine = machineFacts(root);
  const say = (l: string) => process.stdout.write(`${l}\n`);
  say(`cachefront benchmark (${quick ? "quick" : "full"}): ${only.join(", ")}`);
  say(`machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGB} GB, Node.js ${machine.node}, redis-server ${machine.redisServer}, load ${machine.loadAverageAtStart}`);

  let redis: BenchRedis | undefined;
  let dynamo: ReadyChild | undefined;
  let synthOutDir: string | undefined;
  let current = "";
  const elapsed = () => `${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s`;
  const ctx: BenchContext = {
    root,
    quick,
    tmp,
    progress: (l) => say(`${elapsed()}  ${current}: ${l}`),
    redis: async () => (redis ??= await startBenchRedis()),
    dynamo: async () => {
      dynamo ??= await startReadyChild(path.join(root, "dist", "tools", "bench", "dynalite-server.js"), [], { name: "dynalite" });
      return { endpoint: dynamo.payload };
    },
    synthOut: async () => {
      if (!synthOutDir) {
        const out = path.join(tmp, "synth-for-twin");
        const r = await runTimed(process.execPath, [path.join(root, "dist", "main.js")], { cwd: root, env: { ...process.env, CDKTF_OUTDIR: out } });
        if (r.code !== 0) throw new Error(`synth failed: ${r.stderrTail}`);
        synthOutDir = out;
      }
      return synthOutDir;
    },
  };

  const scenarios: Scenarios = {};
  const errors: Record<string, string> = {};
  const scenarioSeconds: Record<string, number> = {};
  const selected = SCENARIOS.filter((s) => only.includes(s));
  let n = 0;
  for (const name of selected) {
    n++;
    current = name;
    say(`\n[${n}/${selected.length}] ${TITLES[name]}`);
    const s0 = performance.now();
    try {
      switch (name) {
        case "synth": {
          const r = await runSynth(ctx);
          synthOutDir = r.outDir;
          const { outDir: _ignored, ...rest } = r;
          void _ignored;
          scenarios.synth = rest;
          break;
        }
        case "bundle":
          scenarios.bundle = await runBundles(ctx);
          break;
        case "latency":
          scenarios.latency = await runLatency(ctx);
          break;
        case "hits":
          scenarios.hitRatio = await runHitRatio(ctx);
          break;
        case "stampede":
          scenarios.stampede = await runStampede(ctx);
          break;
        case "failover":
          scenarios.failover = await runFailover(ctx);
          break;
        case "backends":
          scenarios.backends = await runBackends(ctx);
          break;
        case "invalidation":
          scenarios.invalidation = await runInvalidation(ctx);
          break;
        case "l1":
          scenarios.l1 = await runL1(ctx);
          break;
        case "warming":
          scenarios.warming = await runWarming(ctx);
          break;
      }
    } catch (err) {
      errors[name] = err instanceof Error ? err.stack ?? err.message : String(err);
      say(`${elapsed()}  ${name}: FAILED: ${err instanceof Error ? err.message : String(err)}`);
    }
    scenarioSeconds[name] = Math.round((performance.now() - s0) / 100) / 10;
    say(`${elapsed()}  ${name}: done in ${scenarioSeconds[name]} s`);
    if (redis) {
      // Each scenario starts from an empty cache and with the memory back.
      const c = new Redis({ host: "127.0.0.1", port: redis.port, maxRetriesPerRequest: 1 });
      await c.flushall().catch(() => undefined);
      c.disconnect();
    }
  }
  current = "";
  await redis?.stop();
  await dynamo?.stop();
  rmSync(tmp, { recursive: true, force: true });

  const results: BenchResults = {
    schema: 1,
    mode: quick ? "quick" : "full",
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`,
    machine,
    durationSeconds: Math.round((performance.now() - t0) / 100) / 10,
    scenarioSeconds,
    errors,
    targets: targets(scenarios, quick ? "quick" : "full"),
    scenarios,
  };

  say("\nfigures (cachefront vs its baseline, measured in the same run):\n");
  say(consoleTable(scenarios));
  say("\ntargets:");
  for (const l of targetLines(results.targets)) say(`  ${l}`);

  mkdirSync(outDir, { recursive: true });
  const jsonFile = path.join(outDir, "latest.json");
  const svgFile = path.join(outDir, "latest.svg");
  writeFileSync(jsonFile, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(svgFile, chart(results));
  say(`\nwrote ${path.relative(process.cwd(), jsonFile) || jsonFile} and ${path.relative(process.cwd(), svgFile) || svgFile}`);
  if (writePage) {
    const page = path.join(root, "help", "performance.md");
    const chartRel = path.relative(path.dirname(page), svgFile).split(path.sep).join("/");
    writeFileSync(page, replaceSection(readFileSync(page, "utf8"), pageSection(results, chartRel)));
    say(`updated the figures in ${path.relative(process.cwd(), page)}`);
  } else if (!quick && !values["no-page"]) {
    say("help/performance.md left as it is (only a full run of every scenario into the default folder rewrites it)");
  }
  say(`total ${results.durationSeconds} s`);
  return Object.keys(errors).length ? 1 : 0;
}

for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(sig, () => {
    process.stderr.write(`\ninterrupted (${sig}): stopping the processes the benchmark started\n`);
    killAll();
    process.exit(130);
  });
}

main().then(
  (code) => {
    killAll();
    process.exit(code);
  },
  (err) => {
    process.stderr.write(`error: ${(err as Error).stack ?? String(err)}\n`);
    killAll();
    process.exit(1);
  },
);
