/**
 * Runs real `terraform init/validate/plan` on synthesized stacks without network or AWS credentials.
 *
 *   const stack = prepareStack("cdktf.out/stacks/products-dev");
 *   expectOk(await runTerraform(["init", "-input=false"], stack.dir), stack.name);
 *
 * See help/testing-offline.md for the mirror search order and what the override file contains.
 */
import { spawn } from "child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "fs";
import * as os from "os";
import * as path from "path";

/** Environment variable naming a provider mirror directory; checked before the conventional locations. */
export const MIRROR_ENV = "CACHEFRONT_TF_MIRROR";

/** The provider every stack uses; its version is pinned by @cdktf/provider-aws 20.1.0. */
export const AWS_PROVIDER = {
  address: "registry.terraform.io/hashicorp/aws",
  version: "5.100.0",
} as const;

/** Fake static credentials in AWS's documented example format: they never authenticate anywhere. */
export const FAKE_ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE";
export const FAKE_SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/** Name of the override file the harness adds to its copy of a stack (never to the synthesized output). */
export const OVERRIDE_FILE = "harness_override.tf.json";

/**
 * Where a provider mirror is looked for when {@link MIRROR_ENV} is unset or unusable, in order.
 * `/opt/tf-plugins` is where CI images put it; the others are Terraform's own implied local mirror
 * directories on Linux/macOS, so a mirror a developer already uses is picked up too.
 */
export function conventionalMirrorLocations(home: string = os.homedir()): string[] {
  return [
    "/opt/tf-plugins",
    path.join(home, ".terraform.d", "plugins"),
    path.join(home, ".local", "share", "terraform", "plugins"),
    "/usr/local/share/terraform/plugins",
    "/usr/share/terraform/plugins",
  ];
}

/** Terraform's name of this machine's platform, e.g. `linux_amd64`. */
export function terraformPlatform(): string {
  const arch: Record<string, string> = { x64: "amd64", arm64: "arm64", ia32: "386", arm: "arm" };
  const platform = process.platform === "win32" ? "windows" : process.platform;
  return `${platform}_${arch[process.arch] ?? process.arch}`;
}

/**
 * True when `dir` is a filesystem mirror holding the AWS provider at {@link AWS_PROVIDER}.version for
 * this platform, unpacked (`<addr>/<version>/<platform>/`) or packed (`<addr>/terraform-provider-aws_<version>_<platform>.zip`).
 * The platform is checked, not just the version, because a mirror built for another OS would make
 * init fail later with a less obvious message.
 */
export function isProviderMirror(dir: string): boolean {
  const providerDir = path.join(dir, ...AWS_PROVIDER.address.split("/"));
  const platform = terraformPlatform();
  return (
    isDirectory(path.join(providerDir, AWS_PROVIDER.version, platform)) ||
    existsSync(path.join(providerDir, `terraform-provider-aws_${AWS_PROVIDER.version}_${platform}.zip`))
  );
}

/**
 * The provider mirror to install the AWS provider from: {@link MIRROR_ENV} when it points at a
 * usable mirror, else the first usable {@link conventionalMirrorLocations}; undefined when there is
 * none, and the harness then falls back to a normal registry init (which needs network).
 */
export function findProviderMirror(
  env: NodeJS.ProcessEnv = process.env,
  candidates: readonly string[] = conventionalMirrorLocations(),
): string | undefined {
  const fromEnv = env[MIRROR_ENV];
  const ordered = fromEnv ? [path.resolve(fromEnv), ...candidates] : [...candidates];
  return ordered.find(isProviderMirror);
}

/** What to tell a developer whose init failed because no mirror was found. */
export function noMirrorHint(env: NodeJS.ProcessEnv = process.env): string {
  const searched = [env[MIRROR_ENV] ? `${MIRROR_ENV}=${env[MIRROR_ENV]}` : `${MIRROR_ENV} (unset)`, ...conventionalMirrorLocations()];
  return (
    `no local mirror of ${AWS_PROVIDER.address} ${AWS_PROVIDER.version} for ${terraformPlatform()} was found, so init used the registry ` +
    `(needs network). Searched: ${searched.join(", ")}. See help/testing-offline.md.`
  );
}

