import { existsSync } from "fs";
import * as path from "path";

let root: string | undefined;

/**
 * The folder holding this package's `package.json` and `functions/`, found by walking up
 * from this file, so handler paths resolve the same from TypeScript sources (tests), from
 * `dist/` (synth) and from `node_modules/` (consumers).
 */
export function packageRoot(): string {
  if (root) return root;
  let dir = __dirname;
  for (;;) {
    if (existsSync(path.join(dir, "package.json")) && existsSync(path.join(dir, "functions"))) {
      root = dir;
      return dir;
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find the package root above ${__dirname}`);
    dir = up;
  }
}
