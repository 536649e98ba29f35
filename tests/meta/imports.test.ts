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