/**
 * Terraform CLI configuration for the harness. With a mirror, the AWS provider comes only from it
 * and every other provider from its registry; without one, everything comes from the registry.
 *
 * Measured with Terraform 1.11.4 and the 675 MB unpacked mirror: init symlinks
 * `.terraform/providers/.../linux_amd64` straight to the mirror (0.6 s per stack), so nothing is copied
 * per stack and the plugin cache gains nothing there. The cache is still set because it is what keeps
 * a packed (zip) mirror from being extracted, or the registry fallback from downloading, once per stack.
 * It lives in the harness's temp dir, so a cache entry never outlives the mirror it links to.
 */
export function cliConfig(mirror: string | undefined, pluginCacheDir: string): string {
  const lines = [
    `plugin_cache_dir = ${hclString(pluginCacheDir)}`,
    // The stack copies are throwaway: letting the cache satisfy init without lock file checksums
    // is what lets the second stack reuse what the first installed (Terraform >= 1.4 refuses otherwise).
    "plugin_cache_may_break_dependency_lock_file = true",
  ];
  if (mirror) lines.push(...mirrorInstallation(mirror));
  return lines.join("\n") + "\n";
}

/**
 * The `provider_installation` block that takes the AWS provider from `mirror` only and every other
 * provider from its registry: the part of the harness's configuration `cdktf diff`/`deploy` can use
 * too (`npm run plan -- --print-cli-config`, help/air-gapped.md).
 */
export function mirrorInstallation(mirror: string): string[] {
  return [
    "provider_installation {",
    "  filesystem_mirror {",
    `    path    = ${hclString(mirror)}`,
    `    include = [${hclString(AWS_PROVIDER.address)}]`,
    "  }",
    "  direct {",
    `    exclude = [${hclString(AWS_PROVIDER.address)}]`,
    "  }",
    "}",
  ];
}

/** One harness session: its temp root, CLI config and the env terraform runs with. */
export interface HarnessSession {
  /** Temp folder holding everything the session writes. */
  readonly root: string;
  /** Provider mirror in use, or undefined for a registry init. */
  readonly mirror: string | undefined;
  /** The CLI config file written for this session (never ~/.terraformrc). */
  readonly cliConfigFile: string;
  /** Environment of every terraform command. */
  readonly env: NodeJS.ProcessEnv;
}

let session: HarnessSession | undefined;

/** The current session, created on first use: a temp dir with the CLI config and plugin cache. */
export function harnessSession(): HarnessSession {
  if (session) return session;
  const root = mkdtempSync(path.join(os.tmpdir(), "cachefront-tf-"));
  const mirror = findProviderMirror();
  const pluginCacheDir = path.join(root, "plugin-cache");
  mkdirSync(pluginCacheDir);
  const cliConfigFile = path.join(root, "terraform.rc");
  writeFileSync(cliConfigFile, cliConfig(mirror, pluginCacheDir));
  session = { root, mirror, cliConfigFile, env: terraformEnv(cliConfigFile) };
  return session;
}

/** Removes everything the current session wrote. */
export function disposeHarnessSession(): void {
  if (!session) return;
  rmSync(session.root, { recursive: true, force: true });
  session = undefined;
}

/**
 * Ends the session and deletes `dirs` (a test's synthesized output), unless CACHEFRONT_TF_KEEP is
 * set: then both are kept for inspection and their paths printed.
 */
export function disposeUnlessKept(...dirs: string[]): void {
  if (process.env.CACHEFRONT_TF_KEEP) {
    process.stderr.write(`kept (CACHEFRONT_TF_KEEP): ${[...dirs, harnessSession().root].join(" and ")}\n`);
    return;
  }
  disposeHarnessSession();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}

/**
 * The environment of terraform commands: our CLI config, no prompts, no version check.
 * Variables that would redirect or alter the runs (a user's CLI args, data dir, plugin cache,
 * workspace) are dropped, and so are AWS credential variables, so a plan can never reach a real
 * account even if the override were wrong.
 */
export function terraformEnv(cliConfigFile: string, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  const dropped = /^(TF_CLI_ARGS.*|TF_DATA_DIR|TF_PLUGIN_CACHE_DIR|TF_WORKSPACE|TF_CLI_CONFIG_FILE|TERRAFORM_CONFIG|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|AWS_SECURITY_TOKEN|AWS_PROFILE|AWS_DEFAULT_PROFILE|AWS_ROLE_ARN|AWS_WEB_IDENTITY_TOKEN_FILE|AWS_CONTAINER_CREDENTIALS_.*)$/;
  for (const [k, v] of Object.entries(base)) if (!dropped.test(k)) env[k] = v;
  return {
    ...env,
    TF_CLI_CONFIG_FILE: cliConfigFile,
    TF_IN_AUTOMATION: "1",
    TF_INPUT: "0",
    CHECKPOINT_DISABLE: "1",
    AWS_EC2_METADATA_DISABLED: "true",
  };
}

