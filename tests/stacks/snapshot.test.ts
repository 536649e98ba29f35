import { Testing } from "cdktf";
import * as os from "os";
import * as path from "path";
import { buildApp } from "../../stacks/app";
import { EnvironmentStack } from "../../stacks/environment";

/**
 * One snapshot per stack × environment, as a regression guard: any change to what is
 * deployed shows up in review. Content hashes of the Lambda bundle are scrubbed so editing
 * handler code does not churn every snapshot (the bundle tests cover the hash itself).
 */
function scrub(json: string): unknown {
  return JSON.parse(
    json
      .replace(/[0-9a-f]{64}/g, "<sha256-hex>")
      .replace(/"source_code_hash": "[A-Za-z0-9+/=]{44}"/g, '"source_code_hash": "<sha256-base64>"'),
  );
}

// A fixed output folder inside the project, as `cdktf synth` uses, so the relative state paths are the real ones.
const app = buildApp(Testing.app({ outdir: "cdktf.out" }));
const stacks = app.node.children.filter((c): c is EnvironmentStack => c instanceof EnvironmentStack);
// What app.synth() does before writing: resolve cross-stack references into outputs and remote state.
for (const s of stacks) s.prepareStack();

describe("default app", () => {
  test("has an account baseline, a network per environment and every service kind in dev and prod", () => {
    expect(stacks.map((s) => s.node.id).sort()).toEqual([
      "account-baseline-us-east-1",
      "delivery-pipeline",
      "network-dev",
      "network-prod",
      "product-catalog-dev",
      "product-catalog-prod",
      "session-store-dev",
      "session-store-prod",
    ]);
  });

  test.each(stacks.map((s) => [s.node.id, s] as const))("%s matches its snapshot", (_id, stack) => {
    const json = Testing.synth(stack);
    // No path of this machine: the checkout, the home folder, the bundles' temp folder (a build
    // command's own /tmp file in the pipeline's buildspec is not one).
    for (const local of [process.cwd(), os.homedir(), path.join(os.tmpdir(), "cachefront")]) expect(json).not.toContain(local);
    expect(scrub(json)).toMatchSnapshot();
  });
});
