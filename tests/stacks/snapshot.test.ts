import { Testing } from "cdktf";
import { buildApp } from "../../stacks/app";
import { CacheStack } from "../../stacks/base";

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

const app = buildApp(Testing.app());
const stacks = app.node.children.filter((c): c is CacheStack => c instanceof CacheStack);

describe("default app", () => {
  test("has every stack kind in dev and prod", () => {
    expect(stacks.map((s) => s.node.id).sort()).toEqual([
      "product-catalog-dev",
      "product-catalog-prod",
      "session-store-dev",
      "session-store-prod",
    ]);
  });

  test.each(stacks.map((s) => [s.node.id, s] as const))("%s matches its snapshot", (_id, stack) => {
    const json = Testing.synth(stack);
    expect(json).not.toMatch(/\/work\/|\/tmp\/|\/home\/|\\\\Users\\\\/); // no absolute paths
    expect(scrub(json)).toMatchSnapshot();
  });
});