/** A stack copied into the session's temp dir, ready for terraform. */
export interface PreparedStack {
  /** Stack name (its folder name under `stacks/`). */
  readonly name: string;
  /** The copy terraform runs in. */
  readonly dir: string;
  /** Where the local backend keeps state (nothing is applied, so normally never written). */
  readonly statePath: string;
  /** The override written next to the copy's cdk.tf.json. */
  readonly override: OverrideJson;
}

/** Shape of the override file. */
export interface OverrideJson {
  provider: { aws: Array<Record<string, unknown>> };
  terraform: { backend: { local: { path: string } } };
  /** Remote state the stack reads (cross-stack references), pointed at local stand-ins. */
  data?: { terraform_remote_state: Record<string, { backend: "local"; config: { path: string } }> };
}

/**
 * A plausible value for a cross-stack output of cdktf (`cross-stack-output-<type><logical id><attr>`):
 * ids in the shape AWS gives them, so a plan sees what it would see after the upstream stack's apply.
 */
export function fakeOutputValue(name: string): string {
  const ids: Array<[RegExp, string]> = [
    [/^cross-stack-output-aws_vpc_endpoint.*prefix_list_id$/, "pl-0123456789abcdef0"],
    [/^cross-stack-output-aws_vpc[A-Za-z]/, "vpc-0123456789abcdef0"],
    [/^cross-stack-output-aws_subnet/, "subnet-0123456789abcdef0"],
    [/^cross-stack-output-aws_security_group/, "sg-0123456789abcdef0"],
    [/^cross-stack-output-aws_route_table/, "rtb-0123456789abcdef0"],
    [/arn$/, "arn:aws:iam::123456789012:role/fake"],
  ];
  return ids.find(([re]) => re.test(name))?.[1] ?? `fake-${name.slice(-24)}`;
}

/**
 * Terraform state (format 4) holding only `outputs`: what a stack that reads another stack's
 * outputs through `terraform_remote_state` needs to plan, with no apply of the upstream stack.
 */
export function outputsOnlyState(outputNames: readonly string[]): string {
  const outputs = Object.fromEntries(outputNames.map((n) => [n, { value: fakeOutputValue(n), type: "string" }]));
  return JSON.stringify({ version: 4, terraform_version: "1.11.4", serial: 1, lineage: "cachefront-harness", outputs, resources: [] }, null, 2) + "\n";
}

/**
 * The override for a synthesized stack: one entry per AWS provider configuration the stack
 * declares, with the same alias (Terraform merges override provider blocks by name and alias, and
 * rejects an override for a configuration that does not exist), adding fake credentials and
 * turning off every check that would call AWS. Region and all other settings come from the stack.
 * The `terraform.backend` block replaces whatever backend the stack declares (e.g. S3).
 */
export function overrideFor(stackJson: { provider?: Record<string, unknown> }, statePath: string): OverrideJson {
  const declared = stackJson.provider?.aws;
  const configs: Array<Record<string, unknown>> = Array.isArray(declared) ? declared : declared ? [declared as Record<string, unknown>] : [];
  if (configs.length === 0) throw new Error("the stack declares no aws provider; nothing to point at fake credentials");
  const aws = configs.map((c) => ({
    ...(typeof c.alias === "string" ? { alias: c.alias } : {}),
    access_key: FAKE_ACCESS_KEY,
    secret_key: FAKE_SECRET_KEY,
    skip_credentials_validation: true,
    skip_requesting_account_id: true,
    skip_metadata_api_check: true,
    skip_region_validation: true,
  }));
  return { provider: { aws }, terraform: { backend: { local: { path: statePath } } } };
}

/**
 * Copies a synthesized stack folder (`cdk.tf.json` and `assets/`, never a `.terraform` folder) into the session's temp dir and
 * writes {@link OVERRIDE_FILE} into the copy only. Asset paths in cdk.tf.json are relative to the
 * stack folder, so they resolve the same in the copy.
 */
