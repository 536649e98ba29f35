/**
 * The local twin: runs one synthesized stack on this machine, no cloud account needed.
 *   npm start                                   # product-catalog-dev on http://127.0.0.1:3210
 *   npm start -- --stack session-store-dev --port 3300 --seed 5
 *   node dist/tools/twin/main.js --help
 * See help/local-twin.md.
 */
import * as path from "path";
import { packageRoot } from "../../modules";
import { intFlag, parseCli, reportError, synthOutDir } from "../lib/cli";
import { DEFAULT_PORT, DEFAULT_STACK, isStopped, Twin, TwinError, TwinOptions } from "./twin";

const USAGE = `usage: npm start -- [options]      (or: node dist/tools/twin/main.js [options])

Runs a synthesized stack locally: DynamoDB tables in dynalite, Redis (a local redis-server),
the bundled Lambda handlers in child processes and the REST API on http://127.0.0.1:<port>/<stage>.

  --stack <name>       stack to run (default ${DEFAULT_STACK}); any stack in cdktf.out/
  --port <n>           port (default ${DEFAULT_PORT}; 0 = any free port)
  --edge-port <n>      port of the edge, for a stack with a CloudFront distribution (default: port + 1)
  --outputs <file>     outputs file, cdktf output shape (default cdktf.out/twin-outputs.json)
  --seed <n>           load n sample products / sessions (0-1000, default 0)
  --redis-url <url>    use this Redis (redis://host:port, no AUTH) instead of starting one
  --no-throttle        turn off the stage throttling (load tests)
  --concurrency <n>    most processes per function (default: reserved concurrency, at most 4)
  --no-synth           never synthesize; use cdktf.out/ as it is
  --quiet              no request log, no function logs
  --verbose            also the functions' metric (EMF) lines
  --ttl-sweep-seconds <n>  how often expired items are deleted (1-3600, default 60)
  --no-stream          TEST ONLY: no table stream; writes reach no stream invalidator
  --break-cache        TEST ONLY: empty the cache before every request (every read misses)
  -h, --help           this text`;


export function parseOptions(argv: string[], root: string, print: (l: string) => void): TwinOptions | "help" {
  const parsed = parseCli(argv, {
    stack: { type: "string" },
    port: { type: "string" },
    "edge-port": { type: "string" },
    outputs: { type: "string" },
    seed: { type: "string" },
    "redis-url": { type: "string" },
    "no-throttle": { type: "boolean" },
    concurrency: { type: "string" },
    "no-synth": { type: "boolean" },
    quiet: { type: "boolean" },
    verbose: { type: "boolean" },
    "break-cache": { type: "boolean" },
    "ttl-sweep-seconds": { type: "string" },
    "no-stream": { type: "boolean" },
  }, USAGE);
  if (parsed === "help") return "help";
  const v = parsed.values;
  // CDKTF_OUTDIR overrides the output folder, as it does for synth.
  const outDir = synthOutDir(root);
  return {
    root,
    stack: v.stack ?? DEFAULT_STACK,
    port: intFlag("port", v.port, DEFAULT_PORT, 0, 65_535),
    edgePort: v["edge-port"] === undefined ? undefined : intFlag("edge-port", v["edge-port"], 0, 0, 65_535),
    host: "127.0.0.1",
    outDir,
    outputsFile: path.resolve(v.outputs ?? path.join(outDir, "twin-outputs.json")),
    seed: intFlag("seed", v.seed, 0, 0, 1_000),
    redisUrl: v["redis-url"],
    throttle: !v["no-throttle"],
    synth: !v["no-synth"],
    concurrency: v.concurrency === undefined ? undefined : intFlag("concurrency", v.concurrency, 1, 1, 64),
    quiet: !!v.quiet,
    verbose: !!v.verbose,
    breakCache: !!v["break-cache"],
    ttlSweepSeconds: intFlag("ttl-sweep-seconds", v["ttl-sweep-seconds"], 60, 1, 3_600),
    stream: !v["no-stream"],
    print,
  };
}

async function main(): Promise<number> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true"; // dynalite's client
  const print = (l: string) => process.stdout.write(`${l}\n`);
  const fail = (msg: string) => process.stderr.write(`error: ${msg}\n`);
  let opts: TwinOptions | "help";
  try {
    opts = parseOptions(process.argv.slice(2), packageRoot(), print);
  } catch (err) {
    return reportError(err);
  }
  if (opts === "help") return 0;
  const twin = new Twin(opts);
  let signalled: NodeJS.Signals | undefined;
  let signalledAt = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    if (signalled) {
      // The same Ctrl-C relayed by npm or a shell arrives at once: ignore it. A later one means
      // "stop waiting": exit now (function processes and redis-server still stop on their own
      // when the twin is gone).
      if (Date.now() - signalledAt < 1_000) return;
      process.stderr.write("error: interrupted twice; exiting now\n");
      process.exit(1);
    }
    signalled = sig;
    signalledAt = Date.now();
    print(`stopping (${sig})…`);
    twin.stop().then(
      () => {
        print("stopped");
        process.exit(0);
      },
      (err) => {
        fail(`while stopping: ${(err as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.on("SIGHUP", onSignal);
  process.on("uncaughtException", (err) => {
    fail(`unexpected: ${err.stack ?? err.message}`);
    twin.stop().finally(() => process.exit(1));
  });

  try {
    await twin.start();
  } catch (err) {
    await twin.stop();
    await twin.release(); // whatever start() acquired after stop() began
    if (signalled || isStopped(err)) return new Promise<number>(() => undefined); // onSignal exits
    fail(err instanceof TwinError ? err.message : err instanceof Error ? err.message : String(err));
    return 1;
  }
  return new Promise<number>(() => undefined); // runs until a signal
}

main().then((code) => process.exit(code));
