import { readdirSync, readFileSync, statSync } from "fs";
import * as path from "path";

const ROOT = path.resolve(__dirname, "../..");
const SOURCE_DIRS = ["main.ts", "stacks", "modules", "functions", "tests", "tools"];

function tsFiles(p: string): string[] {
  const abs = path.join(ROOT, p);
  let st;
  try {
    st = statSync(abs);
  } catch {
    return [];
  }
  if (st.isFile()) return abs.endsWith(".ts") ? [abs] : [];
  return readdirSync(abs).flatMap((n) => (n === "node_modules" || n === "__snapshots__" ? [] : tsFiles(path.join(p, n))));
}

/** Lines that load the provider package's root (10+ s and ~1 GB per synth). */
export function rootProviderImports(source: string): string[] {
  const re = /(?:from\s+|require\(\s*|import\(\s*)["']@cdktf\/provider-aws\/?["']/;
  return source.split("\n").filter((line) => re.test(line));
}

const files = SOURCE_DIRS.flatMap(tsFiles);

describe("imports", () => {
  test("the detector catches every form of a root import", () => {
    // Built by concatenation so this file does not trip its own check.
    const pkg = "@cdktf/" + "provider-aws";
    expect(rootProviderImports(`import { DaxCluster } from "${pkg}";`)).toHaveLength(1);
    expect(rootProviderImports(`import * as aws from '${pkg}/';`)).toHaveLength(1);
    expect(rootProviderImports(`const aws = require("${pkg}");`)).toHaveLength(1);
    expect(rootProviderImports(`const aws = await import("${pkg}");`)).toHaveLength(1);
    expect(rootProviderImports(`import { DaxCluster } from "${pkg}/lib/dax-cluster";`)).toHaveLength(0);
  });

  test("scans the source tree", () => {
    expect(files.length).toBeGreaterThan(10);
  });

  test.each(files.map((f) => [path.relative(ROOT, f), f]))("%s imports @cdktf/provider-aws by deep path only", (_rel, file) => {
    expect(rootProviderImports(readFileSync(file, "utf8"))).toEqual([]);
  });

  test.each(tsFiles("functions").map((f) => [path.relative(ROOT, f), f]))(
    "%s (runtime code) imports no cdktf, constructs or modules",
    (_rel, file) => {
      const src = readFileSync(file, "utf8");
      expect(src).not.toMatch(/from\s+["'](cdktf|constructs|@cdktf\/[^"']*)["']/);
      expect(src).not.toMatch(/from\s+["'](\.\.\/)+(modules|stacks)\//);
    },
  );
});

// ---------------------------------------------------------------------------------------------
// Import directions: imports only go down the floors (main → stacks → modules → functions'
// contracts), the runtime never reaches infrastructure code, tools use the package's public
// entry points, and no file is part of an import circle.

type Graph = ReadonlyMap<string, readonly string[]>;

/** Relative paths (from the repo root) of the non-test sources the rules cover. */
const SOURCE_ROOTS = ["main.ts", "stacks", "modules", "functions", "tools"];

/** Every import specifier of a source: `from "x"`, `import("x")`, `require("x")`, `export … from "x"`. */
export function importSpecifiers(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  return [...code.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)["']([^"']+)["']/gm)].map((m) => m[1]);
}

/** The repo-relative file a relative specifier of `from` names, or the package name of a bare one. */
function resolveSpecifier(from: string, spec: string): string {
  if (!spec.startsWith(".")) return spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0];
  const base = path.relative(ROOT, path.resolve(ROOT, path.dirname(from), spec));
  for (const candidate of [`${base}.ts`, path.join(base, "index.ts"), base]) {
    try {
      if (statSync(path.join(ROOT, candidate)).isFile()) return candidate.split(path.sep).join("/");
    } catch {
      /* next */
    }
  }
  return `${base} (unresolved)`;
}

function sourceGraph(): Graph {
  const graph = new Map<string, string[]>();
  for (const abs of SOURCE_ROOTS.flatMap(tsFiles)) {
    const rel = path.relative(ROOT, abs).split(path.sep).join("/");
    if (rel.startsWith("tools/bench/results/")) continue;
    graph.set(rel, importSpecifiers(readFileSync(abs, "utf8")).map((s) => resolveSpecifier(rel, s)));
  }
  return graph;
}

const isContract = (f: string) => /^functions\/lib\/contract\//.test(f) || /^functions\/[^/]+\/contract\.ts$/.test(f);
const floor = (f: string) => (f === "main.ts" ? "main" : f.split("/")[0]);
const TOOL_ENTRY_POINTS = new Set(["modules/index.ts", "modules/policy/index.ts", "stacks/index.ts", "functions/lib/index.ts"]);
const INFRA_PACKAGES = new Set(["cdktf", "constructs", "@cdktf/provider-aws", "cdktf-cli"]);
const BUILTINS = new Set(require("module").builtinModules as string[]);

/** Every import that breaks a direction rule, as `from → to: why`. */
export function directionViolations(graph: Graph): string[] {
  const out: string[] = [];
  for (const [from, targets] of graph) {
    for (const to of targets) {
      const local = graph.has(to);
      const why = ((): string | undefined => {
        if (isContract(from)) {
          if (local ? !isContract(to) : !BUILTINS.has(to.replace(/^node:/, ""))) return "a contract is plain data: it imports only other contracts and Node built-ins";
          return undefined;
        }
        if (!local) {
          if (floor(from) === "functions" && INFRA_PACKAGES.has(to)) return "the runtime never imports cdktf, constructs or the provider";
          return undefined;
        }
        const [a, b] = [floor(from), floor(to)];
        if (a === "functions" && b !== "functions") return "the runtime (floor 1) imports nothing above it";
        if (a === "modules" && (b === "stacks" || b === "tools" || b === "main")) return "modules (floor 2) import nothing above them";
        if ((a === "modules" || a === "stacks") && b === "functions" && !isContract(to)) return "infrastructure reads the runtime only through contracts";
        if (a === "stacks" && (b === "tools" || b === "main")) return "stacks (floor 3) import neither tools nor the app";
        if (a === "tools" && b !== "tools" && !TOOL_ENTRY_POINTS.has(to) && !isContract(to)) {
          // The benchmark measures runtime internals and the bundler on purpose (see its files' comments).
          if (from.startsWith("tools/bench/") && (to.startsWith("functions/") || to === "modules/function/bundle.ts")) return undefined;
          return "tools use the package's public entry points and contracts only";
        }
        return undefined;
      })();
      if (why) out.push(`${from} → ${to}: ${why}`);
    }
  }
  return out;
}

/** Every import circle (strongly connected set of two or more files, or a file importing itself). */
export function importCircles(graph: Graph): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const circles: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) circles.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return circles;
}