export function prepareStack(stackDir: string): PreparedStack {
  const main = path.join(stackDir, "cdk.tf.json");
  if (!existsSync(main)) throw new Error(`${stackDir} has no cdk.tf.json; is it a synthesized stack folder?`);
  const name = path.basename(path.resolve(stackDir));
  const dir = path.join(harnessSession().root, "stacks", name);
  rmSync(dir, { recursive: true, force: true });
  // A `.terraform` folder left by `cdktf diff`/`deploy` in the synthesized output records that run's
  // backend; copied along, init would stop at "Backend configuration changed".
  cpSync(stackDir, dir, { recursive: true, filter: (src) => path.basename(src) !== ".terraform" });
  const statePath = path.join(dir, "terraform.tfstate");
  const stackJson = JSON.parse(readFileSync(main, "utf8"));
  const override = overrideFor(stackJson, statePath);
  // Stacks whose outputs this one reads are synthesized beside it: their declared outputs, with
  // plausible values, stand in for the state their apply would leave.
  const remote = Object.keys(stackJson.data?.terraform_remote_state ?? {});
  if (remote.length > 0) {
    override.data = { terraform_remote_state: {} };
    for (const input of remote) {
      const from = /^cross-stack-reference-input-(.+)$/.exec(input)?.[1];
      const upstream = from && path.join(path.dirname(path.resolve(stackDir)), from, "cdk.tf.json");
      if (!upstream || !existsSync(upstream)) throw new Error(`${name} reads the outputs of ${from ?? input}, which is not synthesized beside it`);
      const outputs = Object.keys(JSON.parse(readFileSync(upstream, "utf8")).output ?? {});
      const file = path.join(dir, `upstream-${from}.tfstate`);
      writeFileSync(file, outputsOnlyState(outputs));
      override.data.terraform_remote_state[input] = { backend: "local", config: { path: file } };
    }
  }
  writeFileSync(path.join(dir, OVERRIDE_FILE), JSON.stringify(override, null, 2) + "\n");
  return { name, dir, statePath, override };
}

/** Result of one terraform command. */
export interface TerraformResult {
  readonly args: readonly string[];
  readonly cwd: string;
  /** Exit code; -1 when terraform could not be started or was killed. */
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Wall-clock milliseconds. */
  readonly ms: number;
}

/**
 * Runs `terraform <args>` in `cwd` with the session's env (and `-no-color`, so failures read well
 * in test output). Never rejects: a missing binary or a timeout comes back as code -1 with the reason in stderr.
 */
export function runTerraform(args: readonly string[], cwd: string, timeoutMs = 300_000): Promise<TerraformResult> {
  const fullArgs = args.includes("-no-color") ? [...args] : [...args, "-no-color"];
  const start = Date.now();
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let extra = "";
    const child = spawn("terraform", fullArgs, { cwd, env: harnessSession().env, stdio: ["ignore", "pipe", "pipe"] });
    const timer = setTimeout(() => {
      extra += `\n[harness] terraform ${fullArgs.join(" ")} killed after ${timeoutMs} ms`;
      child.kill("SIGTERM");
    }, timeoutMs);
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    let settled = false;
    const finish = (code: number) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({
        args: fullArgs,
        cwd,
        code,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8") + extra,
        ms: Date.now() - start,
      });
    };
    child.on("error", (e: NodeJS.ErrnoException) => {
      extra += e.code === "ENOENT" ? "\n[harness] terraform is not on PATH (Terraform >= 1.5 is needed)" : `\n[harness] ${e.message}`;
      finish(-1);
    });
    child.on("close", (code) => finish(code ?? -1));
  });
}

/**
 * Throws unless `result` succeeded. The message carries the command, stack, folder and terraform's
 * stderr (where its diagnostics go); the end of stdout only when stderr is empty.
 */
export function expectOk(result: TerraformResult, stack: string): TerraformResult {
  if (result.code === 0) return result;
  const stderr = result.stderr.trim();
  const detail = stderr
    ? `--- stderr ---\n${stderr}`
    : `--- stderr empty; stdout (last 40 lines) ---\n${result.stdout.trim().split("\n").slice(-40).join("\n")}`;
  throw new Error(`terraform ${result.args.join(" ")} failed for stack "${stack}" (exit ${result.code}, in ${result.cwd})\n${detail}`);
}

/**
 * A limiter: `limit(fn)` runs `fn` once fewer than `max` limited calls are running. With `max = 1`
 * it is a mutex. Inits go through one because the plugin cache is not safe for concurrent writers.
 */
