/**
 * The stream invalidators' bundles: small (the cache client and one contract, no table client and
 * no DAX, whose SDK is most of an API handler's bundle), and loadable in a fresh Node process.
 */
import { spawnSync } from "child_process";
import * as path from "path";
import { INVALIDATORS } from "../../functions/invalidator/contract";
import { bundleHandler } from "../../modules/function/bundle";
import { mkdirSync, readFileSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { readZip } from "../../tools/twin/unzip";

const ROOT = path.resolve(__dirname, "../..");
/** Under 40 % of the API handlers' 350 KB: what an invalidator needs is the cache client (about 116 KB with its source map). */
const INVALIDATOR_ZIP_BUDGET = 128 * 1024;

describe.each(INVALIDATORS.map((c) => [c.name, c] as const))("%s bundle", (_name, contract) => {
  const bundle = bundleHandler({ entry: path.join(ROOT, contract.entry), target: "node22", externals: ["@aws-sdk/*", "@smithy/*"], sourceMap: true });
  const code = readZip(readFileSync(bundle.zipPath)).find((e) => e.name === "index.js")!.data.toString("utf8");

  test(`is at most ${INVALIDATOR_ZIP_BUDGET / 1024} KB zipped and holds no DAX client`, () => {
    expect(bundle.zipBytes).toBeLessThanOrEqual(INVALIDATOR_ZIP_BUDGET);
    expect(code).not.toMatch(/client-dax|antlr4/);
  });

  test("loads in a fresh Node process and exports handler", () => {
    const dir = path.join(tmpdir(), `inv-bundle-${process.pid}-${contract.name}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "index.js"), code);
    const r = spawnSync(process.execPath, ["-e", `console.log(typeof require(${JSON.stringify(path.join(dir, "index.js"))}).handler)`], {
      cwd: ROOT, encoding: "utf8", env: { PATH: process.env.PATH ?? "", NODE_PATH: path.join(ROOT, "node_modules") },
    });
    expect(r.stderr.slice(0, 500)).toBe("");
    expect(r.stdout.trim()).toBe("function");
  });
});
