/**
 *   npm run plan -- <stack> [--diff]          # synth, then terraform init/validate/plan of one stack, offline
 *   npm run plan -- --print-cli-config        # the provider mirror config for TF_CLI_CONFIG_FILE (cdktf diff/deploy)
 *
 * The plan runs exactly as `npm test` and `npm run check` plan: a copy of the synthesized stack,
 * the AWS provider from the local mirror, fake credentials and a local backend, no network.
 * Exit code 0 when the plan succeeded, 1 when terraform failed, 2 on bad usage. See help/air-gapped.md.
 */
import * as path from "path";
import { packageRoot } from "../../modules";
import {
  conventionalMirrorLocations, disposeHarnessSession, expectOk, findProviderMirror, harnessSession, mirrorInstallation, noMirrorHint, prepareStack, runTerraform,
} from "../lib/terraform-harness";
import { stacksOf, synthesize } from "../check/run";
import { parseCli, reportError, UsageError } from "../lib/cli";

const USAGE = `usage: npm run plan -- <stack> [options]
       npm run plan -- --print-cli-config
  <stack>              the stack to plan (npm run plan -- --list shows them)
  --diff               print the whole plan, every attribute (default: one line per resource and the summary)
  --list               list the stacks of the app and exit
  --app <file>         compiled app to synthesize (default: dist/main.js)
  --outdir <dir>       synthesize into <dir> (default: cdktf.out)
  --skip-synth         plan what is already in --outdir
  --print-cli-config   print a Terraform CLI configuration that installs the AWS provider from the local
                       mirror, for TF_CLI_CONFIG_FILE when running cdktf diff/deploy without network`;

/** What {@link runPlan} does. */
export interface PlanOptions {
  readonly root: string;
  readonly app: string;
  readonly outdir: string;
  readonly stack: string;
  readonly diff: boolean;
  readonly skipSynth: boolean;
  /** Output lines (default stdout). */
  readonly log?: (text: string) => void;
}

/** The Terraform CLI configuration `--print-cli-config` prints, or why there is none. */
export function cliConfigForMirror(
  env: NodeJS.ProcessEnv = process.env,
  candidates: readonly string[] = conventionalMirrorLocations(),
): { ok: true; text: string } | { ok: false; reason: string } {
  const mirror = findProviderMirror(env, candidates);
  if (!mirror) return { ok: false, reason: noMirrorHint(env) };
  return {
    ok: true,
    text: [
      `# AWS provider from the local mirror ${mirror}, every other provider from its registry.`,
      "# Use: TF_CLI_CONFIG_FILE=<this file> npx cdktf diff <stack> (help/air-gapped.md)",
      ...mirrorInstallation(mirror),
    ].join("\n") + "\n",
  };
}

/** Synthesizes (unless asked not to), then init, validate and plan one stack with the harness. 0 ok, 1 failed, 2 bad usage. */
export async function runPlan(opts: PlanOptions): Promise<number> {
  const log = opts.log ?? ((t: string) => process.stdout.write(`${t}\n`));
  if (!opts.skipSynth) {
    const s = synthesize(opts);
    if (!s.ok) {
      log(`synth FAILED:\n${s.output.trim()}`);
      return 1;
    }
  }
  const stacks = stacksOf(opts.outdir);
  if (!stacks.includes(opts.stack)) throw new UsageError(`no stack ${JSON.stringify(opts.stack)} in ${opts.outdir}; the app has: ${stacks.join(", ")}`);
  try {
    const session = harnessSession();
    log(`plan ${opts.stack}: AWS provider from ${session.mirror ?? "the registry (no local mirror found: needs network)"}; fake credentials, nothing reaches AWS`);
    const { dir } = prepareStack(path.join(opts.outdir, "stacks", opts.stack));
    const tf = async (args: string[]) => expectOk(await runTerraform(args, dir), opts.stack);
    try {
      await tf(["init", "-input=false"]);
    } catch (e) {
      throw session.mirror ? e : new Error(`${(e as Error).message}\n${noMirrorHint()}`);
    }
    await tf(["validate"]);
    const planned = await tf(["plan", "-input=false", "-lock=false", "-refresh=false", "-out=tfplan"]);
    if (opts.diff) {
      log((await tf(["show", "tfplan"])).stdout.trimEnd());
    } else {
      const lines = planned.stdout.split("\n");
      log(lines.filter((l) => /^\s*# \S+ (will|must) be /.test(l)).map((l) => `  ${l.trim().replace(/^# /, "")}`).join("\n"));
      log(lines.find((l) => /^(Plan:|No changes)/.test(l.trim()))?.trim() ?? "(terraform printed no summary)");
    }
    return 0;
  } catch (e) {
    log((e as Error).message);
    return 1;
  } finally {
    disposeHarnessSession();
  }
}

async function main(argv: string[]): Promise<number> {
  const args = parseCli(argv, {
    diff: { type: "boolean" },
    list: { type: "boolean" },
    app: { type: "string" },
    outdir: { type: "string" },
    "skip-synth": { type: "boolean" },
    "print-cli-config": { type: "boolean" },
  }, USAGE, true);
  if (args === "help") return 0;
  const v = args.values;
  if (v["print-cli-config"]) {
    const c = cliConfigForMirror();
    if (!c.ok) throw new Error(c.reason);
    process.stdout.write(c.text);
    return 0;
  }
  const root = packageRoot();
  const outdir = path.resolve(v.outdir ?? path.join(root, "cdktf.out"));
  const app = path.resolve(v.app ?? path.join(root, "dist", "main.js"));
  if (v.list) {
    if (!v["skip-synth"]) synthesize({ root, app, outdir });
    process.stdout.write(`${stacksOf(outdir).join("\n")}\n`);
    return 0;
  }
  if (args.positionals.length !== 1) throw new UsageError("name exactly one stack (see --help)");
  return runPlan({ root, app, outdir, stack: args.positionals[0], diff: !!v.diff, skipSynth: !!v["skip-synth"] });
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.exitCode = reportError(e);
    },
  );
}
