/**
 * The link checker the package test runs on the unpacked tarball (tests/package/consumer.test.ts):
 * here, on small pages that show it catches each kind of broken link, and on the working tree.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { brokenLinks, headingSlug, localLinks, markdownFiles, pageAnchors } from "../helpers/markdown-links";

const ROOT = path.resolve(__dirname, "../..");

describe("markdown link checker", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "links-"));
    mkdirSync(path.join(dir, "help", "examples", "app"), { recursive: true });
    writeFileSync(path.join(dir, "help", "examples", "app", "main.ts"), "");
    writeFileSync(path.join(dir, "help", "ops.md"), "# Ops\n## The `npm run check` gate\n### cacheHitRatio\n### Repeat\n### Repeat\n<a id=\"custom\"></a>\n");
    writeFileSync(path.join(dir, "help", "README.md"), [
      "[ops](ops.md) [gate](ops.md#the-npm-run-check-gate) [alarm](ops.md#cachehitratio) [second](ops.md#repeat-1) [custom](ops.md#custom)",
      "[example](examples/app) [file](examples/app/main.ts) ![img](examples/app/main.ts) [web](https://example.com/x.md) [top](#guide)",
      "# Guide",
      "[missing](nope.md) [bad anchor](ops.md#nothing) [up](../../etc/passwd) [ref]",
      "`[code](not-a-link.md)`",
      "```", "[fenced](also-not.md)", "```",
      "[ref]: missing-ref.md",
    ].join("\n"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("GIVEN good and broken links THEN exactly the broken ones are reported, each with why", () => {
    expect(brokenLinks(dir, markdownFiles(dir, ["help"]))).toEqual([
      { file: "help/README.md", link: "nope.md", problem: "no such file or folder" },
      { file: "help/README.md", link: "ops.md#nothing", problem: "no heading makes #nothing" },
      { file: "help/README.md", link: "../../etc/passwd", problem: "points outside the root" },
      { file: "help/README.md", link: "missing-ref.md", problem: "no such file or folder" },
    ]);
  });

  test("anchors follow GitHub: punctuation and code marks dropped, repeats numbered", () => {
    expect(headingSlug("The `npm run check` gate")).toBe("the-npm-run-check-gate");
    expect(headingSlug("Air-gapped `cdktf diff` / `deploy`")).toBe("air-gapped-cdktf-diff--deploy");
    expect([...pageAnchors("# A\n# A\n```\n# not a heading\n```\n")]).toEqual(["a", "a-1"]);
    expect(localLinks("[a](b.md) [c](http://x) [d](mailto:x@y)")).toEqual(["b.md"]);
  });

  test("every relative link of README.md and help/ resolves in the working tree", () => {
    const files = markdownFiles(ROOT, ["README.md", "help"]);
    expect(files.length).toBeGreaterThan(15);
    expect(brokenLinks(ROOT, files)).toEqual([]);
  });
});
