/**
 *   npm run check                      # tsc, then: synth every stack, policy pack, terraform validate + plan, reports
 *   node dist/tools/check/main.js --help
 *
 * Exit code 0 when no stack has an error-level violation and terraform validated and planned
 * every stack; 1 otherwise; 2 when the app could not be synthesized or the arguments are wrong.
 * See help/check.md.
 */
import * as path from "path";
import { packageRoot } from "../../modules";
import { CheckRunOptions, runCheck } from "./run";

const USAGE = `usage: node dist/tools/check/main.js [options]
  --app <file>         compiled app to synthesize (default: dist/main.js)
  --outdir <dir>       synthesize into <dir> (default: cdktf.out)
  --report-dir <dir>   write check-report.json and check-report.sarif there (default: .)
  --stacks <a,b>       check only these stacks (default: all)
  --no-terraform       skip terraform init/validate/plan (policy only, seconds instead of a minute)
  --skip-synth         check what is already in --outdir
  --concurrency <n>    stacks planned at once (default: 2)
  --strict             unknown outcomes of error-level rules fail too
  --today <date>       evaluation date YYYY-MM-DD for date-dependent rules (default: today)`;

/** Parses the command line; throws with the usage on a bad argument. */
export function parseArgs(argv: readonly string[], root: string): CheckRunOptions {
  const opts = {
    root,
    app: path.join(root, "dist", "main.js"),
    outdir: path.join(root, "cdktf.out"),
    reportDir: process.cwd(),
    stacks: [] as string[],
    terraform: true,
    concurrency: 2,
    strict: false,
    today: undefined as string | undefined,
    skipSynth: false,
  };
  const value = (i: number, flag: string): string => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith("--")) throw new Error(`${flag} needs a value\n${USAGE}`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case "--app": opts.app = path.resolve(value(i, a)); i++; break;
      case "--outdir": opts.outdir = path.resolve(value(i, a)); i++; break;
      case "--report-dir": opts.reportDir = path.resolve(value(i, a)); i++; break;
      case "--stacks": opts.stacks = value(i, a).split(",").map((s) => s.trim()).filter(Boolean); i++; break;
      case "--no-terraform": opts.terraform = false; break;
      case "--skip-synth": opts.skipSynth = true; break;
      case "--strict": opts.strict = true; break;
      case "--concurrency": {
        const n = Number(value(i, a));
        if (!Number.isInteger(n) || n < 1) throw new Error(`--concurrency must be a positive integer\n${USAGE}`);
        opts.concurrency = n;
        i++;
        break;
      }
      case "--today": {
        const d = value(i, a);
        if (!/^\d{4}-\d{2}-\d{2}$/.test(d)) throw new Error(`--today must be YYYY-MM-DD\n${USAGE}`);
        opts.today = d;
        i++;
        break;
      }
      case "--help": case "-h": throw new Error(USAGE);
      default: throw new Error(`unknown argument ${JSON.stringify(a)}\n${USAGE}`);
    }
  }
  return opts;
}

async function main(argv: string[]): Promise<number> {
  let opts: CheckRunOptions;
  try {
    opts = parseArgs(argv, packageRoot());
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return argv.includes("--help") || argv.includes("-h") ? 0 : 2;
  }
  const result = await runCheck(opts);
  return result.exitCode;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`check: ${(e as Error).stack ?? e}\n`);
      process.exitCode = 2;
    },
  );
}
