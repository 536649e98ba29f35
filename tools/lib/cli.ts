/**
 * What every command-line tool here shares: flag parsing with one error style, integer flags with
 * ranges, and the exit-code convention (0 ok, 1 failed, 2 bad usage).
 *   const args = parseCli(process.argv.slice(2), { port: { type: "string" } }, USAGE);
 *   if (args === "help") return 0;   const port = intFlag("port", args.values.port, 3210, 0, 65_535);
 */
import { readFileSync } from "fs";
import * as path from "path";
import { parseArgs } from "util";

/** A mistake in how the command was called: printed as `error: …` with exit status 2. */
export class UsageError extends Error {}

/** Flags by name: a string value or a switch. */
type Options = Readonly<Record<string, { readonly type: "string" | "boolean"; readonly short?: string }>>;
/** Parsed flag values: a string or true, absent when not given. */
export type FlagValues<O extends Options> = { readonly [K in keyof O]?: O[K]["type"] extends "boolean" ? boolean : string };

/**
 * Parses `argv` strictly (unknown flags, and positionals unless `allowPositionals`, are refused with
 * a {@link UsageError} that points at `--help`); `-h`/`--help` prints `usage` and returns "help".
 */
export function parseCli<const O extends Options>(
  argv: readonly string[],
  options: O,
  usage: string,
  allowPositionals = false,
): "help" | { readonly values: FlagValues<O>; readonly positionals: readonly string[] } {
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: [...argv], options: { ...options, help: { type: "boolean", short: "h" } }, strict: true, allowPositionals }));
  } catch (err) {
    throw new UsageError(`${(err as Error).message.split("\n")[0]} (see --help)`);
  }
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return "help";
  }
  return { values: values as FlagValues<O>, positionals };
}

/** The integer value of `--<name>` (its `fallback` when absent), within [min, max]; else a {@link UsageError}. */
export function intFlag(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max) {
    throw new UsageError(`--${name} ${raw}: ${max === Number.MAX_SAFE_INTEGER ? `an integer of at least ${min}` : `an integer from ${min} to ${max}`}`);
  }
  return n;
}

/** Prints `err` as one `error:` line and returns its exit status: 2 for bad usage, else 1. */
export function reportError(err: unknown): number {
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  return err instanceof UsageError ? 2 : 1;
}

/** The synthesized output folder of the app at `root`: `CDKTF_OUTDIR`, else cdktf.json's `output`, else `cdktf.out`. */
export function synthOutDir(root: string): string {
  let outDir = "cdktf.out";
  try {
    outDir = (JSON.parse(readFileSync(path.join(root, "cdktf.json"), "utf8")) as { output?: string }).output ?? outDir;
  } catch {
    /* the default */
  }
  return path.resolve(root, process.env.CDKTF_OUTDIR || outDir);
}
