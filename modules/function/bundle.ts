import { buildSync } from "esbuild";
import { createHash } from "crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { ownSource, trimSourceMap } from "./source-map";
import { createZip } from "./zip";

/** Options of {@link bundleHandler}. */
export interface BundleOptions {
  /** Absolute path of the handler's TypeScript or JavaScript entry file. */
  readonly entry: string;
  /** esbuild target, e.g. `node22`. */
  readonly target: string;
  /** Packages left out of the bundle because the runtime provides them. */
  readonly externals: readonly string[];
  /** Emit a source map next to the bundle (with `NODE_OPTIONS=--enable-source-maps`). */
  readonly sourceMap: boolean;
}

/** A bundled, zipped handler. */
export interface Bundle {
  /** Absolute path of the zip on disk (outside the source tree). */
  readonly zipPath: string;
  /** Hex SHA-256 of the zip bytes: a content hash, stable across machines. */
  readonly sha256Hex: string;
  /** Base64 SHA-256 of the zip: what Lambda reports as CodeSha256. */
  readonly sha256Base64: string;
  /** Zip size in bytes. */
  readonly zipBytes: number;
}

const cache = new Map<string, Bundle>();

/**
 * Bundles a handler with esbuild (minified, tree-shaken, CommonJS for the Node runtime) and
 * zips it deterministically. Bundles are cached per process by options, so synthesizing
 * four stacks that share a handler builds it once.
 */
export function bundleHandler(opts: BundleOptions): Bundle {
  const key = JSON.stringify(opts);
  const hit = cache.get(key);
  if (hit && existsSync(hit.zipPath)) return hit;
  if (!existsSync(opts.entry)) {
    throw new Error(`handler entry ${opts.entry} does not exist`);
  }
  const result = buildSync({
    entryPoints: [opts.entry],
    bundle: true,
    minify: true,
    platform: "node",
    target: opts.target,
    format: "cjs",
    outfile: "index.js",
    write: false,
    sourcemap: opts.sourceMap ? "external" : false,
    sourcesContent: false,
    external: [...opts.externals],
    legalComments: "none",
    logLevel: "silent",
    // Paths in the source map are relative to the outfile; keep them machine-independent.
    absWorkingDir: path.dirname(opts.entry),
  });
  const files = result.outputFiles.map((f) => {
    const name = path.basename(f.path);
    const data = name.endsWith(".map") ? Buffer.from(trimSourceMap(f.text, ownSource)) : Buffer.from(f.contents);
    return { name, data };
  });
  const zip = createZip(files);
  const digest = createHash("sha256").update(zip);
  const sha256Hex = digest.copy().digest("hex");
  const dir = path.join(tmpdir(), "cachefront-bundles");
  mkdirSync(dir, { recursive: true });
  const zipPath = path.join(dir, `${sha256Hex}.zip`);
  if (!existsSync(zipPath) || !readFileSync(zipPath).equals(zip)) writeFileSync(zipPath, zip);
  const bundle: Bundle = { zipPath, sha256Hex, sha256Base64: digest.digest("base64"), zipBytes: zip.length };
  cache.set(key, bundle);
  return bundle;
}