describe("import directions", () => {
  const graph = sourceGraph();

  test("reads the whole source tree, every relative import resolved", () => {
    expect(graph.size).toBeGreaterThan(100);
    const unresolved = [...graph].flatMap(([f, ts]) => ts.filter((t) => t.endsWith("(unresolved)")).map((t) => `${f} → ${t}`));
    expect(unresolved).toEqual([]);
  });

  test("every import goes down the floors: modules ↛ stacks, functions ↛ modules/cdktf/constructs, tools → public entry points and contracts", () => {
    expect(directionViolations(graph)).toEqual([]);
  });

  test("no file is part of an import circle", () => {
    expect(importCircles(graph)).toEqual([]);
  });

  // GIVEN a graph with each kind of violation THEN each is reported (the checks can fail).
  test.each([
    ["modules → stacks", { "modules/a.ts": ["stacks/b.ts"], "stacks/b.ts": [] }, /modules \(floor 2\)/],
    ["functions → modules", { "functions/lib/a.ts": ["modules/b.ts"], "modules/b.ts": [] }, /runtime \(floor 1\)/],
    ["functions → cdktf", { "functions/lib/a.ts": ["cdktf"] }, /never imports cdktf/],
    ["functions → constructs", { "functions/x/handler.ts": ["constructs"] }, /never imports cdktf/],
    ["modules → a handler", { "modules/a.ts": ["functions/x/handler.ts"], "functions/x/handler.ts": [] }, /only through contracts/],
    ["a contract → ioredis", { "functions/x/contract.ts": ["ioredis"] }, /plain data/],
    ["a contract → the runtime", { "functions/x/contract.ts": ["functions/lib/runtime.ts"], "functions/lib/runtime.ts": [] }, /plain data/],
    ["tools → a module's internals", { "tools/twin/a.ts": ["modules/core/naming.ts"], "modules/core/naming.ts": [] }, /public entry points/],
    ["tools → a handler", { "tools/smoke/a.ts": ["functions/products/handler.ts"], "functions/products/handler.ts": [] }, /public entry points/],
  ])("reports %s", (_case, g, message) => {
    const violations = directionViolations(new Map(Object.entries(g)));
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatch(message);
  });

  test("allows what the floors allow", () => {
    expect(directionViolations(new Map(Object.entries({
      "main.ts": ["stacks/app.ts"], "stacks/app.ts": ["modules/index.ts", "functions/x/contract.ts"],
      "modules/index.ts": ["functions/lib/contract/index.ts", "cdktf"], "functions/x/contract.ts": ["functions/lib/contract/index.ts", "path"],
      "functions/lib/contract/index.ts": [], "tools/a.ts": ["modules/index.ts", "functions/lib/index.ts", "functions/x/contract.ts"],
      "functions/lib/index.ts": [], "tools/bench/b.ts": ["functions/lib/table.ts"], "functions/lib/table.ts": [],
    })))).toEqual([]);
  });

  test("reports a circle, also through an index file", () => {
    const g = new Map(Object.entries({ "m/index.ts": ["m/a.ts"], "m/a.ts": ["m/b.ts"], "m/b.ts": ["m/index.ts"], "m/c.ts": ["m/a.ts"] }));
    expect(importCircles(g)).toEqual([["m/a.ts", "m/b.ts", "m/index.ts"]]);
    expect(importCircles(new Map(Object.entries({ "x.ts": ["x.ts"] })))).toEqual([["x.ts"]]);
  });
});
