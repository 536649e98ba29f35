/**
 * Jest transform for ES-module-only packages (jose): esbuild turns them into CommonJS, which
 * Jest's module system loads (it cannot load ES modules without --experimental-vm-modules).
 */
const { transformSync } = require("esbuild");

module.exports = {
  process(source, filename) {
    const { code, map } = transformSync(source, { loader: "js", format: "cjs", target: "node20", sourcemap: "external", sourcefile: filename });
    return { code, map };
  },
};
