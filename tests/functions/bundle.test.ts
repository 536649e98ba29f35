/**
 * What is deployed: each handler bundled the way the function construct bundles it, within
 * the size budget, and the DAX client evaluated only when a DAX endpoint is configured.
 */
import { spawnSync } from "child_process";
import { existsSync } from "fs";
import * as path from "path";
import { decode } from "@jridgewell/sourcemap-codec";
import { buildSync } from "esbuild";
import { bundleHandler } from "../../modules/function/bundle";
import { ownSource, trimSourceMap } from "../../modules/function/source-map";

const ROOT = path.resolve(__dirname, "../..");
const ZIP_BUDGET = 350 * 1024;

describe.each(["products", "sessions", "pusher"])("%s handler bundle", (name) => {
  const bundle = bundleHandler({
    entry: path.join(ROOT, "functions", name, "handler.ts"),
    target: "node22",
    externals: ["@aws-sdk/*", "@smithy/*"],
    sourceMap: true,
  });

  test(`is at most ${ZIP_BUDGET / 1024} KB zipped`, () => {
    expect(bundle.zipBytes).toBeLessThanOrEqual(ZIP_BUDGET);
  });

  test("loads in a fresh Node process and exports handler", () => {
    const script = `
      const fs = require("fs"), zlib = require("zlib"), os = require("os"), path = require("path");
      const zip = fs.readFileSync(${JSON.stringify(bundle.zipPath)});
      // find index.js in the zip (local headers) and load it
      let off = 0, src;
      while (zip.readUInt32LE(off) === 0x04034b50) {
        const n = zip.readUInt16LE(off + 26), x = zip.readUInt16LE(off + 28), size = zip.readUInt32LE(off + 18);
        const name = zip.subarray(off + 30, off + 30 + n).toString();
        const data = zip.subarray(off + 30 + n + x, off + 30 + n + x + size);
        if (name === "index.js") src = zlib.inflateRawSync(data).toString();
        off += 30 + n + x + size;
      }
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "bundle-")), "index.js");
      fs.writeFileSync(file, src);
      const m = require(file);
      console.log(typeof m.handler);
    `;
    // The AWS SDK is left out of the bundle (the Lambda runtime provides it): NODE_PATH stands in for that.
    const r = spawnSync(process.execPath, ["-e", script], {
      cwd: ROOT,
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "", NODE_PATH: path.join(ROOT, "node_modules") },
    });
    expect(r.stderr.slice(0, 500)).toBe("");
    expect(r.stdout.trim()).toBe("function");
  });
});

describe("the source map in the bundle", () => {
  // esbuild's map of the sessions handler, untrimmed (as the bundler gets it)
  const entry = path.join(ROOT, "functions", "sessions", "handler.ts");
  const built = buildSync({
    entryPoints: [entry], bundle: true, minify: true, platform: "node", target: "node22", format: "cjs", outfile: "index.js",
    write: false, sourcemap: "external", sourcesContent: false, external: ["@aws-sdk/*", "@smithy/*"], logLevel: "silent",
    absWorkingDir: path.dirname(entry),
  });
  const full = JSON.parse(built.outputFiles.find((f) => f.path.endsWith(".map"))!.text);
  const trimmed = JSON.parse(trimSourceMap(JSON.stringify(full), ownSource));
  /** Every mapping as "generated line:column → source:line:column[:name]". */
  const mappings = (map: { sources: string[]; names: string[]; mappings: string }, keep: (s: string) => boolean) =>
    decode(map.mappings).flatMap((line, l) =>
      line.filter((s) => s.length > 1 && keep(map.sources[s[1]!])).map((s) => `${l}:${s[0]} → ${map.sources[s[1]!]}:${s[2]}:${s[3]}${s.length === 5 ? `:${map.names[s[4]]}` : ""}`),
    );

  test("keeps every mapping into the function's own files, unchanged", () => {
    const own = mappings(full, ownSource);
    expect(own.length).toBeGreaterThan(1_000);
    expect(mappings(trimmed, () => true)).toEqual(own);
  });

  test("drops the dependencies' sources and mappings, and most of the size", () => {
    expect(full.sources.some((s: string) => s.includes("node_modules/"))).toBe(true);
    expect(trimmed.sources.filter((s: string) => s.includes("node_modules/"))).toEqual([]);
    expect(trimmed.sources).toEqual(full.sources.filter(ownSource));
    expect(trimmed.sources).toContain("handler.ts");
    expect(trimmed.mappings.length).toBeLessThan(full.mappings.length / 2);
  });

  test("ownSource tells dependencies from our files", () => {
    expect(ownSource("../lib/runtime.ts")).toBe(true);
    expect(ownSource("../../node_modules/ioredis/built/Redis.js")).toBe(false);
    expect(ownSource("node_modules/x/index.js")).toBe(false);
  });
});

describe("DAX client loading (compiled runtime in a fresh process)", () => {
  const dist = path.join(ROOT, "dist", "functions", "sessions", "handler.js");
  const loaded = (env: Record<string, string>) => {
    const script = `
      const h = require(${JSON.stringify(dist)});
      h.createHandler();
      console.log(Object.keys(require.cache).filter((k) => k.includes("client-dax")).length);
    `;
    const r = spawnSync(process.execPath, ["-e", script], {
      cwd: ROOT,
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "", TABLE_NAME: "sessions", CACHE_BACKEND: "memory", AWS_REGION: "us-east-1", ...env },
    });
    if (r.status !== 0) throw new Error(r.stderr);
    return Number(r.stdout.trim());
  };

  test("the compiled handler exists (npm test compiles first)", () => expect(existsSync(dist)).toBe(true));
  test("is not loaded without DAX_ENDPOINT", () => expect(loaded({})).toBe(0));
  test("is loaded with DAX_ENDPOINT", () => expect(loaded({ DAX_ENDPOINT: "daxs://127.0.0.1:9" })).toBeGreaterThan(0));
});

describe("a misconfigured deployment", () => {
  test("answers 500 JSON naming the bad variable instead of crashing", () => {
    const dist = path.join(ROOT, "dist", "functions", "products", "handler.js");
    const script = `
      require(${JSON.stringify(dist)}).handler({ httpMethod: "GET", path: "/health", resource: "/health" })
        .then((r) => console.log(JSON.stringify(r)));
    `;
    const r = spawnSync(process.execPath, ["-e", script], {
      cwd: ROOT,
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "", TABLE_NAME: "products", CACHE_BACKEND: "memory", CACHE_TTL_SECONDS: "0", LOG_LEVEL: "silent" },
    });
    const res = JSON.parse(r.stdout.trim());
    expect(res.statusCode).toBe(500);
    expect(JSON.parse(res.body)).toEqual({ error: "function misconfigured", details: expect.stringContaining("CACHE_TTL_SECONDS=\"0\"") });
  });
});
