/**
 * The buildspecs of the pipeline's CodeBuild projects, as JSON (CodeBuild reads YAML, and JSON is
 * YAML), so nothing here needs a YAML library at synth time.
 *
 *   checkBuildspec({ terraformVersion: "1.11.4", command: "npm run check" })
 */

/** Variables a deploy build reads (set on the project, one project per stage). */
export const DEPLOY_ENV = {
  /** Space-separated stack names, in order. */
  stacks: "DEPLOY_STACKS",
  /** The pipeline's state bucket, used for every stack that declares no S3 backend of its own. */
  stateBucket: "STATE_BUCKET",
  /** Region of the state bucket. */
  stateRegion: "STATE_REGION",
  /** KMS key ARN the state objects are encrypted with. */
  stateKeyArn: "STATE_KMS_KEY_ARN",
  /** Key prefix of the state objects (`cachefront/`). */
  stateKeyPrefix: "STATE_KEY_PREFIX",
} as const;

/** Name of the override file a deploy build writes next to a stack's cdk.tf.json. */
export const BACKEND_OVERRIDE_FILE = "pipeline_backend_override.tf.json";

/** Options of both buildspecs. */
export interface BuildspecOptions {
  /** Terraform release installed in the build, e.g. `1.11.4`. */
  readonly terraformVersion: string;
  /** Node.js major version of CodeBuild's runtime (`runtime-versions`). */
  readonly nodeVersion: string;
}

/**
 * Installs Terraform from HashiCorp's releases and checks the archive against the release's
 * SHA256SUMS (fetched over TLS from the same host; verifying the signature of SHA256SUMS too would
 * need HashiCorp's GPG key in the image).
 */
function installTerraform(version: string): string[] {
  const base = `https://releases.hashicorp.com/terraform/${version}/terraform_${version}`;
  return [
    `curl -fsSL -o /tmp/terraform.zip ${base}_linux_amd64.zip`,
    `curl -fsSL -o /tmp/terraform.sums ${base}_SHA256SUMS`,
    `echo "$(grep '_linux_amd64.zip$' /tmp/terraform.sums | cut -d ' ' -f 1)  /tmp/terraform.zip" | sha256sum -c -`,
    "unzip -o -q /tmp/terraform.zip -d /usr/local/bin",
    "terraform version",
  ];
}

function buildspec(opts: BuildspecOptions, commands: readonly string[]): string {
  return JSON.stringify({
    version: "0.2",
    env: { variables: { CI: "true", CHECKPOINT_DISABLE: "1", TF_IN_AUTOMATION: "1", NPM_CONFIG_FUND: "false", NPM_CONFIG_AUDIT: "false" } },
    phases: {
      install: { "runtime-versions": { nodejs: opts.nodeVersion }, commands: installTerraform(opts.terraformVersion) },
      build: { commands: ["npm ci", ...commands] },
    },
  }, null, 2);
}

/** The check stage: `npm ci`, then the command (`npm run check`: policy pack, validate, plan). */
export function checkBuildspec(opts: BuildspecOptions & { readonly command: string }): string {
  return buildspec(opts, [opts.command]);
}

/**
 * Writes {@link BACKEND_OVERRIDE_FILE} into each stack of `DEPLOY_STACKS` that has no S3 backend of
 * its own, so its state lives in the pipeline's state bucket instead of the build container (which
 * is thrown away after the build). A stack with another remote backend is refused: guessing would
 * split its state. The outputs a stack reads from another stack's local state (a cdktf cross-stack
 * reference, `data.terraform_remote_state.cross-stack-reference-input-<stack>`) are read from that
 * stack's key in the bucket. Terraform merges `*_override.tf.json` over the configuration.
 */
export const BACKEND_OVERRIDE_SCRIPT = [
  'const fs = require("fs"), path = require("path"), env = process.env;',
  `const s3Of = (stack) => ({ bucket: env.${DEPLOY_ENV.stateBucket}, key: env.${DEPLOY_ENV.stateKeyPrefix} + stack + ".tfstate", region: env.${DEPLOY_ENV.stateRegion},`,
  `  encrypt: true, kms_key_id: env.${DEPLOY_ENV.stateKeyArn} });`,
  `for (const stack of (env.${DEPLOY_ENV.stacks} || "").split(" ").filter(Boolean)) {`,
  '  const dir = path.join("cdktf.out", "stacks", stack);',
  '  const json = JSON.parse(fs.readFileSync(path.join(dir, "cdk.tf.json"), "utf8"));',
  '  const backends = Object.keys((json.terraform || {}).backend || {});',
  '  if (backends.some((b) => b !== "local" && b !== "s3")) { console.error(stack + ": backend " + backends.join(", ") + " is neither local nor s3; refusing to move its state"); process.exit(1); }',
  '  const override = {};',
  '  if (!backends.includes("s3")) {',
  '    override.terraform = { backend: { s3: { ...s3Of(stack), use_lockfile: true } } };',
  '    console.log(stack + ": state in s3://" + override.terraform.backend.s3.bucket + "/" + override.terraform.backend.s3.key);',
  '  } else console.log(stack + ": keeps its own S3 backend");',
  '  const remote = ((json.data || {}).terraform_remote_state) || {};',
  '  for (const [name, ds] of Object.entries(remote)) {',
  '    const from = /^cross-stack-reference-input-(.+)$/.exec(name);',
  '    if (!from || ds.backend !== "local") continue;',
  '    override.data = override.data || { terraform_remote_state: {} };',
  '    override.data.terraform_remote_state[name] = { backend: "s3", config: s3Of(from[1]) };',
  '    console.log(stack + ": reads the outputs of " + from[1] + " from s3://" + s3Of(from[1]).bucket + "/" + s3Of(from[1]).key);',
  '  }',
  `  if (Object.keys(override).length > 0) fs.writeFileSync(path.join(dir, "${BACKEND_OVERRIDE_FILE}"), JSON.stringify(override, null, 2));`,
  "}",
].join("\n");

/**
 * A deploy stage: synthesize, move local state to the pipeline's state bucket, then
 * `cdktf deploy` the stage's stacks (in `DEPLOY_STACKS`) without prompting.
 */
export function deployBuildspec(opts: BuildspecOptions): string {
  return buildspec(opts, [
    "npx cdktf synth",
    `node -e ${shellQuote(BACKEND_OVERRIDE_SCRIPT)}`,
    `npx cdktf deploy $${DEPLOY_ENV.stacks} --skip-synth --auto-approve`,
  ]);
}

/** `s` as one single-quoted shell word. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'"'"'`)}'`;
}