export function limiter(max: number): <R>(fn: () => Promise<R>) => Promise<R> {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async <R>(fn: () => Promise<R>) => {
    // A finishing call hands its slot straight to the next waiter, so a newcomer can never slip in between.
    if (running >= max) await new Promise<void>((resolve) => waiting.push(resolve));
    else running++;
    try {
      return await fn();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}
function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** An HCL string literal; `${` and `%{` are escaped so a path is never read as a template. */
function hclString(s: string): string {
  return JSON.stringify(s.split(path.sep).join("/")).replace(/([$%])\{/g, (_m, c: string) => `${c}${c}{`);
}

/** What `terraform show -json tfplan` says of one resource. */
export interface PlannedChange {
  readonly address: string;
  readonly mode: string;
  readonly type: string;
  readonly change: { readonly actions: string[]; readonly before?: unknown; readonly after?: unknown };
}

/** A `terraform show -json` plan (the parts the tests read). */
export interface PlanJson {
  readonly resource_changes?: PlannedChange[];
  readonly planned_values?: { root_module?: { resources?: Array<{ address: string; mode: string; type: string; name: string; schema_version?: number; values: Record<string, unknown> }> } };
  readonly [key: string]: unknown;
}

/** Steps of one offline plan and, when they all passed, the plan. */
export interface OfflinePlan {
  readonly steps: TerraformResult[];
  /** Set when a step failed (or the harness itself did); the message carries terraform's stderr. */
  readonly error?: Error;
  readonly plan?: PlanJson;
}

/**
 * init → validate (unless `options.validate` is false) → plan → show of a synthesized stack folder, offline; never rejects. `init`
 * serializes inits (the plugin cache is not safe for concurrent writers); `state`, when given, is
 * written as the stack's local state first (a plan of a change rather than of a creation).
 */
export async function planOffline(
  stackDir: string,
  init: <R>(fn: () => Promise<R>) => Promise<R>,
  state?: object,
  options: { readonly validate?: boolean } = {},
): Promise<OfflinePlan> {
  const steps: TerraformResult[] = [];
  const step = async (run: () => Promise<TerraformResult>) => {
    const r = await run();
    steps.push(r);
    return expectOk(r, path.basename(stackDir));
  };
  try {
    const prepared = prepareStack(stackDir);
    const tf = (args: string[]) => () => runTerraform(args, prepared.dir);
    try {
      await step(() => init(tf(["init", "-input=false"])));
    } catch (e) {
      throw harnessSession().mirror ? e : new Error(`${(e as Error).message}\n--- harness ---\n${noMirrorHint()}`);
    }
    // After init: init "migrates" a state already at the backend's path onto itself and truncates it.
    if (state) writeFileSync(prepared.statePath, JSON.stringify(state));
    // plan validates too; a separate validate only makes its diagnostics clearer.
    if (options.validate ?? true) await step(tf(["validate"]));
    await step(tf(["plan", "-input=false", "-lock=false", "-refresh=false", "-out=tfplan"]));
    const shown = await step(tf(["show", "-json", "tfplan"]));
    return { steps, plan: JSON.parse(shown.stdout) as PlanJson };
  } catch (e) {
    return { steps, error: e as Error };
  }
}

/** `terraform providers schema -json` of a prepared (initialized) stack folder: the AWS provider's resource schemas. */
export async function awsResourceSchemas(dir: string): Promise<Record<string, { version: number; block: SchemaBlock }>> {
  const r = expectOk(await runTerraform(["providers", "schema", "-json"], dir), path.basename(dir));
  const all = JSON.parse(r.stdout) as { provider_schemas: Record<string, { resource_schemas: Record<string, { version: number; block: SchemaBlock }> }> };
  return all.provider_schemas[AWS_PROVIDER.address].resource_schemas;
}

/** A resource schema's block (the parts {@link stateFromPlan} reads). */
export interface SchemaBlock {
  readonly attributes?: Record<string, { type: unknown }>;
  readonly block_types?: Record<string, { nesting_mode: string; block: SchemaBlock }>;
}

/**
 * The local state a successful apply of `plan` would leave, for planning the next configuration
 * against it offline: every managed resource with its planned values, and each value known only
 * after apply (ids, ARNs, endpoints, generated secrets) filled with a placeholder of its type.
 * Nothing here is real; it only lets Terraform and the provider diff one configuration against
 * the previous one.
 */
export function stateFromPlan(plan: PlanJson, schemas: Record<string, { version: number; block: SchemaBlock }>): object {
  const unknownOf = new Map((plan.resource_changes ?? []).map((c) => [c.address, (c.change as { after_unknown?: unknown }).after_unknown]));
  const resources = (plan.planned_values?.root_module?.resources ?? []).filter((r) => r.mode === "managed").map((r) => {
    const schema = schemas[r.type];
    if (!schema) throw new Error(`no schema for ${r.type}`);
    const attributes = fillUnknown(r.values, unknownOf.get(r.address), schema.block, r.address);
    return {
      mode: "managed",
      type: r.type,
      name: r.name,
      provider: `provider["${AWS_PROVIDER.address}"]`,
      instances: [{ schema_version: schema.version, attributes, sensitive_attributes: [] }],
    };
  });
  return { version: 4, terraform_version: "1.11.4", serial: 1, lineage: "00000000-0000-0000-0000-000000000000", outputs: {}, resources };
}

function fillUnknown(values: unknown, unknown: unknown, block: SchemaBlock, where: string): Record<string, unknown> {
  const v = { ...((values as Record<string, unknown>) ?? {}) };
  const u = (unknown ?? {}) as Record<string, unknown>;
  for (const [name, attr] of Object.entries(block.attributes ?? {})) {
    if (u[name] === true) v[name] = placeholder(attr.type, `${where}.${name}`);
    else if (v[name] === undefined) v[name] = null;
  }
  for (const [name, nested] of Object.entries(block.block_types ?? {})) {
    const list = Array.isArray(v[name]) ? (v[name] as unknown[]) : v[name] ? [v[name]] : [];
    const ul = Array.isArray(u[name]) ? (u[name] as unknown[]) : [];
    const filled = list.map((e, i) => fillUnknown(e, ul[i], nested.block, `${where}.${name}[${i}]`));
    v[name] = nested.nesting_mode === "single" ? filled[0] ?? null : filled;
  }
  return v;
}

/**
 * A value of Terraform type `type`: strings name where they stand (ARNs look like ARNs), collections
 * hold one element; every one contains "placeholder", so a diff against it can be told from a real one
 * ({@link isPlaceholderDiff}).
 */
function placeholder(type: unknown, where: string): unknown {
  if (type === "string") {
    const attr = where.split(".").pop()!;
    if (attr === "arn" || attr.endsWith("_arn")) return `arn:aws:elasticache:us-east-1:123456789012:placeholder-${where.replace(/[^A-Za-z0-9-]+/g, "-")}`;
    return `placeholder-${where.replace(/[^A-Za-z0-9-]+/g, "-")}`.slice(0, 200);
  }
  if (type === "number") return 0;
  if (type === "bool") return false;
  if (Array.isArray(type)) {
    const [kind, inner] = type as [string, unknown];
    if (kind === "list" || kind === "set") return [placeholder(inner, `${where}[0]`)];
    if (kind === "map") return { placeholder: `placeholder-${where.replace(/[^A-Za-z0-9-]+/g, "-")}` };
    if (kind === "object") return Object.fromEntries(Object.entries(inner as Record<string, unknown>).map(([k, t]) => [k, placeholder(t, `${where}.${k}`)]));
  }
  return null;
}

/**
 * True when the difference between `before` (from a state made by {@link stateFromPlan}) and `after`
 * is only that state's making: a placeholder where the previous plan knew no value, or null where the
 * provider now reports its empty default. Anything else is a real change of the configuration.
 */
export function isPlaceholderDiff(before: unknown, after: unknown): boolean {
  const empty = (v: unknown) => v === null || v === undefined || v === "" || (Array.isArray(v) && v.length === 0) || (typeof v === "object" && v !== null && Object.keys(v).length === 0);
  if (JSON.stringify(before) === JSON.stringify(after)) return true;
  if (typeof before === "string" && before.includes("placeholder")) return true;
  if (before === null || before === undefined) return empty(after);
  if (Array.isArray(before) && Array.isArray(after)) return before.length === after.length && before.every((b, i) => isPlaceholderDiff(b, after[i]));
  if (Array.isArray(before) || Array.isArray(after)) return false;
  if (typeof before === "object" && typeof after === "object" && after !== null) {
    if (JSON.stringify(before).includes("placeholder") && Object.keys(before as object).every((k) => k === "placeholder")) return true;
    const keys = new Set([...Object.keys(before as object), ...Object.keys(after as object)]);
    return [...keys].every((k) => isPlaceholderDiff((before as Record<string, unknown>)[k], (after as Record<string, unknown>)[k]));
  }
  return false;
}

/** The actions of a planned change, an update that only differs from a made-up state counted as a no-op. */
export function effectiveActions(c: PlannedChange): string {
  const actions = c.change.actions.join(",");
  if (actions !== "update") return actions;
  return isPlaceholderDiff(c.change.before, c.change.after) ? "no-op" : "update";
}
