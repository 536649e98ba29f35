/**
 * The published package, end to end, offline:
 *
 * 1. `npm pack` (its `prepack` builds dist/package with tools/package/tsconfig.build.json);
 * 2. a fresh cdktf app in a temp dir: the tarball unpacked as
 *    node_modules/@cachefront/cdktf-dynamodb-cache, every other package a link to this repo's
 *    node_modules (cdktf, the provider, esbuild, ioredis, … — no registry, no network);
 * 3. help/examples/consumer copied in, compiled with tsc against the packaged .d.ts (node10
 *    resolution through `typesVersions`, node16 through `exports`), synthesized, and planned
 *    with the offline terraform harness.
 *
 * The app can only reach the package through its name and `exports` subpaths, so a file missing
 * from `files`, a wrong export target or a broken .d.ts fails here, not in a user's app. The guide
 * (README.md, help/) is read inside the unpacked tarball too: a link to a file that is not shipped fails.
 */
import { spawnSync } from "child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "fs";
import { builtinModules } from "module";
import { tmpdir } from "os";
import * as path from "path";
import { disposeHarnessSession, expectOk, harnessSession, prepareStack, runTerraform } from "../../tools/lib/terraform-harness";
import { readZip } from "../../tools/twin/unzip";
import { brokenLinks, markdownFiles } from "../helpers/markdown-links";

jest.setTimeout(180_000);

const ROOT = path.resolve(__dirname, "../..");
const EXAMPLE = path.join(ROOT, "help/examples/consumer");
const PKG_NAME = "@cachefront/cdktf-dynamodb-cache";
const STACK = "catalog-eu";
const KEEP = !!process.env.CACHEFRONT_TF_KEEP;

interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  files: Array<{ path: string; size: number }>;
}

let work: string; // temp root: the tarball and the app
let app: string;
let pkgDir: string; // the unpacked package inside the app
let pack: PackResult;
const timings: string[] = [];

function timed<T>(label: string, fn: () => T): T {
  const start = Date.now();
  try {
    return fn();
  } finally {
    timings.push(`${label} ${((Date.now() - start) / 1000).toFixed(1)}s`);
  }
}

