/**
 *   npm run cost                          # tsc, synth when cdktf.out is missing or stale, price every stack
 *   npm run cost -- --stack session-store-prod --hit-ratio measured
 *   node dist/tools/cost/main.js --help
 *
 * Exit code 0 when every billable resource was priced; 1 when something was not (an unknown
 * billable type, or a node type the table has no price for: the totals are lower bounds);
 * 2 on bad arguments or when the stacks cannot be synthesized. See help/cost.md.
 */
import * as path from "path";
import { parseArgs } from "util";
import { packageRoot } from "../../modules";
import { stacksOf } from "../check/run";
import { staleness, synthesize, withOutDirLock } from "../twin/synth";
import { CostRunOptions, runCost } from "./run";
import { DEFAULT_USAGE, loadUsageFile, mergeUsage, UsageOverride } from "./usage";

const USAGE = `usage: npm run cost -- [options]      (or: node dist/tools/cost/main.js [options])

Monthly cost of every synthesized stack × environment under a usage profile, with each cache's
break-even against the DynamoDB reads it removes. Synthesizes first when cdktf.out is missing or stale.

  --stack <a,b>          only these stacks (default: all); may be repeated
  --out <file>           the JSON report (default: cdktf.out/cost-report.json)
  --json                 print the JSON report instead of the table
  --usage <file.json>    usage profile overrides (any subset of the profile; see help/cost.md)
  --region <region>      price in this region instead of each stack's provider region
  --rps <n>              average API requests per second (default ${DEFAULT_USAGE.requestsPerSecond}, seed 000)
  --hit-ratio <n|measured>   Redis/Valkey hit ratio 0-1, or the benchmark's measured one
  --dax-hit-ratio <n>    DAX hit ratio 0-1
  --outdir <dir>         the synthesized output (default: cdktf.out)
  --no-synth             never synthesize; fail when the output is missing
  --write-doc            rewrite the generated figures in help/cost.md
  -h, --help             this text`;

/** The parsed command line: run options plus what main does before running. */
export interface CostCli extends CostRunOptions {
  readonly synth: boolean;
  readonly help: boolean;
}

/** Parses the command line; throws with a message on a bad argument. */
export function parseCostArgs(argv: readonly string[], root: string): CostCli {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      stack: { type: "string", multiple: true },
      out: { type: "string" },
      json: { type: "boolean" },
      usage: { type: "string" },
      region: { type: "string" },
      rps: { type: "string" },
      "hit-ratio": { type: "string" },
      "dax-hit-ratio": { type: "string" },
      outdir: { type: "string" },
      "no-synth": { type: "boolean" },
      "write-doc": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  const outdir = path.resolve(root, values.outdir ?? "cdktf.out");
  let usage = values.usage ? loadUsageFile(path.resolve(values.usage)) : DEFAULT_USAGE;
  const flags: Record<string, unknown> = {};
  const number = (flag: string, v: string) => {
    const n = Number(v);
    if (v.trim() === "" || !Number.isFinite(n)) throw new Error(`--${flag} must be a number, got ${JSON.stringify(v)}`);
    return n;
  };
  if (values.rps !== undefined) flags.requestsPerSecond = number("rps", values.rps);
  if (values["hit-ratio"] !== undefined) flags.hitRatio = values["hit-ratio"] === "measured" ? "measured" : number("hit-ratio", values["hit-ratio"]);
  if (values["dax-hit-ratio"] !== undefined) flags.daxHitRatio = number("dax-hit-ratio", values["dax-hit-ratio"]);
  usage = mergeUsage(usage, flags as UsageOverride, "flags");
  return {
    root,
    outdir,
    stacks: (values.stack ?? []).flatMap((s) => s.split(",")).map((s) => s.trim()).filter(Boolean),
    usage,
    region: values.region,
    out: path.resolve(root, values.out ?? path.join(path.relative(root, outdir), "cost-report.json")),
    json: !!values.json,
    writeDoc: !!values["write-doc"],
    synth: !values["no-synth"],
    help: !!values.help,
  };
}

async function main(argv: string[]): Promise<number> {
  const root = packageRoot();
  let cli: CostCli;
  try {
    cli = parseCostArgs(argv, root);
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message.split("\n")[0]} (see --help)\n`);
    return 2;
  }
  if (cli.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const stale = staleness(root, cli.outdir);
  if (stale) {
    if (!cli.synth) {
      process.stderr.write(`error: ${stale} (--no-synth given)\n`);
      return 2;
    }
    process.stderr.write(`synth: ${stale}; running node dist/main.js\n`);
    try {
      await withOutDirLock(cli.outdir, () => synthesize(root, cli.outdir));
    } catch (e) {
      process.stderr.write(`error: ${(e as Error).message}\n`);
      return 2;
    }
  }
  const all = stacksOf(cli.outdir);
  const missing = cli.stacks.filter((s) => !all.includes(s));
  if (missing.length) {
    process.stderr.write(`error: no synthesized stack ${missing.join(", ")}; have ${all.join(", ")}\n`);
    return 2;
  }
  const names = cli.stacks.length ? cli.stacks : all;
  try {
    return runCost(names, cli).exitCode;
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message}\n`);
    return 2;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`cost: ${(e as Error).stack ?? e}\n`);
      process.exitCode = 2;
    },
  );
}