/** Runs a command; on failure the error carries its output. */
function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(cmd, args, { cwd, env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024, timeout: 150_000 });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(" ")} failed in ${cwd} (exit ${r.status}${r.error ? `, ${r.error.message}` : ""})\n${r.stdout}\n${r.stderr}`);
  }
  return r.stdout;
}

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), "cachefront-package-"));
  const stdout = timed("npm pack (prepack build)", () =>
    run("npm", ["pack", "--json", "--pack-destination", work], ROOT),
  );
  pack = (JSON.parse(stdout) as PackResult[])[0];

  app = path.join(work, "app");
  const nodeModules = path.join(app, "node_modules");
  pkgDir = path.join(nodeModules, ...PKG_NAME.split("/"));
  mkdirSync(pkgDir, { recursive: true });
  // Everything but this package comes from the repo's install: peers, esbuild and the runtime
  // dependencies the bundler needs, typescript and @types/node for the app's own tsc.
  for (const entry of readdirSync(path.join(ROOT, "node_modules"))) {
    if (entry === ".package-lock.json" || entry === PKG_NAME.split("/")[0]) continue;
    symlinkSync(path.join(ROOT, "node_modules", entry), path.join(nodeModules, entry), "dir");
  }
  timed("unpack", () => run("tar", ["-xzf", path.join(work, pack.filename), "-C", pkgDir, "--strip-components=1"], work));
  for (const f of readdirSync(EXAMPLE)) cpSync(path.join(EXAMPLE, f), path.join(app, f), { recursive: true });
});

afterAll(() => {
  if (KEEP) {
    process.stderr.write(`kept (CACHEFRONT_TF_KEEP): ${work} and ${harnessSession().root}\n`);
  } else {
    disposeHarnessSession();
    if (work) rmSync(work, { recursive: true, force: true });
  }
  process.stderr.write(`package test timings: ${timings.join(", ")}\n`);
});

const packed = () => new Set(pack.files.map((f) => f.path));

describe("the npm tarball", () => {
  test("holds the compiled modules, stacks and runtime with .d.ts, the handlers' TypeScript, the guide and LICENSE, and nothing else", () => {
    const files = packed();
    for (const f of [
      "package.json",
      "README.md",
      "LICENSE",
      "help/CHANGELOG.md",
      "help/README.md",
      "help/using-the-package.md",
      "help/reference/README.md",
      "help/examples/consumer/main.ts",
      "help/examples/ci/github-actions.yml",
      "tools/bench/results/latest.svg",
      "dist/package/modules/index.js",
      "dist/package/modules/index.d.ts",
      "dist/package/modules/policy/index.js",
      "dist/package/modules/policy/index.d.ts",
      "dist/package/functions/lib/index.js",
      "dist/package/functions/lib/index.d.ts",
      "dist/package/modules/function/bundle.d.ts",
      "dist/package/stacks/base.d.ts",
      "dist/package/stacks/index.js",
      "dist/package/functions/products/contract.js",
      "functions/products/handler.ts",
      "functions/sessions/handler.ts",
      "functions/lib/runtime.ts",
      "functions/lib/cache/redis.ts",
    ]) {
      expect({ file: f, packed: files.has(f) }).toEqual({ file: f, packed: true });
    }
    const unexpected = [...files].filter(
      (f) =>
        !/^dist\/package\/(modules|stacks|functions\/lib)\/.+\.(js|d\.ts)$/.test(f) &&
        !/^dist\/package\/functions\/[a-z-]+\/contract\.(js|d\.ts)$/.test(f) &&
        !/^functions\/.+\.ts$/.test(f) &&
        !/^help\/(.+\.md|examples\/.+)$/.test(f) &&
        !["package.json", "README.md", "LICENSE", "tools/bench/results/latest.svg"].includes(f),
    );
    expect(unexpected).toEqual([]);
    // Every source file of modules/ and stacks/ is compiled into the tarball.
    for (const dir of ["modules", "stacks"]) {
      for (const src of listTs(path.join(ROOT, dir))) {
        const js = `dist/package/${path.relative(ROOT, src).split(path.sep).join("/").replace(/\.ts$/, ".js")}`;
        expect({ js, packed: files.has(js) }).toEqual({ js, packed: true });
      }
    }
    expect(pack.size).toBeLessThan(1024 * 1024);
  });

  test("the guide travels with it: every relative link of README.md and help/ finds its file and heading inside the tarball", () => {
    const pages = markdownFiles(pkgDir, ["README.md", "help"]);
    expect(pages.length).toBeGreaterThan(15);
    expect(pages).toEqual(expect.arrayContaining(["README.md", "help/README.md", "help/pipeline.md", "help/air-gapped.md", "help/examples/consumer/README.md"]));
    expect(brokenLinks(pkgDir, pages)).toEqual([]);
  });

  test("links into the package's repository name this version's tag, so they show the docs and code of what is installed", () => {
    const pkg = JSON.parse(readFileSync(path.join(pkgDir, "package.json"), "utf8"));
    const repo = pkg.repository.url.replace(/^git\+/, "").replace(/\.git$/, "");
    const stale: string[] = [];
    for (const page of markdownFiles(pkgDir, ["README.md", "help"])) {
      for (const m of readFileSync(path.join(pkgDir, page), "utf8").matchAll(new RegExp(`\\]\\(${repo}/(?:blob|tree)/([^/)\\s]+)`, "g"))) {
        if (m[1] !== `v${pkg.version}`) stale.push(`${page}: ${m[0].slice(2)}`);
      }
    }
    expect(stale).toEqual([]);
  });

  test("package.json says where it comes from; LICENSE is the Apache 2.0 text it declares", () => {
    const pkg = JSON.parse(readFileSync(path.join(pkgDir, "package.json"), "utf8"));
    expect(pkg.license).toBe("Apache-2.0");
    expect(pkg.repository).toEqual({ type: "git", url: expect.stringMatching(/^git\+https:\/\/github\.com\/[\w.-]+\/[\w.-]+\.git$/) });
    const web = pkg.repository.url.replace(/^git\+/, "").replace(/\.git$/, "");
    expect(pkg.homepage.startsWith(`${web}/`)).toBe(true);
    expect(pkg.bugs).toEqual({ url: `${web}/issues` });
    const license = readFileSync(path.join(pkgDir, "LICENSE"), "utf8");
    expect(license).toContain("Apache License");
    expect(license).toContain("Version 2.0, January 2004");
    expect(license).toContain("END OF TERMS AND CONDITIONS");
  });

  test("package.json: semver version, exports and typesVersions pointing at packed files, peers for cdktf/constructs/provider", () => {
    const pkg = JSON.parse(readFileSync(path.join(pkgDir, "package.json"), "utf8"));
    expect(pkg.name).toBe(PKG_NAME);
    expect(pkg.version).toMatch(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
    expect(Object.keys(pkg.exports).sort()).toEqual([".", "./package.json", "./policy", "./runtime", "./stacks"]);
    const targets: string[] = [pkg.main, pkg.types];
    for (const t of Object.values(pkg.exports)) targets.push(...(typeof t === "string" ? [t] : Object.values(t as Record<string, string>)));
    for (const list of Object.values(pkg.typesVersions["*"])) targets.push(...(list as string[]));
    for (const t of targets) expect({ t, exists: existsSync(path.join(pkgDir, t)) }).toEqual({ t, exists: true });
    expect(pkg.peerDependencies).toEqual({ "@cdktf/provider-aws": "~20.1.0", cdktf: "^0.21.0", constructs: "^10.4.2" });
    for (const peer of Object.keys(pkg.peerDependencies)) expect(pkg.dependencies[peer]).toBeUndefined();
  });

  test("every relative import resolves inside the package; every bare import is a dependency, a peer or a Node built-in", () => {
    const pkg = JSON.parse(readFileSync(path.join(pkgDir, "package.json"), "utf8"));
    const declared = new Set([...Object.keys(pkg.dependencies), ...Object.keys(pkg.peerDependencies)]);
    // The handlers' @aws-sdk/* imports stay out of the bundles: the Lambda runtime provides them.
    const providedByLambda = (name: string) => name.startsWith("@aws-sdk/") || name.startsWith("@smithy/");
    const problems: string[] = [];
    for (const rel of packed()) {
      if (!/\.(js|ts)$/.test(rel)) continue;
      const file = path.join(pkgDir, rel);
      const src = readFileSync(file, "utf8");
      const specifiers = [...src.matchAll(/(?:require\(|from\s+|import\()\s*["']([^"'\s]+)["']/g)].map((m) => m[1]);
      for (const spec of specifiers) {
        if (spec.startsWith(".")) {
          const base = path.resolve(path.dirname(file), spec);
          const candidates = rel.endsWith(".d.ts") ? [`${base}.d.ts`, path.join(base, "index.d.ts")] : [`${base}.js`, `${base}.ts`, path.join(base, "index.js"), path.join(base, "index.ts")];
          if (!candidates.some(existsSync)) problems.push(`${rel}: ${spec} is not in the package`);
          continue;
        }
        if (spec === PKG_NAME || spec.startsWith(`${PKG_NAME}/`)) continue; // doc comments
        const name = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0];
        if (builtinModules.includes(name.replace(/^node:/, ""))) continue;
        if (declared.has(name)) continue;
        if (rel.startsWith("functions/") && providedByLambda(name)) continue;
        problems.push(`${rel}: imports ${spec}, which package.json does not declare`);
      }
    }
    expect(problems).toEqual([]);
  });

  test("only the exports map is reachable: the subpaths load, deep imports are refused", () => {
    const script = [
      `const root = require("${PKG_NAME}");`,
      `const stacks = require("${PKG_NAME}/stacks");`,
      `const policy = require("${PKG_NAME}/policy");`,
      `const runtime = require("${PKG_NAME}/runtime");`,
      `let deep = "allowed";`,
      `try { require("${PKG_NAME}/dist/package/modules/network"); } catch (e) { deep = e.code; }`,
      `console.log(JSON.stringify({ root: typeof root.RedisCache, rootStack: typeof root.ProductCatalogStack, stack: typeof stacks.ProductCatalogStack,`,
      `  policy: typeof policy.applyPolicy, runtime: typeof runtime.defineHandler, deep,`,
      `  root_dir: root.packageRoot() }));`,
    ].join("\n");
    const out = JSON.parse(run(process.execPath, ["-e", script], app));
    expect(out).toEqual({
      root: "function",
      rootStack: "undefined", // the root entry holds constructs only; ready-made stacks are ./stacks
      stack: "function",
      policy: "function",
      runtime: "function",
      deep: "ERR_PACKAGE_PATH_NOT_EXPORTED",
      // Handler entries resolve against the installed package, whose functions/ holds the TypeScript.
      root_dir: pkgDir,
    });
  });
});

describe("the ready-made stacks from the package", () => {
  test("ProductCatalogStack and SessionStoreStack synthesize with a config from loadConfig, their handlers bundled from node_modules", () => {
    const outdir = path.join(work, "stacks-out");
    const script = [
      `const { App } = require("cdktf");`,
      `const { loadConfig, ProductCatalogStack, SessionStoreStack } = require("${PKG_NAME}/stacks");`,
      `const app = new App({ outdir: ${JSON.stringify(outdir)} });`,
      `new ProductCatalogStack(app, "shop-prod", { config: loadConfig("prod", { region: "eu-west-1", availabilityZones: ["eu-west-1a", "eu-west-1b", "eu-west-1c"] }) });`,
      `new SessionStoreStack(app, "sessions-dev", { config: loadConfig("dev") });`,
      `app.synth();`,
    ].join("\n");
    timed("synth ready-made stacks", () => run(process.execPath, ["-e", script], app, { ...process.env, CACHEFRONT_POLICY: "enforce" }));
    for (const stack of ["shop-prod", "sessions-dev"]) {
      const json = JSON.parse(readFileSync(path.join(outdir, "stacks", stack, "cdk.tf.json"), "utf8"));
      // The API function, its JWT authorizer, the stream invalidator, the WebSocket pusher (sessions) or the warm function (catalog), each bundled from node_modules.
      expect(Object.keys(json.resource.aws_lambda_function ?? {}).map((id) => id.split("_")[0]).sort())
        .toEqual(stack === "sessions-dev" ? ["api", "fn", "invalidator", "realtime"] : ["api", "fn", "invalidator", "warmer"]);
      expect(json.provider.aws[0].region).toBe(stack === "shop-prod" ? "eu-west-1" : "us-east-1");
    }
  });
});

describe("a service on a platform it does not own (help/platform.md)", () => {
  const stackName = "team-orders";
  const outdir = () => path.join(work, "platform-out");

  test("synthesizes on Network.fromAttributes and a shared RedisCache.fromAttributes: no VPC, subnet or replication group of its own, and plans offline", async () => {
    const script = [
      `const { App, TerraformStack } = require("cdktf");`,
      `const { AwsProvider } = require("@cdktf/provider-aws/lib/provider");`,
      `const { Authorization, CacheApi, CacheAsideFunction, CacheAuth, CacheTable, Network, PRODUCTS, PRODUCTS_TABLE, RedisCache } = require("${PKG_NAME}");`,
      `const { applyPolicy } = require("${PKG_NAME}/policy");`,
      `const app = new App({ outdir: ${JSON.stringify(outdir())} });`,
      `const stack = new TerraformStack(app, ${JSON.stringify(stackName)});`,
      `new AwsProvider(stack, "aws", { region: "eu-west-1" });`,
      `applyPolicy(stack);`,
      // ids of a VPC the platform team already runs
      `const network = Network.fromAttributes(stack, "network", { vpcId: "vpc-0123456789abcdef0", region: "eu-west-1",`,
      `  availabilityZones: ["eu-west-1a", "eu-west-1b"], privateSubnetIds: ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"],`,
      `  dynamoDbPrefixListId: "pl-6da54004", interfaceEndpoints: { secretsmanager: { securityGroupId: "sg-0eeeeeeeeeeeeeeee" } } });`,
      `const table = new CacheTable(stack, "orders", PRODUCTS_TABLE);`,
      // the platform's shared cache: this service gets its own IAM user, limited to its key prefix
      `const cache = RedisCache.fromAttributes(stack, "cache", { network, endpointAddress: "master.platform-cache.abc123.euw1.cache.amazonaws.com",`,
      `  securityGroupId: "sg-0cccccccccccccccc", clusterMode: false, replicationGroupId: "platform-cache", userGroupId: "platform-cache-users", auth: CacheAuth.iam() });`,
      `const fn = new CacheAsideFunction(stack, "fn", { network, contract: PRODUCTS });`,
      `fn.useTable(table, { write: true }).useCache(cache);`,
      `new CacheApi(stack, "api", { functions: [fn], authorization: Authorization.iam() });`,
      `app.synth();`,
    ].join("\n");
    timed("synth platform consumer", () => run(process.execPath, ["-e", script], app, { ...process.env, CACHEFRONT_POLICY: "enforce" }));
    const json = JSON.parse(readFileSync(path.join(outdir(), "stacks", stackName, "cdk.tf.json"), "utf8"));
    for (const type of ["aws_vpc", "aws_subnet", "aws_route_table", "aws_vpc_endpoint", "aws_flow_log", "aws_elasticache_replication_group"]) {
      expect(Object.keys(json.resource)).not.toContain(type);
    }
    // the service's own user, in the platform's user group
    expect(Object.values<any>(json.resource.aws_elasticache_user_group_association)).toEqual([expect.objectContaining({ user_group_id: "platform-cache-users" })]);

    const stack = prepareStack(path.join(outdir(), "stacks", stackName));
    expectOk(await runTerraform(["init", "-input=false"], stack.dir), stack.name);
    const plan = expectOk(await runTerraform(["plan", "-input=false", "-lock=false", "-refresh=false", "-out=tfplan"], stack.dir), stack.name);
    expect(plan.stdout).toMatch(/Plan: \d+ to add, 0 to change, 0 to destroy\./);
    const shown = JSON.parse(expectOk(await runTerraform(["show", "-json", "tfplan"], stack.dir), stack.name).stdout);
    const planned = new Set((shown.resource_changes as Array<{ type: string }>).map((c) => c.type));
    for (const type of ["aws_vpc", "aws_subnet", "aws_route_table", "aws_elasticache_replication_group"]) expect(planned).not.toContain(type);
    expect(planned).toContain("aws_elasticache_user");
    expect(planned).toContain("aws_lambda_function");
  });
});

describe("a cdktf app built on the tarball (help/examples/consumer)", () => {
  test("composes its stack in fewer than 30 lines, importing this package only by name and subpath", () => {
    const main = readFileSync(path.join(app, "main.ts"), "utf8");
    expect(main.trimEnd().split("\n").length).toBeLessThan(30);
    for (const file of ["main.ts", "contract.ts", "handler.ts"]) {
      const src = readFileSync(path.join(app, file), "utf8");
      const specs = [...src.matchAll(/from\s+["']([^"']+)["']/g)].map((m) => m[1]);
      for (const spec of specs) {
        expect({ file, spec, ok: /^(path|cdktf|constructs|@cdktf\/provider-aws\/lib\/[a-z-]+|@cachefront\/cdktf-dynamodb-cache(\/(policy|runtime|stacks))?|\.\/contract)$/.test(spec) })
          .toEqual({ file, spec, ok: true });
      }
    }
  });

  test("its dependency versions satisfy the package's peer ranges", () => {
    const example = JSON.parse(readFileSync(path.join(app, "package.json"), "utf8"));
    const pkg = JSON.parse(readFileSync(path.join(pkgDir, "package.json"), "utf8"));
    expect(example.dependencies[PKG_NAME]).toBe(`^${pkg.version}`);
    const installed = (name: string) => JSON.parse(readFileSync(path.join(ROOT, "node_modules", name, "package.json"), "utf8")).version;
    for (const peer of Object.keys(pkg.peerDependencies)) {
      expect({ peer, version: example.dependencies[peer] }).toEqual({ peer, version: installed(peer) });
    }
  });

  test("compiles with tsc against the packaged .d.ts (node10 via typesVersions, node16 via exports); no packaged type degrades to any", () => {
    writeFileSync(path.join(app, "api-types.ts"), API_TYPES);
    const tsc = path.join(app, "node_modules/typescript/bin/tsc");
    timed("tsc", () => run(process.execPath, [tsc, "-p", "tsconfig.json"], app));
    timed("tsc node16", () => run(process.execPath, [tsc, "-p", "tsconfig.json", "--noEmit", "--module", "node16", "--moduleResolution", "node16"], app));
    expect(existsSync(path.join(app, "main.js"))).toBe(true);
    expect(existsSync(path.join(app, "handler.js"))).toBe(true);
  });

  let stackJson: { resource: Record<string, Record<string, Record<string, unknown>>>; "//"?: Record<string, unknown> } | undefined;
  const outdir = () => path.join(app, "cdktf.out");

  test("synthesizes: three AZs, Valkey in cluster mode (2 shards × 1 replica), DAX with 3 nodes, both handlers bundled", () => {
    timed("synth", () => run(process.execPath, ["main.js"], app, { ...process.env, CDKTF_OUTDIR: outdir() }));
    const stackDir = path.join(outdir(), "stacks", STACK);
    stackJson = JSON.parse(readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8"));
    const r = stackJson!.resource;
    const only = (type: string) => {
      const all = Object.values(r[type] ?? {});
      expect({ type, count: all.length }).toEqual({ type, count: 1 });
      return all[0] as Record<string, unknown>;
    };
    expect(Object.values(r.aws_subnet).map((s) => s.availability_zone).sort()).toEqual(["eu-west-1a", "eu-west-1b", "eu-west-1c"]);
    expect(only("aws_elasticache_replication_group")).toMatchObject({
      engine: "valkey", cluster_mode: "enabled", num_node_groups: 2, replicas_per_node_group: 1, transit_encryption_enabled: true,
    });
    expect(only("aws_dax_cluster")).toMatchObject({ replication_factor: 3, availability_zones: ["eu-west-1a", "eu-west-1b", "eu-west-1c"] });

    const functions = Object.values(r.aws_lambda_function) as unknown as Array<{ filename: string; environment: { variables: Record<string, string> } }>;
    expect(functions).toHaveLength(3);
    const bundles = functions.map((f) => {
      const zip = readZip(readFileSync(path.join(stackDir, f.filename)));
      return { env: f.environment.variables, index: zip.find((e) => e.name === "index.js")!.data.toString("utf8") };
    });
    const products = bundles.find((b) => b.env.SERVICE_NAME === "catalog-eu")!;
    const prices = bundles.find((b) => b.env.SERVICE_NAME === "catalog-eu-prices")!;
    // The package's handler, bundled from node_modules/…/functions/products/handler.ts, with ioredis.
    expect(products.index).toContain("/products/{productId}");
    expect(products.env).toMatchObject({ REDIS_CLUSTER_MODE: "true" });
    expect(products.env.DAX_ENDPOINT).toMatch(/^daxs:\/\//);
    // The app's own handler, bundled with the ./runtime subpath.
    expect(prices.index).toContain("/prices/{productId}");
    expect(prices.index).toContain("function misconfigured");
    expect(stackJson!["//"]?.cachefront_policy).toBeDefined(); // the ./policy pack ran
    // Authorization.jwt: the product writes go through a TOKEN authorizer whose bundled function verifies the issuer's JWTs.
    const authorizer = bundles.find((b) => b.env.JWT_ISSUER === "https://login.catalog-eu.example.com/")!;
    expect(authorizer.env).toMatchObject({ JWT_AUDIENCE: "catalog-eu-api", JWT_JWKS_URL: "https://login.catalog-eu.example.com/.well-known/jwks.json" });
    expect(authorizer.index).toContain("Unauthorized");
    expect(only("aws_api_gateway_authorizer")).toMatchObject({ type: "TOKEN", identity_source: "method.request.header.Authorization" });
    const methods = Object.values(r.aws_api_gateway_method) as Array<{ http_method: string; authorization: string }>;
    expect(methods.filter((m) => m.authorization === "CUSTOM").map((m) => m.http_method).sort()).toEqual(["DELETE", "PUT"]);
  });

  test("plans offline with the terraform harness: every resource is a create", async () => {
    expect(stackJson).toBeDefined();
    const stack = prepareStack(path.join(outdir(), "stacks", STACK));
    const t0 = Date.now();
    expectOk(await runTerraform(["init", "-input=false"], stack.dir), stack.name);
    const plan = expectOk(await runTerraform(["plan", "-input=false", "-lock=false", "-refresh=false"], stack.dir), stack.name);
    timings.push(`terraform init+plan ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    const resources = Object.values(stackJson!.resource).reduce((n, byName) => n + Object.keys(byName).length, 0);
    expect(plan.stdout).toContain(`Plan: ${resources} to add, 0 to change, 0 to destroy.`);
  });
});

function listTs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listTs(path.join(dir, e.name)) : e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [path.join(dir, e.name)] : [],
  );
}

/**
 * Compiled into the app. Each assignment is wrong on purpose and must be refused: a type that
 * degraded to `any` (a .d.ts missing from the tarball, an undeclared dependency; under
 * skipLibCheck tsc says nothing about either) would accept it, and the unused
 * `@ts-expect-error` then fails the build.
 */
const API_TYPES = `import type { CacheApi, CacheAsideFunction, Network, RedisCacheProps } from "${PKG_NAME}";
import type { EnvironmentConfig, ProductCatalogStack } from "${PKG_NAME}/stacks";
import type { PolicyPackOptions, StackReport } from "${PKG_NAME}/policy";
import type { ProxyEvent, Runtime } from "${PKG_NAME}/runtime";

declare const api: CacheApi;
declare const fn: CacheAsideFunction;
declare const network: Network;
declare const props: RedisCacheProps;
declare const config: EnvironmentConfig;
declare const stack: ProductCatalogStack;
declare const options: PolicyPackOptions;
declare const report: StackReport;
declare const event: ProxyEvent;
declare const item: Awaited<ReturnType<Runtime["table"]["getItem"]>>;

// @ts-expect-error a string
export const t1: number = api.url;
// @ts-expect-error a class of @cdktf/provider-aws
export const t2: number = api.stage;
// @ts-expect-error a number, declared in modules/function/bundle.d.ts
export const t3: string = fn.bundle.zipBytes;
// @ts-expect-error a string array
export const t4: number = network.privateSubnetIds;
// @ts-expect-error a CacheEngine
export const t5: number = props.engine;
// @ts-expect-error a RedisConfig (stacks/)
export const t6: number = config.redis;
// @ts-expect-error a CacheAsideFunction
export const t7: number = stack.fn;
// @ts-expect-error an array (./policy)
export const t8: number = options.suppressions;
// @ts-expect-error an array of findings
export const t9: number = report.findings;
// @ts-expect-error headers (./runtime)
export const t10: number = event.headers;
// @ts-expect-error an @aws-sdk/client-dynamodb item
export const t11: number = item.Item;
`;
